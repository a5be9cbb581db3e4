/* memlink.c — two stacks joined by in-memory frame queues, no delay.
 *
 * An inbox is a byte ring of records: a 32-bit length, the frame, padding
 * to 8 bytes. A record never wraps: when it does not fit before the end of
 * the buffer, a wrap marker (or, with no room for one, the end itself)
 * sends writer and reader back to offset 0, and the skipped bytes count as
 * used until the reader passes them. */
#include "dev/memlink.h"

#include <stdlib.h>
#include <string.h>

#define REC_HDR 4u
#define REC_ALIGN 8u
#define WRAP_MARK UINT32_MAX

typedef struct inbox {
    uint8_t *buf;
    size_t cap;        /* multiple of REC_ALIGN */
    size_t head, tail; /* next record to read / where the next one goes */
    size_t used;       /* bytes from head to tail, skipped tails included */
    size_t count;      /* records waiting */
} inbox;

typedef struct side {
    memlink *link;
    int index;
    synack_stack *stack;
    inbox in;
    memlink_stats st;
} side;

struct memlink {
    side s[2];
};

static size_t rec_size(size_t len)
{
    return (REC_HDR + len + REC_ALIGN - 1) & ~(size_t)(REC_ALIGN - 1);
}

memlink *memlink_new(size_t queue_bytes)
{
    if (queue_bytes == 0)
        queue_bytes = MEMLINK_DEFAULT_QUEUE;
    queue_bytes = (queue_bytes + REC_ALIGN - 1) & ~(size_t)(REC_ALIGN - 1);
    memlink *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    for (int i = 0; i < 2; i++) {
        m->s[i].link = m;
        m->s[i].index = i;
        m->s[i].in.cap = queue_bytes;
        m->s[i].in.buf = malloc(queue_bytes);
        if (!m->s[i].in.buf) {
            memlink_free(m);
            return NULL;
        }
    }
    return m;
}

void memlink_free(memlink *m)
{
    if (!m)
        return;
    free(m->s[0].in.buf);
    free(m->s[1].in.buf);
    free(m);
}

static void memlink_output_v(void *ctx, const synack_iov *v, int n, size_t len);

void memlink_config(memlink *m, int side_index, synack_config *cfg)
{
    cfg->output = memlink_output;
    cfg->output_v = memlink_output_v;
    cfg->output_ctx = &m->s[side_index & 1];
}

void memlink_attach(memlink *m, int side_index, synack_stack *s) { m->s[side_index & 1].stack = s; }

synack_stack *memlink_stack(const memlink *m, int side_index) { return m->s[side_index & 1].stack; }

/* Reserve a record of `len` bytes at the tail; NULL when it does not fit. */
static uint8_t *inbox_reserve(inbox *q, size_t len)
{
    size_t rec = rec_size(len);
    if (q->used == 0)
        q->head = q->tail = 0; /* empty: start over at the front */
    if (rec > q->cap || q->used + rec > q->cap)
        return NULL;
    if (q->tail >= q->head) {
        if (q->cap - q->tail < rec) { /* not before the end: wrap, if the front has room */
            if (q->head < rec)
                return NULL;
            size_t skip = q->cap - q->tail;
            if (skip >= REC_HDR) {
                uint32_t mark = WRAP_MARK;
                memcpy(q->buf + q->tail, &mark, REC_HDR);
            }
            q->used += skip;
            q->tail = 0;
        }
    } else if (q->head - q->tail < rec) {
        return NULL;
    }
    uint8_t *p = q->buf + q->tail;
    uint32_t l32 = (uint32_t)len;
    memcpy(p, &l32, REC_HDR);
    q->tail += rec;
    q->used += rec;
    q->count++;
    return p + REC_HDR;
}

/* Room for a frame of `len` bytes in the other side's inbox, counted as
 * queued; NULL (counted as dropped) when it does not fit. */
static uint8_t *reserve_frame(side *from, size_t len)
{
    side *to = &from->link->s[from->index ^ 1];
    uint8_t *p = len <= UINT32_MAX - 64 ? inbox_reserve(&to->in, len) : NULL;
    if (!p) {
        to->st.dropped++;
        return NULL;
    }
    to->st.queued++;
    if (to->in.count > to->st.max_backlog)
        to->st.max_backlog = (uint32_t)to->in.count;
    return p;
}

void memlink_output(void *ctx, const void *frame, size_t len)
{
    uint8_t *p = reserve_frame(ctx, len);
    if (p)
        memcpy(p, frame, len);
}

/* output_v: the pieces go into the record as one frame, the only copy
 * of a segment's payload between the two stacks' buffers. */
static void memlink_output_v(void *ctx, const synack_iov *v, int n, size_t len)
{
    uint8_t *p = reserve_frame(ctx, len);
    for (int i = 0; p && i < n; i++) {
        memcpy(p, v[i].base, v[i].len);
        p += v[i].len;
    }
}

/* Hand up to `max` queued frames to the side's stack. */
static size_t deliver(side *d, uint64_t now, size_t max)
{
    inbox *q = &d->in;
    size_t n = 0;
    if (!d->stack)
        return 0;
    if (max == 0 || max > q->count)
        max = q->count;
    while (n < max && q->count) {
        uint32_t len;
        if (q->cap - q->head < REC_HDR ||
            (memcpy(&len, q->buf + q->head, REC_HDR), len == WRAP_MARK)) {
            q->used -= q->cap - q->head;
            q->head = 0;
            continue;
        }
        size_t rec = rec_size(len);
        /* The record stays reserved during the call: frames the other side
         * sends meanwhile (from an event handler) queue behind it. */
        synack_input(d->stack, q->buf + q->head + REC_HDR, len, now);
        q->head += rec;
        q->used -= rec;
        q->count--;
        d->st.frames++;
        d->st.bytes += len;
        n++;
    }
    return n;
}

size_t memlink_pump(memlink *m, uint64_t now_ns, size_t batch)
{
    size_t n = deliver(&m->s[0], now_ns, batch);
    n += deliver(&m->s[1], now_ns, batch);
    for (int i = 0; i < 2; i++)
        if (m->s[i].stack)
            synack_poll(m->s[i].stack, now_ns);
    return n;
}

size_t memlink_drain(memlink *m, uint64_t now_ns, size_t max_rounds)
{
    size_t total = 0;
    for (size_t r = 0; (max_rounds == 0 || r < max_rounds) && memlink_pending_all(m); r++)
        total += memlink_pump(m, now_ns, 0);
    return total;
}

size_t memlink_pending(const memlink *m, int side_index) { return m->s[side_index & 1].in.count; }

size_t memlink_pending_all(const memlink *m) { return m->s[0].in.count + m->s[1].in.count; }

const memlink_stats *memlink_get_stats(const memlink *m, int side_index)
{
    return &m->s[side_index & 1].st;
}
