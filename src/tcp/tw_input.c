/* tw_input.c — a segment for a TIME-WAIT entry: RFC 9293 §3.10.7.4 as it
 * applies there, PAWS as Linux applies it (tcp_timewait_state_process),
 * RFC 1337's assassination hazard (tcp_rfc1337), a new incarnation's SYN
 * (RFC 6191) and the rate-limited re-ACK. */
#include "tcp/tw_table.h"

#include "base/seq.h"

/* The entry's ACK: SND.NXT, RCV.NXT, the window we last announced, and
 * timestamps when they were in use. */
static void tw_send_ack(tcp_ctx *c, uint32_t i)
{
    const tcp_tw *r = rec(c->tw, i);
    wire_tcp h = {.sport = r->lport, .dport = r->rport, .seq = r->snd_nxt, .ack = r->rcv_nxt,
                  .flags = SYNACK_ACK, .wnd = r->wnd};
    wire_tcp_opts_clear(&h.opt);
    if (r->flags & TW_F_TS) {
        h.opt.has_ts = 1;
        h.opt.ts_val = now_ms(c) + r->ts_offset;
        h.opt.ts_ecr = r->ts_recent;
    }
    synack_addr peer = tw_peer_addr(c, i), local = tw_local_addr(c, i);
    tcp_send_bare(c, &local, &peer, &h);
}

/* RFC 7323 §5 as Linux applies it to TIME-WAIT (tcp_paws_reject). */
static bool paws_reject(const tcp_ctx *c, const tcp_tw *r, const wire_tcp *seg)
{
    if (!(r->flags & TW_F_TS) || !seg->opt.has_ts)
        return false;
    if ((int32_t)(r->ts_recent - seg->opt.ts_val) <= PAWS_WINDOW)
        return false;
    uint32_t age = now_ms(c) - r->ts_stamp_ms;
    if (age >= PAWS_24DAYS_MS)
        return false; /* TS.Recent too old to trust (RFC 7323 §5.5) */
    if ((seg->flags & SYNACK_RST) && age >= PAWS_MSL_MS)
        return false;
    return true;
}

tw_result tcp_tw_input(tcp_ctx *c, const synack_addr *src, const synack_addr *dst,
                       const wire_tcp *seg, bool listener, uint32_t *isn)
{
    tcp_tw_table *tw = c->tw;
    uint32_t i = tw_find(c, dst, seg->dport, src, seg->sport);
    if (!i)
        return TW_NONE;
    tcp_tw *r = rec(tw, i);
    if (c->trace) {
        tcp_tuple who = tcp_tuple_in(src, dst, seg);
        tcp_trace_seg(c, NULL, SYNACK_TRACE_SEG_IN, seg, false, &who);
    }
    bool rst = seg->flags & SYNACK_RST, syn = seg->flags & SYNACK_SYN;
    bool ack = seg->flags & SYNACK_ACK, fin = seg->flags & SYNACK_FIN;
    uint32_t seglen = (uint32_t)seg->payload_len + syn + fin;
    bool paws = paws_reject(c, r, seg);

    /* In window, nothing to consume: a RST or a bare ACK. */
    if (!paws && seg->seq == r->rcv_nxt && (seglen == 0 || rst)) {
        if (rst) {
            if (!c->sys->tcp_rfc1337) { /* TIME-WAIT assassination (RFC 1337 hazard H1..H3) */
                c->ctr->tcp_tw_kill_rst++;
                tw_kill(c, i, SYNACK_CAUSE_TW_RST);
            } else {
                tw_drop(c, i, SYNACK_DROP_TW_RST_IGNORED);
            }
            return TW_DONE;
        }
        if (seg->opt.has_ts && (r->flags & TW_F_TS)) {
            r->ts_recent = seg->opt.ts_val;
            r->ts_stamp_ms = now_ms(c);
        }
        return TW_DONE;
    }

    /* A SYN may start a new incarnation (RFC 1122 §4.2.2.13, RFC 6191):
     * its sequence number lies beyond RCV.NXT, or its timestamp is newer
     * than TS.Recent. Our ISN then starts above the old SND.NXT. */
    if (syn && !rst && !ack && !paws && listener &&
        (seq_gt(seg->seq, r->rcv_nxt) ||
         (seg->opt.has_ts && (r->flags & TW_F_TS) &&
          (int32_t)(r->ts_recent - seg->opt.ts_val) < 0))) {
        uint32_t n = r->snd_nxt + 65535 + 2;
        *isn = n ? n : 1;
        c->ctr->tcp_tw_syn_reopen++;
        tw_kill(c, i, SYNACK_CAUSE_TW_REOPENED);
        return TW_SYN;
    }

    if (paws) {
        c->ctr->tcp_tw_paws_rejected++;
        tw_drop(c, i, SYNACK_DROP_TW_PAWS);
    }
    if (rst) {
        tw_drop(c, i, SYNACK_DROP_TW_RST_OUT_OF_WINDOW);
        return TW_DONE;
    }
    /* The only thing expected here is the peer's FIN again: our last ACK
     * was lost. Restart 2MSL (on any ACK, as Linux does) and ACK. */
    if (paws || ack)
        tw_restart(c, i);
    if (fin && seg->seq + seg->payload_len + 1 == r->rcv_nxt)
        c->ctr->tcp_tw_fin_reacked++;
    /* Duplicate ACKs for pure ACKs and SYNs are rate-limited (Linux's
     * tcp_invalid_ratelimit) so two confused ends cannot ACK each other
     * forever; data and FINs are always answered. */
    if (seg->payload_len == 0 || syn) {
        uint32_t now = now_ms(c);
        if (r->last_oow_ms && now - r->last_oow_ms < c->sys->tcp_invalid_ratelimit) {
            c->ctr->tcp_tw_ack_skipped++;
            tw_drop(c, i, SYNACK_DROP_TW_ACK_RATELIMITED);
            return TW_DONE;
        }
        r->last_oow_ms = now ? now : 1;
    }
    tw_send_ack(c, i);
    return TW_DONE;
}
