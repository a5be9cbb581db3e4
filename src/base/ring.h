/* ring.h — a byte ring buffer for a connection's send or receive stream.
 *
 * The ring holds `used` bytes starting at `head`. Bytes may also be written
 * past the used region (at an offset) without making them readable: the
 * receive side stores out-of-order data there until the hole fills. */
#ifndef SYNACK_RING_H
#define SYNACK_RING_H
#include <stddef.h>
#include <stdint.h>

#include "base/alloc.h"

typedef struct ring {
    uint8_t *buf;
    uint32_t cap;
    uint32_t head; /* index of the first used byte */
    uint32_t used;
} ring;

/* Allocate `cap` bytes from `a` (NULL: libc). Returns 0 or -1. */
int ring_init(ring *r, uint32_t cap, const synack_allocator *a);
void ring_free(ring *r, const synack_allocator *a);
/* Make an empty ring of `cap` bytes at buf (memory the caller allocated). */
void ring_adopt(ring *r, uint8_t *buf, uint32_t cap);
/* Empty the ring and hand its memory to the caller (NULL if it had none). */
uint8_t *ring_detach(ring *r);
static inline uint32_t ring_free_space(const ring *r) { return r->cap - r->used; }

/* Grow to `cap` bytes, keeping every byte at its offset from the head
 * (used bytes and anything written past them). Returns 0 or -1. */
int ring_grow(ring *r, uint32_t cap, const synack_allocator *a);
/* Append up to len bytes; returns the count appended. */
uint32_t ring_write(ring *r, const void *data, uint32_t len);
/* Write len bytes at `off` bytes past the end of the used region, without
 * changing `used`. The caller guarantees off + len <= free space. */
void ring_write_at(ring *r, uint32_t off, const void *data, uint32_t len);
/* Grow the used region by len bytes already written with ring_write_at. */
void ring_commit(ring *r, uint32_t len);
/* Copy len bytes starting `off` bytes into the used region. */
void ring_peek(const ring *r, uint32_t off, void *out, uint32_t len);
/* Where len bytes starting `off` bytes into the used region lie: one or
 * two pieces (*l2 = 0 when the range does not wrap). */
void ring_span(const ring *r, uint32_t off, uint32_t len, const uint8_t **p1, uint32_t *l1,
               const uint8_t **p2, uint32_t *l2);
/* Where the free space after the used region lies: one or two pieces
 * (*l2 = 0 when it does not wrap). For writing before ring_commit. */
void ring_free_span(ring *r, uint8_t **p1, uint32_t *l1, uint8_t **p2, uint32_t *l2);
/* Drop len bytes from the front. */
void ring_consume(ring *r, uint32_t len);
/* Read and consume up to len bytes; returns the count. */
uint32_t ring_read(ring *r, void *out, uint32_t len);

#endif
