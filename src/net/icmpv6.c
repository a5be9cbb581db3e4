/* icmpv6.c — ICMPv6 (RFC 4443) for our addresses: echo replies, and
 * neighbour advertisements answering solicitations for our addresses
 * (RFC 4861 §7.2.4), so a neighbour can resolve and ping us; and the errors
 * the IPv6 layer sends (parameter problem, time exceeded), within §2.4. */
#include "net/net.h"

#include <string.h>

#define HEADROOM 64 /* IPv6 and Ethernet headers go in front */

/* RFC 4443 §4.2: the reply comes from the address the request went to
 * when that is ours, else from the address on the sender's side. */
static const uint8_t *reply_source(const net_ctx *n, const wire_ipv6 *ip)
{
    if (memcmp(ip->dst, n->cfg->ip6, 16) == 0 || memcmp(ip->dst, n->ll6, 16) == 0)
        return ip->dst;
    return wire_ipv6addr_is_link_local(ip->src) ? n->ll6 : n->cfg->ip6;
}

static void echo_reply(net_ctx *n, const uint8_t *src_mac, const wire_ipv6 *ip,
                       const wire_icmpv6 *m)
{
    uint8_t *out = n->buf + HEADROOM;
    const uint8_t *from = reply_source(n, ip);
    size_t len = wire_icmpv6_emit_echo(out, sizeof(n->buf) - HEADROOM, from, ip->src,
                                       WIRE_ICMPV6_ECHO_REPLY, (uint16_t)(m->body >> 16),
                                       (uint16_t)m->body, m->data, m->data_len);
    if (!len || !src_mac)
        return;
    n->ctr->icmp6_out_echo_replies++;
    ipv6_output(n, src_mac, from, ip->src, WIRE_IPPROTO_ICMPV6, 64, out, len);
}

/* A solicitation for one of our addresses: advertise it (§7.2.4), to the
 * solicitor, or to all nodes for duplicate address detection (§7.2.4:
 * an unspecified source). */
static void neighbour_solicited(net_ctx *n, const uint8_t *src_mac, const wire_ipv6 *ip,
                                const wire_icmpv6 *m)
{
    wire_nd_ns ns;
    wire_nd_opts o;
    n->ctr->icmp6_in_neigh_solicits++;
    if (wire_nd_validate(m, ip->src, ip->dst, ip->hop_limit) != WIRE_ND_VALID ||
        wire_nd_parse_ns(m, &ns) != WIRE_OK ||
        wire_nd_parse_options(ns.opts, ns.opts_len, &o) != WIRE_OK) {
        n->ctr->icmp6_in_errors++;
        return;
    }
    if (memcmp(ns.target, n->cfg->ip6, 16) != 0 && memcmp(ns.target, n->ll6, 16) != 0)
        return;
    bool dad = wire_ipv6addr_is_unspecified(ip->src);
    const uint8_t *to = dad ? n->groups6[0] : ip->src; /* all-nodes */
    const uint8_t *mac = dad ? n->group_macs6[0] : o.has_slla ? o.slla : src_mac;
    uint8_t flags = WIRE_ND_NA_OVERRIDE | (dad ? 0 : WIRE_ND_NA_SOLICITED);
    uint8_t *out = n->buf + HEADROOM;
    size_t len = wire_nd_emit_na(out, sizeof(n->buf) - HEADROOM, ns.target, to, flags,
                                 ns.target, n->cfg->mac);
    if (!len || !mac)
        return;
    n->ctr->icmp6_out_neigh_adverts++;
    ipv6_output(n, mac, ns.target, to, WIRE_IPPROTO_ICMPV6, 255, out, len);
}

/* Count an error message by type. */
static void count_error(net_ctx *n, uint8_t type)
{
    switch (type) {
    case WIRE_ICMPV6_DEST_UNREACH: n->ctr->icmp6_in_dest_unreachs++; break;
    case WIRE_ICMPV6_PACKET_TOO_BIG: n->ctr->icmp6_in_pkt_too_bigs++; break;
    case WIRE_ICMPV6_TIME_EXCEEDED: n->ctr->icmp6_in_time_excds++; break;
    default: n->ctr->icmp6_in_parm_problems++; break;
    }
}

/* An error quoting a packet (RFC 4443 §2.4(b)): if we sent it from our
 * address and it carried TCP, TCP hears (and validates it, RFC 5927). */
static void error_input(net_ctx *n, const wire_icmpv6 *m)
{
    wire_icmpv6_quote q;
    count_error(n, m->type);
    if (wire_icmpv6_parse_quote(m, &q) != WIRE_OK) {
        n->ctr->icmp6_in_errors++;
        return;
    }
    if (memcmp(q.src, n->cfg->ip6, 16) != 0 || q.next_header != WIRE_IPPROTO_TCP || !q.has_upper)
        return;
    tcp_icmp_report r = {.family = SYNACK_AF_INET6, .type = m->type, .code = m->code,
                         .mtu = q.mtu, .lport = q.sport, .rport = q.dport, .seq = q.seq};
    r.rip.family = SYNACK_AF_INET6;
    memcpy(r.rip.v6, q.dst, 16);
    tcp_icmp_error(n->tcp, &r);
}

void icmpv6_input(net_ctx *n, const uint8_t *src_mac, const wire_ipv6 *ip, const uint8_t *p,
                  size_t len)
{
    wire_icmpv6 m;
    n->ctr->icmp6_in_msgs++;
    wire_err e = wire_icmpv6_parse(p, len, ip->src, ip->dst, &m);
    if (e != WIRE_OK) {
        n->ctr->icmp6_in_errors++;
        if (e == WIRE_BAD_CSUM)
            n->ctr->icmp6_in_csum_errors++;
        return;
    }
    if (m.type == WIRE_ICMPV6_ECHO_REQUEST && !wire_ipv6addr_is_unspecified(ip->src))
        echo_reply(n, src_mac, ip, &m);
    else if (m.type == WIRE_ND_NEIGHBOR_SOLICIT && n->cfg->link != SYNACK_LINK_IP)
        neighbour_solicited(n, src_mac, ip, &m);
    else if (m.type >= WIRE_ICMPV6_DEST_UNREACH && m.type <= WIRE_ICMPV6_PARAM_PROBLEM)
        error_input(n, &m);
}

bool icmpv6_nd_fragmented(net_ctx *n, uint8_t proto, const uint8_t *p, size_t len)
{
    if (proto != WIRE_IPPROTO_ICMPV6 || len == 0 || p[0] < WIRE_ND_ROUTER_SOLICIT ||
        p[0] > WIRE_ND_REDIRECT)
        return false;
    n->ctr->icmp6_in_errors++;
    return true;
}

/* RFC 4443 §2.4(e.1): is `ip` an ICMPv6 error message? Looked for through
 * a first fragment's fragment header too; a later fragment's data is not
 * the upper-layer header, so it cannot tell. */
static bool is_icmpv6_error(const wire_ipv6 *ip)
{
    wire_ipv6_ext ext, upper;
    wire_err e = wire_ipv6_walk(ip, &ext);
    if (ext.frag.offset != 0)
        return false;
    if (e == WIRE_FRAGMENT) {
        if (wire_ipv6_first_fragment(ip, &ext, &upper) != WIRE_OK)
            return false;
        ext = upper;
    }
    return ext.proto == WIRE_IPPROTO_ICMPV6 && ext.payload_len > 0 &&
           ext.payload[0] < WIRE_ICMPV6_ECHO_REQUEST;
}

/* §2.4(e): the errors no one may send. */
static bool error_forbidden(const wire_ipv6 *ip, uint8_t type, uint8_t code)
{
    bool option = type == WIRE_ICMPV6_PARAM_PROBLEM && code == WIRE_ICMPV6_PP_OPTION;
    return wire_ipv6addr_is_unspecified(ip->src) || wire_ipv6addr_is_multicast(ip->src) ||
           (wire_ipv6addr_is_multicast(ip->dst) && !option) || is_icmpv6_error(ip);
}

/* The one place ICMPv6 errors leave: replies still go straight back to the
 * sender's MAC, until a neighbour cache exists. */
static void error_send(net_ctx *n, const uint8_t *dst_mac, const uint8_t *from,
                       const uint8_t *to, uint8_t *msg, size_t len)
{
    ipv6_output(n, dst_mac, from, to, WIRE_IPPROTO_ICMPV6, 64, msg, len);
}

void icmpv6_error(net_ctx *n, const uint8_t *dst_mac, const uint8_t *pkt, size_t len,
                  uint8_t type, uint8_t code, uint32_t body)
{
    wire_ipv6 ip;
    if (wire_ipv6_parse(pkt, len, &ip) != WIRE_OK || error_forbidden(&ip, type, code))
        return;
    if (!dst_mac && n->cfg->link != SYNACK_LINK_IP)
        return;
    const uint8_t *from = reply_source(n, &ip);
    uint8_t *out = n->buf + HEADROOM;
    size_t olen = wire_icmpv6_emit_error(out, sizeof(n->buf) - HEADROOM, from, ip.src, type,
                                         code, body, pkt, len);
    if (!olen || !icmp_error_allowed(n))
        return;
    if (type == WIRE_ICMPV6_TIME_EXCEEDED)
        n->ctr->icmp6_out_time_excds++;
    else if (type == WIRE_ICMPV6_PARAM_PROBLEM)
        n->ctr->icmp6_out_parm_problems++;
    error_send(n, dst_mac, from, ip.src, out, olen);
}
