/*
 * netrun.h — what `synack serve` and `synack connect` share: the options
 * that put a stack on a real interface (--tap/--tun/--packet, --ip, --mac,
 * --gw, -o, --pcap, --trace, --offload) and the set-up and tear-down of device, runner
 * and stack.
 */
#ifndef SYNACK_TOOL_NETRUN_H
#define SYNACK_TOOL_NETRUN_H

#include <stdint.h>
#include <stdio.h>

#include "dev/dev.h"
#include "dev/loop.h"
#include "dev/pcap.h"
#include "synack.h"

#define NETRUN_MAX_KNOBS 64

typedef struct netrun_opts {
    int kind_set;
    dev_kind kind;
    const char *ifname;
    uint32_t ip;
    uint8_t prefix;
    int ip_set;
    uint8_t ip6[16];        /* a second --ip with an IPv6 address (ICMPv6 and ND only so far) */
    uint8_t prefix6;
    int ip6_set;
    uint8_t mac[6];
    int mac_set;
    uint32_t gw;
    uint8_t gw6[16];        /* a second --gw with an IPv6 address: cfg.gateway6 */
    int gw6_set;
    const char *knobs[NETRUN_MAX_KNOBS]; /* "name=value" */
    size_t nknobs;
    const char *pcap_path;
    int trace;
    int impaired;
    dev_impair impair;
    int offload;   /* TAP virtio-net header, GSO and checksum offload: on for
                      --tap unless --no-offload (netrun_check decides) */
    int offload_set; /* --offload or --no-offload was given */
    int trust_csum; /* the device vouches for TCP checksums: checksum_offload
                       (netns only: every frame comes from one local kernel) */
    int counters;  /* --counters: print the stack's counters on exit */
    synack_trace_fn trace_hook; /* also handed every trace event (NULL: none) */
    void *trace_hook_ctx;
    synack_udp_event_fn udp_event; /* the stack's UDP socket events (NULL: none) */
    void *udp_event_ctx;
    synack_data_fn data;   /* direct delivery (SYNACK_TCP_DIRECT_DATA; NULL: none) */
    void *data_ctx;
    synack_steer steer;     /* count > 1: one member of a steered group, on its own
                               queue of a multi-queue TAP/TUN (DEV_MULTI_QUEUE) */
    struct dev_fan *fan;    /* ...passing frames to the other members through it */
} netrun_opts;

/* The help text for the options above. */
extern const char NETRUN_HELP[];

/* Try to parse argv[*i] (and its value) as a shared option. Returns 1 when
 * it was one (and advances *i past its value), 0 when it is not, -1 on a bad
 * value (message printed with `cmd` as prefix). */
int netrun_parse(netrun_opts *o, const char *cmd, int argc, char **argv, int *i);
/* The start of serve's and connect's argument loops: argv[*i] as a shared
 * option, -h/--help (`usage` on stdout), --version or --quiet/-q (*quiet =
 * 1). Returns 1 when it was one of those, 0 when not, -1 when the command is
 * to exit with *status (0 after --help or --version, 2 on a bad value,
 * message printed). */
int netrun_parse_common(netrun_opts *o, const char *cmd, int argc, char **argv, int *i,
                        void (*usage)(FILE *), int *quiet, int *status);
/* Check the required ones are there and agree: the -o knobs exist and take
 * their values, --gw is a host on --ip's subnet, --ip is not the kernel's
 * own address. Decides the offloads: on for a TAP unless --no-offload.
 * Returns 0 or -1 (one-line message printed): bad usage. */
int netrun_check(netrun_opts *o, const char *cmd);

/* Why `a` cannot be a host's unicast address, given a subnet ip/prefix
 * (0.0.0.0/8, loopback, multicast, 240.0.0.0/4, the broadcast address, the
 * subnet's network or broadcast address), or NULL when it can be. */
const char *netrun_addr_problem(uint32_t a, uint32_t ip, uint8_t prefix);

typedef struct netrun {
    dev *d;
    dev_loop *loop;
    synack_stack *s;
    pcap_writer *pcap;
    uint64_t t0;   /* monotonic start, for trace times */
    int trace;
    synack_trace_fn hook;
    void *hook_ctx;
    const char *cmd, *pcap_path;
} netrun;

/* Open device, pcap, stack (with `event` as the socket event hook) and
 * announce our address. Returns 0 or -1 (message printed). */
int netrun_open(netrun *r, const netrun_opts *o, const char *cmd, synack_event_fn event,
                void *event_ctx);
/* The same on a device opened already (dev_adopt: `synack netns`), which
 * it owns from then on, closed on failure too. */
int netrun_open_dev(netrun *r, dev *d, const netrun_opts *o, const char *cmd,
                    synack_event_fn event, void *event_ctx);
/* Close everything netrun_open opened (removes a TAP/TUN it created).
 * Returns 0, or -1 when a write to --pcap failed (message printed). */
int netrun_close(netrun *r);

/* Make SIGUSR1 ask for the counters: the handler only raises a flag, which
 * netrun_usr1 reads (and clears) from the loop. */
void netrun_catch_usr1(void);
int netrun_usr1(void);
/* The stack's non-zero counters on `f` in nstat's format: a "#synack CMD:
 * WHEN" header, then one "Name value" line each (the nstat counters, then
 * the per-reason drops as SynackDrop<Reason>). */
void netrun_print_counters(const netrun *r, FILE *f, const char *when);
/* The same, summed over the stacks of `n` runners (a steered group). */
void netrun_print_counters_sum(const netrun *const *rs, size_t n, FILE *f, const char *when);

/* A steered group's key (synack_steer.key): random, as the stacks' own keys. */
void netrun_steer_key(uint64_t key[2]);

/* Parse "a.b.c.d:port". Returns 0 or -1. */
int netrun_parse_endpoint(const char *text, uint32_t *ip, uint16_t *port);
/* "02:00:5e:10:00:01": six hex bytes, unicast (the low bit of the first
 * clear). 0, or -1. */
int netrun_parse_mac(const char *text, uint8_t mac[6]);
/* Parse a decimal count with an optional k/M/G (powers of 1000) or
 * KiB/MiB/GiB suffix. Returns 0 or -1. */
int netrun_parse_size(const char *text, uint64_t *out);

#endif
