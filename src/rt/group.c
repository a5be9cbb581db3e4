/* group.c — a runtime of N members (cfg.threads, issue 13: every core):
 * N stacks of one steered group (cfg.stack.steer), each with its own
 * thread, epoll loop and queue of a multi-queue TAP or TUN. Member 0 is
 * the handle the application holds.
 *
 * Frames: the kernel queues each frame for its owner by the eBPF steering
 * program (dev/steer_bpf.c); each member still asks who owns every frame
 * it reads and hands another's through the fan (dev/fan.c): ARP and ND
 * replies go to all, and everything goes that way when the program could
 * not be attached. UDP has no ports in the group hash (its fragments must
 * meet), so a datagram's owner depends on the peer's address: rather than
 * spread one socket's datagrams over members, every UDP socket lives in
 * member 0 and every UDP datagram (and ICMP error about one) goes there.
 *
 * Calls: an application's call names a descriptor, whose inode a shared
 * map (under a mutex) ties to the member that holds the socket: set when
 * the member inserts it (a new socket, an accepted connection), dropped
 * when it removes it. A new TCP socket is placed on the members in turn. */
#define _GNU_SOURCE
#include "rt/ops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>

#include "dev/fan.h"
#include "dev/steer_bpf.h"

#define ROUTE_BUCKETS 4096u

/* What a member's hooks are called with: the group and the member. */
typedef struct hook_ctx {
    rt_group *g;
    unsigned index;
} hook_ctx;

typedef struct route {
    uint64_t ino;
    unsigned member;
    struct route *next;
} route;

struct rt_group {
    unsigned n;
    synack_rt *m[SYNACK_RT_MAX_THREADS];
    synack_steer steer;      /* count and key; index is each member's     */
    int link;                /* SYNACK_LINK_ETHERNET (TAP) or _IP (TUN)    */
    dev_fan *fan;
    bool steered;            /* the eBPF program is attached               */
    atomic_uint next;        /* the member the next TCP socket goes to     */
    pthread_mutex_t route_mu, hook_mu, hand_mu;
    route *routes[ROUTE_BUCKETS];
    /* the application's hooks, called one at a time (hook_mu) */
    synack_trace_fn trace;
    void *trace_ctx;
    void (*capture)(void *ctx, const void *frame, size_t len, int out, uint64_t now_ns);
    void *capture_ctx;
    hook_ctx hooks[SYNACK_RT_MAX_THREADS];
};

unsigned rt_group_size(const synack_rt *rt) { return rt->group ? rt->group->n : 1; }

synack_rt *rt_group_member(synack_rt *rt, unsigned i) { return rt->group ? rt->group->m[i] : rt; }

/* ------------------------------------------------------------ routing */

static route **bucket(rt_group *g, uint64_t ino)
{
    return &g->routes[(ino * 0x9e3779b97f4a7c15ull) >> 52 & (ROUTE_BUCKETS - 1)];
}

void rt_group_place(synack_rt *rt, uint64_t ino)
{
    rt_group *g = rt->group;
    if (!g)
        return;
    pthread_mutex_lock(&g->route_mu);
    route **b = bucket(g, ino), *e = *b;
    while (e && e->ino != ino)
        e = e->next;
    if (!e && (e = malloc(sizeof *e))) {
        e->ino = ino;
        e->next = *b;
        *b = e;
    }
    if (e) /* an inode the kernel reused: the newest socket's member */
        e->member = rt->index;
    pthread_mutex_unlock(&g->route_mu);
}

void rt_group_forget(synack_rt *rt, uint64_t ino)
{
    rt_group *g = rt->group;
    if (!g)
        return;
    pthread_mutex_lock(&g->route_mu);
    for (route **p = bucket(g, ino); *p; p = &(*p)->next) {
        if ((*p)->ino == ino) {
            if ((*p)->member == rt->index) { /* not a newer socket's */
                route *gone = *p;
                *p = gone->next;
                free(gone);
            }
            break;
        }
    }
    pthread_mutex_unlock(&g->route_mu);
}

synack_rt *rt_route(synack_rt *rt, rt_cmd *c)
{
    rt_group *g = rt->group;
    if (!g)
        return rt;
    if (c->run == rt_op_socket) /* in turn: ports are then picked there */
        return g->m[atomic_fetch_add(&g->next, 1) % g->n];
    if (c->run == rt_udp_socket || !c->ino)
        return g->m[0];
    unsigned member = 0; /* not ours: member 0 says ENOTSOCK */
    pthread_mutex_lock(&g->route_mu);
    for (route *e = *bucket(g, c->ino); e; e = e->next)
        if (e->ino == c->ino) {
            member = e->member;
            break;
        }
    pthread_mutex_unlock(&g->route_mu);
    return g->m[member];
}

void rt_group_hand_lock(synack_rt *rt, bool lock)
{
    if (!rt->group)
        return;
    if (lock)
        pthread_mutex_lock(&rt->group->hand_mu);
    else
        pthread_mutex_unlock(&rt->group->hand_mu);
}

/* ------------------------------------------------------------- frames */

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* Is this IP packet UDP, or an ICMP error quoting UDP? (Bounds-checked;
 * anything else, or too short to tell, goes by the group hash.) */
static bool ip_is_udp(const uint8_t *p, size_t len, bool quoted)
{
    if (len >= 20 && p[0] >> 4 == 4) {
        size_t ihl = (size_t)(p[0] & 15) * 4;
        if (p[9] == 17)
            return true;
        bool first = (be16(p + 6) & 0x1fff) == 0;
        if (quoted || p[9] != 1 || !first || ihl < 20 || len < ihl + 8)
            return false;
        uint8_t type = p[ihl];
        return (type == 3 || type == 11 || type == 12) && ip_is_udp(p + ihl + 8, len - ihl - 8, true);
    }
    if (len >= 40 && p[0] >> 4 == 6) {
        uint8_t nh = p[6];
        if (nh == 17 || (nh == 44 && len >= 48 && p[40] == 17))
            return true;
        return !quoted && nh == 58 && len >= 48 && p[40] >= 1 && p[40] <= 4 &&
               ip_is_udp(p + 48, len - 48, true);
    }
    return false;
}

static int owner(rt_group *g, const uint8_t *f, size_t len)
{
    const uint8_t *ip = f;
    size_t iplen = len;
    if (g->link == SYNACK_LINK_ETHERNET) {
        uint16_t type = len >= 14 ? be16(f + 12) : 0;
        ip = (type == 0x0800 || type == 0x86dd) ? f + 14 : NULL;
        iplen = len - 14;
    }
    if (ip && ip_is_udp(ip, iplen, false))
        return 0;
    return synack_steer_owner(&g->steer, g->link, f, len);
}

bool rt_group_steer(synack_rt *rt, const void *frame, size_t len)
{
    rt_group *g = rt->group;
    int to = owner(g, frame, len);
    for (unsigned i = 0; i < g->n; i++)
        if (i != rt->index && (to == SYNACK_STEER_ALL || to == (int)i))
            dev_fan_push(g->fan, i, frame, len); /* full: dropped and counted */
    return to == SYNACK_STEER_ALL || to == (int)rt->index;
}

void rt_group_take(synack_rt *rt)
{
    dev_fan_drain(rt->group->fan, rt->index, rt_in_frame, rt);
}

/* -------------------------------------------------------------- hooks */

/* Each stack numbers its connections from 1: member i's id k becomes
 * k * n + i, unique in the group. */
static void group_trace(void *ctx, const synack_trace_event *ev)
{
    const hook_ctx *h = ctx;
    rt_group *g = h->g;
    synack_trace_event e = *ev;
    if (e.conn_id)
        e.conn_id = e.conn_id * g->n + h->index;
    pthread_mutex_lock(&g->hook_mu);
    g->trace(g->trace_ctx, &e);
    pthread_mutex_unlock(&g->hook_mu);
}

static void group_capture(void *ctx, const void *frame, size_t len, int out, uint64_t now)
{
    rt_group *g = ((const hook_ctx *)ctx)->g;
    pthread_mutex_lock(&g->hook_mu);
    g->capture(g->capture_ctx, frame, len, out, now);
    pthread_mutex_unlock(&g->hook_mu);
}

/* ---------------------------------------------------------- lifecycle */

static const char *add_member(rt_group *g, const synack_rt_config *cfg, unsigned i, char *err,
                              size_t errlen)
{
    synack_rt_config mc = *cfg;
    mc.stack.steer = g->steer;
    mc.stack.steer.index = i;
    mc.dev_flags |= DEV_MULTI_QUEUE;
    g->hooks[i] = (hook_ctx){g, i};
    if (g->trace) {
        mc.stack.trace = group_trace;
        mc.stack.trace_ctx = &g->hooks[i];
    }
    if (g->capture) {
        mc.capture = group_capture;
        mc.capture_ctx = &g->hooks[i];
    }
    synack_rt *rt = rt_member_new(&mc, err, errlen);
    if (!rt)
        return "";
    g->m[i] = rt;
    rt->group = g;
    rt->index = i;
    rt->fan_w.kind = RT_WATCH_FAN;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &rt->fan_w};
    return epoll_ctl(rt->ep, EPOLL_CTL_ADD, dev_fan_fd(g->fan, i), &ev) < 0 ? "epoll" : NULL;
}

static const char *build(rt_group *g, const synack_rt_config *cfg, char *err, size_t errlen)
{
    if (cfg->device != SYNACK_RT_TAP && cfg->device != SYNACK_RT_TUN)
        return "threads > 1 needs a TAP or TUN device";
    if (cfg->threads > SYNACK_RT_MAX_THREADS)
        return "too many threads";
    g->n = cfg->threads;
    g->link = cfg->device == SYNACK_RT_TUN ? SYNACK_LINK_IP : SYNACK_LINK_ETHERNET;
    g->steer.count = g->n;
    if (getrandom(g->steer.key, sizeof g->steer.key, 0) != (ssize_t)sizeof g->steer.key)
        return "getrandom";
    g->trace = cfg->stack.trace;
    g->trace_ctx = cfg->stack.trace_ctx;
    g->capture = cfg->capture;
    g->capture_ctx = cfg->capture_ctx;
    if (!(g->fan = dev_fan_new(g->n)))
        return "out of memory";
    for (unsigned i = 0; i < g->n; i++) {
        const char *why = add_member(g, cfg, i, err, errlen);
        if (why)
            return why;
    }
    /* Without the program (no CAP_BPF) the members hand frames over. */
    char why[160];
    g->steered = dev_steer_bpf_attach(dev_fd(g->m[0]->dev), &g->steer, g->link, why,
                                      sizeof why) == 0;
    return NULL;
}

synack_rt *rt_group_new(const synack_rt_config *cfg, char *err, size_t errlen)
{
    rt_group *g = calloc(1, sizeof *g);
    if (!g) {
        if (err)
            snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&g->route_mu, NULL);
    pthread_mutex_init(&g->hook_mu, NULL);
    pthread_mutex_init(&g->hand_mu, NULL);
    char dev_err[256] = "";
    const char *why = build(g, cfg, dev_err, sizeof dev_err);
    if (why) {
        if (err)
            snprintf(err, errlen, "%s", *why ? why : dev_err);
        if (g->m[0])
            rt_group_free(g->m[0]);
        else {
            dev_fan_free(g->fan);
            free(g);
        }
        return NULL;
    }
    return g->m[0];
}

int rt_group_start(synack_rt *rt)
{
    rt_group *g = rt->group;
    for (unsigned i = 0; i < g->n; i++) {
        if (rt_member_start(g->m[i]) < 0) {
            int e = errno;
            rt_group_stop(rt);
            errno = e;
            return -1;
        }
    }
    return 0;
}

void rt_group_stop(synack_rt *rt)
{
    rt_group *g = rt->group;
    for (unsigned i = 0; i < g->n; i++)
        if (g->m[i])
            rt_member_stop(g->m[i]);
}

void rt_group_free(synack_rt *rt)
{
    rt_group *g = rt->group;
    rt_group_stop(rt);
    if (g->steered) /* it belongs to the interface, which may outlive us */
        dev_steer_bpf_detach(dev_fd(g->m[0]->dev));
    for (unsigned i = g->n; i-- > 0;) {
        if (!g->m[i])
            continue;
        rt_member_free(g->m[i]); /* its records leave the map as they go */
    }
    for (unsigned b = 0; b < ROUTE_BUCKETS; b++)
        while (g->routes[b]) {
            route *e = g->routes[b];
            g->routes[b] = e->next;
            free(e);
        }
    dev_fan_free(g->fan);
    pthread_mutex_destroy(&g->route_mu);
    pthread_mutex_destroy(&g->hook_mu);
    pthread_mutex_destroy(&g->hand_mu);
    free(g);
}
