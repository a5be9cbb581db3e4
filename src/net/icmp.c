/* icmp.c — RFC 792: answer echo requests (in fragments when a reassembled
 * one is over the MTU); hand errors about our TCP segments to TCP (which
 * decides whether to believe them) and about our UDP datagrams to UDP;
 * count the rest. */
#include "net/net.h"

bool icmp_error_allowed(net_ctx *n)
{
    const synack_sysctl *s = &n->cfg->net;
    uint64_t elapsed = n->now - n->icmp_refill_at;
    if (elapsed > 3600 * NS_PER_SEC)
        elapsed = 3600 * NS_PER_SEC; /* a full bucket either way; no overflow */
    uint64_t add = elapsed * s->icmp_msgs_per_sec / NS_PER_SEC;
    if (add) { /* a token bucket: per_sec a second, at most burst saved */
        uint64_t t = n->icmp_tokens + add;
        n->icmp_tokens = (uint32_t)(t > s->icmp_msgs_burst ? s->icmp_msgs_burst : t);
        n->icmp_refill_at = n->now;
    }
    if (n->icmp_tokens == 0) {
        n->ctr->icmp_out_rate_limited++;
        return false;
    }
    n->icmp_tokens--;
    return true;
}

/* An error quoting a datagram: if we sent it and it carried TCP, TCP hears. */
static void icmp_error_input(net_ctx *n, const wire_icmp *m)
{
    wire_icmp_quote q;
    if (m->type == WIRE_ICMP_DEST_UNREACH)
        n->ctr->icmp_in_dest_unreachs++;
    else if (m->type == WIRE_ICMP_TIME_EXCEEDED)
        n->ctr->icmp_in_time_excds++;
    else
        n->ctr->icmp_in_parm_probs++;
    if (wire_icmp_parse_quote(m, &q) != WIRE_OK) {
        n->ctr->icmp_in_errors++;
        return;
    }
    if (!ipv4_takes(n, q.src))
        return;
    if (q.proto == WIRE_IPPROTO_UDP) {
        net_udp_icmp4(n, m, &q);
        return;
    }
    if (q.proto != WIRE_IPPROTO_TCP)
        return;
    tcp_icmp_report r = {.family = SYNACK_AF_INET, .type = m->type, .code = m->code,
                         .mtu = q.next_hop_mtu, .rip = tcp_addr4(q.dst),
                         .lip = tcp_addr4(q.src), .lport = q.sport,
                         .rport = q.dport, .seq = q.seq};
    tcp_icmp_error(n->tcp, &r);
}

void icmp_input(net_ctx *n, uint32_t src, uint32_t dst, const uint8_t *p, size_t len)
{
    wire_icmp m;
    n->ctr->icmp_in_msgs++;
    wire_err e = wire_icmp_parse(p, len, &m);
    if (e != WIRE_OK) {
        n->ctr->icmp_in_errors++;
        if (e == WIRE_BAD_CSUM)
            n->ctr->icmp_in_csum_errors++;
        return;
    }
    if (m.type == WIRE_ICMP_DEST_UNREACH || m.type == WIRE_ICMP_TIME_EXCEEDED ||
        m.type == WIRE_ICMP_PARAM_PROBLEM) {
        icmp_error_input(n, &m);
        return;
    }
    if (m.type != WIRE_ICMP_ECHO_REQUEST)
        return;
    uint8_t *out = n->buf + 64;
    size_t room = sizeof(n->buf) - 64;
    size_t olen = wire_icmp_emit_echo(out, room, WIRE_ICMP_ECHO_REPLY, m.id, m.seq, m.data,
                                      m.data_len);
    /* Counted once it goes (or waits for resolution); larger than the
     * MTU (a reassembled request), in fragments (frag.c). */
    if (olen && ipv4_output_frag_from(n, dst, src, WIRE_IPPROTO_ICMP, out, olen))
        n->ctr->icmp_out_echo_reps++;
}

void icmp_unreach_about(net_ctx *n, uint32_t from, const icmp_about *a, uint8_t code)
{
    if (!icmp_error_allowed(n))
        return;
    uint8_t quote[WIRE_IPV4_HDR_LEN + 8];
    uint16_t len = a->proto == WIRE_IPPROTO_TCP ? WIRE_TCP_HDR_LEN : 8;
    wire_ipv4_emit(quote, sizeof quote, a->client, a->dst, a->proto,
                   (uint8_t)n->cfg->net.ip_default_ttl, 0, len);
    uint8_t *l4 = quote + WIRE_IPV4_HDR_LEN;
    wire_put16(l4, a->sport);
    wire_put16(l4 + 2, a->dport);
    wire_put32(l4 + 4, a->word); /* TCP: the sequence number; UDP: length, no checksum */
    uint8_t *out = n->buf + 64;
    size_t olen = wire_icmp_emit_error(out, sizeof(n->buf) - 64, WIRE_ICMP_DEST_UNREACH, code, 0,
                                       quote, sizeof quote);
    if (olen && ipv4_output_from(n, from, a->client, WIRE_IPPROTO_ICMP, out, olen))
        n->ctr->icmp_out_dest_unreachs++;
}
