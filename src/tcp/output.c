/* output.c — building and sending segments: data within the send and
 * congestion windows, FIN after the data, ACKs, SYNs and resets. */
#include "tcp/tcp.h"

#include "base/seq.h"

#include <string.h>

static uint32_t ts_now(const tcb *t)
{
    return (uint32_t)(t->ctx->now / NS_PER_MS) + t->opts.ts_offset;
}

uint32_t tcp_rcv_window(const tcb *t)
{
    if (!t->rcv.buf.buf) /* the ring comes with the data: all of it is free */
        return t->state > SYNACK_LISTEN && t->state != SYNACK_TIME_WAIT
                   ? tcp_buf_size_now(t, TCP_BUF_RECV)
                   : 0;
    return ring_free_space(&t->rcv.buf);
}

/* The window field to send, never moving the advertised right edge left
 * (RFC 9293 §3.8.6: the window should not shrink). */
static uint16_t window_field(tcb *t, bool syn)
{
    uint32_t win = tcp_rcv_window(t);
    if (syn) { /* never scaled (RFC 7323 §2.2); a SYN,ACK's window counts as advertised */
        uint16_t field = (uint16_t)(win > 65535 ? 65535 : win);
        if (t->state == SYNACK_SYN_RECEIVED && seq_gt(t->rcv.nxt + field, t->rcv.adv))
            t->rcv.adv = t->rcv.nxt + field;
        return field;
    }
    uint32_t adv = seq_gt(t->rcv.adv, t->rcv.nxt) ? t->rcv.adv - t->rcv.nxt : 0;
    uint32_t step = t->rcv.buf_size / 2 < t->opts.adv_mss ? t->rcv.buf_size / 2 : t->opts.adv_mss;
    if (adv > win || win - adv < step)
        win = adv; /* receiver SWS avoidance (§3.8.6.2.2): move the edge usefully or not at all */
    uint32_t field = win >> t->opts.rcv_wscale;
    if (field > 65535)
        field = 65535;
    uint32_t edge = t->rcv.nxt + (field << t->opts.rcv_wscale);
    if (seq_gt(edge, t->rcv.adv))
        t->rcv.adv = edge;
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
        h->opt.mss = t->opts.adv_mss;
        if (answer ? t->opts.ws_ok : s->tcp_window_scaling)
            h->opt.wscale = (int8_t)t->opts.rcv_wscale;
        if (answer ? t->opts.sack_ok : s->tcp_sack)
            h->opt.sack_ok = 1;
        if (answer ? t->opts.ts_ok : s->tcp_timestamps) {
            h->opt.has_ts = 1;
            h->opt.ts_val = ts_now(t);
            h->opt.ts_ecr = answer ? t->opts.ts_recent : 0;
        }
        return;
    }
    if (t->opts.ts_ok) {
        h->opt.has_ts = 1;
        h->opt.ts_val = ts_now(t);
        h->opt.ts_ecr = t->opts.ts_recent;
    }
    uint8_t max = t->opts.ts_ok ? 3 : 4;
    if (t->opts.sack_ok && t->rcv.dsack && !(h->flags & SYNACK_RST)) {
        /* RFC 2883: a duplicate we received goes first, once. */
        h->opt.sack[0][0] = t->rcv.dsack_range.start;
        h->opt.sack[0][1] = t->rcv.dsack_range.end;
        h->opt.sack_count = 1;
    }
    if (t->opts.sack_ok && t->rcv.nooo && !(h->flags & SYNACK_RST)) {
        /* RFC 2018 §4: report the blocks we hold, as many as fit. */
        for (uint8_t i = 0; i < t->rcv.nooo && h->opt.sack_count < max; i++) {
            h->opt.sack[h->opt.sack_count][0] = t->rcv.ooo[i].start;
            h->opt.sack[h->opt.sack_count][1] = t->rcv.ooo[i].end;
            h->opt.sack_count++;
        }
    }
}

/* Gather the payload from the send ring behind the header and checksum
 * the segment in the same pass (DESIGN §8: few copies, fused with the
 * checksum). With checksum offload the field is left for the device. */
/* Where a segment's payload lies in the send stream: one or two pieces of
 * the ring, or of the application's memory (sndref.c); false when it takes
 * more pieces than that. */
static bool payload_span(const tcb *t, uint32_t off, uint32_t len, synack_iov v[2])
{
    v[0] = v[1] = (synack_iov){0};
    if (!len)
        return true;
    if (t->snd.refs) {
        uint32_t covered;
        tcp_snd_span(t, off, len, v, 2, &covered);
        return covered == len;
    }
    const uint8_t *p1, *p2;
    uint32_t l1, l2;
    ring_span(&t->snd.buf, off, len, &p1, &l1, &p2, &l2);
    v[0] = (synack_iov){.base = (void *)p1, .len = l1};
    v[1] = (synack_iov){.base = (void *)p2, .len = l2};
    return true;
}

/* A payload of many pieces (ring bytes between references): copied, then
 * summed. */
static void copy_pieces_and_checksum(const tcb *t, uint8_t *seg, size_t hl, uint32_t off,
                                     uint32_t len)
{
    tcp_snd_copy(t, off, len, seg + hl);
    if (t->ctx->csum_offload)
        return;
    uint32_t sum = tcp_pseudo_sum(&t->laddr, &t->raddr, (uint32_t)(hl + len));
    sum = wire_csum_add(sum, seg, hl + len);
    wire_put16(seg + 16, wire_csum_fold(sum));
}

static void copy_and_checksum(const tcb *t, uint8_t *seg, size_t hl, const synack_iov v[2])
{
    const uint8_t *p1 = v[0].base, *p2 = v[1].base;
    size_t l1 = v[0].len, l2 = v[1].len, len = l1 + l2;
    if (t->ctx->csum_offload) {
        if (l1)
            memcpy(seg + hl, p1, l1);
        if (l2)
            memcpy(seg + hl + l1, p2, l2);
        return;
    }
    uint32_t sum = tcp_pseudo_sum(&t->laddr, &t->raddr, (uint32_t)(hl + len));
    sum = wire_csum_add(sum, seg, hl); /* the header: a multiple of 4 bytes */
    if (l2 && (l1 & 1)) {
        /* An odd first piece would misalign the 16-bit sum: two passes. */
        memcpy(seg + hl, p1, l1);
        memcpy(seg + hl + l1, p2, l2);
        sum = wire_csum_add(sum, seg + hl, len);
    } else if (len) {
        sum = wire_csum_copy(sum, seg + hl, p1, l1);
        if (l2)
            sum = wire_csum_copy(sum, seg + hl + l1, p2, l2);
    }
    wire_put16(seg + 16, wire_csum_fold(sum));
}

/* May this segment leave with its payload where it lies (emit_tail)? Not
 * while tracing (the trace shows the payload in one piece), and not when
 * an odd first piece would misalign the checksum of the second. */
static bool can_gather(const tcb *t, const synack_iov v[2])
{
    const tcp_ctx *c = t->ctx;
    return c->gather && v[0].len && !c->trace && (c->csum_offload || !(v[1].len && (v[0].len & 1)));
}

/* The checksum of a gathered segment: the header in place, the payload
 * where it lies, nothing copied. */
static void checksum_gathered(const tcb *t, uint8_t *seg, size_t hl, const synack_iov v[2])
{
    if (t->ctx->csum_offload)
        return;
    size_t len = v[0].len + v[1].len;
    uint32_t sum = tcp_pseudo_sum(&t->laddr, &t->raddr, (uint32_t)(hl + len));
    sum = wire_csum_add(sum, seg, hl);
    sum = wire_csum_add(sum, v[0].base, v[0].len);
    if (v[1].len)
        sum = wire_csum_add(sum, v[1].base, v[1].len);
    wire_put16(seg + 16, wire_csum_fold(sum));
}

/* Build one segment from the send buffer (data_off bytes past buf_seq) and
 * hand it to the IP layer. */
static void emit_segment(tcb *t, uint32_t seq, uint8_t flags, uint32_t data_off, uint32_t len)
{
    tcp_ctx *c = t->ctx;
    wire_tcp h = {.sport = t->lport, .dport = t->rport, .seq = seq, .flags = flags};
    if (flags & SYNACK_ACK)
        h.ack = t->rcv.nxt;
    fill_options(t, &h);
    h.wnd = (flags & SYNACK_RST) ? 0 : window_field(t, (flags & SYNACK_SYN) != 0);
    uint8_t *seg = c->txbuf + TCP_HEADROOM;
    size_t hl = wire_tcp_emit_header(seg, sizeof(c->txbuf) - TCP_HEADROOM, &h);
    if (hl == 0)
        return;
    synack_iov tail[2];
    bool two = payload_span(t, data_off, len, tail);
    bool gather = two && can_gather(t, tail);
    if (gather)
        checksum_gathered(t, seg, hl, tail);
    else if (two)
        copy_and_checksum(t, seg, hl, tail);
    else
        copy_pieces_and_checksum(t, seg, hl, data_off, len);

    bool rexmit = (len || (flags & (SYNACK_SYN | SYNACK_FIN))) && seq_lt(seq, t->snd.max);
    h.payload = gather ? tail[0].base : seg + hl;
    h.payload_len = len;
    if (c->trace)
        tcp_trace_seg(c, t, SYNACK_TRACE_SEG_OUT, &h, rexmit, NULL);
    c->ctr->tcp_out_segs++;
    t->stats.segs_out++;
    if (len || (flags & (SYNACK_SYN | SYNACK_FIN)))
        t->timers.probe_from = c->now;
    if (t->cc.in_recovery)
        t->cc.prr_out += len; /* RFC 6937 §3: on any (re)transmission */
    if ((len || (flags & SYNACK_FIN)) && !(flags & SYNACK_SYN) && tcb_synchronized(t))
        rack_on_send(t, seq, seq + len + ((flags & SYNACK_FIN) ? 1 : 0)); /* RFC 8985 §6.1 */
    if (rexmit) {
        c->ctr->tcp_retrans_segs++;
        t->stats.retrans++;
        undo_note_rxt(t, seq, len);
    } else {
        t->stats.bytes_sent += len;
    }
    if (h.opt.sack_count && t->rcv.dsack) {
        t->rcv.dsack = false;
        c->ctr->tcp_dsack_sent++;
    }
    if (flags & SYNACK_ACK) {
        t->rcv.ack_pending = t->rcv.ack_now = false;
        t->rcv.acked = t->rcv.nxt;
        if (t->timers.delack_at != UINT64_MAX) {
            t->timers.delack_at = UINT64_MAX;
            tcb_schedule(t);
        }
    }
    if (gather)
        c->emit_tail(c->emit_ctx, &t->laddr, &t->raddr, seg, hl, tail);
    else
        c->emit(c->emit_ctx, &t->laddr, &t->raddr, seg, hl + len);
}

void tcp_send_syn(tcb *t, bool retransmit)
{
    uint8_t flags = SYNACK_SYN | (t->state == SYNACK_SYN_RECEIVED ? SYNACK_ACK : 0);
    if (!retransmit && !t->rtt.timing) { /* Karn: time only the first transmission */
        t->rtt.timing = true;
        t->rtt.seq = t->snd.iss + 1;
        t->rtt.start = t->ctx->now;
    }
    emit_segment(t, t->snd.iss, flags, 0, 0);
    t->snd.nxt = t->snd.iss + 1;
    if (seq_gt(t->snd.nxt, t->snd.max))
        t->snd.max = t->snd.nxt;
    tcp_arm_rto(t);
}

/* Segments without data carry the highest sequence number sent, not
 * snd_nxt: after a timeout rewinds snd_nxt the peer may already hold more,
 * and an ACK below its RCV.NXT would be unacceptable there (an ACK war). */
void tcp_send_ack(tcb *t)
{
    emit_segment(t, t->snd.max, SYNACK_ACK, 0, 0);
}

/* A keepalive probe: one byte below SND.UNA, no data, so the peer must
 * answer with an ACK (RFC 1122 §4.2.3.6). */
void tcp_send_keepalive(tcb *t)
{
    emit_segment(t, t->snd.una - 1, SYNACK_ACK, 0, 0);
}

/* The stack-wide allowance for this second: random in [limit/2,
 * 3 limit/2), so that an attacker counting our challenge ACKs cannot tell
 * the limit's edge from a connection that exists (CVE-2016-5696; Linux
 * draws it the same way). Keyed SipHash of the second: unpredictable
 * without a random call per second. */
static uint32_t challenge_allowance(const tcp_ctx *c, uint64_t second)
{
    uint64_t limit = c->sys->tcp_challenge_ack_limit;
    if (limit == 0)
        return 0;
    uint64_t half = (limit + 1) / 2;
    uint64_t key[2] = {second, 0x6368616c6c656e67ull /* "challeng" */};
    uint64_t n = half + siphash24(&c->port_key, key, sizeof(key)) % limit;
    return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* RFC 5961 §3.2, §4.2, §5.2's challenge ACK, rate-limited per connection
 * (one per tcp_invalid_ratelimit, as Linux's tcp_send_challenge_ack) and
 * per stack (RFC 5961 §7). */
void tcp_send_challenge_ack(tcb *t)
{
    tcp_ctx *c = t->ctx;
    uint32_t now_ms = (uint32_t)(c->now / NS_PER_MS);
    if (t->rcv.last_challenge_ms &&
        now_ms - t->rcv.last_challenge_ms < c->sys->tcp_invalid_ratelimit) {
        c->ctr->tcp_challenge_ack_skipped++;
        return;
    }
    t->rcv.last_challenge_ms = now_ms ? now_ms : 1;
    uint64_t second = c->now / (1000 * NS_PER_MS) + 1; /* 0: no second yet */
    if (second != c->chack_second) {
        c->chack_second = second;
        c->chack_left = challenge_allowance(c, second);
    }
    if (c->chack_left == 0) {
        c->ctr->tcp_challenge_ack_limited++;
        return;
    }
    c->chack_left--;
    c->ctr->tcp_challenge_acks++;
    tcp_send_ack(t);
}

void tcp_send_rst_for(tcb *t)
{
    t->ctx->ctr->tcp_out_rsts++;
    emit_segment(t, t->snd.max, SYNACK_RST | SYNACK_ACK, 0, 0);
}

void tcp_send_bare(tcp_ctx *c, const synack_addr *lip, const synack_addr *rip, const wire_tcp *h)
{
    uint8_t *seg = c->txbuf + TCP_HEADROOM;
    size_t hl = wire_tcp_emit_header(seg, sizeof(c->txbuf) - TCP_HEADROOM, h);
    if (hl == 0)
        return;
    if (!c->csum_offload && lip->family == SYNACK_AF_INET6)
        wire_tcp_set_checksum6(seg, hl, lip->v6, rip->v6);
    else if (!c->csum_offload)
        wire_tcp_set_checksum(seg, hl, lip->v4, rip->v4);
    if (c->trace) {
        tcp_tuple who = {0, *lip, *rip, h->sport, h->dport};
        tcp_trace_seg(c, NULL, SYNACK_TRACE_SEG_OUT, h, false, &who);
    }
    c->ctr->tcp_out_segs++;
    c->ctr->tcp_out_rsts += (h->flags & SYNACK_RST) != 0;
    c->emit(c->emit_ctx, lip, rip, seg, hl);
}

void tcp_send_reset(tcp_ctx *c, const synack_addr *lip, uint16_t lport, const synack_addr *rip,
                    uint16_t rport, uint32_t seq, uint32_t ack, uint8_t flags)
{
    wire_tcp h = {.sport = lport, .dport = rport, .seq = seq, .ack = ack,
                  .flags = (uint8_t)(SYNACK_RST | flags)};
    wire_tcp_opts_clear(&h.opt);
    tcp_send_bare(c, lip, rip, &h);
}

/* Payload bytes one data segment may carry: the peer's MSS less the
 * options this segment carries (RFC 9293 §3.7.1: MSS excludes options),
 * which is also what keeps the packet within our MTU. */
static uint32_t payload_room(const tcb *t)
{
    /* The layout fill_options produces: "nop nop ts" (12 bytes), then
     * "nop nop sack" with up to 3 blocks beside timestamps, 4 without. */
    uint32_t opts = t->opts.ts_ok ? 12u : 0u;
    uint32_t blocks = t->opts.sack_ok ? (uint32_t)t->rcv.nooo + (t->rcv.dsack ? 1u : 0u) : 0u;
    uint32_t max = t->opts.ts_ok ? 3u : 4u;
    if (blocks)
        opts += 4u + 8u * (blocks < max ? blocks : max);
    uint32_t base = t->opts.snd_mss + (t->opts.ts_ok ? 12u : 0u);
    /* The device cuts a GSO segment at the link's MTU, not the path's: once
     * ICMP or black-hole detection has set a smaller path MTU, segments
     * go out at the path's size, without GSO. */
    uint32_t hdrs = tcp_net_hdr_len(t->raddr.family);
    if (t->ctx->gso_max > base + hdrs && !t->path_mtu)
        base = t->ctx->gso_max - hdrs; /* the device cuts it to size (TSO/GSO) */
    return base > opts + 1 ? base - opts : 1;
}

/* Whether a segment of `len` bytes, shorter than a full one, may go now:
 * Nagle (RFC 9293 §3.7.4, off with nodelay), cork, and the sender's silly
 * window avoidance (§3.8.6.2.1). A forced send (timer) always may. */
static bool small_segment_ok(const tcb *t, uint32_t len, uint32_t avail, uint32_t usable)
{
    if (len < avail) /* the window cuts it short: SWS avoidance */
        return usable >= t->snd.max_wnd / 2;
    if (t->snd.fin_queued)
        return true; /* closing: nothing more will join it */
    if (t->sockopt.cork)
        return false;
    if (t->snd.push && seq_leq(t->snd.nxt + len, t->snd.push_to))
        return true; /* written before an uncork: Linux pushes it past Nagle */
    return t->sockopt.nodelay || t->snd.nxt == t->snd.una; /* Nagle: one small segment in flight */
}

/* Send new data (and FIN) as the windows allow; after a timeout (force)
 * exactly one segment, even into a closed window. */
static void send_data(tcb *t, bool force)
{
    if (t->snd.push && seq_geq(t->snd.nxt, t->snd.push_to))
        t->snd.push = false; /* the uncorked bytes are out: Nagle as before */
    for (;;) {
        uint32_t data_end = tcp_snd_end(t);
        uint32_t cwnd = t->cc.cwnd;
        if (!t->cc.in_recovery && t->cc.dupacks && t->cc.dupacks < 3 && !t->sack.n)
            cwnd += (uint32_t)t->cc.dupacks * t->opts.snd_mss; /* RFC 3042 limited transmit */
        uint32_t wnd = t->snd.wnd < cwnd ? t->snd.wnd : cwnd;
        uint32_t limit = t->snd.una + wnd;
        if (seq_lt(t->snd.nxt, data_end)) {
            uint32_t avail = data_end - t->snd.nxt;
            uint32_t usable = seq_gt(limit, t->snd.nxt) ? limit - t->snd.nxt : 0;
            if (force && usable == 0)
                usable = 1; /* zero-window probe or retransmission into a closed window */
            uint32_t len = avail < usable ? avail : usable;
            uint32_t room = payload_room(t);
            if (seq_lt(t->snd.nxt, t->snd.max) && t->sack.n) {
                /* Resending after a timeout: skip what the peer holds. */
                uint32_t skip = sack_skip(t, t->snd.nxt, &room);
                if (skip) {
                    t->snd.nxt = seq_lt(skip, data_end) ? skip : data_end;
                    continue;
                }
            }
            if (len > room)
                len = room;
            /* one MSS, even with GSO */
            uint32_t full = room < t->opts.snd_mss ? room : t->opts.snd_mss;
            if (len == 0 || (len < full && !force && !small_segment_ok(t, len, avail, usable))) {
                /* Blocked by the window, Nagle or cork: the persist timer
                 * makes sure something moves (RFC 9293 §3.8.6.1). */
                tcp_arm_rto(t);
                return;
            }
            uint8_t flags = SYNACK_ACK;
            if (t->snd.nxt + len == data_end) {
                flags |= SYNACK_PSH;
                if (t->snd.fin_queued)
                    flags |= SYNACK_FIN;
            }
            if (!t->rtt.timing && t->snd.nxt == t->snd.max) {
                t->rtt.timing = true;
                t->rtt.seq = t->snd.nxt + len;
                t->rtt.start = t->ctx->now;
            }
            emit_segment(t, t->snd.nxt, flags, t->snd.nxt - t->snd.buf_seq, len);
            t->snd.nxt += len;
            if (flags & SYNACK_FIN) {
                t->snd.nxt++;
                t->snd.fin_sent = true;
            }
        } else if (t->snd.fin_queued && !t->snd.fin_sent) {
            emit_segment(t, t->snd.nxt, SYNACK_FIN | SYNACK_ACK, 0, 0);
            t->snd.nxt++;
            t->snd.fin_sent = true;
        } else {
            return;
        }
        if (seq_gt(t->snd.nxt, t->snd.max))
            t->snd.max = t->snd.nxt;
        tcp_arm_rto(t);
        if (force)
            return; /* a timeout or fast retransmit resends one segment */
    }
}

/* Resend one segment starting at `seq` (below SND.MAX) without moving
 * SND.NXT: fast retransmit, NewReno partial ACKs and SACK recovery. */
/* A retransmission resends only what was sent, [SND.UNA, SND.MAX), and
 * only what the peer's window holds now (Linux's tcp_retransmit_skb trims
 * to the window the same way). */
void tcp_send_retransmit(tcb *t, uint32_t seq)
{
    uint32_t data_end = tcp_snd_end(t);
    uint32_t sent_end = seq_lt(t->snd.max, data_end) ? t->snd.max : data_end;
    uint32_t wnd_end = t->snd.una + t->snd.wnd;
    uint32_t room = payload_room(t);
    if (t->sack.n && sack_skip(t, seq, &room))
        return;
    uint32_t len = seq_lt(seq, sent_end) ? sent_end - seq : 0;
    if (len > room)
        len = room;
    if (seq_gt(seq + len, wnd_end))
        len = seq_gt(wnd_end, seq) ? wnd_end - seq : 0;
    uint8_t flags = SYNACK_ACK;
    if (seq + len == data_end && t->snd.fin_sent)
        flags |= SYNACK_FIN; /* the FIN was sent and is not acknowledged */
    if (!len && !(flags & SYNACK_FIN))
        return;
    emit_segment(t, seq, flags, seq - t->snd.buf_seq, len);
    if (t->opts.sack_ok && len)
        sack_note_rxt(t, seq); /* watched for a second loss (ack.c) */
    uint32_t end = seq + len + ((flags & SYNACK_FIN) ? 1 : 0);
    if (seq_gt(end, t->sack.high_rxt))
        t->sack.high_rxt = end;
    tcp_arm_rto(t);
}

/* One segment of new data (or the FIN), as the peer's window and Nagle
 * allow; false if nothing went. */
static bool send_one_new(tcb *t)
{
    uint32_t saved_cwnd = t->cc.cwnd, before = t->snd.nxt;
    t->cc.cwnd = t->snd.nxt - t->snd.una + t->opts.snd_mss; /* exactly one segment's room */
    send_data(t, false);
    t->cc.cwnd = saved_cwnd;
    return t->snd.nxt != before;
}

/* RFC 6675 §5 (C): while the pipe leaves room for a segment, resend the
 * next lost hole, else send new data. */
static void sack_recovery_send(tcb *t)
{
    for (int guard = 0; guard < 1000; guard++) {
        if (sack_pipe(t) + t->opts.snd_mss > t->cc.cwnd)
            return;
        uint32_t start, len;
        if (sack_next_hole(t, t->sack.high_rxt, false, &start, &len)) {
            tcp_send_retransmit(t, start);
            continue;
        }
        /* NextSeg rule 2: new data, as the peer's window allows. */
        uint32_t data_end = tcp_snd_end(t);
        uint32_t limit = t->snd.una + t->snd.wnd;
        bool more = seq_lt(t->snd.nxt, data_end) || (t->snd.fin_queued && !t->snd.fin_sent);
        if (!more || seq_geq(t->snd.nxt, limit)) {
            /* Rule 3: nothing new to send; resend a hole not yet deemed lost. */
            if (sack_next_hole(t, t->sack.high_rxt, true, &start, &len)) {
                tcp_send_retransmit(t, start);
                continue;
            }
            return;
        }
        if (!send_one_new(t))
            return;
    }
}

/* Before recovery starts, SACKed data has left the network: as in Linux's
 * packets in flight (sent, less SACKed and lost), the window bounds the
 * pipe rather than SND.NXT - SND.UNA, so the segments behind a hole keep
 * new data going while loss detection waits (RACK's reordering window).
 * RFC 3042's limited transmit, for as many segments as were SACKed. */
static void sack_disorder_send(tcb *t)
{
    for (int guard = 0; guard < 1000; guard++) {
        if (sack_pipe(t) + t->opts.snd_mss > t->cc.cwnd || !send_one_new(t))
            return;
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
        if (t->cc.in_recovery && t->opts.sack_ok)
            sack_recovery_send(t);
        else if (t->opts.sack_ok && t->sack.n && !t->cc.after_rto && t->snd.nxt == t->snd.max)
            sack_disorder_send(t); /* a rewound SND.NXT (PMTU, zero window) resends as before */
        else
            send_data(t, false);
        break;
    default:
        break;
    }
    if (!t->rcv.ack_pending || t->state == SYNACK_CLOSED || t->state == SYNACK_LISTEN ||
        t->state == SYNACK_SYN_SENT) {
        t->rcv.ack_pending = t->rcv.ack_now = false;
        return;
    }
    if (t->rcv.ack_now || t->sockopt.quickack || !t->ctx->sys->tcp_delack_ms) {
        tcp_send_ack(t);
    } else if (t->timers.delack_at == UINT64_MAX && !t->is.on_flushlist) {
        /* Delayed ACK (RFC 9293 §3.8.6.3; Linux's 40 ms minimum), or the
         * socket's own bound in request/response mode; none for an ACK
         * that goes when the call returns (events.c). */
        uint64_t wait = t->sockopt.ack_delay_us ? (uint64_t)t->sockopt.ack_delay_us * 1000
                                                : (uint64_t)t->ctx->sys->tcp_delack_ms * NS_PER_MS;
        t->timers.delack_at = t->ctx->now + wait;
        tcb_schedule(t);
    }
}

void tcp_send_forced(tcb *t)
{
    if (t->state == SYNACK_ESTABLISHED || t->state == SYNACK_CLOSE_WAIT ||
        t->state == SYNACK_FIN_WAIT_1 || t->state == SYNACK_CLOSING ||
        t->state == SYNACK_LAST_ACK)
        send_data(t, true);
}
