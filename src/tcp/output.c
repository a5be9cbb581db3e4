/* output.c — building and sending segments: data within the send and
 * congestion windows, FIN after the data, ACKs, SYNs and resets. */
#include "tcp/tcp.h"

#include "base/seq.h"

#include <string.h>

static uint32_t ts_now(const tcb *t)
{
    return (uint32_t)(t->ctx->now / NS_PER_MS) + t->ts_offset;
}

void tcp_trace_seg(tcp_ctx *c, const tcb *t, int kind, const wire_tcp *seg, bool rexmit,
                   uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport)
{
    synack_trace_event ev = {
        .kind = (synack_trace_kind)kind, .time_ns = c->now, .conn_id = t ? t->id : 0,
        .local_ip = lip, .local_port = lport, .remote_ip = rip, .remote_port = rport,
        .old_state = t ? t->state : SYNACK_CLOSED, .new_state = t ? t->state : SYNACK_CLOSED,
        .retransmit = rexmit,
    };
    synack_seg_info *s = &ev.seg;
    s->seq = seg->seq;
    s->ack = seg->ack;
    s->flags = seg->flags;
    s->wnd = seg->wnd;
    s->len = (uint32_t)seg->payload_len;
    s->mss = seg->opt.mss;
    s->wscale = seg->opt.wscale;
    s->sack_ok = seg->opt.sack_ok;
    s->has_ts = seg->opt.has_ts;
    s->ts_val = seg->opt.ts_val;
    s->ts_ecr = seg->opt.ts_ecr;
    s->sack_blocks = seg->opt.sack_count;
    memcpy(s->sack, seg->opt.sack, sizeof(s->sack));
    c->trace(c->trace_ctx, &ev);
}

uint32_t tcp_rcv_window(const tcb *t)
{
    if (!t->rcvbuf.buf || t->rd_shut)
        return t->rd_shut ? t->rcvbuf_size : 0;
    return ring_free_space(&t->rcvbuf);
}

/* The window field to send, never moving the advertised right edge left
 * (RFC 9293 §3.8.6: the window should not shrink). */
static uint16_t window_field(tcb *t, bool syn)
{
    uint32_t win = tcp_rcv_window(t);
    if (syn)
        return (uint16_t)(win > 65535 ? 65535 : win);
    uint32_t adv = t->rcv_adv - t->rcv_nxt;
    if (seq_gt(t->rcv_adv, t->rcv_nxt) && adv > win)
        win = adv;
    uint32_t field = win >> t->rcv_wscale;
    if (field > 65535)
        field = 65535;
    uint32_t edge = t->rcv_nxt + (field << t->rcv_wscale);
    if (seq_gt(edge, t->rcv_adv))
        t->rcv_adv = edge;
    return (uint16_t)field;
}

static void fill_options(tcb *t, wire_tcp *h)
{
    wire_tcp_opts_clear(&h->opt);
    const synack_sysctl *s = t->ctx->sys;
    if (h->flags & SYNACK_SYN) {
        /* A SYN offers what we support; a SYN-ACK only what the SYN offered
         * (RFC 7323 §1.3, §3.2; RFC 2018 §2). */
        bool answer = (h->flags & SYNACK_ACK) != 0;
        h->opt.mss = t->adv_mss;
        if (answer ? t->ws_ok : s->tcp_window_scaling)
            h->opt.wscale = (int8_t)t->rcv_wscale;
        if (answer ? t->sack_ok : s->tcp_sack)
            h->opt.sack_ok = 1;
        if (answer ? t->ts_ok : s->tcp_timestamps) {
            h->opt.has_ts = 1;
            h->opt.ts_val = ts_now(t);
            h->opt.ts_ecr = answer ? t->ts_recent : 0;
        }
        return;
    }
    if (t->ts_ok) {
        h->opt.has_ts = 1;
        h->opt.ts_val = ts_now(t);
        h->opt.ts_ecr = t->ts_recent;
    }
    if (t->sack_ok && t->nooo && !(h->flags & SYNACK_RST)) {
        /* RFC 2018 §4: report the blocks we hold, as many as fit. */
        uint8_t max = t->ts_ok ? 3 : 4;
        for (uint8_t i = 0; i < t->nooo && h->opt.sack_count < max; i++) {
            h->opt.sack[h->opt.sack_count][0] = t->ooo[i].start;
            h->opt.sack[h->opt.sack_count][1] = t->ooo[i].end;
            h->opt.sack_count++;
        }
    }
}

/* Build one segment from the send buffer (data_off bytes past buf_seq) and
 * hand it to the IP layer. */
static void emit_segment(tcb *t, uint32_t seq, uint8_t flags, uint32_t data_off, uint32_t len)
{
    tcp_ctx *c = t->ctx;
    wire_tcp h = {.sport = t->lport, .dport = t->rport, .seq = seq, .flags = flags};
    if (flags & SYNACK_ACK)
        h.ack = t->rcv_nxt;
    fill_options(t, &h);
    h.wnd = (flags & SYNACK_RST) ? 0 : window_field(t, (flags & SYNACK_SYN) != 0);
    uint8_t *seg = c->txbuf + TCP_HEADROOM;
    size_t hl = wire_tcp_emit_header(seg, sizeof(c->txbuf) - TCP_HEADROOM, &h);
    if (hl == 0)
        return;
    if (len)
        ring_peek(&t->sndbuf, data_off, seg + hl, len);
    wire_tcp_set_checksum(seg, hl + len, t->lip, t->rip);

    bool rexmit = (len || (flags & (SYNACK_SYN | SYNACK_FIN))) && seq_lt(seq, t->snd_max);
    h.payload = seg + hl;
    h.payload_len = len;
    if (c->trace)
        tcp_trace_seg(c, t, SYNACK_TRACE_SEG_OUT, &h, rexmit, t->lip, t->lport, t->rip, t->rport);
    c->ctr->tcp_out_segs++;
    t->segs_out++;
    if (rexmit) {
        c->ctr->tcp_retrans_segs++;
        t->retrans++;
    } else {
        t->bytes_sent += len;
    }
    if (flags & SYNACK_ACK)
        t->ack_pending = false;
    c->emit(c->emit_ctx, t->rip, seg, hl + len);
}

void tcp_send_syn(tcb *t, bool retransmit)
{
    uint8_t flags = SYNACK_SYN | (t->state == SYNACK_SYN_RECEIVED ? SYNACK_ACK : 0);
    if (!retransmit && !t->rtt_timing) { /* Karn: time only the first transmission */
        t->rtt_timing = true;
        t->rtt_seq = t->iss + 1;
        t->rtt_start = t->ctx->now;
    }
    emit_segment(t, t->iss, flags, 0, 0);
    t->snd_nxt = t->iss + 1;
    if (seq_gt(t->snd_nxt, t->snd_max))
        t->snd_max = t->snd_nxt;
    tcp_arm_rto(t);
}

/* Segments without data carry the highest sequence number sent, not
 * snd_nxt: after a timeout rewinds snd_nxt the peer may already hold more,
 * and an ACK below its RCV.NXT would be unacceptable there (an ACK war). */
void tcp_send_ack(tcb *t)
{
    emit_segment(t, t->snd_max, SYNACK_ACK, 0, 0);
}

void tcp_send_challenge_ack(tcb *t)
{
    tcp_ctx *c = t->ctx;
    uint64_t second = c->now / (1000 * NS_PER_MS);
    if (second != c->chack_second) {
        c->chack_second = second;
        c->chack_count = 0;
    }
    if (c->chack_count >= c->sys->tcp_challenge_ack_limit) { /* RFC 5961 §7 */
        c->ctr->tcp_challenge_ack_limited++;
        return;
    }
    c->chack_count++;
    c->ctr->tcp_challenge_acks++;
    tcp_send_ack(t);
}

void tcp_send_rst_for(tcb *t)
{
    t->ctx->ctr->tcp_out_rsts++;
    emit_segment(t, t->snd_max, SYNACK_RST | SYNACK_ACK, 0, 0);
}

void tcp_send_reset(tcp_ctx *c, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport,
                    uint32_t seq, uint32_t ack, uint8_t flags)
{
    wire_tcp h = {.sport = lport, .dport = rport, .seq = seq, .ack = ack,
                  .flags = (uint8_t)(SYNACK_RST | flags)};
    wire_tcp_opts_clear(&h.opt);
    uint8_t *seg = c->txbuf + TCP_HEADROOM;
    size_t hl = wire_tcp_emit_header(seg, sizeof(c->txbuf) - TCP_HEADROOM, &h);
    if (hl == 0)
        return;
    wire_tcp_set_checksum(seg, hl, lip, rip);
    if (c->trace)
        tcp_trace_seg(c, NULL, SYNACK_TRACE_SEG_OUT, &h, false, lip, lport, rip, rport);
    c->ctr->tcp_out_segs++;
    c->ctr->tcp_out_rsts++;
    c->emit(c->emit_ctx, rip, seg, hl);
}

/* Payload bytes one data segment may carry: the peer's MSS less the
 * options this segment carries (RFC 9293 §3.7.1: MSS excludes options),
 * which is also what keeps the packet within our MTU. */
static uint32_t payload_room(tcb *t)
{
    wire_tcp h = {.flags = SYNACK_ACK};
    fill_options(t, &h);
    uint32_t base = t->snd_mss + (t->ts_ok ? 12u : 0u);
    uint32_t opts = (uint32_t)wire_tcp_opts_len(&h.opt);
    return base > opts + 1 ? base - opts : 1;
}

/* Send new data (and FIN) as the windows allow. */
static void send_data(tcb *t, bool force)
{
    for (;;) {
        uint32_t data_end = t->buf_seq + t->sndbuf.used;
        uint32_t wnd = t->snd_wnd < t->cwnd ? t->snd_wnd : t->cwnd;
        uint32_t limit = t->snd_una + wnd;
        if (seq_lt(t->snd_nxt, data_end)) {
            uint32_t avail = data_end - t->snd_nxt;
            uint32_t usable = seq_gt(limit, t->snd_nxt) ? limit - t->snd_nxt : 0;
            if (force && usable == 0)
                usable = 1; /* zero-window probe or retransmission into a closed window */
            uint32_t len = avail < usable ? avail : usable;
            uint32_t room = payload_room(t);
            if (len > room)
                len = room;
            if (len == 0) {
                /* Data waits behind a closed window: start the persist
                 * timer, or nothing would ever probe it (RFC 9293 §3.8.6.1). */
                tcp_arm_rto(t);
                return;
            }
            uint8_t flags = SYNACK_ACK;
            if (t->snd_nxt + len == data_end) {
                flags |= SYNACK_PSH;
                if (t->fin_queued)
                    flags |= SYNACK_FIN;
            }
            if (!t->rtt_timing && t->snd_nxt == t->snd_max) {
                t->rtt_timing = true;
                t->rtt_seq = t->snd_nxt + len;
                t->rtt_start = t->ctx->now;
            }
            emit_segment(t, t->snd_nxt, flags, t->snd_nxt - t->buf_seq, len);
            t->snd_nxt += len;
            if (flags & SYNACK_FIN) {
                t->snd_nxt++;
                t->fin_sent = true;
            }
        } else if (t->fin_queued && !t->fin_sent) {
            emit_segment(t, t->snd_nxt, SYNACK_FIN | SYNACK_ACK, 0, 0);
            t->snd_nxt++;
            t->fin_sent = true;
        } else {
            return;
        }
        if (seq_gt(t->snd_nxt, t->snd_max))
            t->snd_max = t->snd_nxt;
        tcp_arm_rto(t);
        if (force)
            return; /* a timeout or fast retransmit resends one segment */
    }
}

void tcp_output(tcb *t)
{
    switch (t->state) {
    case SYNACK_ESTABLISHED:
    case SYNACK_CLOSE_WAIT:
    case SYNACK_FIN_WAIT_1:
    case SYNACK_CLOSING:
    case SYNACK_LAST_ACK:
        send_data(t, false);
        break;
    default:
        break;
    }
    if (t->ack_pending && t->state != SYNACK_CLOSED && t->state != SYNACK_LISTEN &&
        t->state != SYNACK_SYN_SENT)
        tcp_send_ack(t);
    t->ack_pending = false;
}

void tcp_send_forced(tcb *t)
{
    if (t->state == SYNACK_ESTABLISHED || t->state == SYNACK_CLOSE_WAIT ||
        t->state == SYNACK_FIN_WAIT_1 || t->state == SYNACK_CLOSING ||
        t->state == SYNACK_LAST_ACK)
        send_data(t, true);
}
