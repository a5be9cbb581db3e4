/* udp.c — UDP sockets on the runtime thread.
 *
 * A UDP socket is a synack_udp and an AF_UNIX SOCK_SEQPACKET pair: one
 * message is one datagram, so boundaries hold both ways. Towards the
 * application each message is an rt_dgram_hdr (the sender, the length)
 * and the datagram; dgram.c takes the header off again. Sends with an
 * address, or with Linux's errors, are calls (rt_udp_send): the errno a
 * send fails with is decided by the stack, synchronously, as Linux's is.
 * A message the application writes into the pair itself (plain write(2))
 * is a datagram to the connected peer, sent as it comes; its errors go
 * nowhere, as nobody waits for them.
 *
 * Memory stays bounded: the core queues at most SYNACK_UDP_RCVBUF; from
 * it we take a datagram only while our end takes messages, and a message
 * our end refused (full) waits in the carry buffer, one at most. */
#define _GNU_SOURCE
#include "rt/ops.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static int core_family(int family)
{
    return family == AF_INET6 ? SYNACK_AF_INET6 : SYNACK_AF_INET;
}

int rt_udp_socket(synack_rt *rt, rt_cmd *c)
{
    rt_sock *r = rt_sock_new(rt, c->fd, c->ino, c->family);
    if (!r)
        return -ENOMEM;
    r->udp = synack_udp_open(rt->stack, core_family(c->family));
    if (!r->udp || rt_insert(rt, r) < 0) {
        if (r->udp)
            synack_udp_close(r->udp);
        free(r);
        return -ENOMEM;
    }
    synack_udp_set_user(r->udp, r);
    r->udp_sndbuf = 212992; /* Linux's wmem_default */
    return rt_sock_register(rt, r, c->family);
}

void rt_udp_free(rt_sock *r)
{
    if (!r->udp)
        return;
    synack_udp_set_user(r->udp, NULL);
    synack_udp_close(r->udp);
    r->udp = NULL;
}

/* An IPv4 address on an IPv6 socket: this core's UDP sockets have one
 * family each, so no IPv4-mapped traffic (docs/runtime.md). */
static int check_family(const rt_sock *r, const synack_addr *a)
{
    return a->family == core_family(r->family) ? 0 : -ENETUNREACH;
}

int rt_udp_bind(rt_sock *r, rt_cmd *c)
{
    synack_addr a;
    uint16_t port;
    int e = rt_addr_from_sockaddr(c->cval, c->clen, r->family, &a, &port);
    if (!e)
        e = check_family(r, &a) ? -EADDRNOTAVAIL : 0;
    if (!e)
        e = synack_udp_bind(r->udp, &a, port);
    if (!e)
        r->bound = a;
    return e;
}

/* connect(2): fix the peer; AF_UNSPEC takes it away again (Linux's
 * udp_disconnect). */
int rt_udp_connect(rt_sock *r, rt_cmd *c)
{
    const struct sockaddr *sa = c->cval;
    if (sa && c->clen >= (socklen_t)sizeof sa->sa_family && sa->sa_family == AF_UNSPEC) {
        synack_udp_connect(r->udp, NULL, 0);
        r->udp_connected = false;
        return 0;
    }
    synack_addr a;
    uint16_t port;
    int e = rt_addr_from_sockaddr(sa, c->clen, r->family, &a, &port);
    if (!e)
        e = check_family(r, &a);
    if (!e)
        e = synack_udp_connect(r->udp, &a, port);
    if (e)
        return e;
    r->udp_connected = true;
    r->raddr = a;
    r->rport = port;
    return 0;
}

int rt_udp_take_error(rt_sock *r)
{
    int e = r->so_error;
    r->so_error = 0;
    if (!e && r->udp)
        e = -synack_udp_error(r->udp);
    return e;
}

/* Messages the application wrote into the pair: datagrams to the
 * connected peer. */
static void from_app(synack_rt *rt, rt_sock *r)
{
    while (r->rd && r->rfd >= 0) {
        ssize_t n = recv(r->rfd, rt->scratch, rt->scratch_size, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                r->rd = false;
            return;
        }
        if (n == 0 && r->rdhup)
            return; /* shut or closed: the hang-up says which */
        if ((size_t)n <= rt->scratch_size && r->udp_connected && !r->app_eof)
            synack_udp_send(r->udp, rt->scratch, (size_t)n, NULL);
    }
}

/* One message into our end; false when it must wait (kept in carry). */
static bool put(rt_sock *r, const void *p, size_t n)
{
    ssize_t w = send(r->rfd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
        return true; /* sent, or the application shut its read side: dropped */
    r->wr = false;
    r->carry = malloc(n);
    if (r->carry) { /* without memory the datagram is dropped, as on a full queue */
        memcpy(r->carry, p, n);
        r->carry_len = n;
    }
    return false;
}

/* The stack's datagrams (and pending errors) into our end, in order. */
static void to_app(synack_rt *rt, rt_sock *r)
{
    while (r->wr && r->rfd >= 0) {
        if (r->carry) {
            ssize_t w = send(r->rfd, r->carry, r->carry_len, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                r->wr = false;
                return;
            }
            free(r->carry);
            r->carry = NULL;
            r->carry_len = 0;
            continue;
        }
        rt_dgram_hdr h = {.kind = RT_DGRAM_DATA, .family = (uint8_t)r->family};
        uint8_t *data = rt->scratch + sizeof h;
        synack_udp_meta meta;
        ssize_t n = synack_udp_recv(r->udp, data, rt->scratch_size - sizeof h, &meta);
        if (n == -EAGAIN)
            return;
        if (n < 0) { /* an ICMP error: kept here, announced to readers */
            r->so_error = (int)-n;
            h.kind = RT_DGRAM_ERROR;
            n = 0;
        } else {
            h.len = (uint32_t)n;
            h.addr = meta.remote;
            h.port = meta.remote_port;
        }
        memcpy(rt->scratch, &h, sizeof h);
        if (!put(r, rt->scratch, sizeof h + (size_t)n))
            return;
    }
}

void rt_pump_udp(synack_rt *rt, rt_sock *r)
{
    if (r->hup || r->rfd < 0) { /* the application's last close */
        r->forget = true;
        rt_free_sock(rt, r);
        return;
    }
    from_app(rt, r);
    to_app(rt, r);
}

/* Gather the message's bytes into the scratch buffer; -EMSGSIZE when
 * they could never be one datagram. */
static ssize_t gather(synack_rt *rt, const struct msghdr *m)
{
    if (m->msg_iovlen > IOV_MAX)
        return -EMSGSIZE;
    size_t len = 0;
    for (size_t i = 0; i < m->msg_iovlen; i++) {
        size_t n = m->msg_iov[i].iov_len;
        if (n > RT_DGRAM_MAX || len + n > RT_DGRAM_MAX)
            return -EMSGSIZE;
        if (n)
            memcpy(rt->scratch + len, m->msg_iov[i].iov_base, n);
        len += n;
    }
    return (ssize_t)len;
}

/* sendmsg(2) of one datagram (its length goes to c->ival), answered as Linux's udp_sendmsg: the
 * address checked first, then a pending error (sock_alloc_send_skb
 * reports it), then the stack's verdict. */
int rt_udp_send(synack_rt *rt, rt_cmd *c)
{
    rt_sock *r = rt_lookup(rt, c->ino);
    if (!r || !r->udp)
        return -ENOTSOCK;
    const struct msghdr *m = c->cval;
    r->rd = true; /* what the application wrote into the pair goes first */
    from_app(rt, r);
    synack_udp_meta to, *dst = NULL;
    memset(&to, 0, sizeof to);
    if (m->msg_name && m->msg_namelen) { /* sendmsg(2) drops an empty name */
        int e = rt_addr_from_sockaddr(m->msg_name, m->msg_namelen, r->family, &to.remote,
                                      &to.remote_port);
        if (!e)
            e = check_family(r, &to.remote);
        if (e)
            return e;
        dst = &to;
    }
    if (r->app_eof)
        return -EPIPE;
    int err = rt_udp_take_error(r);
    if (err)
        return -err;
    ssize_t len = gather(rt, m);
    if (len < 0)
        return (int)len;
    ssize_t n = synack_udp_send(r->udp, rt->scratch, (size_t)len, dst);
    /* Linux queues a datagram waiting for ARP or ND and drops it when the
     * queue is full, and the send succeeds all the same. */
    if (n < 0 && n != -EAGAIN)
        return (int)n;
    c->ival = (int)len; /* not the result: 1 would read as RT_LATER */
    return 0;
}
