/* ipv6.c — IPv6 fixed header and extension headers (RFC 8200), flow labels
 * (RFC 6437).
 *
 * The walk reads one header at a time from the payload, checking that its
 * first two bytes, then its whole length, lie inside the payload before
 * reading any of it; options are walked the same way inside their header.
 * Offsets it reports count from the start of the IPv6 header (payload
 * offset + 40), the unit of an ICMPv6 parameter problem's pointer. */
#include "wire/wire.h"

#include <string.h>

#define OPT_PAD1 0
#define FRAG_HDR_LEN 8
#define FRAG_OFFSET_MASK 0xfff8 /* the 13-bit offset, already times 8 */
#define FRAG_M 0x0001
#define PAYLOAD_LEN_OFF 4       /* the fixed header's Payload Length field */
#define NEXT_HEADER_OFF 6       /* the fixed header's Next Header field */

wire_err wire_ipv6_parse(const uint8_t *p, size_t len, wire_ipv6 *out)
{
    if (len < WIRE_IPV6_HDR_LEN)
        return WIRE_TRUNCATED;
    if (p[0] >> 4 != 6)
        return WIRE_BAD_HEADER;
    size_t payload_len = wire_get16(p + PAYLOAD_LEN_OFF);
    if (payload_len > len - WIRE_IPV6_HDR_LEN)
        return WIRE_TRUNCATED;
    uint32_t first = wire_get32(p);
    out->traffic_class = (uint8_t)(first >> 20);
    out->flow_label = first & 0xfffff;
    out->next_header = p[NEXT_HEADER_OFF];
    out->hop_limit = p[7];
    memcpy(out->src, p + 8, 16);
    memcpy(out->dst, p + 24, 16);
    out->payload = p + WIRE_IPV6_HDR_LEN;
    out->payload_len = payload_len;
    return WIRE_OK;
}

size_t wire_ipv6_emit(uint8_t *buf, size_t cap, const wire_ipv6 *h)
{
    if (cap < WIRE_IPV6_HDR_LEN || h->flow_label > 0xfffff || h->payload_len > 0xffff)
        return 0;
    wire_put32(buf, 6u << 28 | (uint32_t)h->traffic_class << 20 | h->flow_label);
    wire_put16(buf + PAYLOAD_LEN_OFF, (uint16_t)h->payload_len);
    buf[NEXT_HEADER_OFF] = h->next_header;
    buf[7] = h->hop_limit;
    memcpy(buf + 8, h->src, 16);
    memcpy(buf + 24, h->dst, 16);
    return WIRE_IPV6_HDR_LEN;
}

size_t wire_ipv6_emit_fragment(uint8_t *buf, size_t cap, uint8_t next_header, size_t offset,
                               int more, uint32_t id)
{
    if (cap < FRAG_HDR_LEN || offset % 8 != 0 || offset > FRAG_OFFSET_MASK)
        return 0;
    buf[0] = next_header;
    buf[1] = 0;
    wire_put16(buf + 2, (uint16_t)(offset | (more ? FRAG_M : 0)));
    wire_put32(buf + 4, id);
    return FRAG_HDR_LEN;
}

uint32_t wire_ipv6_flow_label(uint64_t hash)
{
    /* 1 .. 2^20 - 1: the remainder depends on every bit of the hash, and
     * for a uniform 64-bit hash its bias is below 2^-44. */
    return (uint32_t)(hash % 0xfffffu) + 1;
}

/* ------------------------------------------------------------ the walk */

static int is_multicast(const uint8_t a[16]) { return a[0] == 0xff; }

static int is_unspecified(const uint8_t a[16])
{
    for (int i = 0; i < 16; i++)
        if (a[i])
            return 0;
    return 1;
}

/* Record a parameter problem. `always` is the one case RFC 4443 §2.4(e.3)
 * lets through to a multicast destination: an option whose action is 10. */
static wire_err problem(const wire_ipv6 *ip, wire_ipv6_ext *out, uint8_t code, size_t pointer,
                        int always)
{
    int send = !is_multicast(ip->src) && !is_unspecified(ip->src) &&
               (always || !is_multicast(ip->dst));
    out->problem.send_icmp = (uint8_t)send;
    out->problem.code = code;
    out->problem.pointer = (uint32_t)pointer;
    return WIRE_PARAM_PROBLEM;
}

/* The options of a hop-by-hop or destination options header `h` of `len`
 * bytes at payload offset `at` (RFC 8200 §4.2). */
static wire_err walk_options(const wire_ipv6 *ip, const uint8_t *h, size_t len, size_t at,
                             wire_ipv6_ext *out)
{
    size_t i = 2;
    while (i < len) {
        uint8_t type = h[i];
        if (type == OPT_PAD1) {
            i++;
            continue;
        }
        if (len - i < 2 || h[i + 1] > len - i - 2)
            return WIRE_BAD_OPTIONS;
        size_t opt_len = 2 + (size_t)h[i + 1];
        size_t pointer = WIRE_IPV6_HDR_LEN + at + i;
        switch (type >> 6) { /* the action bits; PadN's are 00 */
        case 0: /* PadN, or unknown: skip over it */
            break;
        case 1: /* discard silently */
            problem(ip, out, WIRE_ICMPV6_PP_OPTION, pointer, 0);
            out->problem.send_icmp = 0;
            return WIRE_PARAM_PROBLEM;
        case 2: /* discard, tell the source even if we were multicast */
            return problem(ip, out, WIRE_ICMPV6_PP_OPTION, pointer, 1);
        default: /* discard, tell the source unless we were multicast */
            return problem(ip, out, WIRE_ICMPV6_PP_OPTION, pointer, 0);
        }
        i += opt_len;
    }
    return WIRE_OK;
}

/* The fragment header `h` at payload offset `at`, named by the Next Header
 * field at `nh_off` (RFC 8200 §4.5). WIRE_OK means an atomic fragment:
 * walk on. */
static wire_err fragment(const wire_ipv6 *ip, const uint8_t *h, size_t at, size_t nh_off,
                         wire_ipv6_ext *out)
{
    uint16_t word = wire_get16(h + 2);
    out->frag.present = 1;
    out->frag.more = word & FRAG_M;
    out->frag.offset = word & FRAG_OFFSET_MASK;
    out->frag.id = wire_get32(h + 4);
    out->frag.hdr_off = WIRE_IPV6_HDR_LEN + at;
    out->frag.nh_off = nh_off;
    out->frag.data_off = WIRE_IPV6_HDR_LEN + at + FRAG_HDR_LEN;
    if (out->frag.offset == 0 && !out->frag.more)
        return WIRE_OK;

    size_t data_len = ip->payload_len - at - FRAG_HDR_LEN;
    out->proto = h[0];
    out->proto_off = WIRE_IPV6_HDR_LEN + at;
    out->upper_off = out->frag.data_off;
    out->payload = ip->payload + at + FRAG_HDR_LEN;
    out->payload_len = data_len;
    if (out->frag.more && data_len % 8 != 0)
        return problem(ip, out, WIRE_ICMPV6_PP_HEADER, PAYLOAD_LEN_OFF, 0);
    /* The reassembled payload: per-fragment headers after the fixed one,
     * then the fragmentable part up to this fragment's end. */
    if (at + (size_t)out->frag.offset + data_len > 0xffff)
        return problem(ip, out, WIRE_ICMPV6_PP_HEADER, WIRE_IPV6_HDR_LEN + at + 2, 0);
    return WIRE_FRAGMENT;
}

/* An extension header's length in bytes, once its first two are known to be
 * there. */
static size_t ext_len(uint8_t type, const uint8_t *h)
{
    return type == WIRE_IPPROTO_FRAGMENT ? FRAG_HDR_LEN : ((size_t)h[1] + 1) * 8;
}

static int is_upper(uint8_t type)
{
    return type == WIRE_IPPROTO_TCP || type == WIRE_IPPROTO_UDP ||
           type == WIRE_IPPROTO_ICMPV6 || type == WIRE_IPPROTO_NONE;
}

static int is_ext(uint8_t type)
{
    return type == WIRE_IPPROTO_HOPOPTS || type == WIRE_IPPROTO_DSTOPTS ||
           type == WIRE_IPPROTO_ROUTING || type == WIRE_IPPROTO_FRAGMENT;
}

/* One extension header `type` at payload offset `at`, `len` bytes, all in
 * the payload. WIRE_OK: go on to the next. */
static wire_err one_header(const wire_ipv6 *ip, uint8_t type, size_t at, size_t len,
                           size_t nh_off, wire_ipv6_ext *out)
{
    const uint8_t *h = ip->payload + at;
    switch (type) {
    case WIRE_IPPROTO_HOPOPTS:
    case WIRE_IPPROTO_DSTOPTS:
        return walk_options(ip, h, len, at, out);
    case WIRE_IPPROTO_ROUTING:
        /* Segments left 0: we are the final destination, ignore it. We
         * forward nothing, so any other value names a hop we cannot be. */
        if (h[3] != 0)
            return problem(ip, out, WIRE_ICMPV6_PP_HEADER, WIRE_IPV6_HDR_LEN + at + 2, 0);
        return WIRE_OK;
    default: /* WIRE_IPPROTO_FRAGMENT */
        return fragment(ip, h, at, nh_off, out);
    }
}

wire_err wire_ipv6_walk(const wire_ipv6 *ip, wire_ipv6_ext *out)
{
    memset(out, 0, sizeof(*out));
    uint8_t type = ip->next_header;
    size_t nh_off = NEXT_HEADER_OFF;
    size_t at = 0; /* offset in the payload of the header `type` names */
    for (;;) {
        out->proto = type;
        out->proto_off = nh_off;
        out->upper_off = WIRE_IPV6_HDR_LEN + at;
        out->payload = ip->payload + at;
        out->payload_len = ip->payload_len - at;
        if (is_upper(type))
            return WIRE_OK;
        /* Unknown, or a hop-by-hop header not right after the fixed one. */
        if (!is_ext(type) || (type == WIRE_IPPROTO_HOPOPTS && at != 0))
            return problem(ip, out, WIRE_ICMPV6_PP_NEXTHDR, nh_off, 0);
        if (out->count == WIRE_IPV6_MAX_EXT)
            return WIRE_BAD_HEADER;
        if (ip->payload_len - at < 2)
            return WIRE_TRUNCATED;
        size_t len = ext_len(type, ip->payload + at);
        if (len > ip->payload_len - at)
            return WIRE_TRUNCATED;
        out->count++;
        wire_err err = one_header(ip, type, at, len, nh_off, out);
        if (err != WIRE_OK)
            return err;
        nh_off = WIRE_IPV6_HDR_LEN + at;
        type = ip->payload[at];
        at += len;
    }
}

/* ------------------------------------------------------------ the skip */

/* The length of a header wire_ipv6_skip_ext skips, its first two bytes at
 * `h`: AH counts 4-byte units minus 2 (RFC 4302 §2.2), the others as the
 * walk does. */
static size_t skip_len(uint8_t type, const uint8_t *h)
{
    return type == WIRE_IPPROTO_AH ? ((size_t)h[1] + 2) * 4 : ext_len(type, h);
}

static int skips(uint8_t type)
{
    return is_ext(type) || type == WIRE_IPPROTO_AH;
}

wire_err wire_ipv6_skip_ext(const wire_ipv6 *ip, uint8_t *proto, size_t *off,
                            uint8_t *first_frag)
{
    uint8_t type = ip->next_header;
    size_t at = 0;
    *first_frag = 0;
    /* Each header is at least 8 bytes long, so this ends within the payload. */
    while (skips(type)) {
        if (ip->payload_len - at < 2)
            return WIRE_TRUNCATED;
        const uint8_t *h = ip->payload + at;
        size_t len = skip_len(type, h);
        if (len > ip->payload_len - at)
            return WIRE_TRUNCATED;
        if (type == WIRE_IPPROTO_FRAGMENT) {
            uint16_t word = wire_get16(h + 2);
            if (word & FRAG_OFFSET_MASK) {
                *proto = h[0];
                *off = at + len;
                return WIRE_FRAGMENT;
            }
            *first_frag |= (uint8_t)(word & FRAG_M);
        }
        type = h[0];
        at += len;
    }
    *proto = type;
    *off = at;
    return WIRE_OK;
}

/* ------------------------------------------------------------ first fragments */

/* The bytes an upper-layer header takes, as far as the first `have` bytes
 * tell (RFC 7112 wants all of it in the first fragment): TCP with its
 * options, UDP's 8, ICMPv6's 8 (type, code, checksum and the 4-byte body). */
static size_t upper_hdr_len(uint8_t proto, const uint8_t *p, size_t have)
{
    switch (proto) {
    case WIRE_IPPROTO_TCP:
        if (have < WIRE_TCP_HDR_LEN)
            return WIRE_TCP_HDR_LEN;
        return (size_t)(p[12] >> 4) * 4 > WIRE_TCP_HDR_LEN ? (size_t)(p[12] >> 4) * 4
                                                           : WIRE_TCP_HDR_LEN;
    case WIRE_IPPROTO_UDP:
    case WIRE_IPPROTO_ICMPV6:
        return 8;
    default: /* no next header */
        return 0;
    }
}

wire_err wire_ipv6_first_fragment(const wire_ipv6 *ip, const wire_ipv6_ext *ext,
                                  wire_ipv6_ext *upper)
{
    wire_ipv6 rest = *ip; /* the fragmentable part, as if it followed the fixed header */
    rest.next_header = ext->proto;
    rest.payload = ext->payload;
    rest.payload_len = ext->payload_len;
    wire_err e = wire_ipv6_walk(&rest, upper);
    if (e == WIRE_OK && upper->payload_len < upper_hdr_len(upper->proto, upper->payload,
                                                            upper->payload_len))
        return WIRE_TRUNCATED;
    return e;
}
