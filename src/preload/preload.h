/*
 * preload.h — libsynack-preload.so's insides (outside the core).
 *
 *   preload.c   the interposed socket calls: AF_INET/AF_INET6 stream
 *               and datagram sockets go to synack_fd_*, everything else
 *               to libc
 *   io.c        reads and writes on our sockets, for Linux's errors
 *   boot.c      the runtime, made at the first TCP or UDP socket from the
 *               environment `synack run` sets; fork; the end at exit
 *   events.c    trace events, counters and frames for `synack run`
 *   totals.c    per-connection segment totals (summary-only watching)
 */
#ifndef SYNACK_PRELOAD_H
#define SYNACK_PRELOAD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "preload/stream.h"
#include "synack_rt.h"

/* Descriptors at or above this number are never ours (socket fails EMFILE). */
#define SP_MAX_FD 65536

struct mmsghdr; /* GNU's, declared by <sys/socket.h> only with _GNU_SOURCE */
struct timespec;

/* libc's own functions, found with dlsym(RTLD_NEXT). */
typedef struct sp_libc {
    int (*socket)(int, int, int);
    int (*bind)(int, const struct sockaddr *, socklen_t);
    int (*listen)(int, int);
    int (*accept)(int, struct sockaddr *, socklen_t *);
    int (*accept4)(int, struct sockaddr *, socklen_t *, int);
    int (*connect)(int, const struct sockaddr *, socklen_t);
    int (*shutdown)(int, int);
    int (*close)(int);
    int (*getsockopt)(int, int, int, void *, socklen_t *);
    int (*setsockopt)(int, int, int, const void *, socklen_t);
    int (*getsockname)(int, struct sockaddr *, socklen_t *);
    int (*getpeername)(int, struct sockaddr *, socklen_t *);
    int (*ioctl)(int, unsigned long, ...);
    int (*fcntl)(int, int, ...);
    int (*fcntl64)(int, int, ...);
    int (*dup)(int);
    int (*dup2)(int, int);
    int (*dup3)(int, int, int);
    ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
    ssize_t (*sendmsg)(int, const struct msghdr *, int);
    ssize_t (*read)(int, void *, size_t);
    ssize_t (*write)(int, const void *, size_t);
    ssize_t (*recv)(int, void *, size_t, int);
    ssize_t (*send)(int, const void *, size_t, int);
    ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
    ssize_t (*recvmsg)(int, struct msghdr *, int);
    ssize_t (*readv)(int, const struct iovec *, int);
    ssize_t (*writev)(int, const struct iovec *, int);
    ssize_t (*__read_chk)(int, void *, size_t, size_t);
    ssize_t (*__recv_chk)(int, void *, size_t, size_t, int);
    ssize_t (*__recvfrom_chk)(int, void *, size_t, size_t, int, struct sockaddr *,
                              socklen_t *);
    int (*sendmmsg)(int, struct mmsghdr *, unsigned int, int);
    int (*recvmmsg)(int, struct mmsghdr *, unsigned int, int, struct timespec *);
} sp_libc;

extern sp_libc sp_real;
void sp_resolve(void);
#define REAL(f) (sp_real.f ? sp_real.f : (sp_resolve(), sp_real.f))

/* Non-zero while this thread is inside synack (a synack_fd_* call, or the
 * runtime thread itself): its socket calls go straight to libc. */
extern __thread int sp_inside;

/* Run `expr` (a synack_fd_* call) with this thread marked inside synack. */
#define INSIDE(expr)                                                                     \
    ({                                                                                   \
        sp_inside++;                                                                     \
        __typeof__(expr) r_ = (expr);                                                    \
        sp_inside--;                                                                     \
        r_;                                                                              \
    })

/* fd -> its kind when the descriptor is one of our sockets, else 0. The
 * kind spares the data calls the question the public synack_fd_* ask
 * (rt/fdio.h): TCP's reads and writes cost what they did before UDP. */
enum { SP_TCP = 1, SP_UDP = 2 };
extern atomic_uchar sp_fds[SP_MAX_FD];

/* Is `fd` one of our sockets, and may this thread treat it so? Its kind. */
static inline int sp_ours(int fd)
{
    return !sp_inside && fd >= 0 && fd < SP_MAX_FD
               ? atomic_load_explicit(&sp_fds[fd], memory_order_relaxed)
               : 0;
}

/* io.c */
/* sendmsg(2) on one of our sockets, with Linux's errors. */
ssize_t sp_sendmsg(int fd, const struct msghdr *m, int flags);
/* recvmsg(2) on one of our sockets. */
ssize_t sp_recvmsg(int fd, struct msghdr *m, int flags);
/* sendto(2) on one of our UDP sockets. */
ssize_t sp_sendto_udp(int fd, const void *buf, size_t n, int flags, const struct sockaddr *a,
                      socklen_t len);

/* boot.c */
/* The runtime, made on the first call; NULL (errno set, one line said on
 * stderr) when it cannot be, or in a child forked from the process that
 * runs it. */
synack_rt *sp_runtime(void);
/* The runtime if one exists in this process, else NULL. */
synack_rt *sp_current(void);
/* 1 in a child forked after the runtime started: its sockets are dead. */
int sp_forked(void);
/* One line "synack: ..." on stderr, with write(2) only. */
void sp_say(const char *a, const char *b, const char *c);

/* events.c */
/* Open the outputs the environment names (SYNACK_RUN_EVENTS, _PCAP) and
 * hook them into cfg. */
void sp_events_setup(synack_rt_config *cfg, uint64_t t0);
/* On the runtime thread: the stack's counters as records. */
/* Add a stack's counters (once per member of a group: synack_rt_with_stack),
 * then write their sums. */
void sp_events_counters(void *ctx, synack_stack *s);
void sp_events_counters_put(void);
/* After the runtime stopped: flush and close. */
void sp_events_close(void);

/* totals.c (all on the runtime thread) */
/* Count a SEG_IN or SEG_OUT event into its connection's totals. */
void sp_totals_add(const synack_trace_event *ev);
/* A connection's totals into *out (false: none yet); then start them
 * over, or forget the connection. */
bool sp_totals_take(uint32_t id, sp_totals *out, bool forget);
/* Hand every connection's totals with segments to `fn`, and forget all. */
void sp_totals_drain(void (*fn)(const sp_totals *));

#endif
