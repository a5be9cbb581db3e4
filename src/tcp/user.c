/* user.c — the user calls of RFC 9293 §3.10.1–§3.10.6: OPEN, SEND,
 * RECEIVE, CLOSE (shutdown and close), ABORT. */
#include "tcp/tcp.h"
#include "tcp/timewait.h"

#include "base/seq.h"

#include <errno.h>

/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) names an IPv4 peer: a
 * socket taking both families connects to it over IPv4, as Linux does;
 * it never goes on the wire as IPv6 (RFC 4942 §2.2). */
static bool v4_mapped(const synack_addr *a)
{
    return a->family == SYNACK_AF_INET6 && wire_ipv6addr_is_v4_mapped(a->v6);
}

/* A peer we can open a connection to: a unicast address of a family we
 * have, and a socket bound to no other family. */
static int check_peer(const tcb *t, const synack_addr *rip)
{
    static const uint8_t zero[16];
    const tcp_ctx *c = t->ctx;
    if (rip->family == SYNACK_AF_INET) {
        if (rip->v4 == 0)
            return -EINVAL;
        if (t->laddr.family == SYNACK_AF_INET6)
            return -EAFNOSUPPORT;
        return c->local_ip ? 0 : -ENETUNREACH; /* an IPv6-only stack */
    }
    if (rip->family != SYNACK_AF_INET6 || t->laddr.family == SYNACK_AF_INET)
        return -EAFNOSUPPORT;
    if (memcmp(rip->v6, zero, 16) == 0 || rip->v6[0] == 0xff)
        return -EINVAL; /* unspecified or multicast: no TCP peer */
    return tcp_has_ipv6(c) ? 0 : -ENETUNREACH;
}

int tcp_open_active(tcb *t, const synack_addr *to, uint16_t rport)
{
    tcp_ctx *c = t->ctx;
    synack_addr mapped;
    const synack_addr *rip = to;
    if (v4_mapped(to)) {
        if (t->laddr.family == SYNACK_AF_INET6)
            return -ENETUNREACH; /* V6ONLY: Linux's answer too */
        mapped = tcp_addr4(wire_get32(to->v6 + 12));
        rip = &mapped;
    }
    if (t->state != SYNACK_CLOSED)
        return t->state == SYNACK_LISTEN ? -EINVAL : -EISCONN;
    if (t->is.hashed || t->raddr.family)
        return -EISCONN;
    if (rport == 0)
        return -EINVAL;
    int bad = check_peer(t, rip);
    if (bad)
        return bad;
    if (c->sys->tcp_max_connections && c->nconns >= c->sys->tcp_max_connections) {
        c->ctr->tcp_conn_limit_drops++;
        return -ENOBUFS;
    }
    synack_addr local = t->is.laddr_fixed ? t->laddr : tcp_local_addr(c, rip->family);
    synack_addr remote = *rip;
    uint16_t lport = t->lport;
    bool tw_reuse = false; /* take over a TIME-WAIT entry (tcp_tw_reuse) */
    if (lport == 0) {
        int err = tcp_pick_port(c, &local, rip, rport, &lport, &tw_reuse);
        if (err)
            return err;
    } else if (tcb_lookup(c, &local, lport, &remote, rport)) {
        return -EADDRINUSE;
    } else {
        tw_verdict v = tcp_tw_check(c, &local, lport, rip, rport);
        if (v == TW_BUSY)
            return -EADDRINUSE;
        tw_reuse = v == TW_REUSABLE;
    }
    t->laddr = local;
    t->lport = lport;
    t->raddr = remote;
    t->rport = rport;
    tcb_fit_mss_to_family(t);
    t->opts.rcv_wscale = tcp_rcv_wscale(c);
    t->snd.iss = tcp_isn(c, &t->laddr, t->lport, &t->raddr, t->rport);
    t->opts.ts_offset = tcp_ts_offset(c, &t->laddr, t->lport, &t->raddr, t->rport);
    if (tw_reuse)
        tcp_tw_reuse(t); /* ISS above the old SND.NXT, TS.Recent inherited */
    tcb_set_iss(t, t->snd.iss);
    t->cc.cwnd = 10u * t->opts.snd_mss;
    t->cc.ssthresh = UINT32_MAX;
    tcb_hash_insert(t);
    c->ctr->tcp_active_opens++;
    tcb_set_state(t, SYNACK_SYN_SENT, SYNACK_CAUSE_CONNECT);
    tcp_send_syn(t, false);
    return 0;
}

int tcp_open_passive(tcb *t, int backlog)
{
    tcp_ctx *c = t->ctx;
    if (t->state != SYNACK_CLOSED || (t->lport == 0 && !t->listen.any) || t->raddr.family ||
        t->is.laddr_fixed) /* a transparent address: to connect from, not to listen on */
        return -EINVAL;
    if (backlog < 1)
        backlog = 1;
    if ((uint32_t)backlog > c->sys->somaxconn)
        backlog = (int)c->sys->somaxconn;
    t->listen.backlog = backlog;
    if (t->laddr.family && !t->listen.any) /* bound to one family: our address in it */
        t->laddr = tcp_local_addr(c, t->laddr.family);
    listen_add(t);
    tcb_set_state(t, SYNACK_LISTEN, SYNACK_CAUSE_LISTEN);
    return 0;
}

/* Send-buffer autotuning, after Linux's tcp_sndbuf_expand: when the
 * buffer, not the windows, limits the flight, double it up to tcp_wmem[2]
 * (unless the application fixed SO_SNDBUF). */
static void grow_send_buffer(tcb *t)
{
    uint32_t max = t->ctx->sys->tcp_wmem[2], cap = t->snd.buf.cap;
    if (t->sockopt.fixed_sndbuf || !cap || cap >= max || !tcb_synchronized(t))
        return;
    uint32_t room = t->cc.cwnd < t->snd.wnd ? t->cc.cwnd : t->snd.wnd;
    if (room < cap / 2)
        return; /* the windows are the limit: more buffer would only queue */
    uint32_t want = cap * 2 > max ? max : cap * 2;
    if (tcp_buf_grow(t, TCP_BUF_SEND, want) == 0) /* else the buffer stays as it was */
        t->snd.buf_size = want;
}

/* Receive-buffer autotuning, a simple form of Linux's dynamic right-sizing:
 * if the application reads more than half the buffer within one round
 * trip, the window (the buffer) is what limits the sender: grow it to
 * four times that, up to tcp_rmem[2] (unless SO_RCVBUF was set). */
static void grow_receive_buffer(tcb *t, uint32_t n)
{
    tcp_ctx *c = t->ctx;
    if (t->sockopt.fixed_rcvbuf || !t->rcv.buf.buf || t->rcv.buf.cap >= c->sys->tcp_rmem[2])
        return;
    uint64_t rtt = t->rtt.srtt_us ? (uint64_t)t->rtt.srtt_us * 1000 : NS_PER_MS;
    t->rcv.copied += n;
    if (c->now - t->rcv.space_stamp < rtt)
        return;
    if (t->rcv.copied * 2 > t->rcv.buf.cap) {
        uint64_t want = (uint64_t)t->rcv.copied * 4;
        if (want > c->sys->tcp_rmem[2])
            want = c->sys->tcp_rmem[2];
        if (want > t->rcv.buf.cap && tcp_buf_grow(t, TCP_BUF_RECV, (uint32_t)want) == 0)
            t->rcv.buf_size = (uint32_t)want; /* else the buffer stays as it was */
    }
    t->rcv.copied = 0;
    t->rcv.space_stamp = c->now;
}

int tcp_send_allowed(const tcb *t)
{
    if (t->err)
        return t->err;
    if (t->state == SYNACK_CLOSED || t->state == SYNACK_LISTEN)
        return -ENOTCONN;
    if (t->snd.fin_queued || !tcb_send_open(t))
        return -EPIPE;
    return 0;
}

ssize_t tcp_user_send(tcb *t, const void *buf, size_t len)
{
    int e = tcp_send_allowed(t);
    if (e)
        return e;
    if (len > UINT32_MAX)
        len = UINT32_MAX;
    if (len == 0)
        return 0; /* no ring for nothing */
    if (tcp_buf_attach(t, TCP_BUF_SEND))
        return -ENOMEM;
    if (len > ring_free_space(&t->snd.buf))
        grow_send_buffer(t);
    uint32_t n = ring_write(&t->snd.buf, buf, (uint32_t)len);
    if (n == 0)
        return len ? -EAGAIN : 0;
    if (tcb_synchronized(t))
        tcp_output(t);
    return n;
}

ssize_t tcp_user_send_space(tcb *t, synack_iov v[2])
{
    int e = tcp_send_allowed(t);
    if (e)
        return e;
    if (tcp_buf_attach(t, TCP_BUF_SEND))
        return -ENOMEM;
    /* As synack_send grows it for a write that does not fit: here the
     * caller's read may be any size, so when less than half is free. */
    if (ring_free_space(&t->snd.buf) < t->snd.buf.cap / 2)
        grow_send_buffer(t);
    uint8_t *p1, *p2;
    uint32_t l1, l2;
    ring_free_span(&t->snd.buf, &p1, &l1, &p2, &l2);
    if (l1 + l2 == 0)
        return -EAGAIN;
    v[0] = (synack_iov){.base = p1, .len = l1};
    v[1] = (synack_iov){.base = l2 ? p2 : NULL, .len = l2};
    return (ssize_t)l1 + l2;
}

ssize_t tcp_user_send_commit(tcb *t, size_t n)
{
    int e = tcp_send_allowed(t);
    if (e)
        return e;
    if (!t->snd.buf.buf || n > ring_free_space(&t->snd.buf))
        return -EINVAL;
    if (n == 0) {
        tcp_buf_release_if_empty(t, TCP_BUF_SEND); /* nothing came after all */
        return 0;
    }
    ring_commit(&t->snd.buf, (uint32_t)n);
    if (tcb_synchronized(t))
        tcp_output(t);
    return (ssize_t)n;
}

/* Nothing to read: what a read answers (0 at the peer's FIN, -EAGAIN,
 * the connection's error). */
static ssize_t nothing_to_read(const tcb *t)
{
    if (t->rcv.eof)
        return 0;
    if (t->err)
        return t->err;
    if (t->state == SYNACK_CLOSED || t->state == SYNACK_LISTEN)
        return -ENOTCONN;
    return -EAGAIN;
}

/* The application took `n` bytes from the receive buffer, whose window was
 * `before`: tune the buffer, and announce the window that reopened. */
static void after_read(tcb *t, uint32_t n, uint32_t before)
{
    grow_receive_buffer(t, n);
    /* Receiver-side silly window avoidance (RFC 9293 §3.8.6.2.2): announce
     * the reopened window once it grew by min(buffer/2, MSS). */
    uint32_t after = tcp_rcv_window(t);
    uint32_t max_field = 65535u << t->opts.rcv_wscale; /* the most a window field can say */
    if (after > max_field)
        after = max_field;
    uint32_t adv = seq_gt(t->rcv.adv, t->rcv.nxt) ? t->rcv.adv - t->rcv.nxt : 0;
    uint32_t half = t->rcv.buf_size / 2;
    uint32_t step = half < t->opts.adv_mss ? half : t->opts.adv_mss;
    /* A window update of its own only when the window we announced has
     * fallen to half of what we could announce (Linux's rule in
     * tcp_cleanup_rbuf): ordinary ACKs carry the growth otherwise, and
     * a reader that keeps up does not double the ACK count. And only when
     * this read is what made it so: a window that was that much larger
     * already (the SYN,ACK could say no more than 64 KiB) is not news the
     * peer waits for, and the next ACK tells it. */
    bool due_before = before >= adv + step && before >= 2 * adv;
    bool update = tcb_synchronized(t) && t->state != SYNACK_TIME_WAIT && after > before &&
                  after >= adv + step && after >= 2 * adv && !due_before;
    if (update)
        t->rcv.ack_pending = true;
    /* The application took a short write's data: if it does not answer
     * before this call returns it is waiting for more, and a delayed
     * ACK would hold the peer's next small segment behind Nagle for
     * 40 ms (the write-write-read stall). A window update is due too.
     * Both go out when the call returns, riding on an answer if the
     * application gives one meanwhile. */
    bool short_write = t->rcv.ack_pending && t->rcv.last_small && t->rcv.buf.used == 0 &&
                       !t->sockopt.ack_delay_us; /* request/response: the answer carries it */
    if (update || short_write)
        tcb_owe_ack(t);
    tcp_buf_release_if_empty(t, TCP_BUF_RECV); /* it comes back with the data */
}

ssize_t tcp_user_recv(tcb *t, void *buf, size_t len)
{
    if (t->rcv.shut)
        return 0; /* the application said it reads no more */
    if (!t->rcv.buf.buf || !t->rcv.buf.used)
        return nothing_to_read(t);
    uint32_t before = tcp_rcv_window(t);
    uint32_t n = ring_read(&t->rcv.buf, buf, len > UINT32_MAX ? UINT32_MAX : (uint32_t)len);
    after_read(t, n, before);
    return n;
}

ssize_t tcp_user_recv_view(tcb *t, synack_iov v[2])
{
    if (t->rcv.shut)
        return 0;
    if (!t->rcv.buf.buf || !t->rcv.buf.used)
        return nothing_to_read(t);
    const uint8_t *p1, *p2;
    uint32_t l1, l2;
    ring_span(&t->rcv.buf, 0, t->rcv.buf.used, &p1, &l1, &p2, &l2);
    v[0] = (synack_iov){.base = (void *)p1, .len = l1};
    v[1] = (synack_iov){.base = l2 ? (void *)p2 : NULL, .len = l2};
    return (ssize_t)l1 + l2;
}

ssize_t tcp_user_recv_consume(tcb *t, size_t n)
{
    uint32_t ready = t->rcv.buf.buf && !t->rcv.shut ? t->rcv.buf.used : 0;
    if (n > ready)
        return -EINVAL;
    if (n == 0)
        return 0;
    uint32_t before = tcp_rcv_window(t);
    ring_consume(&t->rcv.buf, (uint32_t)n);
    after_read(t, (uint32_t)n, before);
    return (ssize_t)n;
}

int tcp_user_shutdown(tcb *t, int how)
{
    if (how < SYNACK_SHUT_RD || how > SYNACK_SHUT_RDWR)
        return -EINVAL;
    if (t->state == SYNACK_CLOSED || t->state == SYNACK_LISTEN || t->state == SYNACK_SYN_SENT)
        return -ENOTCONN;
    if (how != SYNACK_SHUT_WR) {
        t->rcv.shut = true;
        if (t->rcv.buf.buf)
            ring_consume(&t->rcv.buf, t->rcv.buf.used); /* unread data is dropped */
        tcp_buf_release_if_empty(t, TCP_BUF_RECV);
    }
    if (how == SYNACK_SHUT_RD || t->snd.fin_queued)
        return 0;
    switch (t->state) {
    case SYNACK_SYN_RECEIVED: /* the FIN follows once established */
        t->snd.fin_queued = true;
        return 0;
    case SYNACK_ESTABLISHED:
        t->snd.fin_queued = true;
        tcb_set_state(t, SYNACK_FIN_WAIT_1, SYNACK_CAUSE_SHUTDOWN);
        break;
    case SYNACK_CLOSE_WAIT:
        t->snd.fin_queued = true;
        tcb_set_state(t, SYNACK_LAST_ACK, SYNACK_CAUSE_SHUTDOWN);
        break;
    default:
        return 0;
    }
    tcp_output(t);
    return 0;
}

/* What close leaves behind finishes on its own, an orphan; beyond
 * tcp_max_orphans the newest is reset instead (Linux's tcp_check_oom). */
static void count_orphan(tcb *t)
{
    tcp_ctx *c = t->ctx;
    if (t->state == SYNACK_CLOSED || t->is.dead || t->is.counted_orphan)
        return;
    if (c->orphans >= c->sys->tcp_max_orphans) {
        c->ctr->tcp_abort_on_memory++;
        tcp_send_rst_for(t);
        tcb_close(t, 0, SYNACK_CAUSE_TOO_MANY_ORPHANS);
        return;
    }
    t->is.counted_orphan = true;
    c->orphans++;
}

/* RFC 9293 §3.10.4 CLOSE of a connection the application lets go of. */
static void close_connection(tcb *t)
{
    tcp_ctx *c = t->ctx;
    if (t->state != SYNACK_SYN_SENT && tcp_snd_refs_absorb(t)) {
        /* The application may reuse its memory once close returns, and
         * there is none to keep a copy: as an orphan out of memory. */
        c->ctr->tcp_abort_on_memory++;
        tcp_send_rst_for(t);
        tcb_close(t, 0, SYNACK_CAUSE_CLOSE_NO_MEMORY);
        return;
    }
    switch (t->state) {
    case SYNACK_SYN_SENT:
        tcb_close(t, 0, SYNACK_CAUSE_CLOSE);
        break;
    case SYNACK_SYN_RECEIVED:
    case SYNACK_ESTABLISHED:
    case SYNACK_CLOSE_WAIT:
        if (t->is.held) { /* never answered: closing it refuses the SYN */
            tcp_send_rst_for(t);
            tcb_close(t, 0, SYNACK_CAUSE_REFUSED);
            break;
        }
        if (t->rcv.buf.used) {
            /* Unread data would be lost silently: reset instead (RFC 2525 §2.17, Linux). */
            c->ctr->tcp_abort_on_close++;
            tcp_send_rst_for(t);
            tcb_close(t, 0, SYNACK_CAUSE_CLOSE_UNREAD_DATA);
            break;
        }
        tcp_user_shutdown(t, SYNACK_SHUT_WR);
        break;
    case SYNACK_FIN_WAIT_2:
        tcp_arm_fin_timeout(t);
        break;
    case SYNACK_TIME_WAIT:
        tcp_tw_drop_handle(t, false); /* the TIME-WAIT entry goes on */
        break;
    default:
        break;
    }
    count_orphan(t);
}

/* RFC 9293 §3.10.5 ABORT: a RST where the peer may still send, and the
 * TCB deleted, TIME-WAIT entry included. */
static void abort_connection(tcb *t)
{
    switch (t->state) {
    case SYNACK_SYN_RECEIVED:
    case SYNACK_ESTABLISHED:
    case SYNACK_FIN_WAIT_1:
    case SYNACK_FIN_WAIT_2:
    case SYNACK_CLOSE_WAIT:
        tcp_send_rst_for(t);
        /* fall through */
    case SYNACK_TIME_WAIT:
        tcp_tw_drop_handle(t, true);
        /* fall through */
    default:
        if (t->state != SYNACK_CLOSED)
            tcb_close(t, 0, SYNACK_CAUSE_ABORT);
        break;
    }
}

/* Close and abort alike: the application gives up the handle (the stack
 * finishes on its own, orphaned), a listener takes its children with it,
 * and the record is freed once the protocol is done with it too. */
static void give_up_handle(tcb *t, void (*finish)(tcb *t))
{
    t->is.app_owned = false;
    t->is.orphan = true;
    if (t->state == SYNACK_LISTEN)
        listen_close(t);
    else
        finish(t);
    tcb_maybe_release(t);
}

void tcp_user_close(tcb *t) { give_up_handle(t, close_connection); }

void tcp_user_abort(tcb *t) { give_up_handle(t, abort_connection); }

/* ------------------------------------------------------------ held SYNs (synack_listen_any) */

int tcp_open_passive_any(tcb *t, const synack_addr *prefix, uint8_t plen, uint16_t lo,
                         uint16_t hi, int backlog, bool hold)
{
    if (t->state != SYNACK_CLOSED || t->lport || t->is.bound || t->raddr.family || lo > hi ||
        lo == 0 || (prefix->family != SYNACK_AF_INET && prefix->family != SYNACK_AF_INET6) ||
        plen > (prefix->family == SYNACK_AF_INET ? 32 : 128))
        return -EINVAL;
    t->laddr = *prefix; /* what it covers, not an address of ours */
    t->listen.any = true;
    t->listen.hold_syn = hold;
    t->listen.any_plen = plen;
    t->listen.port_lo = lo;
    t->listen.port_hi = hi;
    t->is.bound = true; /* lport stays 0: no port is held; listen_find skips it */
    int r = tcp_open_passive(t, backlog);
    if (r)
        t->listen.any = false;
    return r;
}

int tcp_user_confirm(tcb *t)
{
    if (!t->is.held || t->state != SYNACK_SYN_RECEIVED)
        return -EINVAL;
    t->is.held = false;
    tcp_send_syn(t, false);
    return 0;
}

/* A held child refused: a RST to its SYN, or nothing (the caller has sent
 * an ICMP error, or lets the peer time out). The handle is given up. */
static void refuse_rst(tcb *t)
{
    tcp_send_rst_for(t);
    tcb_close(t, 0, SYNACK_CAUSE_REFUSED);
}
static void refuse_quiet(tcb *t) { tcb_close(t, 0, SYNACK_CAUSE_REFUSED); }

int tcp_user_refuse(tcb *t, bool rst)
{
    if (!t->is.held || t->state != SYNACK_SYN_RECEIVED)
        return -EINVAL;
    give_up_handle(t, rst ? refuse_rst : refuse_quiet);
    return 0;
}
