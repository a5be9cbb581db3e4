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
    /* L = 2 SMSS (RFC 3465 §2.2): with an ACK for every second segment
     * the window still doubles each round trip. */
    uint32_t limit = 2u * t->opts.snd_mss;
    uint32_t grow = acked < limit ? acked : limit;
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
