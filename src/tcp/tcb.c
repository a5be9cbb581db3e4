/* tcb.c — connection records: the TCP context that owns them, creating a
 * record with the stack's defaults, and releasing and freeing it once
 * neither the application nor the protocol needs it. */
#include "tcp/cc.h"
#include "tcp/tcp.h"
#include "tcp/timewait.h"

#include <errno.h>
#include <string.h>

int tcp_ctx_init(tcp_ctx *c)
{
    c->timers.alloc = c->alloc;
    c->nbuckets = 256;
    c->buckets = mem_calloc(c->alloc, c->nbuckets, sizeof(*c->buckets));
    c->next_id = 1;
    if (!c->buckets || tcp_tw_init(c) != 0) {
        mem_free(c->alloc, c->buckets);
        return -1;
    }
    return 0;
}

void tcb_free(tcb *t)
{
    tcp_ctx *c = t->ctx;
    if (t->all_prev)
        t->all_prev->all_next = t->all_next;
    else
        c->all = t->all_next;
    if (t->all_next)
        t->all_next->all_prev = t->all_prev;
    tcp_buf_release(t, TCP_BUF_SEND);
    tcp_buf_release(t, TCP_BUF_RECV);
    tcp_ooo_clear(t);
    rack_release(t);
    tcp_snd_refs_free(t);
    mem_free(c->alloc, t);
}

void tcp_ctx_free(tcp_ctx *c)
{
    while (c->all)
        tcb_free(c->all);
    tcp_tw_free(c);
    tcp_buf_free_spares(c);
    rack_free_spares(c);
    tcp_snd_refs_free_spares(c);
    mem_free(c->alloc, c->buckets);
    heap_free(&c->timers);
}

void tcb_set_iss(tcb *t, uint32_t iss)
{
    t->snd.iss = iss;
    t->snd.una = t->snd.nxt = t->snd.max = iss;
    t->snd.buf_seq = iss + 1;
    t->sack.high_rxt = iss;
}

tcb *tcb_new(tcp_ctx *c)
{
    tcb *t = mem_calloc(c->alloc, 1, sizeof(*t));
    if (!t) {
        c->ctr->tcp_no_memory++;
        return NULL;
    }
    t->ctx = c;
    t->id = c->next_id++;
    t->all_next = c->all;
    if (c->all)
        c->all->all_prev = t;
    c->all = t;
    heap_node_init(&t->timers.node);
    t->timers.rto_at = t->timers.close_at = t->timers.delack_at = t->timers.keep_at = UINT64_MAX;
    t->cc.ops = cc_find(c->sys->tcp_congestion_control);
    if (!t->cc.ops)
        t->cc.ops = &cc_cubic;
    t->cc.ops->init(t);
    t->snd.buf_size = c->sys->tcp_wmem[1];
    t->rcv.buf_size = c->sys->tcp_rmem[1];
    t->opts.snd_wscale = t->opts.rcv_wscale = 0;
    t->opts.adv_mss = (uint16_t)(c->mtu - 40);
    t->opts.snd_mss = (uint16_t)c->sys->tcp_base_mss;
    rtt_init(t);
    return t;
}

void tcb_fit_mss_to_family(tcb *t)
{
    uint32_t max = t->ctx->mtu - tcp_net_hdr_len(t->raddr.family);
    if (t->opts.adv_mss > max)
        t->opts.adv_mss = (uint16_t)max;
}

uint32_t tcb_send_space(const tcb *t)
{
    return t->snd.buf.buf ? ring_free_space(&t->snd.buf) : tcp_buf_size_now(t, TCP_BUF_SEND);
}

void tcb_drop_buffers(tcb *t)
{
    tcp_buf_release(t, TCP_BUF_SEND);
    tcp_buf_release(t, TCP_BUF_RECV);
}

void tcb_maybe_release(tcb *t)
{
    tcp_ctx *c = t->ctx;
    if (t->is.dead || t->is.app_owned || t->is.in_accept_queue || t->state != SYNACK_CLOSED)
        return;
    tcb_hash_remove(t);
    listen_remove(t);
    heap_set(&c->timers, &t->timers.node, UINT64_MAX);
    if (t->is.counted_orphan)
        c->orphans--;
    t->is.dead = true;
    t->qnext = c->dead_head;
    c->dead_head = t;
}
