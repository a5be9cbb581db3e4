/* handshake.c — the segments that open a connection: the peer's SYN options,
 * SEGMENT ARRIVES in SYN-SENT (RFC 9293 §3.10.7.3), and SYN-RECEIVED's own
 * cases in §3.10.7.4 (a repeated SYN, the simultaneous open's SYN,ACK, the
 * ACK that completes the handshake). */
#include "tcp/tcp.h"

#include "base/seq.h"

#include <errno.h>

/* Take the peer's SYN options (RFC 9293 §3.7.1 MSS, RFC 7323, RFC 2018). */
void tcp_negotiate(tcb *t, const wire_tcp *seg)
{
    const synack_sysctl *s = t->ctx->sys;
    t->opts.ws_ok = s->tcp_window_scaling && seg->opt.wscale >= 0;
    t->opts.snd_wscale = t->opts.ws_ok ? (uint8_t)(seg->opt.wscale > 14 ? 14 : seg->opt.wscale) : 0;
    if (!t->opts.ws_ok)
        t->opts.rcv_wscale = 0;
    t->opts.sack_ok = s->tcp_sack && seg->opt.sack_ok;
    t->opts.ts_ok = s->tcp_timestamps && seg->opt.has_ts;
    if (t->opts.ts_ok)
        t->opts.ts_recent = seg->opt.ts_val;
    /* RFC 9293 §3.7.1 (MUST-15): without the option, 536 for IPv4 (Linux:
     * tcp_base_mss) and 1220 for IPv6, whose links all carry 1280 bytes. */
    uint32_t no_option = t->raddr.family == SYNACK_AF_INET6 && s->tcp_base_mss < 1220
                             ? 1220u : s->tcp_base_mss;
    uint32_t mss = seg->opt.mss ? seg->opt.mss : no_option;
    if (mss > tcp_path_mss(t))
        mss = tcp_path_mss(t);
    if (t->opts.ts_ok)
        mss -= 12; /* room for the timestamp option on every segment */
    if (mss < 64)
        mss = 64;
    t->opts.snd_mss = (uint16_t)mss;
    t->cc.cwnd = 10 * mss; /* RFC 6928 initial window */
    t->cc.ssthresh = UINT32_MAX;
    t->rcv.irs = seg->seq;
    t->rcv.nxt = seg->seq + 1;
    t->rcv.adv = t->rcv.nxt;
}

/* Our SYN is acknowledged: the connection is open from our side. */
static void syn_sent_established(tcb *t, const wire_tcp *seg)
{
    t->snd.wnd = seg->wnd;
    t->snd.max_wnd = t->snd.wnd;
    t->snd.wl1 = seg->seq;
    t->snd.wl2 = seg->ack;
    t->rtt.retries = 0;
    t->rtt.backoff = 0;
    t->timers.rto_at = UINT64_MAX;
    tcb_set_state(t, SYNACK_ESTABLISHED, SYNACK_CAUSE_RCV_SYN_ACK);
    tcb_signal(t, SYNACK_EV_CONNECTED | SYNACK_EV_WRITABLE);
    t->rcv.ack_pending = t->rcv.ack_now = true;
    tcp_keepalive_reset(t);
    tcp_output(t);
    tcp_arm_rto(t);
}

/* A SYN without an ACK of ours: simultaneous open (RFC 9293 §3.5, figure 8). */
static void syn_sent_simultaneous(tcb *t, const wire_tcp *seg)
{
    t->snd.wnd = seg->wnd;
    t->snd.wl1 = seg->seq;
    tcb_set_state(t, SYNACK_SYN_RECEIVED, SYNACK_CAUSE_RCV_SYN_SIMULTANEOUS);
    t->rtt.retries = 0;
    t->timers.rto_at = UINT64_MAX;
    tcp_send_syn(t, true);
}

/* RFC 9293 §3.10.7.3, SYN-SENT: first the ACK, second the RST (RFC 5961
 * §3.2), third security (nothing to check), fourth the SYN. */
void tcp_syn_sent_input(tcb *t, const wire_tcp *seg)
{
    tcp_ctx *c = t->ctx;
    bool ack = seg->flags & SYNACK_ACK;
    if (ack && (seq_leq(seg->ack, t->snd.iss) || seq_gt(seg->ack, t->snd.nxt))) {
        if (!(seg->flags & SYNACK_RST))
            tcp_send_reset(c, &t->laddr, t->lport, &t->raddr, t->rport, seg->ack, 0, 0);
        tcp_drop(c, t, SYNACK_DROP_SYN_SENT_BAD_ACK);
        return;
    }
    if (seg->flags & SYNACK_RST) {
        if (ack) { /* acceptable only if it acknowledges our SYN */
            c->ctr->tcp_attempt_fails++;
            tcb_close(t, -ECONNREFUSED, SYNACK_CAUSE_RCV_RST);
        }
        return;
    }
    if (!(seg->flags & SYNACK_SYN))
        return;
    tcp_negotiate(t, seg);
    if (ack) {
        t->snd.una = seg->ack;
        if (t->rtt.timing && seq_geq(seg->ack, t->rtt.seq))
            rtt_sample(t, c->now - t->rtt.start);
        t->rtt.timing = false;
    }
    if (seq_gt(t->snd.una, t->snd.iss))
        syn_sent_established(t, seg);
    else
        syn_sent_simultaneous(t, seg);
}

bool tcp_syn_received_early(tcb *t, wire_tcp *seg)
{
    if (t->state != SYNACK_SYN_RECEIVED)
        return true;
    uint8_t synack = seg->flags & (SYNACK_SYN | SYNACK_ACK);
    if (synack == SYNACK_SYN && seg->seq == t->rcv.irs && t->is.held) {
        /* The application has not decided yet: nothing to repeat. */
        tcp_drop(t->ctx, t, SYNACK_DROP_SYN_HELD);
        return false;
    }
    if (synack == SYNACK_SYN && seg->seq == t->rcv.irs) {
        /* The peer did not see our SYN,ACK: send it again. */
        tcp_send_syn(t, true);
        return false;
    }
    if (!t->is.passive && synack == (SYNACK_SYN | SYNACK_ACK) && seg->seq == t->rcv.irs &&
        seq_lt(t->snd.una, seg->ack) && seq_leq(seg->ack, t->snd.nxt)) {
        /* Simultaneous open (RFC 9293 §3.5 figure 7, line 6): the peer's
         * SYN,ACK repeats the SYN we hold and acknowledges ours. Its SYN
         * lies before RCV.NXT; take it as the ACK that completes the open
         * rather than as an old duplicate to drop. */
        seg->flags &= (uint8_t)~SYNACK_SYN;
        seg->seq++;
    }
    return true;
}

bool tcp_syn_received_ack(tcb *t, const wire_tcp *seg)
{
    if (!(seq_lt(t->snd.una, seg->ack) && seq_leq(seg->ack, t->snd.nxt))) {
        tcp_send_reset(t->ctx, &t->laddr, t->lport, &t->raddr, t->rport, seg->ack, 0, 0);
        return false;
    }
    if (!listen_child_may_complete(t))
        return false;
    t->snd.wnd = (uint32_t)seg->wnd << t->opts.snd_wscale;
    t->snd.max_wnd = t->snd.wnd;
    t->snd.wl1 = seg->seq;
    t->snd.wl2 = seg->ack;
    t->rtt.retries = 0;
    tcb_set_state(t, SYNACK_ESTABLISHED, SYNACK_CAUSE_RCV_ACK);
    tcp_keepalive_reset(t);
    if (t->snd.fin_queued) /* shutdown() while SYN-RECEIVED (RFC 9293 §3.10.4) */
        tcb_set_state(t, SYNACK_FIN_WAIT_1, SYNACK_CAUSE_QUEUED_SHUTDOWN);
    listen_child_completed(t);
    return true;
}

/* Our window scale: the smallest shift that lets the largest receive buffer
 * (tcp_rmem[2]) be announced in 16 bits, as Linux chooses it. */
uint8_t tcp_rcv_wscale(const tcp_ctx *c)
{
    uint8_t s = 0;
    if (!c->sys->tcp_window_scaling)
        return 0;
    while (s < 14 && (c->sys->tcp_rmem[2] >> s) > 65535)
        s++;
    return s;
}
