/* busy_poll.c — the adaptive busy-poll window (busy_poll.h). */
#include "busy_poll.h"

void busy_poll_init(busy_poll *p, uint64_t start_ns, uint64_t max_ns)
{
    p->max = max_ns;
    p->start = start_ns < max_ns ? start_ns : max_ns;
    p->ns = p->start;
}

void busy_poll_learn(busy_poll *p, uint64_t slept_ns, int got_events)
{
    if (slept_ns > p->max) {
        /* Longer than any window would have polled: polling was wasted. */
        uint64_t half = p->ns / 2;
        p->ns = half > p->start ? half : p->start;
    } else if (got_events) {
        /* The events came soon after the window closed: it was too short.
         * (A short sleep that a timer ended says nothing about traffic.) */
        uint64_t twice = p->ns * 2;
        p->ns = twice < p->max ? twice : p->max;
    }
}
