/* steer.h — which stack of a steered group (synack_steer) owns a flow: a
 * keyed hash of the flow's two ends, taken in a fixed order so that both
 * directions of the flow name the same stack. */
#ifndef SYNACK_BASE_STEER_H
#define SYNACK_BASE_STEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synack.h"

static inline bool steer_active(const synack_steer *st) { return st->count > 1; }

/* The owner of the flow between a:aport and b:bport, addresses of `alen`
 * bytes (4 or 16) in network order; ports 0 for flows steered by
 * addresses only. */
uint32_t steer_owner(const synack_steer *st, const uint8_t *a, uint16_t aport, const uint8_t *b,
                     uint16_t bport, size_t alen);

/* The same for a TCP connection between two synack addresses: is it this
 * stack's? (Always, without steering.) */
bool steer_tcp_mine(const synack_steer *st, const synack_addr *a, uint16_t aport,
                    const synack_addr *b, uint16_t bport);

#endif
