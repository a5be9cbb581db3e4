/*
 * loop.h — an epoll-based runner that drives one stack from one device with
 * the real monotonic clock (outside the core).
 *
 * Each turn: run the stack's timers, let the application work (its `tick`),
 * flush the frames the stack produced, then sleep in epoll until the device
 * is readable or synack_next_deadline comes due (whichever is first); read a
 * batch of frames into the stack and go round again. SIGINT and SIGTERM are
 * blocked outside the sleep and only delivered inside it (epoll_pwait), so a
 * signal never gets lost between a check and the sleep.
 */
#ifndef SYNACK_DEV_LOOP_H
#define SYNACK_DEV_LOOP_H

#include <signal.h>
#include <stdint.h>

#include "dev/dev.h"
#include "dev/pcap.h"
#include "synack.h"

typedef struct dev_loop dev_loop;

/* The application's turn: return nonzero to end the loop. `now` is the
 * monotonic time in ns. */
typedef int (*dev_loop_tick_fn)(void *ctx, uint64_t now);

/* A loop over device `d` (not owned). */
dev_loop *dev_loop_new(dev *d);
void dev_loop_free(dev_loop *l);

/* The output hook to put in synack_config (with the loop as output_ctx). */
void dev_loop_output(void *loop, const void *frame, size_t len);
/* And the output_v hook: a TCP segment's pieces go to the device as they
 * are (dev_sendv); joined first when they are to be captured or impaired. */
void dev_loop_output_v(void *loop, const synack_iov *v, int n, size_t len);

/* Record every frame in and out to `w` (not owned), stamped with the real
 * time of day so tshark shows wall-clock times. NULL stops. */
void dev_loop_set_pcap(dev_loop *l, pcap_writer *w);

/* Link impairment in user space, like `tc qdisc ... netem` for kernels
 * without sch_netem: applied to every frame both ways between the device
 * and the stack. Each frame is dropped with probability `loss`, sent twice
 * with probability `dup`, and otherwise delayed by `delay_ns` except that
 * with probability `reorder` it goes at once, overtaking the delayed ones
 * (netem's meaning of reorder). At most `limit` frames wait per direction
 * (netem's default 1000); more are dropped. */
typedef struct dev_impair {
    uint64_t delay_ns;
    double loss, reorder, dup;
    uint64_t seed;
    unsigned limit;
} dev_impair;
/* Turn impairment on (a copy is kept). Returns 0 or -1 (out of memory). */
int dev_loop_set_impair(dev_loop *l, const dev_impair *imp);

/* The stack to drive. Set it before dev_loop_run. */
void dev_loop_set_stack(dev_loop *l, synack_stack *s);

/* One loop of a steered group (issue 13: every core): this loop's stack
 * is member `index` of the group `steer` describes (its cfg.steer), on its
 * own queue of a multi-queue device. A frame read here that belongs to
 * another member (synack_steer_owner) goes to that member's loop through
 * `fan`, one every member must see goes to all of them, and the frames
 * other members send here are taken in when the fan wakes the loop. Set it
 * before dev_loop_run. Returns 0 or -1 (epoll). */
struct dev_fan;
int dev_loop_set_fan(dev_loop *l, struct dev_fan *fan, const synack_steer *steer, int link);
/* Take the frames other members handed this loop into its stack (for a
 * caller with its own event loop, when dev_fan_fd is readable). Returns
 * their number. */
size_t dev_loop_take_fan(dev_loop *l);
/* Frames this loop handed to other members, and took from them. */
void dev_loop_fan_counts(const dev_loop *l, uint64_t *sent, uint64_t *taken);

/* Install SIGINT/SIGTERM handlers that raise a flag (dev_loop_signalled). */
void dev_loop_catch_signals(void);
/* The signal that arrived (0 = none), and clear it. */
int dev_loop_signalled(void);

/* Run until `tick` returns nonzero or a device error. Returns 0, or -1 on a
 * device error (errno says which). */
int dev_loop_run(dev_loop *l, dev_loop_tick_fn tick, void *ctx);

/* Read what the device has waiting (up to 16 batches) into the stack, for
 * a caller that runs its own event loop (`synack netns`: the device is one
 * of many descriptors). Returns 0, or -1 on a device error. */
int dev_loop_input(dev_loop *l);
/* The same, reading at most `first` frames in the first batch and stopping
 * there if they all came: for a caller whose level-triggered poll brings
 * it back when more wait, and who expects one frame (a wake-up after a
 * sleep), this saves the read that would find the queue empty. */
int dev_loop_input_max(dev_loop *l, int first);

/* Monotonic and real time in ns. */
uint64_t dev_now(void);
uint64_t dev_wallclock(void);

#endif
