/* udp.h — UDP sockets (RFC 768, RFC 1122 §4.1.3): the socket records, the
 * demux tables, the receive queues and the events. Like the TCP layer it
 * never calls up into the IP layer: datagrams go out through an emit hook
 * (net_emit_udp), and what to do about a datagram no socket takes (an ICMP
 * port unreachable) is the caller's decision (udp_input's verdict). */
#ifndef SYNACK_UDP_H
#define SYNACK_UDP_H

#include "base/alloc.h"
#include "base/prefix.h"
#include "base/siphash.h"
#include "synack.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UDP_RCVBUF_DEFAULT 212992u /* Linux's net.core.rmem_default */
#define UDP_RCVBUF_MIN 256u
#define UDP_RCVBUF_MAX (1u << 30)
#define UDP_MAX_PAYLOAD4 65507u   /* 65535 - 20 (IPv4) - 8 */
#define UDP_MAX_PAYLOAD6 65527u   /* 65535 - 8 (the IPv6 payload length) */
#define UDP_TABLE_MIN 64u

/* A queued datagram: charged `len` + SYNACK_UDP_DGRAM_OVERHEAD. */
typedef struct udp_dgram {
    struct udp_dgram *next;
    synack_udp_meta meta;
    size_t len;
    uint8_t data[];
} udp_dgram;

enum { UDP_BY_PORT = 0, UDP_BY_PEER = 1, UDP_TABLES = 2 };

struct udp_ctx;

struct synack_udp {
    struct udp_ctx *ctx;
    struct synack_udp *hnext[UDP_TABLES]; /* chains of the two tables         */
    uint32_t hash[UDP_TABLES];
    struct synack_udp *anext, *aprev;     /* every socket (udp_ctx_free)      */
    struct synack_udp *tnext;             /* transparent sockets              */
    struct synack_udp *evnext;            /* pending-event list               */
    uint8_t family;
    bool in_table[UDP_TABLES];
    bool transparent, connected, on_evlist;
    synack_addr laddr;   /* family 0: any of ours                          */
    uint16_t lport;      /* 0: not bound                                    */
    synack_addr raddr;   /* connected: the peer                             */
    uint16_t rport;
    synack_addr prefix;  /* transparent: what it covers                     */
    uint8_t prefix_len;
    uint16_t port_lo, port_hi;
    udp_dgram *head, *tail;
    size_t queued;       /* bytes charged against rcvbuf                     */
    uint32_t rcvbuf;
    int err;             /* pending error, negative errno; 0: none          */
    unsigned events;     /* pending SYNACK_EV_* for dispatch                 */
    void *user;
};

typedef struct udp_table {
    synack_udp **b;
    uint32_t nb, count; /* buckets (a power of two), sockets */
} udp_table;

/* Send one datagram (`len` bytes from its header on, with
 * UDP_HEADROOM bytes free in front) from `src` (NULL: the address the IP
 * layer picks for `dst`) to `dst`, its checksum filled in on the way.
 * 0, or a negative errno. */
typedef int (*udp_emit_fn)(void *ctx, const synack_addr *src, const synack_addr *dst,
                           uint8_t *dgram, size_t len);
#define UDP_HEADROOM 64

typedef struct udp_ctx {
    const synack_sysctl *sys;
    const synack_allocator *alloc;
    synack_counters *ctr;
    siphash_key hash_key;          /* the tables' (hash flooding)              */
    siphash_key port_key;          /* where the ephemeral port search starts   */
    uint32_t port_next;
    udp_table tab[UDP_TABLES];     /* by (family, port); by (family, port, peer) */
    synack_udp *transparent;       /* few: a list                              */
    synack_udp *all;
    synack_udp *ev_head, *ev_tail;
    uint8_t *buf;                  /* where outgoing datagrams are built ...   */
    size_t buf_len;                /* ... (the IP layer's scratch buffer)      */
    udp_emit_fn emit; void *emit_ctx;
    synack_udp_event_fn event; void *event_ctx;
} udp_ctx;

/* What udp_input made of a datagram. */
typedef enum udp_verdict {
    UDP_DELIVERED, /* queued, or dropped for a full queue (counted)          */
    UDP_NO_PORT,   /* no socket takes it (UdpNoPorts): ICMP port unreachable  */
    UDP_MALFORMED, /* counted (UdpInErrors, UdpInCsumErrors)                  */
} udp_verdict;

/* An ICMP error quoting one of our datagrams. */
typedef struct udp_icmp_report {
    synack_addr local, remote; /* the quoted source and destination */
    uint16_t lport, rport;
    uint8_t type, code;        /* ICMP or ICMPv6 (family of `local`) */
} udp_icmp_report;

/* table.c */
void udp_ctx_init(udp_ctx *c);
void udp_ctx_free(udp_ctx *c);
/* False: no memory for the table. */
bool udp_table_insert(udp_ctx *c, int which, synack_udp *u);
void udp_table_remove(udp_ctx *c, int which, synack_udp *u);
/* A socket of `family` bound to `port` that is not connected, on `dst`
 * itself first, then on any address; NULL if none. */
synack_udp *udp_lookup_port(udp_ctx *c, int family, const synack_addr *dst, uint16_t port);
/* The connected socket of this 4-tuple (local address checked when bound
 * to one), or NULL. */
synack_udp *udp_lookup_peer(udp_ctx *c, const synack_addr *local, uint16_t lport,
                            const synack_addr *remote, uint16_t rport);
/* Does a socket of `family` other than `self` hold `port` on `addr`
 * (family 0: any address)? */
bool udp_port_in_use(udp_ctx *c, int family, const synack_addr *addr, uint16_t port,
                     const synack_udp *self);

/* transparent.c */
synack_udp *udp_lookup_transparent(udp_ctx *c, const synack_addr *src, uint16_t sport,
                                   const synack_addr *dst, uint16_t port);
int udp_bind_any(synack_udp *u, const synack_addr *prefix, uint8_t prefix_len, uint16_t lo,
                 uint16_t hi);

/* sock.c: the user calls behind synack_udp_* (addresses already checked
 * against the stack's by the caller). */
synack_udp *udp_open(udp_ctx *c, int family);
int udp_bind(synack_udp *u, const synack_addr *addr, uint16_t port);
int udp_connect(synack_udp *u, const synack_addr *addr, uint16_t port);
void udp_close(synack_udp *u);
int udp_setopt(synack_udp *u, int opt, int value);
int udp_getopt(const synack_udp *u, int opt, int *value);
/* An ephemeral port for `u` (ip_local_port_range, a keyed start). */
int udp_autobind(synack_udp *u);

/* queue.c */
/* Queue a datagram for `u` (bounded by its rcvbuf); false: dropped, counted. */
bool udp_enqueue(synack_udp *u, const synack_udp_meta *meta, const uint8_t *data, size_t len);
ssize_t udp_dequeue(synack_udp *u, void *buf, size_t len, synack_udp_meta *from);
void udp_queue_free(synack_udp *u);

/* input.c */
/* A datagram from `src` to `dst` (`p`, `len` bytes: the IP payload).
 * `ours`: dst is an address of the stack (else only transparent sockets
 * may take it). */
udp_verdict udp_input(udp_ctx *c, const synack_addr *src, const synack_addr *dst, bool ours,
                      const uint8_t *p, size_t len);
/* Is there a transparent socket for this destination (the IP layer asks
 * before it drops a packet that is not for our addresses)? */
bool udp_takes(udp_ctx *c, const synack_addr *dst, uint16_t port);

/* output.c */
ssize_t udp_send(synack_udp *u, const void *buf, size_t len, const synack_udp_meta *to);

/* error.c */
void udp_icmp_error(udp_ctx *c, const udp_icmp_report *r);
/* The errno an ICMP(v6) error means for a socket (negative), or 0 when it
 * is not reported. */
int udp_icmp_errno(int family, uint8_t type, uint8_t code);

/* events.c */
void udp_signal(synack_udp *u, unsigned events);
void udp_unsignal(synack_udp *u);
void udp_dispatch(udp_ctx *c);

/* Helpers. */
bool udp_addr_eq(const synack_addr *a, const synack_addr *b);
bool udp_addr_unspecified(const synack_addr *a);
/* Per-family counters. */
#define UDP_COUNT(c, fam, name) \
    ((fam) == SYNACK_AF_INET6 ? (c)->ctr->udp6_##name++ : (c)->ctr->udp_##name++)

#endif
