/* glisten.c — a listening socket of a group (cfg.threads > 1) listens in
 * every member: a connection's SYN reaches the member that owns its
 * 4-tuple, which alone may answer it. The socket's own member (its home)
 * listens as a runtime alone does; each other member gets a shadow: a
 * listener on the same address and port, with the listening options
 * copied, whose "end" is a duplicate of the home's end of the listener's
 * pair. Each member hands its connections over that one pair (conn.c), so
 * the application accepts every connection from its one descriptor. When
 * the application closes it every duplicate sees the hang-up, and each
 * member lets its listener go by itself. */
#define _GNU_SOURCE
#include "rt/ops.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The options a listener passes to the connections it accepts, or that
 * decide how it binds and accepts. */
static const struct {
    int level, name;
} copied[] = {
    {SOL_SOCKET, SO_REUSEADDR},   {SOL_SOCKET, SO_REUSEPORT},     {SOL_SOCKET, SO_KEEPALIVE},
    {IPPROTO_TCP, TCP_NODELAY},   {IPPROTO_TCP, TCP_KEEPIDLE},    {IPPROTO_TCP, TCP_KEEPINTVL},
    {IPPROTO_TCP, TCP_KEEPCNT},   {IPPROTO_TCP, TCP_USER_TIMEOUT}, {IPPROTO_TCP, TCP_DEFER_ACCEPT},
    {IPPROTO_IPV6, IPV6_V6ONLY},
};
#define NCOPIED (sizeof copied / sizeof copied[0])

typedef struct listen_info {
    synack_addr addr;
    uint16_t port;
    int family, backlog;
    int have[NCOPIED], value[NCOPIED];
} listen_info;

/* Home member: what a shadow needs, and a duplicate of our end (c->fd). */
int rt_op_listen_info(synack_rt *rt, rt_cmd *c)
{
    rt_sock *r = rt_lookup(rt, c->ino);
    if (!r || r->phase != RT_LISTENING || r->rfd < 0)
        return -EINVAL;
    listen_info *li = c->val;
    li->addr = r->bound;
    synack_sock_addrs(r->sk, NULL, &li->port, NULL, NULL);
    li->family = r->family;
    for (size_t i = 0; i < NCOPIED; i++) {
        rt_cmd q = {.level = copied[i].level, .name = copied[i].name, .val = &li->value[i]};
        socklen_t len = sizeof(int);
        q.len = &len;
        li->have[i] = (copied[i].level != IPPROTO_IPV6 || r->family == AF_INET6) &&
                      rt_getsockopt(rt, r, &q) >= 0;
    }
    c->fd = fcntl(r->rfd, F_DUPFD_CLOEXEC, 0);
    return c->fd < 0 ? -errno : 0;
}

static int shadow_listen(synack_rt *rt, rt_sock *r, const listen_info *li)
{
    for (size_t i = 0; i < NCOPIED; i++) {
        if (!li->have[i])
            continue;
        rt_cmd q = {.level = copied[i].level, .name = copied[i].name,
                    .cval = &li->value[i], .clen = sizeof(int)};
        rt_setsockopt(rt, r, &q); /* as the home took it */
    }
    int e = synack_bind_addr(r->sk, &li->addr, li->port);
    if (e == 0)
        e = synack_listen(r->sk, li->backlog);
    if (e == 0) {
        r->bound = li->addr;
        r->phase = RT_LISTENING;
        rt_mark(rt, r);
    }
    return e;
}

/* Another member: a shadow listener on the duplicate c->fd (ours now). */
int rt_op_listen_shadow(synack_rt *rt, rt_cmd *c)
{
    if (rt_lookup(rt, c->ino)) { /* listen again: the shadow is there */
        close(c->fd);
        return 0;
    }
    const listen_info *li = c->cval;
    rt_sock *r = rt_sock_new(rt, c->fd, c->ino, li->family);
    if (r)
        r->sk = synack_socket(rt->stack);
    if (!r || !r->sk) {
        free(r);
        close(c->fd);
        return -ENOMEM;
    }
    r->shadow = true; /* calls on the descriptor still go to the home */
    synack_sock_set_user(r->sk, r);
    int e = shadow_listen(rt, r, li);
    if (e == 0 && rt_insert(rt, r) < 0)
        e = -ENOMEM;
    if (e) {
        synack_sock_set_user(r->sk, NULL);
        synack_abort(r->sk);
        free(r);
        close(c->fd);
        return e;
    }
    return rt_watch_end(rt, r) < 0 ? (rt_free_sock(rt, r), -ENOMEM) : 0;
}

int rt_group_listen(synack_rt *rt, uint64_t ino, int backlog)
{
    rt_cmd c;
    memset(&c, 0, sizeof c);
    c.ino = ino;
    synack_rt *home = rt_route(rt, &c);
    for (unsigned i = 0; i < rt_group_size(rt); i++) {
        synack_rt *m = rt_group_member(rt, i);
        if (m == home)
            continue;
        listen_info li;
        memset(&li, 0, sizeof li);
        memset(&c, 0, sizeof c);
        c.run = rt_op_listen_info;
        c.ino = ino;
        c.val = &li;
        int e = rt_call_on(home, &c);
        if (e)
            return e;
        li.backlog = backlog;
        int dup = c.fd;
        memset(&c, 0, sizeof c);
        c.run = rt_op_listen_shadow;
        c.ino = ino;
        c.fd = dup;
        c.cval = &li;
        if ((e = rt_call_on(m, &c)) != 0) {
            if (!c.done) /* never ran: the duplicate is still ours */
                close(dup);
            return e;
        }
    }
    return 0;
}
