/* ring.c — byte ring buffer; two memcpy calls at most per operation. */
#include "base/ring.h"

#include <string.h>

int ring_init(ring *r, uint32_t cap, const synack_allocator *a)
{
    r->buf = cap ? mem_alloc(a, cap) : NULL;
    r->cap = r->buf ? cap : 0;
    r->head = r->used = 0;
    return cap && !r->buf ? -1 : 0;
}

void ring_free(ring *r, const synack_allocator *a)
{
    mem_free(a, r->buf);
    r->buf = NULL;
    r->cap = r->head = r->used = 0;
}

void ring_adopt(ring *r, uint8_t *buf, uint32_t cap)
{
    r->buf = buf;
    r->cap = buf ? cap : 0;
    r->head = r->used = 0;
}

uint8_t *ring_detach(ring *r)
{
    uint8_t *b = r->buf;
    ring_adopt(r, NULL, 0);
    return b;
}

int ring_grow(ring *r, uint32_t cap, const synack_allocator *a)
{
    if (cap <= r->cap)
        return 0;
    uint8_t *b = mem_alloc(a, cap);
    if (!b)
        return -1;
    if (r->cap) { /* linearise the whole old ring from the head */
        uint32_t first = r->cap - r->head;
        memcpy(b, r->buf + r->head, first);
        memcpy(b + first, r->buf, r->head);
    }
    mem_free(a, r->buf);
    r->buf = b;
    r->cap = cap;
    r->head = 0;
    return 0;
}

/* Copy into the ring at absolute index `pos` (wrapping). */
static void copy_in(ring *r, uint32_t pos, const uint8_t *src, uint32_t len)
{
    uint32_t first = r->cap - pos;
    if (first > len)
        first = len;
    memcpy(r->buf + pos, src, first);
    memcpy(r->buf, src + first, len - first);
}

static uint32_t wrap(const ring *r, uint64_t pos) { return (uint32_t)(pos % r->cap); }

void ring_write_at(ring *r, uint32_t off, const void *data, uint32_t len)
{
    if (len)
        copy_in(r, wrap(r, (uint64_t)r->head + r->used + off), data, len);
}

void ring_commit(ring *r, uint32_t len) { r->used += len; }

uint32_t ring_write(ring *r, const void *data, uint32_t len)
{
    uint32_t room = ring_free_space(r);
    if (len > room)
        len = room;
    ring_write_at(r, 0, data, len);
    r->used += len;
    return len;
}

void ring_peek(const ring *r, uint32_t off, void *out, uint32_t len)
{
    if (!len)
        return;
    uint32_t pos = wrap(r, (uint64_t)r->head + off);
    uint32_t first = r->cap - pos;
    if (first > len)
        first = len;
    memcpy(out, r->buf + pos, first);
    memcpy((uint8_t *)out + first, r->buf, len - first);
}

void ring_span(const ring *r, uint32_t off, uint32_t len, const uint8_t **p1, uint32_t *l1,
               const uint8_t **p2, uint32_t *l2)
{
    uint32_t pos = len ? wrap(r, (uint64_t)r->head + off) : 0;
    uint32_t first = r->cap - pos;
    if (first > len)
        first = len;
    *p1 = r->buf + pos;
    *l1 = first;
    *p2 = r->buf;
    *l2 = len - first;
}

void ring_free_span(ring *r, uint8_t **p1, uint32_t *l1, uint8_t **p2, uint32_t *l2)
{
    uint32_t len = ring_free_space(r);
    uint32_t pos = len ? wrap(r, (uint64_t)r->head + r->used) : 0;
    uint32_t first = r->cap - pos;
    if (first > len)
        first = len;
    *p1 = r->buf + pos;
    *l1 = first;
    *p2 = r->buf;
    *l2 = len - first;
}

void ring_consume(ring *r, uint32_t len)
{
    if (len > r->used)
        len = r->used;
    if (len == 0)
        return; /* also: a ring not allocated yet (buffers come with data) */
    r->used -= len;
    r->head = wrap(r, (uint64_t)r->head + len); /* never reset: out-of-order bytes may sit past the end */
}

uint32_t ring_read(ring *r, void *out, uint32_t len)
{
    if (len > r->used)
        len = r->used;
    ring_peek(r, 0, out, len);
    ring_consume(r, len);
    return len;
}
