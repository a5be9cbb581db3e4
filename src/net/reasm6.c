/* reasm6.c — IPv6's side of fragment reassembly (reasm.c; RFC 8200 §4.5):
 * a fragment in, checked for a whole header chain when it is the first
 * (RFC 7112); the whole packet rebuilt from the first fragment's
 * unfragmentable part and walked again; ICMPv6 time exceeded out when a
 * datagram times out. Atomic fragments (RFC 6946) never come here. */
#include "net/net.h"

#include <string.h>

#define IPV6_MAX_PAYLOAD 65535
#define PAYLOAD_LEN_OFF 4

void reasm6_input(net_ctx *n, const wire_ipv6 *ip, const wire_ipv6_ext *ext, const uint8_t *pkt)
{
    size_t pkt_len = WIRE_IPV6_HDR_LEN + ip->payload_len;
    wire_ipv6_ext upper;
    if (ext->frag.offset == 0 && wire_ipv6_first_fragment(ip, ext, &upper) == WIRE_TRUNCATED) {
        n->ctr->ip6_reasm_reqds++; /* RFC 7112: the chain must be in the first fragment */
        n->ctr->ip6_in_hdr_errors++;
        icmpv6_error(n, pkt, pkt_len, WIRE_ICMPV6_PARAM_PROBLEM, WIRE_ICMPV6_PP_CHAIN, 0);
        return;
    }
    reasm_piece p = {
        .key = {.family = REASM_IPV6, .id = ext->frag.id},
        .pkt = pkt,
        .hdr_len = ext->frag.data_off,
        .len = ext->payload_len,
        .off = ext->frag.offset,
        /* The per-fragment headers count in the whole packet's payload. */
        .max_end = (uint32_t)(IPV6_MAX_PAYLOAD - (ext->frag.hdr_off - WIRE_IPV6_HDR_LEN)),
        .more = ext->frag.more,
        .nh_off = (uint32_t)ext->frag.nh_off,
    };
    memcpy(p.key.src, ip->src, 16);
    memcpy(p.key.dst, ip->dst, 16);
    reasm_add(n, &p);
}

/* RFC 8200 §4.5: the whole packet is the first fragment's unfragmentable
 * part, its Next Header field now naming what the fragment header named,
 * and the fragmentable part; `pkt` holds exactly that, len bytes. It is
 * walked again (a fragment header inside is refused) and delivered, unless
 * it is Neighbour Discovery (RFC 6980 §5). */
void reasm6_deliver(net_ctx *n, const reasm_dgram *d, uint8_t next_header, uint8_t *pkt,
                    size_t len)
{
    wire_ipv6 ip;
    wire_ipv6_ext ext;
    if (d->nh_off >= len || len - WIRE_IPV6_HDR_LEN > IPV6_MAX_PAYLOAD) {
        n->ctr->ip6_in_hdr_errors++; /* reasm.c rules both out */
        return;
    }
    pkt[d->nh_off] = next_header;
    wire_put16(pkt + PAYLOAD_LEN_OFF, (uint16_t)(len - WIRE_IPV6_HDR_LEN));
    if (wire_ipv6_parse(pkt, len, &ip) != WIRE_OK) {
        n->ctr->ip6_in_hdr_errors++;
        return;
    }
    switch (wire_ipv6_walk(&ip, &ext)) {
    case WIRE_OK:
        if (!icmpv6_nd_fragmented(n, ext.proto, ext.payload, ext.payload_len))
            ipv6_deliver(n, &ip, ext.proto, ext.payload, ext.payload_len);
        break;
    case WIRE_PARAM_PROBLEM:
        ipv6_param_problem(n, pkt, &ip, &ext);
        break;
    default: /* malformed, or fragmented twice */
        n->ctr->ip6_in_hdr_errors++;
        break;
    }
}

/* ICMPv6 time exceeded, code 1, to the source, quoting the first fragment
 * as it came (RFC 8200 §4.5, RFC 4443 §3.3); nothing if it never came. */
void reasm6_time_exceeded(net_ctx *n, const reasm_dgram *d)
{
    const reasm_frag *first = d->frags;
    if (!first || first->off != 0)
        return;
    icmpv6_error(n, first->data, first->hdr_len + first->len, WIRE_ICMPV6_TIME_EXCEEDED,
                 WIRE_ICMPV6_TE_FRAGTIME, 0);
}
