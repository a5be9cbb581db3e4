/* io.c — reads and writes on the runtime's descriptors that end in
 * Linux's errno.
 *
 * The descriptor is an AF_UNIX pair (pump.c), so once a connection ends in
 * an error every read shows ECONNRESET and every write EPIPE with SIGPIPE,
 * whatever the cause. Linux instead keeps one pending error per socket
 * (sk_err) and reports it once: to the first read, write or SO_ERROR that
 * comes. The runtime keeps that error (SO_ERROR); these calls report it in
 * place of the pair's, so a keepalive or user timeout reads ETIMEDOUT, and
 * the first write after a reset fails ECONNRESET without a signal, as
 * tcp_sendmsg does; after it, reads see EOF and writes EPIPE with SIGPIPE.
 * The fast path is the plain call: the runtime is asked only on failure. */
#define _GNU_SOURCE
#include "rt/rt.h"

#include <errno.h>
#include <signal.h>

/* The pending error, taken (SO_ERROR clears it); -1 if there is no record. */
static int take_error(synack_rt *rt, int fd)
{
    int e = 0;
    socklen_t l = sizeof e;
    int saved = errno;
    int r = synack_fd_getsockopt(rt, fd, SOL_SOCKET, SO_ERROR, &e, &l);
    errno = saved;
    return r < 0 ? -1 : e;
}

/* A read failed with the pair's ECONNRESET: the real error, or EOF when
 * it was reported already (Linux: RCV_SHUTDOWN after tcp_done). */
static ssize_t read_failed(synack_rt *rt, int fd)
{
    int e = take_error(rt, fd);
    if (e < 0)
        return -1; /* not a socket of this runtime: the pair's own errno */
    if (e == 0)
        return 0;
    errno = e;
    return -1;
}

/* A write failed (sent with MSG_NOSIGNAL, so EPIPE came without a signal): the pending error
 * without a signal, else EPIPE and SIGPIPE to this thread unless the
 * caller said MSG_NOSIGNAL (sk_stream_error). */
static ssize_t write_failed(synack_rt *rt, int fd, int flags)
{
    int e = take_error(rt, fd);
    if (e > 0) {
        errno = e;
        return -1;
    }
    if (!(flags & MSG_NOSIGNAL))
        raise(SIGPIPE);
    errno = EPIPE;
    return -1;
}

ssize_t rt_stream_recv(synack_rt *rt, int fd, void *buf, size_t n, int flags)
{
    ssize_t r = recv(fd, buf, n, flags);
    return r < 0 && errno == ECONNRESET ? read_failed(rt, fd) : r;
}

ssize_t rt_stream_recvmsg(synack_rt *rt, int fd, struct msghdr *m, int flags)
{
    ssize_t r = recvmsg(fd, m, flags);
    return r < 0 && errno == ECONNRESET ? read_failed(rt, fd) : r;
}

ssize_t rt_stream_send(synack_rt *rt, int fd, const void *buf, size_t n, int flags)
{
    ssize_t r = send(fd, buf, n, flags | MSG_NOSIGNAL);
    return r < 0 && (errno == EPIPE || errno == ECONNRESET) ? write_failed(rt, fd, flags) : r;
}

ssize_t rt_stream_sendmsg(synack_rt *rt, int fd, const struct msghdr *m, int flags)
{
    ssize_t r = sendmsg(fd, m, flags | MSG_NOSIGNAL);
    return r < 0 && (errno == EPIPE || errno == ECONNRESET) ? write_failed(rt, fd, flags) : r;
}

/* The public calls serve both kinds: a UDP descriptor is a SEQPACKET pair. */
ssize_t synack_fd_recvfrom(synack_rt *rt, int fd, void *buf, size_t n, int flags,
                           struct sockaddr *from, socklen_t *fromlen)
{
    if (!rt_fd_is_dgram(fd)) { /* TCP names no sender, as Linux's */
        ssize_t r = rt_stream_recv(rt, fd, buf, n, flags);
        if (r >= 0 && from && fromlen)
            *fromlen = 0;
        return r;
    }
    struct iovec iov = {.iov_base = buf, .iov_len = n};
    struct msghdr m = {.msg_name = fromlen ? from : NULL, .msg_namelen = fromlen ? *fromlen : 0,
                       .msg_iov = &iov, .msg_iovlen = 1};
    ssize_t r = rt_dgram_recvmsg(rt, fd, &m, flags);
    if (r >= 0 && from && fromlen)
        *fromlen = m.msg_namelen;
    return r;
}

ssize_t synack_fd_recv(synack_rt *rt, int fd, void *buf, size_t n, int flags)
{
    return synack_fd_recvfrom(rt, fd, buf, n, flags, NULL, NULL);
}

ssize_t synack_fd_recvmsg(synack_rt *rt, int fd, struct msghdr *m, int flags)
{
    return rt_fd_is_dgram(fd) ? rt_dgram_recvmsg(rt, fd, m, flags)
                              : rt_stream_recvmsg(rt, fd, m, flags);
}

/* TCP ignores a destination (a connected socket's peer is the one); the
 * pair would refuse it, so it is dropped here. */
ssize_t synack_fd_sendto(synack_rt *rt, int fd, const void *buf, size_t n, int flags,
                         const struct sockaddr *to, socklen_t tolen)
{
    if (!rt_fd_is_dgram(fd))
        return rt_stream_send(rt, fd, buf, n, flags);
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = n};
    struct msghdr m = {.msg_name = (void *)to, .msg_namelen = to ? tolen : 0, .msg_iov = &iov,
                       .msg_iovlen = 1};
    return rt_dgram_sendmsg(rt, fd, &m, flags);
}

ssize_t synack_fd_send(synack_rt *rt, int fd, const void *buf, size_t n, int flags)
{
    return synack_fd_sendto(rt, fd, buf, n, flags, NULL, 0);
}

ssize_t synack_fd_sendmsg(synack_rt *rt, int fd, const struct msghdr *m, int flags)
{
    if (rt_fd_is_dgram(fd))
        return rt_dgram_sendmsg(rt, fd, m, flags);
    struct msghdr copy = *m; /* a destination too, as sendto above */
    copy.msg_name = NULL;
    copy.msg_namelen = 0;
    return rt_stream_sendmsg(rt, fd, &copy, flags);
}
