/* listen.c — listeners: the listener list, a SYN arriving in LISTEN
 * (RFC 9293 §3.10.7.2) and the child it creates, and the accept queue with
 * its one enqueue, unlink and dequeue. A child counts in its listener's SYN
 * queue from its SYN until the handshake completes, then sits in the accept
 * queue until the application accepts it. */
#include "base/prefix.h"
#include "tcp/cc.h"
#include "tcp/tcp.h"
#include "tcp/timewait.h"

#include <errno.h>

/* ------------------------------------------------------------ the listener list */

void listen_add(tcb *l)
{
    tcp_ctx *c = l->ctx;
    l->qnext = c->listeners;
    c->listeners = l;
    l->is.listed = true;
}

void listen_remove(tcb *l)
{
    if (!l->is.listed)
        return;
    tcb **pp = &l->ctx->listeners;
    while (*pp && *pp != l)
        pp = &(*pp)->qnext;
    if (*pp)
        *pp = l->qnext;
    l->is.listed = false;
}

/* A listener's laddr.family says which SYNs it takes: 0 both families
 * (like Linux's [::] without IPV6_V6ONLY), or only its own. One bound to
 * the family wins over one taking both. family 0: any listener. */
tcb *listen_find(tcp_ctx *c, int family, uint16_t port)
{
    tcb *both = NULL;
    for (tcb *l = c->listeners; l; l = l->qnext) {
        if (l->lport != port || l->state != SYNACK_LISTEN || l->listen.any)
            continue;
        if (l->laddr.family == family || family == 0)
            return l;
        if (l->laddr.family == 0)
            both = l;
    }
    return both;
}

/* Linear, as listen_find: a relay has one or a few of these. */
tcb *listen_find_any(tcp_ctx *c, const synack_addr *dst, uint16_t port)
{
    for (tcb *l = c->listeners; l; l = l->qnext) {
        if (!l->listen.any || l->state != SYNACK_LISTEN || port < l->listen.port_lo ||
            port > l->listen.port_hi)
            continue;
        if (prefix_covers(&l->laddr, l->listen.any_plen, dst))
            return l;
    }
    return NULL;
}

/* ------------------------------------------------------------ the accept queue */

bool listen_accept_queue_full(const tcb *l)
{
    return l->listen.accept_queued >= (uint32_t)l->listen.backlog;
}

/* The SYN queue holds as many half-open connections as the backlog (Linux's
 * inet_csk_reqsk_queue_is_full), and never more than tcp_max_syn_backlog. */
static bool syn_queue_full(const tcb *l)
{
    return l->listen.syn_queued >= (uint32_t)l->listen.backlog ||
           l->listen.syn_queued >= l->ctx->sys->tcp_max_syn_backlog;
}

/* The handshake completed: from the SYN queue to the accept queue. */
void listen_enqueue(tcb *l, tcb *t)
{
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

void listen_unlink(tcb *t)
{
    tcb *l = t->parent;
    if (!l)
        return;
    if (t->is.in_accept_queue) {
        tcb **pp = &l->listen.head, *prev = NULL;
        while (*pp && *pp != t) {
            prev = *pp;
            pp = &(*pp)->qnext;
        }
        if (*pp) {
            *pp = t->qnext;
            if (l->listen.tail == t)
                l->listen.tail = prev;
            l->listen.accept_queued--;
        }
        t->is.in_accept_queue = false;
    } else if (l->listen.syn_queued) {
        l->listen.syn_queued--;
    }
    t->parent = NULL;
}

tcb *listen_dequeue(tcb *l)
{
    tcb *a = l->listen.head;
    if (!a)
        return NULL;
    l->listen.head = a->qnext;
    if (!l->listen.head)
        l->listen.tail = NULL;
    l->listen.accept_queued--;
    a->qnext = NULL;
    a->is.in_accept_queue = false;
    a->parent = NULL;
    return a;
}

bool listen_child_may_complete(tcb *t)
{
    tcb *l = t->parent;
    if (l && listen_accept_queue_full(l)) {
        tcp_ctx *c = t->ctx;
        c->ctr->tcp_listen_overflows++;
        c->ctr->tcp_listen_drops++;
        tcp_drop(c, t, SYNACK_DROP_ACCEPT_QUEUE_FULL);
        return false; /* the peer retransmits its ACK; we retry then */
    }
    return true;
}

void listen_child_completed(tcb *t)
{
    if (t->parent)
        listen_enqueue(t->parent, t);
    else
        tcb_signal(t, SYNACK_EV_CONNECTED | SYNACK_EV_WRITABLE);
}

/* Drop a listener's children: half-open ones silently, queued ones by RST. */
void listen_close(tcb *l)
{
    tcp_ctx *c = l->ctx;
    while (l->listen.head) {
        tcb *a = l->listen.head;
        tcp_send_rst_for(a);
        tcb_close(a, -ECONNRESET, SYNACK_CAUSE_LISTENER_CLOSED); /* unlinks it from the queue */
    }
    for (uint32_t i = 0; i < c->nbuckets; i++) {
        for (tcb *t = c->buckets[i], *next; t; t = next) {
            next = t->hnext;
            if (t->parent == l)
                tcb_close(t, 0, SYNACK_CAUSE_LISTENER_CLOSED);
        }
    }
    tcb_close(l, 0, SYNACK_CAUSE_CLOSE);
}

/* ------------------------------------------------------------ §3.10.7.2 a SYN in LISTEN */

/* Options set on a listener carry over to its children, as in Linux. */
static void inherit(tcb *t, const tcb *l)
{
    t->snd.buf_size = l->snd.buf_size;
    t->rcv.buf_size = l->rcv.buf_size;
    t->opts.adv_mss = l->opts.adv_mss;
    t->sockopt = l->sockopt;
    t->sockopt.reuseaddr = false;
    if (t->cc.ops != l->cc.ops) { /* TCP_CONGESTION */
        t->cc.ops = l->cc.ops;
        t->cc.ops->init(t);
    }
}

tcb *listen_child_new(tcb *l, const synack_addr *src, const synack_addr *dst,
                      const wire_tcp *seg, const wire_tcp *syn, uint32_t iss)
{
    tcp_ctx *c = l->ctx;
    tcb *t = tcb_new(c);
    if (!t)
        return NULL;
    t->laddr = *dst;
    t->lport = seg->dport;
    t->raddr = *src;
    t->rport = seg->sport;
    t->is.passive = true;
    t->parent = l;
    inherit(t, l);
    tcb_fit_mss_to_family(t);
    t->opts.rcv_wscale = tcp_rcv_wscale(c);
    tcp_negotiate(t, syn);
    t->opts.ts_offset = tcp_ts_offset(c, &t->laddr, t->lport, &t->raddr, t->rport);
    tcb_set_iss(t, iss);
    return t;
}

void listen_child_file(tcb *l, tcb *t)
{
    tcb_hash_insert(t);
    l->listen.syn_queued++; /* until the handshake completes (listen_enqueue) */
    l->ctx->ctr->tcp_passive_opens++;
    tcb_set_state(t, SYNACK_LISTEN, SYNACK_CAUSE_NONE); /* where its listener stands */
}

/* A child for the SYN, in SYN-RECEIVED with its SYN,ACK sent -- or, for a
 * hold_syn listener, unanswered and straight in the accept queue: the
 * application learns of the SYN first and answers it with
 * synack_accept_confirm or synack_accept_refuse (a relay connects onwards
 * before it accepts, so that a refusal there is a refusal here). NULL when
 * there is no memory for it. */
static tcb *new_child(tcb *l, const synack_addr *src, const synack_addr *dst, const wire_tcp *seg,
                      uint32_t tw_isn)
{
    tcp_ctx *c = l->ctx;
    uint32_t iss = tw_isn ? tw_isn : tcp_isn(c, dst, seg->dport, src, seg->sport);
    tcb *t = listen_child_new(l, src, dst, seg, seg, iss);
    if (!t)
        return NULL;
    t->snd.wnd = seg->wnd; /* a SYN's window is never scaled (RFC 7323 §2.2) */
    t->snd.wl1 = seg->seq;
    t->snd.max_wnd = t->snd.wnd;
    listen_child_file(l, t);
    if (c->trace)
        tcp_trace_seg(c, t, SYNACK_TRACE_SEG_IN, seg, false, NULL);
    tcb_set_state(t, SYNACK_SYN_RECEIVED, SYNACK_CAUSE_RCV_SYN);
    if (l->listen.hold_syn) {
        t->is.held = true;
        listen_enqueue(l, t);
        return t;
    }
    tcp_send_syn(t, false);
    return t;
}

/* LAB ONLY (`synack lab why-three-way`): a two-way handshake, where the
 * SYN,ACK alone opens the connection. Real TCP never does this: an old
 * duplicate SYN would open a connection nobody asked for. */
static void lab_two_way_open(tcb *l, tcb *t)
{
    t->snd.una = t->snd.nxt;
    t->rtt.timing = false;
    t->timers.rto_at = UINT64_MAX;
    tcp_arm_rto(t);
    tcb_set_state(t, SYNACK_ESTABLISHED, SYNACK_CAUSE_LAB_TWO_WAY_HANDSHAKE);
    listen_enqueue(l, t);
}

/* A SYN that finds no room: a SYN cookie if they are on, else dropped. */
static void syn_queue_overflow(tcb *l, const synack_addr *src, const synack_addr *dst,
                               const wire_tcp *seg)
{
    tcp_ctx *c = l->ctx;
    l->listen.overflow_at = c->now ? c->now : 1;
    if (c->sys->tcp_syncookies && !l->listen.hold_syn) { /* a cookie cannot wait */
        syncookie_send(l, src, dst, seg);
        return;
    }
    c->ctr->tcp_listen_drops++;
    tcp_drop(c, l, SYNACK_DROP_LISTEN_QUEUE_FULL);
}

tcb *listen_input(tcb *l, const synack_addr *src, const synack_addr *dst, const wire_tcp *seg,
                  uint32_t tw_isn)
{
    tcp_ctx *c = l->ctx;
    if (seg->flags & SYNACK_RST)
        return NULL;
    if (seg->flags & SYNACK_ACK) {
        tcb *child = NULL;
        if (!(seg->flags & SYNACK_SYN) && syncookie_ack(l, src, dst, seg, &child) != COOKIE_NOT)
            return child;
        tcp_send_reset(c, dst, seg->dport, src, seg->sport, seg->ack, 0, 0);
        return NULL;
    }
    if (!(seg->flags & SYNACK_SYN))
        return NULL;
    if (seg->flags & SYNACK_FIN) { /* no way to open a connection: Linux drops it */
        c->ctr->tcp_listen_drops++;
        tcp_drop(c, l, SYNACK_DROP_SYN_FIN);
        return NULL;
    }
    if (!tw_isn && !tcp_tw_recycle_syn_ok(c, src, seg))
        return NULL; /* tcp_tw_recycle: silently dropped, counted TcpExtPAWSPassive */
    if (c->sys->tcp_max_connections && c->nconns >= c->sys->tcp_max_connections) {
        c->ctr->tcp_conn_limit_drops++;
        tcp_drop(c, l, SYNACK_DROP_CONNECTION_LIMIT);
        return NULL;
    }
    if (listen_accept_queue_full(l)) { /* no room even for a cookie's connection */
        c->ctr->tcp_listen_overflows++;
        c->ctr->tcp_listen_drops++;
        tcp_drop(c, l, SYNACK_DROP_LISTEN_QUEUE_FULL);
        return NULL;
    }
    if (syn_queue_full(l) || (c->sys->tcp_syncookies == 2 && !l->listen.hold_syn)) {
        syn_queue_overflow(l, src, dst, seg);
        return NULL;
    }
    tcb *t = new_child(l, src, dst, seg, tw_isn);
    if (t && !t->is.held && c->lab_two_way_handshake && !listen_accept_queue_full(l))
        lab_two_way_open(l, t);
    return NULL;
}
