/* runtime.c — the runtime object, its thread and its epoll loop.
 *
 * Each turn: run the stack's timers, pump the sockets marked dirty (by
 * socket events and by readiness of their pair ends), flush the device,
 * then sleep in epoll until a frame, a call, a pair end or the stack's
 * next deadline. The epoll set holds the call eventfd, the device (or the
 * link's eventfd) and our end of every socket's pair. */
#define _GNU_SOURCE
#include "rt/ops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "dev/loop.h"

#define RT_SCRATCH (256u * 1024)          /* one move between pair and TCP */
#define RT_MAX_SLEEP_NS (1000000000ull)   /* wake at least once a second   */

void synack_rt_config_init(synack_rt_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    synack_config_init(&cfg->stack);
    cfg->device = SYNACK_RT_LINK;
}

static void on_event(void *ctx, synack_sock *k, unsigned events)
{
    (void)events; /* the pump looks at what is true now */
    rt_sock *r = synack_sock_get_user(k);
    if (r)
        rt_mark(ctx, r);
}

static void on_udp_event(void *ctx, synack_udp *u, unsigned events)
{
    (void)events; /* the pump takes the datagrams, or the error, that are there */
    rt_sock *r = synack_udp_get_user(u);
    if (r)
        rt_mark(ctx, r);
}

static void out_link(void *ctx, const void *frame, size_t len)
{
    synack_rt *rt = ctx;
    rt_link_send(rt->link, rt->side, frame, len);
}

static void out_dev(void *ctx, const void *frame, size_t len)
{
    synack_rt *rt = ctx;
    if (rt->capture)
        rt->capture(rt->capture_ctx, frame, len, 1, rt->now);
    dev_send(rt->dev, frame, len);
}

/* output_v: a segment's payload goes from the send buffer to the link or
 * the device as it lies; joined first only for a capture. */
static void out_link_v(void *ctx, const synack_iov *v, int n, size_t len)
{
    synack_rt *rt = ctx;
    rt_link_sendv(rt->link, rt->side, v, n, len);
}

static void out_dev_v(void *ctx, const synack_iov *v, int n, size_t len)
{
    synack_rt *rt = ctx;
    size_t whole = dev_send_pieces(rt->dev, v, n, len, rt->capture != NULL, &rt->joined);
    if (whole)
        out_dev(rt, rt->joined, whole);
}

static void random_bytes(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    for (size_t done = 0; done < len;) {
        ssize_t n = getrandom((char *)buf + done, len - done, 0);
        if (n > 0)
            done += (size_t)n;
    }
}

void rt_in_frame(void *ctx, const void *frame, size_t len)
{
    synack_rt *rt = ctx;
    synack_input(rt->stack, frame, len, rt->now);
}

static int watch(synack_rt *rt, int fd, rt_watch *w)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};
    return epoll_ctl(rt->ep, EPOLL_CTL_ADD, fd, &ev);
}

static const char *open_device(synack_rt *rt, const synack_rt_config *cfg, synack_config *sc,
                               char *err, size_t errlen)
{
    if (cfg->device == SYNACK_RT_LINK) {
        if (!cfg->link)
            return "a link device needs cfg.link";
        rt->link = cfg->link;
        rt->side = cfg->link_side & 1;
        rt->dev_w.kind = RT_WATCH_LINK;
        sc->output = out_link;
        sc->output_v = out_link_v;
        return watch(rt, rt_link_fd(rt->link, rt->side), &rt->dev_w) < 0 ? "epoll" : NULL;
    }
    static const dev_kind kinds[] = {[SYNACK_RT_TAP] = DEV_TAP, [SYNACK_RT_TUN] = DEV_TUN,
                                     [SYNACK_RT_PACKET] = DEV_PACKET};
    if (cfg->device < SYNACK_RT_TAP || cfg->device > SYNACK_RT_PACKET)
        return "unknown device";
    rt->dev = dev_open_flags(kinds[cfg->device], cfg->ifname, cfg->dev_flags, err, errlen);
    if (!rt->dev)
        return "";
    rt->dev_w.kind = RT_WATCH_DEV;
    sc->output = out_dev;
    sc->output_v = out_dev_v;
    return watch(rt, dev_fd(rt->dev), &rt->dev_w) < 0 ? "epoll" : NULL;
}

static const char *setup(synack_rt *rt, const synack_rt_config *cfg, char *err, size_t errlen)
{
    rt->ep = epoll_create1(EPOLL_CLOEXEC);
    rt->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    rt->scratch_size = RT_SCRATCH;
    rt->scratch = malloc(rt->scratch_size);
    if (rt->ep < 0 || rt->wakefd < 0 || !rt->scratch)
        return "out of descriptors or memory";
    rt->wake_w.kind = RT_WATCH_WAKE;
    if (watch(rt, rt->wakefd, &rt->wake_w) < 0)
        return "epoll";
    rt->capture = cfg->capture;
    rt->capture_ctx = cfg->capture_ctx;
    synack_config sc = cfg->stack;
    sc.event = on_event;
    sc.event_ctx = rt;
    sc.udp_event = on_udp_event;
    sc.udp_event_ctx = rt;
    sc.output_ctx = rt;
    if (!sc.random)
        sc.random = random_bytes;
    const char *why = open_device(rt, cfg, &sc, err, errlen);
    if (why)
        return why;
    rt->stack = synack_stack_new(&sc, dev_now());
    return rt->stack ? NULL : "synack_stack_new failed";
}

synack_rt *synack_rt_new(const synack_rt_config *cfg, char *err, size_t errlen)
{
    if (cfg->threads > 1)
        return rt_group_new(cfg, err, errlen);
    return rt_member_new(cfg, err, errlen);
}

synack_rt *rt_member_new(const synack_rt_config *cfg, char *err, size_t errlen)
{
    synack_rt *rt = calloc(1, sizeof *rt);
    if (!rt) {
        if (err)
            snprintf(err, errlen, "out of memory");
        return NULL;
    }
    rt->ep = rt->wakefd = -1;
    pthread_mutex_init(&rt->mu, NULL);
    char dev_err[256] = "";
    const char *why = setup(rt, cfg, dev_err, sizeof dev_err);
    if (why) {
        if (err)
            snprintf(err, errlen, "%s", *why ? why : dev_err);
        rt_member_free(rt);
        return NULL;
    }
    return rt;
}

static void device_input(synack_rt *rt)
{
    const uint8_t *frames[DEV_BATCH];
    size_t lens[DEV_BATCH];
    for (int rounds = 0; rounds < 16; rounds++) {
        int got = dev_recv(rt->dev, frames, lens, DEV_BATCH);
        const void *burst[DEV_BATCH];
        size_t blens[DEV_BATCH], k = 0;
        for (int i = 0; i < got; i++) {
            if (rt->capture)
                rt->capture(rt->capture_ctx, frames[i], lens[i], 0, rt->now);
            if (rt->group && !rt_group_steer(rt, frames[i], lens[i]))
                continue; /* another member's: handed over */
            burst[k] = frames[i];
            blens[k++] = lens[i];
        }
        /* One burst: one ACK per connection for its in-order data. */
        if (k > 0)
            synack_input_burst(rt->stack, burst, blens, k, rt->now);
        dev_flush(rt->dev); /* answer each batch before taking the next */
        if (got < DEV_BATCH)
            break;
    }
}

static void on_ready(synack_rt *rt, rt_watch *w, uint32_t events)
{
    switch (w->kind) {
    case RT_WATCH_WAKE:
        rt_run_commands(rt);
        break;
    case RT_WATCH_DEV:
        device_input(rt);
        break;
    case RT_WATCH_FAN:
        rt_group_take(rt);
        break;
    case RT_WATCH_LINK:
        rt_link_receive(rt->link, rt->side, rt_in_frame, rt);
        break;
    default: {
        rt_sock *r = (rt_sock *)w;
        r->rd |= (events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) != 0;
        r->wr |= (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0;
        r->rdhup |= (events & (EPOLLRDHUP | EPOLLHUP)) != 0;
        r->hup |= (events & EPOLLHUP) != 0;
        if ((events & EPOLLERR) && r->rfd >= 0) {
            /* The application's end was closed with bytes unread in it.
             * Our held byte hides the error from reads: ask for it. */
            int e = 0;
            socklen_t l = sizeof e;
            getsockopt(r->rfd, SOL_SOCKET, SO_ERROR, &e, &l);
            r->app_reset |= e == ECONNRESET;
        }
        rt_mark(rt, r);
    }
    }
}

static void wait_and_dispatch(synack_rt *rt)
{
    uint64_t now = dev_now(), deadline = synack_next_deadline(rt->stack);
    uint64_t wait = rt->dirty_head || deadline <= now ? 0 : deadline - now;
    if (wait > RT_MAX_SLEEP_NS)
        wait = RT_MAX_SLEEP_NS;
    struct timespec ts = {.tv_sec = (time_t)(wait / 1000000000ull),
                          .tv_nsec = (long)(wait % 1000000000ull)};
    struct epoll_event evs[64];
    int n = epoll_pwait2(rt->ep, evs, 64, &ts, NULL);
    rt->now = dev_now();
    for (int i = 0; i < n; i++)
        on_ready(rt, evs[i].data.ptr, evs[i].events);
}

/* The runtime is going: answer every call, and show every descriptor a
 * reset (its reads fail, its blocked readers wake). */
static void wind_down(synack_rt *rt)
{
    rt_fail_commands(rt);
    for (size_t i = 0; i < rt->table_size; i++) {
        for (rt_sock *r = rt->table[i]; r; r = r->hnext) {
            if (r->waiting) {
                rt_cmd_finish(rt, r->waiting, -ENETDOWN);
                r->waiting = NULL;
            }
            if (r->rfd >= 0) {
                close(r->rfd);
                r->rfd = -1;
            }
        }
    }
}

static void *rt_main(void *arg)
{
    synack_rt *rt = arg;
    rt->now = dev_now();
    if (rt->dev)
        synack_arp_announce(rt->stack, rt->now);
    while (!atomic_load(&rt->stopping)) {
        rt->now = dev_now();
        synack_poll(rt->stack, rt->now);
        rt_run_queued(rt); /* posted options first: they came before the bytes */
        rt_pump_dirty(rt);
        if (rt->dev)
            dev_flush(rt->dev);
        wait_and_dispatch(rt);
    }
    wind_down(rt);
    return NULL;
}

int synack_rt_start(synack_rt *rt)
{
    return rt->group ? rt_group_start(rt) : rt_member_start(rt);
}

int rt_member_start(synack_rt *rt)
{
    if (rt->started) {
        errno = EBUSY;
        return -1;
    }
    pthread_mutex_lock(&rt->mu);
    rt->running = true;
    pthread_mutex_unlock(&rt->mu);
    int e = pthread_create(&rt->thread, NULL, rt_main, rt);
    if (e) {
        rt->running = false;
        errno = e;
        return -1;
    }
    rt->started = true;
    return 0;
}

void synack_rt_stop(synack_rt *rt)
{
    if (rt->group)
        rt_group_stop(rt);
    else
        rt_member_stop(rt);
}

void rt_member_stop(synack_rt *rt)
{
    if (!rt->started)
        return;
    atomic_store(&rt->stopping, true);
    rt_wake(rt);
    pthread_join(rt->thread, NULL);
    rt->started = false;
}

void synack_rt_free(synack_rt *rt)
{
    if (rt && rt->group)
        rt_group_free(rt);
    else
        rt_member_free(rt);
}

void rt_member_free(synack_rt *rt)
{
    if (!rt)
        return;
    rt_member_stop(rt);
    for (size_t i = 0; i < rt->table_size; i++)
        while (rt->table[i])
            rt_free_sock(rt, rt->table[i]);
    free(rt->table);
    synack_stack_free(rt->stack);
    dev_close(rt->dev);
    if (rt->ep >= 0)
        close(rt->ep);
    if (rt->wakefd >= 0)
        close(rt->wakefd);
    free(rt->scratch);
    free(rt->joined);
    pthread_mutex_destroy(&rt->mu);
    free(rt);
}

/* A group's members each run `fn` on their own stack, one after the
 * other: the caller sums (counters, sockstat) or collects. */
void synack_rt_with_stack(synack_rt *rt, void (*fn)(void *ctx, synack_stack *s), void *ctx)
{
    for (unsigned i = 0; i < rt_group_size(rt); i++) {
        rt_cmd c;
        memset(&c, 0, sizeof c);
        c.run = rt_op_with_stack;
        c.fn = fn;
        c.ctx = ctx;
        rt_call_on(rt_group_member(rt, i), &c);
    }
}
