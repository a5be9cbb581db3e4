/* rack.c — RACK, time-based loss detection (RFC 8985 §6): every
 * transmission of the data in flight is recorded with the time it left;
 * a segment is lost when one sent sufficiently later (by the reordering
 * window) was delivered before it. The records live in an array allocated
 * with a flight's first segment (RACK_FIRST_SEGS records, doubled as the
 * flight grows) and freed when all of it is acknowledged, so an idle
 * connection carries none (the stack keeps a few first-size arrays for the
 * next flight: a request/response connection starts one per exchange); at
 * TCP_RACK_SEGS the newest record absorbs the rest of the flight, and RFC
 * 6675's IsLost (sack.c) helps out until SND.UNA passes what could not be
 * timed. */
#include "tcp/tcp.h"

#include "base/seq.h"

#include <stddef.h>
#include <string.h>

enum {
    SEG_SACKED = 1, /* delivered by a SACK block                          */
    SEG_RXT = 2,    /* retransmitted: xmit_ns is the latest copy's         */
    SEG_LOST = 4,   /* marked lost, not yet sent again                     */
    SEG_MERGED = 8, /* absorbed transmissions of several times: not timed  */
};

/* One transmission: [start, end) of sequence space, when it last left,
 * and the how-manieth transmission of the flight it was (ties in time). */
struct rack_seg {
    uint32_t start, end;
    uint64_t xmit_ns;
    uint32_t order;
    uint8_t flags;
};

#define RACK_FIRST_SEGS 32

/* The flight: records [lo, n) of cap cover [SND.UNA, SND.MAX) in order,
 * and RACK's state for the most recently sent delivered segment. */
struct rack_flight {
    uint64_t xmit_ns;  /* RACK.xmit_ts                                     */
    uint64_t rtt_ns;   /* RACK.rtt                                         */
    uint32_t order;    /* RACK.end_seq's job: which of equal times is later */
    uint32_t sends;    /* transmissions so far                             */
    uint32_t fack;     /* RACK.fack: the highest sequence delivered         */
    uint32_t lost_to;  /* never-retransmitted data below it is lost         */
    uint32_t merged_to; /* coalesced: the records overflowed below this     */
    uint32_t resent_to; /* resent: some record below this was retransmitted */
    uint16_t lo, n, cap;
    bool delivered : 1; /* xmit_ns, order and rtt_ns are set                */
    bool coalesced : 1;
    bool resent : 1;
    struct rack_seg seg[];
};

static bool rack_enabled(const tcb *t)
{
    return (t->ctx->sys->tcp_recovery & 1) && t->opts.sack_ok;
}

bool rack_in_charge(const tcb *t)
{
    return t->rack.flight && rack_enabled(t);
}

bool rack_coalesced(const tcb *t)
{
    return t->rack.flight && t->rack.flight->coalesced;
}

void rack_release(tcb *t)
{
    struct rack_flight *f = t->rack.flight;
    tcp_ctx *c = t->ctx;
    t->rack.flight = NULL;
    if (f && f->cap == RACK_FIRST_SEGS && c->nrack_spare < TCP_RACK_SPARES)
        c->rack_spare[c->nrack_spare++] = f;
    else
        mem_free(c->alloc, f);
}

void rack_free_spares(tcp_ctx *c)
{
    while (c->nrack_spare)
        mem_free(c->alloc, c->rack_spare[--c->nrack_spare]);
}

/* RFC 8985 §6.2 RACK_sent_after: was (t1, o1) sent after (t2, o2)? The
 * RFC breaks ties in time by end sequence; the order of transmission says
 * the same for new data and stays right for a retransmission sent at the
 * same instant as data above it (a clock that did not move). */
static bool sent_after(uint64_t t1, uint32_t o1, uint64_t t2, uint32_t o2)
{
    return t1 > t2 || (t1 == t2 && o1 > o2);
}

static struct rack_flight *flight_alloc(tcb *t, struct rack_flight *old, uint16_t cap)
{
    tcp_ctx *c = t->ctx;
    if (!old && cap == RACK_FIRST_SEGS && c->nrack_spare)
        return c->rack_spare[--c->nrack_spare];
    size_t size = sizeof(*old) + (size_t)cap * sizeof(old->seg[0]);
    struct rack_flight *f = old ? mem_realloc(t->ctx->alloc, old, size)
                                : mem_alloc(t->ctx->alloc, size);
    if (f)
        f->cap = cap;
    return f;
}

/* The array's largest size: a quarter over the live records' limit, so
 * that at the limit the live ones move to the front only after a quarter
 * of TCP_RACK_SEGS were acknowledged, not on every ACK (a whole array's
 * memmove per ACK once a flight passed 8,192 segments). */
#define RACK_ARRAY_MAX (TCP_RACK_SEGS + TCP_RACK_SEGS / 4)

/* Room for one more record (NULL: none): TCP_RACK_SEGS live at most;
 * move the live ones to the front when a quarter of the array has been
 * acknowledged (or it cannot grow), else grow. */
static struct rack_flight *make_room(tcb *t)
{
    struct rack_flight *f = t->rack.flight;
    if (f->n - f->lo >= TCP_RACK_SEGS)
        return NULL;
    if (f->n < f->cap)
        return f;
    if (f->lo >= f->cap / 4 || f->cap >= RACK_ARRAY_MAX) { /* then lo > TCP_RACK_SEGS / 4 */
        memmove(&f->seg[0], &f->seg[f->lo], (size_t)(f->n - f->lo) * sizeof(f->seg[0]));
        f->n = (uint16_t)(f->n - f->lo);
        f->lo = 0;
        return f;
    }
    uint32_t cap = 2u * f->cap > RACK_ARRAY_MAX ? RACK_ARRAY_MAX : 2u * f->cap;
    f = flight_alloc(t, f, (uint16_t)cap);
    if (f)
        t->rack.flight = f;
    return f;
}

static void append(tcb *t, uint32_t start, uint32_t end, uint64_t now, uint32_t order)
{
    struct rack_flight *f = make_room(t);
    if (!f) {
        /* Full: the newest record absorbs the new data. Its time can no
         * longer say when each part left, so RACK leaves it alone. */
        f = t->rack.flight;
        struct rack_seg *last = &f->seg[f->n - 1];
        last->end = end;
        last->xmit_ns = now;
        last->order = order;
        last->flags = SEG_MERGED;
        f->coalesced = true;
        f->merged_to = end;
        return;
    }
    f->seg[f->n++] = (struct rack_seg){start, end, now, order, 0};
}

/* The first record ending after seq (records are in sequence order). */
static uint16_t find(const struct rack_flight *f, uint32_t seq)
{
    uint16_t a = f->lo, b = f->n;
    while (a < b) {
        uint16_t m = (uint16_t)(a + (b - a) / 2);
        if (seq_gt(f->seg[m].end, seq))
            b = m;
        else
            a = (uint16_t)(m + 1);
    }
    return a;
}

/* Split record i at `at` (inside it) so a retransmission of part of it is
 * timed on its own; false without room (then the whole record is). */
static bool split(tcb *t, uint16_t *i, uint32_t at)
{
    uint16_t lo = t->rack.flight->lo;
    struct rack_flight *f = make_room(t);
    if (!f)
        return false;
    *i = (uint16_t)(*i - (lo - f->lo));
    memmove(&f->seg[*i + 1], &f->seg[*i], (size_t)(f->n - *i) * sizeof(f->seg[0]));
    f->n++;
    f->seg[*i].end = at;
    f->seg[*i + 1].start = at;
    return true;
}

/* RFC 8985 §6.1: a retransmission updates its segment's transmit time. */
static void retransmitted(tcb *t, uint32_t start, uint32_t end, uint64_t now, uint32_t order)
{
    struct rack_flight *f = t->rack.flight;
    for (uint16_t i = find(f, start); i < f->n && seq_lt(f->seg[i].start, end); i++) {
        if (seq_lt(f->seg[i].start, start) && split(t, &i, start))
            i++;
        if (seq_gt(t->rack.flight->seg[i].end, end))
            split(t, &i, end);
        f = t->rack.flight; /* split may have moved it */
        struct rack_seg *r = &f->seg[i];
        if (!f->resent || seq_gt(r->end, f->resent_to))
            f->resent_to = r->end;
        f->resent = true;
        r->xmit_ns = now;
        r->order = order;
        r->flags = (uint8_t)((r->flags & SEG_MERGED) | SEG_RXT);
    }
}

void rack_on_send(tcb *t, uint32_t start, uint32_t end)
{
    if (!rack_enabled(t))
        return;
    struct rack_flight *f = t->rack.flight;
    if (!f) {
        /* Only a flight's first segment starts the records: they must
         * cover everything outstanding (else RACK stays out of it). */
        if (start != t->snd.una || t->snd.max != t->snd.una)
            return;
        f = t->rack.flight = flight_alloc(t, NULL, RACK_FIRST_SEGS);
        if (!f)
            return; /* RFC 6675's rules alone for this flight */
        memset(f, 0, offsetof(struct rack_flight, seg));
        f->cap = RACK_FIRST_SEGS;
        f->fack = t->snd.una;
        f->lost_to = t->snd.una;
    }
    uint64_t now = t->ctx->now;
    uint32_t top = f->n > f->lo ? f->seg[f->n - 1].end : t->snd.una;
    uint32_t order = ++f->sends;
    if (seq_lt(start, top))
        retransmitted(t, start, seq_lt(end, top) ? end : top, now, order);
    if (seq_gt(end, top))
        append(t, seq_gt(start, top) ? start : top, end, now, order);
}

void rack_note_rtt(tcb *t, uint32_t rtt_us)
{
    if (!t->rack.min_rtt_us || rtt_us < t->rack.min_rtt_us)
        t->rack.min_rtt_us = rtt_us ? rtt_us : 1;
}

/* RFC 8985 §6.2 step 3, first half: one DSACK round widens the window by
 * a quarter of min_RTT, and it stays widened for 16 recoveries.
 *
 * A DSACK also shows reordering (as Linux's SACK tagging takes it): the
 * original of a resent segment arrived after all. Step 2 alone cannot see
 * it when RACK resends a segment before its late original is delivered
 * (with no window, three SACKed segments are enough), and without
 * reordering seen the window stays zero however wide the DSACKs make it. */
static void dsack_adapt(tcb *t, const wire_tcp *seg)
{
    struct tcb_rack *r = &t->rack;
    uint32_t start, end;
    if (!sack_dsack(seg, &start, &end))
        return;
    t->ctx->ctr->tcp_dsack_recv++;
    /* More duplicates than retransmissions ever sent: the network copied
     * an original (or the peer lies), which is no reordering (Linux's
     * tcp_dsack_seen skips such a DSACK as dubious). */
    uint32_t segs = tcp_segments(t, end - start);
    r->dsack_segs = segs > UINT32_MAX - r->dsack_segs ? UINT32_MAX : r->dsack_segs + segs;
    bool dubious = r->dsack_segs > t->stats.retrans;
    if (dubious)
        r->dsack_segs -= segs;
    if (!r->reordering_seen && !dubious) {
        r->reordering_seen = true;
        t->ctx->ctr->tcp_sack_reorder++;
    }
    if (r->dsack_round_on || (t->ctx->sys->tcp_recovery & 2))
        return;
    r->dsack_round_on = true;
    r->dsack_round = t->snd.max;
    if (r->reo_wnd_mult < UINT8_MAX)
        r->reo_wnd_mult = (uint8_t)(r->reo_wnd_mult ? r->reo_wnd_mult + 1 : 2);
    r->reo_wnd_persist = 16;
}

void rack_recovery_ended(tcb *t)
{
    if (t->rack.reo_wnd_persist && --t->rack.reo_wnd_persist == 0)
        t->rack.reo_wnd_mult = 1;
}

uint64_t rack_reo_wnd(const tcb *t)
{
    if (!t->rack.reordering_seen) {
        /* Without reordering seen, RACK is as quick as DupThresh: no window
         * in recovery, nor once three segments are SACKed (§6.2 step 3). */
        if (t->cc.in_recovery || t->cc.after_rto)
            return 0;
        if (sack_sacked_bytes(t) > 2u * t->opts.snd_mss)
            return 0;
    }
    uint64_t mult = t->rack.reo_wnd_mult ? t->rack.reo_wnd_mult : 1;
    uint64_t wnd = (uint64_t)t->rack.min_rtt_us * 1000 / 4 * mult;
    uint64_t srtt = (uint64_t)t->rtt.srtt_us * 1000;
    return wnd < srtt ? wnd : srtt;
}

/* Is record r wholly inside a SACK block? `b` walks the sorted blocks
 * along with the sorted records. */
static bool covered(const tcb *t, const struct rack_seg *r, uint8_t *b)
{
    while (*b < t->sack.n && seq_leq(t->sack.blocks[*b].end, r->start))
        (*b)++;
    return *b < t->sack.n && seq_leq(t->sack.blocks[*b].start, r->start) &&
           seq_leq(r->end, t->sack.blocks[*b].end);
}

/* RFC 8985 §6.2 steps 1-2 for one newly delivered record. */
static void delivered(tcb *t, struct rack_flight *f, const struct rack_seg *r,
                      const wire_tcp *seg)
{
    if (r->flags & SEG_MERGED)
        return;
    /* Step 2: delivered below what was delivered before, never resent: the
     * network reordered it. */
    if (seq_gt(r->end, f->fack)) {
        f->fack = r->end;
    } else if (seq_lt(r->end, f->fack) && !(r->flags & SEG_RXT) && !t->rack.reordering_seen) {
        t->rack.reordering_seen = true;
        t->ctx->ctr->tcp_sack_reorder++;
    }
    /* Step 1: a retransmitted segment's delivery may be the original's:
     * then the ACK echoes a timestamp older than the copy, or the RTT is
     * shorter than any real one. Such a sample is skipped. (On a path of
     * under a millisecond neither test can tell a late original, and one
     * spurious copy may mark the flight sent before it lost, as in Linux;
     * skipping copies there sent lost copies at a flight's tail to the
     * RTO instead, a worse trade: bench/README.md, session 13.) */
    uint64_t now = t->ctx->now, rtt = now - r->xmit_ns;
    if (r->flags & SEG_RXT) {
        uint32_t sent_ts = (uint32_t)(r->xmit_ns / NS_PER_MS) + t->opts.ts_offset;
        if (t->opts.ts_ok && seg->opt.has_ts && seg->opt.ts_ecr &&
            seq_lt(seg->opt.ts_ecr, sent_ts))
            return;
        if (rtt < (uint64_t)t->rack.min_rtt_us * 1000)
            return;
    }
    rack_note_rtt(t, (uint32_t)(rtt / 1000 < UINT32_MAX ? rtt / 1000 : UINT32_MAX));
    if (!f->delivered || sent_after(r->xmit_ns, r->order, f->xmit_ns, f->order)) {
        f->delivered = true;
        f->xmit_ns = r->xmit_ns;
        f->order = r->order;
        f->rtt_ns = rtt;
    }
}

/* Take what the ACK delivered, cumulatively and by SACK; forget what
 * SND.UNA passed. */
static void take_deliveries(tcb *t, struct rack_flight *f, const wire_tcp *seg)
{
    uint8_t b = 0;
    for (uint16_t i = f->lo; i < f->n; i++) {
        struct rack_seg *r = &f->seg[i];
        bool acked = seq_leq(r->end, t->snd.una);
        if (!acked && !t->sack.n)
            break; /* nothing above SND.UNA is delivered */
        if (r->flags & SEG_SACKED)
            continue;
        if (acked || covered(t, r, &b)) {
            r->flags = (uint8_t)(r->flags | SEG_SACKED);
            delivered(t, f, r, seg);
        }
    }
    while (f->lo < f->n && seq_leq(f->seg[f->lo].end, t->snd.una))
        f->lo++;
    if (f->lo < f->n && seq_lt(f->seg[f->lo].start, t->snd.una))
        f->seg[f->lo].start = t->snd.una;
    /* Marks SND.UNA has passed move along with it: a bulk flight can live
     * for gigabytes, and a mark left 2^31 bytes behind would compare as
     * ahead of SND.MAX (everything in flight "lost", the pipe empty). */
    if (seq_lt(f->lost_to, t->snd.una))
        f->lost_to = t->snd.una;
    if (seq_lt(f->fack, t->snd.una))
        f->fack = t->snd.una;
    /* Once SND.UNA passes them, the untimed and the resent records are
     * gone: a long transfer does not carry their cost for good. */
    if (f->coalesced && seq_geq(t->snd.una, f->merged_to))
        f->coalesced = false;
    if (f->resent && seq_geq(t->snd.una, f->resent_to))
        f->resent = false;
}

/* RFC 8985 §6.2 step 4: every segment sent before the most recently sent
 * delivered one, by more than its RTT plus the reordering window, is lost.
 * Returns how long until the last of the others would be (0: none). */
static uint64_t detect_loss(tcb *t, struct rack_flight *f)
{
    if (!f->delivered || f->lo == f->n)
        return 0;
    /* Nothing SACKed and nothing resent left: the records are in the order
     * they were sent, so if the oldest left was sent after the most recent
     * delivery, so was all the rest (the common case costs no walk). A
     * delivered retransmission may well be later than data still out. */
    if (!t->sack.n && !f->resent &&
        !sent_after(f->xmit_ns, f->order, f->seg[f->lo].xmit_ns, f->seg[f->lo].order))
        return 0;
    uint64_t now = t->ctx->now, reo = rack_reo_wnd(t), wait = 0;
    for (uint16_t i = f->lo; i < f->n; i++) {
        struct rack_seg *r = &f->seg[i];
        if (r->flags & (SEG_SACKED | SEG_LOST | SEG_MERGED))
            continue;
        if (!sent_after(f->xmit_ns, f->order, r->xmit_ns, r->order))
            continue;
        uint64_t deadline = r->xmit_ns + f->rtt_ns + reo;
        if (deadline <= now) {
            r->flags = (uint8_t)(r->flags | SEG_LOST);
            if (!(r->flags & SEG_RXT) && seq_gt(r->end, f->lost_to))
                f->lost_to = r->end;
        } else if (deadline - now > wait) {
            wait = deadline - now; /* RFC 8985 §6.2 step 4: the latest of them */
        }
    }
    return wait;
}

/* RFC 8985 §6.2 step 5: the reordering timer shares the retransmission
 * timer's deadline (as the loss probe does); it stops the RTO while it
 * runs, and the RTO is armed again when it is no longer needed. */
static void arm_reorder_timer(tcb *t, uint64_t wait)
{
    if (wait) {
        t->timers.reo_armed = true;
        t->timers.tlp_armed = false;
        t->timers.rto_at = t->ctx->now + wait;
        tcb_schedule(t);
    } else if (t->timers.reo_armed) {
        t->timers.reo_armed = false;
        t->timers.rto_at = UINT64_MAX;
        tcp_arm_rto(t);
    }
}

void rack_detect_loss_and_arm(tcb *t)
{
    if (rack_in_charge(t))
        arm_reorder_timer(t, detect_loss(t, t->rack.flight));
    else
        arm_reorder_timer(t, 0);
}

bool rack_on_ack(tcb *t, const wire_tcp *seg)
{
    /* The DSACK round ends on any ACK past it, SACK blocks or not: one
     * left on across 2^31 bytes of clean ACKs would compare as ahead. */
    if (t->rack.dsack_round_on && seq_geq(t->snd.una, t->rack.dsack_round))
        t->rack.dsack_round_on = false;
    if (t->opts.sack_ok && seg->opt.sack_count)
        dsack_adapt(t, seg);
    struct rack_flight *f = t->rack.flight;
    if (!f)
        return false;
    take_deliveries(t, f, seg);
    if (f->lo == f->n) {
        rack_release(t); /* all acknowledged: the records go */
        arm_reorder_timer(t, 0);
        return false;
    }
    if (!rack_enabled(t))
        return false;
    rack_detect_loss_and_arm(t);
    return true;
}

uint64_t rack_oldest_sent(const tcb *t, uint64_t otherwise)
{
    const struct rack_flight *f = t->rack.flight;
    if (!f || f->lo == f->n || (f->seg[f->lo].flags & SEG_MERGED))
        return otherwise;
    return f->seg[f->lo].xmit_ns;
}

uint32_t rack_lost_edge(const tcb *t)
{
    const struct rack_flight *f = t->rack.flight;
    return f && seq_gt(f->lost_to, t->snd.una) ? f->lost_to : t->snd.una;
}

bool rack_lost_rxt(tcb *t, uint32_t below, uint32_t *seq)
{
    struct rack_flight *f = t->rack.flight;
    if (!f)
        return false;
    for (uint16_t i = f->lo; i < f->n && seq_lt(f->seg[i].start, below); i++) {
        struct rack_seg *r = &f->seg[i];
        if ((r->flags & (SEG_LOST | SEG_RXT)) == (SEG_LOST | SEG_RXT)) {
            r->flags = (uint8_t)(r->flags & ~SEG_LOST); /* its copy, if it goes, retimes it */
            *seq = r->start;
            return true;
        }
    }
    return false;
}

void rack_on_rto(tcb *t)
{
    struct rack_flight *f = t->rack.flight;
    if (!f)
        return;
    /* RFC 6675 §5.1: the scoreboard is forgotten (the peer may have
     * reneged), and go-back-N resends everything: nothing is SACKed or
     * waiting to be resent any more. */
    for (uint16_t i = f->lo; i < f->n; i++)
        f->seg[i].flags = (uint8_t)(f->seg[i].flags & (SEG_RXT | SEG_MERGED));
    f->lost_to = t->snd.una;
}
