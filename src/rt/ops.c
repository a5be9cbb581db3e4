/* ops.c — the socket calls as the runtime thread carries them out: each
 * takes a command (call.c), finds the socket by inode and answers 0 or a
 * value, a -errno, or RT_LATER for a blocking connect. */
#define _GNU_SOURCE
#include "rt/ops.h"

#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <unistd.h>

static rt_sock *find(synack_rt *rt, rt_cmd *c) { return rt_lookup(rt, c->ino); }

int rt_op_socket(synack_rt *rt, rt_cmd *c)
{
    rt_sock *r = rt_sock_new(rt, c->fd, c->ino, c->family);
    if (!r)
        return -ENOMEM;
    r->sk = synack_socket(rt->stack);
    if (!r->sk || rt_insert(rt, r) < 0) {
        if (r->sk)
            synack_abort(r->sk);
        free(r);
        return -ENOMEM;
    }
    synack_sock_set_user(r->sk, r);
    r->filler = c->how;
    r->app_sndbuf = c->level;
    return rt_sock_register(rt, r, c->family);
}

int rt_sock_register(synack_rt *rt, rt_sock *r, int family)
{
    if (family == AF_INET6)
        r->bound = synack_addr_v6((const uint8_t[16]){0});
    if (rt_watch_end(rt, r) < 0) {
        r->rfd = -1; /* the caller closes both ends */
        rt_free_sock(rt, r);
        return -ENOMEM;
    }
    return 0;
}

int rt_op_bind(synack_rt *rt, rt_cmd *c)
{
    rt_sock *r = find(rt, c);
    if (!r)
        return -ENOTSOCK;
    if (r->udp)
        return rt_udp_bind(r, c);
    synack_addr a;
    uint16_t port;
    int e = rt_addr_from_sockaddr(c->cval, c->clen, r->family, &a, &port);
    if (e)
        return e;
    if (r->phase != RT_NEW || !r->sk)
        return -EINVAL;
    /* Port 0: Linux picks the port now (getsockname shows it). */
    e = port ? synack_bind_addr(r->sk, &a, port) : synack_bind_any_port(r->sk, &a, &port);
    if (e == 0)
        r->bound = a;
    return e;
}

/* listen(2) on an unbound socket binds it to the family's any address and
 * a free port first (Linux's inet_autobind). */
static int autobind(rt_sock *r)
{
    synack_addr local;
    uint16_t lport = 0;
    synack_sock_addrs(r->sk, &local, &lport, NULL, NULL);
    if (lport)
        return 0;
    synack_addr any;
    memset(&any, 0, sizeof any);
    any.family = r->family == AF_INET6 ? SYNACK_AF_INET6 : SYNACK_AF_INET;
    int e = synack_bind_any_port(r->sk, &any, &lport);
    if (e == 0)
        r->bound = any;
    return e == -EINVAL ? 0 : e; /* bound to port 0 already: listen says */
}

int rt_op_listen(synack_rt *rt, rt_cmd *c)
{
    rt_sock *r = find(rt, c);
    if (!r)
        return -ENOTSOCK;
    if (r->udp)
        return -EOPNOTSUPP; /* as Linux: listen and accept on UDP */
    if (r->phase == RT_LISTENING)
        return 0;
    if (r->phase != RT_NEW)
        return -EINVAL;
    int e = autobind(r);
    if (e == 0)
        e = synack_listen(r->sk, c->how);
    if (e == 0) {
        r->phase = RT_LISTENING;
        rt_mark(rt, r);
    }
    return e;
}

int rt_op_is_listener(synack_rt *rt, rt_cmd *c)
{
    rt_sock *r = find(rt, c);
    if (!r)
        return -ENOTSOCK;
    if (r->udp)
        return -EOPNOTSUPP;
    return r->phase == RT_LISTENING ? 0 : -EINVAL;
}

/* connect on a socket that is not new: Linux's answers. */
static int connect_again(rt_sock *r)
{
    switch (r->phase) {
    case RT_CONNECTING:
        return -EALREADY;
    case RT_OPEN:
        if (!r->connect_seen) { /* the first call after completion says so */
            r->connect_seen = true;
            return 0;
        }
        return -EISCONN;
    case RT_LISTENING:
        return -EISCONN;
    default:
        if (r->so_error && !r->connect_seen) {
            int e = r->so_error;
            r->so_error = 0;
            r->connect_seen = true;
            return -e;
        }
        return r->was_open ? -EISCONN : -ECONNABORTED;
    }
}

int rt_op_connect(synack_rt *rt, rt_cmd *c)
{
    rt_sock *r = find(rt, c);
    if (r && r->udp) {
        close(c->fd); /* the duplicate fd.c made for a TCP connect */
        return rt_udp_connect(r, c);
    }
    synack_addr a;
    uint16_t port;
    int e = !r ? -ENOTSOCK
            : r->phase != RT_NEW ? connect_again(r)
                                 : rt_addr_from_sockaddr(c->cval, c->clen, r->family, &a, &port);
    if (!e && r->phase == RT_NEW && r->family == AF_INET6 && a.family == SYNACK_AF_INET &&
        r->v6only)
        e = -ENETUNREACH; /* an IPv4-mapped peer for an IPv6-only socket */
    if (!e && r->phase == RT_NEW)
        e = synack_connect_addr(r->sk, &a, port);
    if (e || r->phase != RT_NEW) {
        close(c->fd);
        return e;
    }
    r->phase = RT_CONNECTING;
    r->dupfd = c->fd;
    r->connect_seen = false;
    rt_mark(rt, r);
    if (c->nonblock)
        return -EINPROGRESS;
    r->waiting = c;
    return RT_LATER;
}

/* shutdown(2) is the kernel's, on the descriptor: this only checks. A
 * connected UDP socket (c->nonblock set to 1 for fd.c) takes SHUT_RD on
 * its descriptor (reads then return 0, as Linux's) and keeps SHUT_WR
 * here (sends fail EPIPE); its pair is never shut both ways, which would
 * read as its last close. */
int rt_op_shutdown(synack_rt *rt, rt_cmd *c)
{
    rt_sock *r = find(rt, c);
    if (!r)
        return -ENOTSOCK;
    if (r->udp) {
        if (!r->udp_connected)
            return -ENOTCONN;
        r->app_eof |= c->how != SHUT_RD;
        c->nonblock = 1;
        return 0;
    }
    return r->phase == RT_OPEN ? 0 : -ENOTCONN;
}

int rt_op_close(synack_rt *rt, rt_cmd *c)
{
    rt_sock *r = find(rt, c);
    if (!r)
        return 0;
    if (r->phase == RT_DONE) {
        rt_free_sock(rt, r);
        return 0;
    }
    r->forget = true; /* the kernel tells us of the last close: let go then */
    /* SO_LINGER with a time, blocking: the caller waits (fd.c) until the
     * data and the FIN are acknowledged, so keep the connection for it. */
    if (r->phase == RT_OPEN && r->linger_on && r->linger_s > 0 && !c->nonblock) {
        r->linger_hold = true;
        /* in ms: never 1, which would read as RT_LATER */
        return (r->linger_s > 2000000 ? 2000000 : r->linger_s) * 1000;
    }
    return 0;
}

/* Linux's lingering close ends when the FIN is acknowledged (FIN-WAIT-2,
 * TIME-WAIT) or the connection ended; or when the caller gives up, and
 * the connection goes on by itself. */
int rt_op_linger(synack_rt *rt, rt_cmd *c)
{
    rt_sock *r = find(rt, c);
    if (!r)
        return 0;
    if (r->phase != RT_LINGERING) {
        if (c->how) /* gave up before the pump let go: close as usual */
            r->linger_hold = false;
        return c->how ? 0 : -EINPROGRESS;
    }
    int st = synack_sock_state(r->sk);
    bool drained = st == SYNACK_FIN_WAIT_2 || st == SYNACK_TIME_WAIT || st == SYNACK_CLOSED;
    if (!drained && !c->how)
        return -EINPROGRESS;
    synack_sock_set_user(r->sk, NULL);
    synack_close(r->sk);
    r->sk = NULL;
    r->phase = RT_DONE;
    rt_free_sock(rt, r);
    return 0;
}

int rt_op_name(synack_rt *rt, rt_cmd *c)
{
    rt_sock *r = find(rt, c);
    if (!r)
        return -ENOTSOCK;
    if (r->udp)
        return rt_udp_name(rt, r, c);
    rt_note_names(r);
    struct sockaddr_storage *ss = c->val;
    if (c->how) { /* the peer */
        bool connected = r->phase == RT_OPEN && r->tcp_state != SYNACK_CLOSED;
        if (!connected)
            return -ENOTCONN;
        return (int)rt_addr_to_sockaddr(&r->raddr, r->rport, r->family, ss);
    }
    if (r->phase == RT_NEW || r->phase == RT_LISTENING) /* what bind named */
        return (int)rt_addr_to_sockaddr(&r->bound, r->lport, r->family, ss);
    return (int)rt_addr_to_sockaddr(&r->laddr, r->lport, r->family, ss);
}

/* FIONREAD's share the descriptor does not hold, and SIOCOUTQ. */
int rt_op_ioctl(synack_rt *rt, rt_cmd *c)
{
    rt_sock *r = find(rt, c);
    if (!r)
        return -ENOTSOCK;
    if (r->phase == RT_LISTENING)
        return -EINVAL;
    if (!r->sk)
        return 0;
    synack_tcp_info i;
    synack_info(r->sk, &i);
    if (c->how == SIOCINQ)
        return (int)(r->carry_len - r->carry_off + i.recv_queued);
    int unread = 0; /* written by the application, not yet taken by us */
    if (r->rfd >= 0 && ioctl(r->rfd, FIONREAD, &unread) == 0 && unread > 0)
        unread--; /* the held byte */
    return (int)i.send_queued + (r->phase == RT_OPEN ? unread : 0);
}

int rt_op_setsockopt(synack_rt *rt, rt_cmd *c)
{
    rt_sock *r = find(rt, c);
    if (r && r->udp)
        return rt_udp_setsockopt(r, c);
    return r ? rt_setsockopt(rt, r, c) : -ENOTSOCK;
}

int rt_op_getsockopt(synack_rt *rt, rt_cmd *c)
{
    rt_sock *r = find(rt, c);
    if (r && r->udp)
        return rt_udp_getsockopt(rt, r, c);
    return r ? rt_getsockopt(rt, r, c) : -ENOTSOCK;
}

int rt_op_with_stack(synack_rt *rt, rt_cmd *c)
{
    c->fn(c->ctx, rt->stack);
    return 0;
}
