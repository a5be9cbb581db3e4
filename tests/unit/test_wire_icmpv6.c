/* test_wire_icmpv6.c — ICMPv6 (RFC 4443): parse, the pseudo-header checksum
 * (RFC 8200 §8.1), echo and error emitters, the error quote. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "unit/testutil.h"
#include "wire/wire.h"

/* 2001:db8::1 and 2001:db8::2 */
static const uint8_t A[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t B[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

/* The reference checksum: the pseudo-header laid out byte by byte in front
 * of the message, summed by testutil's byte-wise RFC 1071 sum. 0 when the
 * message's own checksum field is right. */
static uint16_t ref_csum6(const uint8_t src[16], const uint8_t dst[16], const uint8_t *msg,
                          size_t len)
{
    uint8_t *b = malloc(40 + len);
    assert_non_null(b);
    memcpy(b, src, 16);
    memcpy(b + 16, dst, 16);
    b[32] = (uint8_t)(len >> 24);
    b[33] = (uint8_t)(len >> 16);
    b[34] = (uint8_t)(len >> 8);
    b[35] = (uint8_t)len;
    b[36] = b[37] = b[38] = 0;
    b[39] = 58;
    memcpy(b + 40, msg, len);
    uint16_t c = ref_csum(b, 40 + len, 0);
    free(b);
    return c;
}

/* An IPv6 packet carrying a TCP header from A:40000 to B:80, seq
 * 0x11223344, padded with a counting pattern to `len` bytes. */
static void make_tcp_packet(uint8_t *p, size_t len, uint8_t next_header)
{
    assert_true(len >= 48);
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)i;
    hex_decode("60000000 0000 06 40", p, 8);
    wire_put16(p + 4, (uint16_t)(len - 40));
    p[6] = next_header;
    memcpy(p + 8, A, 16);
    memcpy(p + 24, B, 16);
    hex_decode("9c40 0050 11223344", p + 40, 8);
}

/* An echo request written out from RFC 4443 §4.1, its checksum by hand. */
static void parse_known_echo(void **state)
{
    (void)state;
    uint8_t m[12];
    hex_decode("80 00 0000 1234 0001 61626364", m, sizeof(m));
    /* Pseudo-header words: 2001 0db8 0 0 0 0 0 0001, 2001 0db8 0 0 0 0 0
     * 0002, length 0000 000c, 0000 003a; message words: 8000 (0000) 1234
     * 0001 6162 6364. Sum 0x1b2b6, folded 0xb2b7, complemented 0x4d48. */
    wire_put16(m + 2, 0x4d48);
    assert_int_equal(ref_csum6(A, B, m, sizeof(m)), 0);
    wire_icmpv6 v;
    assert_int_equal(wire_icmpv6_parse(m, sizeof(m), A, B, &v), WIRE_OK);
    assert_int_equal(v.type, WIRE_ICMPV6_ECHO_REQUEST);
    assert_int_equal(v.code, 0);
    assert_int_equal(v.body, 0x12340001);
    assert_ptr_equal(v.msg, m);
    assert_int_equal(v.len, 12);
    assert_ptr_equal(v.data, m + 8);
    assert_int_equal(v.data_len, 4);
    /* The checksum covers the addresses: swapped, they still sum the same
     * (addition commutes); another address does not. */
    assert_int_equal(wire_icmpv6_parse(m, sizeof(m), B, A, &v), WIRE_OK);
    assert_int_equal(wire_icmpv6_parse(m, sizeof(m), A, A, &v), WIRE_BAD_CSUM);
}

static void parse_short_messages(void **state)
{
    (void)state;
    uint8_t m[8] = {0xc8, 0x05, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd};
    for (size_t len = 0; len < 4; len++) {
        uint8_t *c = exact_copy(m, len);
        wire_icmpv6 v;
        assert_int_equal(wire_icmpv6_parse(c, len, A, B, &v), WIRE_TRUNCATED);
        free(c);
    }
    /* 4 to 7 bytes: a header without a body is still a message. */
    for (size_t len = 4; len <= 8; len++) {
        uint8_t *c = exact_copy(m, len);
        wire_icmpv6_set_checksum(c, len, A, B);
        assert_int_equal(ref_csum6(A, B, c, len), 0);
        wire_icmpv6 v;
        assert_int_equal(wire_icmpv6_parse(c, len, A, B, &v), WIRE_OK);
        assert_int_equal(v.type, 0xc8);
        assert_int_equal(v.code, 5);
        assert_int_equal(v.body, len == 8 ? 0xaabbccdd : 0);
        assert_int_equal(v.data_len, 0);
        assert_ptr_equal(v.data, c + len);
        free(c);
    }
}

static void truncated_every_length(void **state)
{
    (void)state;
    uint8_t data[29];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7);
    uint8_t m[64];
    size_t n = wire_icmpv6_emit_echo(m, sizeof(m), A, B, WIRE_ICMPV6_ECHO_REQUEST, 1, 2, data,
                                     sizeof(data));
    assert_int_equal(n, 37);
    for (size_t len = 0; len < n; len++) {
        uint8_t *c = exact_copy(m, len);
        wire_icmpv6 v;
        assert_int_equal(wire_icmpv6_parse(c, len, A, B, &v),
                         len < 4 ? WIRE_TRUNCATED : WIRE_BAD_CSUM);
        free(c);
    }
}

static void bad_checksum_every_bit(void **state)
{
    (void)state;
    uint8_t m[32];
    size_t n = wire_icmpv6_emit_echo(m, sizeof(m), A, B, WIRE_ICMPV6_ECHO_REPLY, 7, 9,
                                     (const uint8_t *)"hello, world", 12);
    wire_icmpv6 v;
    for (size_t bit = 0; bit < n * 8; bit++) {
        m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(wire_icmpv6_parse(m, n, A, B, &v), WIRE_BAD_CSUM);
        m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    uint8_t a[16];
    for (size_t bit = 0; bit < 128; bit++) {
        memcpy(a, A, 16);
        a[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(wire_icmpv6_parse(m, n, a, B, &v), WIRE_BAD_CSUM);
        assert_int_equal(wire_icmpv6_parse(m, n, B, a, &v), WIRE_BAD_CSUM);
    }
    assert_int_equal(wire_icmpv6_parse(m, n, A, B, &v), WIRE_OK);
}

static void echo_round_trip(void **state)
{
    (void)state;
    uint8_t data[41];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(0xf0 + i);
    uint8_t buf[64];
    for (size_t len = 0; len <= sizeof(data); len++) {
        size_t w = wire_icmpv6_emit_echo(buf, sizeof(buf), A, B, WIRE_ICMPV6_ECHO_REQUEST,
                                         0xbeef, (uint16_t)len, len ? data : NULL, len);
        assert_int_equal(w, 8 + len);
        assert_int_equal(ref_csum6(A, B, buf, w), 0);
        assert_int_equal(buf[0], 128);
        assert_int_equal(buf[1], 0);
        wire_icmpv6 v;
        assert_int_equal(wire_icmpv6_parse(buf, w, A, B, &v), WIRE_OK);
        assert_int_equal(v.type, WIRE_ICMPV6_ECHO_REQUEST);
        assert_int_equal(v.body >> 16, 0xbeef);
        assert_int_equal(v.body & 0xffff, len);
        assert_int_equal(v.data_len, len);
        if (len)
            assert_memory_equal(v.data, data, len);
    }
}

/* A reply built over the request, as an echo responder does. */
static void echo_in_place(void **state)
{
    (void)state;
    uint8_t m[32];
    size_t n = wire_icmpv6_emit_echo(m, sizeof(m), A, B, WIRE_ICMPV6_ECHO_REQUEST, 0x1234, 5,
                                     (const uint8_t *)"ping data", 9);
    wire_icmpv6 req;
    assert_int_equal(wire_icmpv6_parse(m, n, A, B, &req), WIRE_OK);
    assert_int_equal(wire_icmpv6_emit_echo(m, n, B, A, WIRE_ICMPV6_ECHO_REPLY,
                                           (uint16_t)(req.body >> 16), (uint16_t)req.body,
                                           req.data, req.data_len), n);
    wire_icmpv6 rep;
    assert_int_equal(wire_icmpv6_parse(m, n, B, A, &rep), WIRE_OK);
    assert_int_equal(rep.type, WIRE_ICMPV6_ECHO_REPLY);
    assert_int_equal(rep.body, 0x12340005);
    assert_memory_equal(rep.data, "ping data", 9);
    assert_int_equal(ref_csum6(B, A, m, n), 0);
}

static void echo_cap_too_small(void **state)
{
    (void)state;
    uint8_t buf[32];
    memset(buf, 0xee, sizeof(buf));
    for (size_t cap = 0; cap < 8 + 5; cap++)
        assert_int_equal(wire_icmpv6_emit_echo(buf, cap, A, B, 128, 1, 2,
                                               (const uint8_t *)"12345", 5), 0);
    assert_int_equal(buf[0], 0xee);
    assert_int_equal(wire_icmpv6_emit_echo(buf, 13, A, B, 128, 1, 2, (const uint8_t *)"12345", 5),
                     13);
}

/* Emit, check against the reference sum, parse, and read the quote back. */
static void check_error(const uint8_t *m, size_t n, uint8_t type, uint8_t code, uint32_t body,
                        const uint8_t *pkt, size_t quote_len)
{
    assert_int_equal(n, 8 + quote_len);
    assert_int_equal(ref_csum6(B, A, m, n), 0);
    wire_icmpv6 v;
    assert_int_equal(wire_icmpv6_parse(m, n, B, A, &v), WIRE_OK);
    assert_int_equal(v.type, type);
    assert_int_equal(v.code, code);
    assert_int_equal(v.body, body);
    assert_int_equal(v.data_len, quote_len);
    assert_memory_equal(v.data, pkt, quote_len);
    wire_icmpv6_quote q;
    assert_int_equal(wire_icmpv6_parse_quote(&v, &q), WIRE_OK);
    assert_memory_equal(q.src, A, 16);
    assert_memory_equal(q.dst, B, 16);
    assert_int_equal(q.next_header, 6);
    assert_int_equal(q.has_upper, 1);
    assert_int_equal(q.sport, 40000);
    assert_int_equal(q.dport, 80);
    assert_int_equal(q.seq, 0x11223344);
    assert_int_equal(q.mtu, type == WIRE_ICMPV6_PACKET_TOO_BIG ? body : 0);
}

static void error_emitters_round_trip(void **state)
{
    (void)state;
    uint8_t pkt[100];
    make_tcp_packet(pkt, sizeof(pkt), 6);
    uint8_t m[200];
    for (uint8_t code = 0; code <= 6; code++)
        check_error(m, wire_icmpv6_emit_dest_unreach(m, sizeof(m), B, A, code, pkt, sizeof(pkt)),
                    WIRE_ICMPV6_DEST_UNREACH, code, 0, pkt, sizeof(pkt));
    check_error(m, wire_icmpv6_emit_packet_too_big(m, sizeof(m), B, A, 1280, pkt, sizeof(pkt)),
                WIRE_ICMPV6_PACKET_TOO_BIG, 0, 1280, pkt, sizeof(pkt));
    check_error(m, wire_icmpv6_emit_packet_too_big(m, sizeof(m), B, A, 0x12345678, pkt, 48),
                WIRE_ICMPV6_PACKET_TOO_BIG, 0, 0x12345678, pkt, 48);
    for (uint8_t code = 0; code <= 1; code++)
        check_error(m, wire_icmpv6_emit_time_exceeded(m, sizeof(m), B, A, code, pkt, sizeof(pkt)),
                    WIRE_ICMPV6_TIME_EXCEEDED, code, 0, pkt, sizeof(pkt));
    for (uint8_t code = 0; code <= 3; code++)
        check_error(m, wire_icmpv6_emit_param_problem(m, sizeof(m), B, A, code, 40 + code, pkt,
                                                      sizeof(pkt)),
                    WIRE_ICMPV6_PARAM_PROBLEM, code, 40u + code, pkt, sizeof(pkt));
    check_error(m, wire_icmpv6_emit_error(m, sizeof(m), B, A, 3, 1, 0xdeadbeef, pkt, 60),
                WIRE_ICMPV6_TIME_EXCEEDED, 1, 0xdeadbeef, pkt, 60);
}

static void error_codes_out_of_range(void **state)
{
    (void)state;
    uint8_t pkt[48];
    make_tcp_packet(pkt, sizeof(pkt), 6);
    uint8_t m[64];
    memset(m, 0xee, sizeof(m));
    assert_int_equal(wire_icmpv6_emit_dest_unreach(m, sizeof(m), B, A, 7, pkt, 48), 0);
    assert_int_equal(wire_icmpv6_emit_time_exceeded(m, sizeof(m), B, A, 2, pkt, 48), 0);
    assert_int_equal(wire_icmpv6_emit_param_problem(m, sizeof(m), B, A, 4, 0, pkt, 48), 0);
    assert_int_equal(m[0], 0xee);
}

/* RFC 4443 §2.4(c): the quote stops where the error's IPv6 packet (40-byte
 * header + 8-byte ICMPv6 header + quote) would pass 1280 bytes. */
static void error_quote_limit(void **state)
{
    (void)state;
    static uint8_t pkt[1500], m[1600];
    make_tcp_packet(pkt, sizeof(pkt), 6);
    assert_int_equal(WIRE_ICMPV6_MAX_QUOTE, 1232);
    size_t lens[] = {48, 1231, 1232, 1233, 1280, 1500};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        size_t want = lens[i] < 1232 ? lens[i] : 1232;
        size_t n = wire_icmpv6_emit_packet_too_big(m, sizeof(m), B, A, 1280, pkt, lens[i]);
        check_error(m, n, WIRE_ICMPV6_PACKET_TOO_BIG, 0, 1280, pkt, want);
        assert_true(40 + n <= 1280);
    }
    /* The whole of a 1500-byte packet's quote must fit in `cap`, or nothing. */
    assert_int_equal(wire_icmpv6_emit_dest_unreach(m, 1239, B, A, 4, pkt, 1500), 0);
    assert_int_equal(wire_icmpv6_emit_dest_unreach(m, 1240, B, A, 4, pkt, 1500), 1240);
    assert_int_equal(wire_icmpv6_emit_dest_unreach(m, 55, B, A, 4, pkt, 48), 0);
    assert_int_equal(wire_icmpv6_emit_dest_unreach(m, 56, B, A, 4, pkt, 48), 56);
}

/* The offending packet already in the buffer (shifted by the header). */
static void error_quote_aliases_buffer(void **state)
{
    (void)state;
    uint8_t want[64], m[80];
    make_tcp_packet(want, sizeof(want), 6);
    memcpy(m, want, sizeof(want));
    size_t n = wire_icmpv6_emit_dest_unreach(m, sizeof(m), B, A, 1, m, sizeof(want));
    check_error(m, n, WIRE_ICMPV6_DEST_UNREACH, 1, 0, want, sizeof(want));
}

static void quote_without_upper_header(void **state)
{
    (void)state;
    uint8_t pkt[64], m[80];
    wire_icmpv6 v;
    wire_icmpv6_quote q;
    /* Extension headers in front of TCP: the 8 bytes are not TCP's. */
    const uint8_t ext[] = {0, 43, 44, 50, 51, 59, 60, 135, 139, 140, 253, 254};
    for (size_t i = 0; i < sizeof(ext); i++) {
        make_tcp_packet(pkt, sizeof(pkt), ext[i]);
        size_t n = wire_icmpv6_emit_dest_unreach(m, sizeof(m), B, A, 4, pkt, sizeof(pkt));
        assert_int_equal(wire_icmpv6_parse(m, n, B, A, &v), WIRE_OK);
        assert_int_equal(wire_icmpv6_parse_quote(&v, &q), WIRE_OK);
        assert_int_equal(q.next_header, ext[i]);
        assert_int_equal(q.has_upper, 0);
        assert_int_equal(q.sport, 0);
        assert_int_equal(q.seq, 0);
        assert_memory_equal(q.src, A, 16);
    }
    /* UDP (17) and ICMPv6 (58) are upper layers. */
    make_tcp_packet(pkt, sizeof(pkt), 17);
    size_t n = wire_icmpv6_emit_dest_unreach(m, sizeof(m), B, A, 4, pkt, sizeof(pkt));
    assert_int_equal(wire_icmpv6_parse(m, n, B, A, &v), WIRE_OK);
    assert_int_equal(wire_icmpv6_parse_quote(&v, &q), WIRE_OK);
    assert_int_equal(q.has_upper, 1);
    assert_int_equal(q.dport, 80);
}

/* Every quote length: under 40 no header, 40-47 a header only, then all. */
static void quote_truncated_every_length(void **state)
{
    (void)state;
    uint8_t pkt[56], m[80];
    make_tcp_packet(pkt, sizeof(pkt), 6);
    for (size_t len = 0; len <= sizeof(pkt); len++) {
        size_t n = wire_icmpv6_emit_time_exceeded(m, sizeof(m), B, A, 0, pkt, len);
        assert_int_equal(n, 8 + len);
        uint8_t *c = exact_copy(m, n);
        wire_icmpv6 v;
        assert_int_equal(wire_icmpv6_parse(c, n, B, A, &v), WIRE_OK);
        wire_icmpv6_quote q;
        wire_err e = wire_icmpv6_parse_quote(&v, &q);
        assert_int_equal(e, len < 40 ? WIRE_TRUNCATED : WIRE_OK);
        if (e == WIRE_OK) {
            assert_int_equal(q.has_upper, len >= 48);
            assert_int_equal(q.seq, len >= 48 ? 0x11223344 : 0);
        }
        free(c);
    }
    /* A message under 8 bytes has no quote at all. */
    uint8_t s[4] = {WIRE_ICMPV6_DEST_UNREACH, 0, 0, 0};
    wire_icmpv6_set_checksum(s, 4, B, A);
    wire_icmpv6 v;
    assert_int_equal(wire_icmpv6_parse(s, 4, B, A, &v), WIRE_OK);
    wire_icmpv6_quote q;
    assert_int_equal(wire_icmpv6_parse_quote(&v, &q), WIRE_TRUNCATED);
}

static void quote_refused(void **state)
{
    (void)state;
    uint8_t pkt[48], m[64];
    make_tcp_packet(pkt, sizeof(pkt), 6);
    wire_icmpv6 v;
    wire_icmpv6_quote q;
    /* Not an error message. */
    const uint8_t types[] = {0, 5, 127, 128, 129, 135, 255};
    for (size_t i = 0; i < sizeof(types); i++) {
        size_t n = wire_icmpv6_emit_error(m, sizeof(m), B, A, types[i], 0, 0, pkt, 48);
        assert_int_equal(wire_icmpv6_parse(m, n, B, A, &v), WIRE_OK);
        assert_int_equal(wire_icmpv6_parse_quote(&v, &q), WIRE_BAD_HEADER);
    }
    /* A quoted header that is not IPv6. */
    for (unsigned ver = 0; ver < 16; ver++) {
        pkt[0] = (uint8_t)(ver << 4);
        size_t n = wire_icmpv6_emit_dest_unreach(m, sizeof(m), B, A, 0, pkt, 48);
        assert_int_equal(wire_icmpv6_parse(m, n, B, A, &v), WIRE_OK);
        assert_int_equal(wire_icmpv6_parse_quote(&v, &q), ver == 6 ? WIRE_OK : WIRE_BAD_HEADER);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_known_echo),
        cmocka_unit_test(parse_short_messages),
        cmocka_unit_test(truncated_every_length),
        cmocka_unit_test(bad_checksum_every_bit),
        cmocka_unit_test(echo_round_trip),
        cmocka_unit_test(echo_in_place),
        cmocka_unit_test(echo_cap_too_small),
        cmocka_unit_test(error_emitters_round_trip),
        cmocka_unit_test(error_codes_out_of_range),
        cmocka_unit_test(error_quote_limit),
        cmocka_unit_test(error_quote_aliases_buffer),
        cmocka_unit_test(quote_without_upper_header),
        cmocka_unit_test(quote_truncated_every_length),
        cmocka_unit_test(quote_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
