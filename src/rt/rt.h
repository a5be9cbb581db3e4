/*
 * rt.h — the runtime's insides (outside the core: threads and syscalls).
 *
 *   runtime.c   the object, its thread and its epoll loop
 *   call.c      the command queue application threads hand calls through
 *   link.c      the in-process link between two runtimes
 *   table.c     sockets by the inode of the application's descriptor
 *   pump.c      bytes between a socketpair end and a TCP connection
 *   conn.c      connect's outcome and accept's hand-over of descriptors
 *   ops.c       the calls, as the runtime thread carries them out
 *   fd.c        the synack_fd_* calls, on the application's side
 *   sockopt.c   socket options and TCP_INFO
 *   addr.c      struct sockaddr <-> synack_addr
 *   udp.c       UDP sockets on the runtime thread: datagrams into the pair
 *   udpopt.c    UDP's socket options and names
 *   dgram.c     UDP reads and sends, on the application's side (fdio.h)
 *   group.c     N runtimes as one steered group: members, frames, routing
 *   glisten.c   a group's listener: one in every member, one descriptor
 */
#ifndef SYNACK_RT_RT_H
#define SYNACK_RT_RT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dev/dev.h"
#include "rt/fdio.h"
#include "synack.h"
#include "synack_rt.h"

/* What an epoll registration points at. */
enum { RT_WATCH_WAKE = 1, RT_WATCH_DEV, RT_WATCH_LINK, RT_WATCH_SOCK, RT_WATCH_FAN };
typedef struct rt_watch {
    int kind;
} rt_watch;

/* A socket's phase, as the runtime sees it. */
enum {
    RT_NEW = 0,     /* created, maybe bound: not connected or listening    */
    RT_CONNECTING,  /* SYN sent; the descriptor holds the filler           */
    RT_OPEN,        /* connected: bytes flow                               */
    RT_LISTENING,   /* hands connections over as descriptors               */
    RT_DONE,        /* the runtime let go of its end and of the connection */
    RT_LINGERING,   /* let go of its end; a blocking close waits for the
                       connection's FIN to be acknowledged (SO_LINGER)     */
};

typedef struct rt_cmd rt_cmd;
typedef struct rt_sock rt_sock;
typedef struct rt_group rt_group;

struct rt_sock {
    rt_watch w;
    uint64_t ino;            /* the inode of the application's end          */
    int rfd;                 /* our end of the socketpair; -1 once let go   */
    int dupfd;               /* the application's end, while connecting     */
    int family;              /* AF_INET or AF_INET6                         */
    int phase;
    int filler;              /* bytes in our end's queue before connecting  */
    int so_error;            /* pending error for SO_ERROR (positive)       */
    bool connect_seen;       /* connect has reported the outcome once       */
    bool was_open;           /* it was connected once                       */
    bool forget;             /* synack_fd_close came: free it when let go   */
    bool linger0;            /* SO_LINGER {1, 0}: close resets              */
    bool linger_on;          /* SO_LINGER as set: on, and for how long      */
    int linger_s;
    bool linger_hold;        /* a blocking close waits for the FIN's ACK:   */
                             /* keep the connection after letting go        */
    bool reuseport, v6only;
    int defer_accept;
    int app_sndbuf;          /* the descriptor's SO_SNDBUF to restore        */
    synack_addr bound;       /* the address bind named (any if none)        */
    int rcvbuf_req, sndbuf_req; /* set after connect: remembered, not applied */
    /* epoll state of our end (edge-triggered, so remembered here) */
    bool rd, wr, rdhup, hup;
    bool app_reset;          /* the application closed with data unread     */
    bool app_eof;            /* the application shut its side: FIN sent      */
    bool peer_eof;           /* the peer's FIN: read 0 from the connection   */
    bool eof_passed;         /* ... and handed on with shutdown(SHUT_WR)     */
    bool peer_unread;        /* the application stopped reading (SHUT_RD)    */
    synack_sock *sk;
    synack_udp *udp;         /* a UDP socket: this instead of sk (udp.c)    */
    bool udp_connected;
    unsigned udp_opts;       /* RT_UDP_* options set, only reported        */
    int udp_sndbuf;          /* SO_SNDBUF as set (doubled), only reported  */
    synack_addr laddr, raddr;
    uint16_t lport, rport;
    int tcp_state;           /* last RFC 9293 state seen (synack_state)     */
    uint8_t *carry;          /* bytes taken from the connection that our   */
    size_t carry_len, carry_off; /* end could not take yet                   */
    rt_cmd *waiting;         /* a blocking connect, answered at the outcome */
    rt_sock *parked;         /* listener: accepted, not yet handed over     */
    rt_sock *hnext, *dnext, *pnext;
    bool dirty;
    bool shadow;             /* a group listener's copy in another member:
                                the descriptor is routed to its home      */
};

struct synack_rt {
    rt_watch wake_w;         /* the command eventfd                         */
    rt_watch dev_w;
    synack_stack *stack;
    dev *dev;
    synack_rt_link *link;
    int side;
    int ep, wakefd;
    pthread_t thread;
    bool started;
    atomic_bool stopping;
    pthread_mutex_t mu;      /* guards the command queue and `running`      */
    bool running;
    rt_cmd *cmd_head, *cmd_tail;
    atomic_bool queued;      /* cmd_head is set: run before pumping       */
    /* runtime-thread state */
    rt_sock **table;
    size_t table_size, nsocks;
    rt_sock *dirty_head, *dirty_tail;
    uint8_t *scratch;
    size_t scratch_size;
    uint8_t *joined;         /* output_v's pieces joined for a capture      */
    uint64_t now;
    void (*capture)(void *ctx, const void *frame, size_t len, int out, uint64_t now_ns);
    void *capture_ctx;
    /* a member of a steered group (group.c); NULL: a runtime alone */
    rt_group *group;
    unsigned index;
    rt_watch fan_w;          /* the group's inbox of frames for us         */
};

/* A call handed to the runtime thread. The caller waits on `cond` (with
 * rt->mu) until `done`. `run` returns the result, or RT_LATER when it
 * answers later through rt_cmd_finish (a blocking connect). */
#define RT_LATER 1
struct rt_cmd {
    rt_cmd *next;
    int (*run)(synack_rt *rt, rt_cmd *c);
    uint64_t ino;
    int fd, family, how, level, name, nonblock;
    synack_addr addr;
    uint16_t port;
    void *val;
    socklen_t *len;
    const void *cval;
    socklen_t clen;
    void (*fn)(void *ctx, synack_stack *s);
    void *ctx;
    int result;
    bool done;
    bool posted;  /* rt_post: nobody waits; the runtime frees it once run */
    int ival;     /* a posted option's value (cval points here)         */
    pthread_cond_t cond;
};

/* What the runtime sends a listener's descriptor for each connection,
 * with the connection's descriptor attached (SCM_RIGHTS). */
typedef struct rt_accept_msg {
    uint32_t len; /* of the peer's address */
    struct sockaddr_storage peer;
} rt_accept_msg;

/* What the runtime writes before each datagram it puts in a UDP socket's
 * pair (an AF_UNIX SOCK_SEQPACKET pair: one message is one datagram, so
 * boundaries hold, and a message never splits). kind RT_DGRAM_ERROR
 * carries no datagram: it says an ICMP error became pending, so that a
 * blocked reader wakes; the error itself is the runtime's (SO_ERROR),
 * reported once, to a send, a read or SO_ERROR, whichever comes first.
 * The application's messages to the runtime have no header: each is a
 * datagram to the connected peer (a plain write(2)). */
enum { RT_DGRAM_DATA = 1, RT_DGRAM_ERROR = 2 };
typedef struct rt_dgram_hdr {
    uint32_t len;       /* the datagram's length: all of it follows        */
    uint16_t port;      /* the sender's port                               */
    uint8_t kind;       /* RT_DGRAM_*                                      */
    uint8_t family;     /* the socket's (AF_INET, AF_INET6): for msg_name  */
    synack_addr addr;   /* the sender                                      */
} rt_dgram_hdr;
/* The largest datagram a socket sends or takes: 65535 minus the smallest
 * headers (IPv4's 65507, IPv6's 65527 are the core's to check). */
#define RT_DGRAM_MAX 65535

/* The descriptor's send buffer while a connect is pending: the smallest,
 * so a few filler bytes make it unwritable (see fd.c). */
#define RT_FILLER_SNDBUF 1
/* SO_SNDBUF of the application's end (conn.c says why). */
#define RT_APP_SNDBUF 212992

/* call.c */
/* Run `c` on the runtime that holds its socket (rt_route), and wait. */
int rt_call(synack_rt *rt, rt_cmd *c);
/* Run `c` on this very runtime (a group's member), and wait. */
int rt_call_on(synack_rt *rt, rt_cmd *c);
/* Queue `c` (malloc'ed) without waiting for it: the runtime runs it in
 * turn with the calls, before it next moves any socket's bytes, and frees
 * it. Without `wake` it waits for the runtime's next event (an option that
 * only changes how later bytes go). -ENETDOWN (and freed) if stopped. */
int rt_post(synack_rt *rt, rt_cmd *c, bool wake);
/* The runtime thread: run what is queued, if anything (no wake-up read). */
void rt_run_queued(synack_rt *rt);
void rt_cmd_finish(synack_rt *rt, rt_cmd *c, int result);
void rt_run_commands(synack_rt *rt);
void rt_fail_commands(synack_rt *rt);
void rt_wake(synack_rt *rt);

/* link.c */
int rt_link_fd(synack_rt_link *l, int side);
void rt_link_send(synack_rt_link *l, int side, const void *frame, size_t len);
/* The same for a frame of `len` bytes in `nv` pieces (cfg.output_v). */
void rt_link_sendv(synack_rt_link *l, int side, const synack_iov *v, int nv, size_t len);
/* Hand every frame waiting for `side` to `fn`. */
void rt_link_receive(synack_rt_link *l, int side, void (*fn)(void *ctx, const void *f, size_t n),
                     void *ctx);

/* table.c */
rt_sock *rt_lookup(synack_rt *rt, uint64_t ino);
int rt_insert(synack_rt *rt, rt_sock *r);
void rt_remove(synack_rt *rt, rt_sock *r);

/* pump.c */
void rt_mark(synack_rt *rt, rt_sock *r);
void rt_pump_dirty(synack_rt *rt);
void rt_pump(synack_rt *rt, rt_sock *r);
/* Before an option changes how the connection sends (TCP_CORK off,
 * TCP_NODELAY on): move what the application wrote before the call into
 * the connection, so the option comes after those bytes, as in Linux. */
void rt_take_written(synack_rt *rt, rt_sock *r);
/* Record the connection's endpoints in `r`. */
void rt_note_names(rt_sock *r);
/* Give up our end and the connection; `err` (positive) is a reset. */
void rt_let_go(synack_rt *rt, rt_sock *r, int err);
/* Free a record (its end and connection must be gone). */
void rt_free_sock(synack_rt *rt, rt_sock *r);
int rt_watch_end(synack_rt *rt, rt_sock *r);
/* A new socket record's last step: bound to "any" of its family, its end
 * watched. 0, or -ENOMEM (the record freed, both ends left to the caller). */
int rt_sock_register(synack_rt *rt, rt_sock *r, int family);

/* conn.c */
void rt_pump_connecting(synack_rt *rt, rt_sock *r);
void rt_pump_listener(synack_rt *rt, rt_sock *r);
/* A new socketpair: *app for the application, *ours non-blocking;
 * `type` SOCK_STREAM (TCP) or SOCK_SEQPACKET (UDP). */
int rt_socketpair(int *app, int *ours, int cloexec, int type);
/* A record for a connection the runtime holds the end `rfd` of. */
rt_sock *rt_sock_new(synack_rt *rt, int rfd, uint64_t ino, int family);

/* udp.c */
void rt_pump_udp(synack_rt *rt, rt_sock *r);
/* The pending error (positive), taken; 0 when none. */
int rt_udp_take_error(rt_sock *r);
/* The UDP calls on the runtime thread (the rt_op_* of ops.c pass UDP
 * sockets here). */
int rt_udp_socket(synack_rt *rt, rt_cmd *c);
int rt_udp_bind(rt_sock *r, rt_cmd *c);
int rt_udp_connect(rt_sock *r, rt_cmd *c);
int rt_udp_send(synack_rt *rt, rt_cmd *c);   /* c->cval: the msghdr */
void rt_udp_free(rt_sock *r);

/* udpopt.c */
enum { RT_UDP_REUSEADDR = 1, RT_UDP_BROADCAST = 2 };
int rt_udp_setsockopt(rt_sock *r, rt_cmd *c);
int rt_udp_getsockopt(synack_rt *rt, rt_sock *r, rt_cmd *c);
int rt_udp_name(synack_rt *rt, rt_sock *r, rt_cmd *c);

/* runtime.c: one runtime alone, or one member (cfg.stack.steer set) */
synack_rt *rt_member_new(const synack_rt_config *cfg, char *err, size_t errlen);
int rt_member_start(synack_rt *rt);
void rt_member_stop(synack_rt *rt);
void rt_member_free(synack_rt *rt);
void rt_in_frame(void *rt, const void *frame, size_t len);

/* group.c */
synack_rt *rt_group_new(const synack_rt_config *cfg, char *err, size_t errlen);
int rt_group_start(synack_rt *rt);
void rt_group_stop(synack_rt *rt);
void rt_group_free(synack_rt *rt);
unsigned rt_group_size(const synack_rt *rt);      /* 1 for a runtime alone */
synack_rt *rt_group_member(synack_rt *rt, unsigned i);
/* The member that is to run `c`: a new TCP socket's, in turn; a UDP
 * socket's, member 0; else the one holding the socket `c->ino`. */
synack_rt *rt_route(synack_rt *rt, rt_cmd *c);
/* Record (rt_insert) and drop (rt_remove) which member holds `ino`. */
void rt_group_place(synack_rt *rt, uint64_t ino);
void rt_group_forget(synack_rt *rt, uint64_t ino);
/* A frame this member read from its queue: true when it is ours to take;
 * another member's (or everyone's) is handed to it through the fan. */
bool rt_group_steer(synack_rt *rt, const void *frame, size_t len);
/* Take the frames other members handed this one into its stack. */
void rt_group_take(synack_rt *rt);
/* Hold while sending on a listener's pair, which members share. */
void rt_group_hand_lock(synack_rt *rt, bool lock);

/* glisten.c: after listen succeeded on the socket's member, a listener
 * on the same port in every other member, handing over to the same pair. */
int rt_group_listen(synack_rt *rt, uint64_t ino, int backlog);
int rt_op_listen_info(synack_rt *rt, rt_cmd *c);
int rt_op_listen_shadow(synack_rt *rt, rt_cmd *c);

/* addr.c */
int rt_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, int family,
                          synack_addr *addr, uint16_t *port);
socklen_t rt_addr_to_sockaddr(const synack_addr *addr, uint16_t port, int family,
                              struct sockaddr_storage *ss);
/* Copy `ss` (of `have` bytes) out as getsockname(2) does, truncating. */
void rt_addr_copy_out(const struct sockaddr_storage *ss, socklen_t have, struct sockaddr *addr,
                      socklen_t *len);

/* sockopt.c */
int rt_setsockopt(synack_rt *rt, rt_sock *r, rt_cmd *c);
int rt_getsockopt(synack_rt *rt, rt_sock *r, rt_cmd *c);

/* The inode behind a descriptor, or 0 (errno set: EBADF, ENOTSOCK). */
uint64_t rt_fd_ino(int fd);

#endif
