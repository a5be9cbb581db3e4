/* test_rt_fd.c — the fd API between two runtimes in one process: the calls
 * and their errnos, blocking and non-blocking, and the readiness poll
 * reports for connect, accept, read, write, hang-up and reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/uio.h>

#include "rt/rt_fixture.h"

/* Blocking connect, accept with the peer's address, data both ways, and
 * both names as each side sees them. */
static void connect_accept_and_names(void **state)
{
    rt_pair *p = *state;
    int l = listener(p->b, 80);
    int c = synack_fd_socket(p->a, AF_INET, 0);
    assert_true(c >= 0);
    struct sockaddr_in to = sin4(B_IP, 80);
    assert_int_equal(synack_fd_connect(p->a, c, SA(to), sizeof to), 0);
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    assert_true(wait_fd(l, POLLIN, WAIT_MS) & POLLIN);
    int s = synack_fd_accept(p->b, l, SA(peer), &plen, 0);
    assert_true(s >= 0);
    assert_int_equal(plen, sizeof peer);
    assert_int_equal(peer.sin_family, AF_INET);
    assert_int_equal(ntohl(peer.sin_addr.s_addr), A_IP);

    struct sockaddr_in me, them;
    socklen_t ml = sizeof me, tl = sizeof them;
    assert_int_equal(synack_fd_getsockname(p->a, c, SA(me), &ml), 0);
    assert_int_equal(synack_fd_getpeername(p->a, c, SA(them), &tl), 0);
    assert_int_equal(ntohl(me.sin_addr.s_addr), A_IP);
    assert_int_equal(me.sin_port, peer.sin_port);
    assert_int_equal(ntohl(them.sin_addr.s_addr), B_IP);
    assert_int_equal(ntohs(them.sin_port), 80);

    assert_int_equal(write(c, "hello", 5), 5);
    char buf[16];
    assert_int_equal(read_full(s, buf, 5), 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(send(s, "world!", 6, 0), 6);
    assert_int_equal(read_full(c, buf, 6), 6);
    assert_memory_equal(buf, "world!", 6);
    synack_fd_close(p->a, c);
    synack_fd_close(p->b, s);
    synack_fd_close(p->b, l);
}

/* Non-blocking connect: EINPROGRESS, then EALREADY; no POLLOUT while the
 * SYN is unanswered (10.0.0.99 never answers ARP); POLLOUT once the
 * handshake completes, SO_ERROR 0, then 0 once and EISCONN. */
static void nonblocking_connect_readiness(void **state)
{
    rt_pair *p = *state;
    int c = synack_fd_socket(p->a, AF_INET, SOCK_NONBLOCK);
    assert_true(c >= 0);
    struct sockaddr_in nowhere = sin4(0x0a000063u, 80);
    assert_int_equal(synack_fd_connect(p->a, c, SA(nowhere), sizeof nowhere), -1);
    assert_int_equal(errno, EINPROGRESS);
    assert_int_equal(synack_fd_connect(p->a, c, SA(nowhere), sizeof nowhere), -1);
    assert_int_equal(errno, EALREADY);
    assert_int_equal(wait_fd(c, POLLOUT, 300) & POLLOUT, 0);
    assert_int_equal(write(c, "x", 1), -1); /* not connected: would block */
    assert_int_equal(errno, EAGAIN);
    synack_fd_close(p->a, c);

    int l = listener(p->b, 81);
    c = synack_fd_socket(p->a, AF_INET, SOCK_NONBLOCK);
    struct sockaddr_in to = sin4(B_IP, 81);
    assert_int_equal(synack_fd_connect(p->a, c, SA(to), sizeof to), -1);
    assert_int_equal(errno, EINPROGRESS);
    assert_true(wait_fd(c, POLLOUT, WAIT_MS) & POLLOUT);
    int err = -1;
    socklen_t el = sizeof err;
    assert_int_equal(synack_fd_getsockopt(p->a, c, SOL_SOCKET, SO_ERROR, &err, &el), 0);
    assert_int_equal(err, 0);
    assert_int_equal(synack_fd_connect(p->a, c, SA(to), sizeof to), 0);
    assert_int_equal(synack_fd_connect(p->a, c, SA(to), sizeof to), -1);
    assert_int_equal(errno, EISCONN);
    int s = accept_wait(p->b, l);
    synack_fd_close(p->a, c);
    synack_fd_close(p->b, s);
    synack_fd_close(p->b, l);
}

/* A port nobody listens on: a blocking connect fails ECONNREFUSED; a
 * non-blocking one shows POLLERR|POLLHUP and SO_ERROR ECONNREFUSED. */
static void refused_connect(void **state)
{
    rt_pair *p = *state;
    int c = synack_fd_socket(p->a, AF_INET, 0);
    struct sockaddr_in to = sin4(B_IP, 9);
    assert_int_equal(synack_fd_connect(p->a, c, SA(to), sizeof to), -1);
    assert_int_equal(errno, ECONNREFUSED);
    synack_fd_close(p->a, c);

    c = synack_fd_socket(p->a, AF_INET, SOCK_NONBLOCK);
    assert_int_equal(synack_fd_connect(p->a, c, SA(to), sizeof to), -1);
    assert_int_equal(errno, EINPROGRESS);
    short ev = wait_fd(c, POLLOUT | POLLIN, WAIT_MS);
    assert_true(ev & POLLERR);
    assert_true(ev & POLLHUP);
    int err = 0;
    socklen_t el = sizeof err;
    assert_int_equal(synack_fd_getsockopt(p->a, c, SOL_SOCKET, SO_ERROR, &err, &el), 0);
    assert_int_equal(err, ECONNREFUSED);
    assert_int_equal(synack_fd_getsockopt(p->a, c, SOL_SOCKET, SO_ERROR, &err, &el), 0);
    assert_int_equal(err, 0); /* reading it cleared it */
    synack_fd_close(p->a, c);
}

/* The peer's FIN: the data, then POLLIN with read 0; the other direction
 * still works (half-close). */
static void peer_fin_is_eof(void **state)
{
    rt_pair *p = *state;
    int l, c, s;
    connect_pair(p, 82, &l, &c, &s);
    assert_int_equal(write(s, "bye", 3), 3);
    assert_int_equal(synack_fd_shutdown(p->b, s, SHUT_WR), 0);
    char buf[8];
    assert_int_equal(read_full(c, buf, 3), 3);
    assert_true(wait_fd(c, POLLIN, WAIT_MS) & POLLIN);
    assert_int_equal(read(c, buf, sizeof buf), 0);
    assert_int_equal(write(c, "ok", 2), 2); /* half-closed: we still send */
    assert_int_equal(read_full(s, buf, 2), 2);
    assert_memory_equal(buf, "ok", 2);
    synack_fd_close(p->a, c);
    assert_int_equal(read_full(s, buf, 1), 0); /* and our close reaches it */
    synack_fd_close(p->b, s);
    synack_fd_close(p->b, l);
}

static volatile sig_atomic_t pipes;
static void on_pipe(int sig) { (void)sig; pipes++; }

/* SO_LINGER {1, 0} and close: poll shows POLLERR|POLLHUP; the first
 * call to meet the reset reports it once, a write without SIGPIPE (Linux's
 * tcp_sendmsg); after it writes fail EPIPE with SIGPIPE (none with
 * MSG_NOSIGNAL), reads see EOF and SO_ERROR is clear. */
static void reset_by_peer(void **state)
{
    rt_pair *p = *state;
    int l, c, s;
    connect_pair(p, 83, &l, &c, &s);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    assert_int_equal(synack_fd_setsockopt(p->b, s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    assert_int_equal(synack_fd_close(p->b, s), 0);
    short ev = wait_fd(c, POLLIN, WAIT_MS);
    assert_true(ev & POLLERR);
    assert_true(ev & POLLHUP);

    struct sigaction sa = {.sa_handler = on_pipe}, old;
    sigaction(SIGPIPE, &sa, &old);
    pipes = 0;
    assert_int_equal(synack_fd_send(p->a, c, "x", 1, 0), -1);
    assert_int_equal(errno, ECONNRESET);
    assert_int_equal(pipes, 0);
    assert_int_equal(synack_fd_send(p->a, c, "x", 1, MSG_NOSIGNAL), -1);
    assert_int_equal(errno, EPIPE);
    assert_int_equal(pipes, 0);
    struct iovec iov = {.iov_base = "x", .iov_len = 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    assert_int_equal(synack_fd_sendmsg(p->a, c, &m, 0), -1);
    assert_int_equal(errno, EPIPE);
    assert_int_equal(pipes, 1);
    sigaction(SIGPIPE, &old, NULL);
    char buf[4];
    assert_int_equal(synack_fd_recv(p->a, c, buf, sizeof buf, 0), 0);
    int err = -1;
    socklen_t el = sizeof err;
    assert_int_equal(synack_fd_getsockopt(p->a, c, SOL_SOCKET, SO_ERROR, &err, &el), 0);
    assert_int_equal(err, 0);
    synack_fd_close(p->a, c);
    synack_fd_close(p->b, l);
}

/* A reset read: the data sent before it, then ECONNRESET once, then EOF.
 * SO_ERROR takes the error for every call, plain read(2) included. */
static void reset_reported_once(void **state)
{
    rt_pair *p = *state;
    int l, c, s, l2, c2, s2;
    connect_pair(p, 84, &l, &c, &s);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    assert_int_equal(write(s, "last", 4), 4);
    char buf[8];
    assert_int_equal(read_full(c, buf, 4), 4);
    assert_int_equal(synack_fd_setsockopt(p->b, s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    assert_int_equal(synack_fd_close(p->b, s), 0);
    assert_true(wait_fd(c, POLLIN, WAIT_MS) & POLLERR);
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    assert_int_equal(synack_fd_recvmsg(p->a, c, &m, 0), -1);
    assert_int_equal(errno, ECONNRESET);
    assert_int_equal(synack_fd_recv(p->a, c, buf, sizeof buf, 0), 0);
    synack_fd_close(p->a, c);

    connect_pair(p, 85, &l2, &c2, &s2);
    assert_int_equal(synack_fd_setsockopt(p->b, s2, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    assert_int_equal(synack_fd_close(p->b, s2), 0);
    assert_true(wait_fd(c2, POLLIN, WAIT_MS) & POLLERR);
    int err = 0;
    socklen_t el = sizeof err;
    assert_int_equal(synack_fd_getsockopt(p->a, c2, SOL_SOCKET, SO_ERROR, &err, &el), 0);
    assert_int_equal(err, ECONNRESET);
    assert_int_equal(read(c2, buf, sizeof buf), 0);
    synack_fd_close(p->a, c2);
    synack_fd_close(p->b, l);
    synack_fd_close(p->b, l2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(connect_accept_and_names, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(nonblocking_connect_readiness, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(refused_connect, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(peer_fin_is_eof, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(reset_by_peer, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(reset_reported_once, pair_setup, pair_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
