/* test_wire_checksum.c — the Internet checksum (RFC 1071) and pseudo-header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "unit/testutil.h"
#include "wire/wire.h"

/* RFC 1071 §3 numerical example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
static void rfc1071_example(void **state)
{
    (void)state;
    const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    assert_int_equal(wire_csum_fold(wire_csum_add(0, b, sizeof(b))), (uint16_t)~0xddf2);
    /* The sum is the same whatever the split (at even boundaries). */
    uint32_t s = wire_csum_add(0, b, 2);
    s = wire_csum_add(s, b + 2, 4);
    s = wire_csum_add(s, b + 6, 2);
    assert_int_equal(wire_csum_fold(s), (uint16_t)~0xddf2);
}

/* The well-known IPv4 header example: checksum b861. */
static void ipv4_header_example(void **state)
{
    (void)state;
    uint8_t h[20];
    hex_decode("4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7", h, sizeof(h));
    assert_int_equal(wire_csum_fold(wire_csum_add(0, h, 20)), 0xb861);
    h[10] = 0xb8;
    h[11] = 0x61;
    assert_int_equal(wire_csum_fold(wire_csum_add(0, h, 20)), 0);
}

static void odd_lengths(void **state)
{
    (void)state;
    const uint8_t b[] = {0x01, 0x02, 0x03};
    /* A lone last byte is the high half of a zero-padded word. */
    assert_int_equal(wire_csum_fold(wire_csum_add(0, b, 1)), (uint16_t)~0x0100);
    assert_int_equal(wire_csum_fold(wire_csum_add(0, b, 3)), (uint16_t)~0x0402);
    /* An even piece followed by an odd last piece. */
    assert_int_equal(wire_csum_fold(wire_csum_add(wire_csum_add(0, b, 2), b + 2, 1)),
                     (uint16_t)~0x0402);
    assert_int_equal(wire_csum_fold(wire_csum_add(0, b, 0)), 0xffff);
}

/* Against the byte-by-byte reference for every length up to 1600 and every
 * start alignment, with random data and a random initial sum. */
static void matches_reference(void **state)
{
    (void)state;
    static uint8_t buf[1700];
    uint64_t rng = 42;
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)test_rand(&rng);
    for (size_t len = 0; len <= 1600; len++) {
        size_t align = len % 8;
        uint32_t init = (uint32_t)test_rand(&rng) & 0x3ffff;
        assert_int_equal(wire_csum_fold(wire_csum_add(init, buf + align, len)),
                         ref_csum(buf + align, len, init));
    }
}

/* Carries: all-ones data and a huge initial sum must not overflow. */
static void carries(void **state)
{
    (void)state;
    static uint8_t ones[9000];
    memset(ones, 0xff, sizeof(ones));
    assert_int_equal(wire_csum_fold(wire_csum_add(0, ones, sizeof(ones))), 0);
    uint32_t s = wire_csum_add(0xffffffffu, ones, sizeof(ones));
    assert_int_equal(wire_csum_fold(s), ref_csum(ones, sizeof(ones), 0xffffffffu));
    /* Chained sums stay exact. */
    s = 0;
    for (int i = 0; i < 1000; i++)
        s = wire_csum_add(s, ones, 64);
    assert_int_equal(wire_csum_fold(s), 0);
    assert_int_equal(wire_csum_fold(0xffffffffu), ref_csum(NULL, 0, 0xffffffffu));
}

/* Storing the checksum makes the whole range verify. */
static void store_and_verify(void **state)
{
    (void)state;
    uint8_t b[101];
    uint64_t rng = 7;
    for (size_t len = 2; len <= sizeof(b); len++) {
        for (size_t i = 0; i < len; i++)
            b[i] = (uint8_t)test_rand(&rng);
        b[0] = b[1] = 0;
        uint16_t c = wire_csum_fold(wire_csum_add(0, b, len));
        wire_put16(b, c);
        assert_int_equal(wire_csum_fold(wire_csum_add(0, b, len)), 0);
        b[len - 1] ^= 0x10; /* any single-bit error is caught */
        assert_int_not_equal(wire_csum_fold(wire_csum_add(0, b, len)), 0);
    }
}

static void pseudo_header(void **state)
{
    (void)state;
    /* 10.9.9.1 -> 10.9.9.2, TCP, 40 bytes. */
    uint32_t s = wire_csum_pseudo(0x0a090901, 0x0a090902, 6, 40);
    assert_int_equal(wire_csum_fold(s), (uint16_t)~(0x0a09 + 0x0901 + 0x0a09 + 0x0902 + 6 + 40));
    /* Large addresses carry correctly. */
    s = wire_csum_pseudo(0xffffffff, 0xffffffff, 255, 0xffff);
    assert_int_equal(wire_csum_fold(s), ref_csum(NULL, 0, ref_pseudo(0xffffffff, 0xffffffff, 255, 0xffff)));
    /* Equal to summing the 12-byte pseudo-header itself. */
    uint8_t ph[12];
    hex_decode("c0a80001 c0a800c7 0011 0123", ph, sizeof(ph));
    assert_int_equal(wire_csum_fold(wire_csum_pseudo(0xc0a80001, 0xc0a800c7, 17, 0x123)),
                     wire_csum_fold(wire_csum_add(0, ph, 12)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc1071_example),
        cmocka_unit_test(ipv4_header_example),
        cmocka_unit_test(odd_lengths),
        cmocka_unit_test(matches_reference),
        cmocka_unit_test(carries),
        cmocka_unit_test(store_and_verify),
        cmocka_unit_test(pseudo_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
