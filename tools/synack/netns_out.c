/* netns_out.c — connections out of the namespace. One synack_listen_any
 * listener, holding each SYN, takes every connection the namespace opens;
 * for each, a non-blocking host socket connects to the original
 * destination, and only then is the SYN answered: confirmed and relayed
 * when the host connect succeeds, refused the way the kernel refused us
 * when it fails (RST for "refused", ICMP for "unreachable"), so the
 * program in the namespace sees what it would have seen on the host. */
#define _GNU_SOURCE
#include "netns_out.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dev/loop.h"
#include "fmt.h"
#include "netns_map.h"

#define OUT_BACKLOG 4096

/* A held SYN whose host connect is under way. */
typedef struct opener {
    watch w;              /* first: epoll's data.ptr (the host socket)   */
    sock_owner owner;     /* the held socket's user pointer             */
    out_ctx *o;
    synack_sock *ns;
    int fd;
    struct sockaddr_storage to; /* the host address it connects to */
    char label[136];
} opener;

#define OPENER_OF(ow) ((opener *)((char *)(ow) - offsetof(opener, owner)))

/* How the kernel's refusal of our connect is told to the namespace. */
static int refusal_for(int err)
{
    switch (err) {
    case ECONNREFUSED: return SYNACK_REFUSE_RST;
    case ENETUNREACH: return SYNACK_REFUSE_NET_UNREACH;
    case EACCES:
    case EPERM: return SYNACK_REFUSE_ADMIN_PROHIBITED;
    case EADDRNOTAVAIL: return SYNACK_REFUSE_DROP; /* no port now: its SYN retries */
    default: return SYNACK_REFUSE_HOST_UNREACH;     /* EHOSTUNREACH, ETIMEDOUT, ... */
    }
}

static void opener_free(opener *op)
{
    op->o->pending--;
    free(op);
}

/* No host port (or descriptor) free: the SYN is dropped, not refused, and
 * each of the namespace's retries comes back here; a program opening
 * connections in a loop would write a line per SYN, so at most one line a
 * second, counting the ones it stands for. */
static void log_no_port(out_ctx *o, const char *label)
{
    uint64_t now = dev_now();
    o->no_port_unlogged++;
    if (!o->log || (o->no_port_logged_at && now - o->no_port_logged_at < 1000000000u))
        return;
    fprintf(o->log,
            "relay %s held back: no free host port (EADDRNOTAVAIL): SYN dropped, the "
            "namespace retries (%llu such since the last line; RelayOutPortExhausted)\n",
            label, (unsigned long long)o->no_port_unlogged); /* flushed by the loop */
    o->no_port_logged_at = now;
    o->no_port_unlogged = 0;
}

static void refuse(opener *op, int err)
{
    out_ctx *o = op->o;
    if (op->fd >= 0) {
        epoll_ctl(o->ep, EPOLL_CTL_DEL, op->fd, NULL);
        close(op->fd);
    }
    if (err == EADDRNOTAVAIL)
        o->n.port_exhausted++;
    else if (err == ECONNREFUSED)
        o->n.refused++;
    else
        o->n.unreachable++;
    if (err == EADDRNOTAVAIL)
        log_no_port(o, op->label);
    else if (o->log)
        fprintf(o->log, "relay %s refused: %s\n", op->label, strerror(err));
    synack_sock_set_user(op->ns, NULL);
    synack_accept_refuse(op->ns, refusal_for(err));
    opener_free(op);
}

static void confirm(opener *op, unsigned flags);

/* The host connect finished: confirm the SYN and relay, or refuse it.
 * EPOLLOUT without EPOLLERR or EPOLLHUP is a connect that succeeded (a
 * failed one sets the socket's error, which epoll reports as EPOLLERR):
 * only a failure asks the kernel which error. */
static void host_done(watch *w, uint32_t events)
{
    opener *op = (opener *)w;
    int err = 0;
    if (events & (EPOLLERR | EPOLLHUP)) {
        socklen_t len = sizeof err;
        if (getsockopt(op->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
        if (err == 0)
            err = ECONNREFUSED;
    } else if (!(events & EPOLLOUT)) {
        return; /* still connecting */
    }
    if (err) {
        refuse(op, err);
        return;
    }
    confirm(op, RELAY_HOST_CONNECTED | RELAY_HOST_REGISTERED);
}

/* The host socket is connected: the held SYN gets its SYN,ACK and the
 * relay takes both sockets over (flags: relay_start's). */
static void confirm(opener *op, unsigned flags)
{
    out_ctx *o = op->o;
    synack_sock *ns = op->ns;
    int fd = op->fd;
    char label[sizeof op->label];
    memcpy(label, op->label, sizeof label);
    struct sockaddr_storage to = op->to;
    opener_free(op);
    synack_sock_set_user(ns, NULL);
    o->n.opened++;
    if (synack_accept_confirm(ns) < 0) {
        synack_abort(ns);
        close(fd); /* leaves the epoll set with it */
        return;
    }
    relay *r = relay_start(o->rc, ns, fd, label, flags);
    relay_set_host_peer(r, &to);
}

/* The held socket ended before the host answered (the namespace reset
 * it, or gave up): the host connect goes too. */
static void held_event(sock_owner *ow, synack_sock *k, unsigned events)
{
    (void)k;
    if (!(events & (SYNACK_EV_ERROR | SYNACK_EV_CLOSED)))
        return;
    opener *op = OPENER_OF(ow);
    out_ctx *o = op->o;
    epoll_ctl(o->ep, EPOLL_CTL_DEL, op->fd, NULL);
    close(op->fd);
    synack_sock_set_user(op->ns, NULL);
    synack_close(op->ns);
    o->n.abandoned++;
    opener_free(op);
}

static void start_one(out_ctx *o, synack_sock *ns)
{
    synack_addr dst, src;
    uint16_t dport, sport;
    synack_sock_addrs(ns, &dst, &dport, &src, &sport);
    opener *op = calloc(1, sizeof *op);
    if (!op) {
        synack_accept_refuse(ns, SYNACK_REFUSE_DROP);
        return;
    }
    o->pending++;
    op->w.fn = host_done;
    op->owner.on_event = held_event;
    op->o = o;
    op->ns = ns;
    op->fd = -1;
    char a[64], b[64];
    netns_fmt_ep(&src, sport, a, sizeof a);
    netns_fmt_ep(&dst, dport, b, sizeof b);
    snprintf(op->label, sizeof op->label, "%s -> %s", a, b);
    synack_sock_set_user(ns, &op->owner);
    struct sockaddr_storage sa = {0};
    socklen_t salen;
    if (!netns_host_target(&o->map, &dst, dport, &sa, &salen)) {
        refuse(op, ECONNREFUSED);
        return;
    }
    op->to = sa;
    op->fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (op->fd < 0) {
        refuse(op, errno == EMFILE || errno == ENFILE ? EADDRNOTAVAIL : errno);
        return;
    }
    relay_host_cc(o->rc, op->fd, &sa);
    if (netns_bind_outbound(&o->map, op->fd, &sa) < 0 ||
        (connect(op->fd, (struct sockaddr *)&sa, salen) < 0 && errno != EINPROGRESS)) {
        refuse(op, errno);
        return;
    }
    /* To the host's own addresses the handshake is over by the time
     * connect returns: answer the SYN in this pass of the loop, not the
     * next (and register the socket once, as the relay's). Elsewhere this
     * costs one getpeername that finds the connect still going. */
    if (relay_host_connected(op->fd)) {
        relay_host_cc_connected(o->rc, op->fd, &sa);
        confirm(op, RELAY_HOST_CONNECTED);
        return;
    }
    /* Registered as the relay wants it (edge-triggered), so that the relay
     * takes it over with one EPOLL_CTL_MOD. */
    struct epoll_event ev = {.events = relay_host_events(), .data.ptr = &op->w};
    if (epoll_ctl(o->ep, EPOLL_CTL_ADD, op->fd, &ev) < 0)
        refuse(op, errno);
}

static void listener_event(sock_owner *ow, synack_sock *k, unsigned events)
{
    out_ctx *o = (out_ctx *)((char *)ow - offsetof(out_ctx, owner));
    if (!(events & SYNACK_EV_ACCEPT))
        return;
    synack_sock *ns;
    while ((ns = synack_accept(k, NULL)))
        start_one(o, ns);
}

/* Answer for every address of `all`'s family, and hold every SYN to it. */
static int listen_all(out_ctx *o, synack_stack *s, synack_sock **l, const synack_addr *all)
{
    *l = synack_socket(s);
    if (!*l || synack_impersonate(s, all, 0) < 0)
        return -1;
    synack_sock_set_user(*l, &o->owner);
    return synack_listen_any(*l, all, 0, 1, 65535, OUT_BACKLOG, SYNACK_LISTEN_HOLD_SYN);
}

int out_open(out_ctx *o, synack_stack *s, int ep, relay_ctx *rc, FILE *log)
{
    o->owner.on_event = listener_event;
    o->owner.on_data = NULL;
    o->ep = ep;
    o->rc = rc;
    o->log = log;
    synack_addr all = synack_addr_v4(0), all6 = synack_addr_v6((const uint8_t[16]){0});
    if (listen_all(o, s, &o->listener, &all) < 0)
        return -1;
    return o->ipv6 ? listen_all(o, s, &o->listener6, &all6) : 0;
}

void out_print_counters(const out_ctx *o, FILE *f)
{
    const struct {
        const char *name;
        uint64_t v;
    } rows[] = {{"RelayOutPending", o->pending},
                {"RelayOutOpened", o->n.opened},
                {"RelayOutRefused", o->n.refused},
                {"RelayOutUnreachable", o->n.unreachable},
                {"RelayOutPortExhausted", o->n.port_exhausted},
                {"RelayOutAbandoned", o->n.abandoned}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        fprintf(f, "%-31s %llu\n", rows[i].name, (unsigned long long)rows[i].v);
    fflush(f);
}
