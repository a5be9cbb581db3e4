/*
 * netns_opts.h — the command line of `synack netns`: what each option
 * asks for, checked and with its defaults (slirp4netns's where it has one).
 */
#ifndef SYNACK_TOOL_NETNS_OPTS_H
#define SYNACK_TOOL_NETNS_OPTS_H

#include <stddef.h>
#include <stdint.h>

#include "netns_fwd.h"
#include "netns_map.h"
#include "netrun.h"

#define NETNS_MAX_FWD 32       /* -p forwards */
#define NETNS_PATH_MAX 4096    /* --netns PATH */
/* --busy-poll's default, µs: the most the loop polls after events
 * (netns.c says why). */
#define NETNS_BUSY_POLL_US 200

typedef struct netns_opts {
    uint32_t net;            /* --cidr's network (10.0.2.0)                */
    uint8_t prefix;          /* and prefix length (24)                     */
    long mtu;                /* --mtu (65520)                              */
    const char *ifname;      /* --ifname (tap0)                            */
    long pid;                /* --pid, or 0                                */
    const char *nsname;      /* --netns NAME or PATH, or NULL              */
    const char *userns;      /* --userns PATH, or NULL                     */
    int no_configure;        /* --no-configure: the TAP as it is           */
    int mac_set;             /* --macaddress: the TAP's MAC in the namespace */
    uint8_t mac[6];
    int ready_fd, exit_fd;   /* --ready-fd, --exit-fd, or -1               */
    const char *api_path;    /* --api-socket, or NULL                      */
    netns_map map;           /* --outbound-addr[6] (outbound_setup the rest) */
    fwd_spec fwd[NETNS_MAX_FWD];   /* -p                                         */
    size_t nfwd;
    int no_host_loopback;    /* --disable-host-loopback */
    int no_dns;              /* --disable-dns: .3:53 goes nowhere          */
    int ipv6;                /* --ipv6: fd00::100/64, gateway fd00::2       */
    int no_offload;          /* --no-offload: plain frames on the TAP       */
    uint64_t busy_poll_ns;   /* --busy-poll: the most it polls after events */
    const char *loopback_cc; /* --loopback-cc (reno), NULL: the system's default */
    int loopback_cc_given;
    const char *ns_cc;       /* --ns-cc: the namespace's default (reno when
                                we create it), NULL: as the kernel made it */
    int ns_cc_given;
    uint32_t dns_ip;         /* --dns-upstream          */
    uint16_t dns_port;
    long threads;            /* --threads: stacks, each on its own TAP queue */
    uint64_t steer_key[2];   /* their group's hash key                      */
    int ladder, quiet;
    netrun_opts nr;          /* --pcap, --trace, -o: the stack's options   */
    char **argv;             /* COMMAND [ARGS...] after --, or NULL        */
} netns_opts;

/* The whole command line. 0, or -1 with the exit status in *status (2 bad
 * usage, 0 after --help or --version). */
int netns_parse_args(netns_opts *o, int argc, char **argv, int *status);

#endif
