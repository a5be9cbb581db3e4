/* relay.c — a TCP connection carried between a synack socket and a host
 * socket (see relay.h). */
#define _GNU_SOURCE
#include "relay.h"

#include "netns_fwd.h"
#include "netns_map.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dev/loop.h"
#include "fmt.h"
#include "watch.h"

/* The relay holds no bytes of its own: host -> namespace bytes are read
 * straight into the synack socket's send buffer, and namespace -> host
 * bytes are sent straight from the TAP frame they came in
 * (SYNACK_TCP_DIRECT_DATA), or from the receive buffer when the host
 * socket could not take them at once (synack_send_space,
 * synack_recv_view): this process copies no byte itself (the kernel's
 * reads and writes do), and an idle relay costs its struct alone. Back-pressure is the
 * stack's own: a full send buffer stops reading the host socket, and bytes
 * the host socket cannot take yet keep the namespace's window closed. */

struct relay {
    watch w;               /* the host socket's watch: first, for epoll */
    sock_owner owner;      /* the synack socket's user pointer          */
    relay_ctx *c;
    relay *prev, *next;    /* in c->live, then c->dead                   */
    synack_sock *ns;       /* NULL once closed or aborted                */
    int fd;                /* the host socket; -1 once closed            */
    char label[RELAY_LABEL_LEN];
    uint64_t t0;
    int in_full;           /* the synack socket's send buffer is full:
                              the host socket is not read until it drains */
    uint64_t bytes_in, bytes_out;
    uint32_t interest;     /* epoll events asked for                      */
    int host_readable;     /* the host socket may have bytes or an EOF:
                              an edge came and no recv has drained it    */
    int host_rdhup;        /* its FIN came (EPOLLRDHUP): read to the EOF */
    int ns_up, host_up;    /* the handshake is done on that side        */
    int host_eof, ns_eof;  /* that side sent its FIN (we read EOF)       */
    int ns_shut, host_shut;/* we sent our FIN to that side               */
    int dead, in_pump, again;
    const char *ns_end, *host_end; /* how each side ended ("fin", "rst") */
    int host_tw_ours;      /* we closed the host side first: it keeps TIME-WAIT */
    int peer_known;        /* the host socket's peer, from the caller:   */
    synack_addr peer;      /* the log line needs no getpeername          */
    uint16_t peer_port;
    char host_tw[112];     /* we closed the host side first: the host socket's
                              ends, which the host keeps in TIME-WAIT for 60 s */
};

struct relay_ctx {
    int ep;
    FILE *log;
    const char *loopback_cc; /* relay_set_loopback_cc, or NULL           */
    relay *live, *dead;
    relay_counters n;
};

/* How long an ACK waits for the answer to ride on (SYNACK_TCP_ACK_DELAY). */
#define RELAY_ACK_DELAY_US 1000

static void pump(relay *r);

relay_ctx *relay_ctx_new(int epfd, FILE *log)
{
    relay_ctx *c = calloc(1, sizeof *c);
    if (c) {
        c->ep = epfd;
        c->log = log;
    }
    return c;
}

void relay_set_loopback_cc(relay_ctx *c, const char *name)
{
    c->loopback_cc = name;
}

static void set_loopback_cc(const relay_ctx *c, int fd)
{
    /* A refusal leaves the default: slower, not wrong. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, c->loopback_cc,
                     (socklen_t)strlen(c->loopback_cc));
}

void relay_host_cc(const relay_ctx *c, int fd, const struct sockaddr_storage *peer)
{
    if (c->loopback_cc && netns_is_loopback(peer))
        set_loopback_cc(c, fd);
}

void relay_host_cc_connected(const relay_ctx *c, int fd, const struct sockaddr_storage *peer)
{
    if (c->loopback_cc && !netns_is_loopback(peer)) /* a loopback one has it already */
        set_loopback_cc(c, fd);
}

void relay_host_cc_accepted(const relay_ctx *c, int fd, const struct sockaddr_storage *peer)
{
    if (c->loopback_cc && (netns_is_loopback(peer) || netns_peer_is_self(fd, peer)))
        set_loopback_cc(c, fd);
}

static void unlink_from(relay **head, relay *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        *head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
}

static void push(relay **head, relay *r)
{
    r->next = *head;
    if (*head)
        (*head)->prev = r;
    *head = r;
}

/* How a synack error ends that side, for the log. */
static const char *ns_how(int err)
{
    switch (err) {
    case -ECONNRESET: return "rst";
    case -ECONNREFUSED: return "refused";
    case -ETIMEDOUT: return "timeout";
    default: return fmt_errno(err);
    }
}

static const char *host_how(int err)
{
    switch (err) {
    case ECONNRESET:
    case EPIPE: return "rst";
    case ECONNREFUSED: return "refused";
    case ETIMEDOUT: return "timeout";
    default: return fmt_errno(err);
    }
}

/* Close the host socket so that the kernel resets the connection. */
static void close_with_rst(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

/* One end of a host socket, as "a.b.c.d:port" or "[v6]:port". */
static void sockaddr_text(const struct sockaddr_storage *ss, char *buf)
{
    uint16_t port;
    synack_addr a = fwd_peer_addr(ss, &port);
    fmt_addr_endpoint(&a, port, buf);
}

void relay_set_host_peer(relay *r, const struct sockaddr_storage *ss)
{
    if (!r)
        return;
    r->peer = fwd_peer_addr(ss, &r->peer_port);
    r->peer_known = 1;
}

/* Our FIN goes to the host before the host's: the host socket will be the
 * one in TIME-WAIT, holding its port. Counted always; its ends are looked
 * up for the log line only (two system calls a connection otherwise). */
static void note_host_tw(relay *r)
{
    r->host_tw_ours = 1;
    if (!r->c->log)
        return;
    struct sockaddr_storage a, b;
    socklen_t al = sizeof a, bl = sizeof b;
    char x[FMT_ENDPOINT_LEN], y[FMT_ENDPOINT_LEN];
    if (getsockname(r->fd, (struct sockaddr *)&a, &al) < 0 ||
        (!r->peer_known && getpeername(r->fd, (struct sockaddr *)&b, &bl) < 0))
        return;
    sockaddr_text(&a, x);
    if (r->peer_known)
        fmt_addr_endpoint(&r->peer, r->peer_port, y);
    else
        sockaddr_text(&b, y);
    snprintf(r->host_tw, sizeof r->host_tw, "%s-%s", x, y);
}

static void log_end(const relay *r, const char *word)
{
    if (!r->c->log)
        return;
    double secs = (double)(dev_now() - r->t0) / 1e9;
    fprintf(r->c->log, "relay %s %s: %llu B in, %llu B out, %.2f s, ns %s, host %s%s%s\n",
            r->label, word, (unsigned long long)r->bytes_in, (unsigned long long)r->bytes_out,
            secs, r->ns_end ? r->ns_end : "open", r->host_end ? r->host_end : "open",
            r->host_tw[0] ? ", host TIME-WAIT " : "", r->host_tw); /* flushed by the loop */
}

/* The relay is over: both sides are closed already. Count, log, and move it
 * to the dead list; relay_reap frees it. */
static void finish(relay *r, const char *word, uint64_t *counter)
{
    relay_ctx *c = r->c;
    if (counter != &c->n.closed)
        r->host_tw[0] = 0, r->host_tw_ours = 0; /* a reset leaves no TIME-WAIT */
    r->dead = 1;
    (*counter)++;
    c->n.active--;
    log_end(r, word);
    unlink_from(&c->live, r);
    push(&c->dead, r);
}

static void drop_ns(relay *r, int abort)
{
    if (!r->ns)
        return;
    synack_sock_set_user(r->ns, NULL);
    if (abort)
        synack_abort(r->ns);
    else
        synack_close(r->ns);
    r->ns = NULL;
}

static void drop_fd(relay *r, int rst)
{
    if (r->fd < 0)
        return;
    if (rst)
        close_with_rst(r->fd);
    else
        close(r->fd); /* leaves the epoll set with it */
    r->fd = -1;
}

/* The namespace side reset, refused or timed out: reset the host side. */
static void fail_ns(relay *r, int err)
{
    r->ns_end = ns_how(err);
    r->host_end = "reset by us";
    drop_ns(r, 1);
    drop_fd(r, 1);
    relay_counters *n = &r->c->n;
    int refused = err == -ECONNREFUSED;
    finish(r, refused ? "refused" : "reset", refused ? &n->refused : &n->ns_reset);
}

/* The host side reset or failed: reset the namespace side. */
static void fail_host(relay *r, int err)
{
    r->host_end = host_how(err);
    r->ns_end = "reset by us";
    drop_fd(r, 0);
    drop_ns(r, 1);
    relay_counters *n = &r->c->n;
    int refused = err == ECONNREFUSED;
    finish(r, refused ? "refused" : "reset", refused ? &n->refused : &n->host_reset);
}

/* No memory for the send buffer: this process failed the connection, so
 * both sides are reset (counted with the host's resets). */
static void fail_nomem(relay *r)
{
    r->ns_end = r->host_end = "reset by us";
    drop_ns(r, 1);
    drop_fd(r, 1);
    finish(r, "reset (out of memory)", &r->c->n.host_reset);
}

/* Ask epoll for what the host socket can do for us now. The host socket
 * is edge-triggered (EPOLLET): it is registered once, and epoll tells each
 * new arrival of bytes, room or an end, so a relay that moves a byte each
 * way costs no epoll_ctl and no recv that finds nothing. Only a full
 * send buffer on the synack side drops EPOLLIN (no wake-up per arriving
 * segment that could not be read), and room in it asks again: re-arming
 * reports bytes already waiting. */
static uint32_t host_mask(const relay *r)
{
    return EPOLLOUT | EPOLLRDHUP | EPOLLET | (r->in_full ? 0 : EPOLLIN);
}

static void set_interest(relay *r)
{
    if (r->fd < 0)
        return;
    uint32_t want = host_mask(r);
    if (want == r->interest)
        return;
    struct epoll_event ev = {.events = want, .data.ptr = &r->w};
    epoll_ctl(r->c->ep, EPOLL_CTL_MOD, r->fd, &ev);
    r->interest = want;
}

/* The two pieces of a synack buffer as a msghdr's iovec. */
static void to_msg(struct msghdr *m, struct iovec io[2], const synack_iov v[2])
{
    io[0] = (struct iovec){.iov_base = v[0].base, .iov_len = v[0].len};
    io[1] = (struct iovec){.iov_base = v[1].base, .iov_len = v[1].len};
    *m = (struct msghdr){.msg_iov = io, .msg_iovlen = v[1].len ? 2 : 1};
}

/* Host -> namespace: read the host socket into the send buffer, pass the
 * EOF on. Returns 1 when something moved, 0 when not, -1 when the relay
 * ended. */
static int move_in(relay *r)
{
    int moved = 0;
    if (!r->host_eof && r->host_readable) {
        synack_iov v[2];
        ssize_t room = synack_send_space(r->ns, v);
        if (room < 0 && room != -EAGAIN) {
            if (room == -ENOMEM)
                fail_nomem(r);
            else
                fail_ns(r, (int)room);
            return -1;
        }
        r->in_full = room == -EAGAIN;
        if (room > 0) {
            struct iovec io[2];
            struct msghdr m;
            to_msg(&m, io, v);
            ssize_t n = recvmsg(r->fd, &m, MSG_DONTWAIT);
            int e = errno;
            synack_send_commit(r->ns, n > 0 ? (size_t)n : 0);
            if (n > 0) {
                r->bytes_in += (uint64_t)n;
                r->c->n.bytes_in += (uint64_t)n;
                moved = 1;
                /* Less than asked: the socket's queue is empty now, and bytes
                 * that come later bring a new edge. A FIN that came already
                 * brings none: read on to the EOF. */
                if (n < room && !r->host_rdhup)
                    r->host_readable = 0;
            } else if (n == 0) {
                r->host_eof = 1;
                r->host_end = "fin";
                moved = 1;
            } else if (e == EAGAIN || e == EWOULDBLOCK) {
                r->host_readable = 0;
            } else if (e != EINTR) {
                fail_host(r, e);
                return -1;
            }
        }
    }
    if (r->host_eof && !r->ns_shut) {
        synack_shutdown(r->ns, SYNACK_SHUT_WR); /* our FIN follows the data */
        r->ns_shut = 1;
        moved = 1;
    }
    return moved;
}

/* Namespace -> host: send from the receive buffer what the host socket
 * takes, pass the EOF on. */
static int move_out(relay *r)
{
    int moved = 0;
    if (!r->ns_eof) {
        synack_iov v[2];
        ssize_t ready = synack_recv_view(r->ns, v);
        if (ready > 0) {
            struct iovec io[2];
            struct msghdr m;
            to_msg(&m, io, v);
            ssize_t n = sendmsg(r->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0) {
                synack_recv_consume(r->ns, (size_t)n);
                r->bytes_out += (uint64_t)n;
                r->c->n.bytes_out += (uint64_t)n;
                moved = 1;
            } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                fail_host(r, errno);
                return -1;
            } /* else full: its EPOLLOUT edge brings us back */
        } else if (ready == 0) {
            r->ns_eof = 1;
            r->ns_end = "fin";
            moved = 1;
        } else if (ready != -EAGAIN) {
            fail_ns(r, (int)ready);
            return -1;
        }
    }
    if (r->ns_eof && !r->host_shut) {
        if (!r->host_eof)
            note_host_tw(r);
        shutdown(r->fd, SHUT_WR);
        r->host_shut = 1;
        moved = 1;
    }
    return moved;
}

/* Both sides up: is the handshake on each side done? */
static int both_up(relay *r)
{
    if (!r->ns_up) {
        int st = synack_sock_state(r->ns);
        r->ns_up = st != SYNACK_SYN_SENT && st != SYNACK_SYN_RECEIVED && st != SYNACK_CLOSED;
    }
    return r->ns_up && r->host_up;
}

static void pump_rounds(relay *r)
{
    int err = synack_sock_error(r->ns);
    if (err) {
        fail_ns(r, err);
        return;
    }
    if (!both_up(r))
        return;
    for (int round = 0; round < 64; round++) {
        int a = move_in(r);
        if (a < 0)
            return;
        int b = move_out(r);
        if (b < 0)
            return;
        if (!a && !b)
            break;
    }
    if (r->ns_shut && r->host_shut) {
        drop_fd(r, 0);
        drop_ns(r, 0); /* graceful: the stack finishes the close */
        r->c->n.host_time_wait += r->host_tw_ours != 0;
        finish(r, "closed", &r->c->n.closed);
    }
}

/* Do what can be done now. A stack event delivered from inside a synack
 * call made here comes back as r->again rather than a nested pump. */
static void pump(relay *r)
{
    if (r->in_pump) {
        r->again = 1;
        return;
    }
    r->in_pump = 1;
    do {
        r->again = 0;
        if (!r->dead)
            pump_rounds(r);
    } while (r->again && !r->dead);
    r->in_pump = 0;
    if (!r->dead)
        set_interest(r);
}

/* The host socket's events: its connect finishing, room, data, errors. */
static void host_event(watch *w, uint32_t events)
{
    relay *r = (relay *)w;
    if (r->dead)
        return;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        r->host_readable = 1;
    if (events & (EPOLLRDHUP | EPOLLHUP))
        r->host_rdhup = 1;
    if (!r->host_up || (events & EPOLLERR)) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
        if (err) {
            fail_host(r, err);
            return;
        }
        if (!r->host_up && !(events & (EPOLLOUT | EPOLLHUP)))
            return; /* still connecting */
        r->host_up = 1;
    }
    pump(r);
}

/* Namespace -> host, direct (SYNACK_TCP_DIRECT_DATA): the stack hands
 * over in-order data still in the TAP frame when nothing is buffered
 * before it; what the host socket takes now never enters the receive
 * buffer (one copy less). Anything else (not connected yet, full, an
 * error) is left to the stack to buffer, and move_out finds it there. */
static size_t sock_data(sock_owner *o, synack_sock *ns, const void *data, size_t len)
{
    (void)ns;
    relay *r = (relay *)((char *)o - offsetof(relay, owner));
    if (r->dead || !r->host_up || r->host_shut || r->ns_eof || r->fd < 0)
        return 0;
    ssize_t n = send(r->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n <= 0)
        return 0;
    r->bytes_out += (uint64_t)n;
    r->c->n.bytes_out += (uint64_t)n;
    return (size_t)n;
}

static void sock_event(sock_owner *o, synack_sock *ns, unsigned events)
{
    (void)ns;
    (void)events; /* pump asks the socket itself what it can do */
    relay *r = (relay *)((char *)o - offsetof(relay, owner));
    if (!r->dead)
        pump(r);
}

int relay_host_connected(int fd)
{
    struct sockaddr_storage peer;
    socklen_t len = sizeof peer;
    return getpeername(fd, (struct sockaddr *)&peer, &len) == 0 || errno != ENOTCONN;
}

uint32_t relay_host_events(void) { return EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET; }

relay *relay_start(relay_ctx *c, synack_sock *ns, int host_fd, const char *label,
                   unsigned flags)
{
    relay *r = calloc(1, sizeof *r);
    /* Registered already (with relay_host_events()): only the pointer
     * changes, and epoll reports again what is ready. */
    int op = (flags & RELAY_HOST_REGISTERED) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    struct epoll_event ev = {.events = relay_host_events(), .data.ptr = r};
    if (!r || epoll_ctl(c->ep, op, host_fd, &ev) < 0) {
        free(r);
        synack_abort(ns);
        close_with_rst(host_fd);
        return NULL;
    }
    r->w.fn = host_event;
    r->c = c;
    r->ns = ns;
    r->fd = host_fd;
    r->interest = ev.events;
    r->t0 = dev_now();
    r->host_up = (flags & RELAY_HOST_CONNECTED) || relay_host_connected(host_fd);
    snprintf(r->label, sizeof r->label, "%s", label);
    r->owner.on_event = sock_event;
    r->owner.on_data = sock_data;
    synack_sock_set_user(ns, &r->owner);
    synack_setopt(ns, SYNACK_TCP_DIRECT_DATA, 1); /* -EINVAL without cfg.data: buffered */
    /* The program in the namespace already chose when to send: the relay
     * adds no Nagle delay of its own. Its request is answered by the host
     * side within microseconds as a rule, so the answer (or our FIN) carries
     * the ACK of the request (or of its FIN): two TAP frames fewer per
     * short connection, and a write-write-read stall of at most this. */
    synack_setopt(ns, SYNACK_TCP_NODELAY, 1);
    synack_setopt(ns, SYNACK_TCP_ACK_DELAY, RELAY_ACK_DELAY_US);
    push(&c->live, r);
    c->n.started++;
    c->n.active++;
    pump(r);
    return r;
}

void relay_reap(relay_ctx *c)
{
    while (c->dead) {
        relay *r = c->dead;
        unlink_from(&c->dead, r);
        free(r);
    }
}

void relay_stop_all(relay_ctx *c)
{
    if (!c)
        return;
    while (c->live) {
        relay *r = c->live;
        drop_ns(r, 1);
        drop_fd(r, 1);
        finish(r, "stopped", &c->n.stopped);
    }
    relay_reap(c);
}

void relay_ctx_free(relay_ctx *c)
{
    relay_stop_all(c);
    free(c);
}

const relay_counters *relay_get_counters(const relay_ctx *c) { return &c->n; }

void relay_print_counters(const relay_ctx *c, FILE *f)
{
    const relay_counters *n = &c->n;
    const struct {
        const char *name;
        uint64_t v;
    } rows[] = {{"RelayStarted", n->started},     {"RelayActive", n->active},
                {"RelayClosed", n->closed},       {"RelayNsReset", n->ns_reset},
                {"RelayHostReset", n->host_reset}, {"RelayRefused", n->refused},
                {"RelayStopped", n->stopped},     {"RelayHostTimeWait", n->host_time_wait},
                {"RelayBytesIn", n->bytes_in},
                {"RelayBytesOut", n->bytes_out}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        fprintf(f, "%-31s %llu\n", rows[i].name, (unsigned long long)rows[i].v);
    fflush(f);
}
