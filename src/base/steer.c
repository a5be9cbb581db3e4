/* steer.c — the flow hash of a steered group (steer.h). */
#include "base/steer.h"

#include "base/siphash.h"

#include <string.h>

/* Is end a:aport before end b:bport? Any fixed order will do, as long as
 * both directions of a flow see the same one. */
static bool end_before(const uint8_t *a, uint16_t aport, const uint8_t *b, uint16_t bport,
                       size_t alen)
{
    int d = memcmp(a, b, alen);
    return d < 0 || (d == 0 && aport <= bport);
}

uint32_t steer_owner(const synack_steer *st, const uint8_t *a, uint16_t aport, const uint8_t *b,
                     uint16_t bport, size_t alen)
{
    if (!steer_active(st))
        return 0;
    if (!end_before(a, aport, b, bport, alen)) {
        const uint8_t *t = a;
        a = b;
        b = t;
        uint16_t tp = aport;
        aport = bport;
        bport = tp;
    }
    uint8_t w[36];
    memcpy(w, a, alen);
    memcpy(w + alen, b, alen);
    w[2 * alen] = (uint8_t)(aport >> 8);
    w[2 * alen + 1] = (uint8_t)aport;
    w[2 * alen + 2] = (uint8_t)(bport >> 8);
    w[2 * alen + 3] = (uint8_t)bport;
    siphash_key k = {st->key[0], st->key[1]};
    uint32_t h = (uint32_t)siphash13(&k, w, 2 * alen + 4);
    return (uint32_t)(((uint64_t)h * st->count) >> 32); /* h scaled to [0, count) */
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

bool steer_tcp_mine(const synack_steer *st, const synack_addr *a, uint16_t aport,
                    const synack_addr *b, uint16_t bport)
{
    if (!steer_active(st))
        return true;
    uint8_t ab[16], bb[16];
    size_t n = addr_bytes(a, ab);
    addr_bytes(b, bb);
    return steer_owner(st, ab, aport, bb, bport, n) == st->index;
}
