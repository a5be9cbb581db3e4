/* ack.c — what an acceptable ACK does to the sender (RFC 9293 §3.10.7.4
 * fifth): retire acknowledged data, measure the RTT (RFC 6298 with Karn's
 * rule, or RFC 7323 timestamps), grow the window through the congestion
 * control algorithm, detect loss by RACK (RFC 8985, rack.c), duplicate
 * ACKs or SACK (RFC 5681, RFC 6675), recover (RFC 6582 NewReno without
 * SACK), and take window updates. */
#include "tcp/cc.h"
#include "tcp/tcp.h"

#include "base/seq.h"

static void measure_rtt(tcb *t, const wire_tcp *seg, uint32_t ack)
{
    tcp_ctx *c = t->ctx;
    if (t->opts.ts_ok && seg->opt.has_ts && seg->opt.ts_ecr) {
        /* RFC 7323 §4.1: every ACK of new data echoes when it was sent. */
        uint32_t now_ts = (uint32_t)(c->now / NS_PER_MS) + t->opts.ts_offset;
        uint32_t rtt_ms = now_ts - seg->opt.ts_ecr;
        if (rtt_ms < 600000) /* ignore echoes from nonsense or wrapped clocks */
            rtt_sample(t, (uint64_t)rtt_ms * NS_PER_MS + NS_PER_MS / 2);
        t->rtt.timing = false;
        return;
    }
    if (t->rtt.timing && seq_geq(ack, t->rtt.seq)) {
        rtt_sample(t, c->now - t->rtt.start);
        t->rtt.timing = false;
    }
}

static void enter_recovery(tcb *t)
{
    tcp_ctx *c = t->ctx;
    c->ctr->tcp_fast_retrans++;
    t->cc.in_recovery = true;
    t->cc.recover = t->snd.max;
    undo_episode_begins(t);
    t->cc.ssthresh = t->cc.ops->on_loss(t);
    t->rtt.timing = false;
    if (t->opts.sack_ok) {
        c->ctr->tcp_sack_recovery++;
        /* RFC 6937 §3: PRR counts from here, RecoverFS the FlightSize the
         * window put out (Linux's prior_cwnd; not the data sent past it as
         * SACKs arrived); the fast retransmit (RFC 6675 §5 step 4.1) is the
         * first of prr_out. prr_update sets cwnd. */
        t->cc.prr_delivered = t->cc.prr_out = 0;
        t->cc.recover_fs = cc_flight_size(t);
        t->sack.high_rxt = t->snd.una;
        tcp_send_retransmit(t, t->snd.una);
    } else {
        /* RFC 6582 §3.2 step 2: resend the first segment, inflate by 3. */
        tcp_send_retransmit(t, t->snd.una);
        t->cc.cwnd = t->cc.ssthresh + 3u * t->opts.snd_mss;
    }
}

static void new_data_acked(tcb *t, const wire_tcp *seg)
{
    uint32_t ack = seg->ack;
    uint32_t data_acked = 0;
    if (seq_gt(ack, t->snd.buf_seq)) {
        data_acked = ack - t->snd.buf_seq;
        if (data_acked > tcp_snd_queued(t))
            data_acked = tcp_snd_queued(t);
        tcp_snd_consume(t, data_acked);
    }
    uint32_t acked = ack - t->snd.una;
    uint32_t flight_before = t->snd.max - t->snd.una - acked; /* what stays in flight */
    t->stats.bytes_acked += data_acked;
    t->timers.probe_from = t->ctx->now;
    t->snd.una = ack;
    if (seq_lt(t->snd.nxt, t->snd.una))
        t->snd.nxt = t->snd.una;
    if (seq_lt(t->sack.high_rxt, t->snd.una))
        t->sack.high_rxt = t->snd.una;
    sack_trim(t);
    if (t->sack.lost_valid && seq_geq(t->snd.una, t->sack.lost_to))
        t->sack.lost_valid = false;
    measure_rtt(t, seg, ack);
    t->rtt.retries = 0;
    t->rtt.backoff = 0;
    t->cc.dupacks = 0;

    if (t->cc.in_recovery) {
        if (seq_geq(ack, t->cc.recover)) {
            /* Full ACK, leave recovery. With SACK, PRR has brought the
             * flight to ssthresh and the window is ssthresh (RFC 6937 §3,
             * Linux's tcp_end_cwnd_reduction); NewReno takes RFC 6582 §3.2
             * step 3's option (1), against a burst. */
            uint32_t flight = t->snd.max - t->snd.una;
            uint32_t limit = t->opts.sack_ok ? UINT32_MAX : flight + t->opts.snd_mss;
            t->cc.cwnd = t->cc.ssthresh < limit ? t->cc.ssthresh : limit;
            if (t->cc.cwnd < t->opts.snd_mss)
                t->cc.cwnd = t->opts.snd_mss;
            t->cc.in_recovery = false;
            rack_recovery_ended(t);
        } else if (!t->opts.sack_ok) {
            /* Partial ACK: the next hole is lost too; resend it at once and
             * deflate by what was acked (RFC 6582 §3.2 step 3). */
            tcp_send_retransmit(t, t->snd.una);
            uint32_t mss = t->opts.snd_mss;
            t->cc.cwnd = t->cc.cwnd > acked ? t->cc.cwnd - acked + mss : mss;
        }
    } else if (data_acked && flight_before + data_acked >= t->cc.cwnd / 2) {
        /* The SYN and FIN do not grow the window, and neither does an ACK
         * while the application, not cwnd, limits the flight (RFC 7661). */
        t->cc.ops->on_ack(t, data_acked); /* after_rto still set: RFC 3465 §2.3 */
    }
    if (t->cc.after_rto && seq_geq(ack, t->cc.recover)) {
        t->cc.after_rto = false; /* the timeout's episode is over */
        rack_recovery_ended(t);
    }
    t->timers.rto_at = UINT64_MAX; /* RFC 6298 §5.3: restart for what remains */
    t->timers.reo_armed = false;
    t->timers.renege_armed = false;
    t->timers.stall_since = 0;     /* progress: TCP_USER_TIMEOUT starts over */
    tcp_arm_rto(t);
    tcp_buf_release_if_empty(t, TCP_BUF_SEND); /* all acknowledged: it comes back with data */
    t->soft_err = 0; /* something worked: an old ICMP error no longer explains a timeout */
    if (t->is.app_owned && tcb_send_space(t) && !t->snd.fin_queued)
        tcb_signal(t, SYNACK_EV_WRITABLE);
}

/* The cumulative ACK stopped at data the peer had SACKed: it would have
 * acknowledged that data had it kept it, so it has thrown it away
 * (reneging, RFC 2018 §8). Like Linux (tcp_check_sack_reneging), fire the
 * retransmission timer soon, after max(SRTT / 2, 10 ms); the timeout
 * forgets the scoreboard and resends from SND.UNA. */
static void check_sack_reneging(tcb *t)
{
    if (!t->sack.n || t->sack.blocks[0].start != t->snd.una)
        return;
    t->ctx->ctr->tcp_sack_reneging++;
    uint64_t delay = (uint64_t)t->rtt.srtt_us * 1000 / 2;
    if (delay < 10 * NS_PER_MS)
        delay = 10 * NS_PER_MS;
    t->timers.tlp_armed = t->timers.reo_armed = false;
    t->timers.rto_at = t->ctx->now + delay;
    t->timers.renege_armed = true;
    tcb_schedule(t);
}

/* Proportional Rate Reduction (RFC 6937 §3) on every ACK of a SACK
 * recovery: while pipe is above ssthresh, send in proportion to what was
 * delivered (ssthresh / RecoverFS of it); below, PRR-SSRB (Linux's choice)
 * lets pipe grow back to ssthresh by at most what this ACK delivered plus
 * one segment. The window becomes pipe + sndcnt; what to send is RFC
 * 6675's NextSeg (output.c), and each byte sent counts in prr_out. */
static void prr_update(tcb *t, uint32_t delivered)
{
    uint64_t mss = t->opts.snd_mss, ssthresh = t->cc.ssthresh;
    t->cc.prr_delivered += delivered;
    uint64_t pipe = sack_pipe(t), out = t->cc.prr_out, sndcnt;
    if (pipe > ssthresh) {
        uint64_t fs = t->cc.recover_fs ? t->cc.recover_fs : 1;
        uint64_t due = ((uint64_t)t->cc.prr_delivered * ssthresh + fs - 1) / fs; /* CEIL */
        sndcnt = due > out ? due - out : 0;
    } else {
        uint64_t owed = t->cc.prr_delivered > out ? t->cc.prr_delivered - out : 0;
        uint64_t limit = (owed > delivered ? owed : delivered) + mss;
        sndcnt = ssthresh - pipe < limit ? ssthresh - pipe : limit;
    }
    uint64_t cwnd = pipe + sndcnt;
    t->cc.cwnd = cwnd > UINT32_MAX ? UINT32_MAX : (uint32_t)cwnd;
}

/* A new fast recovery may start: not during one, and not before SND.UNA
 * passes what was outstanding at a timeout (RFC 6675 §5.1, RFC 6582 §3.2
 * step 1): losses found while the timeout's retransmissions go out belong
 * to the same congestion event and must not cut the window again. */
static bool may_enter_recovery(const tcb *t)
{
    return !t->cc.in_recovery && !t->cc.after_rto;
}

/* Start fast recovery when loss is found: RACK's marks or RFC 6675's
 * IsLost (sack_lost_edge), or without SACK the third duplicate ACK. While
 * RACK times the flight, DupThresh is its business (RFC 8985 §6.2 step 3
 * drops the reordering window once three segments are SACKed); a third
 * duplicate ACK still counts when it carries no SACK block: the peer
 * holds data it does not report (it reneged, or lost its SACK state), and
 * only the old rule can tell. */
static void recover_if_lost(tcb *t, bool dup, bool rack, bool blocks)
{
    bool lost = t->opts.sack_ok && seq_gt(sack_lost_edge(t), t->snd.una);
    bool dupthresh = dup && t->cc.dupacks >= 3 && (!rack || !blocks);
    if (may_enter_recovery(t) && (dupthresh || lost))
        enter_recovery(t);
    else if (dup && t->cc.in_recovery && !t->opts.sack_ok)
        t->cc.cwnd += t->opts.snd_mss; /* RFC 6582 §3.2 step 4: inflate */
}

/* Data sent after a retransmission arrived, the retransmission did not:
 * resend it now instead of waiting for the RTO. RACK knows by time
 * (RFC 8985 §6.2); without its records, sack_lost_rxt by sequence. After a
 * timeout only RACK can tell (the scoreboard was forgotten), and a copy of
 * the go-back-N resend is found lost as Linux's Loss state finds it. */
static void resend_lost_retransmissions(tcb *t)
{
    bool rack = rack_in_charge(t);
    if (!t->opts.sack_ok || !(t->cc.in_recovery || (t->cc.after_rto && rack)))
        return;
    /* After a timeout, go-back-N resends what lies at and above SND.NXT
     * itself, in order and within cwnd. */
    uint32_t below = t->cc.in_recovery ? t->snd.max : t->snd.nxt, lost;
    while (rack ? rack_lost_rxt(t, below, &lost) : sack_lost_rxt(t, &lost)) {
        t->ctx->ctr->tcp_lost_retransmit++;
        tcp_send_retransmit(t, lost);
    }
}

/* RFC 8985 §6.2 step 5: the reordering timer fired. What it finds lost
 * starts recovery (or is resent within one); then the usual sending. */
void tcp_rack_timeout(tcb *t)
{
    t->ctx->ctr->tcp_rack_reo_timeouts++;
    t->timers.rto_at = UINT64_MAX;
    tcp_arm_rto(t);
    rack_detect_loss_and_arm(t);
    if (!rack_in_charge(t))
        return;
    recover_if_lost(t, false, true, true);
    resend_lost_retransmissions(t);
    if (t->cc.in_recovery)
        prr_update(t, 0);
    tcp_output(t);
}

void tcp_ack_process(tcb *t, const wire_tcp *seg)
{
    uint32_t ack = seg->ack;
    uint32_t una_before = t->snd.una, sacked_before = t->sack.n ? sack_sacked_bytes(t) : 0;
    bool sack_news = t->opts.sack_ok && seg->opt.sack_count && sack_update(t, &seg->opt);

    bool dup = false;
    if (seq_gt(ack, t->snd.una)) {
        new_data_acked(t, seg);
        check_sack_reneging(t);
    } else if (ack == t->snd.una && seg->payload_len == 0 && !(seg->flags & SYNACK_FIN) &&
               t->snd.una != t->snd.max && t->snd.wnd != 0 &&
               (((uint32_t)seg->wnd << t->opts.snd_wscale) == t->snd.wnd || sack_news)) {
        /* A duplicate ACK (RFC 5681 §2; with SACK, RFC 6675 §2 counts one
         * that brings new SACK information). */
        t->cc.dupacks++;
        dup = true;
    }
    bool rack = rack_on_ack(t, seg);
    /* Any ACK with a scoreboard may show a loss (a partial ACK too, with
     * tcp_recovery=0), and the pipe already leaves lost data out. */
    if (dup || rack || t->sack.n)
        recover_if_lost(t, dup, rack, seg->opt.sack_count != 0);

    if (t->sack.tlp_out && seq_geq(ack, t->sack.tlp_high)) {
        t->sack.tlp_out = false; /* everything up to the probe arrived */
    } else if (t->sack.tlp_out && sack_news && t->sack.n &&
               t->sack.blocks[t->sack.n - 1].end == t->sack.tlp_high && may_enter_recovery(t)) {
        /* The probe (the newest data) arrived but holes below it remain:
         * they are lost. Recover now rather than at the RTO. */
        t->sack.lost_to = t->sack.blocks[t->sack.n - 1].start;
        t->sack.lost_valid = true;
        t->sack.tlp_out = false;
        t->ctx->ctr->tcp_loss_probe_recovery++;
        enter_recovery(t);
    }

    /* Any hole's lost copy, not only the head's (a partial ACK moves the
     * head). */
    resend_lost_retransmissions(t);
    if (t->cc.in_recovery && t->opts.sack_ok) {
        /* RFC 6937 §3: DeliveredData = change in SND.UNA + change in SACKed. */
        int64_t d = (int64_t)(uint32_t)(t->snd.una - una_before) + sack_sacked_bytes(t) -
                    sacked_before;
        prr_update(t, d > 0 ? (uint32_t)d : 0);
    }

    uint32_t dup_start, dup_end;
    if (t->opts.sack_ok && sack_dsack(seg, &dup_start, &dup_end))
        undo_on_dsack(t, dup_start, dup_end); /* after PRR: the undo has the last word */

    /* Window update (RFC 9293 §3.10.7.4, fifth, ESTABLISHED). */
    if (seq_lt(t->snd.wl1, seg->seq) || (t->snd.wl1 == seg->seq && seq_leq(t->snd.wl2, ack))) {
        t->snd.wnd = (uint32_t)seg->wnd << t->opts.snd_wscale;
        t->snd.wl1 = seg->seq;
        t->snd.wl2 = ack;
        if (t->snd.wnd > t->snd.max_wnd)
            t->snd.max_wnd = t->snd.wnd;
        if (t->snd.wnd == 0 && ack == t->snd.una && t->snd.nxt != t->snd.una &&
            seq_lt(t->snd.una, tcp_snd_end(t))) {
            /* The peer answers with a closed window: the data we sent past
             * SND.UNA (a zero-window probe) was not taken. Probe again from
             * SND.UNA; an answered probe is not a failure, so the window
             * may stay closed indefinitely (RFC 1122 §4.2.2.17, RFC 9293
             * §3.8.6.1). */
            t->snd.nxt = t->snd.una;
            t->snd.fin_sent = false;
            if (!t->is.orphan) /* an orphan's answered probes count (Linux) */
                t->rtt.retries = 0;
            t->rtt.timing = false;
        }
        tcp_arm_rto(t);
    }
}
