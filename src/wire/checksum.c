/* checksum.c — the Internet checksum (RFC 1071).
 *
 * Bytes are summed as big-endian 16-bit words. The loop loads 32-bit words
 * into a 64-bit accumulator: since 2^16 == 1 (mod 2^16 - 1), adding a 32-bit
 * word is the same as adding its two halves, and the accumulator cannot
 * overflow for any frame (2^32 additions). Carries are folded at the end. */
#include "wire/wire.h"

static uint32_t fold32(uint64_t acc)
{
    while (acc >> 32)
        acc = (acc & 0xffffffffu) + (acc >> 32);
    return (uint32_t)acc;
}

uint32_t wire_csum_add(uint32_t sum, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t acc = sum;

    while (len >= 16) {
        acc += wire_get32(p);
        acc += wire_get32(p + 4);
        acc += wire_get32(p + 8);
        acc += wire_get32(p + 12);
        p += 16;
        len -= 16;
    }
    while (len >= 4) {
        acc += wire_get32(p);
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        acc += wire_get16(p);
        p += 2;
        len -= 2;
    }
    if (len) /* odd last byte: the high half of a zero-padded word */
        acc += (uint32_t)p[0] << 8;
    return fold32(acc);
}

uint16_t wire_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)~sum;
}

uint32_t wire_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    return (src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu) + proto + len;
}
