/* input.c — SEGMENT ARRIVES, RFC 9293 §3.10.7, in the RFC's order, with the
 * RFC 5961 defences (§3 RST, §4 SYN, §5 ACK) where the RFC points to them. */
#include "tcp/tcp.h"
#include "tcp/timewait.h"

#include "base/seq.h"

#include <errno.h>
#include <string.h>

static uint32_t seg_length(const wire_tcp *s)
{
    return (uint32_t)s->payload_len + !!(s->flags & SYNACK_SYN) + !!(s->flags & SYNACK_FIN);
}

/* Take the peer's SYN options (RFC 9293 §3.7.1 MSS, RFC 7323, RFC 2018). */
static void negotiate(tcb *t, const wire_tcp *seg)
{
    const synack_sysctl *s = t->ctx->sys;
    bool we_offered_ws = t->is.passive ? s->tcp_window_scaling : s->tcp_window_scaling;
    t->opts.ws_ok = we_offered_ws && seg->opt.wscale >= 0;
    t->opts.snd_wscale = t->opts.ws_ok ? (uint8_t)(seg->opt.wscale > 14 ? 14 : seg->opt.wscale) : 0;
    if (!t->opts.ws_ok)
        t->opts.rcv_wscale = 0;
    t->opts.sack_ok = s->tcp_sack && seg->opt.sack_ok;
    t->opts.ts_ok = s->tcp_timestamps && seg->opt.has_ts;
    if (t->opts.ts_ok)
        t->opts.ts_recent = seg->opt.ts_val;
    uint32_t mss = seg->opt.mss ? seg->opt.mss : s->tcp_base_mss;
    if (mss > t->ctx->mtu - 40)
        mss = t->ctx->mtu - 40;
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

static bool fin_acked(const tcb *t)
{
    return t->snd.fin_queued && t->snd.buf.used == 0 && t->snd.una == t->snd.buf_seq + 1;
}

/* TIME-WAIT lives in its own compact table (timewait.c): the full
 * connection is given up here. */
static void enter_time_wait(tcb *t, synack_cause cause)
{
    tcp_tw_enter(t, cause);
}

/* ------------------------------------------------------------ §3.10.7.1 CLOSED */

static void closed_input(tcp_ctx *c, uint32_t src, uint32_t dst, const wire_tcp *seg)
{
    c->ctr->tcp_no_port++;
    if (seg->flags & SYNACK_RST)
        return;
    if (seg->flags & SYNACK_ACK)
        tcp_send_reset(c, dst, seg->dport, src, seg->sport, seg->ack, 0, 0);
    else
        tcp_send_reset(c, dst, seg->dport, src, seg->sport, 0, seg->seq + seg_length(seg),
                       SYNACK_ACK);
}

/* ------------------------------------------------------------ §3.10.7.2 LISTEN */

/* `tw_isn`: non-zero when the SYN reopens a TIME-WAIT 4-tuple (RFC 6191):
 * our ISN must then start above the old incarnation's SND.NXT. */
static void listen_input(tcb *l, uint32_t src, uint32_t dst, const wire_tcp *seg, uint32_t tw_isn)
{
    tcp_ctx *c = l->ctx;
    if (seg->flags & SYNACK_RST)
        return;
    if (seg->flags & SYNACK_ACK) {
        tcp_send_reset(c, dst, seg->dport, src, seg->sport, seg->ack, 0, 0);
        return;
    }
    if (!(seg->flags & SYNACK_SYN))
        return;
    if (!tw_isn && !tcp_tw_recycle_syn_ok(c, src, seg))
        return; /* tcp_tw_recycle: silently dropped, counted TcpExtPAWSPassive */
    uint32_t syn_max = c->sys->tcp_max_syn_backlog;
    if (l->listen.accept_queued >= (uint32_t)l->listen.backlog || l->listen.syn_queued >= syn_max) {
        c->ctr->tcp_listen_overflows += l->listen.accept_queued >= (uint32_t)l->listen.backlog;
        c->ctr->tcp_listen_drops++;
        tcp_drop(c, l, SYNACK_DROP_LISTEN_QUEUE_FULL);
        return;
    }
    tcb *t = tcb_new(c);
    if (!t)
        return;
    t->lip = dst;
    t->lport = seg->dport;
    t->rip = src;
    t->rport = seg->sport;
    t->is.passive = true;
    t->parent = l;
    t->snd.buf_size = l->snd.buf_size;
    t->rcv.buf_size = l->rcv.buf_size;
    t->sockopt.fixed_sndbuf = l->sockopt.fixed_sndbuf;
    t->sockopt.fixed_rcvbuf = l->sockopt.fixed_rcvbuf;
    t->opts.adv_mss = l->opts.adv_mss;
    t->sockopt.nodelay = l->sockopt.nodelay; /* options set on a listener carry over, as in Linux */
    t->sockopt.cork = l->sockopt.cork;
    t->sockopt.quickack = l->sockopt.quickack;
    t->sockopt.keepalive = l->sockopt.keepalive;
    t->sockopt.keep_idle_s = l->sockopt.keep_idle_s;
    t->sockopt.keep_intvl_s = l->sockopt.keep_intvl_s;
    t->sockopt.keep_cnt = l->sockopt.keep_cnt;
    t->opts.rcv_wscale = tcp_rcv_wscale(c);
    if (ring_init(&t->snd.buf, t->snd.buf_size) || ring_init(&t->rcv.buf, t->rcv.buf_size)) {
        c->ctr->tcp_no_memory++;
        tcb_set_state(t, SYNACK_CLOSED, SYNACK_CAUSE_NONE);
        t->parent = NULL;
        tcb_maybe_release(t);
        return;
    }
    negotiate(t, seg);
    t->snd.wnd = seg->wnd; /* a SYN's window is never scaled (RFC 7323 §2.2) */
    t->snd.wl1 = seg->seq;
    t->snd.max_wnd = t->snd.wnd;
    t->snd.iss = tw_isn ? tw_isn : tcp_isn(c, t->lip, t->lport, t->rip, t->rport);
    t->opts.ts_offset = tcp_ts_offset(c, t->lip, t->lport, t->rip, t->rport);
    t->snd.una = t->snd.nxt = t->snd.max = t->snd.iss;
    t->snd.buf_seq = t->snd.iss + 1;
    tcb_hash_insert(t);
    l->listen.syn_queued++;
    c->ctr->tcp_passive_opens++;
    tcb_set_state(t, SYNACK_LISTEN, SYNACK_CAUSE_NONE); /* where its listener stands */
    if (c->trace)
        tcp_trace_seg(c, t, SYNACK_TRACE_SEG_IN, seg, false, t->lip, t->lport, t->rip, t->rport);
    tcb_set_state(t, SYNACK_SYN_RECEIVED, SYNACK_CAUSE_RCV_SYN);
    tcp_send_syn(t, false);
    if (c->lab_two_way_handshake && l->listen.accept_queued < (uint32_t)l->listen.backlog) {
        /* LAB ONLY (`synack lab why-three-way`): a two-way handshake, where
         * the SYN,ACK alone opens the connection. Real TCP never does this:
         * an old duplicate SYN would open a connection nobody asked for. */
        t->snd.una = t->snd.nxt;
        t->rtt.timing = false;
        t->timers.rto_at = UINT64_MAX;
        tcp_arm_rto(t);
        tcb_set_state(t, SYNACK_ESTABLISHED, SYNACK_CAUSE_LAB_TWO_WAY_HANDSHAKE);
        l->listen.syn_queued--;
        l->listen.accept_queued++;
        t->is.in_accept_queue = true;
        t->qnext = NULL;
        if (l->listen.tail)
            l->listen.tail->qnext = t;
        else
            l->listen.head = t;
        l->listen.tail = t;
        tcb_signal(l, SYNACK_EV_ACCEPT);
    }
}

/* ------------------------------------------------------------ §3.10.7.3 SYN-SENT */

static void syn_sent_input(tcb *t, const wire_tcp *seg)
{
    tcp_ctx *c = t->ctx;
    bool ack = seg->flags & SYNACK_ACK;
    if (ack && (seq_leq(seg->ack, t->snd.iss) || seq_gt(seg->ack, t->snd.nxt))) {
        if (!(seg->flags & SYNACK_RST))
            tcp_send_reset(c, t->lip, t->lport, t->rip, t->rport, seg->ack, 0, 0);
        tcp_drop(c, t, SYNACK_DROP_SYN_SENT_BAD_ACK);
        return;
    }
    if (seg->flags & SYNACK_RST) {
        if (ack) { /* RFC 5961 §3.2: acceptable only if it acknowledges our SYN */
            c->ctr->tcp_attempt_fails++;
            tcb_close(t, -ECONNREFUSED, SYNACK_CAUSE_RCV_RST);
        }
        return;
    }
    if (!(seg->flags & SYNACK_SYN))
        return;
    negotiate(t, seg);
    if (ack) {
        t->snd.una = seg->ack;
        if (t->rtt.timing && seq_geq(seg->ack, t->rtt.seq))
            rtt_sample(t, c->now - t->rtt.start);
        t->rtt.timing = false;
    }
    if (seq_gt(t->snd.una, t->snd.iss)) {
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
    } else {
        /* Simultaneous open (RFC 9293 §3.5, figure 8). */
        t->snd.wnd = seg->wnd;
        t->snd.wl1 = seg->seq;
        tcb_set_state(t, SYNACK_SYN_RECEIVED, SYNACK_CAUSE_RCV_SYN_SIMULTANEOUS);
        t->rtt.retries = 0;
        t->timers.rto_at = UINT64_MAX;
        tcp_send_syn(t, true);
    }
}

/* ------------------------------------------------------------ §3.10.7.4 other states */

/* Store in-window payload; returns true if rcv_nxt advanced. */
static bool receive_text(tcb *t, uint32_t seq, const uint8_t *data, uint32_t len)
{
    tcp_ctx *c = t->ctx;
    uint32_t off = seq - t->rcv.nxt;
    uint32_t space = ring_free_space(&t->rcv.buf);
    if (off >= space) {
        c->ctr->tcp_rcv_buf_drop++;
        return false;
    }
    if (len > space - off)
        len = space - off;
    if (off == 0) {
        ring_write_at(&t->rcv.buf, 0, data, len);
        ring_commit(&t->rcv.buf, len);
        t->rcv.nxt += len;
        t->stats.bytes_received += len;
        /* Pull in out-of-order ranges the new data now reaches. */
        bool merged;
        do {
            merged = false;
            for (uint8_t i = 0; i < t->rcv.nooo; i++) {
                seq_range *r = &t->rcv.ooo[i];
                if (seq_leq(r->start, t->rcv.nxt)) {
                    if (seq_gt(r->end, t->rcv.nxt)) {
                        uint32_t more = r->end - t->rcv.nxt;
                        ring_commit(&t->rcv.buf, more);
                        t->rcv.nxt += more;
                        t->stats.bytes_received += more;
                    }
                    *r = t->rcv.ooo[--t->rcv.nooo];
                    merged = true;
                    break;
                }
            }
        } while (merged);
        return true;
    }
    /* Out of order: keep it in place in the ring and remember the range. */
    uint32_t start = seq, end = seq + len;
    for (uint8_t i = 0; i < t->rcv.nooo;) {
        seq_range *r = &t->rcv.ooo[i];
        if (seq_leq(r->start, end) && seq_leq(start, r->end)) {
            start = seq_min(start, r->start);
            end = seq_max(end, r->end);
            *r = t->rcv.ooo[--t->rcv.nooo];
            continue;
        }
        i++;
    }
    if (t->rcv.nooo >= c->sys->tcp_max_ooo_segments || t->rcv.nooo >= TCP_OOO_MAX) {
        c->ctr->tcp_ofo_drop++;
        return false;
    }
    ring_write_at(&t->rcv.buf, off, data, len);
    /* Newest block first, as RFC 2018 §4 asks of the first SACK block. */
    memmove(&t->rcv.ooo[1], &t->rcv.ooo[0], t->rcv.nooo * sizeof(t->rcv.ooo[0]));
    t->rcv.ooo[0] = (seq_range){start, end};
    t->rcv.nooo++;
    c->ctr->tcp_ofo_queue++;
    return false;
}

static void segment_arrives(tcb *t, wire_tcp *seg)
{
    tcp_ctx *c = t->ctx;
    if (c->trace)
        tcp_trace_seg(c, t, SYNACK_TRACE_SEG_IN, seg, false, t->lip, t->lport, t->rip, t->rport);
    t->stats.segs_in++;

    if (t->state == SYNACK_SYN_SENT) {
        syn_sent_input(t, seg);
        return;
    }
    if (t->state == SYNACK_SYN_RECEIVED && (seg->flags & SYNACK_SYN) &&
        !(seg->flags & SYNACK_ACK) && seg->seq == t->rcv.irs) {
        /* The peer did not see our SYN,ACK: send it again. */
        tcp_send_syn(t, true);
        return;
    }
    if (t->state == SYNACK_SYN_RECEIVED && !t->is.passive &&
        (seg->flags & (SYNACK_SYN | SYNACK_ACK)) == (SYNACK_SYN | SYNACK_ACK) &&
        seg->seq == t->rcv.irs && seq_lt(t->snd.una, seg->ack) && seq_leq(seg->ack, t->snd.nxt)) {
        /* Simultaneous open (RFC 9293 §3.5 figure 7, line 6): the peer's
         * SYN,ACK repeats the SYN we hold and acknowledges ours. Its SYN
         * lies before RCV.NXT; take it as the ACK that completes the open
         * rather than as an old duplicate to drop. */
        seg->flags &= (uint8_t)~SYNACK_SYN;
        seg->seq++;
    }

    /* RFC 7323 §5.3 R1 (PAWS): a timestamp older than TS.Recent marks an
     * old duplicate; drop it and re-ACK, unless TS.Recent is over 24 days
     * old and so no longer valid. */
    if (t->opts.ts_ok && seg->opt.has_ts && !(seg->flags & SYNACK_RST) &&
        (int32_t)(seg->opt.ts_val - t->opts.ts_recent) < 0 &&
        c->now - t->opts.ts_recent_stamp < TCP_PAWS_IDLE_NS) {
        c->ctr->tcp_paws_estab++;
        tcp_drop(c, t, SYNACK_DROP_PAWS);
        tcp_send_ack(t);
        return;
    }

    /* First: check the sequence number. */
    uint32_t wnd = tcp_rcv_window(t);
    if (seq_gt(t->rcv.adv, t->rcv.nxt) && t->rcv.adv - t->rcv.nxt > wnd)
        wnd = t->rcv.adv - t->rcv.nxt;
    uint32_t len = seg_length(seg);
    bool ok;
    if (len == 0)
        ok = wnd == 0 ? seg->seq == t->rcv.nxt : seq_in(seg->seq, t->rcv.nxt, t->rcv.nxt + wnd);
    else
        ok = wnd != 0 && (seq_in(seg->seq, t->rcv.nxt, t->rcv.nxt + wnd) ||
                          seq_in(seg->seq + len - 1, t->rcv.nxt, t->rcv.nxt + wnd));
    bool zero_window_probe = !ok && wnd == 0 && seg->seq == t->rcv.nxt;
    if (!ok && !zero_window_probe) {
        if (seg->flags & SYNACK_RST) {
            c->ctr->tcp_rst_out_of_window++;
            tcp_drop(c, t, SYNACK_DROP_RST_OUT_OF_WINDOW);
        } else {
            c->ctr->tcp_out_of_window++;
            tcp_drop(c, t, SYNACK_DROP_OUT_OF_WINDOW);
            if (t->opts.sack_ok && seg->payload_len && seq_leq(seg->seq + len, t->rcv.nxt)) {
                /* An old duplicate: report it in a D-SACK block (RFC 2883). */
                t->rcv.dsack = true;
                t->rcv.dsack_range = (seq_range){seg->seq, seg->seq + (uint32_t)seg->payload_len};
            }
            tcp_send_ack(t);
        }
        return;
    }
    /* Trim to the window: what precedes rcv_nxt, then what passes its end. */
    const uint8_t *data = seg->payload;
    uint32_t dlen = (uint32_t)seg->payload_len;
    uint32_t seq = seg->seq;
    bool fin = seg->flags & SYNACK_FIN;
    if (zero_window_probe) {
        dlen = 0;
        fin = false;
        t->rcv.ack_pending = t->rcv.ack_now = true;
    }
    if (seq_lt(seq, t->rcv.nxt)) {
        uint32_t drop = t->rcv.nxt - seq;
        if (seg->flags & SYNACK_SYN) {
            drop--;
            seq++;
        }
        if (drop >= dlen + (fin ? 1 : 0)) {
            fin = false;
            drop = dlen;
        }
        if (t->opts.sack_ok && dlen && drop == dlen) {
            /* Wholly a duplicate: report it in a D-SACK block (RFC 2883). */
            t->rcv.dsack = true;
            t->rcv.dsack_range = (seq_range){seq, seq + dlen};
        }
        data += drop;
        dlen -= drop;
        seq += drop;
        t->rcv.ack_pending = t->rcv.ack_now = true; /* a duplicate: tell the peer where we are */
    }
    if (dlen && seq_gt(seq + dlen, t->rcv.nxt + wnd)) {
        dlen = seq_gt(t->rcv.nxt + wnd, seq) ? t->rcv.nxt + wnd - seq : 0;
        fin = false;
    }

    /* RFC 7323 §4.3: TS.Recent follows the segment at the left window edge. */
    if (t->opts.ts_ok && seg->opt.has_ts && seq_leq(seg->seq, t->rcv.acked) &&
        !(seg->flags & SYNACK_RST)) {
        t->opts.ts_recent = seg->opt.ts_val;
        t->opts.ts_recent_stamp = c->now;
    }
    t->timers.keep_probes = 0; /* the peer is alive */
    if (t->sockopt.keepalive)
        tcp_keepalive_reset(t);

    /* Second: RST (RFC 5961 §3.2). */
    if (seg->flags & SYNACK_RST) {
        if (seg->seq != t->rcv.nxt) {
            tcp_send_challenge_ack(t);
            return;
        }
        switch (t->state) {
        case SYNACK_SYN_RECEIVED:
            if (t->is.passive)
                tcb_close(t, 0, SYNACK_CAUSE_RCV_RST);
            else
                tcb_close(t, -ECONNREFUSED, SYNACK_CAUSE_RCV_RST);
            break;
        case SYNACK_ESTABLISHED:
        case SYNACK_FIN_WAIT_1:
        case SYNACK_FIN_WAIT_2:
        case SYNACK_CLOSE_WAIT:
            c->ctr->tcp_estab_resets++;
            tcb_close(t, -ECONNRESET, SYNACK_CAUSE_RCV_RST);
            break;
        default:
            tcb_close(t, 0, SYNACK_CAUSE_RCV_RST);
            break;
        }
        return;
    }

    /* Fourth: SYN (RFC 5961 §4 challenge ACK; passive SYN-RECEIVED returns to LISTEN). */
    if (seg->flags & SYNACK_SYN) {
        if (t->state == SYNACK_SYN_RECEIVED && t->is.passive) {
            tcb_close(t, 0, SYNACK_CAUSE_RCV_SYN_IN_SYN_RECEIVED);
            return;
        }
        c->ctr->tcp_syn_challenge++;
        tcp_send_challenge_ack(t);
        return;
    }

    /* Fifth: ACK. */
    if (!(seg->flags & SYNACK_ACK)) {
        tcp_drop(c, t, SYNACK_DROP_NO_ACK);
        return;
    }
    if (t->state == SYNACK_SYN_RECEIVED) {
        if (!(seq_lt(t->snd.una, seg->ack) && seq_leq(seg->ack, t->snd.nxt))) {
            tcp_send_reset(c, t->lip, t->lport, t->rip, t->rport, seg->ack, 0, 0);
            return;
        }
        tcb *l = t->parent;
        if (l && l->listen.accept_queued >= (uint32_t)l->listen.backlog) {
            c->ctr->tcp_listen_overflows++;
            c->ctr->tcp_listen_drops++;
            tcp_drop(c, t, SYNACK_DROP_ACCEPT_QUEUE_FULL);
            return; /* the peer retransmits; we retry then */
        }
        t->snd.wnd = (uint32_t)seg->wnd << t->opts.snd_wscale;
        t->snd.max_wnd = t->snd.wnd;
        t->snd.wl1 = seg->seq;
        t->snd.wl2 = seg->ack;
        t->rtt.retries = 0;
        tcb_set_state(t, SYNACK_ESTABLISHED, SYNACK_CAUSE_RCV_ACK);
        tcp_keepalive_reset(t);
        if (t->snd.fin_queued) /* shutdown() while SYN-RECEIVED (RFC 9293 §3.10.4) */
            tcb_set_state(t, SYNACK_FIN_WAIT_1, SYNACK_CAUSE_QUEUED_SHUTDOWN);
        if (l) {
            l->listen.syn_queued--;
            l->listen.accept_queued++;
            t->is.in_accept_queue = true;
            t->qnext = NULL;
            if (l->listen.tail)
                l->listen.tail->qnext = t;
            else
                l->listen.head = t;
            l->listen.tail = t;
            tcb_signal(l, SYNACK_EV_ACCEPT);
        } else {
            tcb_signal(t, SYNACK_EV_CONNECTED | SYNACK_EV_WRITABLE);
        }
    }
    /* RFC 5961 §5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.MAX]. */
    if (seq_gt(seg->ack, t->snd.max)) {
        c->ctr->tcp_ack_unsent_data++;
        tcp_drop(c, t, SYNACK_DROP_ACK_UNSENT_DATA);
        tcp_send_ack(t);
        return;
    }
    if (seq_lt(seg->ack, t->snd.una - t->snd.max_wnd)) {
        c->ctr->tcp_old_ack++;
        tcp_drop(c, t, SYNACK_DROP_ACK_TOO_OLD);
        tcp_send_ack(t);
        return;
    }
    tcp_ack_process(t, seg);
    if (seq_gt(seg->ack, t->snd.nxt))
        t->snd.nxt = seg->ack;
    switch (t->state) {
    case SYNACK_CLOSING:
        if (fin_acked(t)) {
            enter_time_wait(t, SYNACK_CAUSE_RCV_ACK_OF_FIN);
            return;
        }
        break;
    case SYNACK_LAST_ACK:
        if (fin_acked(t)) {
            tcb_close(t, 0, SYNACK_CAUSE_RCV_ACK_OF_FIN);
            return;
        }
        break;
    default:
        break;
    }

    /* Seventh: segment text. */
    bool can_receive = t->state == SYNACK_ESTABLISHED || t->state == SYNACK_FIN_WAIT_1 ||
                       t->state == SYNACK_FIN_WAIT_2;
    if (dlen && can_receive) {
        if (t->is.orphan) {
            /* Nobody will ever read this: Linux resets (tcp_rcv_state_process). */
            c->ctr->tcp_abort_on_data++;
            tcp_send_rst_for(t);
            tcb_close(t, -ECONNRESET, SYNACK_CAUSE_DATA_AFTER_CLOSE);
            return;
        }
        bool had_holes = t->rcv.nooo != 0;
        t->rcv.ack_pending = true;
        if (dlen > t->opts.rcv_mss)
            t->opts.rcv_mss = dlen < t->opts.adv_mss ? (uint16_t)dlen : t->opts.adv_mss;
        /* Shorter than a full segment: the end of one of the peer's writes. */
        t->rcv.last_small = dlen < (uint32_t)t->opts.adv_mss - (t->opts.ts_ok ? 12u : 0u);
        if (receive_text(t, seq, data, dlen)) {
            if (t->rcv.shut) /* shutdown(SHUT_RD): taken and acknowledged, then dropped */
                ring_consume(&t->rcv.buf, t->rcv.buf.used);
            tcb_signal(t, SYNACK_EV_READABLE);
            /* ACK every second full segment at once; hold a lone one back
             * (delayed ACK), except when it fills a hole. */
            if (had_holes || t->rcv.nxt - t->rcv.acked >= 2u * t->opts.rcv_mss)
                t->rcv.ack_now = true;
        } else {
            t->rcv.ack_now = true; /* out of order: a duplicate ACK at once (RFC 5681 §4.2) */
        }
    }

    /* Eighth: FIN. One that arrives beyond a hole is remembered until the
     * hole fills, so the peer need not retransmit it. */
    bool fin_now = fin && seq + dlen == t->rcv.nxt;
    if (fin && !fin_now && can_receive && seq_gt(seq + dlen, t->rcv.nxt)) {
        t->rcv.ooo_fin = true;
        t->rcv.ooo_fin_seq = seq + dlen;
    }
    if (!fin_now && t->rcv.ooo_fin && t->rcv.ooo_fin_seq == t->rcv.nxt && can_receive)
        fin_now = true;
    if (fin_now && t->state != SYNACK_CLOSED) {
        t->rcv.ooo_fin = false;
        t->rcv.nxt++;
        t->rcv.eof = true;
        t->rcv.ack_pending = t->rcv.ack_now = true;
        tcb_signal(t, SYNACK_EV_READABLE);
        switch (t->state) {
        case SYNACK_ESTABLISHED:
            tcb_set_state(t, SYNACK_CLOSE_WAIT, SYNACK_CAUSE_RCV_FIN);
            break;
        case SYNACK_FIN_WAIT_1:
            if (fin_acked(t))
                enter_time_wait(t, SYNACK_CAUSE_RCV_FIN);
            else
                tcb_set_state(t, SYNACK_CLOSING, SYNACK_CAUSE_RCV_FIN_SIMULTANEOUS);
            break;
        case SYNACK_FIN_WAIT_2:
            enter_time_wait(t, SYNACK_CAUSE_RCV_FIN);
            break;
        default:
            break;
        }
    }
    /* FIN-WAIT-1 whose FIN is now acknowledged, and which did not just go to
     * TIME-WAIT on a FIN in this same segment (the diagram's direct edge,
     * §3.10.7.4 eighth: "our FIN has been ACKed (perhaps in this segment)"). */
    if (t->state == SYNACK_FIN_WAIT_1 && fin_acked(t)) {
        tcb_set_state(t, SYNACK_FIN_WAIT_2, SYNACK_CAUSE_RCV_ACK_OF_FIN);
        if (t->is.orphan) {
            t->timers.close_at = c->now + (uint64_t)c->sys->tcp_fin_timeout * 1000 * NS_PER_MS;
            tcb_schedule(t);
        }
    }
    tcp_output(t);
}

void tcp_input(tcp_ctx *c, uint32_t src, uint32_t dst, const uint8_t *p, size_t len)
{
    wire_tcp seg;
    c->ctr->tcp_in_segs++;
    wire_err e = c->csum_offload ? wire_tcp_parse_trusted(p, len, &seg)
                                 : wire_tcp_parse(p, len, src, dst, &seg);
    if (e != WIRE_OK) {
        c->ctr->tcp_in_errs++;
        if (e == WIRE_BAD_CSUM)
            c->ctr->tcp_in_csum_errors++;
        else if (e == WIRE_BAD_OPTIONS)
            c->ctr->tcp_in_bad_options++;
        tcp_drop(c, NULL, e == WIRE_BAD_CSUM ? SYNACK_DROP_TCP_CSUM : SYNACK_DROP_TCP_MALFORMED);
        return;
    }
    if (seg.sport == 0 || seg.dport == 0) {
        c->ctr->tcp_in_errs++;
        tcp_drop(c, NULL, SYNACK_DROP_TCP_PORT_ZERO);
        return;
    }
    tcb *t = tcb_lookup(c, dst, seg.dport, src, seg.sport);
    if (t) {
        segment_arrives(t, &seg);
        return;
    }
    /* Demux: connections, then TIME-WAIT entries, then listeners. */
    tcb *l = tcb_find_listener(c, seg.dport);
    uint32_t tw_isn = 0;
    switch (tcp_tw_input(c, src, dst, &seg, l != NULL, &tw_isn)) {
    case TW_DONE:
        return;
    case TW_SYN:
        listen_input(l, src, dst, &seg, tw_isn);
        return;
    case TW_NONE:
        break;
    }
    if (l) {
        if (!(seg.flags & SYNACK_SYN) || (seg.flags & (SYNACK_ACK | SYNACK_RST)))
            if (c->trace)
                tcp_trace_seg(c, l, SYNACK_TRACE_SEG_IN, &seg, false, dst, seg.dport, src, seg.sport);
        listen_input(l, src, dst, &seg, 0);
        return;
    }
    if (c->trace)
        tcp_trace_seg(c, NULL, SYNACK_TRACE_SEG_IN, &seg, false, dst, seg.dport, src, seg.sport);
    closed_input(c, src, dst, &seg);
}
