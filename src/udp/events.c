/* events.c — UDP socket events: collected while the stack works, delivered
 * by udp_dispatch when the public call returns and the stack is consistent
 * (stack_leave, with TCP's), so a handler may call any function, close
 * included. */
#include "udp/udp.h"

void udp_signal(synack_udp *u, unsigned events)
{
    udp_ctx *c = u->ctx;
    u->events |= events;
    if (u->on_evlist || !c->event)
        return;
    u->on_evlist = true;
    u->evnext = NULL;
    if (c->ev_tail)
        c->ev_tail->evnext = u;
    else
        c->ev_head = u;
    c->ev_tail = u;
}

/* Take `u` off the list (it is being closed). The list is short: the
 * sockets that had news during one call. */
void udp_unsignal(synack_udp *u)
{
    udp_ctx *c = u->ctx;
    if (!u->on_evlist)
        return;
    synack_udp *prev = NULL;
    for (synack_udp *e = c->ev_head; e; prev = e, e = e->evnext) {
        if (e != u)
            continue;
        if (prev)
            prev->evnext = u->evnext;
        else
            c->ev_head = u->evnext;
        if (c->ev_tail == u)
            c->ev_tail = prev;
        break;
    }
    u->on_evlist = false;
}

void udp_dispatch(udp_ctx *c)
{
    while (c->ev_head) {
        synack_udp *u = c->ev_head;
        c->ev_head = u->evnext;
        if (!c->ev_head)
            c->ev_tail = NULL;
        u->on_evlist = false;
        unsigned ev = u->events;
        u->events = 0;
        if (ev)
            c->event(c->event_ctx, u, ev); /* may close u: it is off the list */
    }
}
