/* io.c — reads and writes on our sockets. On TCP sockets they are libc's
 * calls on the socketpair, except that a failure is answered as Linux's
 * TCP answers it (ETIMEDOUT after a keepalive or user timeout, and
 * ECONNRESET without SIGPIPE for the first write after a reset). On UDP
 * sockets reads take the runtime's header off each datagram and sends go
 * through the runtime (rt/dgram.c), so read, recv, recvfrom, recvmsg,
 * readv and their writing twins all see plain datagrams. Every other
 * descriptor goes straight to libc. A forked child's copies of our
 * sockets still move bytes (the parent's runtime pumps them) and get the
 * pair's own answers (a UDP read then shows the header). */
#include "preload/preload.h"

#include <errno.h>

#include "rt/fdio.h"

/* sendto/sendmsg (preload.c), fortified reads and the vector calls share
 * these; they are ours when they are called. */
static synack_rt *io_rt(void)
{
    return sp_forked() ? NULL : sp_current();
}

static ssize_t udp_recvfrom(synack_rt *rt, int fd, void *buf, size_t n, int flags,
                            struct sockaddr *a, socklen_t *len)
{
    struct iovec iov = {.iov_base = buf, .iov_len = n};
    struct msghdr m = {.msg_name = len ? a : NULL, .msg_namelen = len ? *len : 0,
                       .msg_iov = &iov, .msg_iovlen = 1};
    ssize_t r = INSIDE(rt_dgram_recvmsg(rt, fd, &m, flags));
    if (r >= 0 && len)
        *len = m.msg_namelen;
    return r;
}

static ssize_t our_recv(int fd, void *buf, size_t n, int flags)
{
    synack_rt *rt = io_rt();
    if (!rt)
        return REAL(recv)(fd, buf, n, flags);
    if (sp_ours(fd) == SP_UDP)
        return udp_recvfrom(rt, fd, buf, n, flags, NULL, NULL);
    return INSIDE(rt_stream_recv(rt, fd, buf, n, flags));
}

ssize_t sp_sendto_udp(int fd, const void *buf, size_t n, int flags, const struct sockaddr *a,
                      socklen_t len)
{
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = n};
    struct msghdr m = {.msg_name = (void *)a, .msg_namelen = a ? len : 0, .msg_iov = &iov,
                       .msg_iovlen = 1};
    return sp_sendmsg(fd, &m, flags);
}

static ssize_t our_send(int fd, const void *buf, size_t n, int flags)
{
    synack_rt *rt = io_rt();
    if (!rt)
        return REAL(send)(fd, buf, n, flags);
    if (sp_ours(fd) == SP_UDP)
        return sp_sendto_udp(fd, buf, n, flags, NULL, 0);
    return INSIDE(rt_stream_send(rt, fd, buf, n, flags));
}

ssize_t sp_recvmsg(int fd, struct msghdr *m, int flags)
{
    synack_rt *rt = io_rt();
    if (!rt)
        return REAL(recvmsg)(fd, m, flags);
    return sp_ours(fd) == SP_UDP ? INSIDE(rt_dgram_recvmsg(rt, fd, m, flags))
                                 : INSIDE(rt_stream_recvmsg(rt, fd, m, flags));
}
#define our_recvmsg sp_recvmsg

ssize_t sp_sendmsg(int fd, const struct msghdr *m, int flags)
{
    synack_rt *rt = io_rt();
    if (!rt)
        return REAL(sendmsg)(fd, m, flags);
    return sp_ours(fd) == SP_UDP ? INSIDE(rt_dgram_sendmsg(rt, fd, m, flags))
                                 : INSIDE(rt_stream_sendmsg(rt, fd, m, flags));
}

ssize_t read(int fd, void *buf, size_t n)
{
    if (!sp_ours(fd))
        return REAL(read)(fd, buf, n);
    ssize_t r = our_recv(fd, buf, n, 0);
    return r < 0 && errno == ENOTSOCK ? REAL(read)(fd, buf, n) : r;
}

ssize_t write(int fd, const void *buf, size_t n)
{
    if (!sp_ours(fd))
        return REAL(write)(fd, buf, n);
    ssize_t r = our_send(fd, buf, n, 0);
    return r < 0 && errno == ENOTSOCK ? REAL(write)(fd, buf, n) : r;
}

ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    return sp_ours(fd) ? our_recv(fd, buf, n, flags) : REAL(recv)(fd, buf, n, flags);
}

ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    return sp_ours(fd) ? our_send(fd, buf, n, flags) : REAL(send)(fd, buf, n, flags);
}

/* TCP names no sender: the address comes back empty, as Linux's. */
ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *a, socklen_t *len)
{
    int kind = sp_ours(fd);
    if (!kind)
        return REAL(recvfrom)(fd, buf, n, flags, a, len);
    synack_rt *rt = io_rt();
    if (kind == SP_UDP && rt)
        return udp_recvfrom(rt, fd, buf, n, flags, a, len);
    ssize_t r = our_recv(fd, buf, n, flags);
    if (r >= 0 && a && len)
        *len = 0;
    return r;
}

ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
    return sp_ours(fd) ? our_recvmsg(fd, m, flags) : REAL(recvmsg)(fd, m, flags);
}

ssize_t readv(int fd, const struct iovec *iov, int count)
{
    if (!sp_ours(fd) || count < 0)
        return REAL(readv)(fd, iov, count);
    struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)count};
    ssize_t r = our_recvmsg(fd, &m, 0);
    return r < 0 && errno == ENOTSOCK ? REAL(readv)(fd, iov, count) : r;
}

ssize_t writev(int fd, const struct iovec *iov, int count)
{
    if (!sp_ours(fd) || count < 0)
        return REAL(writev)(fd, iov, count);
    struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)count};
    ssize_t r = sp_sendmsg(fd, &m, 0);
    return r < 0 && errno == ENOTSOCK ? REAL(writev)(fd, iov, count) : r;
}

/* _FORTIFY_SOURCE turns reads into a buffer of known size into these
 * (Debian builds its programs so); an overflow still aborts in libc's. */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t size)
{
    if (!sp_ours(fd) || n > size)
        return REAL(__read_chk)(fd, buf, n, size);
    return read(fd, buf, n);
}

ssize_t __recv_chk(int fd, void *buf, size_t n, size_t size, int flags)
{
    if (!sp_ours(fd) || n > size)
        return REAL(__recv_chk)(fd, buf, n, size, flags);
    return our_recv(fd, buf, n, flags);
}

ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t size, int flags, struct sockaddr *a,
                       socklen_t *len)
{
    if (!sp_ours(fd) || n > size)
        return REAL(__recvfrom_chk)(fd, buf, n, size, flags, a, len);
    return recvfrom(fd, buf, n, flags, a, len);
}
