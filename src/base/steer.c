/* steer.c — the flow hash of a steered group (steer.h).
 *
 * Symmetric by construction: the addresses of the two ends are folded
 * together by XOR, and so are the ports, so both directions of a flow give
 * the same value. Then a keyed multiplicative mix. It is simple on purpose:
 * a multi-queue TAP can run the very same arithmetic in the kernel (an
 * eBPF steering program, src/dev/steer_bpf.c), so that the kernel puts
 * each frame on its owner's queue in the first place. Steering needs an
 * even spread, not secrecy: the key keeps an outsider from predicting
 * which member a flow lands on, and a flood aimed at one member can only
 * take that member's share of the cores. */
#include "base/steer.h"

#include <string.h>

#define STEER_MIX 0x9e3779b97f4a7c15ull /* 2^64 / golden ratio */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint32_t steer_mix(const synack_steer *st, uint32_t addrs, uint16_t ports)
{
    uint64_t v = ((uint64_t)(addrs ^ (uint32_t)st->key[0]) << 16 | ports) ^ st->key[1];
    uint32_t h = (uint32_t)((v * STEER_MIX) >> 32);
    return (uint32_t)(((uint64_t)h * st->count) >> 32); /* h scaled to [0, count) */
}

uint32_t steer_owner(const synack_steer *st, const uint8_t *a, uint16_t aport, const uint8_t *b,
                     uint16_t bport, size_t alen)
{
    if (!steer_active(st))
        return 0;
    uint32_t x = 0;
    for (size_t i = 0; i + 4 <= alen; i += 4)
        x ^= be32(a + i) ^ be32(b + i);
    return steer_mix(st, x, (uint16_t)(aport ^ bport));
}

/* An address as the bytes a frame carries. */
static size_t addr_bytes(const synack_addr *x, uint8_t out[16])
{
    if (x->family == SYNACK_AF_INET6) {
        memcpy(out, x->v6, 16);
        return 16;
    }
    out[0] = (uint8_t)(x->v4 >> 24);
    out[1] = (uint8_t)(x->v4 >> 16);
    out[2] = (uint8_t)(x->v4 >> 8);
    out[3] = (uint8_t)x->v4;
    return 4;
}

uint32_t steer_flow_owner(const synack_steer *st, bool tcp, const synack_addr *a, uint16_t aport,
                          const synack_addr *b, uint16_t bport)
{
    uint8_t ab[16], bb[16];
    size_t n = addr_bytes(a, ab);
    addr_bytes(b, bb);
    return tcp ? steer_owner(st, ab, aport, bb, bport, n) : steer_owner(st, ab, 0, bb, 0, n);
}

bool steer_tcp_mine(const synack_steer *st, const synack_addr *a, uint16_t aport,
                    const synack_addr *b, uint16_t bport)
{
    return !steer_active(st) || steer_flow_owner(st, true, a, aport, b, bport) == st->index;
}
