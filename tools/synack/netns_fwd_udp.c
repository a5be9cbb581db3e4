/* netns_fwd_udp.c — UDP port forwarding of `synack netns -p
 * [HOSTIP:]HOSTPORT:NSPORT/udp`: a host UDP socket whose every client (its
 * address and port) gets a synack UDP socket of its own towards the
 * namespace's NSPORT, so the server there sees one peer per client and its
 * answers go back to that client. The client's own address and port, where
 * fwd_source allows (a transparent socket on just that address and port);
 * else a socket of the gateway's connected to NSPORT. A client silent for
 * UDP_IDLE_S is forgotten. */
#define _GNU_SOURCE
#include "netns_fwd_udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dev/loop.h"
#include "fmt.h"
#include "netns_udp.h"

#define UFWD_CLIENTS_MAX 256 /* beyond, the client idle longest is forgotten */
#define READS_PER_WAKE 64

typedef struct uclient {
    udp_owner owner;          /* the synack socket's user pointer           */
    struct ufwd *f;
    struct uclient *next;
    struct sockaddr_storage peer; /* the host-side client                   */
    socklen_t peerlen;
    synack_udp *u;            /* towards the namespace's NSPORT             */
    synack_udp_meta via;      /* a transparent u's: from the client's address
                                 and port to NSPORT, the one peer it takes
                                 (remote_port 0: u is the gateway's)        */
    uint64_t last;
} uclient;

struct ufwd {
    watch w;                  /* the host socket: first, for epoll          */
    int fd;
    synack_stack *s;
    synack_addr to;           /* the namespace's address (fwd_target)      */
    uint16_t ns_port;
    fwd_ns ns;
    ufwd_counters *cnt;       /* the run's, or own when it has none        */
    ufwd_counters own;
    uclient *clients;
    size_t n;
    uint8_t buf[65536];
};

static void client_free(ufwd *f, uclient *c)
{
    uclient **pp = &f->clients;
    while (*pp && *pp != c)
        pp = &(*pp)->next;
    if (*pp)
        *pp = c->next;
    synack_udp_close(c->u);
    f->n--;
    free(c);
}

/* Answers from the namespace go back to the client they are for. */
static void ns_readable(udp_owner *o, synack_udp *u, unsigned events)
{
    (void)events;
    uclient *c = (uclient *)((char *)o - offsetof(uclient, owner));
    ufwd *f = c->f;
    ssize_t n;
    while ((n = synack_udp_recv(u, f->buf, sizeof f->buf, NULL)) != -EAGAIN) {
        if (n < 0)
            continue; /* an ICMP error from the namespace: reported once */
        if (sendto(f->fd, f->buf, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&c->peer,
                   c->peerlen) >= 0)
            f->cnt->out++;
        c->last = dev_now();
    }
}

/* The same client: family, address and port (not the rest of a sockaddr). */
static int same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    uint16_t pa, pb;
    synack_addr x = fwd_peer_addr(a, &pa), y = fwd_peer_addr(b, &pb);
    return pa == pb && synack_addr_equal(&x, &y);
}

/* c->u, from the client's own address and port where fwd_source allows
 * it; else from the gateway (that address and port taken by another
 * forward's client, too). With threads, always from the gateway: UDP is
 * steered by addresses alone, so a client's own address would send the
 * answers to whichever thread its hash names, half the time not this one,
 * and one rule for every client beats a coin toss per client. */
static int open_towards_ns(ufwd *f, uclient *c, const struct sockaddr_storage *peer)
{
    if (!(c->u = synack_udp_open(f->s, f->to.family)))
        return -1;
    uint16_t cport;
    synack_addr client = fwd_peer_addr(peer, &cport);
    synack_addr from = fwd_source(&f->ns, &client, &f->to);
    synack_addr gw = fwd_gateway(&f->ns, f->to.family);
    uint8_t len = from.family == SYNACK_AF_INET6 ? 128 : 32;
    /* A failed bind_any leaves the socket as it was: the gateway's then. */
    if (!synack_addr_equal(&from, &gw) && synack_stack_config(f->s)->steer.count <= 1 &&
        synack_udp_bind_any(c->u, &from, len, cport, cport) == 0)
        c->via = (synack_udp_meta){.remote = f->to, .remote_port = f->ns_port, .local = from,
                                   .local_port = cport};
    /* Connected, a transparent one takes only NSPORT's answers: the
     * namespace's other datagrams to that address and port go on to
     * netns_udp's NAT. */
    return synack_udp_connect(c->u, &f->to, f->ns_port);
}

static uclient *client_for(ufwd *f, const struct sockaddr_storage *peer, socklen_t plen)
{
    for (uclient *c = f->clients; c; c = c->next)
        if (same_peer(&c->peer, peer))
            return c;
    if (f->n >= UFWD_CLIENTS_MAX) { /* forget the one idle longest */
        uclient *old = f->clients;
        for (uclient *c = f->clients; c; c = c->next)
            if (c->last < old->last)
                old = c;
        client_free(f, old);
    }
    uclient *c = calloc(1, sizeof *c);
    if (!c || open_towards_ns(f, c, peer) < 0) {
        if (c && c->u)
            synack_udp_close(c->u);
        free(c);
        return NULL;
    }
    c->owner.on_event = ns_readable;
    c->f = f;
    c->peer = *peer;
    c->peerlen = plen;
    synack_udp_set_user(c->u, &c->owner);
    c->next = f->clients;
    f->clients = c;
    f->n++;
    f->cnt->clients++;
    return c;
}

static void host_readable(watch *w, uint32_t events)
{
    (void)events;
    ufwd *f = (ufwd *)w;
    for (int i = 0; i < READS_PER_WAKE; i++) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        ssize_t n = recvfrom(f->fd, f->buf, sizeof f->buf, MSG_DONTWAIT,
                             (struct sockaddr *)&peer, &plen);
        if (n < 0)
            return;
        uclient *c = client_for(f, &peer, plen);
        if (c)
            c->last = dev_now();
        if (c && synack_udp_send(c->u, f->buf, (size_t)n, c->via.remote_port ? &c->via : NULL) >= 0)
            f->cnt->in++;
        else
            f->cnt->dropped++;
    }
}

void ufwd_print_counters(const ufwd_counters *n, FILE *f)
{
    fprintf(f, "%-31s %llu\n%-31s %llu\n%-31s %llu\n%-31s %llu\n", "UdpFwdClients",
            (unsigned long long)n->clients, "UdpFwdIn", (unsigned long long)n->in, "UdpFwdOut",
            (unsigned long long)n->out, "UdpFwdDropped", (unsigned long long)n->dropped);
}

ufwd *ufwd_open(const fwd_spec *spec, int epfd, synack_stack *s, const fwd_ns *ns,
                ufwd_counters *n, char *err, size_t errlen)
{
    ufwd *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    f->w.fn = host_readable;
    f->s = s;
    f->to = fwd_target(spec, ns);
    f->ns_port = spec->ns_port;
    f->ns = *ns;
    f->cnt = n ? n : &f->own;
    f->fd = fwd_host_socket(spec, SOCK_DGRAM);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &f->w};
    if (f->fd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, f->fd, &ev) < 0) {
        char ep[FMT_ENDPOINT_LEN];
        snprintf(err, errlen, "-p %s: cannot bind %s/udp: %s", spec->text,
                 fmt_addr_endpoint(&spec->host, spec->host_port, ep), strerror(errno));
        ufwd_close(f);
        return NULL;
    }
    return f;
}

void ufwd_sweep(ufwd *f, uint64_t now)
{
    for (uclient *c = f->clients, *next; c; c = next) {
        next = c->next;
        if (now - c->last >= UDP_IDLE_S * 1000000000ull)
            client_free(f, c);
    }
}

void ufwd_close(ufwd *f)
{
    if (!f)
        return;
    while (f->clients)
        client_free(f, f->clients);
    if (f->fd >= 0)
        close(f->fd);
    free(f);
}
