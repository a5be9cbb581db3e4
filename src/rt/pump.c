/* pump.c — bytes between our end of a socketpair and a TCP connection.
 *
 * What the kernel does with an AF_UNIX stream pair, verified on Linux 6.x
 * (unix_pair_behaviours in tests/rt/test_rt_threads.c keeps checking it):
 *  - closing one end while unread data sits in that end's receive queue
 *    gives the other end sk_err = ECONNRESET (unix_release_sock): its reads
 *    return the data queued for it, then fail with ECONNRESET, and poll
 *    shows POLLERR|POLLHUP; its writes fail with EPIPE (SIGPIPE without
 *    MSG_NOSIGNAL). Closing an end with an empty queue gives plain EOF.
 *  - the other end's shutdown(SHUT_WR) shows here as EPOLLRDHUP; its last
 *    close (or shutdown of both directions) as EPOLLHUP; its close with
 *    unread data as ECONNRESET on our reads.
 *
 * So that a reset can always be shown, our end never empties its receive
 * queue: the oldest byte in it is one already sent on (the "held byte";
 * at first a filler or token byte the descriptor's creator wrote). We
 * peek at what follows it, send that, and then consume all but the last
 * byte sent. Closing our end then always leaves a byte unread: a reset.
 * For an orderly end we read the held byte first.
 *
 * Flow control: we take from our end only what synack_send accepts, and
 * take from the connection only when our end is writable; a short write
 * keeps the rest in a carry buffer until EPOLLOUT. Our end is in the
 * epoll set edge-triggered; rd/wr remember readiness until EAGAIN. */
#define _GNU_SOURCE
#include "rt/rt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

void rt_mark(synack_rt *rt, rt_sock *r)
{
    if (r->dirty)
        return;
    r->dirty = true;
    r->dnext = NULL;
    if (rt->dirty_tail)
        rt->dirty_tail->dnext = r;
    else
        rt->dirty_head = r;
    rt->dirty_tail = r;
}

static void unmark(synack_rt *rt, rt_sock *r)
{
    rt_sock *prev = NULL;
    for (rt_sock *p = rt->dirty_head; p; prev = p, p = p->dnext) {
        if (p != r)
            continue;
        if (prev)
            prev->dnext = r->dnext;
        else
            rt->dirty_head = r->dnext;
        if (rt->dirty_tail == r)
            rt->dirty_tail = prev;
        break;
    }
    r->dirty = false;
}

/* A few rounds per turn: a socket whose events keep marking it again
 * waits for the next turn instead of starving the loop. */
void rt_pump_dirty(synack_rt *rt)
{
    for (int round = 0; round < 4 && rt->dirty_head; round++) {
        rt_sock *list = rt->dirty_head;
        rt->dirty_head = rt->dirty_tail = NULL;
        while (list) {
            rt_sock *r = list;
            list = r->dnext;
            r->dirty = false;
            rt_pump(rt, r);
        }
    }
}

int rt_watch_end(synack_rt *rt, rt_sock *r)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                             .data.ptr = &r->w};
    return epoll_ctl(rt->ep, EPOLL_CTL_ADD, r->rfd, &ev) < 0 ? -errno : 0;
}

void rt_note_names(rt_sock *r)
{
    if (!r->sk)
        return;
    synack_sock_addrs(r->sk, &r->laddr, &r->lport, &r->raddr, &r->rport);
    r->tcp_state = synack_sock_state(r->sk);
}

void rt_free_sock(synack_rt *rt, rt_sock *r)
{
    if (r->dirty)
        unmark(rt, r);
    rt_remove(rt, r);
    while (r->parked) { /* never handed over: closed before the app saw them */
        rt_sock *p = r->parked;
        r->parked = p->pnext;
        p->linger0 = true;
        rt_let_go(rt, p, ECONNRESET);
        rt_free_sock(rt, p);
    }
    if (r->sk) {
        synack_sock_set_user(r->sk, NULL);
        synack_abort(r->sk);
    }
    rt_udp_free(r);
    if (r->rfd >= 0)
        close(r->rfd);
    if (r->dupfd >= 0)
        close(r->dupfd);
    free(r->carry);
    free(r);
}

/* Let go of our end (err > 0: as a reset) and of the connection (closed,
 * or aborted with linger0 or a reset). The record stays, for SO_ERROR and
 * getpeername, unless synack_fd_close already came for it. */
void rt_let_go(synack_rt *rt, rt_sock *r, int err)
{
    rt_note_names(r);
    if (r->rfd >= 0) {
        if (!err) { /* orderly: take the held byte, so the close is an EOF */
            char held;
            ssize_t n = recv(r->rfd, &held, 1, MSG_DONTWAIT);
            (void)n;
        }
        close(r->rfd);
        r->rfd = -1;
    }
    if (r->dupfd >= 0) {
        close(r->dupfd);
        r->dupfd = -1;
    }
    bool hold = r->sk && r->linger_hold && !r->linger0 && !err;
    if (r->sk && !hold) {
        synack_sock_set_user(r->sk, NULL);
        if (r->linger0 || err)
            synack_abort(r->sk);
        else
            synack_close(r->sk);
        r->sk = NULL;
    }
    if (err)
        r->so_error = err;
    free(r->carry);
    r->carry = NULL;
    r->carry_len = r->carry_off = 0;
    if (hold) { /* a lingering close (rt_op_linger) ends it */
        r->phase = RT_LINGERING;
        return;
    }
    r->phase = RT_DONE;
    if (r->forget)
        rt_free_sock(rt, r);
}

/* Write to our end; what does not fit goes to the carry buffer. Returns
 * false when the application stopped reading (the rest is dropped). */
static bool write_app(rt_sock *r, const uint8_t *p, size_t n)
{
    ssize_t w = send(r->rfd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN && errno != EINTR) {
        r->peer_unread = true; /* shutdown(SHUT_RD) or closed: EPIPE */
        synack_shutdown(r->sk, SYNACK_SHUT_RD);
        return false;
    }
    size_t done = w < 0 ? 0 : (size_t)w;
    if (done < n) {
        r->wr = false;
        r->carry = malloc(n - done);
        if (!r->carry) /* keep the bytes we could not place in no way */
            return false;
        memcpy(r->carry, p + done, n - done);
        r->carry_len = n - done;
        r->carry_off = 0;
    }
    return true;
}

static bool flush_carry(rt_sock *r)
{
    ssize_t w = send(r->rfd, r->carry + r->carry_off, r->carry_len - r->carry_off,
                     MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
        r->wr = false;
        return false;
    }
    if (w < 0) {
        r->peer_unread = true;
        synack_shutdown(r->sk, SYNACK_SHUT_RD);
        w = (ssize_t)(r->carry_len - r->carry_off);
    }
    r->carry_off += (size_t)w;
    if (r->carry_off < r->carry_len) {
        r->wr = false;
        return false;
    }
    free(r->carry);
    r->carry = NULL;
    r->carry_len = r->carry_off = 0;
    return true;
}

/* The connection's bytes (and FIN, and errors) into our end. Returns
 * false when the connection failed and `r` was let go. */
static bool to_app(synack_rt *rt, rt_sock *r)
{
    while (r->wr && !r->eof_passed) {
        if (r->carry_len) {
            if (!flush_carry(r))
                return true;
            continue;
        }
        if (r->peer_unread)
            return true;
        if (r->peer_eof) { /* all of the data is in: now the EOF */
            shutdown(r->rfd, SHUT_WR);
            r->eof_passed = true;
            return true;
        }
        ssize_t n = synack_recv(r->sk, rt->scratch, rt->scratch_size);
        if (n == -EAGAIN || n == -ENOTCONN)
            return true;
        if (n < 0) {
            rt_let_go(rt, r, (int)-n);
            return false;
        }
        if (n == 0)
            r->peer_eof = true;
        else if (!write_app(r, rt->scratch, (size_t)n))
            return true;
    }
    return true;
}

/* Our end's bytes (and EOF) into the connection. Returns false when the
 * application closed with unread data and `r` was let go (a reset). */
static bool to_net(synack_rt *rt, rt_sock *r)
{
    while (r->rd && !r->app_eof) {
        size_t room = synack_writable(r->sk);
        if (room == 0)
            return true; /* SYNACK_EV_WRITABLE brings us back */
        /* One byte more than fits: a write larger than the room is what
         * lets the send buffer grow (autotuning, tcp_user_send), as the
         * program's own writes would; what does not fit stays behind. */
        size_t want = room + 1 < rt->scratch_size - 1 ? room + 1 : rt->scratch_size - 1;
        ssize_t n = recv(r->rfd, rt->scratch, want + 1, MSG_PEEK | MSG_DONTWAIT);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            r->app_reset = true; /* cannot be, with the held byte; but if it is */
            return true;
        }
        if (n <= 1) { /* nothing new behind the held byte */
            r->rd = false;
            if (r->rdhup && n == 1) {
                synack_shutdown(r->sk, SYNACK_SHUT_WR);
                r->app_eof = true;
            }
            return true;
        }
        ssize_t sent = synack_send(r->sk, rt->scratch + 1, (size_t)n - 1);
        if (sent <= 0)
            return true;
        ssize_t eaten = recv(r->rfd, rt->scratch, (size_t)sent, MSG_DONTWAIT);
        (void)eaten; /* the peek just showed these bytes are there */
    }
    return true;
}

void rt_take_written(synack_rt *rt, rt_sock *r)
{
    if (r->phase != RT_OPEN || r->rfd < 0)
        return;
    r->rd = true; /* the edge may not have reached our epoll yet */
    to_net(rt, r);
}

static void pump_open(synack_rt *rt, rt_sock *r)
{
    /* A reset or timeout shows at once, even to an application that is
     * not reading (the bytes not yet moved to it are lost). */
    if (synack_sock_state(r->sk) == SYNACK_CLOSED) {
        int err = -synack_sock_error(r->sk);
        if (err > 0) {
            rt_let_go(rt, r, err);
            return;
        }
    }
    /* Linux resets at once (unsent data dropped) a close that leaves data
     * unread, and a close with SO_LINGER {1, 0}. */
    if (r->app_reset || (r->hup && r->linger0)) {
        r->linger0 = true;
        r->forget |= r->app_reset;
        rt_let_go(rt, r, 0);
        return;
    }
    if (!to_app(rt, r) || !to_net(rt, r))
        return;
    r->tcp_state = synack_sock_state(r->sk);
    /* Done when both ways are finished, or when the application is gone
     * (its last close, or shutdown of both directions: the kernel shows
     * them alike) and its bytes are all sent. */
    if ((r->hup || r->eof_passed) && r->app_eof)
        rt_let_go(rt, r, 0);
}

void rt_pump(synack_rt *rt, rt_sock *r)
{
    if (r->udp) {
        rt_pump_udp(rt, r);
        return;
    }
    switch (r->phase) {
    case RT_NEW:
        if (r->hup) { /* closed before it was ever used */
            r->forget = true;
            rt_let_go(rt, r, 0);
        }
        break;
    case RT_CONNECTING:
        rt_pump_connecting(rt, r);
        break;
    case RT_OPEN:
        pump_open(rt, r);
        break;
    case RT_LISTENING:
        rt_pump_listener(rt, r);
        break;
    default:
        break;
    }
}
