/* conn.c — a connect's outcome made visible on the descriptor, and a
 * listener's connections handed over as descriptors.
 *
 * Connecting: the application's end was made unwritable before it was
 * handed out (fd.c: the smallest SO_SNDBUF, and filler bytes written into
 * our end until a write would block), so poll shows no POLLOUT while the
 * SYN is out. On success we read all the filler but the held byte and
 * restore the send buffer through a duplicate of the application's end we
 * keep meanwhile: POLLOUT appears. On failure we close our end with the
 * filler unread: the application sees POLLERR|POLLHUP (pump.c says why),
 * and SO_ERROR the real errno.
 *
 * Listening: for each connection synack accepts we make a socketpair, put
 * a token byte in our end (the held byte of pump.c), and send the
 * application's end over the listener's pair with SCM_RIGHTS and the
 * peer's address: accept is a recvmsg. What the listener's pair cannot
 * take yet waits on the listener's `parked` list, and while anything is
 * parked nothing more is taken from synack's accept queue, so its backlog
 * still bounds the connections waiting (plus those in flight). */
#define _GNU_SOURCE
#include "rt/rt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int rt_socketpair(int *app, int *ours, int cloexec, int type)
{
    int sv[2];
    if (socketpair(AF_UNIX, type | (cloexec ? SOCK_CLOEXEC : 0), 0, sv) < 0)
        return -errno;
    if (!cloexec)
        fcntl(sv[1], F_SETFD, FD_CLOEXEC); /* ours never leaks into an exec */
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    /* The held byte (pump.c) keeps its whole skb in the application's send
     * accounting, and Linux shows the end writable only while that is at
     * most a quarter of SO_SNDBUF. A write's skb stays under a quarter of
     * the default; sendfile's (up to 17 pages) does not, and would never
     * see POLLOUT again. Linux doubles this to 425984: room for both. */
    int sndbuf = RT_APP_SNDBUF;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    *app = sv[0];
    *ours = sv[1];
    return 0;
}

uint64_t rt_fd_ino(int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return 0;
    if (!S_ISSOCK(st.st_mode)) {
        errno = ENOTSOCK;
        return 0;
    }
    return (uint64_t)st.st_ino;
}

rt_sock *rt_sock_new(synack_rt *rt, int rfd, uint64_t ino, int family)
{
    (void)rt;
    rt_sock *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->w.kind = RT_WATCH_SOCK;
    r->rfd = rfd;
    r->dupfd = -1;
    r->ino = ino;
    r->family = family;
    r->bound = synack_addr_v4(0);
    return r;
}

static void connected(synack_rt *rt, rt_sock *r)
{
    for (int left = r->filler - 1; left > 0;) { /* all but the held byte */
        ssize_t n = recv(r->rfd, rt->scratch, (size_t)left, MSG_DONTWAIT);
        if (n <= 0)
            break;
        left -= (int)n;
    }
    int v = r->app_sndbuf;
    setsockopt(r->dupfd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
    close(r->dupfd);
    r->dupfd = -1;
    r->phase = RT_OPEN;
    r->was_open = true;
    r->rd = r->wr = true; /* look again: the edges may have passed */
    rt_note_names(r);
    if (r->waiting) {
        r->connect_seen = true;
        rt_cmd_finish(rt, r->waiting, 0);
        r->waiting = NULL;
    }
    rt_mark(rt, r);
}

static void failed(synack_rt *rt, rt_sock *r, int err)
{
    if (r->waiting) { /* a blocking connect reports it; SO_ERROR is then clear */
        r->connect_seen = true;
        rt_cmd_finish(rt, r->waiting, -err);
        r->waiting = NULL;
        rt_let_go(rt, r, err);
        r->so_error = 0;
        return;
    }
    rt_let_go(rt, r, err);
}

void rt_pump_connecting(synack_rt *rt, rt_sock *r)
{
    int state = synack_sock_state(r->sk);
    if (state == SYNACK_SYN_SENT || state == SYNACK_SYN_RECEIVED)
        return;
    if (state == SYNACK_CLOSED) {
        int err = -synack_sock_error(r->sk);
        failed(rt, r, err > 0 ? err : ECONNREFUSED);
        return;
    }
    connected(rt, r);
}

/* A record, a socketpair and a token for a connection synack accepted.
 * The application's end waits in `dupfd` until it is handed over. */
static rt_sock *adopt(synack_rt *rt, rt_sock *l, synack_sock *k)
{
    int app, ours;
    if (rt_socketpair(&app, &ours, 1, SOCK_STREAM) < 0)
        return NULL;
    uint64_t ino = rt_fd_ino(app);
    rt_sock *r = ino && send(app, "", 1, MSG_DONTWAIT) == 1 ? rt_sock_new(rt, ours, ino, l->family)
                                                             : NULL;
    if (!r || rt_insert(rt, r) < 0) {
        free(r);
        close(app);
        close(ours);
        return NULL;
    }
    r->dupfd = app;
    r->sk = k;
    r->phase = RT_OPEN;
    r->was_open = r->connect_seen = true;
    synack_sock_set_user(k, r);
    rt_note_names(r);
    if (rt_watch_end(rt, r) < 0) {
        rt_free_sock(rt, r);
        return NULL;
    }
    return r;
}

/* Send the application's end of `r` over the listener's pair. 0, -EAGAIN
 * (full: wait for EPOLLOUT), or another -errno (the listener is gone). */
static int hand_over(synack_rt *rt, rt_sock *l, rt_sock *r)
{
    rt_accept_msg m = {0};
    struct sockaddr_storage ss;
    m.len = rt_addr_to_sockaddr(&r->raddr, r->rport, l->family, &ss);
    m.peer = ss;
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct iovec iov = {.iov_base = &m, .iov_len = sizeof m};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                         .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &r->dupfd, sizeof(int));
    /* In a group every member's listener sends on (a duplicate of) this
     * one pair. One small message is one skb, which Linux queues whole,
     * but the lock keeps each message whole whatever the kernel does. */
    rt_group_hand_lock(rt, true);
    ssize_t sent = sendmsg(l->rfd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    int e = errno;
    rt_group_hand_lock(rt, false);
    if (sent < 0)
        return -e;
    close(r->dupfd); /* the message holds it now */
    r->dupfd = -1;
    return 0;
}

/* Hand over what is parked, oldest first. True when nothing is left. */
static bool flush_parked(synack_rt *rt, rt_sock *l)
{
    while (l->parked) {
        if (l->parked->phase == RT_DONE) { /* reset before it was handed over */
            rt_sock *gone = l->parked;
            l->parked = gone->pnext;
            rt_free_sock(rt, gone);
            continue;
        }
        int e = hand_over(rt, l, l->parked);
        if (e == -EAGAIN || e == -EINTR) {
            l->wr = false;
            return false;
        }
        if (e < 0)
            return false; /* the listener's descriptor is gone: HUP follows */
        l->parked = l->parked->pnext;
    }
    return true;
}

static void park(rt_sock *l, rt_sock *r)
{
    rt_sock **p = &l->parked;
    while (*p)
        p = &(*p)->pnext;
    r->pnext = NULL;
    *p = r;
}

void rt_pump_listener(synack_rt *rt, rt_sock *l)
{
    if (l->hup) { /* the application closed the listener */
        l->forget = true;
        rt_let_go(rt, l, 0);
        return;
    }
    while (flush_parked(rt, l)) {
        int err;
        synack_sock *k = synack_accept(l->sk, &err);
        if (!k)
            return;
        rt_sock *r = adopt(rt, l, k);
        if (!r) {
            synack_abort(k); /* no descriptors left: refuse it as Linux would */
            continue;
        }
        park(l, r);
    }
}
