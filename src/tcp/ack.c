/* ack.c — what an acceptable ACK does to the sender (RFC 9293 §3.10.7.4
 * fifth): retire acknowledged data, measure the RTT (RFC 6298 with Karn's
 * rule, or RFC 7323 timestamps), grow the window through the congestion
 * control algorithm, detect loss by duplicate ACKs or SACK (RFC 5681,
 * RFC 6675), recover (RFC 6582 NewReno without SACK), and take window
 * updates. */
#include "tcp/cc.h"
#include "tcp/tcp.h"

#include "base/seq.h"

static void measure_rtt(tcb *t, const wire_tcp *seg, uint32_t ack)
{
    tcp_ctx *c = t->ctx;
    if (t->ts_ok && seg->opt.has_ts && seg->opt.ts_ecr) {
        /* RFC 7323 §4.1: every ACK of new data echoes when it was sent. */
        uint32_t now_ts = (uint32_t)(c->now / NS_PER_MS) + t->ts_offset;
        uint32_t rtt_ms = now_ts - seg->opt.ts_ecr;
        if (rtt_ms < 600000) /* ignore echoes from nonsense or wrapped clocks */
            rtt_sample(t, (uint64_t)rtt_ms * NS_PER_MS + NS_PER_MS / 2);
        t->rtt_timing = false;
        return;
    }
    if (t->rtt_timing && seq_geq(ack, t->rtt_seq)) {
        rtt_sample(t, c->now - t->rtt_start);
        t->rtt_timing = false;
    }
}

static void enter_recovery(tcb *t)
{
    tcp_ctx *c = t->ctx;
    c->ctr->tcp_fast_retrans++;
    t->in_recovery = true;
    t->recover = t->snd_max;
    t->ssthresh = t->cc->on_loss(t);
    t->rtt_timing = false;
    if (t->sack_ok) {
        c->ctr->tcp_sack_recovery++;
        /* RFC 6675 §5 step (4): cwnd = ssthresh, then pipe decides. */
        t->cwnd = t->ssthresh;
        t->high_rxt = t->snd_una;
        tcp_send_retransmit(t, t->snd_una);
    } else {
        /* RFC 6582 §3.2 step 2: resend the first segment, inflate by 3. */
        tcp_send_retransmit(t, t->snd_una);
        t->cwnd = t->ssthresh + 3u * t->snd_mss;
    }
}

static void new_data_acked(tcb *t, const wire_tcp *seg)
{
    uint32_t ack = seg->ack;
    uint32_t data_acked = 0;
    if (seq_gt(ack, t->buf_seq)) {
        data_acked = ack - t->buf_seq;
        if (data_acked > t->sndbuf.used)
            data_acked = t->sndbuf.used;
        ring_consume(&t->sndbuf, data_acked);
        t->buf_seq += data_acked;
    }
    uint32_t acked = ack - t->snd_una;
    uint32_t flight_before = t->snd_max - t->snd_una - acked; /* what stays in flight */
    t->bytes_acked += data_acked;
    t->snd_una = ack;
    if (seq_lt(t->snd_nxt, t->snd_una))
        t->snd_nxt = t->snd_una;
    if (seq_lt(t->high_rxt, t->snd_una))
        t->high_rxt = t->snd_una;
    sack_trim(t);
    if (t->lost_valid && seq_geq(t->snd_una, t->lost_to))
        t->lost_valid = false;
    t->head_rxt_valid = false; /* a new head */
    measure_rtt(t, seg, ack);
    t->retries = 0;
    t->backoff = 0;
    t->dupacks = 0;

    if (t->in_recovery) {
        if (seq_geq(ack, t->recover)) {
            /* RFC 6582 §3.2 step 3 / RFC 6675: full ACK, leave recovery. */
            uint32_t flight = t->snd_max - t->snd_una;
            t->cwnd = t->ssthresh < flight + t->snd_mss ? t->ssthresh : flight + t->snd_mss;
            if (t->cwnd < t->snd_mss)
                t->cwnd = t->snd_mss;
            t->in_recovery = false;
        } else if (!t->sack_ok) {
            /* Partial ACK: the next hole is lost too; resend it at once and
             * deflate by what was acked (RFC 6582 §3.2 step 3). */
            tcp_send_retransmit(t, t->snd_una);
            t->cwnd = t->cwnd > acked ? t->cwnd - acked + t->snd_mss : t->snd_mss;
        }
    } else if (data_acked && flight_before + data_acked >= t->cwnd / 2) {
        /* The SYN and FIN do not grow the window, and neither does an ACK
         * while the application, not cwnd, limits the flight (RFC 7661). */
        t->cc->on_ack(t, data_acked);
    }
    t->rto_at = UINT64_MAX; /* RFC 6298 §5.3: restart for what remains */
    tcp_arm_rto(t);
    if (t->app_owned && ring_free_space(&t->sndbuf) && !t->fin_queued)
        tcb_signal(t, SYNACK_EV_WRITABLE);
}

void tcp_ack_process(tcb *t, const wire_tcp *seg)
{
    uint32_t ack = seg->ack;
    bool sack_news = t->sack_ok && seg->opt.sack_count && sack_update(t, &seg->opt);

    if (seq_gt(ack, t->snd_una)) {
        new_data_acked(t, seg);
    } else if (ack == t->snd_una && seg->payload_len == 0 && !(seg->flags & SYNACK_FIN) &&
               t->snd_una != t->snd_max && t->snd_wnd != 0 &&
               (((uint32_t)seg->wnd << t->snd_wscale) == t->snd_wnd || sack_news)) {
        /* A duplicate ACK (RFC 5681 §2; with SACK, RFC 6675 §2 counts one
         * that brings new SACK information). */
        t->dupacks++;
        if (t->in_recovery && t->sack_ok && t->head_rxt_valid && t->nsacked &&
            seq_gt(t->sacked[t->nsacked - 1].end, t->head_rxt_mark)) {
            /* Data sent after our copy of the head arrived, the head did
             * not: that copy was lost too (RACK's reasoning, RFC 8985 §6.2).
             * Resend it now instead of waiting for the RTO. */
            t->ctx->ctr->tcp_lost_retransmit++;
            tcp_send_retransmit(t, t->snd_una);
        }
        bool lost = t->sack_ok && seq_gt(sack_lost_edge(t), t->snd_una);
        if (!t->in_recovery && (t->dupacks >= 3 || lost))
            enter_recovery(t);
        else if (t->in_recovery && !t->sack_ok)
            t->cwnd += t->snd_mss; /* RFC 6582 §3.2 step 4: inflate */
    }

    if (t->tlp_out && seq_geq(ack, t->tlp_high)) {
        t->tlp_out = false; /* everything up to the probe arrived */
    } else if (t->tlp_out && sack_news && t->nsacked &&
               t->sacked[t->nsacked - 1].end == t->tlp_high && !t->in_recovery) {
        /* The probe (the newest data) arrived but holes below it remain:
         * they are lost. Recover now rather than at the RTO. */
        t->lost_to = t->sacked[t->nsacked - 1].start;
        t->lost_valid = true;
        t->tlp_out = false;
        t->ctx->ctr->tcp_loss_probe_recovery++;
        enter_recovery(t);
    }

    /* Window update (RFC 9293 §3.10.7.4, fifth, ESTABLISHED). */
    if (seq_lt(t->snd_wl1, seg->seq) || (t->snd_wl1 == seg->seq && seq_leq(t->snd_wl2, ack))) {
        t->snd_wnd = (uint32_t)seg->wnd << t->snd_wscale;
        t->snd_wl1 = seg->seq;
        t->snd_wl2 = ack;
        if (t->snd_wnd > t->max_snd_wnd)
            t->max_snd_wnd = t->snd_wnd;
        if (t->snd_wnd == 0 && ack == t->snd_una && t->snd_nxt != t->snd_una &&
            seq_lt(t->snd_una, t->buf_seq + t->sndbuf.used)) {
            /* The peer answers with a closed window: the data we sent past
             * SND.UNA (a zero-window probe) was not taken. Probe again from
             * SND.UNA; an answered probe is not a failure, so the window
             * may stay closed indefinitely (RFC 1122 §4.2.2.17, RFC 9293
             * §3.8.6.1). */
            t->snd_nxt = t->snd_una;
            t->fin_sent = false;
            t->retries = 0;
            t->rtt_timing = false;
        }
        tcp_arm_rto(t);
    }
}
