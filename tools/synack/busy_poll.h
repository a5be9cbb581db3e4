/* busy_poll.h — how long an event loop polls without sleeping after
 * traffic, learnt from the gaps between its bursts of events.
 *
 * A sleeping process's wake-up is what a short connection or a round trip
 * through a relay mostly waits for, so after events the loop polls for a
 * while instead of sleeping. How long is worth it depends on the traffic:
 * a host server that answers in 80 µs is missed by a 50 µs window every
 * time. The window adapts much as KVM's halt polling does: a gap between
 * bursts that the window missed (the loop slept) but that was no longer
 * than the most the window may be says the window was too short (it
 * doubles); a gap longer than that says polling through it would have been
 * wasted (it halves, not below where it started). Gaps the window caught
 * teach nothing. */
#ifndef SYNACK_TOOL_BUSY_POLL_H
#define SYNACK_TOOL_BUSY_POLL_H

#include <stdint.h>

typedef struct busy_poll {
    uint64_t ns;    /* poll this long after the last events          */
    uint64_t start; /* the window's floor, and where it starts       */
    uint64_t max;   /* the most it grows to (0: never poll)          */
} busy_poll;

/* A window that starts at start_ns (or at max_ns, if less: then it stays
 * there) and adapts up to max_ns; max_ns 0 never polls. */
void busy_poll_init(busy_poll *p, uint64_t start_ns, uint64_t max_ns);

/* Events came gap_ns after the last ones, and the loop slept in between
 * (the window had closed). Timer wake-ups inside a gap are not the end of
 * it: call this once per gap, when events end it. */
void busy_poll_learn(busy_poll *p, uint64_t gap_ns);

#endif
