/* input.c — SEGMENT ARRIVES, RFC 9293 §3.10.7: the demultiplexing of a
 * segment to its connection, TIME-WAIT entry, listener or nobody, and for a
 * connection the steps of §3.10.7.4 in the RFC's order, one function each,
 * with the RFC 5961 defences (§3 RST, §4 SYN, §5 ACK) where the RFC points
 * to them. The handshake's own cases are in handshake.c, LISTEN in listen.c,
 * the receive queue in receive.c, the ACK's effects in ack.c. */
#include "tcp/tcp.h"
#include "tcp/timewait.h"

#include "base/seq.h"
#include "base/steer.h"

#include <errno.h>

/* The part of a segment that lies in the receive window, after the first
 * step has trimmed it: what the text and FIN steps work on. */
typedef struct seg_text {
    uint32_t seq;
    const uint8_t *data;
    uint32_t len;
    bool fin;
} seg_text;

static uint32_t seg_length(const wire_tcp *s)
{
    return (uint32_t)s->payload_len + !!(s->flags & SYNACK_SYN) + !!(s->flags & SYNACK_FIN);
}

static bool fin_acked(const tcb *t)
{
    return t->snd.fin_queued && tcp_snd_queued(t) == 0 && t->snd.una == t->snd.buf_seq + 1;
}

static bool can_receive(const tcb *t)
{
    return t->state == SYNACK_ESTABLISHED || t->state == SYNACK_FIN_WAIT_1 ||
           t->state == SYNACK_FIN_WAIT_2;
}

/* An old duplicate: report it in a D-SACK block (RFC 2883). */
static void note_dsack(tcb *t, uint32_t seq, uint32_t len)
{
    t->rcv.dsack = true;
    t->rcv.dsack_range = (seq_range){seq, seq + len};
}

/* ------------------------------------------------------------ first: sequence number */

/* RFC 7323 §5.3 R1 (PAWS): a timestamp older than TS.Recent marks an old
 * duplicate; drop it and re-ACK, unless TS.Recent is over 24 days old and
 * so no longer valid. */
static bool paws_ok(tcb *t, const wire_tcp *seg)
{
    tcp_ctx *c = t->ctx;
    if (!t->opts.ts_ok || !seg->opt.has_ts || (seg->flags & SYNACK_RST) ||
        (int32_t)(seg->opt.ts_val - t->opts.ts_recent) >= 0 ||
        c->now - t->opts.ts_recent_stamp >= TCP_PAWS_IDLE_NS)
        return true;
    c->ctr->tcp_paws_estab++;
    tcp_drop(c, t, SYNACK_DROP_PAWS);
    tcp_send_ack(t);
    return false;
}

/* The window a segment is tested against: what we may take now, or what we
 * advertised if that reaches further (the window never shrinks on the peer). */
static uint32_t acceptance_window(const tcb *t)
{
    uint32_t wnd = tcp_rcv_window(t);
    if (seq_gt(t->rcv.adv, t->rcv.nxt) && t->rcv.adv - t->rcv.nxt > wnd)
        wnd = t->rcv.adv - t->rcv.nxt;
    return wnd;
}

/* RFC 9293 §3.10.7.4's table of the four acceptability cases. */
static bool acceptable(const tcb *t, const wire_tcp *seg, uint32_t wnd)
{
    uint32_t len = seg_length(seg), nxt = t->rcv.nxt;
    if (len == 0)
        return wnd == 0 ? seg->seq == nxt : seq_in(seg->seq, nxt, nxt + wnd);
    return wnd != 0 &&
           (seq_in(seg->seq, nxt, nxt + wnd) || seq_in(seg->seq + len - 1, nxt, nxt + wnd));
}

/* Unacceptable: drop it, and (unless it is a RST) send an ACK. */
static void reject_out_of_window(tcb *t, const wire_tcp *seg)
{
    tcp_ctx *c = t->ctx;
    if (seg->flags & SYNACK_RST) {
        c->ctr->tcp_rst_out_of_window++;
        tcp_drop(c, t, SYNACK_DROP_RST_OUT_OF_WINDOW);
        return;
    }
    c->ctr->tcp_out_of_window++;
    tcp_drop(c, t, SYNACK_DROP_OUT_OF_WINDOW);
    if (t->opts.sack_ok && seg->payload_len && seq_leq(seg->seq + seg_length(seg), t->rcv.nxt))
        note_dsack(t, seg->seq, (uint32_t)seg->payload_len);
    tcp_send_ack(t);
}

/* Trim the text to the window: what precedes RCV.NXT, then what passes
 * its right edge. A zero-window probe keeps nothing but earns an ACK. */
static void trim_to_window(tcb *t, const wire_tcp *seg, uint32_t wnd, bool probe, seg_text *x)
{
    *x = (seg_text){seg->seq, seg->payload, (uint32_t)seg->payload_len, seg->flags & SYNACK_FIN};
    if (probe) {
        x->len = 0;
        x->fin = false;
        t->rcv.ack_pending = t->rcv.ack_now = true;
    }
    if (seq_lt(x->seq, t->rcv.nxt)) {
        uint32_t drop = t->rcv.nxt - x->seq;
        if (seg->flags & SYNACK_SYN) {
            drop--;
            x->seq++;
        }
        if (drop >= x->len + (x->fin ? 1 : 0)) {
            x->fin = false;
            drop = x->len;
        }
        if (t->opts.sack_ok && x->len && drop == x->len)
            note_dsack(t, x->seq, x->len); /* wholly a duplicate */
        x->data += drop;
        x->len -= drop;
        x->seq += drop;
        t->rcv.ack_pending = t->rcv.ack_now = true; /* a duplicate: tell the peer where we are */
    }
    if (x->len && seq_gt(x->seq + x->len, t->rcv.nxt + wnd)) {
        x->len = seq_gt(t->rcv.nxt + wnd, x->seq) ? t->rcv.nxt + wnd - x->seq : 0;
        x->fin = false;
    }
}

/* The segment is in the window: the peer is alive. */
static void note_acceptable(tcb *t)
{
    t->timers.keep_probes = 0;
    if (t->sockopt.keepalive)
        tcp_keepalive_reset(t);
}

/* RFC 7323 §4.3: TS.Recent follows the segment at the left window edge —
 * once the segment is known to be acceptable, its ACK included (RFC 5961
 * §5, as Linux's tcp_ack does), so a forged segment that is answered and
 * dropped cannot plant a TSval that fails every genuine one under PAWS. */
static void take_ts_recent(tcb *t, const wire_tcp *seg)
{
    if (t->opts.ts_ok && seg->opt.has_ts && seq_leq(seg->seq, t->rcv.acked)) {
        t->opts.ts_recent = seg->opt.ts_val;
        t->opts.ts_recent_stamp = t->ctx->now;
    }
}

static bool check_sequence(tcb *t, const wire_tcp *seg, seg_text *x)
{
    if (!paws_ok(t, seg))
        return false;
    uint32_t wnd = acceptance_window(t);
    bool ok = acceptable(t, seg, wnd);
    bool zero_window_probe = !ok && wnd == 0 && seg->seq == t->rcv.nxt;
    if (!ok && !zero_window_probe) {
        reject_out_of_window(t, seg);
        return false;
    }
    trim_to_window(t, seg, wnd, zero_window_probe, x);
    note_acceptable(t);
    return true;
}

/* ------------------------------------------------------------ second: RST */

/* RFC 5961 §3.2: only a RST exactly at RCV.NXT resets; one elsewhere in
 * the window gets a challenge ACK. */
static bool check_rst(tcb *t, const wire_tcp *seg)
{
    if (!(seg->flags & SYNACK_RST))
        return true;
    if (seg->seq != t->rcv.nxt) {
        tcp_send_challenge_ack(t);
        return false;
    }
    switch (t->state) {
    case SYNACK_SYN_RECEIVED: /* passive: back to nothing; active: refused; held:
                                 the application holds it, and hears of the reset */
        tcb_close(t, t->is.held ? -ECONNRESET : t->is.passive ? 0 : -ECONNREFUSED,
                  SYNACK_CAUSE_RCV_RST);
        break;
    case SYNACK_ESTABLISHED:
    case SYNACK_FIN_WAIT_1:
    case SYNACK_FIN_WAIT_2:
    case SYNACK_CLOSE_WAIT:
        t->ctx->ctr->tcp_estab_resets++;
        tcb_close(t, -ECONNRESET, SYNACK_CAUSE_RCV_RST);
        break;
    default: /* CLOSING, LAST-ACK */
        tcb_close(t, 0, SYNACK_CAUSE_RCV_RST);
        break;
    }
    return false;
}

/* ------------------------------------------------------------ fourth: SYN */

/* RFC 5961 §4: a SYN in a synchronized state gets a challenge ACK; a
 * passive SYN-RECEIVED connection returns to LISTEN (RFC 9293). */
static bool check_syn(tcb *t, const wire_tcp *seg)
{
    if (!(seg->flags & SYNACK_SYN))
        return true;
    if (t->state == SYNACK_SYN_RECEIVED && t->is.passive) {
        tcb_close(t, 0, SYNACK_CAUSE_RCV_SYN_IN_SYN_RECEIVED);
        return false;
    }
    t->ctx->ctr->tcp_syn_challenge++;
    tcp_send_challenge_ack(t);
    return false;
}

/* ------------------------------------------------------------ fifth: ACK */

/* RFC 5961 §5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.MAX]. */
static bool ack_in_range(tcb *t, const wire_tcp *seg)
{
    tcp_ctx *c = t->ctx;
    if (seq_gt(seg->ack, t->snd.max)) {
        c->ctr->tcp_ack_unsent_data++;
        tcp_drop(c, t, SYNACK_DROP_ACK_UNSENT_DATA);
    } else if (seq_lt(seg->ack, t->snd.una - t->snd.max_wnd)) {
        c->ctr->tcp_old_ack++;
        tcp_drop(c, t, SYNACK_DROP_ACK_TOO_OLD);
    } else {
        return true;
    }
    tcp_send_ack(t);
    return false;
}

static bool check_ack(tcb *t, const wire_tcp *seg)
{
    if (!(seg->flags & SYNACK_ACK)) {
        tcp_drop(t->ctx, t, SYNACK_DROP_NO_ACK);
        return false;
    }
    if (t->state == SYNACK_SYN_RECEIVED && !tcp_syn_received_ack(t, seg))
        return false;
    if (!ack_in_range(t, seg))
        return false;
    take_ts_recent(t, seg);
    tcp_ack_process(t, seg);
    if (seq_gt(seg->ack, t->snd.nxt))
        t->snd.nxt = seg->ack;
    if (t->state == SYNACK_CLOSING && fin_acked(t)) {
        tcp_tw_enter(t, SYNACK_CAUSE_RCV_ACK_OF_FIN);
        return false;
    }
    if (t->state == SYNACK_LAST_ACK && fin_acked(t)) {
        tcb_close(t, 0, SYNACK_CAUSE_RCV_ACK_OF_FIN);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------ seventh: segment text */


/* Quick ACK mode, as Linux's: a connection's first data, and data after a
 * silence longer than the RTO, are acknowledged segment by segment for a
 * while (up to tcp_max_quickacks; fewer when the window holds fewer than
 * two segments per ACK), so a sender in slow start, or restarting after
 * idle, grows its window on every segment rather than every other.
 * Request/response mode (SYNACK_TCP_ACK_DELAY, Linux's pingpong) has none. */
static void note_data(tcb *t)
{
    tcp_ctx *c = t->ctx;
    uint64_t rto = (uint64_t)t->rtt.rto_ms * NS_PER_MS;
    if (!t->rcv.data_seen || c->now - t->rcv.last_data_at > rto) {
        uint32_t mss = t->opts.rcv_mss ? t->opts.rcv_mss : t->opts.adv_mss;
        uint32_t q = mss ? t->rcv.buf_size / (2u * mss) : 2;
        if (q < 2)
            q = 2;
        if (q > c->sys->tcp_max_quickacks)
            q = c->sys->tcp_max_quickacks;
        if (q > t->rcv.quick)
            t->rcv.quick = (uint8_t)q;
    }
    t->rcv.data_seen = true;
    t->rcv.last_data_at = c->now;
}

/* Spend a quick ACK on this segment, if one is left. */
static bool quick_ack(tcb *t)
{
    if (!t->rcv.quick || t->sockopt.ack_delay_us)
        return false;
    t->rcv.quick--;
    return true;
}

/* The ACK for every second full segment (RFC 5681 §4.2). Inside a burst
 * (synack_input_burst) it waits for the burst's end and then covers all the
 * burst's in-order data, as Linux's one ACK for a GRO-merged run of segments
 * does: a TAP reader that finds 64 full frames waiting writes 2 ACKs, not 32.
 * At most TCP_BURST_ACK_BYTES go unacknowledged that way, like GRO's 64 KiB;
 * a filled hole, quick ACKs and duplicate ACKs never wait. */
static void ack_in_order(tcb *t)
{
    if (t->ctx->in_burst && t->rcv.nxt - t->rcv.acked < TCP_BURST_ACK_BYTES)
        tcb_owe_ack(t);
    else
        t->rcv.ack_now = true;
}

static bool process_text(tcb *t, const seg_text *x)
{
    if (!x->len || !can_receive(t))
        return true;
    if (t->is.orphan) {
        /* Nobody will ever read this: Linux resets (tcp_rcv_state_process). */
        t->ctx->ctr->tcp_abort_on_data++;
        tcp_send_rst_for(t);
        tcb_close(t, -ECONNRESET, SYNACK_CAUSE_DATA_AFTER_CLOSE);
        return false;
    }
    bool had_holes = t->rcv.nooo != 0;
    t->rcv.ack_pending = true;
    note_data(t);
    if (x->len > t->opts.rcv_mss)
        t->opts.rcv_mss = x->len < t->opts.adv_mss ? (uint16_t)x->len : t->opts.adv_mss;
    /* Shorter than a full segment: the end of one of the peer's writes. */
    t->rcv.last_small = x->len < (uint32_t)t->opts.adv_mss - (t->opts.ts_ok ? 12u : 0u);
    int got = tcp_receive_text(t, x->seq, x->data, x->len);
    if (got == TCP_TEXT_HELD) {
        t->rcv.ack_now = true; /* out of order: a duplicate ACK at once (RFC 5681 §4.2) */
        return true;
    }
    if (t->rcv.shut) { /* shutdown(SHUT_RD): taken and acknowledged, then dropped */
        ring_consume(&t->rcv.buf, t->rcv.buf.used);
        tcp_buf_release_if_empty(t, TCP_BUF_RECV);
    }
    if (got == TCP_TEXT_BUFFERED)
        tcb_signal(t, SYNACK_EV_READABLE); /* taken directly: nothing to read */
    /* ACK every second full segment at once; hold a lone one back (delayed
     * ACK), except when it fills a hole, or quick ACKs are due. */
    if (had_holes || quick_ack(t))
        t->rcv.ack_now = true;
    else if (t->rcv.nxt - t->rcv.acked >= 2u * t->opts.rcv_mss)
        ack_in_order(t);
    return true;
}

/* ------------------------------------------------------------ eighth: FIN */


/* Is the peer's FIN next in sequence? One that arrives beyond a hole is
 * remembered until the hole fills, so the peer need not retransmit it. */
static bool fin_in_sequence(tcb *t, const seg_text *x)
{
    bool now = x->fin && x->seq + x->len == t->rcv.nxt;
    if (x->fin && !now && can_receive(t) && seq_gt(x->seq + x->len, t->rcv.nxt)) {
        t->rcv.ooo_fin = true;
        t->rcv.ooo_fin_seq = x->seq + x->len;
    }
    return now || (t->rcv.ooo_fin && t->rcv.ooo_fin_seq == t->rcv.nxt && can_receive(t));
}

static void check_fin(tcb *t, const seg_text *x)
{
    if (!fin_in_sequence(t, x) || t->state == SYNACK_CLOSED)
        return;
    t->rcv.ooo_fin = false;
    t->rcv.nxt++;
    t->rcv.eof = true;
    t->rcv.ack_pending = true;
    /* In request/response mode the FIN that ends a request waits for the
     * application's own FIN to carry its ACK (Linux enters pingpong mode
     * here); in every other state the peer is waiting on this ACK. */
    t->rcv.ack_now = !(t->state == SYNACK_ESTABLISHED && t->sockopt.ack_delay_us);
    tcb_signal(t, SYNACK_EV_READABLE);
    switch (t->state) {
    case SYNACK_ESTABLISHED:
        tcb_set_state(t, SYNACK_CLOSE_WAIT, SYNACK_CAUSE_RCV_FIN);
        break;
    case SYNACK_FIN_WAIT_1:
        if (fin_acked(t))
            tcp_tw_enter(t, SYNACK_CAUSE_RCV_FIN);
        else
            tcb_set_state(t, SYNACK_CLOSING, SYNACK_CAUSE_RCV_FIN_SIMULTANEOUS);
        break;
    case SYNACK_FIN_WAIT_2:
        tcp_tw_enter(t, SYNACK_CAUSE_RCV_FIN);
        break;
    default:
        break;
    }
}

/* FIN-WAIT-1 whose FIN is now acknowledged goes to FIN-WAIT-2: the fifth
 * step's rule, applied after the eighth so that a segment carrying both the
 * ACK of our FIN and the peer's FIN takes the diagram's direct edge to
 * TIME-WAIT ("our FIN has been ACKed (perhaps in this segment)"). */
static void fin_wait_1_acked(tcb *t)
{
    if (t->state != SYNACK_FIN_WAIT_1 || !fin_acked(t))
        return;
    tcb_set_state(t, SYNACK_FIN_WAIT_2, SYNACK_CAUSE_RCV_ACK_OF_FIN);
    if (t->is.orphan)
        tcp_arm_fin_timeout(t);
}

/* ------------------------------------------------------------ §3.10.7.4 in order */

/* The steps, for a segment already traced. */
static void segment_steps(tcb *t, wire_tcp *seg)
{
    t->stats.segs_in++;
    if (t->state == SYNACK_SYN_SENT) {
        tcp_syn_sent_input(t, seg); /* §3.10.7.3 */
        return;
    }
    seg_text x;
    if (!tcp_syn_received_early(t, seg) || /* SYN-RECEIVED: a repeated SYN */
        !check_sequence(t, seg, &x) ||     /* first                        */
        !check_rst(t, seg) ||              /* second                       */
        /* third, security: no compartments to check (RFC 9293 §3.10.7.4) */
        !check_syn(t, seg) ||              /* fourth                       */
        !check_ack(t, seg) ||              /* fifth                        */
        /* sixth, URG: not supported; urgent data is delivered inline     */
        !process_text(t, &x))              /* seventh                      */
        return;
    check_fin(t, &x);                      /* eighth                       */
    fin_wait_1_acked(t);
    tcp_output(t);
}

static void segment_arrives(tcb *t, wire_tcp *seg)
{
    tcp_ctx *c = t->ctx;
    if (c->trace)
        tcp_trace_seg(c, t, SYNACK_TRACE_SEG_IN, seg, false, NULL);
    segment_steps(t, seg);
}

/* ------------------------------------------------------------ §3.10.7.1 CLOSED */

static void closed_input(tcp_ctx *c, const synack_addr *src, const synack_addr *dst,
                         const wire_tcp *seg)
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

/* ------------------------------------------------------------ demultiplexing */

static bool parse(tcp_ctx *c, const synack_addr *src, const synack_addr *dst, const uint8_t *p,
                  size_t len, wire_tcp *seg)
{
    wire_err e = c->csum_offload                ? wire_tcp_parse_trusted(p, len, seg)
                 : src->family == SYNACK_AF_INET6 ? wire_tcp_parse6(p, len, src->v6, dst->v6, seg)
                                                  : wire_tcp_parse(p, len, src->v4, dst->v4, seg);
    if (e != WIRE_OK) {
        c->ctr->tcp_in_errs++;
        if (e == WIRE_BAD_CSUM)
            c->ctr->tcp_in_csum_errors++;
        else if (e == WIRE_BAD_OPTIONS)
            c->ctr->tcp_in_bad_options++;
        tcp_drop(c, NULL, e == WIRE_BAD_CSUM ? SYNACK_DROP_TCP_CSUM : SYNACK_DROP_TCP_MALFORMED);
        return false;
    }
    if (seg->sport == 0 || seg->dport == 0) {
        c->ctr->tcp_in_errs++;
        tcp_drop(c, NULL, SYNACK_DROP_TCP_PORT_ZERO);
        return false;
    }
    return true;
}

/* Connections first, then TIME-WAIT entries, then listeners, then nobody. */
void tcp_input(tcp_ctx *c, const synack_addr *src, const synack_addr *dst, const uint8_t *p,
               size_t len, bool own)
{
    wire_tcp seg;
    c->ctr->tcp_in_segs++;
    if (!parse(c, src, dst, p, len, &seg))
        return;
    tcb *t = tcb_lookup(c, dst, seg.dport, src, seg.sport);
    if (t) {
        segment_arrives(t, &seg);
        return;
    }
    /* In a steered group, a flow that hashes to another stack is that
     * stack's: answering it (a RST, a SYN,ACK) would break the owner's
     * connection. Only a reassembled segment gets here (steer.h). */
    if (!steer_tcp_mine(&c->steer, dst, seg.dport, src, seg.sport)) {
        tcp_drop(c, NULL, SYNACK_DROP_STEER_FOREIGN);
        return;
    }
    tcb *l = own ? listen_find(c, dst->family, seg.dport) : NULL;
    if (!l)
        l = listen_find_any(c, dst, seg.dport);
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
    bool bare_syn = (seg.flags & SYNACK_SYN) && !(seg.flags & (SYNACK_ACK | SYNACK_RST));
    if (c->trace && !(l && bare_syn)) { /* a listener's child traces its own SYN */
        tcp_tuple who = tcp_tuple_in(src, dst, &seg);
        tcp_trace_seg(c, l, SYNACK_TRACE_SEG_IN, &seg, false, &who);
    }
    if (!l) {
        closed_input(c, src, dst, &seg);
        return;
    }
    tcb *opened = listen_input(l, src, dst, &seg, 0); /* a SYN cookie's ACK */
    if (opened)
        segment_steps(opened, &seg); /* traced above, as the listener's */
}
