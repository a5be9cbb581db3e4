/*
 * netns_ns.h — the namespace plumbing of `synack netns`, outside the core:
 * a child process enters a network namespace (a new one, or an existing
 * one by PID or by name), creates a TAP interface there, gives it its
 * address, MTU and default route, and hands the TAP's file descriptor back
 * over a Unix socket (SCM_RIGHTS). The stack then runs in this process, in
 * the original namespace, where its host sockets live.
 */
#ifndef SYNACK_TOOL_NETNS_NS_H
#define SYNACK_TOOL_NETNS_NS_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The namespace's side of the link, as slirp4netns numbers it. */
typedef struct netns_net {
    uint32_t host;       /* the namespace's address (network + 100)          */
    uint8_t prefix;      /* its prefix length                                */
    uint32_t gw;         /* the default route: synack (network + 2)          */
    unsigned mtu;        /* the TAP's MTU                                    */
    const char *ifname;  /* the TAP's name (tap0)                            */
    int ipv6;            /* --ipv6: also host6/64, default route via gw6     */
    uint8_t host6[16];   /* the namespace's IPv6 address (fd00::100)         */
    uint8_t gw6[16];     /* synack's (fd00::2)                               */
    int offload;         /* the TAP carries virtio_net_hdr, checksum and TSO
                            offloads on (IFF_VNET_HDR, TUNSETOFFLOAD)        */
    unsigned queues;     /* 1, or a multi-queue TAP (IFF_MULTI_QUEUE) with
                            this many queues, one per thread (--threads)     */
    int mac_set;         /* give the TAP (configuring it) this MAC          */
    uint8_t mac[6];
    int configure;       /* give the TAP its MTU, addresses, link state and
                            routes; 0: the namespace's owner does (a TAP of
                            that name may be there already, as rootlesskit
                            makes it)                                        */
    const char *tcp_cc;  /* the namespace's default congestion control
                            (net.ipv4.tcp_congestion_control), set before
                            COMMAND runs; NULL: as the kernel made it       */
    int tcp_cc_strict;   /* tcp_cc refused: an error (else left as it was)  */
} netns_net;

#define NETNS_MAX_QUEUES 16

/* What the child hands back. */
typedef struct netns_tap {
    int fd[NETNS_MAX_QUEUES]; /* the TAP (IFF_TAP | IFF_NO_PI), in the
                            namespace: a descriptor per queue (n->queues)   */
    uint8_t mac[6];      /* the namespace kernel's MAC on it                */
    int tcp_cc_set;      /* the namespace's default congestion control is
                            now n->tcp_cc                                   */
    pid_t pid;           /* netns_spawn: the child that becomes COMMAND      */
    int go;              /* netns_spawn: the socket netns_go writes to      */
} netns_tap;

/* Fork a child that creates a new network namespace (and, unless we are
 * root, a user namespace mapping our uid and gid to root in it, as
 * `unshare -r` does), sets up the TAP there and waits; netns_go lets it
 * exec argv with signal mask `mask`. Returns 0, or -1 with a one-line
 * reason in `err` (the child is gone then). */
int netns_spawn(const netns_net *n, char **argv, const sigset_t *mask, netns_tap *t,
                char *err, size_t errlen);
/* Let the child exec its command. 0, or -1 (it died meanwhile). */
int netns_go(netns_tap *t);

/* Set up the TAP in an existing namespace: the network namespace of
 * process `pid` (when `path` is NULL) or the one at `path` (/run/netns/NAME,
 * /proc/PID/ns/net). The user namespace at `userns` is entered first when
 * given; else, unless we are root, the network namespace's own when it has
 * one. Returns 0, or -1 with the reason in `err`. */
int netns_attach(const netns_net *n, pid_t pid, const char *path, const char *userns,
                 netns_tap *t, char *err, size_t errlen);

#endif
