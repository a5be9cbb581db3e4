/* fuzz_steer.c — libFuzzer target: synack_steer_owner on arbitrary frames.
 *
 * Input: [link][count][frame...]: link bit 0 picks Ethernet or bare IP,
 * count (mod 8, plus 1) the group's size. Oracles (a trap):
 *   - the owner is an index of the group, or SYNACK_STEER_ALL;
 *   - a TCP packet (IPv4 without options or fragments, IPv6 without
 *     extension headers) with its addresses and ports swapped, the other
 *     direction of the same flow, has the same owner;
 *   - no read past the frame (ASan: it is an exact-size copy).
 * Build: make fuzz. Corpus: tests/fuzz/corpus_steer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "synack.h"

static void swap(uint8_t *a, uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t t = a[i];
        a[i] = b[i];
        b[i] = t;
    }
}

/* The other direction of a plain TCP packet at p (len bytes), in place;
 * 0 when p is not one. */
static int reverse_tcp(uint8_t *p, size_t len)
{
    if (len >= 24 && p[0] == 0x45 && p[9] == 6 && !((p[6] << 8 | p[7]) & 0x3fff)) {
        swap(p + 12, p + 16, 4);
        swap(p + 20, p + 22, 2);
        return 1;
    }
    if (len >= 44 && (p[0] >> 4) == 6 && p[6] == 6) {
        swap(p + 8, p + 24, 16);
        swap(p + 40, p + 42, 2);
        return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    synack_steer st = {.count = (uint32_t)(data[1] % 8) + 1, .key = {0x5eed, 0xfeed}};
    int link = data[0] & 1 ? SYNACK_LINK_ETHERNET : SYNACK_LINK_IP;
    size_t len = size - 2;
    uint8_t *f = malloc(len ? len : 1);
    if (!f)
        return 0;
    memcpy(f, data + 2, len);
    int o = synack_steer_owner(&st, link, f, len);
    if (o != SYNACK_STEER_ALL && (o < 0 || (uint32_t)o >= st.count))
        __builtin_trap();
    size_t l2 = link == SYNACK_LINK_ETHERNET ? 14 : 0;
    int eth_ip = l2 == 0 || (len >= 14 && ((f[12] == 0x08 && f[13] == 0x00) ||
                                          (f[12] == 0x86 && f[13] == 0xdd)));
    if (len > l2 && eth_ip && reverse_tcp(f + l2, len - l2) &&
        synack_steer_owner(&st, link, f, len) != o)
        __builtin_trap();
    free(f);
    return 0;
}
