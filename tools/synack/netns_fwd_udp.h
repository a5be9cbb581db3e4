/* netns_fwd_udp.h — UDP port forwarding into a `synack netns` namespace
 * (-p [HOSTIP:]HOSTPORT:NSPORT/udp). */
#ifndef SYNACK_TOOL_NETNS_FWD_UDP_H
#define SYNACK_TOOL_NETNS_FWD_UDP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "netns_fwd.h"
#include "synack.h"

typedef struct ufwd ufwd;

/* How often ufwd_sweep runs (netns.c's loop for -p forwards, api_sweep for
 * the API's): clients idle out in seconds, so looking this often, not on
 * every pass of a busy loop, is soon enough. */
#define UFWD_SWEEP_NS (100ull * 1000 * 1000)

/* What a run's UDP forwards carried, all of them together (those the API
 * removed too): printed with the counters. */
typedef struct ufwd_counters {
    uint64_t clients;        /* UdpFwdClients: clients taken on (flows)     */
    uint64_t in, out;        /* UdpFwdIn, UdpFwdOut: datagrams into the
                                namespace and out to the host's clients    */
    uint64_t dropped;        /* UdpFwdDropped: a client's datagram that
                                could not go in                            */
} ufwd_counters;
void ufwd_print_counters(const ufwd_counters *n, FILE *f);

/* Bind HOSTIP:HOSTPORT/udp on the host (into epoll set `epfd`); each
 * client's datagrams go to NSPORT at fwd_target's address from a synack UDP
 * socket of its own, counted in *n (NULL: not counted where anyone looks).
 * NULL with the reason in `err`. */
ufwd *ufwd_open(const fwd_spec *spec, int epfd, synack_stack *s, const fwd_ns *ns,
                ufwd_counters *n, char *err, size_t errlen);
/* Forget the clients idle for UDP_IDLE_S (netns_udp.h). */
void ufwd_sweep(ufwd *f, uint64_t now);
void ufwd_close(ufwd *f);

#endif
