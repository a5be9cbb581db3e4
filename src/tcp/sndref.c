/* sndref.c — data sent by reference (synack_send_ref, MSG_ZEROCOPY's job):
 * the stack keeps a pointer to the application's bytes instead of copying
 * them into the send ring, builds segments from them where they lie, and
 * releases each reference when all of its bytes are acknowledged (or when
 * the connection will send nothing more).
 *
 * The send stream [SND.buf_seq, + tcp_snd_queued) is the ring's bytes and
 * the referenced ones, in the order the application queued them: each
 * reference knows its sequence number, and everything between references
 * is the ring's, in order. The references' running byte count (end_total)
 * says how many referenced bytes lie below a point, so the ring offset of
 * any ring byte is found with one binary search. The table of references
 * exists only while some are outstanding (emptied ones are kept by the
 * stack for the next, TCP_SNDREF_SPARES of them): a connection with none
 * carries a NULL pointer and the count released. */
#include "tcp/tcp.h"

#include "base/seq.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

static bool refs_live(const struct tcp_sndrefs *q) { return q && q->lo != q->n; }

/* An empty table: a spare, or a new one (NULL without memory). */
static struct tcp_sndrefs *table_get(tcp_ctx *c)
{
    struct tcp_sndrefs *q =
        c->nsndref_spare ? c->sndref_spare[--c->nsndref_spare] : mem_alloc(c->alloc, sizeof(*q));
    if (q)
        memset(q, 0, offsetof(struct tcp_sndrefs, r)); /* the records are written before read */
    return q;
}

/* The table emptied: back to the spares (or freed). */
static void table_put(tcb *t)
{
    tcp_ctx *c = t->ctx;
    struct tcp_sndrefs *q = t->snd.refs;
    t->snd.refs = NULL;
    if (!q)
        return;
    if (c->nsndref_spare < TCP_SNDREF_SPARES)
        c->sndref_spare[c->nsndref_spare++] = q;
    else
        mem_free(c->alloc, q);
}

void tcp_snd_refs_free_spares(tcp_ctx *c)
{
    while (c->nsndref_spare)
        mem_free(c->alloc, c->sndref_spare[--c->nsndref_spare]);
}

static uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }

/* The first live reference ending after seq (q->n: none). */
static uint8_t first_ending_after(const struct tcp_sndrefs *q, uint32_t seq)
{
    uint8_t a = q->lo, b = q->n;
    while (a < b) {
        uint8_t m = (uint8_t)(a + (b - a) / 2);
        if (seq_gt(q->r[m].seq + q->r[m].len, seq))
            b = m;
        else
            a = (uint8_t)(m + 1);
    }
    return a;
}

/* Referenced bytes still queued below reference i (all of [lo, i)). */
static uint32_t ref_bytes_before(const struct tcp_sndrefs *q, uint8_t i)
{
    return (i > q->lo ? q->r[i - 1].end_total : q->acked_total) - q->acked_total;
}

uint32_t tcp_snd_span(const tcb *t, uint32_t off, uint32_t len, synack_iov *v, uint32_t max,
                      uint32_t *covered)
{
    const struct tcp_sndrefs *q = t->snd.refs;
    uint32_t s = t->snd.buf_seq + off, done = 0, np = 0;
    uint8_t i = refs_live(q) ? first_ending_after(q, s) : 0;
    uint8_t end = refs_live(q) ? q->n : 0;
    while (done < len && np < max) {
        if (i < end && seq_geq(s, q->r[i].seq)) { /* inside reference i */
            uint32_t in = s - q->r[i].seq, take = min32(len - done, q->r[i].len - in);
            v[np++] = (synack_iov){.base = (void *)(q->r[i].base + in), .len = take};
            s += take;
            done += take;
            i++;
            continue;
        }
        /* Ring bytes up to the next reference: their ring offset is the
         * stream offset less the referenced bytes below them. */
        uint32_t take = min32(len - done, i < end ? q->r[i].seq - s : UINT32_MAX);
        uint32_t roff = (s - t->snd.buf_seq) - (refs_live(q) ? ref_bytes_before(q, i) : 0);
        const uint8_t *p1, *p2;
        uint32_t l1, l2;
        ring_span(&t->snd.buf, roff, take, &p1, &l1, &p2, &l2);
        v[np++] = (synack_iov){.base = (void *)p1, .len = l1};
        if (l2 && np < max)
            v[np++] = (synack_iov){.base = (void *)p2, .len = l2};
        else
            take = l1;
        s += take;
        done += take;
    }
    *covered = done;
    return np;
}

void tcp_snd_copy(const tcb *t, uint32_t off, uint32_t len, uint8_t *out)
{
    while (len) {
        synack_iov v[8];
        uint32_t got, n = tcp_snd_span(t, off, len, v, 8, &got);
        for (uint32_t i = 0; i < n; i++) {
            memcpy(out, v[i].base, v[i].len);
            out += v[i].len;
        }
        if (!got)
            return; /* cannot happen: the stream holds [off, off + len) */
        off += got;
        len -= got;
    }
}

/* Every reference is released: nothing more will be sent or resent. */
static void release_all(tcb *t)
{
    struct tcp_sndrefs *q = t->snd.refs;
    if (!refs_live(q))
        return;
    t->snd.refs_done += (uint32_t)(q->n - q->lo);
    table_put(t);
    tcb_signal(t, SYNACK_EV_REFS_DONE);
}

void tcp_snd_consume(tcb *t, uint32_t n)
{
    struct tcp_sndrefs *q = t->snd.refs;
    if (!refs_live(q)) {
        ring_consume(&t->snd.buf, n);
        t->snd.buf_seq += n;
        return;
    }
    bool released = false;
    while (n) {
        struct tcp_sndref *r = q->lo < q->n ? &q->r[q->lo] : NULL;
        uint32_t d;
        if (r && r->seq == t->snd.buf_seq) {
            d = min32(n, r->len);
            r->seq += d;
            r->base += d;
            r->len -= d;
            q->acked_total += d;
            q->bytes -= d;
            if (r->len == 0) {
                q->lo++;
                t->snd.refs_done++;
                released = true;
            }
        } else {
            d = r ? min32(n, r->seq - t->snd.buf_seq) : n;
            ring_consume(&t->snd.buf, d);
        }
        t->snd.buf_seq += d;
        n -= d;
    }
    if (q->lo == q->n)
        table_put(t);
    if (released)
        tcb_signal(t, SYNACK_EV_REFS_DONE);
}

ssize_t tcp_user_send_ref(tcb *t, const void *buf, size_t len)
{
    int e = tcp_send_allowed(t);
    if (e)
        return e;
    if (len == 0)
        return 0;
    if (!buf)
        return -EINVAL;
    struct tcp_sndrefs *q = t->snd.refs;
    if (!q && !(q = t->snd.refs = table_get(t->ctx))) {
        t->ctx->ctr->tcp_no_memory++;
        return -ENOMEM;
    }
    /* As much as the largest send buffer may hold (and TCP_SEND_REF_BYTES,
     * so that with a full ring the stream stays far below 2^31 bytes), and
     * TCP_SEND_REFS references: what close would have to copy stays
     * bounded. */
    uint32_t max = t->ctx->sys->tcp_wmem[2] < TCP_SEND_REF_BYTES ? t->ctx->sys->tcp_wmem[2]
                                                                  : TCP_SEND_REF_BYTES;
    uint32_t room = max > q->bytes ? max - q->bytes : 0;
    if (room == 0 || (q->n == TCP_SEND_REFS && q->lo == 0))
        return -EAGAIN;
    if (q->n == TCP_SEND_REFS) {
        memmove(&q->r[0], &q->r[q->lo], (size_t)(q->n - q->lo) * sizeof(q->r[0]));
        q->n = (uint8_t)(q->n - q->lo);
        q->lo = 0;
    }
    uint32_t n = len < room ? (uint32_t)len : room;
    q->queued_total += n;
    q->r[q->n++] = (struct tcp_sndref){.base = buf,
                                       .seq = tcp_snd_end(t),
                                       .len = n,
                                       .end_total = q->queued_total};
    q->bytes += n;
    if (tcb_synchronized(t))
        tcp_output(t);
    return n;
}

uint32_t tcp_snd_refs_done(const tcb *t) { return t->snd.refs_done; }

void tcp_snd_refs_drop(tcb *t) { release_all(t); }

void tcp_snd_refs_free(tcb *t) { table_put(t); }

/* The application gave up its handle while references were outstanding:
 * it may reuse that memory at once, so the whole stream moves into a ring
 * of its exact size (the stream is unchanged; only where its bytes live).
 * Like any buffer, only tcp_mem's hard limit refuses it: a busy stack does
 * not turn a close into a reset. */
int tcp_snd_refs_absorb(tcb *t)
{
    struct tcp_sndrefs *q = t->snd.refs;
    if (!refs_live(q))
        return 0;
    tcp_ctx *c = t->ctx;
    uint32_t total = tcp_snd_queued(t);
    if (!tcp_buf_fits(c, total))
        return -ENOBUFS;
    uint8_t *buf = mem_alloc(c->alloc, total);
    if (!buf) {
        c->ctr->tcp_no_memory++;
        return -ENOMEM;
    }
    tcp_snd_copy(t, 0, total, buf);
    release_all(t);
    tcp_buf_adopt_full(t, TCP_BUF_SEND, buf, total);
    return 0;
}
