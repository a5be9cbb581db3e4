/* test_fastpath.c — the optimised per-packet helpers agree with the plain
 * definitions: the word-parallel checksum with a byte-at-a-time big-endian
 * reference at every alignment and length, the fused copy-and-checksum, and
 * the arithmetic option length with what the emitter writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unit/testutil.h"
#include "wire/wire.h"

static uint16_t ref_fold(uint64_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

/* RFC 1071 literally: big-endian 16-bit words, odd byte padded. */
static uint16_t ref_sum(uint32_t start, const uint8_t *p, size_t len)
{
    uint64_t s = start;
    for (size_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    return ref_fold(s);
}

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

static void csum_every_alignment_and_length(void **state)
{
    (void)state;
    static uint8_t buf[9100];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)next();
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len < 300; len++) {
            uint32_t start = next() & 0xfffff;
            assert_int_equal(ref_fold(wire_csum_add(start, buf + off, len)),
                             ref_sum(start, buf + off, len));
        }
    const size_t big[] = {1448, 1460, 1480, 8948, 8960, 9000, 9001};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
        assert_int_equal(ref_fold(wire_csum_add(0, buf + 3, big[i])), ref_sum(0, buf + 3, big[i]));
}

static void csum_all_ones_carries(void **state)
{
    (void)state;
    static uint8_t ff[65535];
    memset(ff, 0xff, sizeof ff);
    for (size_t len = 1; len <= sizeof ff; len = len * 3 + 1)
        assert_int_equal(ref_fold(wire_csum_add(0xffffffffu >> 8, ff, len)),
                         ref_sum(0xffffffffu >> 8, ff, len));
    assert_int_equal(ref_fold(wire_csum_add(0, ff, sizeof ff)), ref_sum(0, ff, sizeof ff));
    static const uint8_t zero[64];
    assert_int_equal(wire_csum_fold(wire_csum_add(0, zero, sizeof zero)), 0xffff);
}

/* The vector paths (AVX2 where the CPU has it: the sum, and the copy and
 * sum in one pass) and the portable loop agree, and each with RFC 1071: on
 * every length across the 32-byte blocks, at every alignment, and past the
 * 16 MiB a vector call takes at once, with all-ones words, where each lane
 * grows fastest. */
static void csum_vector_matches_portable(void **state)
{
    (void)state;
#if defined(__x86_64__) && defined(__GNUC__)
    if (!__builtin_cpu_supports("avx2"))
        print_message("no AVX2 here: the vector path is not tested\n");
#endif
    static uint8_t buf[2200];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)next();
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len + off <= sizeof buf; len += 1 + (len > 300) * 13) {
            uint32_t start = len % 7 ? next() & 0xfffff : 0xffffffffu; /* a caller's carry */
            uint32_t fast = wire_csum_add(start, buf + off, len);
            assert_int_equal(ref_fold(fast), ref_fold(wire_csum_add_portable(start, buf + off, len)));
            assert_int_equal(ref_fold(fast), ref_sum(start, buf + off, len));
        }
    size_t big = (16u << 20) + 4096 + 77;
    uint8_t *ff = malloc(big);
    assert_non_null(ff);
    memset(ff, 0xff, big);
    ff[12345] = 0x12; /* not all one value: a sum of 0 and 0xffff would pass by accident */
    assert_int_equal(ref_fold(wire_csum_add(3, ff + 1, big - 1)),
                     ref_fold(wire_csum_add_portable(3, ff + 1, big - 1)));
    assert_int_equal(ref_fold(wire_csum_add(0, ff, big)), ref_sum(0, ff, big));
    uint8_t *copy = malloc(big);
    assert_non_null(copy);
    assert_int_equal(ref_fold(wire_csum_copy(5, copy, ff + 3, big - 3)),
                     ref_fold(wire_csum_add_portable(5, ff + 3, big - 3)));
    assert_memory_equal(copy, ff + 3, big - 3);
    free(copy);
    free(ff);
}

static void csum_copy_matches(void **state)
{
    (void)state;
    static uint8_t src[20000], dst[20010];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)next();
    const size_t lens[] = {0, 1, 2, 3, 63, 64, 65, 1447, 1448, 4095, 4096, 4097, 9001, 20000};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        for (size_t off = 0; off < 3; off++) {
            size_t len = lens[i] - (lens[i] >= off ? off : 0);
            memset(dst, 0xa5, sizeof dst);
            uint32_t s = wire_csum_copy(77, dst + off, src + off, len);
            assert_memory_equal(dst + off, src + off, len);
            assert_int_equal(dst[off + len], 0xa5);
            assert_int_equal(ref_fold(s), ref_sum(77, src + off, len));
        }
    }
}

static void opts_len_matches_emit(void **state)
{
    (void)state;
    for (int mask = 0; mask < 16; mask++) {
        for (uint8_t sacks = 0; sacks <= 5; sacks++) {
            wire_tcp_opts o;
            wire_tcp_opts_clear(&o);
            o.mss = (mask & 1) ? 1460 : 0;
            o.has_ts = (mask & 2) != 0;
            o.sack_ok = (mask & 4) != 0;
            o.wscale = (mask & 8) ? 7 : -1;
            o.sack_count = sacks;
            for (int i = 0; i < WIRE_TCP_MAX_SACK; i++) {
                o.sack[i][0] = next();
                o.sack[i][1] = o.sack[i][0] + 100;
            }
            uint8_t buf[WIRE_TCP_MAX_OPT_LEN + 8];
            size_t len = wire_tcp_opts_len(&o);
            assert_true(len <= WIRE_TCP_MAX_OPT_LEN);
            assert_int_equal(len % 4, 0);
            assert_int_equal(wire_tcp_emit_options(buf, &o), len);
            /* and what was written parses back */
            wire_tcp_opts back;
            assert_int_equal(wire_tcp_parse_options(buf, len, &back), WIRE_OK);
            assert_int_equal(back.has_ts, o.has_ts);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csum_every_alignment_and_length),
        cmocka_unit_test(csum_all_ones_carries),
        cmocka_unit_test(csum_vector_matches_portable),
        cmocka_unit_test(csum_copy_matches),
        cmocka_unit_test(opts_len_matches_emit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
