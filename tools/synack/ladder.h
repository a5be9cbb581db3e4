/*
 * ladder.h — the ladder diagram (DESIGN.md §4): one row per TCP segment
 * between two hosts, at the time it was put on the link, with each side's
 * state in its own column.
 *
 * Feed it every simulator trace (ladder_observe) during a run, then render
 * it. Rows come from the frames on the link (so they show exactly what was
 * on the wire, lost frames included); the columns come from the stacks'
 * state-change traces.
 */
#ifndef SYNACK_TOOL_LADDER_H
#define SYNACK_TOOL_LADDER_H

#include <stdint.h>
#include <stdio.h>

#include "sim/sim.h"

typedef struct ladder ladder;

typedef struct ladder_style {
    int absolute; /* raw sequence numbers and timestamps (default: relative) */
    int ascii;    /* draw with - > < x instead of box-drawing characters    */
    int width;    /* target line width; 0 = 100                             */
} ladder_style;

/* A ladder between the hosts with these indices (left, right). */
ladder *ladder_new(int left_host, int right_host);
void ladder_free(ladder *l);

/* Record one trace event (ignores events of other hosts). */
void ladder_observe(ladder *l, const sim_trace *t);

/* Add a free-text note on a side's column at time t (0 = left, 1 = right),
 * e.g. what the application did: "close()", "connect: ECONNREFUSED". */
void ladder_note(ladder *l, uint64_t t_ns, int side, const char *text);

/* Print the diagram. */
void ladder_render(const ladder *l, FILE *out, const ladder_style *style);

typedef struct ladder_dir_stats {
    uint64_t segments;      /* TCP segments put on the link            */
    uint64_t payload_bytes; /* payload in them, retransmissions counted */
    uint64_t retransmits;   /* segments repeating sequence space        */
    uint64_t rto;           /* of which sent from a timer (RTO)         */
    uint64_t lost;          /* lost on the link                         */
} ladder_dir_stats;

/* Statistics of one direction: 0 = left to right, 1 = right to left. */
void ladder_stats(const ladder *l, int dir, ladder_dir_stats *out);

/* The endpoints seen (from the first segment), either family; all zero
 * when none yet. */
void ladder_endpoints(const ladder *l, synack_addr addr[2], uint16_t port[2]);

/*
 * Which state changes belong to the connection a ladder column shows: the
 * host's first connection that is not a listener, plus the listener's
 * LISTEN before that connection exists. Also used by the demo's results.
 */
typedef struct ladder_track {
    uint32_t main_id;
    int have_main;
    int state; /* last state shown (SYNACK_CLOSED initially) */
} ladder_track;

void ladder_track_init(ladder_track *tr);
/* 1 if `ev` (a SYNACK_TRACE_STATE event) is a change of the tracked
 * connection (updating tr->state), 0 if it is to be ignored. */
int ladder_track_event(ladder_track *tr, const synack_trace_event *ev);

#endif
