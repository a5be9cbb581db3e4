/* siphash.h — SipHash-2-4 (Aumasson & Bernstein): a keyed hash for hash
 * tables an attacker feeds and for RFC 6528 ISNs / RFC 6056 port offsets. */
#ifndef SYNACK_SIPHASH_H
#define SYNACK_SIPHASH_H
#include <stddef.h>
#include <stdint.h>

typedef struct siphash_key { uint64_t k0, k1; } siphash_key;

uint64_t siphash24(const siphash_key *key, const void *data, size_t len);
/* SipHash-1-3: one round per block and three to finish, about twice as
 * fast for the short keys of a lookup. For hash-table buckets, where the
 * output is never seen (as CPython and Rust's std use it); ISNs, SYN
 * cookies and port offsets, which the peer sees, keep SipHash-2-4. */
uint64_t siphash13(const siphash_key *key, const void *data, size_t len);

#endif
