/* fdio.h — the data calls on a descriptor whose kind the caller already
 * knows. synack_fd_recv, _send and friends ask the kernel first whether a
 * descriptor is TCP or UDP (one getsockopt); libsynack-preload.so keeps
 * the kind in its table and calls these directly, so TCP's reads and
 * writes cost no more system calls than before UDP came. */
#ifndef SYNACK_RT_FDIO_H
#define SYNACK_RT_FDIO_H

#include <stdbool.h>
#include <sys/socket.h>

#include "synack_rt.h"

/* io.c: TCP (the pair's call, Linux's errno after a failure) */
ssize_t rt_stream_recv(synack_rt *rt, int fd, void *buf, size_t n, int flags);
ssize_t rt_stream_recvmsg(synack_rt *rt, int fd, struct msghdr *m, int flags);
ssize_t rt_stream_send(synack_rt *rt, int fd, const void *buf, size_t n, int flags);
ssize_t rt_stream_sendmsg(synack_rt *rt, int fd, const struct msghdr *m, int flags);

/* dgram.c: UDP (the header off each datagram; sends through the runtime) */
ssize_t rt_dgram_recvmsg(synack_rt *rt, int fd, struct msghdr *m, int flags);
ssize_t rt_dgram_sendmsg(synack_rt *rt, int fd, const struct msghdr *m, int flags);
/* FIONREAD: the next datagram's length, from its header; 0 when none. */
int rt_dgram_inq(int fd);
/* Is `fd` a runtime's UDP descriptor (a SEQPACKET pair)? */
bool rt_fd_is_dgram(int fd);

#endif
