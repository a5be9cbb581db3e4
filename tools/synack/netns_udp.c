/* netns_udp.c — UDP out of the namespace (see netns_udp.h). One
 * transparent synack UDP socket takes every datagram the namespace sends;
 * a flow (the namespace's address and port, the destination's) gets a
 * host UDP socket connected to where the destination is on the host, and
 * whatever comes back on it enters the namespace from the destination it
 * was sent to, as a NAT's answer would; so do the ICMP errors the host
 * gets about the flow's datagrams (IP_RECVERR, IPV6_RECVERR). */
#define _GNU_SOURCE
#include "netns_udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dev/loop.h"

#define NS_PER_S 1000000000ull
#define READS_PER_WAKE 64 /* datagrams taken from one host socket per wake-up */

struct uflow {
    watch w;                   /* the host socket: first, for epoll       */
    netns_udp *u;
    uflow *hnext;              /* hash chain                               */
    uflow *older, *newer;      /* u->oldest ... u->newest                  */
    synack_addr ns, dst;       /* the namespace's end and its destination  */
    uint16_t ns_port, dst_port;
    int fd;
    uint64_t last;
};

static size_t bucket(const synack_addr *ns, uint16_t ns_port, const synack_addr *dst,
                     uint16_t dst_port)
{
    const uint8_t *a = ns->family == SYNACK_AF_INET6 ? ns->v6 : (const uint8_t *)&ns->v4;
    const uint8_t *b = dst->family == SYNACK_AF_INET6 ? dst->v6 : (const uint8_t *)&dst->v4;
    size_t n = ns->family == SYNACK_AF_INET6 ? 16 : 4;
    uint32_t h = 2166136261u; /* FNV-1a over both ends */
    for (size_t k = 0; k < n; k++)
        h = (h ^ a[k] ^ (uint32_t)b[k] << 8) * 16777619u;
    h = (h ^ ((uint32_t)ns_port << 16 | dst_port)) * 16777619u;
    return (h ^ h >> 15) % UDP_FLOW_BUCKETS;
}

/* ------------------------------------------------------------ the flow list */

static void unlink_age(netns_udp *u, uflow *f)
{
    if (f->older)
        f->older->newer = f->newer;
    else
        u->oldest = f->newer;
    if (f->newer)
        f->newer->older = f->older;
    else
        u->newest = f->older;
    f->older = f->newer = NULL;
}

static void push_newest(netns_udp *u, uflow *f)
{
    f->older = u->newest;
    if (u->newest)
        u->newest->newer = f;
    else
        u->oldest = f;
    u->newest = f;
}

static void touch(uflow *f)
{
    netns_udp *u = f->u;
    f->last = u->now;
    if (u->newest != f) {
        unlink_age(u, f);
        push_newest(u, f);
    }
}

static void flow_close(uflow *f)
{
    netns_udp *u = f->u;
    uflow **pp = &u->buckets[bucket(&f->ns, f->ns_port, &f->dst, f->dst_port)];
    while (*pp && *pp != f)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = f->hnext;
    unlink_age(u, f);
    close(f->fd); /* leaves the epoll set with it */
    u->nflows--;
    free(f);
}

/* ------------------------------------------------------------ host -> namespace */

/* Tell the namespace's sender that its datagram did not get through:
 * synack_udp_unreachable with RFC 792's `code` (-1: nothing to say), from
 * the address it sent to (port unreachable) or from the gateway (the rest);
 * an IPv6 flow hears the ICMPv6 counterpart. */
static void tell(uflow *f, const synack_udp_meta *to, int code)
{
    if (code < 0)
        return;
    synack_udp_meta about = {.remote = to->remote, .remote_port = to->remote_port,
                             .local = to->local, .local_port = to->local_port};
    synack_udp *any = about.remote.family == SYNACK_AF_INET6 ? f->u->any6 : f->u->any;
    if (synack_udp_unreachable(any, &about, code) == 0)
        f->u->n.unreachable++;
}

/* The RFC 792 code of an ICMP or ICMPv6 error the host socket queued, or
 * -1 for those that are no "unreachable" (time exceeded, packet too big:
 * the host's own socket deals with its path MTU). ICMPv6's codes map
 * back as synack_udp_unreachable maps them forth (synack.h). */
static int icmp_code(const struct sock_extended_err *ee)
{
    if (ee->ee_origin == SO_EE_ORIGIN_ICMP)
        return ee->ee_type == 3 && ee->ee_code != 4 ? ee->ee_code : -1;
    if (ee->ee_origin != SO_EE_ORIGIN_ICMP6 || ee->ee_type != 1)
        return -1;
    switch (ee->ee_code) {
    case 0: return 0;                   /* no route                           */
    case 2: case 3: return 1;           /* beyond scope, address unreachable  */
    case 4: return 3;                   /* port unreachable                   */
    case 1: case 5: case 6: return 13;  /* prohibited, policy, reject route   */
    default: return -1;
    }
}

/* Every ICMP error queued on the flow's host socket (IP_RECVERR,
 * IPV6_RECVERR: with its type and code, soft errors too), into the
 * namespace. True when there was one. The queue must be emptied: it counts
 * against the socket's receive buffer. */
static bool drain_errors(uflow *f, const synack_udp_meta *to)
{
    bool any = false;
    for (int i = 0; i < READS_PER_WAKE; i++) {
        union {
            char buf[256];
            struct cmsghdr align;
        } ctl;
        struct msghdr mh = {.msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
        if (recvmsg(f->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
            break;
        any = true;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
                (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
                struct sock_extended_err ee;
                memcpy(&ee, CMSG_DATA(c), sizeof ee);
                tell(f, to, icmp_code(&ee));
            }
        }
    }
    return any;
}

/* recv failed with `err`: the queued ICMP errors say exactly what came;
 * without one (a local error), the errno is all there is. */
static void host_error(uflow *f, const synack_udp_meta *to, int err, bool told)
{
    if (err == EAGAIN || err == EWOULDBLOCK || drain_errors(f, to) || told)
        return;
    tell(f, to, err == ECONNREFUSED   ? 3
                : err == EHOSTUNREACH ? 1
                : err == ENETUNREACH  ? 0
                : err == EACCES       ? 13
                                      : -1);
}

/* Answers on the flow's host socket go into the namespace from the address
 * and port the namespace sent to; errors about its datagrams as ICMP. */
static void host_readable(watch *w, uint32_t events)
{
    uflow *f = (uflow *)w;
    netns_udp *u = f->u;
    synack_udp_meta to = {.remote = f->ns, .remote_port = f->ns_port, .local = f->dst,
                          .local_port = f->dst_port};
    synack_udp *any = f->ns.family == SYNACK_AF_INET6 ? u->any6 : u->any;
    bool told = (events & EPOLLERR) && drain_errors(f, &to);
    for (int i = 0; i < READS_PER_WAKE; i++) {
        ssize_t n = recv(f->fd, u->buf, sizeof u->buf, MSG_DONTWAIT);
        if (n < 0) {
            host_error(f, &to, errno, told);
            return;
        }
        if (synack_udp_send(any, u->buf, (size_t)n, &to) < 0)
            u->n.dropped++;
        else
            u->n.in++;
        touch(f);
    }
}

/* ------------------------------------------------------------ namespace -> host */

static uflow *flow_find(netns_udp *u, const synack_udp_meta *m)
{
    size_t b = bucket(&m->remote, m->remote_port, &m->local, m->local_port);
    for (uflow *f = u->buckets[b]; f; f = f->hnext)
        if (f->ns_port == m->remote_port && f->dst_port == m->local_port &&
            synack_addr_equal(&f->ns, &m->remote) && synack_addr_equal(&f->dst, &m->local))
            return f;
    return NULL;
}

static uflow *flow_open(netns_udp *u, const synack_udp_meta *m, const struct sockaddr_storage *sa,
                        socklen_t salen)
{
    if (u->nflows >= UDP_FLOWS_MAX) {
        u->n.expired++;
        flow_close(u->oldest);
    }
    uflow *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->fd = socket(sa->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &f->w};
    int one = 1, v6 = sa->ss_family == AF_INET6;
    if (f->fd >= 0) /* every ICMP error, with its code (drain_errors) */
        setsockopt(f->fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_RECVERR : IP_RECVERR, &one,
                   sizeof one);
    if (f->fd < 0 || netns_bind_outbound(&u->map, f->fd, sa) < 0 ||
        connect(f->fd, (const struct sockaddr *)sa, salen) < 0 ||
        epoll_ctl(u->ep, EPOLL_CTL_ADD, f->fd, &ev) < 0) {
        if (f->fd >= 0)
            close(f->fd);
        free(f);
        return NULL;
    }
    f->w.fn = host_readable;
    f->u = u;
    f->ns = m->remote;
    f->ns_port = m->remote_port;
    f->dst = m->local;
    f->dst_port = m->local_port;
    size_t b = bucket(&f->ns, f->ns_port, &f->dst, f->dst_port);
    f->hnext = u->buckets[b];
    u->buckets[b] = f;
    push_newest(u, f);
    u->nflows++;
    u->n.flows++;
    return f;
}

static void ns_readable(udp_owner *o, synack_udp *k, unsigned events)
{
    (void)events;
    netns_udp *u = (netns_udp *)((char *)o - offsetof(netns_udp, owner));
    u->now = dev_now();
    synack_udp_meta m;
    ssize_t n;
    while ((n = synack_udp_recv(k, u->buf, sizeof u->buf, &m)) != -EAGAIN) {
        if (n < 0)
            continue; /* a pending error is reported once (none on a transparent socket) */
        uflow *f = flow_find(u, &m);
        struct sockaddr_storage sa;
        socklen_t salen;
        if (!f && !netns_host_target(&u->map, &m.local, m.local_port, &sa, &salen)) {
            synack_udp_unreachable(k, &m, 3); /* nothing there: as a closed port */
            u->n.unreachable++;
            continue;
        }
        if (!f)
            f = flow_open(u, &m, &sa, salen);
        if (!f || send(f->fd, u->buf, (size_t)n, MSG_DONTWAIT) < 0) {
            u->n.dropped++;
            continue;
        }
        u->n.out++;
        touch(f);
    }
}

/* ------------------------------------------------------------ the set */

/* A transparent socket for every address of `all`'s family. */
static synack_udp *open_all(netns_udp *u, synack_stack *s, const synack_addr *all)
{
    synack_udp *k = synack_udp_open(s, all->family);
    if (!k || synack_udp_bind_any(k, all, 0, 1, 65535) < 0) {
        if (k)
            synack_udp_close(k);
        return NULL;
    }
    synack_udp_setopt(k, SYNACK_UDP_RCVBUF, 4 << 20);
    synack_udp_set_user(k, &u->owner);
    return k;
}

int netns_udp_open(netns_udp *u, synack_stack *s, int ep)
{
    u->owner.on_event = ns_readable;
    u->ep = ep;
    synack_addr all = synack_addr_v4(0), all6 = synack_addr_v6((const uint8_t[16]){0});
    if (!(u->any = open_all(u, s, &all)))
        return -1;
    return u->ipv6 && !(u->any6 = open_all(u, s, &all6)) ? -1 : 0;
}

void netns_udp_sweep(netns_udp *u, uint64_t now)
{
    u->now = now;
    while (u->oldest && now - u->oldest->last >= UDP_IDLE_S * NS_PER_S) {
        u->n.expired++;
        flow_close(u->oldest);
    }
}

void netns_udp_close(netns_udp *u)
{
    while (u->oldest)
        flow_close(u->oldest);
}

void netns_udp_print_counters(const netns_udp *u, FILE *f)
{
    const struct {
        const char *name;
        uint64_t v;
    } rows[] = {{"UdpFlowsActive", u->nflows},   {"UdpFlowsOpened", u->n.flows},
                {"UdpFlowsExpired", u->n.expired}, {"UdpRelayOut", u->n.out},
                {"UdpRelayIn", u->n.in},           {"UdpRelayDropped", u->n.dropped},
                {"UdpRelayUnreachable", u->n.unreachable}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        fprintf(f, "%-31s %llu\n", rows[i].name, (unsigned long long)rows[i].v);
    fflush(f);
}
