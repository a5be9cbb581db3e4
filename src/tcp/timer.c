/* timer.c — a connection's timers (RFC 9293 §3.10.8): one heap slot at the
 * earliest deadline, and what each does when it fires: retransmission (with
 * the persist probe and the tail loss probe folded in), delayed ACK,
 * keepalive and the orphaned FIN-WAIT-2 limit. TIME-WAIT's 2MSL runs in
 * the TIME-WAIT table (tw_table.c). */
#include "tcp/cc.h"
#include "tcp/tcp.h"
#include "tcp/timewait.h"

#include "base/seq.h"

#include <errno.h>
#include <stddef.h>

static bool data_pending(const tcb *t)
{
    return seq_lt(t->snd.nxt, tcp_snd_end(t)) ||
           (t->snd.fin_queued && !t->snd.fin_sent);
}

/* Tail loss probe (RFC 8985 §7): with SACK in use and no recovery under
 * way, a probe after about two round trips makes the peer's SACK reveal a
 * lost tail, instead of waiting for the RTO (200 ms at least). The probe
 * timeout follows Linux: 2 SRTT, or 1.5 SRTT + 200 ms with one segment in
 * flight (the peer may be delaying its ACK), at least 10 ms. */
static bool tlp_pto(const tcb *t, uint64_t *pto)
{
    if (!t->opts.sack_ok || t->cc.in_recovery || t->sack.tlp_out || t->rtt.backoff ||
        !t->rtt.srtt_us ||
        !(t->state == SYNACK_ESTABLISHED || t->state == SYNACK_CLOSE_WAIT) ||
        t->snd.nxt != t->snd.max)
        return false;
    uint64_t srtt = (uint64_t)t->rtt.srtt_us * 1000;
    uint64_t p = 2 * srtt;
    if (t->snd.max - t->snd.una <= t->opts.snd_mss && p < srtt + srtt / 2 + 200 * NS_PER_MS)
        p = srtt + srtt / 2 + 200 * NS_PER_MS;
    if (p < 10 * NS_PER_MS)
        p = 10 * NS_PER_MS;
    *pto = p;
    return true;
}

/* The probe: one new segment if the windows allow, else the last one
 * again. Then the ordinary RTO takes over. */
static void send_loss_probe(tcb *t)
{
    tcp_ctx *c = t->ctx;
    c->ctr->tcp_loss_probes++;
    t->sack.tlp_out = true;
    uint32_t data_end = tcp_snd_end(t);
    uint32_t before = t->snd.max;
    if (seq_lt(t->snd.nxt, data_end) && seq_lt(t->snd.nxt, t->snd.una + t->snd.wnd)) {
        uint32_t saved = t->cc.cwnd;
        t->cc.cwnd = t->snd.nxt - t->snd.una + t->opts.snd_mss;
        tcp_send_forced(t);
        t->cc.cwnd = saved;
    }
    if (t->snd.max == before) { /* nothing new went out: resend the tail */
        uint32_t out = t->snd.max - t->snd.una;
        uint32_t last = out < t->opts.snd_mss ? out : t->opts.snd_mss;
        /* One segment resent, not every hole below it: HighRxt is
         * recovery's, and the pipe before recovery counts holes below it. */
        uint32_t high_rxt = t->sack.high_rxt;
        tcp_send_retransmit(t, t->snd.max - last);
        t->sack.high_rxt = high_rxt;
    }
    t->sack.tlp_high = t->snd.max;
    t->timers.rto_at = UINT64_MAX; /* the RTO now, within TCP_USER_TIMEOUT */
    tcp_arm_rto(t);
}
void tcb_schedule(tcb *t)
{
    if (t->is.dead)
        return;
    uint64_t at = t->timers.rto_at < t->timers.close_at ? t->timers.rto_at : t->timers.close_at;
    if (t->timers.delack_at < at)
        at = t->timers.delack_at;
    if (t->timers.keep_at < at)
        at = t->timers.keep_at;
    /* A deadline that only moved later (the RTO restarted by an ACK, most
     * often) keeps its heap slot: tcp_timers re-files it when it comes up.
     * That spares a heap operation per ACK. */
    if (at != UINT64_MAX && t->timers.node.idx != HEAP_NONE && at > t->timers.node.key)
        return;
    if (heap_set(&t->ctx->timers, &t->timers.node, at) != 0)
        t->ctx->ctr->tcp_no_memory++;
}


void tcb_timers_off(tcb *t)
{
    t->timers.reo_armed = false;
    t->timers.rto_at = t->timers.close_at = t->timers.delack_at = t->timers.keep_at = UINT64_MAX;
    tcb_schedule(t);
}

/* Arm the retransmission timer when something is in flight, or the persist
 * probe when data waits behind a zero window (RFC 9293 §3.8.6.1); stop it
 * when neither holds. A running timer is left alone (RFC 6298 §5.1). */
void tcp_arm_rto(tcb *t)
{
    bool outstanding = t->snd.una != t->snd.nxt;
    /* Nothing in flight yet data waits (closed or tiny window, cork):
     * the timer will push one segment out. */
    bool persist = !outstanding && tcb_synchronized(t) && t->state != SYNACK_TIME_WAIT &&
                   data_pending(t);
    if (outstanding || persist) {
        if (!t->timers.stall_since)
            t->timers.stall_since = t->ctx->now;
        /* A loss probe is timed from the latest data sent or newly
         * acknowledged (as Linux does), so it moves with the flight; an
         * ACK that carries nothing new (a window update, the peer's own
         * data) must not push it, or the RTO behind it, any later. */
        uint64_t rto = rtt_rto_ns(t), pto;
        if (t->timers.reo_armed || (t->timers.renege_armed && t->timers.rto_at != UINT64_MAX)) {
            /* RACK's reordering timer runs, or the early timeout after
             * reneging (Linux keeps it too); each arms the RTO when done. */
        } else if (outstanding && tlp_pto(t, &pto)) {
            /* RFC 8985 §7.2: were the RTO to fire sooner, the probe goes
             * at that time instead. As Linux (tcp_rto_delta_us) the RTO
             * is counted from when the oldest data in flight left, not
             * the latest, so a write every so often does not put the
             * probe off for good; without RACK's records, from the latest. */
            uint64_t at = t->timers.probe_from + pto;
            uint64_t oldest = rack_oldest_sent(t, t->timers.probe_from);
            if (at > oldest + rto)
                at = oldest + rto;
            t->timers.tlp_armed = true;
            t->timers.rto_at = at > t->ctx->now ? at : t->ctx->now;
        } else if (t->timers.rto_at == UINT64_MAX || t->timers.tlp_armed) {
            t->timers.tlp_armed = false;
            t->timers.rto_at = t->ctx->now + rto;
        }
        /* TCP_USER_TIMEOUT: no backed-off timeout runs past it (Linux's
         * tcp_clamp_rto_to_user_timeout). */
        uint64_t ut = (uint64_t)t->sockopt.user_timeout_ms * NS_PER_MS;
        if (ut && t->timers.rto_at > t->timers.stall_since + ut)
            t->timers.rto_at = t->timers.stall_since + ut > t->ctx->now
                                   ? t->timers.stall_since + ut
                                   : t->ctx->now + NS_PER_MS;
    } else {
        t->timers.rto_at = UINT64_MAX;
        t->timers.reo_armed = false;
        t->timers.stall_since = 0;
    }
    tcb_schedule(t);
}

/* TCP_USER_TIMEOUT ran out: the data (or the window probes) waited
 * unanswered for longer than the application allows. */
static bool user_timed_out(const tcb *t)
{
    uint64_t ut = (uint64_t)t->sockopt.user_timeout_ms * NS_PER_MS;
    return ut && t->timers.stall_since && t->ctx->now - t->timers.stall_since >= ut;
}

/* How many timeouts in a row a connection takes: tcp_retries2, or for an
 * orphan tcp_orphan_retries (0 meaning 8) if fewer, as Linux. */
static uint32_t retries_limit(const tcb *t)
{
    const synack_sysctl *s = t->ctx->sys;
    if (!t->is.orphan)
        return s->tcp_retries2;
    uint32_t orphan = s->tcp_orphan_retries ? s->tcp_orphan_retries : 8;
    return orphan < s->tcp_retries2 ? orphan : s->tcp_retries2;
}

/* A connection that times out reports the soft error an ICMP message left
 * (icmp_error.c), as Linux's tcp_write_err, else ETIMEDOUT. */
static int timeout_errno(const tcb *t) { return t->soft_err ? t->soft_err : -ETIMEDOUT; }

/* Our SYN (SYN-SENT) or SYN,ACK (SYN-RECEIVED) went unanswered: send it
 * again, backed off, until tcp_syn_retries / tcp_synack_retries run out. */
static void syn_timeout(tcb *t)
{
    tcp_ctx *c = t->ctx;
    bool syn_sent = t->state == SYNACK_SYN_SENT;
    uint32_t max = syn_sent ? c->sys->tcp_syn_retries : c->sys->tcp_synack_retries;
    if (++t->rtt.retries > max) {
        c->ctr->tcp_attempt_fails++;
        if (syn_sent)
            tcb_close(t, timeout_errno(t), SYNACK_CAUSE_SYN_RETRIES);
        else
            tcb_close(t, t->is.passive ? 0 : -ETIMEDOUT, SYNACK_CAUSE_SYNACK_RETRIES);
        return;
    }
    t->rtt.backoff++;
    c->ctr->tcp_timeouts++;
    t->rtt.timing = false;
    tcp_send_syn(t, true);
}

static void rto_fired(tcb *t)
{
    tcp_ctx *c = t->ctx;
    bool outstanding = t->snd.una != t->snd.nxt;
    t->timers.renege_armed = false;

    if (t->state == SYNACK_SYN_SENT || t->state == SYNACK_SYN_RECEIVED) {
        syn_timeout(t);
        return;
    }
    if (!tcb_synchronized(t) || t->state == SYNACK_TIME_WAIT)
        return;
    /* With TCP_USER_TIMEOUT set, time decides instead of tcp_retries2
     * (Linux's retransmits_timed_out), for data and window probes alike,
     * and a loss probe or RACK's timer due at that time goes unsent. */
    if (user_timed_out(t)) {
        c->ctr->tcp_abort_on_timeout++;
        tcb_close(t, timeout_errno(t), SYNACK_CAUSE_USER_TIMEOUT);
        return;
    }
    if (t->timers.reo_armed) {
        t->timers.reo_armed = false;
        tcp_rack_timeout(t);
        return;
    }
    if (t->timers.tlp_armed) {
        t->timers.tlp_armed = false;
        if (outstanding) {
            send_loss_probe(t);
            return;
        }
    }

    /* Unanswered retransmissions count; so do an orphan's window probes,
     * answered or not, or it could wait behind a closed window forever. */
    if ((outstanding || t->is.orphan) && ++t->rtt.retries > retries_limit(t) &&
        (!t->sockopt.user_timeout_ms || t->is.orphan)) {
        c->ctr->tcp_abort_on_timeout++;
        tcb_close(t, timeout_errno(t), SYNACK_CAUSE_RETRANSMISSIONS);
        return;
    }
    if (outstanding) {
        c->ctr->tcp_timeouts++;
        /* RFC 5681 §3.1 eq. 4 and RFC 6298 §5.5–5.6: collapse and back off.
         * One loss episode cuts ssthresh once: not again on a second timeout
         * of the same data, nor on a timeout during fast recovery, whose
         * entry already cut it for this window (as Linux's tcp_enter_loss;
         * FlightSize there counts SACKed data, and halving it could raise
         * ssthresh far above the window that lost). */
        if (t->rtt.backoff == 0 && !t->cc.in_recovery) {
            undo_episode_begins(t);
            t->cc.ssthresh = t->cc.ops->on_loss(t);
        }
        t->cc.cwnd = t->opts.snd_mss;
        if (t->cc.ops->on_timeout)
            t->cc.ops->on_timeout(t);
        t->cc.dupacks = 0;
        t->cc.in_recovery = false;
        t->cc.after_rto = true;
        t->sack.high_rxt = t->snd.una;
        t->sack.tlp_out = t->sack.lost_valid = false;
        sack_clear(t); /* RFC 6675 §5.1: the peer may have reneged */
        rack_on_rto(t);
        tcp_mtu_black_hole_check(t);
        t->cc.recover = t->snd.max;
        t->rtt.timing = false; /* Karn's rule */
        t->snd.nxt = t->snd.una;
        t->snd.fin_sent = false;
    }
    /* else: persist probe behind a zero window; probes do not count as
     * failures while the peer keeps answering. */
    t->rtt.backoff++;
    t->timers.rto_at = UINT64_MAX;
    tcp_send_forced(t);
    tcp_arm_rto(t);
}

/* A per-socket keepalive setting, or the sysctl when it is 0. */
static uint64_t keep_s(uint32_t sockopt, uint32_t sysctl) { return sockopt ? sockopt : sysctl; }

static uint64_t keep_idle_ns(const tcb *t)
{
    return keep_s(t->sockopt.keep_idle_s, t->ctx->sys->tcp_keepalive_time) * 1000 * NS_PER_MS;
}

void tcp_keepalive_reset(tcb *t)
{
    t->timers.heard_at = t->ctx->now;
    if (!t->sockopt.keepalive || !tcb_synchronized(t))
        return;
    t->timers.keep_at = t->ctx->now + keep_idle_ns(t);
    tcb_schedule(t);
}

/* A new idle time counts from the peer's last segment, as Linux's
 * tcp_sock_set_keepidle: already passed, the probe goes at once. */
void tcp_keepalive_idle_changed(tcb *t)
{
    if (!t->sockopt.keepalive || !tcb_synchronized(t) || t->timers.keep_at == UINT64_MAX ||
        t->timers.keep_probes) /* probing: TCP_KEEPINTVL paces it */
        return;
    uint64_t at = t->timers.heard_at + keep_idle_ns(t);
    t->timers.keep_at = at > t->ctx->now ? at : t->ctx->now;
    tcb_schedule(t);
}

/* Keepalive (RFC 1122 §4.2.3.6, Linux's knobs): after keep_idle of
 * silence probe with SND.UNA - 1 every keep_intvl; keep_cnt unanswered
 * probes end the connection with ETIMEDOUT. */
static void keepalive_fired(tcb *t)
{
    tcp_ctx *c = t->ctx;
    bool idle_state = t->state == SYNACK_ESTABLISHED || t->state == SYNACK_CLOSE_WAIT ||
                      t->state == SYNACK_FIN_WAIT_2;
    if (!t->sockopt.keepalive || !idle_state)
        return;
    uint64_t intvl = keep_s(t->sockopt.keep_intvl_s, c->sys->tcp_keepalive_intvl);
    uint64_t cnt = keep_s(t->sockopt.keep_cnt, c->sys->tcp_keepalive_probes);
    if (t->snd.una != t->snd.max || data_pending(t)) {
        /* Data in flight: the retransmission timer watches the peer. */
        t->timers.keep_at = c->now + keep_idle_ns(t);
        return;
    }
    /* With TCP_USER_TIMEOUT, the silence since the peer's last segment
     * decides, once a probe went unanswered, not TCP_KEEPCNT (Linux). */
    uint64_t ut = (uint64_t)t->sockopt.user_timeout_ms * NS_PER_MS;
    bool expired = ut ? t->timers.keep_probes > 0 && c->now - t->timers.heard_at >= ut
                      : t->timers.keep_probes >= cnt;
    if (expired) {
        c->ctr->tcp_abort_on_timeout++;
        tcp_send_rst_for(t);
        tcb_close(t, -ETIMEDOUT,
                  ut ? SYNACK_CAUSE_USER_TIMEOUT : SYNACK_CAUSE_KEEPALIVE_TIMEOUT);
        return;
    }
    t->timers.keep_probes++;
    c->ctr->tcp_keepalive_probes++;
    tcp_send_keepalive(t);
    t->timers.keep_at = c->now + intvl * 1000 * NS_PER_MS;
}

void tcp_arm_fin_timeout(tcb *t)
{
    t->timers.close_at = t->ctx->now + (uint64_t)t->ctx->sys->tcp_fin_timeout * 1000 * NS_PER_MS;
    tcb_schedule(t);
}

static void close_timer_fired(tcb *t)
{
    /* TIME-WAIT's 2MSL runs in the TIME-WAIT table (timewait.c). */
    if (t->state == SYNACK_FIN_WAIT_2) {
        t->ctx->ctr->tcp_fin_timeouts++;
        tcb_close(t, 0, SYNACK_CAUSE_FIN_TIMEOUT);
    }
}

void tcp_timers(tcp_ctx *c)
{
    heap_node *n;
    while ((n = heap_top(&c->timers)) && n->key <= c->now) {
        tcb *t = (tcb *)((char *)n - offsetof(tcb, timers.node));
        uint64_t due = t->timers.rto_at;
        if (t->timers.close_at < due)
            due = t->timers.close_at;
        if (t->timers.delack_at < due)
            due = t->timers.delack_at;
        if (t->timers.keep_at < due)
            due = t->timers.keep_at;
        if (due > c->now) { /* it moved later since it was filed */
            heap_set(&c->timers, n, due);
            continue;
        }
        if (t->timers.rto_at <= c->now) {
            t->timers.rto_at = UINT64_MAX;
            rto_fired(t);
        }
        if (!t->is.dead && t->timers.close_at <= c->now) {
            t->timers.close_at = UINT64_MAX;
            close_timer_fired(t);
        }
        if (!t->is.dead && t->timers.delack_at <= c->now) {
            t->timers.delack_at = UINT64_MAX;
            if (t->rcv.ack_pending) {
                c->ctr->tcp_delayed_acks++;
                tcp_send_ack(t);
            }
        }
        if (!t->is.dead && t->timers.keep_at <= c->now) {
            t->timers.keep_at = UINT64_MAX;
            keepalive_fired(t);
        }
        if (!t->is.dead)
            tcb_schedule(t);
    }
    tcp_tw_timers(c);
}

uint64_t tcp_next_deadline(const tcp_ctx *c)
{
    heap_node *n = heap_top(&c->timers);
    uint64_t tw = tcp_tw_next_deadline(c);
    return n && n->key < tw ? n->key : tw;
}
