/* siphash.h — SipHash-2-4 (Aumasson & Bernstein): a keyed hash for hash
 * tables an attacker feeds and for RFC 6528 ISNs / RFC 6056 port offsets. */
#ifndef SYNACK_SIPHASH_H
#define SYNACK_SIPHASH_H
#include <stddef.h>
#include <stdint.h>

typedef struct siphash_key { uint64_t k0, k1; } siphash_key;

uint64_t siphash24(const siphash_key *key, const void *data, size_t len);

#endif
