/* receive.c — the receive queue: in-window text stored in place in the
 * receive ring, out-of-order ranges remembered (newest first, for SACK) and
 * pulled in when the hole before them fills (RFC 9293 §3.10.7.4 seventh). */
#include "tcp/tcp.h"

#include "base/seq.h"

#include <string.h>

void tcp_ooo_clear(tcb *t)
{
    t->rcv.nooo = 0;
    mem_free(t->ctx->alloc, t->rcv.ooo);
    t->rcv.ooo = NULL;
}

/* Data at RCV.NXT: append it, then pull in the out-of-order ranges it
 * now reaches. */
static void append_in_order(tcb *t, const uint8_t *data, uint32_t len)
{
    ring_write_at(&t->rcv.buf, 0, data, len);
    ring_commit(&t->rcv.buf, len);
    t->rcv.nxt += len;
    t->stats.bytes_received += len;
    bool merged;
    do {
        merged = false;
        for (uint8_t i = 0; i < t->rcv.nooo; i++) {
            seq_range *r = &t->rcv.ooo[i];
            if (seq_leq(r->start, t->rcv.nxt)) {
                if (seq_gt(r->end, t->rcv.nxt)) {
                    uint32_t more = r->end - t->rcv.nxt;
                    ring_commit(&t->rcv.buf, more);
                    t->rcv.nxt += more;
                    t->stats.bytes_received += more;
                }
                *r = t->rcv.ooo[--t->rcv.nooo];
                merged = true;
                break;
            }
        }
    } while (merged);
    if (t->rcv.ooo && !t->rcv.nooo)
        tcp_ooo_clear(t); /* the holes are filled */
}

/* Data beyond a hole: keep it in place in the ring and remember the range,
 * merged with the ranges it touches. */
static void store_out_of_order(tcb *t, uint32_t seq, uint32_t off, const uint8_t *data,
                               uint32_t len)
{
    tcp_ctx *c = t->ctx;
    uint32_t start = seq, end = seq + len;
    for (uint8_t i = 0; i < t->rcv.nooo;) {
        seq_range *r = &t->rcv.ooo[i];
        if (seq_leq(r->start, end) && seq_leq(start, r->end)) {
            start = seq_min(start, r->start);
            end = seq_max(end, r->end);
            *r = t->rcv.ooo[--t->rcv.nooo];
            continue;
        }
        i++;
    }
    if (t->rcv.nooo >= c->sys->tcp_max_ooo_segments || t->rcv.nooo >= TCP_OOO_MAX) {
        c->ctr->tcp_ofo_drop++;
        return;
    }
    if (!t->rcv.ooo && !(t->rcv.ooo = mem_alloc(c->alloc, TCP_OOO_MAX * sizeof(seq_range)))) {
        tcp_drop(c, t, SYNACK_DROP_NO_MEMORY); /* the peer sends it again */
        return;
    }
    ring_write_at(&t->rcv.buf, off, data, len);
    /* Newest block first, as RFC 2018 §4 asks of the first SACK block. */
    memmove(&t->rcv.ooo[1], &t->rcv.ooo[0], t->rcv.nooo * sizeof(t->rcv.ooo[0]));
    t->rcv.ooo[0] = (seq_range){start, end};
    t->rcv.nooo++;
    c->ctr->tcp_ofo_queue++;
}

/* Direct delivery (SYNACK_TCP_DIRECT_DATA): in-order data that finds
 * nothing buffered before it and no hole after goes to the application
 * where it lies, without the copy into the ring; what it does not take is
 * buffered. Returns the bytes taken. */
static uint32_t deliver_direct(tcb *t, const uint8_t *data, uint32_t len)
{
    tcp_ctx *c = t->ctx;
    /* Only a handle the application holds: not one still waiting in the
     * accept queue (children inherit the listener's options), nor an orphan. */
    if (!t->sockopt.direct || !c->data || !t->is.app_owned || t->rcv.shut || t->rcv.nooo ||
        (t->rcv.buf.buf && t->rcv.buf.used))
        return 0;
    size_t took = c->data(c->data_ctx, t, data, len);
    /* More than it was given is not a count (a -1 passed on from send()):
     * nothing was taken, and the bytes are buffered. */
    uint32_t n = took <= len ? (uint32_t)took : 0;
    t->rcv.nxt += n;
    t->stats.bytes_received += n;
    if (n && t->rcv.last_small && !t->sockopt.ack_delay_us)
        tcb_owe_ack(t); /* as a read of a short write (user.c): no write-write-read stall */
    return n;
}

int tcp_receive_text(tcb *t, uint32_t seq, const uint8_t *data, uint32_t len)
{
    if (seq == t->rcv.nxt) {
        uint32_t took = deliver_direct(t, data, len);
        if (took == len)
            return TCP_TEXT_TAKEN;
        seq += took;
        data += took;
        len -= took;
    }
    uint32_t off = seq - t->rcv.nxt;
    if (!t->rcv.buf.buf && off && t->ctx->mem_pressure) {
        t->ctx->ctr->tcp_ofo_drop++; /* no ring for out-of-order data under pressure (mem.c) */
        return TCP_TEXT_HELD;
    }
    if (tcp_buf_attach(t, TCP_BUF_RECV)) {
        tcp_drop(t->ctx, t, SYNACK_DROP_NO_MEMORY);
        return TCP_TEXT_HELD; /* the peer sends it again */
    }
    uint32_t space = ring_free_space(&t->rcv.buf);
    if (off >= space) {
        t->ctx->ctr->tcp_rcv_buf_drop++;
        return TCP_TEXT_HELD;
    }
    if (len > space - off) { /* the tail finds no room (a window we could not keep: mem.c) */
        t->ctx->ctr->tcp_rcv_buf_drop++;
        len = space - off;
    }
    if (off != 0) {
        store_out_of_order(t, seq, off, data, len);
        return TCP_TEXT_HELD;
    }
    append_in_order(t, data, len);
    return TCP_TEXT_BUFFERED;
}
