/* preload.c — the socket calls libsynack-preload.so takes over (see
 * preload.h). A TCP or UDP socket of either family becomes a synack
 * socket: a
 * real descriptor (one end of an AF_UNIX socketpair, docs/runtime.md), so
 * poll, select and epoll stay libc's and the kernel's, and so do reads and
 * writes until they fail (io.c). The calls that name the socket's TCP side
 * are sent to synack_fd_*, which already answer with Linux's errno. */
#include "preload/preload.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Built without _GNU_SOURCE, so that glibc declares the sockaddr arguments
 * as plain pointers (with it they are transparent unions); these three are
 * GNU's. */
int accept4(int fd, struct sockaddr *a, socklen_t *len, int flags);
int dup3(int fd, int nfd, int flags);
int fcntl64(int fd, int cmd, ...);

__thread int sp_inside;
atomic_uchar sp_fds[SP_MAX_FD];

static void mark(int fd, int ours)
{
    if (fd >= 0 && fd < SP_MAX_FD)
        atomic_store_explicit(&sp_fds[fd], (unsigned char)ours, memory_order_relaxed);
}

#define is_ours sp_ours

/* The runtime for a call on one of our sockets; NULL (errno ENETDOWN,
 * said once) in a forked child, where the runtime thread does not run. */
static synack_rt *rt_for(const char *call)
{
    synack_rt *rt = sp_forked() ? NULL : sp_current();
    if (!rt) {
        static atomic_int said;
        if (!atomic_exchange(&said, 1))
            sp_say(call, ": a socket made before fork(); synack's sockets work only in the "
                         "process that made them", "");
        errno = ENETDOWN;
    }
    return rt;
}

static int take(int fd, int kind)
{
    if (fd >= SP_MAX_FD) {
        INSIDE(REAL(close)(fd));
        sp_say("socket: descriptor numbers this high are not supported", "", "");
        errno = EMFILE;
        return -1;
    }
    mark(fd, kind);
    return fd;
}

/* SOCK_STREAM with TCP, SOCK_DGRAM with UDP: ours; anything else libc's. */
static int kind_of(int domain, int type, int protocol)
{
    if (sp_inside || (domain != AF_INET && domain != AF_INET6))
        return 0;
    type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (type == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP))
        return SP_TCP;
    if (type == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP))
        return SP_UDP;
    return 0;
}

int socket(int domain, int type, int protocol)
{
    int kind = kind_of(domain, type, protocol);
    if (!kind)
        return REAL(socket)(domain, type, protocol);
    synack_rt *rt = sp_runtime();
    if (!rt)
        return -1;
    int fd = INSIDE(synack_fd_socket_type(rt, domain, kind == SP_UDP ? SOCK_DGRAM : SOCK_STREAM,
                                          type & (SOCK_NONBLOCK | SOCK_CLOEXEC)));
    return fd < 0 ? -1 : take(fd, kind);
}

int bind(int fd, const struct sockaddr *a, socklen_t len)
{
    if (!is_ours(fd))
        return REAL(bind)(fd, a, len);
    synack_rt *rt = rt_for("bind");
    return rt ? INSIDE(synack_fd_bind(rt, fd, a, len)) : -1;
}

int listen(int fd, int backlog)
{
    if (!is_ours(fd))
        return REAL(listen)(fd, backlog);
    synack_rt *rt = rt_for("listen");
    return rt ? INSIDE(synack_fd_listen(rt, fd, backlog)) : -1;
}

int accept4(int fd, struct sockaddr *a, socklen_t *len, int flags)
{
    if (!is_ours(fd))
        return REAL(accept4)(fd, a, len, flags);
    synack_rt *rt = rt_for("accept");
    if (!rt)
        return -1;
    int nfd = INSIDE(synack_fd_accept(rt, fd, a, len, flags));
    return nfd < 0 ? -1 : take(nfd, SP_TCP);
}

int accept(int fd, struct sockaddr *a, socklen_t *len)
{
    if (!is_ours(fd))
        return REAL(accept)(fd, a, len);
    return accept4(fd, a, len, 0);
}

int connect(int fd, const struct sockaddr *a, socklen_t len)
{
    if (!is_ours(fd))
        return REAL(connect)(fd, a, len);
    synack_rt *rt = rt_for("connect");
    return rt ? INSIDE(synack_fd_connect(rt, fd, a, len)) : -1;
}

int shutdown(int fd, int how)
{
    if (!is_ours(fd))
        return REAL(shutdown)(fd, how);
    synack_rt *rt = rt_for("shutdown");
    return rt ? INSIDE(synack_fd_shutdown(rt, fd, how)) : -1;
}

int close(int fd)
{
    if (!is_ours(fd))
        return REAL(close)(fd);
    mark(fd, 0);
    synack_rt *rt = sp_forked() ? NULL : sp_current();
    if (!rt) /* a forked child lets go of its copy: the parent's stays */
        return REAL(close)(fd);
    return INSIDE(synack_fd_close(rt, fd));
}

/* Timeouts belong to the descriptor (the kernel's read and write obey them). */
static int fd_level(int level, int name)
{
    return level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO ||
                                   name == SO_RCVTIMEO_NEW || name == SO_SNDTIMEO_NEW);
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    if (!is_ours(fd) || fd_level(level, name))
        return REAL(setsockopt)(fd, level, name, val, len);
    synack_rt *rt = rt_for("setsockopt");
    return rt ? INSIDE(synack_fd_setsockopt(rt, fd, level, name, val, len)) : -1;
}

int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    if (!is_ours(fd) || fd_level(level, name))
        return REAL(getsockopt)(fd, level, name, val, len);
    synack_rt *rt = rt_for("getsockopt");
    return rt ? INSIDE(synack_fd_getsockopt(rt, fd, level, name, val, len)) : -1;
}

int getsockname(int fd, struct sockaddr *a, socklen_t *len)
{
    if (!is_ours(fd))
        return REAL(getsockname)(fd, a, len);
    synack_rt *rt = rt_for("getsockname");
    return rt ? INSIDE(synack_fd_getsockname(rt, fd, a, len)) : -1;
}

int getpeername(int fd, struct sockaddr *a, socklen_t *len)
{
    if (!is_ours(fd))
        return REAL(getpeername)(fd, a, len);
    synack_rt *rt = rt_for("getpeername");
    return rt ? INSIDE(synack_fd_getpeername(rt, fd, a, len)) : -1;
}

int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (!is_ours(fd) || (req != FIONREAD && req != SIOCOUTQ && req != FIONBIO))
        return REAL(ioctl)(fd, req, arg);
    synack_rt *rt = rt_for("ioctl");
    return rt ? INSIDE(synack_fd_ioctl(rt, fd, req, arg)) : -1;
}

/* A new number for `fd` is ours when `fd` is. */
static int dup_result(int fd, int nfd)
{
    int kind = is_ours(fd);
    if (nfd >= 0 && kind)
        return take(nfd, kind);
    return nfd;
}

/* `fd` is about to be replaced by dup2/dup3: let the runtime forget it. */
static void replaced(int fd)
{
    if (!is_ours(fd))
        return;
    mark(fd, 0);
    synack_rt *rt = sp_forked() ? NULL : sp_current();
    if (rt) { /* closes it: dup2 then takes the free number */
        int e = errno;
        INSIDE(synack_fd_close(rt, fd));
        errno = e;
    }
}

static int fcntl_common(int (*real)(int, int, ...), int fd, int cmd, void *arg)
{
    int r = real(fd, cmd, arg);
    if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
        return dup_result(fd, r);
    return r;
}

int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_common(REAL(fcntl), fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_common(REAL(fcntl64), fd, cmd, arg);
}

int dup(int fd)
{
    return dup_result(fd, REAL(dup)(fd));
}

int dup2(int fd, int nfd)
{
    if (fd != nfd && fcntl(fd, F_GETFD) >= 0)
        replaced(nfd);
    return dup_result(fd, REAL(dup2)(fd, nfd));
}

int dup3(int fd, int nfd, int flags)
{
    if (fd != nfd && fcntl(fd, F_GETFD) >= 0)
        replaced(nfd);
    return dup_result(fd, REAL(dup3)(fd, nfd, flags));
}

/* TCP ignores a destination on a connected socket, and MSG_FASTOPEN
 * connects first; an AF_UNIX pair refuses both, so they are undone here.
 * UDP's destination is the datagram's (io.c). */
ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *a,
               socklen_t len)
{
    int kind = is_ours(fd);
    if (!kind)
        return REAL(sendto)(fd, buf, n, flags, a, len);
    if (kind == SP_UDP)
        return sp_sendto_udp(fd, buf, n, flags, a, len);
    if ((flags & MSG_FASTOPEN) && a && connect(fd, a, len) < 0 && errno != EISCONN)
        return -1;
    return send(fd, buf, n, flags & ~MSG_FASTOPEN);
}

ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
    int kind = is_ours(fd);
    if (!kind)
        return REAL(sendmsg)(fd, m, flags);
    if (kind == SP_UDP)
        return sp_sendmsg(fd, m, flags);
    if ((flags & MSG_FASTOPEN) && m->msg_name &&
        connect(fd, m->msg_name, m->msg_namelen) < 0 && errno != EISCONN)
        return -1;
    struct msghdr copy = *m;
    copy.msg_name = NULL;
    copy.msg_namelen = 0;
    return sp_sendmsg(fd, &copy, flags & ~MSG_FASTOPEN);
}
