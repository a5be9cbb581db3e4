/* fuzz_ipv6.c — libFuzzer target: the IPv6 parser and extension-header walk.
 *
 * Each input is one IPv6 packet (no link header), copied to an exact-size
 * buffer so any read past it is caught. Beyond "no crash, no read out of
 * bounds", every result must be consistent with the bytes:
 *  - a parsed header re-emits to the same 40 bytes;
 *  - the walk's ranges stay inside the payload and end where it ends;
 *    offsets grow along the chain; a parameter problem's pointer names a
 *    byte of the packet; an error is never offered to a multicast
 *    destination except for an option with action 10 (RFC 4443 §2.4(e));
 *  - skipping the extension headers by length (wire_ipv6_skip_ext) ends
 *    inside the payload, and where the walk reached the upper layer the
 *    skip agrees with it;
 *  - a TCP segment that parses gets a checksum over the IPv6 pseudo-header
 *    that then verifies.
 * Seeds: tests/fuzz/corpus_ipv6. Build: make fuzz. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

static void check(int ok)
{
    if (!ok)
        __builtin_trap();
}

static int is_upper(uint8_t p)
{
    return p == WIRE_IPPROTO_TCP || p == WIRE_IPPROTO_UDP || p == WIRE_IPPROTO_ICMPV6 ||
           p == WIRE_IPPROTO_NONE;
}

/* The view of the upper layer (or fragment data) must be the tail of the
 * payload, starting after the Next Header field that named it. */
static void check_range(const uint8_t *pkt, const wire_ipv6 *ip, const wire_ipv6_ext *x)
{
    size_t end = WIRE_IPV6_HDR_LEN + ip->payload_len;
    check(x->upper_off >= WIRE_IPV6_HDR_LEN && x->upper_off <= end);
    check(x->payload == pkt + x->upper_off);
    check(x->upper_off + x->payload_len == end);
    check(x->proto_off < x->upper_off);
    check(x->count <= WIRE_IPV6_MAX_EXT);
    if (x->count == 0)
        check(x->proto_off == 6 && x->upper_off == WIRE_IPV6_HDR_LEN);
    if (x->frag.present) {
        check(x->frag.nh_off < x->frag.hdr_off);
        check(x->frag.data_off == x->frag.hdr_off + 8 && x->frag.data_off <= end);
        check((x->frag.offset & 7) == 0 && x->frag.more <= 1);
    }
}

static void check_walk(const uint8_t *pkt, const wire_ipv6 *ip)
{
    wire_ipv6_ext x;
    wire_err e = wire_ipv6_walk(ip, &x);
    switch (e) {
    case WIRE_OK:
        check_range(pkt, ip, &x);
        check(is_upper(x.proto) && pkt[x.proto_off] == x.proto);
        break;
    case WIRE_FRAGMENT:
        check_range(pkt, ip, &x);
        check(x.frag.present && (x.frag.more || x.frag.offset));
        check(x.upper_off == x.frag.data_off && x.proto_off == x.frag.hdr_off);
        break;
    case WIRE_PARAM_PROBLEM:
        check_range(pkt, ip, &x);
        check(x.problem.code <= WIRE_ICMPV6_PP_OPTION);
        check(x.problem.pointer < WIRE_IPV6_HDR_LEN + ip->payload_len);
        if (x.problem.send_icmp && ip->dst[0] == 0xff)
            check(x.problem.code == WIRE_ICMPV6_PP_OPTION && (pkt[x.problem.pointer] >> 6) == 2);
        if (x.problem.send_icmp)
            check(ip->src[0] != 0xff);
        if (x.problem.code == WIRE_ICMPV6_PP_NEXTHDR)
            check(x.problem.pointer == x.proto_off && pkt[x.proto_off] == x.proto);
        break;
    default:
        check(e == WIRE_TRUNCATED || e == WIRE_BAD_OPTIONS || e == WIRE_BAD_HEADER);
        return;
    }
    if (e != WIRE_OK || x.proto != WIRE_IPPROTO_TCP)
        return;
    /* A segment the parser takes, checksummed over the pseudo-header,
     * must verify. */
    wire_tcp t;
    if (wire_tcp_parse_trusted(x.payload, x.payload_len, &t) != WIRE_OK)
        return;
    uint8_t *seg = malloc(x.payload_len);
    if (!seg)
        abort();
    memcpy(seg, x.payload, x.payload_len);
    wire_tcp_set_checksum6(seg, x.payload_len, ip->src, ip->dst);
    check(wire_tcp_parse6(seg, x.payload_len, ip->src, ip->dst, &t) == WIRE_OK);
    check(wire_csum6(ip->src, ip->dst, WIRE_IPPROTO_TCP, seg, x.payload_len) == 0);
    free(seg);
}

/* The skip by length: its offset within the payload; where the walk got
 * through, the same upper layer at the same place. */
static void check_skip(const uint8_t *pkt, const wire_ipv6 *ip)
{
    uint8_t proto, first;
    size_t off;
    wire_err e = wire_ipv6_skip_ext(ip, &proto, &off, &first);
    check(e == WIRE_OK || e == WIRE_FRAGMENT || e == WIRE_TRUNCATED);
    if (e != WIRE_TRUNCATED)
        check(off <= ip->payload_len && first <= 1);
    wire_ipv6_ext x;
    if (wire_ipv6_walk(ip, &x) == WIRE_OK) {
        check(e == WIRE_OK && proto == x.proto);
        check(ip->payload + off == pkt + x.upper_off && !first);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *pkt = malloc(size ? size : 1);
    if (!pkt)
        abort();
    memcpy(pkt, data, size);
    wire_ipv6 ip;
    wire_err e = wire_ipv6_parse(pkt, size, &ip);
    if (e == WIRE_OK) {
        check(ip.payload == pkt + WIRE_IPV6_HDR_LEN);
        check(ip.payload_len <= size - WIRE_IPV6_HDR_LEN && ip.flow_label <= 0xfffff);
        uint8_t hdr[WIRE_IPV6_HDR_LEN];
        check(wire_ipv6_emit(hdr, sizeof(hdr), &ip) == WIRE_IPV6_HDR_LEN);
        check(memcmp(hdr, pkt, sizeof(hdr)) == 0);
        check_walk(pkt, &ip);
        check_skip(pkt, &ip);
        uint64_t h;
        memcpy(&h, pkt + 8, sizeof(h));
        uint32_t label = wire_ipv6_flow_label(h);
        check(label != 0 && label <= 0xfffff);
    } else {
        check(e == WIRE_TRUNCATED || e == WIRE_BAD_HEADER);
    }
    free(pkt);
    return 0;
}
