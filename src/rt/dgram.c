/* dgram.c — reads and sends on a UDP descriptor, on the application's
 * thread.
 *
 * Reads are the kernel's recvmsg on the pair with one more iovec in front
 * for the header udp.c puts before each datagram: the payload lands in the
 * caller's buffers, the header says who sent it and how long it was
 * (MSG_TRUNC), and MSG_PEEK and MSG_DONTWAIT, O_NONBLOCK, SO_RCVTIMEO and
 * EINTR are the kernel's own. An error marker (an ICMP error came) makes
 * the read take the pending error, if a send or SO_ERROR did not take it
 * first; then the read goes on to the next datagram.
 *
 * Sends are calls: the runtime sends the datagram while the caller waits,
 * and the errno is the stack's (EDESTADDRREQ, EMSGSIZE, ECONNREFUSED from
 * a pending ICMP error, ENETUNREACH ...), as Linux's sendmsg decides it
 * before returning. */
#define _GNU_SOURCE
#include "rt/rt.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#define RT_IOV_ON_STACK 8

bool rt_fd_is_dgram(int fd)
{
    int type = 0;
    socklen_t l = sizeof type;
    return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) == 0 && type == SOCK_SEQPACKET;
}

int rt_dgram_inq(int fd)
{
    rt_dgram_hdr h;
    ssize_t n = recv(fd, &h, sizeof h, MSG_PEEK | MSG_DONTWAIT);
    return n >= (ssize_t)sizeof h && h.kind == RT_DGRAM_DATA ? (int)h.len : 0;
}

/* A marker was read (or peeked: then it is taken off now). The pending
 * error, taken, or 0 when something else took it already. */
static int marker_error(synack_rt *rt, int fd, int flags)
{
    if (flags & MSG_PEEK) {
        rt_dgram_hdr h;
        ssize_t n = recv(fd, &h, sizeof h, MSG_DONTWAIT);
        (void)n;
    }
    int e = 0;
    socklen_t l = sizeof e;
    return synack_fd_getsockopt(rt, fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0 ? 0 : e;
}

/* One message off the pair into h and the caller's buffers: the result
 * as recvmsg(2) gives it, or -2 for "a marker without an error: again". */
static ssize_t take(synack_rt *rt, int fd, struct msghdr *m, struct iovec *iov, int flags)
{
    rt_dgram_hdr h;
    iov[0].iov_base = &h;
    iov[0].iov_len = sizeof h;
    struct msghdr km = {.msg_iov = iov, .msg_iovlen = m->msg_iovlen + 1};
    ssize_t n = recvmsg(fd, &km, flags & (MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC));
    if (n < (ssize_t)sizeof h)
        return n < 0 ? -1 : 0; /* 0: shut for reading, or the runtime let go */
    if (h.kind == RT_DGRAM_ERROR) {
        int e = marker_error(rt, fd, flags);
        if (!e)
            return -2;
        errno = e;
        return -1;
    }
    if (m->msg_name) {
        struct sockaddr_storage ss;
        socklen_t have = rt_addr_to_sockaddr(&h.addr, h.port, h.family, &ss);
        rt_addr_copy_out(&ss, have, m->msg_name, &m->msg_namelen);
    }
    m->msg_controllen = 0; /* no IP_PKTINFO and friends */
    m->msg_flags = km.msg_flags & MSG_TRUNC;
    size_t got = (size_t)n - sizeof h;
    return (ssize_t)((flags & MSG_TRUNC) ? h.len : (got < h.len ? got : h.len));
}

ssize_t rt_dgram_recvmsg(synack_rt *rt, int fd, struct msghdr *m, int flags)
{
    if (flags & MSG_ERRQUEUE) { /* no IP_RECVERR: the error queue is empty */
        errno = EAGAIN;
        return -1;
    }
    if (m->msg_iovlen >= IOV_MAX) {
        errno = EMSGSIZE;
        return -1;
    }
    struct iovec stack[RT_IOV_ON_STACK + 1];
    struct iovec *iov = stack;
    if (m->msg_iovlen > RT_IOV_ON_STACK && !(iov = malloc((m->msg_iovlen + 1) * sizeof *iov))) {
        errno = ENOMEM;
        return -1;
    }
    if (m->msg_iovlen)
        memcpy(iov + 1, m->msg_iov, m->msg_iovlen * sizeof *iov);
    ssize_t r;
    while ((r = take(rt, fd, m, iov, flags)) == -2)
        ;
    if (iov != stack)
        free(iov);
    return r;
}

ssize_t rt_dgram_sendmsg(synack_rt *rt, int fd, const struct msghdr *m, int flags)
{
    if (flags & MSG_OOB) {
        errno = EOPNOTSUPP;
        return -1;
    }
    rt_cmd c;
    memset(&c, 0, sizeof c);
    c.run = rt_udp_send;
    c.fd = -1;
    c.ino = rt_fd_ino(fd);
    if (!c.ino)
        return -1;
    c.cval = m;
    c.how = flags;
    int r = rt_call(rt, &c);
    if (r < 0) {
        errno = -r;
        return -1;
    }
    return c.ival;
}
