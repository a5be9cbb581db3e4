/* test_wire_ipv4.c — IPv4 header parse and emit (RFC 791). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "unit/testutil.h"
#include "wire/wire.h"

/* A TCP SYN sent by Linux 6.x through a TUN device, 10.9.9.1 -> 10.9.9.2:80. */
static const char LINUX_SYN[] =
    "4500003cacd64000400667d10a0909010a090902"
    "8d980050e89e235d00000000a002faf0e5190000020405b40402080a162791d2000000000103030a";

static size_t load(uint8_t *p, size_t cap) { return hex_decode(LINUX_SYN, p, cap); }

/* Recompute the header checksum with the reference routine. */
static void fix_csum(uint8_t *p)
{
    size_t hl = (size_t)(p[0] & 15) * 4;
    p[10] = p[11] = 0;
    uint16_t c = ref_csum(p, hl, 0);
    p[10] = (uint8_t)(c >> 8);
    p[11] = (uint8_t)c;
}

static void parse_linux_syn(void **state)
{
    (void)state;
    uint8_t p[64];
    size_t n = load(p, sizeof(p));
    assert_int_equal(n, 60);
    wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(p, n, &ip), WIRE_OK);
    assert_int_equal(ip.hdr_len, 20);
    assert_int_equal(ip.tos, 0);
    assert_int_equal(ip.total_len, 60);
    assert_int_equal(ip.id, 0xacd6);
    assert_int_equal(ip.ttl, 64);
    assert_int_equal(ip.proto, WIRE_IPPROTO_TCP);
    assert_int_equal(ip.src, 0x0a090901);
    assert_int_equal(ip.dst, 0x0a090902);
    assert_ptr_equal(ip.payload, p + 20);
    assert_int_equal(ip.payload_len, 40);
}

/* The classic header example (UDP, with tos and no DF change). */
static void parse_reference_header(void **state)
{
    (void)state;
    uint8_t p[0x73] = {0};
    hex_decode("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7", p, 20);
    wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(p, sizeof(p), &ip), WIRE_OK);
    assert_int_equal(ip.proto, 17);
    assert_int_equal(ip.src, 0xc0a80001);
    assert_int_equal(ip.dst, 0xc0a800c7);
    assert_int_equal(ip.payload_len, 0x73 - 20);
}

/* Ethernet pads short frames: bytes past total_len are not payload. */
static void link_padding_excluded(void **state)
{
    (void)state;
    uint8_t p[46] = {0};
    hex_decode("45000028 0001 4000 4006 0000 0a000001 0a000002", p, 20);
    fix_csum(p);
    memset(p + 40, 0xaa, 6); /* padding */
    wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(p, sizeof(p), &ip), WIRE_OK);
    assert_int_equal(ip.total_len, 40);
    assert_int_equal(ip.payload_len, 20);
}

static void truncated_every_length(void **state)
{
    (void)state;
    uint8_t p[64];
    size_t n = load(p, sizeof(p));
    for (size_t len = 0; len < n; len++) {
        uint8_t *c = exact_copy(p, len);
        wire_ipv4 ip;
        assert_int_equal(wire_ipv4_parse(c, len, &ip), WIRE_TRUNCATED);
        free(c);
    }
}

static void bad_version(void **state)
{
    (void)state;
    uint8_t p[64];
    size_t n = load(p, sizeof(p));
    wire_ipv4 ip;
    for (int v = 0; v < 16; v++) {
        if (v == 4)
            continue;
        p[0] = (uint8_t)(v << 4 | 5);
        fix_csum(p);
        assert_int_equal(wire_ipv4_parse(p, n, &ip), WIRE_BAD_HEADER);
    }
}

static void bad_ihl(void **state)
{
    (void)state;
    uint8_t p[64];
    size_t n = load(p, sizeof(p));
    wire_ipv4 ip;
    for (int ihl = 0; ihl < 5; ihl++) {
        p[0] = (uint8_t)(0x40 | ihl);
        assert_int_equal(wire_ipv4_parse(p, n, &ip), WIRE_BAD_HEADER);
    }
    /* IHL past the end of the bytes we have. */
    p[0] = 0x4f; /* 60 bytes of header */
    uint8_t *c = exact_copy(p, 40);
    assert_int_equal(wire_ipv4_parse(c, 40, &ip), WIRE_TRUNCATED);
    free(c);
}

static void bad_total_len(void **state)
{
    (void)state;
    uint8_t p[64];
    size_t n = load(p, sizeof(p));
    wire_ipv4 ip;
    /* Longer than the bytes we have. */
    wire_put16(p + 2, 61);
    fix_csum(p);
    assert_int_equal(wire_ipv4_parse(p, n, &ip), WIRE_TRUNCATED);
    /* Shorter than the header. */
    for (uint16_t tl = 0; tl < 20; tl++) {
        wire_put16(p + 2, tl);
        fix_csum(p);
        assert_int_equal(wire_ipv4_parse(p, n, &ip), WIRE_BAD_HEADER);
    }
    /* Exactly the header: an empty payload is fine. */
    wire_put16(p + 2, 20);
    fix_csum(p);
    assert_int_equal(wire_ipv4_parse(p, n, &ip), WIRE_OK);
    assert_int_equal(ip.payload_len, 0);
}

/* Every single-bit error in the header is refused. */
static void bad_checksum(void **state)
{
    (void)state;
    uint8_t p[64];
    size_t n = load(p, sizeof(p));
    wire_ipv4 ip;
    for (size_t bit = 0; bit < 20 * 8; bit++) {
        p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_not_equal(wire_ipv4_parse(p, n, &ip), WIRE_OK);
        p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    p[11] ^= 1;
    assert_int_equal(wire_ipv4_parse(p, n, &ip), WIRE_BAD_CSUM);
    p[11] ^= 1;
    assert_int_equal(wire_ipv4_parse(p, n, &ip), WIRE_OK);
}

/* IP options are covered by the checksum and skipped via IHL. */
static void options_skipped(void **state)
{
    (void)state;
    uint8_t p[32] = {0};
    /* IHL 6 with a Router Alert option (94 04 0000), 4 payload bytes, then
     * 4 bytes of link padding. */
    hex_decode("4600001c 1234 0000 0102 0000 0a000001 e0000016 94040000 deadbeef", p, sizeof(p));
    fix_csum(p);
    wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(p, 32, &ip), WIRE_OK);
    assert_int_equal(ip.hdr_len, 24);
    assert_int_equal(ip.ttl, 1);
    assert_int_equal(ip.proto, 2);
    assert_ptr_equal(ip.payload, p + 24);
    assert_int_equal(ip.payload_len, 4);
    assert_int_equal(wire_get32(ip.payload), 0xdeadbeef);
    /* The options count in the checksum. */
    p[21] ^= 0x01;
    assert_int_equal(wire_ipv4_parse(p, 32, &ip), WIRE_BAD_CSUM);
    /* Truncated inside the options. */
    p[21] ^= 0x01;
    for (size_t len = 20; len < 24; len++) {
        uint8_t *c = exact_copy(p, len);
        assert_int_equal(wire_ipv4_parse(c, len, &ip), WIRE_TRUNCATED);
        free(c);
    }
}

/* A fragment passes every header check, fills the view with its offset
 * (in bytes) and MF, and is told apart by WIRE_FRAGMENT. */
static void fragments_told_apart(void **state)
{
    (void)state;
    uint8_t p[64];
    size_t n = load(p, sizeof(p));
    wire_ipv4 ip;
    const struct { uint16_t field, offset; uint8_t mf; } frag[] = {
        {0x2000, 0, 1}, {0x6000, 0, 1}, {0x0001, 8, 0}, {0x4001, 8, 0},
        {0x1fff, 65528, 0}, {0x00b9, 1480, 0}, {0x20b9, 1480, 1},
    };
    for (size_t i = 0; i < sizeof(frag) / sizeof(frag[0]); i++) {
        wire_put16(p + 6, frag[i].field);
        fix_csum(p);
        memset(&ip, 0xee, sizeof(ip));
        assert_int_equal(wire_ipv4_parse(p, n, &ip), WIRE_FRAGMENT);
        assert_int_equal(ip.frag_offset, frag[i].offset);
        assert_int_equal(ip.more_frags, frag[i].mf);
        assert_int_equal(ip.id, 0xacd6);
        assert_int_equal(ip.src, 0x0a090901);
        assert_ptr_equal(ip.payload, p + 20);
        assert_int_equal(ip.payload_len, 40);
    }
    /* A fragment's header is checked like any other. */
    wire_put16(p + 6, 0x2000);
    fix_csum(p);
    p[11] ^= 1;
    assert_int_equal(wire_ipv4_parse(p, n, &ip), WIRE_BAD_CSUM);
    p[11] ^= 1;
    uint8_t *c = exact_copy(p, 59);
    assert_int_equal(wire_ipv4_parse(c, 59, &ip), WIRE_TRUNCATED);
    free(c);
    /* DF alone, or no flags at all, is a whole datagram. */
    wire_put16(p + 6, 0x0000);
    fix_csum(p);
    assert_int_equal(wire_ipv4_parse(p, n, &ip), WIRE_OK);
    assert_int_equal(ip.frag_offset, 0);
    assert_int_equal(ip.more_frags, 0);
}

/* The emitter reproduces the header Linux sent, byte for byte. */
static void emit_matches_linux(void **state)
{
    (void)state;
    uint8_t want[64];
    load(want, sizeof(want));
    uint8_t buf[20];
    assert_int_equal(wire_ipv4_emit(buf, sizeof(buf), 0x0a090901, 0x0a090902,
                                    WIRE_IPPROTO_TCP, 64, 0xacd6, 40), 20);
    assert_memory_equal(buf, want, 20);
}

static void emit_round_trip(void **state)
{
    (void)state;
    uint8_t buf[20 + 7] = {0};
    assert_int_equal(wire_ipv4_emit(buf, sizeof(buf), 0xc0a80101, 0x08080808,
                                    WIRE_IPPROTO_ICMP, 255, 0xffff, 7), 20);
    wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(buf, sizeof(buf), &ip), WIRE_OK);
    assert_int_equal(ip.src, 0xc0a80101);
    assert_int_equal(ip.dst, 0x08080808);
    assert_int_equal(ip.proto, WIRE_IPPROTO_ICMP);
    assert_int_equal(ip.ttl, 255);
    assert_int_equal(ip.id, 0xffff);
    assert_int_equal(ip.total_len, 27);
    assert_int_equal(ip.payload_len, 7);
    assert_int_equal(wire_get16(buf + 6), 0x4000); /* DF */
}

static void emit_limits(void **state)
{
    (void)state;
    uint8_t buf[20];
    memset(buf, 0xee, sizeof(buf));
    for (size_t cap = 0; cap < 20; cap++)
        assert_int_equal(wire_ipv4_emit(buf, cap, 1, 2, 6, 64, 0, 0), 0);
    assert_int_equal(buf[0], 0xee);
    /* total_len is 16 bits. */
    assert_int_equal(wire_ipv4_emit(buf, 20, 1, 2, 6, 64, 0, 65535 - 20), 20);
    assert_int_equal(wire_get16(buf + 2), 65535);
    assert_int_equal(wire_ipv4_emit(buf, 20, 1, 2, 6, 64, 0, 65535 - 19), 0);
}

/* A header made a fragment's: DF gone, MF and offset as asked, the
 * checksum right (the reference routine agrees), and the parser sees the
 * fragment; offsets that are no multiple of 8 or past 13 bits refused. */
static void set_fragment(void **state)
{
    (void)state;
    uint8_t p[WIRE_IPV4_HDR_LEN + 8] = {0};
    assert_int_equal(wire_ipv4_emit(p, sizeof(p), 0x0a000002, 0x0a000001, WIRE_IPPROTO_ICMP, 64,
                                    0x1234, 8), WIRE_IPV4_HDR_LEN);
    assert_int_equal(wire_ipv4_set_fragment(p, 1480, 1), WIRE_IPV4_HDR_LEN);
    assert_int_equal(wire_get16(p + 6), 0x2000 | 185);
    assert_int_equal(ref_csum(p, WIRE_IPV4_HDR_LEN, 0), 0);
    wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(p, sizeof(p), &ip), WIRE_FRAGMENT);
    assert_int_equal(ip.frag_offset, 1480);
    assert_int_equal(ip.more_frags, 1);
    assert_int_equal(ip.id, 0x1234);
    assert_int_equal(wire_ipv4_set_fragment(p, 65528, 0), WIRE_IPV4_HDR_LEN);
    assert_int_equal(wire_ipv4_parse(p, sizeof(p), &ip), WIRE_FRAGMENT);
    assert_int_equal(ip.frag_offset, 65528);
    assert_int_equal(ip.more_frags, 0);
    assert_int_equal(wire_get16(p + 6) & 0x4000, 0); /* DF clear */
    uint8_t before[WIRE_IPV4_HDR_LEN];
    memcpy(before, p, sizeof(before));
    assert_int_equal(wire_ipv4_set_fragment(p, 12, 1), 0);
    assert_int_equal(wire_ipv4_set_fragment(p, 65536, 0), 0);
    assert_memory_equal(p, before, sizeof(before));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_linux_syn),
        cmocka_unit_test(parse_reference_header),
        cmocka_unit_test(link_padding_excluded),
        cmocka_unit_test(truncated_every_length),
        cmocka_unit_test(bad_version),
        cmocka_unit_test(bad_ihl),
        cmocka_unit_test(bad_total_len),
        cmocka_unit_test(bad_checksum),
        cmocka_unit_test(options_skipped),
        cmocka_unit_test(fragments_told_apart),
        cmocka_unit_test(emit_matches_linux),
        cmocka_unit_test(emit_round_trip),
        cmocka_unit_test(emit_limits),
        cmocka_unit_test(set_fragment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
