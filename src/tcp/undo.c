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

#include <string.h>

void undo_episode_begins(tcb *t)
{
    struct tcb_undo *u = &t->undo;
    u->active = true; /* without SACK no DSACK ever comes (ack.c) */
    u->nleft = 0;
    u->cwnd = t->cc.cwnd;
    u->ssthresh = t->cc.ssthresh;
    u->retrans = 0;
}

/* Take [start, end) out of the resent bytes awaiting a DSACK: how many of
 * them it covered (0: nothing resent, or already reported). false in
 * *fits when a split would not fit. */
static uint32_t left_take(struct tcb_undo *u, uint32_t start, uint32_t end, bool *fits)
{
    uint32_t taken = 0;
    *fits = true;
    for (uint8_t i = 0; i < u->nleft;) {
        seq_range r = u->left[i];
        uint32_t s = seq_max(start, r.start), e = seq_min(end, r.end);
        if (!seq_lt(s, e)) {
            i++;
            continue;
        }
        taken += e - s;
        bool head = seq_lt(r.start, s), tail = seq_lt(e, r.end);
        if (head && tail) {
            if (u->nleft == TCP_UNDO_RANGES) {
                *fits = false;
                return taken;
            }
            memmove(&u->left[i + 2], &u->left[i + 1],
                    (size_t)(u->nleft - i - 1) * sizeof(u->left[0]));
            u->left[i] = (seq_range){r.start, s};
            u->left[i + 1] = (seq_range){e, r.end};
            u->nleft++;
            i += 2;
        } else if (head) {
            u->left[i++].end = s;
        } else if (tail) {
            u->left[i++].start = e;
        } else {
            memmove(&u->left[i], &u->left[i + 1], (size_t)(u->nleft - i - 1) * sizeof(u->left[0]));
            u->nleft--;
        }
    }
    return taken;
}

void undo_note_rxt(tcb *t, uint32_t seq, uint32_t len)
{
    struct tcb_undo *u = &t->undo;
    if (!u->active || !(t->cc.in_recovery || t->cc.after_rto))
        return; /* outside an episode a retransmission cut nothing */
    uint32_t n = len ? tcp_segments(t, len) : 1; /* a bare FIN counts */
    if (n > (uint32_t)(UINT16_MAX - u->retrans) || !seq_ranges_add(u->left, &u->nleft, TCP_UNDO_RANGES, seq, seq + (len ? len : 1))) {
        u->active = false; /* too many to account for: keep the cut */
        return;
    }
    u->retrans = (uint16_t)(u->retrans + n);
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
    if (t->cc.after_rto) {
        /* The timeout was spurious: what it would still resend is on its
         * way, not lost. Go on with new data (RFC 4015 §3.2: SND.NXT =
         * SND.MAX; Linux's undo from Loss unmarks the lost segments); a
         * real loss among it is RACK's to find. */
        t->cc.after_rto = false;
        rack_recovery_ended(t);
        if (seq_lt(t->snd.nxt, t->snd.max)) {
            t->snd.nxt = t->snd.max;
            if (t->snd.fin_queued && seq_gt(t->snd.max, tcp_snd_end(t)))
                t->snd.fin_sent = true; /* the FIN had gone before the timeout */
        }
    }
}

void undo_on_dsack(tcb *t, uint32_t start, uint32_t end)
{
    struct tcb_undo *u = &t->undo;
    /* Only duplicates of what the episode resent count, each byte once: a
     * duplicate the network made of an original, the same DSACK repeated
     * (a duplicated ACK), or a later retransmission's DSACK say nothing
     * about this cut, and a DSACK for part of a retransmission leaves the
     * rest, which filled a hole, outstanding. */
    if (u->active && u->nleft && seq_gt(t->snd.una, u->left[u->nleft - 1].end) &&
        t->snd.una - u->left[u->nleft - 1].end > (1u << 30))
        u->active = false; /* long over: its ranges must not match again after a wrap */
    if (!u->active || !u->retrans)
        return;
    bool fits;
    uint32_t taken = left_take(u, start, end, &fits);
    if (!fits) {
        u->active = false;
        return;
    }
    if (!taken)
        return;
    uint32_t n = tcp_segments(t, taken);
    u->retrans = n < u->retrans ? (uint16_t)(u->retrans - n) : 0;
    if (!u->retrans && !u->nleft)
        restore(t);
}
