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
    bool we_offered_ws = t->passive ? s->tcp_window_scaling : s->tcp_window_scaling;
    t->ws_ok = we_offered_ws && seg->opt.wscale >= 0;
    t->snd_wscale = t->ws_ok ? (uint8_t)(seg->opt.wscale > 14 ? 14 : seg->opt.wscale) : 0;
    if (!t->ws_ok)
        t->rcv_wscale = 0;
    t->sack_ok = s->tcp_sack && seg->opt.sack_ok;
    t->ts_ok = s->tcp_timestamps && seg->opt.has_ts;
    if (t->ts_ok)
        t->ts_recent = seg->opt.ts_val;
    uint32_t mss = seg->opt.mss ? seg->opt.mss : s->tcp_base_mss;
    if (mss > t->ctx->mtu - 40)
        mss = t->ctx->mtu - 40;
    if (t->ts_ok)
        mss -= 12; /* room for the timestamp option on every segment */
    if (mss < 64)
        mss = 64;
    t->snd_mss = (uint16_t)mss;
    t->cwnd = 10 * mss; /* RFC 6928 initial window */
    t->ssthresh = UINT32_MAX;
    t->irs = seg->seq;
    t->rcv_nxt = seg->seq + 1;
    t->rcv_adv = t->rcv_nxt;
}

static bool fin_acked(const tcb *t)
{
    return t->fin_queued && t->sndbuf.used == 0 && t->snd_una == t->buf_seq + 1;
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
    if (l->accept_queued >= (uint32_t)l->backlog || l->syn_queued >= syn_max) {
        c->ctr->tcp_listen_overflows += l->accept_queued >= (uint32_t)l->backlog;
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
    t->passive = true;
    t->parent = l;
    t->sndbuf_size = l->sndbuf_size;
    t->rcvbuf_size = l->rcvbuf_size;
    t->user_sndbuf = l->user_sndbuf;
    t->user_rcvbuf = l->user_rcvbuf;
    t->adv_mss = l->adv_mss;
    t->nodelay = l->nodelay; /* options set on a listener carry over, as in Linux */
    t->cork = l->cork;
    t->quickack = l->quickack;
    t->keepalive = l->keepalive;
    t->keep_idle_s = l->keep_idle_s;
    t->keep_intvl_s = l->keep_intvl_s;
    t->keep_cnt = l->keep_cnt;
    t->rcv_wscale = tcp_rcv_wscale(c);
    if (ring_init(&t->sndbuf, t->sndbuf_size) || ring_init(&t->rcvbuf, t->rcvbuf_size)) {
        c->ctr->tcp_no_memory++;
        tcb_set_state(t, SYNACK_CLOSED, SYNACK_CAUSE_NONE);
        t->parent = NULL;
        tcb_maybe_release(t);
        return;
    }
    negotiate(t, seg);
    t->snd_wnd = seg->wnd; /* a SYN's window is never scaled (RFC 7323 §2.2) */
    t->snd_wl1 = seg->seq;
    t->max_snd_wnd = t->snd_wnd;
    t->iss = tw_isn ? tw_isn : tcp_isn(c, t->lip, t->lport, t->rip, t->rport);
    t->ts_offset = tcp_ts_offset(c, t->lip, t->lport, t->rip, t->rport);
    t->snd_una = t->snd_nxt = t->snd_max = t->iss;
    t->buf_seq = t->iss + 1;
    tcb_hash_insert(t);
    l->syn_queued++;
    c->ctr->tcp_passive_opens++;
    tcb_set_state(t, SYNACK_LISTEN, SYNACK_CAUSE_NONE); /* where its listener stands */
    if (c->trace)
        tcp_trace_seg(c, t, SYNACK_TRACE_SEG_IN, seg, false, t->lip, t->lport, t->rip, t->rport);
    tcb_set_state(t, SYNACK_SYN_RECEIVED, SYNACK_CAUSE_RCV_SYN);
    tcp_send_syn(t, false);
    if (c->lab_two_way_handshake && l->accept_queued < (uint32_t)l->backlog) {
        /* LAB ONLY (`synack lab why-three-way`): a two-way handshake, where
         * the SYN,ACK alone opens the connection. Real TCP never does this:
         * an old duplicate SYN would open a connection nobody asked for. */
        t->snd_una = t->snd_nxt;
        t->rtt_timing = false;
        t->rto_at = UINT64_MAX;
        tcp_arm_rto(t);
        tcb_set_state(t, SYNACK_ESTABLISHED, SYNACK_CAUSE_LAB_TWO_WAY_HANDSHAKE);
        l->syn_queued--;
        l->accept_queued++;
        t->in_accept_queue = true;
        t->qnext = NULL;
        if (l->acc_tail)
            l->acc_tail->qnext = t;
        else
            l->acc_head = t;
        l->acc_tail = t;
        tcb_signal(l, SYNACK_EV_ACCEPT);
    }
}

/* ------------------------------------------------------------ §3.10.7.3 SYN-SENT */

static void syn_sent_input(tcb *t, const wire_tcp *seg)
{
    tcp_ctx *c = t->ctx;
    bool ack = seg->flags & SYNACK_ACK;
    if (ack && (seq_leq(seg->ack, t->iss) || seq_gt(seg->ack, t->snd_nxt))) {
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
        t->snd_una = seg->ack;
        if (t->rtt_timing && seq_geq(seg->ack, t->rtt_seq))
            rtt_sample(t, c->now - t->rtt_start);
        t->rtt_timing = false;
    }
    if (seq_gt(t->snd_una, t->iss)) {
        t->snd_wnd = seg->wnd;
        t->max_snd_wnd = t->snd_wnd;
        t->snd_wl1 = seg->seq;
        t->snd_wl2 = seg->ack;
        t->retries = 0;
        t->backoff = 0;
        t->rto_at = UINT64_MAX;
        tcb_set_state(t, SYNACK_ESTABLISHED, SYNACK_CAUSE_RCV_SYN_ACK);
        tcb_signal(t, SYNACK_EV_CONNECTED | SYNACK_EV_WRITABLE);
        t->ack_pending = t->ack_now = true;
        tcp_keepalive_reset(t);
        tcp_output(t);
        tcp_arm_rto(t);
    } else {
        /* Simultaneous open (RFC 9293 §3.5, figure 8). */
        t->snd_wnd = seg->wnd;
        t->snd_wl1 = seg->seq;
        tcb_set_state(t, SYNACK_SYN_RECEIVED, SYNACK_CAUSE_RCV_SYN_SIMULTANEOUS);
        t->retries = 0;
        t->rto_at = UINT64_MAX;
        tcp_send_syn(t, true);
    }
}

/* ------------------------------------------------------------ §3.10.7.4 other states */

/* Store in-window payload; returns true if rcv_nxt advanced. */
static bool receive_text(tcb *t, uint32_t seq, const uint8_t *data, uint32_t len)
{
    tcp_ctx *c = t->ctx;
    uint32_t off = seq - t->rcv_nxt;
    uint32_t space = ring_free_space(&t->rcvbuf);
    if (off >= space) {
        c->ctr->tcp_rcv_buf_drop++;
        return false;
    }
    if (len > space - off)
        len = space - off;
    if (off == 0) {
        ring_write_at(&t->rcvbuf, 0, data, len);
        ring_commit(&t->rcvbuf, len);
        t->rcv_nxt += len;
        t->bytes_received += len;
        /* Pull in out-of-order ranges the new data now reaches. */
        bool merged;
        do {
            merged = false;
            for (uint8_t i = 0; i < t->nooo; i++) {
                seq_range *r = &t->ooo[i];
                if (seq_leq(r->start, t->rcv_nxt)) {
                    if (seq_gt(r->end, t->rcv_nxt)) {
                        uint32_t more = r->end - t->rcv_nxt;
                        ring_commit(&t->rcvbuf, more);
                        t->rcv_nxt += more;
                        t->bytes_received += more;
                    }
                    *r = t->ooo[--t->nooo];
                    merged = true;
                    break;
                }
            }
        } while (merged);
        return true;
    }
    /* Out of order: keep it in place in the ring and remember the range. */
    uint32_t start = seq, end = seq + len;
    for (uint8_t i = 0; i < t->nooo;) {
        seq_range *r = &t->ooo[i];
        if (seq_leq(r->start, end) && seq_leq(start, r->end)) {
            start = seq_min(start, r->start);
            end = seq_max(end, r->end);
            *r = t->ooo[--t->nooo];
            continue;
        }
        i++;
    }
    if (t->nooo >= c->sys->tcp_max_ooo_segments || t->nooo >= TCP_OOO_MAX) {
        c->ctr->tcp_ofo_drop++;
        return false;
    }
    ring_write_at(&t->rcvbuf, off, data, len);
    /* Newest block first, as RFC 2018 §4 asks of the first SACK block. */
    memmove(&t->ooo[1], &t->ooo[0], t->nooo * sizeof(t->ooo[0]));
    t->ooo[0] = (seq_range){start, end};
    t->nooo++;
    c->ctr->tcp_ofo_queue++;
    return false;
}

static void segment_arrives(tcb *t, wire_tcp *seg)
{
    tcp_ctx *c = t->ctx;
    if (c->trace)
        tcp_trace_seg(c, t, SYNACK_TRACE_SEG_IN, seg, false, t->lip, t->lport, t->rip, t->rport);
    t->segs_in++;

    if (t->state == SYNACK_SYN_SENT) {
        syn_sent_input(t, seg);
        return;
    }
    if (t->state == SYNACK_SYN_RECEIVED && (seg->flags & SYNACK_SYN) &&
        !(seg->flags & SYNACK_ACK) && seg->seq == t->irs) {
        /* The peer did not see our SYN,ACK: send it again. */
        tcp_send_syn(t, true);
        return;
    }
    if (t->state == SYNACK_SYN_RECEIVED && !t->passive &&
        (seg->flags & (SYNACK_SYN | SYNACK_ACK)) == (SYNACK_SYN | SYNACK_ACK) &&
        seg->seq == t->irs && seq_lt(t->snd_una, seg->ack) && seq_leq(seg->ack, t->snd_nxt)) {
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
    if (t->ts_ok && seg->opt.has_ts && !(seg->flags & SYNACK_RST) &&
        (int32_t)(seg->opt.ts_val - t->ts_recent) < 0 &&
        c->now - t->ts_recent_stamp < TCP_PAWS_IDLE_NS) {
        c->ctr->tcp_paws_estab++;
        tcp_drop(c, t, SYNACK_DROP_PAWS);
        tcp_send_ack(t);
        return;
    }

    /* First: check the sequence number. */
    uint32_t wnd = tcp_rcv_window(t);
    if (seq_gt(t->rcv_adv, t->rcv_nxt) && t->rcv_adv - t->rcv_nxt > wnd)
        wnd = t->rcv_adv - t->rcv_nxt;
    uint32_t len = seg_length(seg);
    bool ok;
    if (len == 0)
        ok = wnd == 0 ? seg->seq == t->rcv_nxt : seq_in(seg->seq, t->rcv_nxt, t->rcv_nxt + wnd);
    else
        ok = wnd != 0 && (seq_in(seg->seq, t->rcv_nxt, t->rcv_nxt + wnd) ||
                          seq_in(seg->seq + len - 1, t->rcv_nxt, t->rcv_nxt + wnd));
    bool zero_window_probe = !ok && wnd == 0 && seg->seq == t->rcv_nxt;
    if (!ok && !zero_window_probe) {
        if (seg->flags & SYNACK_RST) {
            c->ctr->tcp_rst_out_of_window++;
            tcp_drop(c, t, SYNACK_DROP_RST_OUT_OF_WINDOW);
        } else {
            c->ctr->tcp_out_of_window++;
            tcp_drop(c, t, SYNACK_DROP_OUT_OF_WINDOW);
            if (t->sack_ok && seg->payload_len && seq_leq(seg->seq + len, t->rcv_nxt)) {
                /* An old duplicate: report it in a D-SACK block (RFC 2883). */
                t->dsack = true;
                t->dsack_range = (seq_range){seg->seq, seg->seq + (uint32_t)seg->payload_len};
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
        t->ack_pending = t->ack_now = true;
    }
    if (seq_lt(seq, t->rcv_nxt)) {
        uint32_t drop = t->rcv_nxt - seq;
        if (seg->flags & SYNACK_SYN) {
            drop--;
            seq++;
        }
        if (drop >= dlen + (fin ? 1 : 0)) {
            fin = false;
            drop = dlen;
        }
        if (t->sack_ok && dlen && drop == dlen) {
            /* Wholly a duplicate: report it in a D-SACK block (RFC 2883). */
            t->dsack = true;
            t->dsack_range = (seq_range){seq, seq + dlen};
        }
        data += drop;
        dlen -= drop;
        seq += drop;
        t->ack_pending = t->ack_now = true; /* a duplicate: tell the peer where we are */
    }
    if (dlen && seq_gt(seq + dlen, t->rcv_nxt + wnd)) {
        dlen = seq_gt(t->rcv_nxt + wnd, seq) ? t->rcv_nxt + wnd - seq : 0;
        fin = false;
    }

    /* RFC 7323 §4.3: TS.Recent follows the segment at the left window edge. */
    if (t->ts_ok && seg->opt.has_ts && seq_leq(seg->seq, t->rcv_acked) &&
        !(seg->flags & SYNACK_RST)) {
        t->ts_recent = seg->opt.ts_val;
        t->ts_recent_stamp = c->now;
    }
    t->keep_probes = 0; /* the peer is alive */
    if (t->keepalive)
        tcp_keepalive_reset(t);

    /* Second: RST (RFC 5961 §3.2). */
    if (seg->flags & SYNACK_RST) {
        if (seg->seq != t->rcv_nxt) {
            tcp_send_challenge_ack(t);
            return;
        }
        switch (t->state) {
        case SYNACK_SYN_RECEIVED:
            if (t->passive)
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
        if (t->state == SYNACK_SYN_RECEIVED && t->passive) {
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
        if (!(seq_lt(t->snd_una, seg->ack) && seq_leq(seg->ack, t->snd_nxt))) {
            tcp_send_reset(c, t->lip, t->lport, t->rip, t->rport, seg->ack, 0, 0);
            return;
        }
        tcb *l = t->parent;
        if (l && l->accept_queued >= (uint32_t)l->backlog) {
            c->ctr->tcp_listen_overflows++;
            c->ctr->tcp_listen_drops++;
            tcp_drop(c, t, SYNACK_DROP_ACCEPT_QUEUE_FULL);
            return; /* the peer retransmits; we retry then */
        }
        t->snd_wnd = (uint32_t)seg->wnd << t->snd_wscale;
        t->max_snd_wnd = t->snd_wnd;
        t->snd_wl1 = seg->seq;
        t->snd_wl2 = seg->ack;
        t->retries = 0;
        tcb_set_state(t, SYNACK_ESTABLISHED, SYNACK_CAUSE_RCV_ACK);
        tcp_keepalive_reset(t);
        if (t->fin_queued) /* shutdown() while SYN-RECEIVED (RFC 9293 §3.10.4) */
            tcb_set_state(t, SYNACK_FIN_WAIT_1, SYNACK_CAUSE_QUEUED_SHUTDOWN);
        if (l) {
            l->syn_queued--;
            l->accept_queued++;
            t->in_accept_queue = true;
            t->qnext = NULL;
            if (l->acc_tail)
                l->acc_tail->qnext = t;
            else
                l->acc_head = t;
            l->acc_tail = t;
            tcb_signal(l, SYNACK_EV_ACCEPT);
        } else {
            tcb_signal(t, SYNACK_EV_CONNECTED | SYNACK_EV_WRITABLE);
        }
    }
    /* RFC 5961 §5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.MAX]. */
    if (seq_gt(seg->ack, t->snd_max)) {
        c->ctr->tcp_ack_unsent_data++;
        tcp_drop(c, t, SYNACK_DROP_ACK_UNSENT_DATA);
        tcp_send_ack(t);
        return;
    }
    if (seq_lt(seg->ack, t->snd_una - t->max_snd_wnd)) {
        c->ctr->tcp_old_ack++;
        tcp_drop(c, t, SYNACK_DROP_ACK_TOO_OLD);
        tcp_send_ack(t);
        return;
    }
    tcp_ack_process(t, seg);
    if (seq_gt(seg->ack, t->snd_nxt))
        t->snd_nxt = seg->ack;
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
        if (t->orphan) {
            /* Nobody will ever read this: Linux resets (tcp_rcv_state_process). */
            c->ctr->tcp_abort_on_data++;
            tcp_send_rst_for(t);
            tcb_close(t, -ECONNRESET, SYNACK_CAUSE_DATA_AFTER_CLOSE);
            return;
        }
        bool had_holes = t->nooo != 0;
        t->ack_pending = true;
        if (dlen > t->rcv_mss)
            t->rcv_mss = dlen < t->adv_mss ? (uint16_t)dlen : t->adv_mss;
        /* Shorter than a full segment: the end of one of the peer's writes. */
        t->last_small = dlen < (uint32_t)t->adv_mss - (t->ts_ok ? 12u : 0u);
        if (receive_text(t, seq, data, dlen)) {
            if (t->rd_shut) /* shutdown(SHUT_RD): taken and acknowledged, then dropped */
                ring_consume(&t->rcvbuf, t->rcvbuf.used);
            tcb_signal(t, SYNACK_EV_READABLE);
            /* ACK every second full segment at once; hold a lone one back
             * (delayed ACK), except when it fills a hole. */
            if (had_holes || t->rcv_nxt - t->rcv_acked >= 2u * t->rcv_mss)
                t->ack_now = true;
        } else {
            t->ack_now = true; /* out of order: a duplicate ACK at once (RFC 5681 §4.2) */
        }
    }

    /* Eighth: FIN. One that arrives beyond a hole is remembered until the
     * hole fills, so the peer need not retransmit it. */
    bool fin_now = fin && seq + dlen == t->rcv_nxt;
    if (fin && !fin_now && can_receive && seq_gt(seq + dlen, t->rcv_nxt)) {
        t->ooo_fin = true;
        t->ooo_fin_seq = seq + dlen;
    }
    if (!fin_now && t->ooo_fin && t->ooo_fin_seq == t->rcv_nxt && can_receive)
        fin_now = true;
    if (fin_now && t->state != SYNACK_CLOSED) {
        t->ooo_fin = false;
        t->rcv_nxt++;
        t->eof = true;
        t->ack_pending = t->ack_now = true;
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
        if (t->orphan) {
            t->close_at = c->now + (uint64_t)c->sys->tcp_fin_timeout * 1000 * NS_PER_MS;
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
