/*
 * synack_rt.h — the threaded runtime and its sockets that are real file
 * descriptors, for programs that link synack directly (and, later, for the
 * LD_PRELOAD library that moves unmodified programs onto synack).
 *
 * A runtime (synack_rt) owns one stack and one device (a TAP, TUN or
 * AF_PACKET device, or one side of an in-process link to another runtime)
 * and runs them in a thread of its own: it alone touches the stack. Any
 * number of application threads call synack_fd_* concurrently; each call
 * is a command the runtime thread answers.
 *
 * A socket is one end of a kernel AF_UNIX stream socketpair; the runtime
 * holds the other end and moves bytes between it and the TCP connection,
 * with flow control both ways. So the descriptor works with read, write,
 * recv, send (MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL, MSG_NOSIGNAL), readv,
 * writev, poll, select, epoll, fcntl(O_NONBLOCK), dup and close, with the
 * kernel's own semantics and no interposition. The TCP events map onto it:
 *
 *   peer's FIN          read returns 0 after the data; POLLIN|POLLRDHUP
 *   reset, timeout      read returns the data, then the error; POLLERR|
 *                       POLLHUP; SO_ERROR says which error it was
 *                       (ECONNRESET, ETIMEDOUT, EHOSTUNREACH, ...). With
 *                       synack_fd_recv/send the error is Linux's, reported
 *                       once; plain read/write say ECONNRESET and EPIPE
 *   connect pending     not writable (POLLOUT clear) until the handshake
 *                       completes; refused: POLLERR|POLLHUP, SO_ERROR
 *                       ECONNREFUSED
 *   listening socket    readable while connections wait; synack_fd_accept
 *   shutdown(2), close(2) on the descriptor reach the connection: SHUT_WR
 *                       sends FIN after the data written before it; the
 *                       last close closes (RST if received data was left
 *                       unread, or with SO_LINGER {1, 0}).
 *
 * Errors: every synack_fd_* call returns what the BSD call it mirrors
 * returns (-1 on failure) and sets errno to Linux's value for the case, so
 * they are drop-in replacements.
 *
 * A UDP socket (synack_fd_socket_type with SOCK_DGRAM) is one end of an
 * AF_UNIX SOCK_SEQPACKET pair instead: each message the runtime puts in it
 * is one datagram behind a small header (the sender, the length). poll,
 * select, epoll, O_NONBLOCK, SO_RCVTIMEO, dup and close are the kernel's;
 * read it with synack_fd_recv/recvfrom/recvmsg, which take the header
 * off, fill the sender in and answer MSG_TRUNC and MSG_PEEK as Linux's
 * UDP does. Plain read(2)/recv(2) would see the header before each
 * datagram. Sends are calls (synack_fd_send/sendto/sendmsg): the runtime
 * sends the datagram while the caller waits, so each fails with Linux's
 * errno (EDESTADDRREQ, EMSGSIZE, ECONNREFUSED after an ICMP port
 * unreachable on a connected socket, ...). A plain write(2) on a connected
 * UDP descriptor also sends one datagram to the peer, but its errors are
 * lost. docs/runtime.md, "UDP".
 *
 * Known differences from a kernel TCP socket: plain read and write, which
 * meet the pair and not the runtime, say ECONNRESET and EPIPE (with
 * SIGPIPE) whatever the error was (synack_fd_recv/send and the
 * LD_PRELOAD library answer exactly); poll on a reset socket also shows
 * POLLOUT. Release a socket with synack_fd_close: close(2) alone
 * ends the connection too, but the runtime cannot tell a final close(2)
 * after both directions were shut from the shutdowns themselves, so it
 * keeps a small record (for SO_ERROR, getpeername) until synack_fd_close
 * or synack_rt_free.
 */
#ifndef SYNACK_RT_H
#define SYNACK_RT_H

#include <sys/socket.h>

#include "synack.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct synack_rt synack_rt;

/* An in-process Ethernet link joining two runtimes (for tests and demos:
 * no root, no device). Frames cross it without delay; each direction
 * queues at most 16 MiB, beyond which frames are dropped. */
typedef struct synack_rt_link synack_rt_link;
synack_rt_link *synack_rt_link_new(void);
/* Free after both runtimes using it are freed. NULL is ignored. */
void synack_rt_link_free(synack_rt_link *l);

enum {
    SYNACK_RT_LINK = 0, /* one side of a synack_rt_link                   */
    SYNACK_RT_TAP,      /* Ethernet frames through /dev/net/tun           */
    SYNACK_RT_TUN,      /* IP packets through /dev/net/tun (cfg.link IP)  */
    SYNACK_RT_PACKET,   /* an AF_PACKET socket on an existing interface   */
};

typedef struct synack_rt_config {
    /* Addresses, sysctls and hooks of the stack. The runtime sets output,
     * output_v and event itself; random defaults to getrandom(2) when NULL; trace
     * (optional) is called on the runtime thread for every event, for
     * ladders, pcaps and JSON. */
    synack_config stack;
    int device;              /* SYNACK_RT_*                                */
    const char *ifname;      /* TAP/TUN/PACKET: the interface              */
    unsigned dev_flags;      /* TAP: 1 = offload (virtio_net_hdr, TSO)     */
    synack_rt_link *link;    /* SYNACK_RT_LINK: the link ...               */
    int link_side;           /* ... and our side of it, 0 or 1            */
    /* Optional: every frame the device carries, received (out = 0) and
     * sent (out = 1), on the runtime thread, with the monotonic time of
     * the turn (for pcap files). */
    void (*capture)(void *ctx, const void *frame, size_t len, int out, uint64_t now_ns);
    void *capture_ctx;
    /* Every core: 0 or 1 (the default) runs one stack on one thread. N > 1
     * (TAP or TUN only; at most SYNACK_RT_MAX_THREADS) runs a steered
     * group: N stacks, each on its own thread and its own queue of the
     * multi-queue interface `ifname` (made multi-queue when it does not
     * exist), the kernel steering each frame to the queue of the stack
     * owning its flow (an eBPF program; without CAP_BPF the threads hand
     * frames over). A new TCP socket goes to the members in turn, and its
     * ephemeral port is one whose flow comes back to it; a listening socket
     * listens in every member and accepts through its one descriptor; every
     * UDP socket lives in member 0, where all datagrams go. trace and
     * capture are called from every member's thread, one call at a time,
     * with connection ids made unique across the group. docs/runtime.md. */
    unsigned threads;
} synack_rt_config;

#define SYNACK_RT_MAX_THREADS 64

/* Fill `cfg` with the stack's defaults and an in-process link device. */
void synack_rt_config_init(synack_rt_config *cfg);

/* Create a runtime: the stack and the device, not yet running. NULL with a
 * message in `err` (if non-NULL) on failure. */
synack_rt *synack_rt_new(const synack_rt_config *cfg, char *err, size_t errlen);
/* Start the runtime thread. 0, or -1 with errno. */
int synack_rt_start(synack_rt *rt);
/* Stop and join the thread. Calls waiting or made afterwards fail with
 * ENETDOWN; the sockets' descriptors see a reset. */
void synack_rt_stop(synack_rt *rt);
/* Stop if running, then free the stack, the device and every record.
 * NULL is ignored. */
void synack_rt_free(synack_rt *rt);

/* Run `fn(ctx, stack)` on the runtime thread, and wait for it: the one safe
 * way to read the stack (counters, sockstat) while the runtime runs. */
void synack_rt_with_stack(synack_rt *rt, void (*fn)(void *ctx, synack_stack *s), void *ctx);

/* ------------------------------------------------------- the fd API */

/* A TCP socket of `family` (AF_INET or AF_INET6); `flags` may hold
 * SOCK_NONBLOCK and SOCK_CLOEXEC. Returns the descriptor. Errors:
 * EAFNOSUPPORT, EMFILE/ENFILE, ENOMEM, ENETDOWN (runtime not running). */
int synack_fd_socket(synack_rt *rt, int family, int flags);
/* socket(2) with a type: SOCK_STREAM (as synack_fd_socket) or SOCK_DGRAM
 * (a UDP socket: see above). Errors as synack_fd_socket, and
 * ESOCKTNOSUPPORT for another type. */
int synack_fd_socket_type(synack_rt *rt, int family, int type, int flags);

/* bind(2): sockaddr_in, or sockaddr_in6 (an IPv4-mapped address binds the
 * IPv4 side of a TCP socket; a UDP socket is of one family only). Port 0:
 * an ephemeral port, at once. Errors: EADDRINUSE, EADDRNOTAVAIL, EINVAL (bound already,
 * short address), EAFNOSUPPORT (wrong family), ENOTSOCK (not ours). */
int synack_fd_bind(synack_rt *rt, int fd, const struct sockaddr *addr, socklen_t len);
/* listen(2). Errors: EINVAL (not bound, connected). */
int synack_fd_listen(synack_rt *rt, int fd, int backlog);
/* accept4(2): blocks unless the listener is O_NONBLOCK. flags:
 * SOCK_NONBLOCK, SOCK_CLOEXEC. Errors: EAGAIN, EINVAL (not listening),
 * EINTR, EMFILE. */
int synack_fd_accept(synack_rt *rt, int fd, struct sockaddr *addr, socklen_t *len, int flags);
/* connect(2): blocks until the handshake ends unless the descriptor is
 * O_NONBLOCK; then EINPROGRESS, and poll for POLLOUT. Errors: EINPROGRESS,
 * EALREADY, EISCONN, ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, EADDRNOTAVAIL,
 * EADDRINUSE, EAFNOSUPPORT, ENETUNREACH. */
int synack_fd_connect(synack_rt *rt, int fd, const struct sockaddr *addr, socklen_t len);
/* On a UDP socket connect(2) fixes the peer at once (binding an ephemeral
 * port first): only its datagrams are received, send needs no address,
 * and ICMP errors about it become pending (ECONNREFUSED ...). An address
 * of family AF_UNSPEC takes the peer away again. Errors: EINVAL (port 0),
 * EAFNOSUPPORT, ENETUNREACH (the other family). */
/* shutdown(2). Errors: ENOTCONN, EINVAL. */
int synack_fd_shutdown(synack_rt *rt, int fd, int how);
/* close(2), and the runtime forgets the socket's record. */
int synack_fd_close(synack_rt *rt, int fd);
/* getsockname(2) / getpeername(2) (ENOTCONN when not connected). */
int synack_fd_getsockname(synack_rt *rt, int fd, struct sockaddr *addr, socklen_t *len);
int synack_fd_getpeername(synack_rt *rt, int fd, struct sockaddr *addr, socklen_t *len);
/* setsockopt(2)/getsockopt(2). UDP: SO_RCVBUF (the stack's queue for the
 * socket, SYNACK_UDP_RCVBUF: the value doubled, at most 2 x 212992, as
 * Linux), SO_SNDBUF (reported only), SO_ERROR, SO_TYPE (SOCK_DGRAM),
 * SO_DOMAIN, SO_PROTOCOL, SO_REUSEADDR, SO_REUSEPORT and SO_BROADCAST
 * (accepted and reported), IPV6_V6ONLY. As Linux does them for TCP: SOL_SOCKET
 * SO_REUSEADDR, SO_REUSEPORT (accepted), SO_KEEPALIVE, SO_LINGER ({1, 0}:
 * close resets), SO_RCVBUF/SO_SNDBUF (value doubled, as Linux; in effect
 * when set before connect or listen), SO_ERROR, SO_TYPE, SO_DOMAIN,
 * SO_PROTOCOL, SO_ACCEPTCONN, SO_RCVLOWAT (on the descriptor itself);
 * IPPROTO_TCP TCP_NODELAY, TCP_CORK, TCP_MAXSEG, TCP_QUICKACK, TCP_KEEPIDLE,
 * TCP_KEEPINTVL, TCP_KEEPCNT, TCP_DEFER_ACCEPT (accepted), TCP_INFO (get:
 * Linux's struct tcp_info, the fields synack knows); IPPROTO_IPV6
 * IPV6_V6ONLY. Anything else: ENOPROTOOPT. */
int synack_fd_setsockopt(synack_rt *rt, int fd, int level, int name, const void *val,
                         socklen_t len);
int synack_fd_getsockopt(synack_rt *rt, int fd, int level, int name, void *val, socklen_t *len);
/* recv(2), recvmsg(2), send(2), sendmsg(2) on a runtime's descriptor: the
 * plain calls, and after a failure Linux's answer. A connection that ended
 * in an error reports it once, to the first of these calls or SO_ERROR
 * that comes (ETIMEDOUT from a keepalive or TCP_USER_TIMEOUT, ECONNRESET,
 * EHOSTUNREACH, ...); a write then fails ECONNRESET without SIGPIPE, as
 * Linux's. After it, reads return 0 and writes EPIPE with SIGPIPE unless
 * `flags` has MSG_NOSIGNAL. */
ssize_t synack_fd_recv(synack_rt *rt, int fd, void *buf, size_t n, int flags);
ssize_t synack_fd_recvmsg(synack_rt *rt, int fd, struct msghdr *m, int flags);
ssize_t synack_fd_send(synack_rt *rt, int fd, const void *buf, size_t n, int flags);
ssize_t synack_fd_sendmsg(synack_rt *rt, int fd, const struct msghdr *m, int flags);
/* recvfrom(2) and sendto(2). These six calls serve TCP and UDP
 * descriptors alike (they ask the kernel which it is: one getsockopt).
 *
 * UDP: a receive takes one datagram: `from` (or msg_name) gets its sender;
 * a buffer too small keeps the start and drops the rest, msg_flags gets
 * MSG_TRUNC, and with MSG_TRUNC in `flags` the datagram's whole length is
 * returned; MSG_PEEK leaves it queued; MSG_DONTWAIT or O_NONBLOCK: EAGAIN
 * when none waits. A pending error (an ICMP error about a datagram a
 * connected socket sent) is reported once, to the first receive, send or
 * SO_ERROR that comes. A send is one datagram to `to` (msg_name), or to
 * the connected peer when there is none (a destination on a connected
 * socket is allowed, as Linux). Errors: EDESTADDRREQ (no destination),
 * EMSGSIZE (more than 65507 bytes over IPv4, 65527 over IPv6), EINVAL
 * (port 0, short address), EAFNOSUPPORT, ENETUNREACH (no route, or an
 * address of the other family), ECONNREFUSED, EHOSTUNREACH ... (pending),
 * EPIPE (after shutdown(SHUT_WR)), EOPNOTSUPP (MSG_OOB). A datagram that
 * waits for ARP or ND and finds the queue full is dropped and the send
 * succeeds, as in Linux. TCP: recvfrom names no sender (*fromlen 0), and
 * sendto and sendmsg ignore a destination. */
ssize_t synack_fd_recvfrom(synack_rt *rt, int fd, void *buf, size_t n, int flags,
                           struct sockaddr *from, socklen_t *fromlen);
ssize_t synack_fd_sendto(synack_rt *rt, int fd, const void *buf, size_t n, int flags,
                         const struct sockaddr *to, socklen_t tolen);

/* ioctl(2): FIONREAD/SIOCINQ (bytes readable: in the descriptor and not yet
 * moved to it; UDP: the length of the next datagram, 0 when none),
 * SIOCOUTQ (bytes written and not yet acknowledged; UDP: 0), FIONBIO.
 * Others: ENOTTY. */
int synack_fd_ioctl(synack_rt *rt, int fd, unsigned long request, int *value);

#ifdef __cplusplus
}
#endif
#endif
