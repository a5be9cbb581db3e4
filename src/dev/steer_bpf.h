/*
 * steer_bpf.h — make a multi-queue TAP/TUN put each frame on the queue of
 * the member that owns its flow (outside the core).
 *
 * By itself the kernel spreads a TAP's frames over its queues by a hash of
 * its own, and learns a flow's queue from the frames written to it, but
 * only for 4096 flows seen in the last 3 s: above about 1,300 new
 * connections a second most flows are never learnt, and half of all frames
 * reach the wrong thread and must be handed over (dev/fan.h). An eBPF
 * steering program (TUNSETSTEERINGEBPF) that computes synack's own flow
 * hash (src/base/steer.c, steer_mix) removes that: every IPv4 and IPv6 TCP
 * frame, and every datagram, goes straight to its owner. What it does not
 * cover (IPv6 TCP behind extension headers, ICMP errors, ARP) still goes
 * by hand-over.
 *
 * Loading a socket-filter program needs CAP_BPF or CAP_SYS_ADMIN where
 * unprivileged eBPF is off (kernel.unprivileged_bpf_disabled, Debian's
 * default): without it the callers go on with hand-over alone.
 */
#ifndef SYNACK_DEV_STEER_BPF_H
#define SYNACK_DEV_STEER_BPF_H

#include <stddef.h>

#include "synack.h"

#define DEV_STEER_BPF_MAX 64

struct bpf_insn;
/* The program for group `st` (its count and key) and frames of `link`
 * (SYNACK_LINK_ETHERNET: a TAP; SYNACK_LINK_IP: a TUN) into p (cap
 * instructions). Its length, or 0 when cap is too small. */
size_t dev_steer_bpf_program(const synack_steer *st, int link, struct bpf_insn *p, size_t cap);
/* Load it: the program's descriptor, or -1 with the reason in err. */
int dev_steer_bpf_load(const synack_steer *st, int link, char *err, size_t errlen);
/* Load it and make it the steering program of the TAP/TUN that `tun_fd`
 * is a queue of. 0, or -1 with the reason in err. */
int dev_steer_bpf_attach(int tun_fd, const synack_steer *st, int link, char *err,
                         size_t errlen);
/* Take it off again: the program belongs to the interface, and one that
 * outlives the run (made with `ip tuntap add`) would go on steering by a
 * key and a count no one uses any more. */
void dev_steer_bpf_detach(int tun_fd);

#endif
