/* net.h — the interface layer: Ethernet, ARP, IPv4 and ICMP around TCP. */
#ifndef SYNACK_NET_H
#define SYNACK_NET_H

#include "synack.h"
#include "tcp/tcp.h"

#define ARP_ENTRIES 64
#define ARP_TIMEOUT_NS (60ULL * 1000 * NS_PER_MS)
#define ARP_RETRY_NS (1000ULL * NS_PER_MS)
#define ARP_QUEUE 8 /* IP packets held per next hop while it is being resolved */
#define ARP_PROBES 3 /* requests, ARP_RETRY_NS apart, before a next hop is unreachable
                        (Linux's mcast_solicit and retrans_time) */
#define NET_BUF_LEN (65536 + 64)

typedef struct arp_entry {
    uint32_t ip;
    uint8_t mac[6];
    uint8_t state;          /* ARP_FREE, ARP_PENDING, ARP_RESOLVED, ARP_STATIC */
    uint8_t npending;
    uint8_t probes;         /* pending: requests sent so far              */
    uint64_t expires;       /* resolved: fresh until; pending: next request */
    uint64_t retry_at;      /* resolved but stale: next refresh request */
    /* IP packets waiting for resolution (owned, oldest first); each has
     * 14 bytes of headroom for the Ethernet header. */
    uint8_t *pending[ARP_QUEUE];
    size_t pending_len[ARP_QUEUE];
} arp_entry;

enum { ARP_FREE = 0, ARP_PENDING, ARP_RESOLVED, ARP_STATIC };

typedef struct net_ctx {
    const synack_config *cfg;
    synack_counters *ctr;
    tcp_ctx *tcp;
    uint64_t now;
    uint16_t ip_id;
    bool in_output;           /* inside cfg->output: the stack must not be re-entered */
    arp_entry arp[ARP_ENTRIES];
    uint8_t buf[NET_BUF_LEN]; /* frames the interface layer builds itself */
} net_ctx;

void net_init(net_ctx *n, const synack_config *cfg, synack_counters *ctr, tcp_ctx *tcp);
void net_free(net_ctx *n);
/* One frame from the device. */
void net_input(net_ctx *n, const uint8_t *frame, size_t len);
/* TCP's emit hook: `seg` has TCP_HEADROOM bytes free in front of it. */
void net_emit_tcp(void *ctx, uint32_t dst, uint8_t *seg, size_t len);
int arp_add_static(net_ctx *n, uint32_t ip, const uint8_t mac[6]);
/* Broadcast a gratuitous ARP request for our own address. */
void arp_announce(net_ctx *n);

/* arp.c */
void arp_input(net_ctx *n, const uint8_t *p, size_t len);
/* Resolution timers: ask again, or give up on a next hop after ARP_PROBES
 * unanswered requests (its packets dropped, TCP told: EHOSTUNREACH). */
void arp_timers(net_ctx *n);
uint64_t arp_next_deadline(const net_ctx *n);
/* Send an IP packet (at `pkt`, `pkt_len` bytes, with 14 bytes of headroom)
 * to next hop `hop`, resolving its MAC first if needed. */
void arp_output(net_ctx *n, uint32_t hop, uint8_t *pkt, size_t pkt_len);
/* ipv4.c / icmp.c */
void ipv4_input(net_ctx *n, const uint8_t *p, size_t len);
void icmp_input(net_ctx *n, uint32_t src, const uint8_t *p, size_t len);
/* Wrap `payload` (with >= 34 bytes of headroom) in IPv4 and send it. */
void ipv4_output(net_ctx *n, uint32_t dst, uint8_t proto, uint8_t *payload, size_t len);
/* Hand a finished frame to the device. */
void net_transmit(net_ctx *n, const uint8_t *frame, size_t len);

#endif
