/* loop.c — the epoll runner (see loop.h). */
#define _GNU_SOURCE
#include "dev/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

/* Longest sleep: the application's tick runs at least this often. */
#define LOOP_MAX_SLEEP_NS (100ull * 1000 * 1000)

struct dev_loop {
    dev *d;
    synack_stack *s;
    pcap_writer *pcap;
    int ep;
};

static volatile sig_atomic_t got_signal;

static void on_signal(int sig) { got_signal = sig; }

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

int dev_loop_signalled(void)
{
    int s = got_signal;
    got_signal = 0;
    return s;
}

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

void dev_loop_free(dev_loop *l)
{
    if (!l)
        return;
    if (l->ep >= 0)
        close(l->ep);
    free(l);
}

void dev_loop_set_pcap(dev_loop *l, pcap_writer *w) { l->pcap = w; }
void dev_loop_set_stack(dev_loop *l, synack_stack *s) { l->s = s; }

void dev_loop_output(void *ctx, const void *frame, size_t len)
{
    dev_loop *l = ctx;
    if (l->pcap)
        pcap_write(l->pcap, dev_wallclock(), frame, len);
    dev_send(l->d, frame, len);
}

int dev_loop_run(dev_loop *l, dev_loop_tick_fn tick, void *ctx)
{
    sigset_t waitmask;
    sigprocmask(SIG_BLOCK, NULL, &waitmask);
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGTERM);
    const uint8_t *frames[DEV_BATCH];
    size_t lens[DEV_BATCH];
    for (;;) {
        uint64_t now = dev_now();
        synack_poll(l->s, now);
        if (tick && tick(ctx, now)) {
            dev_flush(l->d);
            return 0;
        }
        dev_flush(l->d);

        uint64_t deadline = synack_next_deadline(l->s);
        now = dev_now();
        uint64_t wait = deadline <= now ? 0 : deadline - now;
        if (wait > LOOP_MAX_SLEEP_NS)
            wait = LOOP_MAX_SLEEP_NS;
        struct timespec ts = {.tv_sec = (time_t)(wait / 1000000000ull),
                              .tv_nsec = (long)(wait % 1000000000ull)};
        struct epoll_event ev;
        int n = epoll_pwait2(l->ep, &ev, 1, &ts, &waitmask);
        if (n < 0 && errno != EINTR)
            return -1;
        if (n <= 0)
            continue;
        /* Drain what is waiting, a batch at a time, answering each batch. */
        for (int rounds = 0; rounds < 16; rounds++) {
            int got = dev_recv(l->d, frames, lens, DEV_BATCH);
            if (got < 0)
                return -1;
            if (got == 0)
                break;
            now = dev_now();
            for (int i = 0; i < got; i++) {
                if (l->pcap)
                    pcap_write(l->pcap, dev_wallclock(), frames[i], lens[i]);
                synack_input(l->s, frames[i], lens[i], now);
            }
            dev_flush(l->d);
            if (got < DEV_BATCH)
                break;
        }
    }
}
