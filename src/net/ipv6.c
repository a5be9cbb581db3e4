/* ipv6.c — IPv6 input and output (RFC 8200): packets for our addresses
 * (the configured one, the link-local one made from the MAC, once
 * Duplicate Address Detection passed; their solicited-node groups and
 * all-nodes) have their extension headers walked (a parameter problem
 * answered where RFC 8200 asks) and their fragments reassembled
 * (reasm6.c), then reach ICMPv6, which answers echo, does Neighbour
 * Discovery and hands errors to TCP, and TCP, which runs on the configured
 * address. Packets to impersonated addresses (imp6.c) are taken too. Output is routed (route6.c) and resolved through the neighbour
 * table (ndisc.c). */
#include "net/net.h"

#include <string.h>

bool ipv6_enabled(const net_ctx *n) { return !wire_ipv6addr_is_unspecified(n->cfg->ip6); }

/* A destination we take: one of our groups (net_init), or an address of
 * ours that passed DAD (RFC 4862 §5.4: not a tentative one). */
static bool accepts(const net_ctx *n, const uint8_t dst[16])
{
    for (int i = 0; i < 3; i++)
        if (memcmp(dst, n->groups6[i], 16) == 0)
            return true;
    return addr6_usable(n, dst);
}

bool ipv6_wants_mac(const net_ctx *n, const uint8_t mac[6])
{
    if (!ipv6_enabled(n) || mac[0] != 0x33 || mac[1] != 0x33)
        return false;
    for (int i = 0; i < 3; i++)
        if (memcmp(mac, n->group_macs6[i], 6) == 0)
            return true;
    return false;
}

void ipv6_param_problem(net_ctx *n, const uint8_t *pkt, const wire_ipv6 *ip,
                        const wire_ipv6_ext *ext)
{
    n->ctr->ip6_in_hdr_errors++;
    if (ext->problem.send_icmp)
        icmpv6_error(n, pkt, WIRE_IPV6_HDR_LEN + ip->payload_len,
                     WIRE_ICMPV6_PARAM_PROBLEM, ext->problem.code, ext->problem.pointer);
}

/* A fragment header that is not a fragment (offset 0, M clear): counted as
 * Linux counts it, and the packet processed on its own (RFC 6946 §4),
 * unless it is Neighbour Discovery (RFC 6980 §5). True: drop it. */
static bool atomic_fragment(net_ctx *n, const wire_ipv6_ext *ext)
{
    n->ctr->ip6_reasm_reqds++;
    n->ctr->ip6_reasm_oks++;
    return icmpv6_nd_fragmented(n, ext->proto, ext->payload, ext->payload_len);
}

void ipv6_input(net_ctx *n, const uint8_t *p, size_t len)
{
    wire_ipv6 ip;
    wire_ipv6_ext ext;
    if (!ipv6_enabled(n))
        return;
    n->ctr->ip6_in_receives++;
    if (wire_ipv6_parse(p, len, &ip) != WIRE_OK) {
        n->ctr->ip6_in_hdr_errors++;
        return;
    }
    wire_err e = wire_ipv6_walk(&ip, &ext);
    if (e != WIRE_OK && e != WIRE_FRAGMENT && e != WIRE_PARAM_PROBLEM) {
        n->ctr->ip6_in_hdr_errors++; /* refused silently (wire_ipv6_walk) */
        return;
    }
    /* Not ours: taken when impersonated (imp6.c), or for a transparent
     * UDP socket (udp.c). */
    if (!accepts(n, ip.dst) && !ipv6_impersonated(n, ip.dst) &&
        !net_udp_takes6(n, &ip, &ext, e)) {
        n->ctr->ip6_in_addr_errors++;
        return;
    }
    if (wire_ipv6addr_is_multicast(ip.src)) {
        n->ctr->ip6_in_hdr_errors++; /* RFC 4291 §2.7: never a source */
        return;
    }
    if (wire_ipv6addr_is_loopback(ip.src)) {
        n->ctr->ip_in_martians++; /* ::1 never leaves a host (RFC 4291 §2.5.3) */
        return;
    }
    if (e == WIRE_PARAM_PROBLEM) {
        if (ext.frag.present && (ext.frag.offset || ext.frag.more))
            n->ctr->ip6_reasm_reqds++; /* a bad fragment (§4.5), counted as Linux does */
        ipv6_param_problem(n, p, &ip, &ext);
    } else if (e == WIRE_FRAGMENT) {
        reasm6_input(n, &ip, &ext, p); /* delivers the packet once it is whole */
    } else {
        if (ext.frag.present && atomic_fragment(n, &ext))
            return;
        ipv6_deliver(n, &ip, ext.proto, ext.payload, ext.payload_len);
    }
}

/* TCP runs on the configured address (a link-local peer would need a
 * scope, an interface, that synack_addr does not carry) and on impersonated
 * ones, which only synack_listen_any listeners take (own = false). */
static void tcp6_input(net_ctx *n, const wire_ipv6 *ip, const uint8_t *p, size_t len)
{
    bool own = memcmp(ip->dst, n->cfg->ip6, 16) == 0;
    if (!own && !ipv6_impersonated(n, ip->dst)) {
        n->ctr->ip6_in_addr_errors++;
        return;
    }
    /* No TCP peer has no address, nor an IPv4 one in IPv6 clothing (RFC
     * 4942 §2.2; Linux's tcp_v6_conn_request drops those too), nor ours
     * (a LAND attack; our own NA may well carry it, so only here). */
    if (wire_ipv6addr_is_unspecified(ip->src) || wire_ipv6addr_is_v4_mapped(ip->src) || addr6_ours(n, ip->src)) {
        n->ctr->ip_in_martians++;
        return;
    }
    synack_addr from = {.family = SYNACK_AF_INET6}, to = {.family = SYNACK_AF_INET6};
    memcpy(from.v6, ip->src, 16);
    memcpy(to.v6, ip->dst, 16);
    tcp_input(n->tcp, &from, &to, p, len, own);
}

void ipv6_deliver(net_ctx *n, const wire_ipv6 *ip, uint8_t proto, const uint8_t *payload,
                  size_t len)
{
    switch (proto) {
    case WIRE_IPPROTO_ICMPV6:
        n->ctr->ip6_in_delivers++;
        icmpv6_input(n, ip, payload, len);
        break;
    case WIRE_IPPROTO_TCP:
        n->ctr->ip6_in_delivers++;
        tcp6_input(n, ip, payload, len);
        break;
    case WIRE_IPPROTO_UDP:
        n->ctr->ip6_in_delivers++;
        udp6_deliver(n, ip, payload, len);
        break;
    default:
        n->ctr->ip6_in_unknown_protos++;
        break;
    }
}

/* RFC 6437 §3: a TCP connection's packets carry one flow label, a keyed
 * hash of its addresses and ports (so the label tells an observer
 * nothing, and needs no per-connection state); everything else carries
 * none. */
static uint32_t flow_label(net_ctx *n, const uint8_t src[16], const uint8_t dst[16],
                           uint8_t next_header, const uint8_t *payload, size_t len)
{
    if (next_header != WIRE_IPPROTO_TCP || len < 4)
        return 0;
    uint8_t flow[36];
    memcpy(flow, src, 16);
    memcpy(flow + 16, dst, 16);
    memcpy(flow + 32, payload, 4); /* the ports */
    /* Segments come in trains: the last flow's label is kept, so a train
     * costs one hash instead of one per segment. */
    if (n->flow_last_label && memcmp(flow, n->flow_last, sizeof flow) == 0)
        return n->flow_last_label;
    memcpy(n->flow_last, flow, sizeof flow);
    n->flow_last_label = wire_ipv6_flow_label(siphash24(&n->flow_key, flow, sizeof flow));
    return n->flow_last_label;
}

/* The IPv6 header in front of `payload`: the packet. */
static uint8_t *write_header(net_ctx *n, const uint8_t src[16], const uint8_t dst[16],
                             uint8_t next_header, uint8_t hop_limit, uint8_t *payload, size_t len)
{
    wire_ipv6 h = {.next_header = next_header, .hop_limit = hop_limit, .payload_len = len,
                   .flow_label = flow_label(n, src, dst, next_header, payload, len)};
    memcpy(h.src, src, 16);
    memcpy(h.dst, dst, 16);
    uint8_t *pkt = payload - WIRE_IPV6_HDR_LEN;
    wire_ipv6_emit(pkt, WIRE_IPV6_HDR_LEN, &h);
    return pkt;
}

/* The same for a packet the upper layer asked for (Ip6OutRequests); NULL
 * (counted: Ip6FragFails, as Linux counts it) when it is too big for the
 * link: the MTU, or gso_max when the device cuts TCP segments itself (TAP
 * offload does IPv6 too: TUN_F_TSO6). Echo replies over the MTU are cut
 * by frag.c instead, and never come here. */
static uint8_t *put_header(net_ctx *n, const uint8_t src[16], const uint8_t dst[16],
                           uint8_t next_header, uint8_t hop_limit, uint8_t *payload, size_t len)
{
    const synack_config *cfg = n->cfg;
    if (len + WIRE_IPV6_HDR_LEN > (cfg->gso_max > cfg->mtu ? cfg->gso_max : cfg->mtu)) {
        n->ctr->ip6_frag_fails++;
        return NULL;
    }
    n->ctr->ip6_out_requests++;
    return write_header(n, src, dst, next_header, hop_limit, payload, len);
}

/* A finished packet to next hop `hop`: straight out on an IP link, to a
 * group's MAC (RFC 2464 §7: no resolution), else through the neighbour
 * table. */
static bool hop_out(net_ctx *n, const uint8_t hop[16], const uint8_t dst[16], uint8_t *pkt,
                    size_t len)
{
    if (n->cfg->link == SYNACK_LINK_IP) {
        net_transmit(n, pkt, len);
        return true;
    }
    if (wire_ipv6addr_is_multicast(dst)) {
        uint8_t mac[6];
        wire_ipv6addr_multicast_mac(mac, dst);
        net_send_eth(n, mac, pkt, len, WIRE_ETHERTYPE_IPV6);
        return true;
    }
    synack_addr a = {.family = SYNACK_AF_INET6};
    memcpy(a.v6, hop, 16);
    return neigh_output(n, &n->nd, &a, pkt, len);
}

void ipv6_output(net_ctx *n, const uint8_t dst_mac[6], const uint8_t src[16],
                 const uint8_t dst[16], uint8_t next_header, uint8_t hop_limit, uint8_t *payload,
                 size_t len)
{
    uint8_t *pkt = put_header(n, src, dst, next_header, hop_limit, payload, len);
    if (!pkt)
        return;
    if (n->cfg->link == SYNACK_LINK_IP)
        net_transmit(n, pkt, len + WIRE_IPV6_HDR_LEN);
    else
        net_send_eth(n, dst_mac, pkt, len + WIRE_IPV6_HDR_LEN, WIRE_ETHERTYPE_IPV6);
}

bool ipv6_output_hop(net_ctx *n, const uint8_t hop[16], const uint8_t src[16],
                     const uint8_t dst[16], uint8_t next_header, uint8_t hop_limit,
                     uint8_t *payload, size_t len)
{
    uint8_t *pkt = put_header(n, src, dst, next_header, hop_limit, payload, len);
    return pkt && hop_out(n, hop, dst, pkt, len + WIRE_IPV6_HDR_LEN);
}

bool ipv6_output_fragment(net_ctx *n, const uint8_t hop[16], const uint8_t src[16],
                          const uint8_t dst[16], uint8_t hop_limit, uint8_t *frag, size_t len)
{
    uint8_t *pkt = write_header(n, src, dst, WIRE_IPPROTO_FRAGMENT, hop_limit, frag, len);
    return hop_out(n, hop, dst, pkt, len + WIRE_IPV6_HDR_LEN);
}

bool ipv6_send_from(net_ctx *n, const uint8_t src[16], const uint8_t dst[16],
                    uint8_t next_header, uint8_t hop_limit, uint8_t *payload, size_t len)
{
    const uint8_t *hop = ipv6_next_hop(n, dst);
    if (!hop) {
        n->ctr->ip6_out_no_routes++;
        return false;
    }
    return ipv6_output_hop(n, hop, src, dst, next_header, hop_limit, payload, len);
}

void ipv6_send(net_ctx *n, const uint8_t dst[16], uint8_t next_header, uint8_t *payload,
               size_t len)
{
    const uint8_t *src = ipv6_source_for(n, dst);
    if (!src) {
        n->ctr->ip6_out_no_routes++; /* no usable address of ours (DAD) */
        return;
    }
    ipv6_send_from(n, src, dst, next_header, IPV6_HOP_LIMIT, payload, len);
}

void ipv6_send_tcp(net_ctx *n, const uint8_t src[16], const uint8_t dst[16], uint8_t *seg,
                   size_t len)
{
    if (!addr6_usable(n, src) && !ipv6_impersonated(n, src)) {
        n->ctr->ip6_out_no_routes++; /* ours, tentative or a duplicate (DAD) */
        return;
    }
    ipv6_send_from(n, src, dst, WIRE_IPPROTO_TCP, IPV6_HOP_LIMIT, seg, len);
}
