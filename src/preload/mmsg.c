/* mmsg.c — sendmmsg(2) and recvmmsg(2) on our sockets: one sendmsg or
 * recvmsg per message, with Linux's rules for where a batch stops (the
 * first failure ends it; it fails only when no message went). */
#define _GNU_SOURCE
#include "preload/preload.h"

#include <errno.h>
#include <time.h>

int sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
    if (!sp_ours(fd))
        return REAL(sendmmsg)(fd, v, n, flags);
    unsigned int i = 0;
    for (; i < n && i < 1024; i++) { /* UIO_MAXIOV: Linux's cap on a batch */
        ssize_t r = sp_sendmsg(fd, &v[i].msg_hdr, flags);
        if (r < 0)
            return i ? (int)i : -1;
        v[i].msg_len = (unsigned int)r;
    }
    return (int)i;
}

static bool past(const struct timespec *end)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > end->tv_sec || (now.tv_sec == end->tv_sec && now.tv_nsec >= end->tv_nsec);
}

/* As Linux: each message waits unless MSG_DONTWAIT, or MSG_WAITFORONE
 * once one came; the timeout is looked at only between messages. */
int recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags, struct timespec *timeout)
{
    if (!sp_ours(fd))
        return REAL(recvmmsg)(fd, v, n, flags, timeout);
    struct timespec end;
    if (timeout) {
        clock_gettime(CLOCK_MONOTONIC, &end);
        end.tv_sec += timeout->tv_sec + (end.tv_nsec + timeout->tv_nsec) / 1000000000L;
        end.tv_nsec = (end.tv_nsec + timeout->tv_nsec) % 1000000000L;
    }
    unsigned int i = 0;
    for (; i < n; i++) {
        int f = flags & ~MSG_WAITFORONE;
        if (i && (flags & MSG_WAITFORONE))
            f |= MSG_DONTWAIT;
        ssize_t r = sp_recvmsg(fd, &v[i].msg_hdr, f);
        if (r < 0)
            return i ? (int)i : -1;
        v[i].msg_len = (unsigned int)r;
        if (timeout && past(&end))
            return (int)i + 1;
    }
    return (int)i;
}
