/* icmpv6.c — ICMPv6 (RFC 4443) for our addresses: echo replies, errors
 * quoting our TCP segments handed to TCP, Neighbour Discovery's
 * solicitations and advertisements (ndisc.c) on Ethernet links; and the
 * errors the IPv6 layer sends (parameter problem, time exceeded), within
 * §2.4. */
#include "net/net.h"

#include <string.h>

#define HEADROOM 64 /* IPv6 and Ethernet headers go in front */

/* RFC 4443 §4.2: the reply comes from the address the request went to
 * when that is ours or impersonated (as its host would answer), else (a
 * group) from the one we would use towards the sender. NULL when we have
 * none usable. */
static const uint8_t *reply_source(const net_ctx *n, const wire_ipv6 *ip)
{
    if (addr6_usable(n, ip->dst) || ipv6_impersonated(n, ip->dst))
        return ip->dst;
    return ipv6_source_for(n, ip->src);
}

static void echo_reply(net_ctx *n, const wire_ipv6 *ip, const wire_icmpv6 *m)
{
    uint8_t *out = n->buf + HEADROOM;
    const uint8_t *from = reply_source(n, ip);
    if (!from)
        return;
    size_t len = wire_icmpv6_emit_echo(out, sizeof(n->buf) - HEADROOM, from, ip->src,
                                       WIRE_ICMPV6_ECHO_REPLY, (uint16_t)(m->body >> 16),
                                       (uint16_t)m->body, m->data, m->data_len);
    /* Counted once it goes (or waits for resolution); larger than the
     * MTU (a reassembled request), in fragments (frag.c). */
    if (len && ipv6_send_frag(n, from, ip->src, WIRE_IPPROTO_ICMPV6, IPV6_HOP_LIMIT, out, len))
        n->ctr->icmp6_out_echo_replies++;
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
 * address or an impersonated one and it carried TCP, TCP hears (and
 * validates it, RFC 5927). */
static void error_input(net_ctx *n, const wire_icmpv6 *m)
{
    wire_icmpv6_quote q;
    count_error(n, m->type);
    if (wire_icmpv6_parse_quote(m, &q) != WIRE_OK) {
        n->ctr->icmp6_in_errors++;
        return;
    }
    if (q.has_upper && q.next_header == WIRE_IPPROTO_UDP && addr6_usable(n, q.src)) {
        net_udp_icmp6(n, m, &q);
        return;
    }
    bool from_us = memcmp(q.src, n->cfg->ip6, 16) == 0 || ipv6_impersonated(n, q.src);
    if (!from_us || q.next_header != WIRE_IPPROTO_TCP || !q.has_upper)
        return;
    tcp_icmp_report r = {.family = SYNACK_AF_INET6, .type = m->type, .code = m->code,
                         .mtu = q.mtu, .lport = q.sport, .rport = q.dport, .seq = q.seq};
    r.rip.family = r.lip.family = SYNACK_AF_INET6;
    memcpy(r.rip.v6, q.dst, 16);
    memcpy(r.lip.v6, q.src, 16);
    tcp_icmp_error(n->tcp, &r);
}

void icmpv6_input(net_ctx *n, const wire_ipv6 *ip, const uint8_t *p, size_t len)
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
    bool ethernet = n->cfg->link != SYNACK_LINK_IP;
    if (m.type == WIRE_ICMPV6_ECHO_REQUEST && !wire_ipv6addr_is_unspecified(ip->src))
        echo_reply(n, ip, &m);
    else if (m.type == WIRE_ND_NEIGHBOR_SOLICIT && ethernet)
        nd_solicit_input(n, ip, &m);
    else if (m.type == WIRE_ND_NEIGHBOR_ADVERT && ethernet)
        nd_advert_input(n, ip, &m);
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

/* RFC 4443 §2.4(e.1), (e.2): is `ip` an ICMPv6 error message, or a
 * redirect? Its extension headers are skipped by length only
 * (wire_ipv6_skip_ext), so that one whose options the walk refused is
 * still recognised. A later fragment's data is no upper-layer header: it
 * cannot tell. An ICMPv6 header with not even its type byte is taken for
 * an error, unless it is a first fragment's, whose rest is in the next
 * one (as Linux's is_ineligible). */
static bool is_icmpv6_error(const wire_ipv6 *ip)
{
    uint8_t proto, first_frag;
    size_t off;
    if (wire_ipv6_skip_ext(ip, &proto, &off, &first_frag) != WIRE_OK ||
        proto != WIRE_IPPROTO_ICMPV6)
        return false;
    if (off >= ip->payload_len)
        return !first_frag;
    uint8_t type = ip->payload[off];
    return type < WIRE_ICMPV6_ECHO_REQUEST || type == WIRE_ND_REDIRECT;
}

/* §2.4(e.3)-(e.5)'s exceptions, which go even about a packet to a group:
 * packet too big, and a parameter problem (code 2) about an option whose
 * action bits are 10 (RFC 8200 §4.2); `pointer` names its type byte. */
static bool sent_to_groups_too(const uint8_t *pkt, size_t len, uint8_t type, uint8_t code,
                               uint32_t pointer)
{
    if (type == WIRE_ICMPV6_PACKET_TOO_BIG)
        return true;
    return type == WIRE_ICMPV6_PARAM_PROBLEM && code == WIRE_ICMPV6_PP_OPTION &&
           pointer < len && pkt[pointer] >> 6 == 2;
}

/* §2.4(e): the errors no one may send. A packet to a group is one to an
 * IPv6 multicast address (e.3) or one that came in a link-layer multicast
 * (e.4) or broadcast (e.5) frame. */
static bool error_forbidden(const net_ctx *n, const wire_ipv6 *ip, const uint8_t *pkt,
                            size_t len, uint8_t type, uint8_t code, uint32_t body)
{
    bool group = wire_ipv6addr_is_multicast(ip->dst) || n->l2_group;
    if (group && !sent_to_groups_too(pkt, len, type, code, body))
        return true;
    return wire_ipv6addr_is_unspecified(ip->src) || wire_ipv6addr_is_multicast(ip->src) ||
           is_icmpv6_error(ip);
}

void icmpv6_error(net_ctx *n, const uint8_t *pkt, size_t len, uint8_t type, uint8_t code,
                  uint32_t body)
{
    wire_ipv6 ip;
    if (wire_ipv6_parse(pkt, len, &ip) != WIRE_OK ||
        error_forbidden(n, &ip, pkt, len, type, code, body))
        return;
    const uint8_t *from = reply_source(n, &ip);
    if (!from)
        return;
    uint8_t *out = n->buf + HEADROOM;
    size_t olen = wire_icmpv6_emit_error(out, sizeof(n->buf) - HEADROOM, from, ip.src, type,
                                         code, body, pkt, len);
    if (!olen || !icmp_error_allowed(n))
        return;
    if (type == WIRE_ICMPV6_DEST_UNREACH)
        n->ctr->icmp6_out_dest_unreachs++;
    else if (type == WIRE_ICMPV6_TIME_EXCEEDED)
        n->ctr->icmp6_out_time_excds++;
    else if (type == WIRE_ICMPV6_PARAM_PROBLEM)
        n->ctr->icmp6_out_parm_problems++;
    ipv6_send_from(n, from, ip.src, WIRE_IPPROTO_ICMPV6, IPV6_HOP_LIMIT, out, olen);
}

/* Destination unreachable to `client` from `from`, quoting `quote` (a
 * rebuilt packet): rate-limited, counted once it goes. */
static void send_unreach(net_ctx *n, const uint8_t from[16], const uint8_t client[16],
                         const uint8_t *quote, size_t qlen, uint8_t code)
{
    uint8_t *out = n->buf + HEADROOM;
    size_t len = wire_icmpv6_emit_error(out, sizeof(n->buf) - HEADROOM, from, client,
                                        WIRE_ICMPV6_DEST_UNREACH, code, 0, quote, qlen);
    if (len && ipv6_send_from(n, from, client, WIRE_IPPROTO_ICMPV6, IPV6_HOP_LIMIT, out, len))
        n->ctr->icmp6_out_dest_unreachs++;
}

/* The IPv6 header of a packet `a->client` sent to `a->dst`, rebuilt. */
static void quote_header(uint8_t *quote, const icmp6_about *a, uint8_t proto, uint16_t len)
{
    wire_ipv6 ip = {.next_header = proto, .hop_limit = IPV6_HOP_LIMIT, .payload_len = len};
    memcpy(ip.src, a->client, 16);
    memcpy(ip.dst, a->dst, 16);
    wire_ipv6_emit(quote, WIRE_IPV6_HDR_LEN, &ip);
}

void icmpv6_unreach_syn(net_ctx *n, const icmp6_about *a, uint8_t code)
{
    const uint8_t *from = ipv6_source_for(n, a->client);
    if (!from || !icmp_error_allowed(n))
        return;
    /* The SYN rebuilt: its addresses, ports and sequence number are what
     * the sender matches the error with (RFC 5927 §4); options left out. */
    uint8_t quote[WIRE_IPV6_HDR_LEN + WIRE_TCP_HDR_LEN];
    quote_header(quote, a, WIRE_IPPROTO_TCP, WIRE_TCP_HDR_LEN);
    wire_tcp syn = {.sport = a->sport, .dport = a->dport, .seq = a->seq, .flags = SYNACK_SYN};
    wire_tcp_opts_clear(&syn.opt);
    uint8_t *seg = quote + WIRE_IPV6_HDR_LEN;
    wire_tcp_emit_header(seg, WIRE_TCP_HDR_LEN, &syn);
    wire_tcp_set_checksum6(seg, WIRE_TCP_HDR_LEN, a->client, a->dst);
    send_unreach(n, from, a->client, quote, sizeof quote, code);
}

void icmpv6_unreach_udp(net_ctx *n, const uint8_t from[16], const icmp6_about *a,
                        uint16_t udp_len, uint8_t code)
{
    if (!from)
        from = ipv6_source_for(n, a->client);
    if (!from || !icmp_error_allowed(n))
        return;
    /* The datagram's headers rebuilt (its payload is gone): addresses and
     * ports are what the sender matches the error with; the length is the
     * datagram's, the checksum 0, since it would cover bytes not quoted. */
    uint8_t quote[WIRE_IPV6_HDR_LEN + WIRE_UDP_HDR_LEN];
    quote_header(quote, a, WIRE_IPPROTO_UDP, udp_len);
    uint8_t *udp = quote + WIRE_IPV6_HDR_LEN;
    wire_put16(udp, a->sport);
    wire_put16(udp + 2, a->dport);
    wire_put16(udp + 4, udp_len);
    wire_put16(udp + 6, 0);
    send_unreach(n, from, a->client, quote, sizeof quote, code);
}
