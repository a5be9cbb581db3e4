/* siphash.c — SipHash-2-4 and SipHash-1-3, written from the paper's description. */
#include "base/siphash.h"

#include <string.h>

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND                                                      \
    do {                                                              \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);     \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                        \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                        \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);     \
    } while (0)

static int little_endian(void)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* Little-endian load of n <= 8 bytes (the rest zero): one move on
 * little-endian machines, where the byte-at-a-time loop it replaced showed
 * in profiles of the per-segment connection lookup. */
static uint64_t load_le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    memcpy(&v, p, n);
    if (!little_endian()) {
        uint64_t r = 0;
        for (int i = 0; i < 8; i++, v >>= 8)
            r = r << 8 | (v & 0xff);
        v = r;
    }
    return v;
}

/* SipHash-c-d: c rounds per 8-byte block, d to finish. */
static inline uint64_t siphash_cd(const siphash_key *key, const void *data, size_t len, int c,
                                  int d)
{
    const uint8_t *p = data;
    uint64_t v0 = 0x736f6d6570736575ULL ^ key->k0;
    uint64_t v1 = 0x646f72616e646f6dULL ^ key->k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ key->k0;
    uint64_t v3 = 0x7465646279746573ULL ^ key->k1;
    size_t whole = len & ~(size_t)7;

    for (size_t i = 0; i < whole; i += 8) {
        uint64_t m = load_le(p + i, 8);
        v3 ^= m;
        for (int r = 0; r < c; r++)
            SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)len << 56 | load_le(p + whole, len & 7);
    v3 ^= b;
    for (int r = 0; r < c; r++)
        SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    for (int r = 0; r < d; r++)
        SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t siphash24(const siphash_key *key, const void *data, size_t len)
{
    return siphash_cd(key, data, len, 2, 4);
}

uint64_t siphash13(const siphash_key *key, const void *data, size_t len)
{
    return siphash_cd(key, data, len, 1, 3);
}
