/* reasm4.c — IPv4's side of fragment reassembly (reasm.c): a fragment in,
 * and ICMP time exceeded out when a datagram times out (RFC 792). */
#include "net/net.h"

#include <string.h>

#define IPV4_MAX_LEN 65535

void reasm4_input(net_ctx *n, const wire_ipv4 *ip, const uint8_t *hdr)
{
    reasm_piece p = {
        .key = {.family = REASM_IPV4, .proto = ip->proto, .id = ip->id},
        .pkt = hdr,
        .hdr_len = ip->hdr_len,
        .len = ip->payload_len,
        .off = ip->frag_offset,
        .max_end = IPV4_MAX_LEN - WIRE_IPV4_HDR_LEN,
        .more = ip->more_frags,
    };
    wire_put32(p.key.src, ip->src);
    wire_put32(p.key.dst, ip->dst);
    reasm_add(n, &p);
}

/* ICMP time exceeded, code 1, quoting the first fragment's header and the
 * first 8 bytes of its data (RFC 792). Never about an ICMP error, nor
 * about a datagram that came as a link-layer broadcast or multicast
 * (RFC 1122 §3.2.2, as Linux's icmp_send). */
void reasm4_time_exceeded(net_ctx *n, const reasm_dgram *d)
{
    const reasm_frag *first = d->frags;
    if (!first || first->off != 0 || n->l2_group)
        return;
    const uint8_t *data = first->data + first->hdr_len;
    if (d->key.proto == WIRE_IPPROTO_ICMP && data[0] != WIRE_ICMP_ECHO_REQUEST &&
        data[0] != WIRE_ICMP_ECHO_REPLY)
        return;
    size_t quote = first->hdr_len + (first->len < 8 ? first->len : 8);
    uint8_t *out = n->buf + 64;
    size_t len = wire_icmp_emit_error(out, sizeof(n->buf) - 64, WIRE_ICMP_TIME_EXCEEDED,
                                      WIRE_ICMP_EXC_FRAGTIME, 0, first->data, quote);
    if (!len || !icmp_error_allowed(n))
        return;
    n->ctr->icmp_out_time_excds++;
    ipv4_output(n, wire_get32(d->key.src), WIRE_IPPROTO_ICMP, out, len);
}
