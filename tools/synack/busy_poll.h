/* busy_poll.h — how long an event loop polls without sleeping after
 * traffic, learnt from how long its sleeps turn out to be.
 *
 * A sleeping process's wake-up is what a short connection or a round trip
 * through a relay mostly waits for, so after events the loop polls for a
 * while instead of sleeping. How long is worth it depends on the traffic:
 * a host server that answers in 80 µs is missed by a 50 µs window every
 * time. The window adapts the way KVM's halt polling does: a sleep that
 * ended with events sooner than the most the window may be says the window
 * was too short (it doubles); a sleep longer than that says polling would
 * have been wasted (it halves, not below its start). */
#ifndef SYNACK_TOOL_BUSY_POLL_H
#define SYNACK_TOOL_BUSY_POLL_H

#include <stdint.h>

typedef struct busy_poll {
    uint64_t ns;    /* poll this long after the last events          */
    uint64_t start; /* the window's floor, and where it starts       */
    uint64_t max;   /* the most it grows to (0: never poll)          */
} busy_poll;

/* A window that starts at start_ns (capped at max_ns) and adapts up to
 * max_ns; max_ns 0 never polls. */
void busy_poll_init(busy_poll *p, uint64_t start_ns, uint64_t max_ns);

/* The loop slept slept_ns (it had polled the whole window, or the window
 * is 0) and woke with events (got_events) or by its timeout. */
void busy_poll_learn(busy_poll *p, uint64_t slept_ns, int got_events);

#endif
