/* events.c — socket events: collected while the stack works, delivered when
 * the public call returns and the stack is consistent (synack.h), together
 * with the ACKs owed to readers and the frees of released records. */
#include "tcp/tcp.h"

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

void tcb_owe_ack(tcb *t)
{
    if (t->is.on_flushlist)
        return;
    t->is.on_flushlist = true;
    t->flushnext = t->ctx->flush_head;
    t->ctx->flush_head = t;
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
     * answering in the same turn (see tcp_user_recv), and those a burst's
     * in-order data earned (input.c). An answer the application gave in
     * its event handler carried them already. */
    while (c->flush_head) {
        tcb *t = c->flush_head;
        c->flush_head = t->flushnext;
        t->is.on_flushlist = false;
        if (!t->is.dead && t->rcv.ack_pending && tcb_synchronized(t) &&
            t->state != SYNACK_TIME_WAIT) {
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
