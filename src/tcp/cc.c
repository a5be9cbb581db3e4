/* cc.c — choosing an algorithm and the slow start they share. */
#include "tcp/cc.h"
#include "tcp/tcp.h"

#include <string.h>

const cc_ops *cc_find(const char *name)
{
    if (!strcmp(name, "cubic"))
        return &cc_cubic;
    if (!strcmp(name, "reno") || !strcmp(name, "newreno"))
        return &cc_reno;
    return NULL;
}

uint32_t cc_slow_start(tcb *t, uint32_t acked)
{
    /* Grow by every byte acknowledged, up to ssthresh, as Linux does, not
     * by RFC 3465 §2.2's L = 2 SMSS per ACK. Receivers that acknowledge a
     * whole burst at once (GRO, synack's own per-burst ACKs) send one ACK
     * for many segments; with L the window would grow by two segments per
     * round trip instead of doubling. Counting bytes, not ACKs, keeps ACK
     * division from inflating it (RFC 3465 §2.1). */
    uint32_t grow = acked;
    uint32_t room = t->cc.ssthresh > t->cc.cwnd ? t->cc.ssthresh - t->cc.cwnd : 0;
    if (grow > room)
        grow = room;
    t->cc.cwnd += grow;
    return acked - grow;
}

uint32_t cc_flight_size(const tcb *t)
{
    uint32_t flight = t->snd.max - t->snd.una;
    return flight < t->cc.cwnd ? flight : t->cc.cwnd;
}
