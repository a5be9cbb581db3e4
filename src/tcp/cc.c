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
    uint32_t grow = acked < t->snd_mss ? acked : t->snd_mss;
    uint32_t room = t->ssthresh > t->cwnd ? t->ssthresh - t->cwnd : 0;
    if (grow > room)
        grow = room;
    t->cwnd += grow;
    return acked - grow;
}
