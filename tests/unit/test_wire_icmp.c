/* test_wire_icmp.c — ICMP parse and echo emit (RFC 792). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "unit/testutil.h"
#include "wire/wire.h"

/* An echo request to 127.0.0.1 and Linux's reply, captured on loopback
 * (IPv4 header included). */
static const char ECHO_REQ[] =
    "4500003356ff40004001e5c87f0000017f000001"
    "0800d121123400016162636465666768696a6b6c6d6e6f7071727374757677";
static const char ECHO_REP[] =
    "4500003357000000400125c87f0000017f000001"
    "0000d921123400016162636465666768696a6b6c6d6e6f7071727374757677";
static const char DATA[] = "abcdefghijklmnopqrstuvw";

static void parse_echo_request(void **state)
{
    (void)state;
    uint8_t f[64];
    size_t n = hex_decode(ECHO_REQ, f, sizeof(f));
    wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(f, n, &ip), WIRE_OK);
    assert_int_equal(ip.proto, WIRE_IPPROTO_ICMP);
    wire_icmp m;
    assert_int_equal(wire_icmp_parse(ip.payload, ip.payload_len, &m), WIRE_OK);
    assert_int_equal(m.type, WIRE_ICMP_ECHO_REQUEST);
    assert_int_equal(m.code, 0);
    assert_int_equal(m.id, 0x1234);
    assert_int_equal(m.seq, 1);
    assert_ptr_equal(m.data, ip.payload + 8);
    assert_int_equal(m.data_len, 23);
    assert_memory_equal(m.data, DATA, 23);
}

static void parse_echo_reply(void **state)
{
    (void)state;
    uint8_t f[64];
    size_t n = hex_decode(ECHO_REP, f, sizeof(f));
    wire_icmp m;
    assert_int_equal(wire_icmp_parse(f + 20, n - 20, &m), WIRE_OK);
    assert_int_equal(m.type, WIRE_ICMP_ECHO_REPLY);
    assert_int_equal(m.id, 0x1234);
    assert_int_equal(m.seq, 1);
    assert_int_equal(m.data_len, 23);
}

/* Destination unreachable (port unreachable) quoting an IP header + 8 bytes. */
static void parse_dest_unreach(void **state)
{
    (void)state;
    uint8_t m[8 + 28];
    hex_decode("0303 0000 00000000"
               "4500001c 0001 4000 4011 0000 0a000002 0a000001 d4310035 0008 0000",
               m, sizeof(m));
    uint16_t c = ref_csum(m, sizeof(m), 0);
    wire_put16(m + 2, c);
    wire_icmp out;
    assert_int_equal(wire_icmp_parse(m, sizeof(m), &out), WIRE_OK);
    assert_int_equal(out.type, WIRE_ICMP_DEST_UNREACH);
    assert_int_equal(out.code, 3);
    assert_int_equal(out.data_len, 28);
    assert_int_equal(out.data[0], 0x45);
}

static void truncated_every_length(void **state)
{
    (void)state;
    uint8_t f[64];
    size_t n = hex_decode(ECHO_REQ, f, sizeof(f)) - 20;
    const uint8_t *p = f + 20;
    for (size_t len = 0; len < n; len++) {
        uint8_t *c = exact_copy(p, len);
        wire_icmp m;
        wire_err e = wire_icmp_parse(c, len, &m);
        /* Under 8 bytes there is no header; after that the sum no longer matches. */
        assert_int_equal(e, len < 8 ? WIRE_TRUNCATED : WIRE_BAD_CSUM);
        free(c);
    }
}

static void bad_checksum(void **state)
{
    (void)state;
    uint8_t f[64];
    size_t n = hex_decode(ECHO_REQ, f, sizeof(f)) - 20;
    uint8_t *p = f + 20;
    wire_icmp m;
    for (size_t bit = 0; bit < n * 8; bit++) {
        p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(wire_icmp_parse(p, n, &m), WIRE_BAD_CSUM);
        p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    assert_int_equal(wire_icmp_parse(p, n, &m), WIRE_OK);
}

/* The emitted reply equals the one Linux sent. */
static void emit_matches_linux(void **state)
{
    (void)state;
    uint8_t want[64];
    size_t n = hex_decode(ECHO_REP, want, sizeof(want)) - 20;
    uint8_t buf[64];
    assert_int_equal(wire_icmp_emit_echo(buf, sizeof(buf), WIRE_ICMP_ECHO_REPLY, 0x1234, 1,
                                         (const uint8_t *)DATA, 23), n);
    assert_memory_equal(buf, want + 20, n);
}

/* A reply built in place over the request: the data aliases the buffer. */
static void emit_in_place(void **state)
{
    (void)state;
    uint8_t f[64];
    size_t n = hex_decode(ECHO_REQ, f, sizeof(f)) - 20;
    uint8_t *p = f + 20;
    wire_icmp req;
    assert_int_equal(wire_icmp_parse(p, n, &req), WIRE_OK);
    assert_int_equal(wire_icmp_emit_echo(p, n, WIRE_ICMP_ECHO_REPLY, req.id, req.seq,
                                         req.data, req.data_len), n);
    uint8_t want[64];
    hex_decode(ECHO_REP, want, sizeof(want));
    assert_memory_equal(p, want + 20, n);
    /* Data overlapping the buffer at another offset. */
    uint8_t b[64];
    memcpy(b + 3, DATA, 23);
    assert_int_equal(wire_icmp_emit_echo(b, sizeof(b), WIRE_ICMP_ECHO_REPLY, 0x1234, 1,
                                         b + 3, 23), n);
    assert_memory_equal(b, want + 20, n);
}

static void emit_round_trip_odd(void **state)
{
    (void)state;
    uint8_t data[37];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(0xf0 + i);
    uint8_t buf[64];
    for (size_t len = 0; len <= sizeof(data); len++) {
        size_t w = wire_icmp_emit_echo(buf, sizeof(buf), WIRE_ICMP_ECHO_REQUEST, 0xbeef,
                                       (uint16_t)len, len ? data : NULL, len);
        assert_int_equal(w, 8 + len);
        assert_int_equal(ref_csum(buf, w, 0), 0);
        wire_icmp m;
        assert_int_equal(wire_icmp_parse(buf, w, &m), WIRE_OK);
        assert_int_equal(m.type, WIRE_ICMP_ECHO_REQUEST);
        assert_int_equal(m.id, 0xbeef);
        assert_int_equal(m.seq, len);
        assert_int_equal(m.data_len, len);
        if (len)
            assert_memory_equal(m.data, data, len);
    }
}

static void emit_cap_too_small(void **state)
{
    (void)state;
    uint8_t buf[64];
    memset(buf, 0xee, sizeof(buf));
    for (size_t cap = 0; cap < 8 + 23; cap++)
        assert_int_equal(wire_icmp_emit_echo(buf, cap, 0, 1, 2, (const uint8_t *)DATA, 23), 0);
    assert_int_equal(buf[0], 0xee);
    assert_int_equal(wire_icmp_emit_echo(buf, 31, 0, 1, 2, (const uint8_t *)DATA, 23), 31);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_echo_request),
        cmocka_unit_test(parse_echo_reply),
        cmocka_unit_test(parse_dest_unreach),
        cmocka_unit_test(truncated_every_length),
        cmocka_unit_test(bad_checksum),
        cmocka_unit_test(emit_matches_linux),
        cmocka_unit_test(emit_in_place),
        cmocka_unit_test(emit_round_trip_odd),
        cmocka_unit_test(emit_cap_too_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
