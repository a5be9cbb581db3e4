/* loop.c — the epoll runner (see loop.h). */
#define _GNU_SOURCE
#include "dev/loop.h"

#include "dev/fan.h"

#include <errno.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* epoll's data for the fan's descriptor (the device's is 0). */
#define LOOP_FAN 1u

/* Longest sleep: the application's tick runs at least this often. */
#define LOOP_MAX_SLEEP_NS (100ull * 1000 * 1000)

/* Frames held back by the impairment, oldest first (a ring). */
typedef struct held {
    uint64_t at;
    size_t len;
    uint8_t *data;
} held;

typedef struct hold_queue {
    held *q;
    unsigned head, count, cap;
} hold_queue;

struct dev_loop {
    dev *d;
    synack_stack *s;
    pcap_writer *pcap;
    int ep;
    int impaired;
    dev_impair imp;
    uint64_t rng;
    hold_queue out, in;  /* to the device, to the stack */
    uint8_t *joined;     /* output_v's pieces joined, when they must be */
    dev_fan *fan;        /* a steered group's: frames to and from the others */
    synack_steer steer;
    int link;
    uint64_t fan_sent, fan_taken;
};

/* Lock-free, so the handler may write it; read and cleared in one step,
 * so that of several threads (a steered group) only one takes a signal. */
static atomic_int got_signal;

static void on_signal(int sig) { atomic_store(&got_signal, sig); }

void dev_loop_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* Blocked except while sleeping in epoll_pwait2. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
}

int dev_loop_signalled(void) { return atomic_exchange(&got_signal, 0); }

uint64_t dev_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t dev_wallclock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

dev_loop *dev_loop_new(dev *d)
{
    dev_loop *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->d = d;
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN};
    if (l->ep < 0 || epoll_ctl(l->ep, EPOLL_CTL_ADD, dev_fd(d), &ev) < 0) {
        dev_loop_free(l);
        return NULL;
    }
    return l;
}

static void queue_free(hold_queue *h)
{
    for (unsigned i = 0; i < h->count; i++)
        free(h->q[(h->head + i) % h->cap].data);
    free(h->q);
    memset(h, 0, sizeof(*h));
}

void dev_loop_free(dev_loop *l)
{
    if (!l)
        return;
    queue_free(&l->out);
    queue_free(&l->in);
    if (l->ep >= 0)
        close(l->ep);
    free(l->joined);
    free(l);
}

void dev_loop_set_pcap(dev_loop *l, pcap_writer *w) { l->pcap = w; }
void dev_loop_set_stack(dev_loop *l, synack_stack *s) { l->s = s; }

int dev_loop_set_impair(dev_loop *l, const dev_impair *imp)
{
    l->imp = *imp;
    if (!l->imp.limit)
        l->imp.limit = 1000;
    l->rng = imp->seed ? imp->seed : 0x9e3779b97f4a7c15ull;
    hold_queue *qs[2] = {&l->out, &l->in};
    for (int i = 0; i < 2; i++) {
        qs[i]->q = calloc(l->imp.limit, sizeof(held));
        qs[i]->cap = l->imp.limit;
        if (!qs[i]->q)
            return -1;
    }
    l->impaired = 1;
    return 0;
}

static double uniform(dev_loop *l)
{
    /* xorshift64*: plenty for coin tosses */
    l->rng ^= l->rng >> 12;
    l->rng ^= l->rng << 25;
    l->rng ^= l->rng >> 27;
    return (double)((l->rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static void hold(hold_queue *h, uint64_t at, const void *frame, size_t len)
{
    if (h->count == h->cap)
        return; /* over the limit: dropped */
    uint8_t *copy = malloc(len);
    if (!copy)
        return;
    memcpy(copy, frame, len);
    held *e = &h->q[(h->head + h->count++) % h->cap];
    e->at = at;
    e->len = len;
    e->data = copy;
}

static void deliver_out(dev_loop *l, const void *frame, size_t len)
{
    if (l->pcap)
        pcap_write(l->pcap, dev_wallclock(), frame, len);
    dev_send(l->d, frame, len);
}

/* A frame from the device: this member's, another's, or everyone's.
 * True when it is ours to take. */
static bool steer_in(dev_loop *l, const void *frame, size_t len)
{
    int owner = synack_steer_owner(&l->steer, l->link, frame, len);
    for (unsigned i = 0; i < l->steer.count; i++) {
        if (i != l->steer.index && (owner == SYNACK_STEER_ALL || owner == (int)i)) {
            if (dev_fan_push(l->fan, i, frame, len) == 0)
                l->fan_sent++; /* else dropped, counted by the fan (dev_fan_dropped) */
        }
    }
    return owner == (int)l->steer.index || owner == SYNACK_STEER_ALL;
}

/* True when this stack is to take the frame (recorded first, when asked). */
static bool arrived(dev_loop *l, const void *frame, size_t len)
{
    if (l->pcap)
        pcap_write(l->pcap, dev_wallclock(), frame, len);
    return !l->fan || steer_in(l, frame, len);
}

static void deliver_in(dev_loop *l, const void *frame, size_t len, uint64_t now)
{
    if (arrived(l, frame, len))
        synack_input(l->s, frame, len, now);
}

/* A device read's frames, as one burst: one ACK per connection for its
 * in-order data, not one per two frames (synack_input_burst). */
static void deliver_burst(dev_loop *l, const uint8_t **frames, const size_t *lens, int n,
                          uint64_t now)
{
    const void *ours[DEV_BATCH];
    size_t ours_len[DEV_BATCH];
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        if (arrived(l, frames[i], lens[i])) {
            ours[k] = frames[i];
            ours_len[k++] = lens[i];
        }
    }
    synack_input_burst(l->s, ours, ours_len, k, now);
}

/* Pass a frame through the impairment: 0..2 copies, now or later. */
static void impair(dev_loop *l, hold_queue *h, const void *frame, size_t len, uint64_t now)
{
    if (l->imp.loss > 0 && uniform(l) < l->imp.loss)
        return;
    int copies = l->imp.dup > 0 && uniform(l) < l->imp.dup ? 2 : 1;
    for (int i = 0; i < copies; i++) {
        if (!l->imp.delay_ns || (l->imp.reorder > 0 && uniform(l) < l->imp.reorder)) {
            if (h == &l->out)
                deliver_out(l, frame, len);
            else
                deliver_in(l, frame, len, now);
        } else {
            hold(h, now + l->imp.delay_ns, frame, len);
        }
    }
}

/* When the next held frame is due (UINT64_MAX: none). */
static uint64_t next_release(const dev_loop *l)
{
    uint64_t next = UINT64_MAX;
    if (l->out.count && l->out.q[l->out.head].at < next)
        next = l->out.q[l->out.head].at;
    if (l->in.count && l->in.q[l->in.head].at < next)
        next = l->in.q[l->in.head].at;
    return next;
}

/* Hand on the held frames that are due. */
static void release(dev_loop *l, uint64_t now)
{
    hold_queue *qs[2] = {&l->out, &l->in};
    for (int i = 0; i < 2; i++) {
        hold_queue *h = qs[i];
        while (h->count && h->q[h->head].at <= now) {
            held e = h->q[h->head];
            h->head = (h->head + 1) % h->cap;
            h->count--;
            if (h == &l->out)
                deliver_out(l, e.data, e.len);
            else
                deliver_in(l, e.data, e.len, now);
            free(e.data);
        }
    }
}

int dev_loop_set_fan(dev_loop *l, dev_fan *fan, const synack_steer *steer, int link)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = LOOP_FAN};
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, dev_fan_fd(fan, steer->index), &ev) < 0)
        return -1;
    l->fan = fan;
    l->steer = *steer;
    l->link = link;
    return 0;
}

void dev_loop_fan_counts(const dev_loop *l, uint64_t *sent, uint64_t *taken)
{
    *sent = l->fan_sent;
    *taken = l->fan_taken;
}

/* A frame another member read from its queue: ours (it checked). */
static void take_from_fan(void *ctx, const void *frame, size_t len)
{
    dev_loop *l = ctx;
    l->fan_taken++;
    synack_input(l->s, frame, len, dev_now());
}

size_t dev_loop_take_fan(dev_loop *l)
{
    return l->fan ? dev_fan_drain(l->fan, l->steer.index, take_from_fan, l) : 0;
}

void dev_loop_output(void *ctx, const void *frame, size_t len)
{
    dev_loop *l = ctx;
    if (l->impaired)
        impair(l, &l->out, frame, len, dev_now());
    else
        deliver_out(l, frame, len);
}

void dev_loop_output_v(void *ctx, const synack_iov *v, int n, size_t len)
{
    dev_loop *l = ctx;
    size_t whole = dev_send_pieces(l->d, v, n, len, l->impaired || l->pcap, &l->joined);
    if (whole)
        dev_loop_output(l, l->joined, whole);
}

int dev_loop_run(dev_loop *l, dev_loop_tick_fn tick, void *ctx)
{
    sigset_t waitmask;
    sigprocmask(SIG_BLOCK, NULL, &waitmask);
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGTERM);
    for (;;) {
        uint64_t now = dev_now();
        synack_poll(l->s, now);
        if (tick && tick(ctx, now)) {
            dev_flush(l->d);
            return 0;
        }
        if (l->impaired)
            release(l, dev_now());
        uint64_t deadline = synack_next_deadline(l->s);
        if (l->impaired) {
            uint64_t r = next_release(l);
            if (r < deadline)
                deadline = r;
        }
        dev_flush(l->d);
        now = dev_now();
        uint64_t wait = deadline <= now ? 0 : deadline - now;
        if (wait > LOOP_MAX_SLEEP_NS)
            wait = LOOP_MAX_SLEEP_NS;
        struct timespec ts = {.tv_sec = (time_t)(wait / 1000000000ull),
                              .tv_nsec = (long)(wait % 1000000000ull)};
        struct epoll_event ev[2];
        int n = epoll_pwait2(l->ep, ev, 2, &ts, &waitmask);
        if (n < 0 && errno != EINTR)
            return -1;
        for (int i = 0; i < n; i++) {
            if (ev[i].data.u32 == LOOP_FAN) {
                if (dev_loop_take_fan(l)) /* only when it woke us: it costs a read */
                    dev_flush(l->d);
            } else if (dev_loop_input(l) < 0) {
                return -1;
            }
        }
    }
}

int dev_loop_input(dev_loop *l) { return dev_loop_input_max(l, DEV_BATCH); }

int dev_loop_input_max(dev_loop *l, int first)
{
    const uint8_t *frames[DEV_BATCH];
    size_t lens[DEV_BATCH];
    /* Drain what is waiting, a batch at a time, answering each batch. */
    for (int rounds = 0; rounds < 16; rounds++) {
        int max = rounds == 0 && first > 0 && first < DEV_BATCH ? first : DEV_BATCH;
        int got = dev_recv(l->d, frames, lens, max);
        if (got < 0)
            return -1;
        if (got == 0)
            break;
        uint64_t now = dev_now();
        if (l->impaired) {
            for (int i = 0; i < got; i++)
                impair(l, &l->in, frames[i], lens[i], now);
        } else {
            deliver_burst(l, frames, lens, got, now);
        }
        dev_flush(l->d);
        if (got < max || max < DEV_BATCH)
            break;
    }
    return 0;
}
