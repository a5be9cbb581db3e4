/* mem.c — the buffer memory of all connections, bounded by tcp_mem.
 *
 * A connection's send and receive rings come with the data and go when
 * they are empty (tcp.h, "Buffers come and go"), so an idle connection
 * holds only its record. The rings that exist are counted here, in bytes
 * of capacity, and held to Linux's net.ipv4.tcp_mem, three numbers of
 * 4 KiB pages:
 *   - from tcp_mem[0] on, buffers no longer grow (autotuning stops);
 *   - above tcp_mem[1] the stack is under memory pressure (counted in
 *     TcpExtTCPMemoryPressures) until it falls below tcp_mem[0]: a new
 *     ring is no larger than the default size (tcp_rmem[1], tcp_wmem[1])
 *     — but never smaller than the window already offered, so nothing
 *     inside it is dropped — so new windows shrink back; and out-of-order
 *     data is neither given a ring nor kept once the application has read
 *     up to its hole;
 *   - a ring that would take the total above tcp_mem[2] is allocated at
 *     the minimum every connection keeps (tcp_rmem[0], tcp_wmem[0]), as
 *     Linux does: data beyond it is dropped and counted, and the peer
 *     sends it again. The minimum is what keeps two connections that wait
 *     on each other from deadlocking; it bounds the total by tcp_mem[2]
 *     plus that minimum per connection.
 * Freeing a ring the moment it empties would make a bulk receiver, whose
 * application drains the ring often, allocate megabytes per segment; so a
 * stack keeps up to TCP_SPARE_RINGS emptied rings (at most tcp_rmem[2] +
 * tcp_wmem[2] bytes, none under pressure; the oldest make room for the one
 * that empties) and gives them to the next connection that needs that
 * size. They belong to no connection and are not counted in tcp_mem.
 * Known cost: a ring is charged at its capacity, so out-of-order bytes
 * beyond a hole hold a whole ring (128 KiB by default) until the hole
 * fills, where Linux charges the segment alone. */
#include "tcp/tcp.h"

#include "base/seq.h"

#include <errno.h>
#include <string.h>

#define PAGE 4096u

static uint64_t pages(uint64_t bytes) { return (bytes + PAGE - 1) / PAGE; }

static ring *buf_of(tcb *t, tcp_buf_kind k) { return k == TCP_BUF_SEND ? &t->snd.buf : &t->rcv.buf; }

static const uint32_t *limits_of(const tcb *t, tcp_buf_kind k)
{
    return k == TCP_BUF_SEND ? t->ctx->sys->tcp_wmem : t->ctx->sys->tcp_rmem;
}

void tcp_buf_free_spares(tcp_ctx *c)
{
    while (c->nspare)
        mem_free(c->alloc, c->spare[--c->nspare].buf);
    c->spare_bytes = 0;
}

/* Pressure starts above tcp_mem[1] and ends below tcp_mem[0] (Linux). */
static void account(tcp_ctx *c, int64_t delta)
{
    c->mem_bytes = (uint64_t)((int64_t)c->mem_bytes + delta);
    uint64_t p = pages(c->mem_bytes);
    if (!c->mem_pressure && p > c->sys->tcp_mem[1]) {
        c->mem_pressure = true;
        c->ctr->tcp_memory_pressures++;
        tcp_buf_free_spares(c);
    } else if (c->mem_pressure && p < c->sys->tcp_mem[0]) {
        c->mem_pressure = false;
    }
}

uint32_t tcp_buf_size_now(const tcb *t, tcp_buf_kind k)
{
    const tcp_ctx *c = t->ctx;
    const uint32_t *lim = limits_of(t, k);
    uint32_t size = k == TCP_BUF_SEND ? t->snd.buf_size : t->rcv.buf_size;
    if (c->mem_pressure && size > lim[1])
        size = lim[1];
    if (k == TCP_BUF_RECV && seq_gt(t->rcv.adv, t->rcv.nxt + size)) {
        uint32_t offered = t->rcv.adv - t->rcv.nxt; /* a window is a promise: keep it */
        size = offered < t->rcv.buf_size ? offered : t->rcv.buf_size;
    }
    if (pages(c->mem_bytes + size) > c->sys->tcp_mem[2] && size > lim[0])
        size = lim[0];
    return size;
}

/* A spare ring of exactly `size` bytes becomes r's. */
static bool take_spare(tcp_ctx *c, ring *r, uint32_t size)
{
    for (uint32_t i = 0; i < c->nspare; i++) {
        if (c->spare[i].cap == size) {
            ring_adopt(r, c->spare[i].buf, size);
            c->spare_bytes -= size;
            c->nspare--; /* keep the rest oldest first (see tcp_buf_release) */
            memmove(&c->spare[i], &c->spare[i + 1], (c->nspare - i) * sizeof(c->spare[0]));
            return true;
        }
    }
    return false;
}

int tcp_buf_attach(tcb *t, tcp_buf_kind k)
{
    ring *r = buf_of(t, k);
    if (r->buf)
        return 0;
    tcp_ctx *c = t->ctx;
    uint32_t size = tcp_buf_size_now(t, k);
    if (!take_spare(c, r, size) && ring_init(r, size, c->alloc)) {
        c->ctr->tcp_no_memory++;
        return -ENOMEM;
    }
    account(c, size);
    return 0;
}

int tcp_buf_grow(tcb *t, tcp_buf_kind k, uint32_t cap)
{
    ring *r = buf_of(t, k);
    uint32_t old = r->cap;
    /* Linux's tcp_should_expand_sndbuf: no growth from tcp_mem[0] on. */
    if (t->ctx->mem_pressure || pages(t->ctx->mem_bytes + cap - old) >= t->ctx->sys->tcp_mem[0])
        return -ENOBUFS;
    if (ring_grow(r, cap, t->ctx->alloc)) {
        t->ctx->ctr->tcp_no_memory++;
        return -ENOMEM;
    }
    account(t->ctx, (int64_t)r->cap - old);
    return 0;
}

void tcp_buf_release(tcb *t, tcp_buf_kind k)
{
    ring *r = buf_of(t, k);
    if (!r->buf)
        return;
    tcp_ctx *c = t->ctx;
    uint32_t cap = r->cap;
    account(c, -(int64_t)cap);
    uint8_t *b = ring_detach(r);
    uint64_t budget = (uint64_t)c->sys->tcp_rmem[2] + c->sys->tcp_wmem[2];
    if (c->mem_pressure || cap > budget) {
        mem_free(c->alloc, b);
    } else {
        /* The ring that just emptied is the likeliest to be wanted again (a
         * bulk receiver whose application keeps up empties it every
         * segment): the oldest spares make room for it. Turning it away
         * instead let rings of sizes nobody asks for any more (earlier
         * connections' grown buffers) hold the budget for good, and cost a
         * multi-megabyte allocation and free per segment. */
        while (c->nspare && (c->nspare == TCP_SPARE_RINGS || c->spare_bytes + cap > budget)) {
            c->spare_bytes -= c->spare[0].cap;
            mem_free(c->alloc, c->spare[0].buf);
            c->nspare--;
            memmove(&c->spare[0], &c->spare[1], c->nspare * sizeof(c->spare[0]));
        }
        c->spare[c->nspare++] = (struct tcp_spare_ring){b, cap};
        c->spare_bytes += cap;
    }
    if (k == TCP_BUF_RECV)
        tcp_ooo_clear(t); /* out-of-order ranges lived in the ring */
}

bool tcp_buf_fits(const tcp_ctx *c, uint32_t bytes)
{
    return pages(c->mem_bytes + bytes) <= c->sys->tcp_mem[2];
}

void tcp_buf_adopt_full(tcb *t, tcp_buf_kind k, uint8_t *buf, uint32_t cap)
{
    tcp_buf_release(t, k);
    ring *r = buf_of(t, k);
    ring_adopt(r, buf, cap);
    ring_commit(r, cap);
    account(t->ctx, cap);
}

void tcp_buf_release_if_empty(tcb *t, tcp_buf_kind k)
{
    ring *r = buf_of(t, k);
    if (!r->buf || r->used)
        return;
    if (k == TCP_BUF_RECV && t->rcv.nooo) {
        if (!t->ctx->mem_pressure)
            return; /* the out-of-order data stays for the hole to fill */
        t->ctx->ctr->tcp_ofo_pruned++; /* RFC 2018 §8 lets a receiver renege */
    }
    tcp_buf_release(t, k);
}
