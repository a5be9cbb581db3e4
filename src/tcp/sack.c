/* sack.c — the sender's SACK scoreboard (RFC 2018, RFC 6675): which
 * sequence ranges above SND.UNA the peer holds, which holes count as lost
 * (by RACK's marks, rack.c, or RFC 6675's IsLost), and the pipe (data
 * still in the network). Ranges are kept sorted. */
#include "tcp/tcp.h"

#include "base/seq.h"

#include <string.h>

void sack_clear(tcb *t)
{
    t->sack.n = 0;
    t->sack.nrxt = 0;
}

/* Forget what SND.UNA has passed. */
void sack_trim(tcb *t)
{
    uint8_t n = 0;
    for (uint8_t i = 0; i < t->sack.n; i++) {
        seq_range r = t->sack.blocks[i];
        if (seq_leq(r.end, t->snd.una))
            continue;
        if (seq_lt(r.start, t->snd.una))
            r.start = t->snd.una;
        t->sack.blocks[n++] = r;
    }
    t->sack.n = n;
}

bool seq_ranges_add(seq_range *set, uint8_t *n, uint8_t max, uint32_t start, uint32_t end)
{
    /* Merge with every range it touches, then insert in order. */
    for (uint8_t i = 0; i < *n;) {
        seq_range *r = &set[i];
        if (seq_leq(r->start, end) && seq_leq(start, r->end)) {
            start = seq_min(start, r->start);
            end = seq_max(end, r->end);
            memmove(r, r + 1, (size_t)(*n - i - 1) * sizeof(*r));
            (*n)--;
            continue;
        }
        i++;
    }
    if (*n == max)
        return false;
    uint8_t pos = 0;
    while (pos < *n && seq_lt(set[pos].start, start))
        pos++;
    memmove(&set[pos + 1], &set[pos], (size_t)(*n - pos) * sizeof(seq_range));
    set[pos] = (seq_range){start, end};
    (*n)++;
    return true;
}

/* Take the blocks of an arriving ACK; returns true if any was new. */
bool sack_update(tcb *t, const wire_tcp_opts *o)
{
    bool news = false;
    for (uint8_t i = 0; i < o->sack_count; i++) {
        uint32_t s = o->sack[i][0], e = o->sack[i][1];
        /* D-SACK (RFC 2883) and nonsense: only blocks within (SND.UNA, SND.MAX]. */
        if (!seq_lt(s, e) || seq_leq(e, t->snd.una) || seq_gt(e, t->snd.max))
            continue;
        if (seq_lt(s, t->snd.una))
            s = t->snd.una;
        uint32_t before = sack_sacked_bytes(t);
        /* Full: the peer repeats its blocks, nothing is lost for good. */
        seq_ranges_add(t->sack.blocks, &t->sack.n, TCP_SACK_MAX, s, e);
        news |= sack_sacked_bytes(t) != before;
    }
    return news;
}

uint32_t sack_sacked_bytes(const tcb *t)
{
    uint32_t n = 0;
    for (uint8_t i = 0; i < t->sack.n; i++)
        n += t->sack.blocks[i].end - t->sack.blocks[i].start;
    return n;
}

/* RFC 6675 IsLost: every unSACKed byte below the returned sequence has at
 * least (DupThresh - 1) * SMSS + 1 SACKed bytes above it. SND.UNA if none. */
static uint32_t dupthresh_edge(const tcb *t)
{
    uint32_t acc = 0, need = 2u * t->opts.snd_mss + 1;
    for (int i = t->sack.n - 1; i >= 0; i--) {
        acc += t->sack.blocks[i].end - t->sack.blocks[i].start;
        if (acc >= need)
            return t->sack.blocks[i].start;
    }
    return t->snd.una;
}

/* What is lost: RACK's marks (RFC 8985 §6.2) while it times the flight,
 * RFC 6675's IsLost otherwise or where RACK's records overflowed. */
uint32_t sack_lost_edge(const tcb *t)
{
    uint32_t edge = t->snd.una;
    if (!rack_in_charge(t) || rack_coalesced(t))
        edge = dupthresh_edge(t);
    if (rack_in_charge(t) && seq_gt(rack_lost_edge(t), edge))
        edge = rack_lost_edge(t);
    /* After a loss probe was SACKed, everything sent before it and still
     * missing is lost (RFC 8985's rule, with the probe as the witness). */
    return t->sack.lost_valid && seq_gt(t->sack.lost_to, edge) ? t->sack.lost_to : edge;
}

/* Bytes of [a, b) at or above x. */
static uint32_t above(uint32_t a, uint32_t b, uint32_t x)
{
    if (seq_geq(a, x))
        return b - a;
    return seq_gt(b, x) ? b - x : 0;
}

/* RFC 6675 SetPipe: unSACKed bytes not deemed lost, plus bytes resent. */
uint32_t sack_pipe(const tcb *t)
{
    uint32_t lost = sack_lost_edge(t), pipe = 0, cur = t->snd.una;
    for (uint8_t i = 0; i <= t->sack.n; i++) {
        uint32_t hole_end = i < t->sack.n ? t->sack.blocks[i].start : t->snd.max;
        if (seq_lt(cur, hole_end)) {
            pipe += above(cur, hole_end, lost);
            if (seq_gt(t->sack.high_rxt, cur))
                pipe += (seq_lt(t->sack.high_rxt, hole_end) ? t->sack.high_rxt : hole_end) - cur;
        }
        if (i < t->sack.n)
            cur = t->sack.blocks[i].end;
    }
    return pipe;
}

/* RFC 6675 NextSeg rule 1 (`any` false): the first lost, unSACKed, not
 * yet resent byte range at or after `from`; rule 3 (`any` true): the first
 * unSACKed one below the highest SACKed byte, lost or not. */
bool sack_next_hole(const tcb *t, uint32_t from, bool any, uint32_t *start, uint32_t *len)
{
    uint32_t lost = any && t->sack.n ? t->sack.blocks[t->sack.n - 1].end : sack_lost_edge(t);
    uint32_t cur = t->snd.una;
    if (seq_lt(cur, from))
        cur = from;
    for (uint8_t i = 0; i < t->sack.n; i++) {
        const seq_range *r = &t->sack.blocks[i];
        if (seq_leq(r->end, cur))
            continue;
        if (seq_lt(cur, r->start)) {
            uint32_t end = seq_lt(r->start, lost) ? r->start : lost;
            if (seq_lt(cur, end)) {
                *start = cur;
                *len = end - cur;
                return true;
            }
            return false;
        }
        cur = r->end;
    }
    /* Above the highest SACKed byte only RACK finds loss (by time: data
     * sent before a delivered retransmission), and rule 3 looks no higher. */
    if (any || !seq_lt(cur, lost))
        return false;
    *start = cur;
    *len = lost - cur;
    return true;
}

/* For a (re)transmission starting at seq: 0 if seq is not SACKed, with
 * *room clipped so the segment stops at the next SACKed range; otherwise
 * the end of the SACKed range seq falls in (skip to it). */
uint32_t sack_skip(const tcb *t, uint32_t seq, uint32_t *room)
{
    for (uint8_t i = 0; i < t->sack.n; i++) {
        const seq_range *r = &t->sack.blocks[i];
        if (seq_leq(r->start, seq) && seq_lt(seq, r->end))
            return r->end;
        if (seq_gt(r->start, seq)) {
            if (r->start - seq < *room)
                *room = r->start - seq;
            return 0;
        }
    }
    return 0;
}

void sack_note_rxt(tcb *t, uint32_t seq)
{
    uint8_t i = 0;
    while (i < t->sack.nrxt && t->sack.rxt[i].seq != seq)
        i++;
    if (i == t->sack.nrxt) {
        if (i == TCP_RXT_MAX) { /* full: the oldest goes unwatched (the RTO covers it) */
            memmove(&t->sack.rxt[0], &t->sack.rxt[1], (TCP_RXT_MAX - 1) * sizeof(t->sack.rxt[0]));
            i--;
        } else {
            t->sack.nrxt++;
        }
        t->sack.rxt[i].seq = seq;
    }
    t->sack.rxt[i].mark = t->snd.max;
}

/* RFC 8985 §6.2's reasoning without per-segment clocks, for when RACK's
 * records are not there (tcp_recovery=0, no memory): data first sent
 * after a retransmission (at or above SND.MAX then) has arrived and the
 * retransmission has not, so it was lost as well. No reordering window,
 * like the rest of the scoreboard's rules. */
bool sack_lost_rxt(tcb *t, uint32_t *seq)
{
    uint8_t n = 0;
    uint32_t room = UINT32_MAX;
    for (uint8_t i = 0; i < t->sack.nrxt; i++) {
        struct tcp_rxt r = t->sack.rxt[i];
        if (seq_lt(r.seq, t->snd.una) || sack_skip(t, r.seq, &room))
            continue; /* delivered */
        t->sack.rxt[n++] = r;
    }
    t->sack.nrxt = n;
    if (!t->sack.n)
        return false;
    uint32_t top = t->sack.blocks[t->sack.n - 1].end;
    for (uint8_t i = 0; i < n; i++) {
        if (seq_gt(top, t->sack.rxt[i].mark)) {
            t->sack.rxt[i].mark = t->snd.max;
            *seq = t->sack.rxt[i].seq;
            return true;
        }
    }
    return false;
}

bool sack_dsack(const wire_tcp *seg, uint32_t *start, uint32_t *end)
{
    const wire_tcp_opts *o = &seg->opt;
    if (!o->sack_count || !seq_lt(o->sack[0][0], o->sack[0][1]))
        return false;
    *start = o->sack[0][0];
    *end = o->sack[0][1];
    if (seq_leq(*end, seg->ack))
        return true;
    return o->sack_count > 1 && seq_geq(*start, o->sack[1][0]) && seq_leq(*end, o->sack[1][1]);
}
