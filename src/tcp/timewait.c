/* timewait.c — entering TIME-WAIT: the full connection gives way to a
 * compact record (timewait.h), and the application's handle of it, if it
 * still holds one, follows the record to its end. */
#include "tcp/tw_table.h"

#include "base/seq.h"

/* The record carries on what TIME-WAIT needs of the connection. */
static void fill_record(tcp_ctx *c, tcp_tw *r, const tcb *t)
{
    r->id = t->id;
    r->lport = t->lport;
    r->rport = t->rport;
    r->snd_nxt = t->snd.max;
    r->rcv_nxt = t->rcv.nxt;
    r->ts_recent = t->opts.ts_recent;
    r->ts_offset = t->opts.ts_offset;
    r->ts_stamp_ms = now_ms(c);
    uint32_t adv = seq_gt(t->rcv.adv, t->rcv.nxt) ? t->rcv.adv - t->rcv.nxt : 0;
    adv >>= t->opts.rcv_wscale;
    r->wnd = (uint16_t)(adv > 65535 ? 65535 : adv);
    r->flags = (uint8_t)((r->flags & (TW_F_V6 | TW_F_LOCAL)) | (t->opts.ts_ok ? TW_F_TS : 0)); /* addresses set */
}

/* Give up the full connection: timers, table slot, buffers (the receive
 * buffer only once read). A handle the application holds stays, detached. */
static void give_up_connection(tcb *t, tcp_tw *r)
{
    tcp_tw_table *tw = t->ctx->tw;
    tcb_timers_off(t);
    tcb_hash_remove(t);
    tcp_buf_release(t, TCP_BUF_SEND);
    tcp_snd_refs_drop(t); /* all acknowledged by now: released already */
    rack_release(t);
    if (t->rcv.buf.used == 0 || t->is.orphan)
        tcp_buf_release(t, TCP_BUF_RECV);
    tcp_ooo_clear(t);
    t->rcv.ack_pending = false;
    if (t->is.app_owned && !t->is.dead) {
        r->flags |= TW_F_HANDLE;
        t->is.tw_handle = true;
        t->tw_next = tw->handles;
        tw->handles = t;
    } else {
        tcb_set_state(t, SYNACK_CLOSED, SYNACK_CAUSE_NONE); /* the record carries it on */
        tcb_maybe_release(t);
    }
}

/* No room for a record: skip TIME-WAIT (Linux: "TCP: time wait bucket
 * table overflow"), after the ACK that is owed. */
static void skip_time_wait(tcb *t, synack_cause cause)
{
    if (t->rcv.ack_pending)
        tcp_send_ack(t);
    tcb_close(t, 0, cause);
}

void tcp_tw_enter(tcb *t, synack_cause cause)
{
    tcp_ctx *c = t->ctx;
    if (c->tw->count >= c->sys->tcp_max_tw_buckets) {
        c->ctr->tcp_tw_overflow++;
        skip_time_wait(t, SYNACK_CAUSE_TW_TABLE_FULL);
        return;
    }
    uint32_t i = tw_alloc(c);
    if (i && (tw_set_peer(c, i, &t->raddr) != 0 || tw_set_local(c, i, &t->laddr) != 0)) {
        tw_unalloc(c, i);
        i = 0;
    }
    if (!i) {
        c->ctr->tcp_no_memory++;
        skip_time_wait(t, SYNACK_CAUSE_TW_NO_MEMORY);
        return;
    }
    tcb_set_state(t, SYNACK_TIME_WAIT, cause);
    if (t->rcv.ack_pending)
        tcp_send_ack(t); /* the ACK of the FIN that brought us here, sent in TIME-WAIT */
    tcp_tw *r = rec(c->tw, i);
    fill_record(c, r, t);
    uint32_t len = tw_length_ms(c);
    bool recycle = tw_recycle_shorten(t, r, &len);
    r->expire_ms = now_ms(c) + len + (c->now % NS_PER_MS ? 1 : 0);
    tw_file(c, i, recycle);
    give_up_connection(t, r);
}

void tcp_tw_drop_handle(tcb *t, bool kill)
{
    tcp_ctx *c = t->ctx;
    tcp_tw_table *tw = c->tw;
    tcp_buf_release(t, TCP_BUF_RECV);
    if (!t->is.tw_handle)
        return;
    uint32_t i = tw_find(c, &t->laddr, t->lport, &t->raddr, t->rport);
    if (i && rec(tw, i)->id == t->id && kill) {
        tw_kill(c, i, SYNACK_CAUSE_ABORT); /* turns the handle CLOSED with it */
        return;
    }
    tw_find_handle(tw, t->id, true);
    if (i && rec(tw, i)->id == t->id)
        rec(tw, i)->flags &= (uint8_t)~TW_F_HANDLE;
    tcb_set_state(t, SYNACK_CLOSED, SYNACK_CAUSE_NONE); /* the record goes on alone */
}
