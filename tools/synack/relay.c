/* relay.c — a TCP connection carried between a synack socket and a host
 * socket (see relay.h). */
#define _GNU_SOURCE
#include "relay.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dev/loop.h"
#include "fmt.h"
#include "watch.h"

/* Bytes held per direction at most: enough to keep a 64 KiB-MTU link busy
 * while the slower side catches up. */
#define RELAY_BUF (256u * 1024)
/* A direction has a buffer only while it holds bytes: it gets one to read
 * into and gives it back as soon as it is empty, so an idle relay costs its
 * struct alone (1,000 idle relays must stay under slirp4netns's ~16 MB).
 * Given-back buffers wait here for the next read, up to this many, so
 * that a busy relay, whose buffer empties on every round, does not
 * malloc and free 256 KiB each time. */
#define RELAY_SPARES 2

/* One direction's bytes: read into b[len..], written from b[off..len);
 * b is NULL while len is 0, outside a read. */
typedef struct dir_buf {
    uint8_t *b;
    size_t off, len;
} dir_buf;

struct relay {
    watch w;               /* the host socket's watch: first, for epoll */
    sock_owner owner;      /* the synack socket's user pointer          */
    relay_ctx *c;
    relay *prev, *next;    /* in c->live, then c->dead                   */
    synack_sock *ns;       /* NULL once closed or aborted                */
    int fd;                /* the host socket; -1 once closed            */
    char label[136];
    uint64_t t0;
    dir_buf in, out;       /* host -> namespace, namespace -> host       */
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
    char host_tw[64];      /* we closed the host side first: the host socket's
                              ends, which the host keeps in TIME-WAIT for 60 s */
};

struct relay_ctx {
    int ep;
    FILE *log;
    relay *live, *dead;
    uint8_t *spare[RELAY_SPARES]; /* empty buffers, for the next read      */
    int nspare;
    relay_counters n;
};

static void pump(relay *r);

/* Give d a buffer to read into: a spare one, else a new one. 0, or -1. */
static int buf_take(relay_ctx *c, dir_buf *d)
{
    if (d->b)
        return 0;
    d->b = c->nspare ? c->spare[--c->nspare] : malloc(RELAY_BUF);
    return d->b ? 0 : -1;
}

/* d holds nothing: its buffer goes back (to the spares, or freed). */
static void buf_give_back(relay_ctx *c, dir_buf *d)
{
    if (!d->b || d->len)
        return;
    if (c->nspare < RELAY_SPARES)
        c->spare[c->nspare++] = d->b;
    else
        free(d->b);
    d->b = NULL;
    d->off = 0;
}

relay_ctx *relay_ctx_new(int epfd, FILE *log)
{
    relay_ctx *c = calloc(1, sizeof *c);
    if (c) {
        c->ep = epfd;
        c->log = log;
    }
    return c;
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

/* Our FIN goes to the host before the host's: the host socket will be the
 * one in TIME-WAIT, holding its port. Its ends, for the log. */
static void note_host_tw(relay *r)
{
    struct sockaddr_in a, b;
    socklen_t al = sizeof a, bl = sizeof b;
    char x[16], y[16];
    if (getsockname(r->fd, (struct sockaddr *)&a, &al) < 0 || a.sin_family != AF_INET ||
        getpeername(r->fd, (struct sockaddr *)&b, &bl) < 0)
        return;
    snprintf(r->host_tw, sizeof r->host_tw, "%s:%u-%s:%u", fmt_ip(ntohl(a.sin_addr.s_addr), x),
             ntohs(a.sin_port), fmt_ip(ntohl(b.sin_addr.s_addr), y), ntohs(b.sin_port));
}

static void log_end(const relay *r, const char *word)
{
    if (!r->c->log)
        return;
    double secs = (double)(dev_now() - r->t0) / 1e9;
    fprintf(r->c->log, "relay %s %s: %llu B in, %llu B out, %.2f s, ns %s, host %s%s%s\n",
            r->label, word, (unsigned long long)r->bytes_in, (unsigned long long)r->bytes_out,
            secs, r->ns_end ? r->ns_end : "open", r->host_end ? r->host_end : "open",
            r->host_tw[0] ? ", host TIME-WAIT " : "", r->host_tw);
    fflush(r->c->log);
}

/* The relay is over: both sides are closed already. Count, log, and move it
 * to the dead list; relay_reap frees it. */
static void finish(relay *r, const char *word, uint64_t *counter)
{
    relay_ctx *c = r->c;
    if (counter != &c->n.closed)
        r->host_tw[0] = 0; /* a reset leaves no TIME-WAIT */
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

/* No memory for a buffer: this process failed the connection, so both
 * sides are reset (counted with the host's resets). */
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
 * namespace-bound buffer drops EPOLLIN (no wake-up per arriving segment
 * that could not be read), and room in it asks again: re-arming reports
 * bytes already waiting. */
static uint32_t host_mask(const relay *r)
{
    return EPOLLOUT | EPOLLRDHUP | EPOLLET | (r->in.len < RELAY_BUF ? EPOLLIN : 0);
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

/* Host -> namespace: send what is buffered, read more, pass the EOF on.
 * Returns 1 when something moved, 0 when not, -1 when the relay ended. */
static int move_in(relay *r)
{
    int moved = 0;
    dir_buf *d = &r->in;
    while (d->off < d->len) {
        ssize_t n = synack_send(r->ns, d->b + d->off, d->len - d->off);
        if (n == -EAGAIN || n == 0)
            break;
        if (n < 0) {
            fail_ns(r, (int)n);
            return -1;
        }
        d->off += (size_t)n;
        r->bytes_in += (uint64_t)n;
        r->c->n.bytes_in += (uint64_t)n;
        moved = 1;
    }
    if (d->off == d->len)
        d->off = d->len = 0;
    if (!r->host_eof && d->len < RELAY_BUF && r->host_readable) {
        if (buf_take(r->c, d) < 0) {
            fail_nomem(r);
            return -1;
        }
        size_t want = RELAY_BUF - d->len;
        ssize_t n = recv(r->fd, d->b + d->len, want, MSG_DONTWAIT);
        if (n > 0) {
            d->len += (size_t)n;
            moved = 1;
            /* Less than asked: the socket's queue is empty now, and bytes
             * that come later bring a new edge. A FIN that came already
             * brings none: read on to the EOF. */
            if ((size_t)n < want && !r->host_rdhup)
                r->host_readable = 0;
        } else if (n == 0) {
            r->host_eof = 1;
            r->host_end = "fin";
            moved = 1;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            r->host_readable = 0;
        } else if (errno != EINTR) {
            fail_host(r, errno);
            return -1;
        }
    }
    buf_give_back(r->c, d);
    if (r->host_eof && d->len == 0 && !r->ns_shut) {
        synack_shutdown(r->ns, SYNACK_SHUT_WR); /* our FIN follows the data */
        r->ns_shut = 1;
        moved = 1;
    }
    return moved;
}

/* Namespace -> host, the same way. */
static int move_out(relay *r)
{
    int moved = 0;
    dir_buf *d = &r->out;
    while (d->off < d->len) {
        ssize_t n = send(r->fd, d->b + d->off, d->len - d->off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            break;
        if (n < 0) {
            fail_host(r, errno);
            return -1;
        }
        d->off += (size_t)n;
        r->bytes_out += (uint64_t)n;
        r->c->n.bytes_out += (uint64_t)n;
        moved = 1;
    }
    if (d->off == d->len)
        d->off = d->len = 0;
    if (!r->ns_eof && d->len < RELAY_BUF) {
        if (buf_take(r->c, d) < 0) {
            fail_nomem(r);
            return -1;
        }
        ssize_t n = synack_recv(r->ns, d->b + d->len, RELAY_BUF - d->len);
        if (n > 0) {
            d->len += (size_t)n;
            moved = 1;
        } else if (n == 0) {
            r->ns_eof = 1;
            r->ns_end = "fin";
            moved = 1;
        } else if (n != -EAGAIN) {
            fail_ns(r, (int)n);
            return -1;
        }
    }
    buf_give_back(r->c, d);
    if (r->ns_eof && d->len == 0 && !r->host_shut) {
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
        r->c->n.host_time_wait += r->host_tw[0] != 0;
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

static void sock_event(sock_owner *o, synack_sock *ns, unsigned events)
{
    (void)ns;
    (void)events; /* pump asks the socket itself what it can do */
    relay *r = (relay *)((char *)o - offsetof(relay, owner));
    if (!r->dead)
        pump(r);
}

/* 1 when `fd` is connected, 0 while its connect is in progress. */
static int host_connected(int fd)
{
    struct sockaddr_storage peer;
    socklen_t len = sizeof peer;
    return getpeername(fd, (struct sockaddr *)&peer, &len) == 0 || errno != ENOTCONN;
}

uint32_t relay_host_events(void) { return EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET; }

relay *relay_start(relay_ctx *c, synack_sock *ns, int host_fd, const char *label,
                   unsigned flags)
{
    relay *r = calloc(1, sizeof *r); /* buffers come with the data */
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
    r->host_up = (flags & RELAY_HOST_CONNECTED) || host_connected(host_fd);
    snprintf(r->label, sizeof r->label, "%s", label);
    r->owner.on_event = sock_event;
    synack_sock_set_user(ns, &r->owner);
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
        free(r->in.b);
        free(r->out.b);
        free(r);
    }
}

void relay_ctx_free(relay_ctx *c)
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
    while (c->nspare)
        free(c->spare[--c->nspare]);
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
