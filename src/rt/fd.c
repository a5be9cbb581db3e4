/* fd.c — the synack_fd_* calls, on the application's thread: they check
 * what needs no stack, hand the rest to the runtime thread (ops.c), and
 * answer as the BSD calls do: -1 and errno. */
#define _GNU_SOURCE
#include "rt/ops.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static int answer(int r)
{
    if (r < 0) {
        errno = -r;
        return -1;
    }
    return r;
}

/* A command for the socket behind `fd`; false (errno set) if not one. */
static bool cmd_for(rt_cmd *c, int fd, int (*run)(synack_rt *, rt_cmd *))
{
    memset(c, 0, sizeof *c);
    c->run = run;
    c->fd = -1;
    c->ino = rt_fd_ino(fd);
    return c->ino != 0;
}

/* Make the new descriptor unwritable until a connect completes: with the
 * smallest send buffer a handful of 1-byte writes into our end fill it
 * (each is an skb of several hundred bytes of truesize). Returns the
 * filler's length; the buffer it had is kept in *had for conn.c. */
static int fill(int app, int *had)
{
    socklen_t l = sizeof *had;
    getsockopt(app, SOL_SOCKET, SO_SNDBUF, had, &l);
    *had /= 2; /* Linux doubles what is set and reports the doubled value */
    int small = RT_FILLER_SNDBUF;
    setsockopt(app, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    int n = 0;
    while (n < 4096 && send(app, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1)
        n++;
    return n;
}

int synack_fd_socket(synack_rt *rt, int family, int flags)
{
    return synack_fd_socket_type(rt, family, SOCK_STREAM, flags);
}

int synack_fd_socket_type(synack_rt *rt, int family, int type, int flags)
{
    if (family != AF_INET && family != AF_INET6)
        return answer(-EAFNOSUPPORT);
    if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
        return answer(-EINVAL);
    if (type != SOCK_STREAM && type != SOCK_DGRAM)
        return answer(-ESOCKTNOSUPPORT); /* inet_create's answer */
    bool dgram = type == SOCK_DGRAM;
    int app, ours;
    int e = rt_socketpair(&app, &ours, flags & SOCK_CLOEXEC, dgram ? SOCK_SEQPACKET : SOCK_STREAM);
    if (e)
        return answer(e);
    rt_cmd c;
    memset(&c, 0, sizeof c);
    c.run = dgram ? rt_udp_socket : rt_op_socket;
    c.fd = ours;
    c.family = family;
    if (!dgram) /* a UDP descriptor is writable from the start */
        c.how = fill(app, &c.level);
    c.ino = rt_fd_ino(app);
    if (flags & SOCK_NONBLOCK)
        fcntl(app, F_SETFL, fcntl(app, F_GETFL) | O_NONBLOCK);
    e = c.ino ? rt_call(rt, &c) : -errno;
    if (e < 0) {
        close(app);
        close(ours);
        return answer(e);
    }
    return app;
}

int synack_fd_bind(synack_rt *rt, int fd, const struct sockaddr *addr, socklen_t len)
{
    rt_cmd c;
    if (!cmd_for(&c, fd, rt_op_bind))
        return -1;
    c.cval = addr;
    c.clen = len;
    return answer(rt_call(rt, &c));
}

int synack_fd_listen(synack_rt *rt, int fd, int backlog)
{
    rt_cmd c;
    if (!cmd_for(&c, fd, rt_op_listen))
        return -1;
    c.how = backlog;
    int e = rt_call(rt, &c);
    if (e == 0 && rt_group_size(rt) > 1) /* every member listens (glisten.c) */
        e = rt_group_listen(rt, c.ino, backlog);
    return answer(e);
}

int synack_fd_connect(synack_rt *rt, int fd, const struct sockaddr *addr, socklen_t len)
{
    rt_cmd c;
    if (!cmd_for(&c, fd, rt_op_connect))
        return -1;
    int fl = fcntl(fd, F_GETFL);
    c.nonblock = fl >= 0 && (fl & O_NONBLOCK);
    c.cval = addr;
    c.clen = len;
    /* The runtime keeps a duplicate while the SYN is out, to restore the
     * send buffer once connected (conn.c); it closes it otherwise. */
    c.fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (c.fd < 0)
        return -1;
    return answer(rt_call(rt, &c));
}

/* One record off the listener's pair: the peer's address, and the
 * connection's descriptor with it. */
static int take_connection(int fd, rt_accept_msg *m, int flags)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = {.iov_base = m, .iov_len = sizeof *m};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                         .msg_controllen = sizeof u.buf};
    ssize_t n = recvmsg(fd, &msg, (flags & SOCK_CLOEXEC) ? MSG_CMSG_CLOEXEC : 0);
    if (n < 0)
        return -errno; /* EAGAIN, EINTR: the kernel's, as they should be */
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (n == 0 || !c || c->cmsg_type != SCM_RIGHTS)
        return (msg.msg_flags & MSG_CTRUNC) ? -EMFILE : -EINVAL; /* listener gone */
    int nfd;
    memcpy(&nfd, CMSG_DATA(c), sizeof nfd);
    if ((size_t)n < sizeof *m) {
        close(nfd);
        return -EPROTO;
    }
    return nfd;
}

int synack_fd_accept(synack_rt *rt, int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
        return answer(-EINVAL);
    rt_cmd c;
    if (!cmd_for(&c, fd, rt_op_is_listener))
        return -1;
    int e = rt_call(rt, &c);
    if (e < 0)
        return answer(e);
    rt_accept_msg m;
    int nfd = take_connection(fd, &m, flags);
    if (nfd < 0)
        return answer(nfd);
    if (flags & SOCK_NONBLOCK)
        fcntl(nfd, F_SETFL, fcntl(nfd, F_GETFL) | O_NONBLOCK);
    if (len)
        rt_addr_copy_out(&m.peer, (socklen_t)m.len, addr, len);
    return nfd;
}

int synack_fd_shutdown(synack_rt *rt, int fd, int how)
{
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
        return answer(-EINVAL);
    rt_cmd c;
    if (!cmd_for(&c, fd, rt_op_shutdown))
        return -1;
    c.how = how;
    int e = rt_call(rt, &c);
    if (e < 0)
        return answer(e);
    if (c.nonblock) /* UDP (ops.c): only a read side to shut on the pair */
        return how == SHUT_WR ? 0 : shutdown(fd, SHUT_RD);
    /* The kernel's shutdown on our pair reaches the runtime in order,
     * behind the bytes written before it (pump.c). */
    return shutdown(fd, how);
}

/* SO_LINGER with a time: wait up to `ms` for the connection's data and
 * FIN to be acknowledged, asking the runtime every few milliseconds. */
static void linger(synack_rt *rt, uint64_t ino, int ms)
{
    struct timespec now, end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += ms / 1000;
    for (;;) {
        rt_cmd c;
        memset(&c, 0, sizeof c);
        c.run = rt_op_linger;
        c.ino = ino;
        clock_gettime(CLOCK_MONOTONIC, &now);
        bool late = now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec);
        c.how = late;
        if (rt_call(rt, &c) != -EINPROGRESS || late)
            return; /* drained, gone, given up, or the runtime stopped */
        nanosleep(&(struct timespec){.tv_nsec = 2000000}, NULL);
    }
}

int synack_fd_close(synack_rt *rt, int fd)
{
    rt_cmd c;
    bool ours = cmd_for(&c, fd, rt_op_close);
    int fl = ours ? fcntl(fd, F_GETFL) : 0;
    c.nonblock = fl >= 0 && (fl & O_NONBLOCK);
    if (!ours)
        return close(fd);
    /* Tell the runtime first: once the kernel closes the pair the pump may
     * see the hang-up at once, and a lingering close must be known by then
     * (else the connection is let go and close does not wait). */
    int ms = rt_call(rt, &c); /* a runtime that stopped has nothing to forget */
    if (close(fd) < 0)
        return -1;
    if (ms > 0)
        linger(rt, c.ino, ms);
    return 0;
}

static int name(synack_rt *rt, int fd, struct sockaddr *addr, socklen_t *len, int peer)
{
    rt_cmd c;
    if (!cmd_for(&c, fd, rt_op_name))
        return -1;
    if (!len)
        return answer(-EFAULT);
    struct sockaddr_storage ss;
    c.val = &ss;
    c.how = peer;
    int n = rt_call(rt, &c);
    if (n < 0)
        return answer(n);
    rt_addr_copy_out(&ss, (socklen_t)n, addr, len);
    return 0;
}

int synack_fd_getsockname(synack_rt *rt, int fd, struct sockaddr *addr, socklen_t *len)
{
    return name(rt, fd, addr, len, 0);
}

int synack_fd_getpeername(synack_rt *rt, int fd, struct sockaddr *addr, socklen_t *len)
{
    return name(rt, fd, addr, len, 1);
}

/* TCP_NODELAY, TCP_CORK and TCP_QUICKACK take any int and cannot fail on
 * a socket of ours; servers flip them around every response (nginx's
 * tcp_nopush: cork, write, uncork), and waiting for the runtime each time
 * stalled a single-threaded server a round trip per flip. So they are
 * posted: in order with every other call, answered at once. */
static bool postable(int level, int name_, const void *val, socklen_t len)
{
    return level == IPPROTO_TCP &&
           (name_ == TCP_NODELAY || name_ == TCP_CORK || name_ == TCP_QUICKACK) && val &&
           len >= (socklen_t)sizeof(int);
}

static int post_option(synack_rt *rt, int fd, int level, int name_, const void *val)
{
    rt_cmd *c = malloc(sizeof *c);
    if (!c)
        return answer(-ENOMEM);
    if (!cmd_for(c, fd, rt_op_setsockopt)) {
        free(c);
        return -1;
    }
    c->level = level;
    c->name = name_;
    memcpy(&c->ival, val, sizeof c->ival);
    c->cval = &c->ival;
    c->clen = sizeof c->ival;
    /* Corking, Nagle on, delayed ACKs: they wait for the next bytes, which
     * wake the runtime anyway. Uncorking, Nagle off and a quick ACK push
     * what waits: now. */
    bool pushes = c->ival ? name_ != TCP_CORK : name_ == TCP_CORK;
    return answer(rt_post(rt, c, pushes));
}

int synack_fd_setsockopt(synack_rt *rt, int fd, int level, int name_, const void *val,
                         socklen_t len)
{
    if (level == SOL_SOCKET && name_ == SO_RCVLOWAT) /* the descriptor's own */
        return setsockopt(fd, level, name_, val, len);
    if (postable(level, name_, val, len))
        return post_option(rt, fd, level, name_, val);
    rt_cmd c;
    if (!cmd_for(&c, fd, rt_op_setsockopt))
        return -1;
    c.level = level;
    c.name = name_;
    c.cval = val;
    c.clen = len;
    return answer(rt_call(rt, &c));
}

int synack_fd_getsockopt(synack_rt *rt, int fd, int level, int name_, void *val, socklen_t *len)
{
    if (level == SOL_SOCKET && name_ == SO_RCVLOWAT)
        return getsockopt(fd, level, name_, val, len);
    rt_cmd c;
    if (!cmd_for(&c, fd, rt_op_getsockopt))
        return -1;
    if (!val || !len)
        return answer(-EFAULT);
    c.level = level;
    c.name = name_;
    c.val = val;
    c.len = len;
    int r = answer(rt_call(rt, &c));
    int got = 0;
    if (r == 0 && level == SOL_SOCKET && name_ == SO_ERROR && *len >= (socklen_t)sizeof got)
        memcpy(&got, val, sizeof got);
    if (got) { /* not when clear: a reset that came meanwhile stays shown */
        /* One pending error, as Linux: the pair's ECONNRESET (pump.c)
         * stood for the one just taken, so a later read sees EOF. */
        int junk;
        socklen_t jl = sizeof junk;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &junk, &jl);
    }
    return r;
}

int synack_fd_ioctl(synack_rt *rt, int fd, unsigned long request, int *value)
{
    if (request == FIONBIO)
        return ioctl(fd, FIONBIO, value);
    if (request != SIOCINQ && request != SIOCOUTQ)
        return answer(-ENOTTY);
    if (rt_fd_is_dgram(fd)) { /* the next datagram's length; nothing waits to go */
        *value = request == SIOCINQ ? rt_dgram_inq(fd) : 0;
        return 0;
    }
    rt_cmd c;
    if (!cmd_for(&c, fd, rt_op_ioctl))
        return -1;
    c.how = (int)request;
    int n = rt_call(rt, &c);
    if (n < 0)
        return answer(n);
    int here = 0; /* what already sits in the descriptor */
    if (request == SIOCINQ && ioctl(fd, SIOCINQ, &here) < 0)
        here = 0;
    *value = n + here;
    return 0;
}
