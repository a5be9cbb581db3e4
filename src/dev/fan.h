/*
 * fan.h — frames handed between the threads of a steered group (outside
 * the core): one inbox per member, each with an eventfd its loop sleeps
 * on. A multi-queue device delivers most frames to the right thread (the
 * kernel learns each flow's queue from the frames the owner sends), so
 * only the rest travel this way: the first SYN of a connection the kernel
 * hashed to another queue, ARP replies and neighbour advertisements that
 * every member must see.
 *
 * Any thread may push into any inbox; only its member drains it. An inbox
 * holds at most FAN_INBOX_BYTES of frames; more are dropped and counted,
 * as a full device queue drops them (TCP sends them again).
 */
#ifndef SYNACK_DEV_FAN_H
#define SYNACK_DEV_FAN_H

#include <stddef.h>
#include <stdint.h>

#define FAN_INBOX_BYTES (1u << 20)

typedef struct dev_fan dev_fan;

/* A fan for `n` members. NULL on failure (errno set). */
dev_fan *dev_fan_new(unsigned n);
void dev_fan_free(dev_fan *f);
unsigned dev_fan_size(const dev_fan *f);

/* The descriptor that becomes readable when member i's inbox has frames
 * or dev_fan_wake was called for it. */
int dev_fan_fd(const dev_fan *f, unsigned i);

/* Copy a frame into member `to`'s inbox and wake it. 0, or -1 when the
 * inbox is full (the frame is dropped and counted). */
int dev_fan_push(dev_fan *f, unsigned to, const void *frame, size_t len);
/* Wake member i without a frame (to make it look at shared state). */
void dev_fan_wake(dev_fan *f, unsigned i);

/* Member i: take every frame waiting in its inbox and hand each to
 * fn(ctx, frame, len). Returns the number of frames. */
size_t dev_fan_drain(dev_fan *f, unsigned i, void (*fn)(void *ctx, const void *frame, size_t len),
                     void *ctx);

/* Frames refused because member i's inbox was full. */
uint64_t dev_fan_dropped(dev_fan *f, unsigned i);

#endif
