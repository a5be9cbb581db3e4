/* prefix.c — address prefixes of either family (see prefix.h). */
#include "base/prefix.h"

#include <string.h>

bool prefix_match6(const uint8_t a[16], const uint8_t b[16], unsigned len)
{
    if (len > 128)
        len = 128;
    unsigned bytes = len / 8, bits = len % 8;
    if (memcmp(a, b, bytes) != 0)
        return false;
    if (bits == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - bits));
    return ((a[bytes] ^ b[bytes]) & mask) == 0;
}

bool prefix_covers(const synack_addr *prefix, unsigned len, const synack_addr *a)
{
    if (a->family != prefix->family)
        return false;
    if (a->family == SYNACK_AF_INET)
        return ((a->v4 ^ prefix->v4) & prefix_mask4(len)) == 0;
    return prefix_match6(a->v6, prefix->v6, len);
}
