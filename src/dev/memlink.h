/*
 * memlink.h — an in-memory Ethernet link joining two stacks in one process,
 * with no simulated delay (outside the core, but makes no OS calls).
 *
 * Each side has an inbox: a byte ring of frame records. A stack's output
 * hook copies the frame into the other side's inbox (a segment's payload
 * straight from the sending stack's buffer, through output_v);
 * memlink_pump hands the queued frames to each stack (synack_input) in
 * batches and then runs both
 * stacks' timers (synack_poll) at the time the caller gives. Nothing is
 * allocated per frame. A frame that does not fit in a full inbox is dropped
 * and counted, like a full device queue; size the inboxes for the windows
 * in use (the default holds 8 MiB of frames per side) and there are none.
 *
 *     memlink *m = memlink_new(0);
 *     memlink_config(m, MEMLINK_A, &cfg_a);   // sets output hook and ctx
 *     synack_stack *a = synack_stack_new(&cfg_a, now);
 *     memlink_attach(m, MEMLINK_A, a);        // same for B
 *     ... app calls ...; memlink_pump(m, now, 0);
 *
 * Usage rules: a stack may be attached to one side only; frames output
 * before a side is attached still queue up and are delivered once it is.
 */
#ifndef SYNACK_DEV_MEMLINK_H
#define SYNACK_DEV_MEMLINK_H

#include <stddef.h>
#include <stdint.h>

#include "synack.h"

typedef struct memlink memlink;

enum { MEMLINK_A = 0, MEMLINK_B = 1 };

#define MEMLINK_DEFAULT_QUEUE (8u << 20)

typedef struct memlink_stats {
    uint64_t frames, bytes; /* handed to the stack on this side          */
    uint64_t queued;        /* accepted into this side's inbox           */
    uint64_t dropped;       /* refused: inbox full or frame too large    */
    uint32_t max_backlog;   /* most frames ever waiting in the inbox     */
} memlink_stats;

/* A link whose two inboxes each hold `queue_bytes` of frame records
 * (0 = MEMLINK_DEFAULT_QUEUE). NULL on allocation failure. */
memlink *memlink_new(size_t queue_bytes);
void memlink_free(memlink *m);

/* Point cfg's output hook at `side` of the link (frames go to the other
 * side's inbox). Call before synack_stack_new. */
void memlink_config(memlink *m, int side, synack_config *cfg);
/* The stack that receives the frames queued for `side`. */
void memlink_attach(memlink *m, int side, synack_stack *s);
synack_stack *memlink_stack(const memlink *m, int side);

/* The output hook itself (ctx = what memlink_config stored). */
void memlink_output(void *ctx, const void *frame, size_t len);

/* Deliver frames: up to `batch` frames (0 = all queued when the turn
 * starts) to side A, then to side B, then synack_poll both at `now_ns`.
 * Returns the number of frames delivered. */
size_t memlink_pump(memlink *m, uint64_t now_ns, size_t batch);
/* Pump until no frame is waiting (at most `max_rounds` rounds, 0 = no
 * limit). Returns the frames delivered. */
size_t memlink_drain(memlink *m, uint64_t now_ns, size_t max_rounds);

/* Frames waiting in `side`'s inbox, and in both. */
size_t memlink_pending(const memlink *m, int side);
size_t memlink_pending_all(const memlink *m);

const memlink_stats *memlink_get_stats(const memlink *m, int side);

#endif
