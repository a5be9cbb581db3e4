/* test_wire_udp.c — UDP parse and emit (RFC 768, RFC 8200 §8.1). The
 * datagrams' checksums were computed outside synack (a separate one's-
 * complement sum over the pseudo-header). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "unit/testutil.h"
#include "wire/wire.h"

#define SRC4 0x0a000001u /* 10.0.0.1 -> 10.0.0.2, 12345 -> 53, "hello" */
#define DST4 0x0a000002u
static const char HELLO4[] = "30390035000d779168656c6c6f";
static const char HELLO6[] = "30390035000d918f68656c6c6f"; /* fd00::1 -> fd00::2 */
/* 1000 -> 2000, payload e0 1f: its sum is 0, so 0xffff goes on the wire */
static const char ZERO4[] = "03e807d0000affffe01f";
static const uint8_t SRC6[16] = {0xfd, [15] = 1}, DST6[16] = {0xfd, [15] = 2};

static void parse_both_families(void **state)
{
    (void)state;
    uint8_t d[32];
    size_t n = hex_decode(HELLO4, d, sizeof d);
    wire_udp u;
    assert_int_equal(wire_udp_parse(d, n, SRC4, DST4, &u), WIRE_OK);
    assert_int_equal(u.sport, 12345);
    assert_int_equal(u.dport, 53);
    assert_int_equal(u.payload_len, 5);
    assert_ptr_equal(u.payload, d + 8);
    assert_memory_equal(u.payload, "hello", 5);
    assert_int_equal(wire_udp_parse(d, n, SRC4, DST4 + 1, &u), WIRE_BAD_CSUM);
    n = hex_decode(HELLO6, d, sizeof d);
    assert_int_equal(wire_udp_parse6(d, n, SRC6, DST6, &u), WIRE_OK);
    assert_memory_equal(u.payload, "hello", 5);
    assert_int_equal(wire_udp_parse6(d, n, DST6, SRC6, &u), WIRE_OK); /* the sum is symmetric */
    d[9] ^= 1;
    assert_int_equal(wire_udp_parse6(d, n, SRC6, DST6, &u), WIRE_BAD_CSUM);
}

/* Every length short of the header, and a length field past the data,
 * are truncated; a length field under 8 is bad; bytes after the length
 * field's end are padding, not payload. */
static void lengths(void **state)
{
    (void)state;
    uint8_t d[40];
    size_t n = hex_decode(HELLO4, d, sizeof d);
    wire_udp u;
    for (size_t cut = 0; cut < n; cut++)
        assert_int_equal(wire_udp_parse(d, cut, SRC4, DST4, &u), WIRE_TRUNCATED);
    memset(d + n, 0xee, 6); /* link padding */
    assert_int_equal(wire_udp_parse(d, n + 6, SRC4, DST4, &u), WIRE_OK);
    assert_int_equal(u.payload_len, 5);
    d[5] = 7;
    assert_int_equal(wire_udp_parse(d, n, SRC4, DST4, &u), WIRE_BAD_HEADER);
}

/* Checksum 0 means "none" over IPv4 and is refused over IPv6. */
static void zero_checksum(void **state)
{
    (void)state;
    uint8_t d[32];
    size_t n = hex_decode(HELLO4, d, sizeof d);
    d[6] = d[7] = 0;
    d[9] ^= 0x55; /* unverifiable, so accepted */
    wire_udp u;
    assert_int_equal(wire_udp_parse(d, n, SRC4, DST4, &u), WIRE_OK);
    n = hex_decode(HELLO6, d, sizeof d);
    d[6] = d[7] = 0;
    assert_int_equal(wire_udp_parse6(d, n, SRC6, DST6, &u), WIRE_BAD_CSUM);
}

/* Emit a header and checksum: the bytes of the reference datagrams, the
 * computed 0 sent as 0xffff (and parsed back), and no header that would
 * make the datagram longer than 65535 bytes. */
static void emit(void **state)
{
    (void)state;
    uint8_t d[32], want[32];
    size_t wn = hex_decode(HELLO4, want, sizeof want);
    assert_int_equal(wire_udp_emit_header(d, sizeof d, 12345, 53, 5), 8);
    memcpy(d + 8, "hello", 5);
    wire_udp_set_checksum(d, 13, SRC4, DST4);
    assert_memory_equal(d, want, wn);
    wn = hex_decode(HELLO6, want, sizeof want);
    wire_udp_set_checksum6(d, 13, SRC6, DST6);
    assert_memory_equal(d, want, wn);
    wn = hex_decode(ZERO4, want, sizeof want);
    assert_int_equal(wire_udp_emit_header(d, sizeof d, 1000, 2000, 2), 8);
    d[8] = 0xe0, d[9] = 0x1f;
    wire_udp_set_checksum(d, 10, SRC4, DST4);
    assert_memory_equal(d, want, wn);
    wire_udp u;
    assert_int_equal(wire_udp_parse(d, 10, SRC4, DST4, &u), WIRE_OK);
    assert_int_equal(wire_udp_emit_header(d, 7, 1, 2, 0), 0);
    assert_int_equal(wire_udp_emit_header(d, sizeof d, 1, 2, 65528), 0);
    assert_int_equal(wire_udp_emit_header(d, sizeof d, 1, 2, 65527), 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_both_families),
        cmocka_unit_test(lengths),
        cmocka_unit_test(zero_checksum),
        cmocka_unit_test(emit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
