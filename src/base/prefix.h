/* prefix.h — address prefixes (CIDR) of either family: the mask of an IPv4
 * prefix length, and whether an address lies inside a prefix. One place
 * for the arithmetic routes, listeners, transparent sockets and
 * impersonated prefixes all need. */
#ifndef SYNACK_BASE_PREFIX_H
#define SYNACK_BASE_PREFIX_H

#include <stdbool.h>
#include <stdint.h>

#include "synack.h"

/* The host-order mask of an IPv4 prefix of `len` bits (above 32: 32). */
static inline uint32_t prefix_mask4(unsigned len)
{
    return len == 0 ? 0 : 0xffffffffu << (32 - (len > 32 ? 32 : len));
}

/* Are the first `len` bits (above 128: 128) of two IPv6 addresses equal? */
bool prefix_match6(const uint8_t a[16], const uint8_t b[16], unsigned len);

/* Is `a` inside prefix/len? False when the families differ. */
bool prefix_covers(const synack_addr *prefix, unsigned len, const synack_addr *a);

#endif
