/* steer.h — which stack of a steered group (synack_steer) owns a flow: a
 * keyed hash of the flow's two ends, symmetric so that both directions of
 * the flow name the same stack. */
#ifndef SYNACK_BASE_STEER_H
#define SYNACK_BASE_STEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synack.h"

static inline bool steer_active(const synack_steer *st) { return st->count > 1; }

/* The last step, for whoever folded a flow's ends themselves (XOR of the
 * addresses' 32-bit big-endian words, XOR of the ports): the member. The
 * eBPF steering program computes exactly this. */
uint32_t steer_mix(const synack_steer *st, uint32_t addrs, uint16_t ports);

/* The owner of the flow between a:aport and b:bport, addresses of `alen`
 * bytes (4 or 16) in network order; ports 0 for flows steered by
 * addresses only. */
uint32_t steer_owner(const synack_steer *st, const uint8_t *a, uint16_t aport, const uint8_t *b,
                     uint16_t bport, size_t alen);

/* The owner of a flow between two synack addresses: by ports too when
 * `tcp`, else by addresses alone. */
uint32_t steer_flow_owner(const synack_steer *st, bool tcp, const synack_addr *a, uint16_t aport,
                          const synack_addr *b, uint16_t bport);

/* A TCP connection between two synack addresses: is it this stack's?
 * (Always, without steering.) */
bool steer_tcp_mine(const synack_steer *st, const synack_addr *a, uint16_t aport,
                    const synack_addr *b, uint16_t bport);

#endif
