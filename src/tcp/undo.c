/* undo.c — taking back a window cut that proves spurious (RFC 3708's
 * detection by DSACK, as Linux's tcp_try_undo_dsack).
 *
 * Reordering beyond RACK's window, or a delay longer than the RTO, makes
 * the sender resend data that was not lost and halve its window for it.
 * If the receiver then reports every retransmission of the episode as a
 * duplicate (RFC 2883), nothing was lost: the window and ssthresh go back
 * to what they were. One retransmission that is not reported (it filled a
 * real hole, or its DSACK was lost) keeps the cut, so a real loss is never
 * undone. Without SACK there are no DSACKs and nothing here happens. */
#include "tcp/tcp.h"

#include "base/seq.h"

void undo_episode_begins(tcb *t)
{
    struct tcb_undo *u = &t->undo;
    u->active = true; /* without SACK no DSACK ever comes (ack.c) */
    u->marker = u->rxt_end = t->snd.una;
    u->cwnd = t->cc.cwnd;
    u->ssthresh = t->cc.ssthresh;
    u->retrans = 0;
}

/* Segments in [start, end), rounded up, as Linux counts DSACKed ones. */
static uint32_t segments(const tcb *t, uint32_t start, uint32_t end)
{
    uint32_t mss = t->opts.snd_mss ? t->opts.snd_mss : 1;
    return (end - start + mss - 1) / mss;
}

void undo_note_rxt(tcb *t, uint32_t seq, uint32_t len)
{
    struct tcb_undo *u = &t->undo;
    if (!u->active || !(t->cc.in_recovery || t->cc.after_rto))
        return; /* outside an episode a retransmission cut nothing */
    uint32_t n = len ? segments(t, seq, seq + len) : 1; /* a bare FIN counts */
    if (n > (uint32_t)(UINT16_MAX - u->retrans)) {
        u->active = false; /* too many to account for: keep the cut */
        return;
    }
    u->retrans = (uint16_t)(u->retrans + n);
    uint32_t end = seq + (len ? len : 1);
    if (seq_gt(end, u->rxt_end))
        u->rxt_end = end;
}

static void restore(tcb *t)
{
    struct tcb_undo *u = &t->undo;
    u->active = false;
    t->ctx->ctr->tcp_dsack_undo++;
    if (t->cc.cwnd < u->cwnd)
        t->cc.cwnd = u->cwnd;
    if (t->cc.ssthresh < u->ssthresh)
        t->cc.ssthresh = u->ssthresh;
    if (t->cc.in_recovery) {
        t->cc.in_recovery = false; /* nothing is lost: back to open */
        rack_recovery_ended(t);
    }
}

void undo_on_dsack(tcb *t, uint32_t start, uint32_t end)
{
    struct tcb_undo *u = &t->undo;
    /* Only duplicates of what the episode resent count: a later, unrelated
     * retransmission's DSACK says nothing about this cut. */
    if (u->active && seq_gt(t->snd.una, u->rxt_end) && t->snd.una - u->rxt_end > (1u << 30))
        u->active = false; /* long over: its range must not match again after a wrap */
    if (!u->active || !u->retrans || seq_lt(start, u->marker) || seq_gt(end, u->rxt_end))
        return;
    uint32_t n = segments(t, start, end);
    u->retrans = n < u->retrans ? (uint16_t)(u->retrans - n) : 0;
    if (!u->retrans)
        restore(t);
}
