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
    /* Except in the slow start after a timeout: an ACK then often covers
     * what the go-back-N copy filled plus all the peer held above it,
     * which says nothing about what left the network in the last round
     * trip (RFC 3465 §2.3), and would let a line-rate burst of ssthresh
     * out. There L stays 2 SMSS, as before (§2.3 even asks for 1). */
    if (t->cc.after_rto && grow > 2u * t->opts.snd_mss)
        grow = 2u * t->opts.snd_mss;
    uint32_t room = t->cc.ssthresh > t->cc.cwnd ? t->cc.ssthresh - t->cc.cwnd : 0;
    if (grow >= room) {
        t->cc.cwnd += room;
        return acked - room; /* the rest counts in congestion avoidance */
    }
    t->cc.cwnd += grow;
    return 0;
}

uint32_t cc_flight_size(const tcb *t)
{
    uint32_t flight = t->snd.max - t->snd.una;
    return flight < t->cc.cwnd ? flight : t->cc.cwnd;
}
