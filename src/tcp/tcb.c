/* tcb.c — connection records: creation, the state-change function, the
 * connection table, listeners, timers and event delivery. */
#include "tcp/cc.h"
#include "tcp/tcp.h"
#include "tcp/timewait.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tcp_ctx_init(tcp_ctx *c)
{
    c->nbuckets = 256;
    c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
    c->next_id = 1;
    if (!c->buckets || tcp_tw_init(c) != 0) {
        free(c->buckets);
        return -1;
    }
    return 0;
}

static void tcb_free(tcb *t)
{
    tcp_ctx *c = t->ctx;
    if (t->all_prev)
        t->all_prev->all_next = t->all_next;
    else
        c->all = t->all_next;
    if (t->all_next)
        t->all_next->all_prev = t->all_prev;
    ring_free(&t->snd.buf);
    ring_free(&t->rcv.buf);
    free(t);
}

void tcp_ctx_free(tcp_ctx *c)
{
    while (c->all)
        tcb_free(c->all);
    tcp_tw_free(c);
    free(c->buckets);
    heap_free(&c->timers);
}

tcb *tcb_new(tcp_ctx *c)
{
    tcb *t = calloc(1, sizeof(*t));
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

void tcb_set_state(tcb *t, int state, synack_cause cause)
{
    tcp_ctx *c = t->ctx;
    int old = t->state;
    if (old == state)
        return;
    t->state = (uint8_t)state;
    if (state == SYNACK_TIME_WAIT)
        c->ctr->tcp_time_waited++;
    if (c->trace && cause != SYNACK_CAUSE_NONE) {
        tcp_tuple who = {t->id, t->lip, t->rip, t->lport, t->rport};
        tcp_trace_state(c, &who, old, state, cause);
    }
}

void tcb_drop_buffers(tcb *t)
{
    ring_free(&t->snd.buf);
    ring_free(&t->rcv.buf);
    t->rcv.nooo = 0;
}

void tcb_close(tcb *t, int err, synack_cause cause)
{
    if (err && !t->err)
        t->err = err;
    t->timers.rto_at = t->timers.close_at = t->timers.delack_at = t->timers.keep_at = UINT64_MAX;
    tcb_schedule(t);
    tcb_hash_remove(t);
    tcb_set_state(t, SYNACK_CLOSED, cause);
    tcb_signal(t, SYNACK_EV_CLOSED | (err ? SYNACK_EV_ERROR : 0) | SYNACK_EV_READABLE |
                      SYNACK_EV_WRITABLE);
    listen_unlink(t); /* a child that closed before accept */
    tcb_maybe_release(t);
}

void tcb_maybe_release(tcb *t)
{
    tcp_ctx *c = t->ctx;
    if (t->is.dead || t->is.app_owned || t->is.in_accept_queue || t->state != SYNACK_CLOSED)
        return;
    tcb_hash_remove(t);
    listen_remove(t);
    heap_set(&c->timers, &t->timers.node, UINT64_MAX);
    t->is.dead = true;
    t->qnext = c->dead_head;
    c->dead_head = t;
}

/* ------------------------------------------------------------ the connection table */

static uint32_t tuple_hash(const tcp_ctx *c, uint32_t lip, uint16_t lport, uint32_t rip,
                           uint16_t rport)
{
    uint32_t key[3] = {lip, rip, (uint32_t)lport << 16 | rport};
    return (uint32_t)siphash24(&c->hash_key, key, sizeof(key));
}

static void grow_table(tcp_ctx *c)
{
    uint32_t n = c->nbuckets * 2;
    tcb **b = calloc(n, sizeof(*b));
    if (!b)
        return; /* keep the old table: slower, still correct */
    for (uint32_t i = 0; i < c->nbuckets; i++) {
        for (tcb *t = c->buckets[i], *next; t; t = next) {
            next = t->hnext;
            uint32_t h = t->hash & (n - 1);
            t->hnext = b[h];
            b[h] = t;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

int tcb_hash_insert(tcb *t)
{
    tcp_ctx *c = t->ctx;
    if (t->is.hashed)
        return 0;
    if (c->nconns >= c->nbuckets)
        grow_table(c);
    t->hash = tuple_hash(c, t->lip, t->lport, t->rip, t->rport);
    uint32_t h = t->hash & (c->nbuckets - 1);
    t->hnext = c->buckets[h];
    c->buckets[h] = t;
    t->is.hashed = true;
    c->nconns++;
    return 0;
}

void tcb_hash_remove(tcb *t)
{
    tcp_ctx *c = t->ctx;
    if (!t->is.hashed)
        return;
    if (c->last_hit == t)
        c->last_hit = NULL;
    uint32_t h = t->hash & (c->nbuckets - 1);
    for (tcb **pp = &c->buckets[h]; *pp; pp = &(*pp)->hnext) {
        if (*pp == t) {
            *pp = t->hnext;
            break;
        }
    }
    t->hnext = NULL;
    t->is.hashed = false;
    c->nconns--;
}

tcb *tcb_lookup(tcp_ctx *c, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport)
{
    /* Segments come in trains: the last connection found is the likeliest. */
    tcb *last = c->last_hit;
    if (last && last->lport == lport && last->rport == rport && last->rip == rip &&
        last->lip == lip)
        return last;
    uint32_t h = tuple_hash(c, lip, lport, rip, rport) & (c->nbuckets - 1);
    for (tcb *t = c->buckets[h]; t; t = t->hnext)
        if (t->lport == lport && t->rport == rport && t->rip == rip && t->lip == lip)
            return c->last_hit = t;
    return NULL;
}

bool tcb_port_in_use(tcp_ctx *c, uint16_t port, bool reuseaddr, const tcb *self)
{
    for (tcb *l = c->listeners; l; l = l->qnext)
        if (l != self && l->lport == port)
            return true;
    for (uint32_t i = 0; i < c->nbuckets; i++)
        for (tcb *t = c->buckets[i]; t; t = t->hnext)
            if (t != self && t->lport == port)
                return true;
    /* TIME-WAIT entries hold their port unless SO_REUSEADDR (Linux). */
    return !reuseaddr && tcp_tw_port_held(c, port);
}

/* ------------------------------------------------------------ timers and events */

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

void tcb_signal(tcb *t, unsigned events)
{
    tcp_ctx *c = t->ctx;
    t->events |= events;
    if (t->is.on_evlist || !c->event)
        return;
    t->is.on_evlist = true;
    t->evnext = NULL;
    if (c->ev_tail)
        c->ev_tail->evnext = t;
    else
        c->ev_head = t;
    c->ev_tail = t;
}

void tcp_dispatch(tcp_ctx *c)
{
    while (c->ev_head) {
        tcb *t = c->ev_head;
        c->ev_head = t->evnext;
        if (!c->ev_head)
            c->ev_tail = NULL;
        t->is.on_evlist = false;
        unsigned ev = t->events;
        t->events = 0;
        /* Only handles the application holds (or is about to accept) get events. */
        if (ev && !t->is.dead && (t->is.app_owned || t->state == SYNACK_LISTEN))
            c->event(c->event_ctx, t, ev);
    }
    /* ACKs owed to peers whose data the application took without
     * answering in the same turn (see tcp_user_recv). */
    while (c->flush_head) {
        tcb *t = c->flush_head;
        c->flush_head = t->flushnext;
        t->is.on_flushlist = false;
        if (!t->is.dead && t->rcv.ack_pending && tcb_synchronized(t) && t->state != SYNACK_TIME_WAIT) {
            t->rcv.ack_now = true;
            tcp_output(t);
        }
    }
    while (c->dead_head) {
        tcb *d = c->dead_head;
        c->dead_head = d->qnext;
        tcb_free(d);
    }
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
