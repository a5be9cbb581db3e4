/* test_wire_ipv6.c — IPv6 header, extension headers, pseudo-header checksum
 * and flow labels (RFC 8200, RFC 9293 §3.1, RFC 6437). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "unit/testutil.h"
#include "wire/wire.h"

static const uint8_t SRC[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t DST[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
static const uint8_t MCAST[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t UNSPEC[16] = {0};

/* A TCP header (no checksum) to end chains with. */
#define TCP20 "c0000050 01020304 00000000 5002 ffff 0000 0000"

/* Extension headers for chains, each naming the next one. */
#define HBH_TO_DST "3c00 0502 0000 0000"                  /* router alert (00), 2 x Pad1   */
#define DST_TO_RH "2b01 0104 00000000 1e02 aabb 0102 0000" /* PadN, unknown 00, PadN        */
#define RH_TO_FRAG "2c00 0400 00000000"                   /* type 4, segments left 0       */
#define FRAG_TO_DST "3c00 0000 12345678"                  /* atomic: offset 0, M clear     */
#define DST_TO_TCP "0600 0104 00000000"                   /* PadN of 4                     */
#define CHAIN HBH_TO_DST DST_TO_RH RH_TO_FRAG FRAG_TO_DST DST_TO_TCP
#define CHAIN_LEN 48

/* The fixed header hand-made: tc 0xab, flow 0xcdef1, payload 20, TCP, hop
 * limit 64, SRC -> DST, then TCP20. */
static const char PLAIN[] =
    "6abcdef1 0014 06 40"
    "20010db8 00000000 00000000 00000001"
    "20010db8 00000000 00000000 00000002" TCP20;

/* A fixed header (next header `nh`, `src` -> `dst`) and `body` after it. */
static size_t build_to(uint8_t *p, size_t cap, uint8_t nh, const uint8_t *src, const uint8_t *dst,
                       const char *body)
{
    size_t n = hex_decode(body, p + WIRE_IPV6_HDR_LEN, cap - WIRE_IPV6_HDR_LEN);
    wire_ipv6 h = {.flow_label = 0x12345, .next_header = nh, .hop_limit = 64, .payload_len = n};
    memcpy(h.src, src, 16);
    memcpy(h.dst, dst, 16);
    assert_int_equal(wire_ipv6_emit(p, cap, &h), WIRE_IPV6_HDR_LEN);
    return WIRE_IPV6_HDR_LEN + n;
}

static size_t build(uint8_t *p, size_t cap, uint8_t nh, const char *body)
{
    return build_to(p, cap, nh, SRC, DST, body);
}

/* Parse (which must succeed) and walk. */
static wire_err walk(const uint8_t *p, size_t n, wire_ipv6_ext *x)
{
    wire_ipv6 ip;
    assert_int_equal(wire_ipv6_parse(p, n, &ip), WIRE_OK);
    return wire_ipv6_walk(&ip, x);
}

/* ------------------------------------------------------------ fixed header */

static void parse_fields(void **state)
{
    (void)state;
    uint8_t p[64];
    size_t n = hex_decode(PLAIN, p, sizeof(p));
    assert_int_equal(n, 60);
    wire_ipv6 ip;
    assert_int_equal(wire_ipv6_parse(p, n, &ip), WIRE_OK);
    assert_int_equal(ip.traffic_class, 0xab);
    assert_int_equal(ip.flow_label, 0xcdef1);
    assert_int_equal(ip.payload_len, 20);
    assert_int_equal(ip.next_header, WIRE_IPPROTO_TCP);
    assert_int_equal(ip.hop_limit, 64);
    assert_memory_equal(ip.src, SRC, 16);
    assert_memory_equal(ip.dst, DST, 16);
    assert_ptr_equal(ip.payload, p + 40);
}

/* The emitter writes the hand-made header byte for byte. */
static void emit_matches_hand_made(void **state)
{
    (void)state;
    uint8_t want[64];
    hex_decode(PLAIN, want, sizeof(want));
    wire_ipv6 h = {.traffic_class = 0xab, .flow_label = 0xcdef1, .next_header = 6,
                   .hop_limit = 64, .payload_len = 20};
    memcpy(h.src, SRC, 16);
    memcpy(h.dst, DST, 16);
    uint8_t buf[40];
    assert_int_equal(wire_ipv6_emit(buf, sizeof(buf), &h), 40);
    assert_memory_equal(buf, want, 40);
}

/* parse(emit(h)) == h for assorted field values, extremes included. */
static void round_trip(void **state)
{
    (void)state;
    uint64_t seed = 6;
    for (int k = 0; k < 200; k++) {
        uint64_t r = test_rand(&seed);
        wire_ipv6 h = {.traffic_class = (uint8_t)r, .flow_label = (uint32_t)(r >> 8) & 0xfffff,
                       .next_header = (uint8_t)(r >> 28), .hop_limit = (uint8_t)(r >> 36),
                       .payload_len = (size_t)(r >> 44) % 300};
        if (k == 0)
            h.traffic_class = 0xff, h.flow_label = 0xfffff, h.hop_limit = 255;
        for (int i = 0; i < 16; i++) {
            h.src[i] = (uint8_t)test_rand(&seed);
            h.dst[i] = (uint8_t)test_rand(&seed);
        }
        uint8_t buf[40 + 300];
        assert_int_equal(wire_ipv6_emit(buf, sizeof(buf), &h), 40);
        assert_int_equal(buf[0] >> 4, 6);
        wire_ipv6 g;
        assert_int_equal(wire_ipv6_parse(buf, 40 + h.payload_len, &g), WIRE_OK);
        assert_int_equal(g.traffic_class, h.traffic_class);
        assert_int_equal(g.flow_label, h.flow_label);
        assert_int_equal(g.next_header, h.next_header);
        assert_int_equal(g.hop_limit, h.hop_limit);
        assert_int_equal(g.payload_len, h.payload_len);
        assert_memory_equal(g.src, h.src, 16);
        assert_memory_equal(g.dst, h.dst, 16);
    }
}

static void emit_limits(void **state)
{
    (void)state;
    wire_ipv6 h = {.flow_label = 1, .payload_len = 0};
    uint8_t buf[40];
    memset(buf, 0xee, sizeof(buf));
    for (size_t cap = 0; cap < 40; cap++)
        assert_int_equal(wire_ipv6_emit(buf, cap, &h), 0);
    assert_int_equal(buf[0], 0xee);
    h.flow_label = 0x100000; /* 21 bits */
    assert_int_equal(wire_ipv6_emit(buf, 40, &h), 0);
    h.flow_label = 0xfffff;
    h.payload_len = 65536;
    assert_int_equal(wire_ipv6_emit(buf, 40, &h), 0);
    h.payload_len = 65535;
    assert_int_equal(wire_ipv6_emit(buf, 40, &h), 40);
    assert_int_equal(wire_get16(buf + 4), 65535);
}

static void truncated_every_length(void **state)
{
    (void)state;
    uint8_t p[64];
    size_t n = hex_decode(PLAIN, p, sizeof(p));
    for (size_t len = 0; len < n; len++) {
        uint8_t *c = exact_copy(p, len);
        wire_ipv6 ip;
        assert_int_equal(wire_ipv6_parse(c, len, &ip), WIRE_TRUNCATED);
        free(c);
    }
}

static void bad_version(void **state)
{
    (void)state;
    uint8_t p[64];
    size_t n = hex_decode(PLAIN, p, sizeof(p));
    wire_ipv6 ip;
    for (int v = 0; v < 16; v++) {
        p[0] = (uint8_t)(v << 4 | (p[0] & 0x0f));
        assert_int_equal(wire_ipv6_parse(p, n, &ip), v == 6 ? WIRE_OK : WIRE_BAD_HEADER);
    }
}

/* Payload Length longer than the bytes is truncation; shorter leaves the
 * rest as link padding; 0 is an empty payload. */
static void payload_length_mismatch(void **state)
{
    (void)state;
    uint8_t p[64 + 6];
    size_t n = hex_decode(PLAIN, p, sizeof(p));
    memset(p + n, 0xaa, 6);
    wire_ipv6 ip;
    for (uint16_t pl = 21; pl < 30; pl++) {
        wire_put16(p + 4, pl);
        assert_int_equal(wire_ipv6_parse(p, n, &ip), WIRE_TRUNCATED);
    }
    wire_put16(p + 4, 0xffff);
    assert_int_equal(wire_ipv6_parse(p, n, &ip), WIRE_TRUNCATED);
    /* Trailing bytes are not payload. */
    wire_put16(p + 4, 20);
    assert_int_equal(wire_ipv6_parse(p, n + 6, &ip), WIRE_OK);
    assert_int_equal(ip.payload_len, 20);
    for (uint16_t pl = 0; pl < 20; pl++) {
        wire_put16(p + 4, pl);
        assert_int_equal(wire_ipv6_parse(p, n, &ip), WIRE_OK);
        assert_int_equal(ip.payload_len, pl);
    }
}

/* ------------------------------------------------------------ the walk */

static void walk_no_extension_headers(void **state)
{
    (void)state;
    uint8_t p[64];
    size_t n = hex_decode(PLAIN, p, sizeof(p));
    wire_ipv6_ext x;
    assert_int_equal(walk(p, n, &x), WIRE_OK);
    assert_int_equal(x.proto, WIRE_IPPROTO_TCP);
    assert_int_equal(x.count, 0);
    assert_int_equal(x.proto_off, 6);
    assert_int_equal(x.upper_off, 40);
    assert_ptr_equal(x.payload, p + 40);
    assert_int_equal(x.payload_len, 20);
    assert_int_equal(x.frag.present, 0);
    /* The upper layers the walk knows, No Next Header among them. */
    const uint8_t upper[] = {WIRE_IPPROTO_TCP, WIRE_IPPROTO_UDP, WIRE_IPPROTO_ICMPV6,
                             WIRE_IPPROTO_NONE};
    for (size_t i = 0; i < sizeof(upper); i++) {
        n = build(p, sizeof(p), upper[i], "");
        assert_int_equal(walk(p, n, &x), WIRE_OK);
        assert_int_equal(x.proto, upper[i]);
        assert_int_equal(x.payload_len, 0);
    }
}

/* Each kind of extension header alone before TCP. */
static void each_extension_header(void **state)
{
    (void)state;
    const struct {
        uint8_t nh;
        const char *hdr;
        size_t len;
    } kinds[] = {
        {WIRE_IPPROTO_HOPOPTS, "0600 0502 0000 0000", 8},
        {WIRE_IPPROTO_DSTOPTS, "0601 0104 00000000 1e02 aabb 0102 0000", 16},
        {WIRE_IPPROTO_ROUTING, "0600 0400 00000000", 8},
        {WIRE_IPPROTO_FRAGMENT, "0600 0000 12345678", 8},
    };
    for (size_t k = 0; k < 4; k++) {
        uint8_t p[128];
        char body[128];
        snprintf(body, sizeof(body), "%s %s", kinds[k].hdr, TCP20);
        size_t n = build(p, sizeof(p), kinds[k].nh, body);
        wire_ipv6_ext x;
        assert_int_equal(walk(p, n, &x), WIRE_OK);
        assert_int_equal(x.count, 1);
        assert_int_equal(x.proto, WIRE_IPPROTO_TCP);
        assert_int_equal(x.proto_off, 40);
        assert_int_equal(x.upper_off, 40 + kinds[k].len);
        assert_ptr_equal(x.payload, p + 40 + kinds[k].len);
        assert_int_equal(x.payload_len, 20);
        assert_int_equal(x.frag.present, kinds[k].nh == WIRE_IPPROTO_FRAGMENT);
    }
}

static void chain_of_headers(void **state)
{
    (void)state;
    uint8_t p[128];
    size_t n = build(p, sizeof(p), WIRE_IPPROTO_HOPOPTS, CHAIN TCP20);
    wire_ipv6_ext x;
    assert_int_equal(walk(p, n, &x), WIRE_OK);
    assert_int_equal(x.count, 5);
    assert_int_equal(x.proto, WIRE_IPPROTO_TCP);
    assert_int_equal(x.proto_off, 40 + 40);
    assert_int_equal(x.upper_off, 40 + CHAIN_LEN);
    assert_int_equal(x.payload_len, 20);
    assert_int_equal(wire_get32(x.payload), 0xc0000050);
    /* The atomic fragment was seen and walked past (RFC 6946). */
    assert_int_equal(x.frag.present, 1);
    assert_int_equal(x.frag.more, 0);
    assert_int_equal(x.frag.offset, 0);
    assert_int_equal(x.frag.id, 0x12345678);
    assert_int_equal(x.frag.hdr_off, 72);
    assert_int_equal(x.frag.nh_off, 64);
    assert_int_equal(x.frag.data_off, 80);
}

/* Every cut inside the extension headers is truncation; at their end the
 * upper layer is simply empty. */
static void chain_truncated_every_length(void **state)
{
    (void)state;
    uint8_t full[128];
    size_t n = build(full, sizeof(full), WIRE_IPPROTO_HOPOPTS, CHAIN TCP20);
    assert_int_equal(n, 40 + CHAIN_LEN + 20);
    for (size_t pl = 0; pl <= CHAIN_LEN; pl++) {
        wire_put16(full + 4, (uint16_t)pl);
        uint8_t *c = exact_copy(full, 40 + pl);
        wire_ipv6_ext x;
        wire_err e = walk(c, 40 + pl, &x);
        if (pl < CHAIN_LEN) {
            assert_int_equal(e, WIRE_TRUNCATED);
        } else {
            assert_int_equal(e, WIRE_OK);
            assert_int_equal(x.payload_len, 0);
        }
        free(c);
    }
}

/* RFC 8200 §4.3: hop-by-hop only right after the fixed header; anywhere
 * else it is an unrecognized next header (code 1) at the field naming it. */
static void hop_by_hop_not_first(void **state)
{
    (void)state;
    uint8_t p[128];
    size_t n = build(p, sizeof(p), WIRE_IPPROTO_DSTOPTS, "0000 0104 00000000 0600 0502 0000 0000" TCP20);
    wire_ipv6_ext x;
    assert_int_equal(walk(p, n, &x), WIRE_PARAM_PROBLEM);
    assert_int_equal(x.problem.code, WIRE_ICMPV6_PP_NEXTHDR);
    assert_int_equal(x.problem.pointer, 40);
    assert_int_equal(x.problem.send_icmp, 1);
    /* Two hop-by-hop headers: the second is the problem. */
    n = build(p, sizeof(p), WIRE_IPPROTO_HOPOPTS, "0000 0104 00000000 0600 0104 00000000" TCP20);
    assert_int_equal(walk(p, n, &x), WIRE_PARAM_PROBLEM);
    assert_int_equal(x.problem.pointer, 40);
    /* Behind a routing header and an atomic fragment too. */
    n = build(p, sizeof(p), WIRE_IPPROTO_ROUTING, "2c00 0400 00000000 0000 0000 00000001 0600 01040000 0000" TCP20);
    assert_int_equal(walk(p, n, &x), WIRE_PARAM_PROBLEM);
    assert_int_equal(x.problem.code, WIRE_ICMPV6_PP_NEXTHDR);
    assert_int_equal(x.problem.pointer, 48);
}

/* A next header that is neither an extension header we walk nor an upper
 * layer we know (AH, ESP, mobility, experimental, ...): code 1. */
static void unknown_next_header(void **state)
{
    (void)state;
    const uint8_t unknown[] = {2, 4, 41, 50, 51, 135, 139, 253, 255};
    for (size_t i = 0; i < sizeof(unknown); i++) {
        uint8_t p[128];
        size_t n = build(p, sizeof(p), unknown[i], TCP20);
        wire_ipv6_ext x;
        assert_int_equal(walk(p, n, &x), WIRE_PARAM_PROBLEM);
        assert_int_equal(x.problem.code, WIRE_ICMPV6_PP_NEXTHDR);
        assert_int_equal(x.problem.pointer, 6);
        assert_int_equal(x.problem.send_icmp, 1);
        assert_int_equal(x.proto, unknown[i]);
        assert_int_equal(x.upper_off, 40);
        /* After two headers the pointer is the second's Next Header. */
        char body[160];
        snprintf(body, sizeof(body), "3c00 0000 00000000 %02x00 0104 00000000 %s", unknown[i], TCP20);
        n = build(p, sizeof(p), WIRE_IPPROTO_HOPOPTS, body);
        assert_int_equal(walk(p, n, &x), WIRE_PARAM_PROBLEM);
        assert_int_equal(x.problem.pointer, 48);
        assert_int_equal(x.upper_off, 56);
        /* Not answered to a multicast destination (RFC 4443 §2.4(e.3)). */
        n = build_to(p, sizeof(p), unknown[i], SRC, MCAST, TCP20);
        assert_int_equal(walk(p, n, &x), WIRE_PARAM_PROBLEM);
        assert_int_equal(x.problem.send_icmp, 0);
    }
}

static void too_many_headers(void **state)
{
    (void)state;
    uint8_t p[256];
    char body[512] = "";
    /* WIRE_IPV6_MAX_EXT destination options headers are fine... */
    for (int i = 0; i < WIRE_IPV6_MAX_EXT - 1; i++)
        strcat(body, "3c00 0104 00000000 ");
    strcat(body, DST_TO_TCP TCP20);
    size_t n = build(p, sizeof(p), WIRE_IPPROTO_DSTOPTS, body);
    wire_ipv6_ext x;
    assert_int_equal(walk(p, n, &x), WIRE_OK);
    assert_int_equal(x.count, WIRE_IPV6_MAX_EXT);
    /* ...one more is refused. */
    memmove(body + 19, body, strlen(body) + 1);
    memcpy(body, "3c00 0104 00000000 ", 19);
    n = build(p, sizeof(p), WIRE_IPPROTO_DSTOPTS, body);
    assert_int_equal(walk(p, n, &x), WIRE_BAD_HEADER);
}

/* Routing header: ignored at segments left 0; otherwise, whatever its
 * type, a problem (code 0) pointing at the routing type. */
static void routing_header(void **state)
{
    (void)state;
    const uint8_t types[] = {0, 2, 3, 4, 253};
    for (size_t i = 0; i < sizeof(types); i++) {
        for (unsigned left = 0; left < 3; left++) {
            uint8_t p[128];
            char body[160];
            snprintf(body, sizeof(body), "0601 %02x%02x 00000000 00000000 00000000 %s", types[i],
                     left, TCP20);
            size_t n = build(p, sizeof(p), WIRE_IPPROTO_ROUTING, body);
            wire_ipv6_ext x;
            if (left == 0) {
                assert_int_equal(walk(p, n, &x), WIRE_OK);
                assert_int_equal(x.upper_off, 56);
                continue;
            }
            assert_int_equal(walk(p, n, &x), WIRE_PARAM_PROBLEM);
            assert_int_equal(x.problem.code, WIRE_ICMPV6_PP_HEADER);
            assert_int_equal(x.problem.pointer, 42);
            assert_int_equal(x.problem.send_icmp, 1);
            /* Second in a chain: the pointer moves with it. */
            snprintf(body, sizeof(body), "2b00 0104 00000000 0600 %02x%02x 00000000 %s", types[i],
                     left, TCP20);
            n = build(p, sizeof(p), WIRE_IPPROTO_HOPOPTS, body);
            assert_int_equal(walk(p, n, &x), WIRE_PARAM_PROBLEM);
            assert_int_equal(x.problem.pointer, 50);
        }
    }
}

/* An option running past its header, or a type byte with no length. */
static void options_past_header(void **state)
{
    (void)state;
    const char *bad[] = {
        "0600 0105 00000000",         /* PadN says 5, 4 left          */
        "0600 00 00 00 00 00 01",     /* a type with no length byte    */
        "0600 1e06 00000000",         /* an unknown option, too long   */
        "0600 0102 0000 01ff",        /* the second option too long    */
        "0601 0110 00000000 00000000 0000 0000", /* 16 of 14 */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        for (int kind = 0; kind < 2; kind++) {
            uint8_t p[128];
            char body[160];
            snprintf(body, sizeof(body), "%s %s", bad[i], TCP20);
            size_t n = build(p, sizeof(p), kind ? WIRE_IPPROTO_DSTOPTS : WIRE_IPPROTO_HOPOPTS, body);
            wire_ipv6_ext x;
            assert_int_equal(walk(p, n, &x), WIRE_BAD_OPTIONS);
        }
    }
    /* Exactly filling the header is fine: PadN of 4, six Pad1. */
    uint8_t p[128];
    size_t n = build(p, sizeof(p), WIRE_IPPROTO_DSTOPTS, "0600 0104 00000000" TCP20);
    wire_ipv6_ext x;
    assert_int_equal(walk(p, n, &x), WIRE_OK);
    n = build(p, sizeof(p), WIRE_IPPROTO_DSTOPTS, "0600 0000 0000 0000" TCP20);
    assert_int_equal(walk(p, n, &x), WIRE_OK);
}

/* RFC 8200 §4.2: the two high bits of an unknown option's type. */
static void unknown_option_actions(void **state)
{
    (void)state;
    const uint8_t *dsts[] = {DST, MCAST};
    for (int kind = 0; kind < 2; kind++) {
        uint8_t nh = kind ? WIRE_IPPROTO_DSTOPTS : WIRE_IPPROTO_HOPOPTS;
        for (unsigned action = 0; action < 4; action++) {
            for (int m = 0; m < 2; m++) {
                uint8_t p[128];
                char body[160];
                /* An empty PadN, then the option at byte 4 of the header. */
                snprintf(body, sizeof(body), "0600 0100 %02x02 abcd %s", action << 6 | 0x1e,
                         TCP20);
                size_t n = build_to(p, sizeof(p), nh, SRC, dsts[m], body);
                wire_ipv6_ext x;
                wire_err e = walk(p, n, &x);
                if (action == 0) {
                    assert_int_equal(e, WIRE_OK);
                    assert_int_equal(x.upper_off, 48);
                    continue;
                }
                assert_int_equal(e, WIRE_PARAM_PROBLEM);
                assert_int_equal(x.problem.code, WIRE_ICMPV6_PP_OPTION);
                assert_int_equal(x.problem.pointer, 40 + 4);
                int send = action == 2 || (action == 3 && m == 0);
                assert_int_equal(x.problem.send_icmp, send);
            }
        }
    }
    /* Never to an unspecified or multicast source (RFC 4443 §2.4(e)). */
    const uint8_t *srcs[] = {UNSPEC, MCAST};
    for (int s = 0; s < 2; s++) {
        for (unsigned action = 2; action < 4; action++) {
            uint8_t p[128];
            char body[160];
            snprintf(body, sizeof(body), "0600 %02x04 00000000 %s", action << 6 | 0x1e, TCP20);
            size_t n = build_to(p, sizeof(p), WIRE_IPPROTO_DSTOPTS, srcs[s], DST, body);
            wire_ipv6_ext x;
            assert_int_equal(walk(p, n, &x), WIRE_PARAM_PROBLEM);
            assert_int_equal(x.problem.pointer, 42);
            assert_int_equal(x.problem.send_icmp, 0);
        }
    }
    /* The Jumbo Payload option (0xc2, RFC 2675) is unknown to us: 11. */
    uint8_t p[128];
    size_t n = build(p, sizeof(p), WIRE_IPPROTO_HOPOPTS, "0600 c204 00012345" TCP20);
    wire_ipv6_ext x;
    assert_int_equal(walk(p, n, &x), WIRE_PARAM_PROBLEM);
    assert_int_equal(x.problem.pointer, 42);
    assert_int_equal(x.problem.send_icmp, 1);
    /* In the second options header of a chain, the pointer follows. */
    n = build(p, sizeof(p), WIRE_IPPROTO_HOPOPTS, HBH_TO_DST "0601 0104 00000000 0000 9e02 0000 0000" TCP20);
    assert_int_equal(walk(p, n, &x), WIRE_PARAM_PROBLEM);
    assert_int_equal(x.problem.pointer, 48 + 10);
}

/* A real fragment stops the walk: its fields, and its data as payload. */
static void fragment_fields(void **state)
{
    (void)state;
    uint8_t p[128];
    /* First fragment: offset 0, M set, reserved bits set (ignored). */
    size_t n = build(p, sizeof(p), WIRE_IPPROTO_FRAGMENT, "06ff 0007 deadbeef" TCP20 "00000000");
    wire_ipv6_ext x;
    assert_int_equal(walk(p, n, &x), WIRE_FRAGMENT);
    assert_int_equal(x.frag.present, 1);
    assert_int_equal(x.frag.more, 1);
    assert_int_equal(x.frag.offset, 0);
    assert_int_equal(x.frag.id, 0xdeadbeef);
    assert_int_equal(x.frag.hdr_off, 40);
    assert_int_equal(x.frag.nh_off, 6);
    assert_int_equal(x.frag.data_off, 48);
    assert_int_equal(x.proto, WIRE_IPPROTO_TCP);
    assert_int_equal(x.proto_off, 40);
    assert_int_equal(x.upper_off, 48);
    assert_ptr_equal(x.payload, p + 48);
    assert_int_equal(x.payload_len, 24);
    /* A middle one at 1480 behind hop-by-hop and routing headers: the
     * unfragmentable part ends where the fragment header starts. */
    n = build(p, sizeof(p), WIRE_IPPROTO_HOPOPTS,
              "2b00 0104 00000000 2c00 0400 00000000 3a00 05c9 00000001 0102030405060708");
    assert_int_equal(walk(p, n, &x), WIRE_FRAGMENT);
    assert_int_equal(x.count, 3);
    assert_int_equal(x.frag.more, 1);
    assert_int_equal(x.frag.offset, 1480);
    assert_int_equal(x.frag.id, 1);
    assert_int_equal(x.frag.hdr_off, 56);
    assert_int_equal(x.frag.nh_off, 48);
    assert_int_equal(x.frag.data_off, 64);
    assert_int_equal(x.proto, WIRE_IPPROTO_ICMPV6);
    assert_int_equal(x.payload_len, 8);
    /* The last one may have any length; reserved bits do not make M. */
    n = build(p, sizeof(p), WIRE_IPPROTO_FRAGMENT, "0600 05ce 00000001 0102030405");
    assert_int_equal(walk(p, n, &x), WIRE_FRAGMENT);
    assert_int_equal(x.frag.more, 0);
    assert_int_equal(x.frag.offset, 1480);
    assert_int_equal(x.payload_len, 5);
    /* The fragment header cut short. */
    for (size_t pl = 0; pl < 8; pl++) {
        n = build(p, sizeof(p), WIRE_IPPROTO_FRAGMENT, "0600 05c9 00000001");
        wire_put16(p + 4, (uint16_t)pl);
        uint8_t *c = exact_copy(p, 40 + pl);
        assert_int_equal(walk(c, 40 + pl, &x), WIRE_TRUNCATED);
        free(c);
    }
}

/* RFC 8200 §4.5's checks of a single fragment. */
static void fragment_problems(void **state)
{
    (void)state;
    uint8_t p[128];
    wire_ipv6_ext x;
    /* M set and the data not a multiple of 8: code 0 at Payload Length. */
    for (int len = 1; len < 8; len++) {
        char body[64];
        snprintf(body, sizeof(body), "0600 0009 00000001 %.*s", 2 * len, "0102030405060708");
        size_t n = build(p, sizeof(p), WIRE_IPPROTO_FRAGMENT, body);
        assert_int_equal(walk(p, n, &x), WIRE_PARAM_PROBLEM);
        assert_int_equal(x.problem.code, WIRE_ICMPV6_PP_HEADER);
        assert_int_equal(x.problem.pointer, 4);
        assert_int_equal(x.problem.send_icmp, 1);
    }
    /* Reassembling past 65535 bytes: code 0 at the Fragment Offset. */
    size_t n = build(p, sizeof(p), WIRE_IPPROTO_FRAGMENT, "0600 fff8 00000001 0102030405060708");
    assert_int_equal(walk(p, n, &x), WIRE_PARAM_PROBLEM);
    assert_int_equal(x.problem.code, WIRE_ICMPV6_PP_HEADER);
    assert_int_equal(x.problem.pointer, 42);
    /* 65520 + 15 = 65535 exactly is fine... */
    n = build(p, sizeof(p), WIRE_IPPROTO_FRAGMENT, "0600 fff0 00000001 0102030405060708090a0b0c0d0e0f");
    assert_int_equal(walk(p, n, &x), WIRE_FRAGMENT);
    /* ...unless headers before the fragment header count too. */
    n = build(p, sizeof(p), WIRE_IPPROTO_DSTOPTS, "2c00 0104 00000000 0600 fff0 00000001 0102030405060708090a0b0c0d0e0f");
    assert_int_equal(walk(p, n, &x), WIRE_PARAM_PROBLEM);
    assert_int_equal(x.problem.pointer, 50);
}

/* A first fragment (M set, offset 0, identification 1) carrying `body`
 * after a fragment header naming `nh`: walked, then its chain checked. */
static wire_err first_fragment(uint8_t nh, const char *body, wire_ipv6_ext *up)
{
    uint8_t p[256];
    char hex[256];
    snprintf(hex, sizeof(hex), "%02x00 0001 00000001 %s", nh, body);
    size_t n = build(p, sizeof(p), WIRE_IPPROTO_FRAGMENT, hex);
    wire_ipv6 ip;
    wire_ipv6_ext x;
    assert_int_equal(wire_ipv6_parse(p, n, &ip), WIRE_OK);
    assert_int_equal(wire_ipv6_walk(&ip, &x), WIRE_FRAGMENT);
    return wire_ipv6_first_fragment(&ip, &x, up);
}

/* RFC 7112: the first fragment holds every header through the upper
 * layer's, or it is refused (WIRE_TRUNCATED). */
static void first_fragment_chain(void **state)
{
    (void)state;
    wire_ipv6_ext up;
    /* TCP without options: 20 of 24 bytes. */
    assert_int_equal(first_fragment(6, TCP20 "00000000", &up), WIRE_OK);
    assert_int_equal(up.proto, WIRE_IPPROTO_TCP);
    assert_int_equal(up.payload_len, 24);
    /* TCP whose data offset says 32 bytes, cut at 24. */
    assert_int_equal(first_fragment(6, "c0000050 01020304 00000000 8002 ffff 0000 0000 00000000",
                                    &up), WIRE_TRUNCATED);
    /* ...and at 32 it is whole. */
    assert_int_equal(first_fragment(6, "c0000050 01020304 00000000 8002 ffff 0000 0000 00000000"
                                       "00000000 00000000", &up), WIRE_OK);
    /* TCP cut at 8 bytes, UDP's and ICMPv6's 8 bytes whole. */
    assert_int_equal(first_fragment(6, "c0000050 01020304", &up), WIRE_TRUNCATED);
    assert_int_equal(first_fragment(17, "c0000050 00080000", &up), WIRE_OK);
    assert_int_equal(first_fragment(58, "80000000 00010001", &up), WIRE_OK);
    assert_int_equal(up.payload[0], 0x80);
    /* Destination options after the fragment header, then ICMPv6. */
    assert_int_equal(first_fragment(60, "3a00 0104 00000000 80000000 00010001", &up), WIRE_OK);
    assert_int_equal(up.proto, WIRE_IPPROTO_ICMPV6);
    assert_int_equal(up.payload_len, 8);
    /* ...whose ICMPv6 header is not there, or which is itself cut. */
    assert_int_equal(first_fragment(60, "3a00 0104 00000000", &up), WIRE_TRUNCATED);
    assert_int_equal(first_fragment(60, "3a01 0104 00000000", &up), WIRE_TRUNCATED);
    /* No next header: nothing more to hold. */
    assert_int_equal(first_fragment(59, "00000000 00000000", &up), WIRE_OK);
    /* An unknown header after the fragment header: the walk's own result. */
    assert_int_equal(first_fragment(99, "00000000 00000000", &up), WIRE_PARAM_PROBLEM);
}

/* A fragment header as emitted is walked back to the same fields; bad
 * offsets and a short buffer are refused. */
static void emit_fragment(void **state)
{
    (void)state;
    uint8_t p[64] = {0};
    wire_ipv6 h = {.next_header = WIRE_IPPROTO_FRAGMENT, .hop_limit = 64, .payload_len = 16};
    memcpy(h.src, SRC, 16);
    memcpy(h.dst, DST, 16);
    assert_int_equal(wire_ipv6_emit(p, sizeof(p), &h), 40);
    assert_int_equal(wire_ipv6_emit_fragment(p + 40, 8, WIRE_IPPROTO_ICMPV6, 1448, 1,
                                             0xdeadbeef), 8);
    wire_ipv6_ext x;
    assert_int_equal(walk(p, 56, &x), WIRE_FRAGMENT);
    assert_int_equal(x.proto, WIRE_IPPROTO_ICMPV6);
    assert_int_equal(x.frag.offset, 1448);
    assert_int_equal(x.frag.more, 1);
    assert_int_equal(x.frag.id, 0xdeadbeef);
    assert_int_equal(x.payload_len, 8);
    assert_int_equal(wire_ipv6_emit_fragment(p + 40, 8, WIRE_IPPROTO_ICMPV6, 65520, 0, 7), 8);
    assert_int_equal(walk(p, 56, &x), WIRE_FRAGMENT);
    assert_int_equal(x.frag.offset, 65520);
    assert_int_equal(x.frag.more, 0);
    assert_int_equal(wire_ipv6_emit_fragment(p + 40, 7, WIRE_IPPROTO_ICMPV6, 0, 1, 7), 0);
    assert_int_equal(wire_ipv6_emit_fragment(p + 40, 8, WIRE_IPPROTO_ICMPV6, 12, 1, 7), 0);
    assert_int_equal(wire_ipv6_emit_fragment(p + 40, 8, WIRE_IPPROTO_ICMPV6, 65536, 0, 7), 0);
}

/* ------------------------------------------------------------ the skip */

/* Parse (which must succeed) and skip; the results through the pointers. */
static wire_err skip_ext(const uint8_t *p, size_t n, uint8_t *proto, size_t *off, uint8_t *first)
{
    wire_ipv6 ip;
    assert_int_equal(wire_ipv6_parse(p, n, &ip), WIRE_OK);
    *proto = 0xee;
    *off = 9999;
    *first = 0xee;
    return wire_ipv6_skip_ext(&ip, proto, off, first);
}

/* RFC 4443 §2.4(e.1) needs the upper layer whatever the options say: an
 * option the walk refuses (0xde: action 11) is skipped over, as are
 * headers out of the walk's order, AH and a first fragment's header. */
static void skip_by_length_only(void **state)
{
    (void)state;
    uint8_t p[160], proto, first;
    size_t off, n;
    n = build(p, sizeof(p), WIRE_IPPROTO_ICMPV6, "01040000 00000000");
    assert_int_equal(skip_ext(p, n, &proto, &off, &first), WIRE_OK);
    assert_int_equal(proto, WIRE_IPPROTO_ICMPV6);
    assert_int_equal(off, 0);
    assert_int_equal(first, 0);
    n = build(p, sizeof(p), WIRE_IPPROTO_HOPOPTS, CHAIN TCP20);
    assert_int_equal(skip_ext(p, n, &proto, &off, &first), WIRE_OK);
    assert_int_equal(proto, WIRE_IPPROTO_TCP);
    assert_int_equal(off, CHAIN_LEN);
    assert_int_equal(first, 0); /* the chain's fragment header is atomic */
    /* Destination options with 0xde, then AH (length 1: 12 bytes), then a
     * hop-by-hop header where the walk allows none, then ICMPv6. */
    n = build(p, sizeof(p), WIRE_IPPROTO_DSTOPTS,
              "3300 de04 00000000 0001 0000 00000001 00000002 3a00 0104 00000000 01040000");
    wire_ipv6_ext x;
    assert_int_equal(walk(p, n, &x), WIRE_PARAM_PROBLEM);
    assert_int_equal(skip_ext(p, n, &proto, &off, &first), WIRE_OK);
    assert_int_equal(proto, WIRE_IPPROTO_ICMPV6);
    assert_int_equal(off, 8 + 12 + 8);
    /* Other next headers end the skip where they are: ESP, none, unknown. */
    n = build(p, sizeof(p), WIRE_IPPROTO_DSTOPTS, "3200 0104 00000000 00000000");
    assert_int_equal(skip_ext(p, n, &proto, &off, &first), WIRE_OK);
    assert_int_equal(proto, 50);
    assert_int_equal(off, 8);
    n = build(p, sizeof(p), 99, "00000000");
    assert_int_equal(skip_ext(p, n, &proto, &off, &first), WIRE_OK);
    assert_int_equal(proto, 99);
    assert_int_equal(off, 0);
}

/* A first fragment is skipped into (and says so); a later one cannot
 * tell; an upper layer with no byte present ends at the payload's end. */
static void skip_fragments(void **state)
{
    (void)state;
    uint8_t p[160], proto, first;
    size_t off, n;
    n = build(p, sizeof(p), WIRE_IPPROTO_FRAGMENT, "3c00 0001 00000007 3a00 0104 00000000 8000");
    assert_int_equal(skip_ext(p, n, &proto, &off, &first), WIRE_OK);
    assert_int_equal(proto, WIRE_IPPROTO_ICMPV6);
    assert_int_equal(off, 16);
    assert_int_equal(first, 1);
    n = build(p, sizeof(p), WIRE_IPPROTO_FRAGMENT, "3c00 0001 00000007 3a00 0104 00000000");
    assert_int_equal(skip_ext(p, n, &proto, &off, &first), WIRE_OK);
    assert_int_equal(off, 16); /* == payload_len: nothing of ICMPv6 here */
    assert_int_equal(first, 1);
    n = build(p, sizeof(p), WIRE_IPPROTO_DSTOPTS, "2c00 0104 00000000 3a00 0011 00000007 0104");
    assert_int_equal(skip_ext(p, n, &proto, &off, &first), WIRE_FRAGMENT);
    assert_int_equal(proto, WIRE_IPPROTO_ICMPV6);
    assert_int_equal(off, 16);
}

/* Every cut inside the headers skipped is truncation; the bytes are read
 * from an exact-size copy, so a read past the end would be caught. */
static void skip_truncated_every_length(void **state)
{
    (void)state;
    uint8_t full[160], proto, first;
    size_t off;
    const char *chain = "3300 de04 00000000 2c01 0000 00000001 00000002 3a00 0001 00000007";
    size_t n = build(full, sizeof(full), WIRE_IPPROTO_DSTOPTS, chain);
    size_t len = n - 40; /* 8 + 12 + 8 */
    for (size_t pl = 0; pl <= len; pl++) {
        wire_put16(full + 4, (uint16_t)pl);
        uint8_t *c = exact_copy(full, 40 + pl);
        wire_err e = skip_ext(c, 40 + pl, &proto, &off, &first);
        if (pl < len) {
            assert_int_equal(e, WIRE_TRUNCATED);
        } else {
            assert_int_equal(e, WIRE_OK);
            assert_int_equal(off, len);
        }
        free(c);
    }
}

/* ------------------------------------------------------------ checksum */

/* An IPv6 TCP SYN built byte by byte, 2001:db8::1 port 49152 ->
 * 2001:db8::2 port 80, seq 0x01020304, MSS 1440. Its checksum, 0x786f,
 * was summed by hand: pseudo-header 0x2dba + 0x2dbb + 24 + 6 = 0x5b93,
 * segment 0x22bfb, total 0x2878e -> 0x8790 -> ~ = 0x786f. */
static void tcp_syn_checksum(void **state)
{
    (void)state;
    uint8_t seg[24];
    hex_decode("c0000050 01020304 00000000 6002 ffff 0000 0000 020405a0", seg, sizeof(seg));
    /* An independent RFC 1071 sum over the pseudo-header laid out in bytes. */
    uint8_t buf[40 + 24] = {0};
    memcpy(buf, SRC, 16);
    memcpy(buf + 16, DST, 16);
    buf[35] = 24;
    buf[39] = WIRE_IPPROTO_TCP;
    memcpy(buf + 40, seg, 24);
    assert_int_equal(ref_csum(buf, sizeof(buf), 0), 0x786f);
    assert_int_equal(wire_csum6(SRC, DST, WIRE_IPPROTO_TCP, seg, 24), 0x786f);

    wire_tcp_set_checksum6(seg, 24, SRC, DST);
    assert_int_equal(wire_get16(seg + 16), 0x786f);
    assert_int_equal(wire_csum6(SRC, DST, WIRE_IPPROTO_TCP, seg, 24), 0);
    wire_tcp t;
    assert_int_equal(wire_tcp_parse6(seg, 24, SRC, DST, &t), WIRE_OK);
    assert_int_equal(t.sport, 49152);
    assert_int_equal(t.dport, 80);
    assert_int_equal(t.seq, 0x01020304);
    assert_int_equal(t.flags, 0x02);
    assert_int_equal(t.opt.mss, 1440);
    /* The pseudo-header binds both addresses, every bit of them. */
    for (int bit = 0; bit < 128; bit++) {
        uint8_t a[16], b[16];
        memcpy(a, SRC, 16);
        memcpy(b, DST, 16);
        a[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(wire_tcp_parse6(seg, 24, a, DST, &t), WIRE_BAD_CSUM);
        assert_int_equal(wire_tcp_parse6(seg, 24, SRC, b, &t), WIRE_BAD_CSUM);
    }
    assert_int_equal(wire_tcp_parse6(seg, 24, DST, SRC, &t) == WIRE_OK, 1); /* symmetric sum */
    seg[23] ^= 1;
    assert_int_equal(wire_tcp_parse6(seg, 24, SRC, DST, &t), WIRE_BAD_CSUM);
}

/* The pseudo-header's length is 32 bits (RFC 8200 §8.1), its next header
 * the upper layer's (58 for ICMPv6), against the byte-wise reference. */
static void pseudo_header_sum(void **state)
{
    (void)state;
    uint64_t seed = 58;
    const uint32_t lens[] = {0, 1, 8, 0xffff, 0x10000, 0x12345, 0xffffffff};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        uint8_t a[40];
        for (int k = 0; k < 32; k++)
            a[k] = (uint8_t)test_rand(&seed);
        wire_put32(a + 32, lens[i]);
        a[36] = a[37] = a[38] = 0;
        a[39] = WIRE_IPPROTO_ICMPV6;
        uint16_t want = ref_csum(a, 40, 0);
        assert_int_equal(wire_csum_fold(wire_csum_pseudo6(a, a + 16, WIRE_IPPROTO_ICMPV6, lens[i])),
                         want);
    }
}

/* ------------------------------------------------------------ flow label */

static void flow_label(void **state)
{
    (void)state;
    /* Never 0, never past 20 bits. */
    const uint64_t edge[] = {0, 1, 0xfffff, 0x100000, 0xffffe, 0xffffffff, UINT64_MAX,
                             0xfffffull * 0xfffff};
    for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
        uint32_t l = wire_ipv6_flow_label(edge[i]);
        assert_true(l != 0 && l <= 0xfffff);
    }
    /* Every bit of a 64-bit hash changes the label. */
    for (int bit = 0; bit < 64; bit++)
        assert_int_not_equal(wire_ipv6_flow_label(1ull << bit), wire_ipv6_flow_label(0));
    /* Spread: 2^16 random hashes land in all 16 buckets of the top bits,
     * none with more than twice its share. */
    unsigned bucket[16] = {0};
    uint64_t seed = 6437;
    for (int k = 0; k < 65536; k++) {
        uint32_t l = wire_ipv6_flow_label(test_rand(&seed));
        assert_true(l != 0 && l <= 0xfffff);
        bucket[l >> 16]++;
    }
    for (int b = 0; b < 16; b++)
        assert_true(bucket[b] > 2048 && bucket[b] < 8192);
    /* A 32-bit hash works the same. */
    assert_int_not_equal(wire_ipv6_flow_label((uint32_t)0x80000000u), wire_ipv6_flow_label(0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_fields),
        cmocka_unit_test(emit_matches_hand_made),
        cmocka_unit_test(round_trip),
        cmocka_unit_test(emit_limits),
        cmocka_unit_test(truncated_every_length),
        cmocka_unit_test(bad_version),
        cmocka_unit_test(payload_length_mismatch),
        cmocka_unit_test(walk_no_extension_headers),
        cmocka_unit_test(each_extension_header),
        cmocka_unit_test(chain_of_headers),
        cmocka_unit_test(chain_truncated_every_length),
        cmocka_unit_test(hop_by_hop_not_first),
        cmocka_unit_test(unknown_next_header),
        cmocka_unit_test(too_many_headers),
        cmocka_unit_test(routing_header),
        cmocka_unit_test(options_past_header),
        cmocka_unit_test(unknown_option_actions),
        cmocka_unit_test(fragment_fields),
        cmocka_unit_test(fragment_problems),
        cmocka_unit_test(first_fragment_chain),
        cmocka_unit_test(emit_fragment),
        cmocka_unit_test(skip_by_length_only),
        cmocka_unit_test(skip_fragments),
        cmocka_unit_test(skip_truncated_every_length),
        cmocka_unit_test(tcp_syn_checksum),
        cmocka_unit_test(pseudo_header_sum),
        cmocka_unit_test(flow_label),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
