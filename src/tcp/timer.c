/* timer.c — RFC 9293 §3.10.8 timeouts: retransmission (with the persist
 * probe folded in), TIME-WAIT's 2MSL and the orphaned FIN-WAIT-2 limit. */
#include "tcp/tcp.h"

#include "base/seq.h"

#include <errno.h>
#include <stddef.h>

static bool data_pending(const tcb *t)
{
    return seq_lt(t->snd_nxt, t->buf_seq + t->sndbuf.used) || (t->fin_queued && !t->fin_sent);
}

/* Arm the retransmission timer when something is in flight, or the persist
 * probe when data waits behind a zero window (RFC 9293 §3.8.6.1); stop it
 * when neither holds. A running timer is left alone (RFC 6298 §5.1). */
void tcp_arm_rto(tcb *t)
{
    bool outstanding = t->snd_una != t->snd_nxt;
    bool persist = !outstanding && tcb_synchronized(t) && t->snd_wnd == 0 && data_pending(t);
    if (outstanding || persist) {
        if (t->rto_at == UINT64_MAX)
            t->rto_at = t->ctx->now + rtt_rto_ns(t);
    } else {
        t->rto_at = UINT64_MAX;
    }
    tcb_schedule(t);
}

static void rto_fired(tcb *t)
{
    tcp_ctx *c = t->ctx;
    const synack_sysctl *s = c->sys;
    bool outstanding = t->snd_una != t->snd_nxt;

    switch (t->state) {
    case SYNACK_SYN_SENT:
        if (++t->retries > s->tcp_syn_retries) {
            c->ctr->tcp_attempt_fails++;
            tcb_close(t, -ETIMEDOUT, "SYN retries exhausted");
            return;
        }
        t->backoff++;
        c->ctr->tcp_timeouts++;
        t->rtt_timing = false;
        tcp_send_syn(t, true);
        return;
    case SYNACK_SYN_RECEIVED:
        if (++t->retries > s->tcp_synack_retries) {
            c->ctr->tcp_attempt_fails++;
            tcb_close(t, t->passive ? 0 : -ETIMEDOUT, "SYN-ACK retries exhausted");
            return;
        }
        t->backoff++;
        c->ctr->tcp_timeouts++;
        t->rtt_timing = false;
        tcp_send_syn(t, true);
        return;
    default:
        break;
    }
    if (!tcb_synchronized(t) || t->state == SYNACK_TIME_WAIT)
        return;

    if (outstanding) {
        if (++t->retries > s->tcp_retries2) {
            c->ctr->tcp_abort_on_timeout++;
            tcb_close(t, -ETIMEDOUT, "retransmissions exhausted");
            return;
        }
        c->ctr->tcp_timeouts++;
        /* RFC 5681 §3.1 eq. 4 and RFC 6298 §5.5–5.6: collapse and back off. */
        uint32_t flight = t->snd_max - t->snd_una;
        uint32_t half = flight / 2;
        t->ssthresh = half > 2u * t->snd_mss ? half : 2u * t->snd_mss;
        t->cwnd = t->snd_mss;
        t->dupacks = 0;
        t->recover = t->snd_max;
        t->rtt_timing = false; /* Karn's rule */
        t->snd_nxt = t->snd_una;
        t->fin_sent = false;
    }
    /* else: persist probe behind a zero window; probes do not count as
     * failures while the peer keeps answering. */
    t->backoff++;
    t->rto_at = UINT64_MAX;
    tcp_send_forced(t);
    tcp_arm_rto(t);
}

static void close_timer_fired(tcb *t)
{
    if (t->state == SYNACK_TIME_WAIT) {
        tcb_close(t, 0, "2MSL timeout");
    } else if (t->state == SYNACK_FIN_WAIT_2) {
        t->ctx->ctr->tcp_fin_timeouts++;
        tcb_close(t, 0, "tcp_fin_timeout");
    }
}

void tcp_timers(tcp_ctx *c)
{
    heap_node *n;
    while ((n = heap_top(&c->timers)) && n->key <= c->now) {
        tcb *t = (tcb *)((char *)n - offsetof(tcb, timer));
        if (t->rto_at <= c->now) {
            t->rto_at = UINT64_MAX;
            rto_fired(t);
        }
        if (!t->dead && t->close_at <= c->now) {
            t->close_at = UINT64_MAX;
            close_timer_fired(t);
        }
        if (!t->dead)
            tcb_schedule(t);
    }
}

uint64_t tcp_next_deadline(const tcp_ctx *c)
{
    heap_node *n = heap_top(&c->timers);
    return n ? n->key : UINT64_MAX;
}
