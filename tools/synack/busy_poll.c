/* busy_poll.c — the adaptive busy-poll window (busy_poll.h). */
#include "busy_poll.h"

void busy_poll_init(busy_poll *p, uint64_t start_ns, uint64_t max_ns)
{
    p->max = max_ns;
    p->start = start_ns < max_ns ? start_ns : max_ns;
    p->ns = p->start;
}

void busy_poll_learn(busy_poll *p, uint64_t gap_ns)
{
    if (gap_ns > p->max) {
        /* No window it may have would have caught it: polling was wasted. */
        uint64_t half = p->ns / 2;
        p->ns = half > p->start ? half : p->start;
    } else {
        /* A window up to max would have: it was too short. */
        uint64_t twice = p->ns * 2;
        p->ns = twice < p->max ? twice : p->max;
    }
}
