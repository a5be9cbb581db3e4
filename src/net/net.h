/* net.h — the interface layer: Ethernet, ARP, IPv4, ICMP, IPv6, Neighbour
 * Discovery and ICMPv6 around TCP. */
#ifndef SYNACK_NET_H
#define SYNACK_NET_H

#include "base/siphash.h"
#include "net/neigh.h"
#include "synack.h"
#include "tcp/tcp.h"
#include "udp/udp.h"

#define ARP_TIMEOUT_NS (60ULL * 1000 * NS_PER_MS) /* an ARP entry is fresh this long */
/* RFC 4861 §10's host constants (Linux's defaults). */
#define ND_REACHABLE_NS (30ULL * 1000 * NS_PER_MS) /* REACHABLE_TIME                */
#define ND_DELAY_NS (5ULL * 1000 * NS_PER_MS)      /* DELAY_FIRST_PROBE_TIME        */
#define ND_RETRANS_NS NEIGH_RETRY_NS               /* RETRANS_TIMER: 1 s, also DAD's wait */
#define IPV6_HOP_LIMIT 64                          /* Linux's net.ipv6.conf.all.hop_limit */
#define NET_BUF_LEN (65536 + 64)
#define REASM_MAX_FRAGS 256 /* fragments one datagram may arrive in (synack's own cap:
                                a 64 KiB datagram over a 576-byte path takes 119) */
#define REASM_BUCKETS 256  /* hash chains of datagrams being reassembled */

/* One of our IPv6 addresses (addr6.c). */
typedef struct own6 {
    uint8_t a[16];
    uint8_t state;     /* SYNACK_ADDR6_NONE, _TENTATIVE, _PREFERRED, _DUPLICATE */
    uint8_t dad_sent;  /* Duplicate Address Detection probes sent so far */
    uint64_t dad_at;   /* tentative: the next probe, or the verdict      */
} own6;

enum { OWN6_CFG = 0, OWN6_LL = 1 }; /* cfg.ip6; the link-local one from the MAC */

/* One fragment's payload, held until its datagram is whole. The first
 * fragment (offset 0) keeps the headers it came with in front of its data:
 * they are quoted by ICMP time exceeded, and IPv6 rebuilds the datagram's
 * header from them. */
typedef struct reasm_frag {
    struct reasm_frag *next; /* by offset; fragments never overlap */
    uint16_t off, len;       /* bytes within the datagram's payload */
    uint32_t hdr_len;        /* bytes of headers in front of the data (first only) */
    uint8_t data[];          /* hdr_len bytes of headers, then len bytes of data */
} reasm_frag;

enum { REASM_IPV4, REASM_IPV6, REASM_FAMILIES };

/* What identifies a datagram: IPv4's (src, dst, protocol, identification)
 * (RFC 791), IPv6's (src, dst, identification) (RFC 8200 §4.5). IPv4
 * addresses take the first 4 bytes; unused bytes are 0. */
typedef struct reasm_key {
    uint8_t family;        /* REASM_IPV4, REASM_IPV6 */
    uint8_t proto;         /* IPv4 only; 0 for IPv6 */
    uint32_t id;
    uint8_t src[16], dst[16];
} reasm_key;

/* A datagram being reassembled. Each is charged `mem` bytes against its
 * family's high_thresh. */
typedef struct reasm_dgram {
    struct reasm_dgram *hnext;          /* hash chain                           */
    struct reasm_dgram *older, *newer;  /* its family's datagrams by age = by expiry */
    reasm_key key;
    uint16_t nfrags;
    uint8_t have_last;    /* the fragment without MF arrived: total is known */
    uint8_t dead;         /* IPv6: dropped for an overlap; only the record stays,
                             so that its later fragments are dropped too  */
    uint8_t l2_group;     /* its first fragment came in a link-layer multicast or
                             broadcast frame: what ICMP errors about it go by */
    uint32_t nh_off;      /* IPv6: where the first fragment names the fragment header */
    uint32_t total;       /* payload bytes, once have_last                   */
    uint32_t received;    /* payload bytes held (no overlaps, so no double count) */
    uint64_t expires;
    size_t mem;
    reasm_frag *frags;    /* by offset: the first fragment, once here, leads */
} reasm_dgram;

/* One family's datagrams, limits and counters (net_init points them). */
typedef struct reasm_family {
    reasm_dgram *oldest, *newest;
    uint32_t count;
    size_t mem;
    const uint32_t *high_thresh, *lifetime_s; /* ip(6)frag_high_thresh, ip(6)frag_time */
    bool bury;            /* keep an overlapping datagram's record (RFC 5722) */
    uint64_t *reqds, *oks, *fails, *timeouts, *overlaps;
} reasm_family;

/* A fragment as it arrived, in either family, for reasm_add. */
typedef struct reasm_piece {
    reasm_key key;
    const uint8_t *pkt;    /* the packet from its first byte            */
    size_t hdr_len;        /* bytes of pkt before the fragment's data   */
    size_t len;            /* bytes of data, right after them           */
    uint32_t off;          /* the data's offset in the datagram's payload */
    uint32_t max_end;      /* the furthest the payload may reach         */
    uint8_t more;          /* more fragments follow (MF, M)              */
    uint32_t nh_off;       /* IPv6: see reasm_dgram                      */
} reasm_piece;

#define NET_MAX_ADDRS4 8 /* further own addresses, and impersonated prefixes */
#define NET_MAX_ROUTES4 16 /* routes besides the subnet and the default gateway */
#define NET_MAX_ROUTES6 16 /* the same for IPv6: besides our prefix and gateway6 */

/* A route (route4.c): to net/mask via gateway, or on-link when it is 0. */
typedef struct net_route4 {
    uint32_t net, mask, gateway;
} net_route4;

/* An IPv6 route (route6.c): to net/len via gateway, or on-link when the
 * gateway is :: (bits of net past len are ignored). */
typedef struct net_route6 {
    uint8_t net[16], gateway[16];
    uint8_t len;
} net_route6;

typedef struct net_prefix4 {
    uint32_t net, mask;
} net_prefix4;

typedef struct net_prefix6 {
    uint8_t net[16]; /* bits past len are zero */
    uint8_t len;
} net_prefix6;

typedef struct net_ctx {
    const synack_config *cfg;
    synack_counters *ctr;
    tcp_ctx *tcp;
    udp_ctx *udp;             /* set by the stack after net_init */
    uint64_t now;
    uint16_t ip_id;
    bool in_output;           /* inside cfg->output: the stack must not be re-entered */
    /* A TCP segment on its way out whose payload was left in the send
     * buffer (net_emit_tcp_tail): its last tail_len bytes are these pieces,
     * not yet behind the headers. Only for the time of that call. */
    const synack_iov *tail;
    size_t tail_len;
    bool l2_group;            /* the packet being handled came in a frame to a
                                 link-layer multicast or broadcast address: no
                                 ICMP error about it (RFC 4443 §2.4(e.4), (e.5);
                                 RFC 1122 §3.2.2). Set by net_input for the
                                 frame's time; reassembly sets it from a
                                 datagram's first fragment (reasm.c)           */
    uint32_t addrs4[NET_MAX_ADDRS4]; /* own IPv4 addresses besides cfg.ip (addrs4.c) */
    uint8_t naddrs4;
    net_prefix4 imp4[NET_MAX_ADDRS4]; /* impersonated IPv4 prefixes (addrs4.c)    */
    net_route4 routes4[NET_MAX_ROUTES4]; /* route4.c                           */
    uint8_t nroutes4;
    uint8_t nimp4;
    net_prefix6 imp6[NET_MAX_ADDRS4]; /* impersonated IPv6 prefixes (imp6.c)      */
    uint8_t nimp6;
    net_route6 routes6[NET_MAX_ROUTES6]; /* route6.c                           */
    uint8_t nroutes6;
    own6 addr6[2];            /* our IPv6 addresses, OWN6_CFG and OWN6_LL  */
    uint8_t groups6[3][16];   /* groups we take: all-nodes, and the solicited-node
                                 groups of ip6 and ll6 (net_init)           */
    uint8_t group_macs6[3][6];/* their Ethernet addresses                   */
    uint32_t icmp_tokens;     /* ICMP errors the global limit still allows ... */
    uint64_t icmp_refill_at;  /* ... and when it last refilled               */
    neigh_table arp;          /* IPv4 next hops (arp.c)                   */
    neigh_table nd;           /* IPv6 next hops (ndisc.c)                 */
    /* Fragment reassembly of both families (reasm.c). */
    siphash_key reasm_key;
    siphash_key flow_key;     /* IPv6 flow labels (RFC 6437), ipv6.c      */
    uint8_t flow_last[36];    /* ... the flow whose label was made last,  */
    uint32_t flow_last_label; /* and the label (0: none yet)              */
    siphash_key frag_key;     /* IPv6 fragment identifications, frag.c    */
    uint32_t frag6_count;     /* ... and the counter added to them        */
    reasm_dgram *reasm_hash[REASM_BUCKETS];
    reasm_family reasm[REASM_FAMILIES];
    uint8_t buf[NET_BUF_LEN]; /* frames the interface layer builds itself */
} net_ctx;

void net_init(net_ctx *n, const synack_config *cfg, synack_counters *ctr, tcp_ctx *tcp);
void net_free(net_ctx *n);
/* One frame from the device. */
void net_input(net_ctx *n, const uint8_t *frame, size_t len);
/* TCP's emit hook: `seg` has TCP_HEADROOM bytes free in front of it. */
void net_emit_tcp(void *ctx, const synack_addr *src, const synack_addr *dst, uint8_t *seg,
                  size_t len);
/* TCP's emit_tail hook: the header at `hdr` (room for the payload behind
 * it, TCP_HEADROOM in front), the payload in `tail`. */
void net_emit_tcp_tail(void *ctx, const synack_addr *src, const synack_addr *dst, uint8_t *hdr,
                       size_t hl, const synack_iov tail[2]);
/* A packet of `len` bytes at `pkt` whose end is still the pending tail:
 * copy the tail into place behind it (before anything keeps the packet). */
void net_flatten(net_ctx *n, uint8_t *pkt, size_t len);
int arp_add_static(net_ctx *n, uint32_t ip, const uint8_t mac[6]);
/* Broadcast a gratuitous ARP request for our own address. */
void arp_announce(net_ctx *n);

/* The interface's timers: neighbour resolution (ask again, or give up on
 * a next hop after NEIGH_PROBES unanswered solicitations: its packets
 * dropped, TCP told), reassembly. */
void net_timers(net_ctx *n);
uint64_t net_next_deadline(const net_ctx *n);

/* arp.c */
void arp_init(net_ctx *n);
void arp_input(net_ctx *n, const uint8_t *p, size_t len);
/* Send an IP packet (at `pkt`, `pkt_len` bytes, with 14 bytes of headroom)
 * to next hop `hop`, resolving its MAC first if needed. False: dropped
 * (counted). */
bool arp_output(net_ctx *n, uint32_t hop, uint8_t *pkt, size_t pkt_len);
/* ipv4.c / icmp.c */
void ipv4_input(net_ctx *n, const uint8_t *p, size_t len);
/* ipv6.c: IPv6 in and out (RFC 8200). */
bool ipv6_enabled(const net_ctx *n);
bool ipv6_wants_mac(const net_ctx *n, const uint8_t mac[6]);
void ipv6_input(net_ctx *n, const uint8_t *p, size_t len);
/* Send an IPv6 packet whose upper-layer payload is at `payload` (with at
 * least 54 bytes of headroom: IPv6 and Ethernet headers) to `dst`, from our
 * address that fits it (ipv6_source_for): next hop on-link or gateway6,
 * resolved by Neighbour Discovery with queueing on Ethernet links; straight
 * out on IP links (SYNACK_LINK_IP: no ND at all). Dropped and counted
 * (Ip6OutNoRoutes) without a route or a usable source. */
void ipv6_send(net_ctx *n, const uint8_t dst[16], uint8_t next_header, uint8_t *payload,
               size_t len);
/* The source address ipv6_send would use for `dst` (TCP needs it for the
 * pseudo-header checksum): the link-local one for link-local and
 * multicast destinations, cfg.ip6 otherwise. NULL when that one is not
 * usable (tentative while DAD runs, or a duplicate): then nothing can go. */
const uint8_t *ipv6_source_for(const net_ctx *n, const uint8_t dst[16]);
/* ipv6_send from a given source and with a given hop limit (an echo reply
 * comes from the address pinged). True when the packet went, or waits for
 * resolution; false when it was dropped (counted). */
bool ipv6_send_from(net_ctx *n, const uint8_t src[16], const uint8_t dst[16],
                    uint8_t next_header, uint8_t hop_limit, uint8_t *payload, size_t len);
/* The same to next hop `hop` on the link, resolved through the neighbour
 * table (an advertisement goes back to the solicitor, whatever routing says). */
bool ipv6_output_hop(net_ctx *n, const uint8_t hop[16], const uint8_t src[16],
                     const uint8_t dst[16], uint8_t next_header, uint8_t hop_limit,
                     uint8_t *payload, size_t len);
/* The same to a known MAC (`dst_mac`, ignored on IP links): ND's own
 * solicitations and multicasts, which need no resolution. */
void ipv6_output(net_ctx *n, const uint8_t dst_mac[6], const uint8_t src[16],
                 const uint8_t dst[16], uint8_t next_header, uint8_t hop_limit, uint8_t *payload,
                 size_t len);
/* One fragment (`frag`: its fragment header and data, `len` bytes, with
 * the same headroom) to next hop `hop`, as ipv6_output_hop sends a packet
 * but neither checked against the MTU nor counted (frag.c does both). */
bool ipv6_output_fragment(net_ctx *n, const uint8_t hop[16], const uint8_t src[16],
                          const uint8_t dst[16], uint8_t hop_limit, uint8_t *frag, size_t len);
/* route6.c: RFC 4861 §5.2's next-hop determination. `dst` itself when it is
 * on the link; else the longest-prefix route's gateway (`dst` itself for an
 * on-link route); else gateway6; NULL when there is none. */
const uint8_t *ipv6_next_hop(const net_ctx *n, const uint8_t dst[16]);
/* Add a route (gateway all zero: on-link): 0, -EINVAL, -EEXIST (that
 * prefix has one), -ENOSPC, -ENETUNREACH (the gateway is not on the link),
 * -EAFNOSUPPORT (no cfg.ip6). */
int net_route_add6(net_ctx *n, const uint8_t prefix[16], uint8_t len, const uint8_t gateway[16]);
/* Hand an IPv6 packet's upper-layer data (`payload`, `len` bytes of
 * protocol `proto`; reassembled or not) to its protocol. `ip` gives the
 * addresses and hop limit. */
void ipv6_deliver(net_ctx *n, const wire_ipv6 *ip, uint8_t proto, const uint8_t *payload,
                  size_t len);
/* A packet the walk refused with WIRE_PARAM_PROBLEM: counted
 * (Ip6InHdrErrors), and answered with the parameter problem `ext` names
 * when the walk says one may go. */
void ipv6_param_problem(net_ctx *n, const uint8_t *pkt, const wire_ipv6 *ip,
                        const wire_ipv6_ext *ext);
/* RFC 6980 §5: a Neighbour Discovery message (types 133-137) never comes
 * with a fragment header. Is `p` (protocol `proto`) one, from a packet
 * that had one? Then it is counted (Icmp6InErrors) for the caller to drop. */
bool icmpv6_nd_fragmented(net_ctx *n, uint8_t proto, const uint8_t *p, size_t len);
/* An ICMPv6 error (RFC 4443 §2.4) about the packet `pkt` (`len` bytes from
 * its IPv6 header, quoted as far as 1280 bytes allow) to its source,
 * through the neighbour table. Not sent where §2.4(e) forbids it: about
 * an ICMPv6 error or a redirect, from an unspecified or multicast source,
 * about a packet to a multicast destination or one that came in a
 * link-layer multicast or broadcast frame (n->l2_group) -- except, for
 * those last, packet too big and a parameter problem (code 2, `body` the
 * pointer) about an option whose action bits are 10; nor beyond the
 * global ICMP rate limit (icmp_error_allowed). Counts Icmp6OutDestUnreachs,
 * Icmp6OutTimeExcds or Icmp6OutParmProblems. */
void icmpv6_error(net_ctx *n, const uint8_t *pkt, size_t len, uint8_t type, uint8_t code,
                  uint32_t body);
/* A held SYN from `client` to `dst` refused (synack_accept_refuse): ICMPv6
 * destination unreachable (RFC 4443 §3.1, `code`) to the client from our
 * own address towards it, as a router on the path would send it, quoting
 * a rebuilt IPv6 and TCP header (addresses, ports, the SYN's sequence
 * number). Rate-limited; counted Icmp6OutDestUnreachs. */
typedef struct icmp6_about {
    uint8_t client[16], dst[16];
    uint16_t sport, dport;
    uint32_t seq;
} icmp6_about;
void icmpv6_unreach_syn(net_ctx *n, const icmp6_about *a, uint8_t code);
/* A UDP datagram from `client` to `dst` (`udp_len` bytes with its header)
 * a relay could not deliver (synack_udp_unreachable): ICMPv6 destination
 * unreachable `code` to the client from `from` (the destination itself for
 * port unreachable, as its host would answer; NULL: our own address
 * towards the client, as a router), quoting a rebuilt IPv6 and UDP header.
 * Rate-limited; counted Icmp6OutDestUnreachs. */
void icmpv6_unreach_udp(net_ctx *n, const uint8_t from[16], const icmp6_about *a,
                        uint16_t udp_len, uint8_t code);
/* TCP's IPv6 segments: from `src`, the address TCP sums its pseudo-header
 * with (cfg.ip6, or an impersonated address a connection was accepted
 * on), whatever the destination's scope; dropped (counted: Ip6OutNoRoutes)
 * when it is neither impersonated nor usable (cfg.ip6 while DAD runs, or a
 * duplicate). Otherwise as ipv6_send. */
void ipv6_send_tcp(net_ctx *n, const uint8_t src[16], const uint8_t dst[16], uint8_t *seg,
                   size_t len);
/* icmpv6.c */
void icmpv6_input(net_ctx *n, const wire_ipv6 *ip, const uint8_t *p, size_t len);
/* ndisc.c: Neighbour Discovery (RFC 4861) for the neighbour table. */
void nd_init(net_ctx *n);
void nd_solicit_input(net_ctx *n, const wire_ipv6 *ip, const wire_icmpv6 *m);
void nd_advert_input(net_ctx *n, const wire_ipv6 *ip, const wire_icmpv6 *m);
/* addr6.c: our IPv6 addresses and their Duplicate Address Detection
 * (RFC 4862 §5.4). */
void addr6_init(net_ctx *n);
/* Ours in any state but NONE, or NULL; addr6_ours: is there one. */
own6 *addr6_find(net_ctx *n, const uint8_t a[16]);
bool addr6_ours(const net_ctx *n, const uint8_t a[16]);
/* Ours and PREFERRED: usable as a source, and packets to it are taken. */
bool addr6_usable(const net_ctx *n, const uint8_t a[16]);
/* Another node has this tentative address (§5.4.3, §5.4.4). */
void addr6_duplicate(net_ctx *n, own6 *o);
void addr6_timers(net_ctx *n);
uint64_t addr6_next_deadline(const net_ctx *n);
/* addrs4.c: the IPv4 destinations we take. Own: cfg.ip or one added
 * (synack_add_address); impersonated: inside a prefix given to
 * synack_impersonate; takes: either, on a stack with IPv4. The adders
 * return 0 or -EINVAL, -EEXIST, -ENOSPC (NET_MAX_ADDRS4 each). */
bool ipv4_own(const net_ctx *n, uint32_t a);
bool ipv4_impersonated(const net_ctx *n, uint32_t a);
bool ipv4_takes(const net_ctx *n, uint32_t a);
/* Unicast only: "this network", loopback, multicast and reserved addresses
 * can be no host's. */
bool ipv4_unicast(uint32_t a);
/* An address a transparent socket may leave from (SYNACK_IP_TRANSPARENT):
 * one the stack takes packets to (its own, or impersonated), so that the
 * answers come back, and unicast -- never "this network", loopback,
 * multicast, reserved or our subnet's broadcast address. */
bool ipv4_may_send_from(const net_ctx *n, uint32_t a);
bool ipv6_may_send_from(const net_ctx *n, const uint8_t a[16]);
int net_add_addr4(net_ctx *n, uint32_t a);
int net_impersonate4(net_ctx *n, uint32_t prefix, uint8_t len);
/* imp6.c: the IPv6 prefixes we impersonate (synack_impersonate). An
 * address is impersonated when it is inside one and could be a remote
 * host's: global unicast, never one of ours (in any DAD state), never
 * ::, ::1, link-local, multicast or IPv4-mapped. 0 or -EINVAL, -ENOSPC. */
bool ipv6_impersonated(const net_ctx *n, const uint8_t a[16]);
int net_impersonate6(net_ctx *n, const uint8_t prefix[16], uint8_t len);
/* Hand a whole datagram's payload to its protocol (TCP, UDP, ICMP). `hdr`
 * is its IPv4 header (a reassembled datagram's: its first fragment's),
 * followed by the payload `p` (`len` bytes): ICMP errors quote them. */
void ipv4_deliver(net_ctx *n, const uint8_t *hdr, uint32_t src, uint32_t dst, uint8_t proto,
                  const uint8_t *p, size_t len);
/* `dst`: the address the message came to; an echo is answered from it. */
void icmp_input(net_ctx *n, uint32_t src, uint32_t dst, const uint8_t *p, size_t len);
/* A datagram or segment the stack never had, as an ICMP error quotes it:
 * from `client` to `dst`, protocol, ports, and the next four bytes (TCP:
 * the sequence number; UDP: length and checksum). */
typedef struct icmp_about {
    uint32_t client, dst;
    uint8_t proto;
    uint16_t sport, dport;
    uint32_t word;
} icmp_about;
/* Destination unreachable (`code`) to `client` about it, from `from`: our
 * own address as a router on the path would send it (a relay refusing a
 * held SYN, synack_accept_refuse), or the destination itself (port
 * unreachable, synack_udp_unreachable). The quoted header is rebuilt from
 * those fields, which are all a sender matches an error with (RFC 5927
 * §4). Rate-limited; counted IcmpOutDestUnreachs. */
void icmp_unreach_about(net_ctx *n, uint32_t from, const icmp_about *a, uint8_t code);
/* May an ICMP error go now? Linux's global limit (icmp_msgs_per_sec, with a
 * burst of icmp_msgs_burst): spoofed packets must not turn us into a
 * reflector. Counts IcmpOutRateLimitGlobal when not. */
bool icmp_error_allowed(net_ctx *n);
/* Wrap `payload` (with >= 34 bytes of headroom) in IPv4 and send it. A
 * packet over the MTU (gso_max, when the device segments TCP) is dropped
 * (IpOutTooBig). True when it went, or waits for resolution. */
bool ipv4_output(net_ctx *n, uint32_t dst, uint8_t proto, uint8_t *payload, size_t len);
/* The same from source `src`: one of ours, an impersonated address, or a
 * transparent UDP socket's (which need not be either); ipv4_output is this
 * from cfg.ip. */
bool ipv4_output_from(net_ctx *n, uint32_t src, uint32_t dst, uint8_t proto, uint8_t *payload,
                      size_t len);
/* route4.c. The next hop towards `dst`: itself on our subnet; else the
 * longest-prefix route's gateway (itself for an on-link route); else the
 * default gateway; false (IpOutNoRoutes) without one. */
bool ipv4_route(net_ctx *n, uint32_t dst, uint32_t *hop);
/* Add a route: 0, -EINVAL, -EEXIST (that prefix has one), -ENOSPC,
 * -ENETUNREACH (the gateway is not on our subnet). */
int net_route_add4(net_ctx *n, uint32_t prefix, uint8_t len, uint32_t gateway);
/* A finished IPv4 packet (14 bytes of headroom) to next hop `hop`. */
bool ipv4_transmit(net_ctx *n, uint32_t hop, uint8_t *pkt, size_t len);
/* frag.c: output fragmentation, for the stack's own echo replies and UDP
 * datagrams (TCP sizes its segments to the path). Each sends `payload` (its headroom as
 * ipv4_output's, ipv6_send_from's; it lies in n->buf, and is overwritten)
 * whole when it fits the MTU, else in fragments: IPv4 per RFC 791 (DF
 * clear), IPv6 per RFC 8200 §4.5 (a fragment header). True when every
 * piece went, or waits for resolution. */
bool ipv4_output_frag(net_ctx *n, uint32_t dst, uint8_t proto, uint8_t *payload, size_t len);
bool ipv4_output_frag_from(net_ctx *n, uint32_t src, uint32_t dst, uint8_t proto,
                           uint8_t *payload, size_t len);
bool ipv6_send_frag(net_ctx *n, const uint8_t src[16], const uint8_t dst[16],
                    uint8_t next_header, uint8_t hop_limit, uint8_t *payload, size_t len);
/* reasm.c: fragment reassembly of both families (RFC 791 §3.2, RFC 815,
 * RFC 8200 §4.5, RFC 5722). reasm_init points each family at its knobs and
 * counters. reasm_add takes one fragment; a datagram made whole goes to
 * ipv4_deliver or reasm6_deliver. */
void reasm_init(net_ctx *n);
void reasm_add(net_ctx *n, const reasm_piece *p);
/* Drop datagrams not whole after ipfrag_time / ip6frag_time (ICMP time
 * exceeded to the source if their first fragment came). */
void reasm_timers(net_ctx *n);
uint64_t reasm_next_deadline(const net_ctx *n);
/* Free every datagram being reassembled. */
void reasm_free(net_ctx *n);
/* reasm4.c: `ip` is an IPv4 fragment for us (parsed, addresses checked) and
 * `hdr` its header bytes. */
void reasm4_input(net_ctx *n, const wire_ipv4 *ip, const uint8_t *hdr);
void reasm4_time_exceeded(net_ctx *n, const reasm_dgram *d);
/* reasm6.c: `pkt` is an IPv6 fragment for us, walked into `ip` and `ext`
 * (wire_ipv6_walk said WIRE_FRAGMENT). */
void reasm6_input(net_ctx *n, const wire_ipv6 *ip, const wire_ipv6_ext *ext, const uint8_t *pkt);
/* The whole packet (`d` the datagram's record, already freed; `pkt` is
 * modified) to ipv6_deliver. */
void reasm6_deliver(net_ctx *n, const reasm_dgram *d, uint8_t next_header, uint8_t *pkt,
                    size_t len);
void reasm6_time_exceeded(net_ctx *n, const reasm_dgram *d);

/* udp.c: UDP between the IP layers and src/udp. */
/* Is this packet to an address that is not ours a UDP datagram for a
 * transparent socket (synack_udp_bind_any)? Only whole, unicast ones. */
bool net_udp_takes4(net_ctx *n, const wire_ipv4 *ip, wire_err e);
bool net_udp_takes6(net_ctx *n, const wire_ipv6 *ip, const wire_ipv6_ext *ext, wire_err e);
/* A datagram in; ICMP port unreachable when no socket takes it. */
void udp4_deliver(net_ctx *n, const uint8_t *hdr, uint32_t src, uint32_t dst,
                  const uint8_t *p, size_t len);
void udp6_deliver(net_ctx *n, const wire_ipv6 *ip, const uint8_t *p, size_t len);
/* The UDP layer's emit hook (udp_emit_fn). */
int net_emit_udp(void *ctx, const synack_addr *src, const synack_addr *dst, uint8_t *dgram,
                 size_t len);
/* An ICMP(v6) error quoting a UDP datagram of ours. */
void net_udp_icmp4(net_ctx *n, const wire_icmp *m, const wire_icmp_quote *q);
void net_udp_icmp6(net_ctx *n, const wire_icmpv6 *m, const wire_icmpv6_quote *q);

/* Hand a finished frame to the device: as pieces to cfg->output_v when
 * its payload is a pending tail, else whole to cfg->output. */
void net_transmit(net_ctx *n, const uint8_t *frame, size_t len);
/* Put an Ethernet header (to `dst`, of `type`) in the 14 bytes in front of
 * `l3` and hand the frame to the device. */
void net_send_eth(net_ctx *n, const uint8_t dst[6], uint8_t *l3, size_t len, uint16_t type);

#endif
