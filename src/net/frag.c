/* frag.c — output fragmentation, for the stack's own echo replies and for
 * UDP datagrams larger than the MTU (RFC 1122 §4.1.3.4 leaves UDP to IP).
 * An echo reply carries the request's data (RFC 792; RFC 4443 §4.2: it
 * MUST be returned whole), and a request that came in fragments, then
 * reassembled, may be larger than the link's MTU: `ping -s 3000`. Nothing
 * else but UDP is cut: TCP sizes its segments to the path, and the errors and
 * Neighbour Discovery messages the stack builds fit the minimum MTU.
 *
 *  - IPv4 (RFC 791 §2.3, §3.2): DF clear, one fresh identification for the
 *    datagram, (mtu - 20) & ~7 bytes of data a fragment, MF on all but the
 *    last.
 *  - IPv6 (RFC 8200 §4.5): the fixed header (the unfragmentable part: no
 *    extension headers go out here), then a fragment header, and
 *    (mtu - 48) & ~7 bytes of data a fragment. The identification is a
 *    keyed hash of the addresses plus a counter: unpredictable to others,
 *    and not reused soon (RFC 7739 §5.3).
 *
 * The payload lies in n->buf with headroom in front. Each fragment's
 * headers are written right in front of its data, over the end of the
 * data before it, which was sent already (or copied to wait for
 * resolution); ARP and ND build their own messages elsewhere, so nothing
 * else writes n->buf meanwhile. Counted as Linux counts: IpFragOKs /
 * Ip6FragOKs a datagram cut, IpFragCreates / Ip6FragCreates a fragment,
 * IpFragFails / Ip6FragFails a datagram that could not all go. */
#include "net/net.h"

#include <string.h>

#define FRAG6_HDR_LEN 8
#define IPV4_MAX_PAYLOAD (65535 - WIRE_IPV4_HDR_LEN)
/* The original packet's Payload Length bounds its fragmentable part; each
 * fragment's own header is not counted (RFC 8200 §4.5). */
#define IPV6_MAX_FRAGMENTABLE 65535

/* Data bytes a fragment carries behind `hdr` bytes of headers: what the
 * MTU leaves, a multiple of 8 (the MTU is at least 68: 16 bytes or more). */
static size_t chunk_len(const net_ctx *n, size_t hdr)
{
    return (n->cfg->mtu - hdr) & ~(size_t)7;
}

/* The fragment at `off` of a payload of `len` bytes: how many bytes. */
static size_t piece_len(size_t off, size_t len, size_t chunk)
{
    return len - off < chunk ? len - off : chunk;
}

bool ipv4_output_frag(net_ctx *n, uint32_t dst, uint8_t proto, uint8_t *payload, size_t len)
{
    return ipv4_output_frag_from(n, n->cfg->ip, dst, proto, payload, len);
}

bool ipv4_output_frag_from(net_ctx *n, uint32_t src, uint32_t dst, uint8_t proto,
                           uint8_t *payload, size_t len)
{
    const synack_config *cfg = n->cfg;
    uint32_t hop;
    if (len + WIRE_IPV4_HDR_LEN <= cfg->mtu)
        return ipv4_output_from(n, src, dst, proto, payload, len);
    if (len > IPV4_MAX_PAYLOAD) {
        n->ctr->ip_frag_fails++;
        return false;
    }
    if (!ipv4_route(n, dst, &hop))
        return false;
    size_t chunk = chunk_len(n, WIRE_IPV4_HDR_LEN);
    uint16_t id = n->ip_id++;
    for (size_t off = 0; off < len; off += chunk) {
        size_t flen = piece_len(off, len, chunk);
        uint8_t *pkt = payload + off - WIRE_IPV4_HDR_LEN;
        /* Cannot fail: flen and off are within the limits checked above. */
        wire_ipv4_emit(pkt, WIRE_IPV4_HDR_LEN, src, dst, proto,
                       (uint8_t)cfg->net.ip_default_ttl, id, flen);
        wire_ipv4_set_fragment(pkt, off, off + flen < len);
        n->ctr->ip_frag_creates++;
        if (!ipv4_transmit(n, hop, pkt, WIRE_IPV4_HDR_LEN + flen)) {
            n->ctr->ip_frag_fails++;
            return false;
        }
    }
    n->ctr->ip_frag_oks++;
    return true;
}

/* RFC 7739 §5.3: a keyed hash of the addresses, plus a counter. */
static uint32_t frag6_id(net_ctx *n, const uint8_t src[16], const uint8_t dst[16])
{
    uint8_t pair[32];
    memcpy(pair, src, 16);
    memcpy(pair + 16, dst, 16);
    return (uint32_t)siphash24(&n->frag_key, pair, sizeof pair) + n->frag6_count++;
}

bool ipv6_send_frag(net_ctx *n, const uint8_t src[16], const uint8_t dst[16],
                    uint8_t next_header, uint8_t hop_limit, uint8_t *payload, size_t len)
{
    if (len + WIRE_IPV6_HDR_LEN <= n->cfg->mtu)
        return ipv6_send_from(n, src, dst, next_header, hop_limit, payload, len);
    const uint8_t *hop = ipv6_next_hop(n, dst);
    if (!hop) {
        n->ctr->ip6_out_no_routes++;
        return false;
    }
    if (len > IPV6_MAX_FRAGMENTABLE) {
        n->ctr->ip6_frag_fails++;
        return false;
    }
    size_t chunk = chunk_len(n, WIRE_IPV6_HDR_LEN + FRAG6_HDR_LEN);
    uint32_t id = frag6_id(n, src, dst);
    n->ctr->ip6_out_requests++; /* one datagram asked for */
    for (size_t off = 0; off < len; off += chunk) {
        size_t flen = piece_len(off, len, chunk);
        uint8_t *frag = payload + off - FRAG6_HDR_LEN;
        /* Cannot fail: off is a multiple of 8 below 65528. */
        wire_ipv6_emit_fragment(frag, FRAG6_HDR_LEN, next_header, off, off + flen < len, id);
        n->ctr->ip6_frag_creates++;
        if (!ipv6_output_fragment(n, hop, src, dst, hop_limit, frag, FRAG6_HDR_LEN + flen)) {
            n->ctr->ip6_frag_fails++;
            return false;
        }
    }
    n->ctr->ip6_frag_oks++;
    return true;
}
