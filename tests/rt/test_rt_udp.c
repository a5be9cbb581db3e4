/* test_rt_udp.c — UDP sockets of the fd API between two runtimes in one
 * process: addresses both ways, connected sockets, datagram boundaries,
 * MSG_TRUNC, MSG_PEEK, non-blocking reads, poll, FIONREAD, ICMP port
 * unreachable as ECONNREFUSED, ephemeral ports, IPv6 and the errnos of
 * sends that cannot go. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <linux/sockios.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/uio.h>

#include "rt/rt_fixture.h"

static int udp(synack_rt *rt, int family, int flags)
{
    int fd = synack_fd_socket_type(rt, family, SOCK_DGRAM, flags);
    assert_true(fd >= 0);
    return fd;
}

/* A UDP socket on `rt` bound to any address, port `port`. */
static int udp_bound(synack_rt *rt, uint16_t port)
{
    int fd = udp(rt, AF_INET, 0);
    struct sockaddr_in s = sin4(0, port);
    assert_int_equal(synack_fd_bind(rt, fd, SA(s), sizeof s), 0);
    return fd;
}

/* recvfrom after waiting for the datagram (at most WAIT_MS). */
static ssize_t recv_wait(synack_rt *rt, int fd, void *buf, size_t n, int flags,
                         struct sockaddr_in *from)
{
    assert_true(wait_fd(fd, POLLIN, WAIT_MS) & POLLIN);
    socklen_t fl = sizeof *from;
    return synack_fd_recvfrom(rt, fd, buf, n, flags, from ? SA(*from) : NULL, from ? &fl : NULL);
}

/* Unconnected sockets: sendto one way, the reply to the address recvfrom
 * named, each sender's address and port checked. */
static void sendto_recvfrom_both_ways(void **state)
{
    rt_pair *p = *state;
    int s = udp_bound(p->b, 5300);
    int c = udp_bound(p->a, 5301);
    struct sockaddr_in to = sin4(B_IP, 5300), from;
    assert_int_equal(synack_fd_sendto(p->a, c, "ping", 4, 0, SA(to), sizeof to), 4);
    char buf[64];
    assert_int_equal(recv_wait(p->b, s, buf, sizeof buf, 0, &from), 4);
    assert_memory_equal(buf, "ping", 4);
    assert_int_equal(from.sin_family, AF_INET);
    assert_int_equal(ntohl(from.sin_addr.s_addr), A_IP);
    assert_int_equal(ntohs(from.sin_port), 5301);
    assert_int_equal(synack_fd_sendto(p->b, s, "pong!", 5, 0, SA(from), sizeof from), 5);
    assert_int_equal(recv_wait(p->a, c, buf, sizeof buf, 0, &from), 5);
    assert_memory_equal(buf, "pong!", 5);
    assert_int_equal(ntohl(from.sin_addr.s_addr), B_IP);
    assert_int_equal(ntohs(from.sin_port), 5300);
    synack_fd_close(p->a, c);
    synack_fd_close(p->b, s);
}

/* A connected socket: send and recv without addresses, getpeername, a
 * plain write(2) is a datagram too, datagrams from others are not taken,
 * and AF_UNSPEC disconnects. */
static void connected_send_recv(void **state)
{
    rt_pair *p = *state;
    int s = udp_bound(p->b, 5310);
    int other = udp_bound(p->b, 5311);
    int c = udp(p->a, AF_INET, 0);
    struct sockaddr_in to = sin4(B_IP, 5310), peer, from;
    assert_int_equal(synack_fd_connect(p->a, c, SA(to), sizeof to), 0);
    socklen_t pl = sizeof peer;
    assert_int_equal(synack_fd_getpeername(p->a, c, SA(peer), &pl), 0);
    assert_int_equal(ntohs(peer.sin_port), 5310);
    assert_int_equal(synack_fd_send(p->a, c, "one", 3, 0), 3);
    assert_int_equal(write(c, "two", 3), 3); /* headerless: to the peer */
    char buf[64];
    assert_int_equal(recv_wait(p->b, s, buf, sizeof buf, 0, &from), 3);
    assert_memory_equal(buf, "one", 3);
    assert_int_equal(recv_wait(p->b, s, buf, sizeof buf, 0, &from), 3);
    assert_memory_equal(buf, "two", 3);
    /* from another port of the peer's host: not delivered */
    assert_int_equal(synack_fd_sendto(p->b, other, "x", 1, 0, SA(from), sizeof from), 1);
    assert_int_equal(synack_fd_sendto(p->b, s, "back", 4, 0, SA(from), sizeof from), 4);
    assert_int_equal(recv_wait(p->a, c, buf, sizeof buf, 0, NULL), 4);
    assert_memory_equal(buf, "back", 4);
    assert_int_equal(wait_fd(c, POLLIN, 200), 0);
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    assert_int_equal(synack_fd_connect(p->a, c, &unspec, sizeof unspec), 0);
    assert_int_equal(synack_fd_getpeername(p->a, c, SA(peer), &pl), -1);
    assert_int_equal(errno, ENOTCONN);
    assert_int_equal(synack_fd_send(p->a, c, "y", 1, 0), -1);
    assert_int_equal(errno, EDESTADDRREQ);
    synack_fd_close(p->a, c);
    synack_fd_close(p->b, s);
    synack_fd_close(p->b, other);
}

/* Each send is one datagram, whatever the reads' sizes; recvmsg gathers
 * a datagram across iovecs; an empty datagram reads as 0. */
static void datagram_boundaries(void **state)
{
    rt_pair *p = *state;
    int s = udp_bound(p->b, 5320);
    int c = udp(p->a, AF_INET, 0);
    struct sockaddr_in to = sin4(B_IP, 5320);
    assert_int_equal(synack_fd_connect(p->a, c, SA(to), sizeof to), 0);
    static char big[30000];
    memset(big, 'b', sizeof big);
    static char buf[40000];
    /* One first, alone: while ARP resolves b, a burst of fragments would
     * overflow the neighbour queue (dropped, as Linux drops them). */
    assert_int_equal(synack_fd_send(p->a, c, "warm", 4, 0), 4);
    assert_int_equal(recv_wait(p->b, s, buf, sizeof buf, 0, NULL), 4);
    assert_int_equal(synack_fd_send(p->a, c, "abc", 3, 0), 3);
    assert_int_equal(synack_fd_send(p->a, c, big, sizeof big, 0), (ssize_t)sizeof big);
    assert_int_equal(synack_fd_send(p->a, c, "", 0, 0), 0);
    struct iovec iov[2] = {{.iov_base = "hel", .iov_len = 3}, {.iov_base = "lo", .iov_len = 2}};
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
    assert_int_equal(synack_fd_sendmsg(p->a, c, &m, 0), 5);
    assert_int_equal(recv_wait(p->b, s, buf, sizeof buf, 0, NULL), 3);
    assert_int_equal(recv_wait(p->b, s, buf, sizeof buf, 0, NULL), (ssize_t)sizeof big);
    assert_int_equal(buf[sizeof big - 1], 'b');
    assert_int_equal(recv_wait(p->b, s, buf, sizeof buf, 0, NULL), 0);
    char x[2], y[8];
    struct iovec rv[2] = {{.iov_base = x, .iov_len = 2}, {.iov_base = y, .iov_len = 8}};
    struct sockaddr_in from;
    struct msghdr rm = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = rv, .msg_iovlen = 2};
    assert_true(wait_fd(s, POLLIN, WAIT_MS) & POLLIN);
    assert_int_equal(synack_fd_recvmsg(p->b, s, &rm, 0), 5);
    assert_memory_equal(x, "he", 2);
    assert_memory_equal(y, "llo", 3);
    assert_int_equal(rm.msg_flags, 0);
    assert_int_equal(rm.msg_namelen, sizeof from);
    assert_int_equal(ntohl(from.sin_addr.s_addr), A_IP);
    synack_fd_close(p->a, c);
    synack_fd_close(p->b, s);
}

/* A short buffer keeps the start and drops the rest: MSG_TRUNC in
 * msg_flags, and with MSG_TRUNC in the flags the whole length. */
static void truncation(void **state)
{
    rt_pair *p = *state;
    int s = udp_bound(p->b, 5330);
    int c = udp(p->a, AF_INET, 0);
    struct sockaddr_in to = sin4(B_IP, 5330);
    for (int i = 0; i < 3; i++)
        assert_int_equal(synack_fd_sendto(p->a, c, "0123456789", 10, 0, SA(to), sizeof to), 10);
    char buf[16] = {0};
    assert_int_equal(recv_wait(p->b, s, buf, 4, 0, NULL), 4);
    assert_memory_equal(buf, "0123", 4);
    assert_int_equal(recv_wait(p->b, s, buf, 4, MSG_TRUNC, NULL), 10);
    struct iovec iov = {.iov_base = buf, .iov_len = 6};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    assert_true(wait_fd(s, POLLIN, WAIT_MS) & POLLIN);
    assert_int_equal(synack_fd_recvmsg(p->b, s, &m, 0), 6);
    assert_true(m.msg_flags & MSG_TRUNC);
    assert_int_equal(m.msg_flags & MSG_EOR, 0);
    assert_int_equal(wait_fd(s, POLLIN, 100), 0); /* the rests were dropped */
    synack_fd_close(p->a, c);
    synack_fd_close(p->b, s);
}

/* MSG_PEEK leaves the datagram queued; FIONREAD is its length. */
static void peek_and_fionread(void **state)
{
    rt_pair *p = *state;
    int s = udp_bound(p->b, 5340);
    int c = udp(p->a, AF_INET, 0);
    struct sockaddr_in to = sin4(B_IP, 5340), from;
    int n = -1;
    assert_int_equal(synack_fd_ioctl(p->b, s, FIONREAD, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(synack_fd_sendto(p->a, c, "first", 5, 0, SA(to), sizeof to), 5);
    assert_int_equal(synack_fd_sendto(p->a, c, "second!", 7, 0, SA(to), sizeof to), 7);
    char buf[16];
    memset(&from, 0, sizeof from);
    assert_int_equal(recv_wait(p->b, s, buf, sizeof buf, MSG_PEEK, &from), 5);
    assert_int_equal(ntohl(from.sin_addr.s_addr), A_IP);
    assert_int_equal(synack_fd_ioctl(p->b, s, FIONREAD, &n), 0);
    assert_int_equal(n, 5);
    assert_int_equal(synack_fd_recv(p->b, s, buf, sizeof buf, 0), 5);
    assert_memory_equal(buf, "first", 5);
    assert_true(wait_fd(s, POLLIN, WAIT_MS) & POLLIN);
    assert_int_equal(synack_fd_ioctl(p->b, s, SIOCINQ, &n), 0);
    assert_int_equal(n, 7);
    assert_int_equal(synack_fd_recv(p->b, s, buf, sizeof buf, 0), 7);
    synack_fd_close(p->a, c);
    synack_fd_close(p->b, s);
}

/* Non-blocking: EAGAIN with nothing queued (O_NONBLOCK and MSG_DONTWAIT);
 * poll shows POLLIN only once a datagram waits, POLLOUT always. */
static void nonblocking_and_poll(void **state)
{
    rt_pair *p = *state;
    int s = udp(p->b, AF_INET, SOCK_NONBLOCK);
    struct sockaddr_in any = sin4(0, 5350);
    assert_int_equal(synack_fd_bind(p->b, s, SA(any), sizeof any), 0);
    char buf[8];
    assert_int_equal(synack_fd_recv(p->b, s, buf, sizeof buf, 0), -1);
    assert_int_equal(errno, EAGAIN);
    int c = udp(p->a, AF_INET, 0);
    assert_int_equal(synack_fd_recv(p->a, c, buf, sizeof buf, MSG_DONTWAIT), -1);
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(wait_fd(s, POLLIN | POLLOUT, 100), POLLOUT);
    struct sockaddr_in to = sin4(B_IP, 5350);
    assert_int_equal(synack_fd_sendto(p->a, c, "hi", 2, 0, SA(to), sizeof to), 2);
    assert_int_equal(wait_fd(s, POLLIN, WAIT_MS), POLLIN);
    assert_int_equal(synack_fd_recv(p->b, s, buf, sizeof buf, 0), 2);
    assert_int_equal(synack_fd_recv(p->b, s, buf, sizeof buf, 0), -1);
    assert_int_equal(errno, EAGAIN);
    synack_fd_close(p->a, c);
    synack_fd_close(p->b, s);
}

/* A connected socket whose datagram finds no socket: b answers ICMP port
 * unreachable; the next send fails ECONNREFUSED once, and a reader blocked
 * meanwhile wakes with it too (a second round). */
static void port_unreachable_refuses(void **state)
{
    rt_pair *p = *state;
    int c = udp(p->a, AF_INET, 0);
    struct sockaddr_in to = sin4(B_IP, 5360);
    assert_int_equal(synack_fd_connect(p->a, c, SA(to), sizeof to), 0);
    assert_int_equal(synack_fd_send(p->a, c, "anyone?", 7, 0), 7);
    assert_true(wait_fd(c, POLLIN, WAIT_MS) & POLLIN); /* the error's marker */
    assert_int_equal(synack_fd_send(p->a, c, "again", 5, 0), -1);
    assert_int_equal(errno, ECONNREFUSED);
    /* reported once: the marker left behind reads as nothing */
    char buf[8];
    assert_int_equal(synack_fd_recv(p->a, c, buf, sizeof buf, MSG_DONTWAIT), -1);
    assert_int_equal(errno, EAGAIN);
    /* "again" drew a second error (ICMP rate limits allow it) or not;
     * either way the pending one goes to recv or to SO_ERROR, once. */
    usleep(200000);
    int e = 0;
    socklen_t el = sizeof e;
    ssize_t r = synack_fd_recv(p->a, c, buf, sizeof buf, MSG_DONTWAIT);
    if (r < 0 && errno == ECONNREFUSED) {
        assert_int_equal(synack_fd_getsockopt(p->a, c, SOL_SOCKET, SO_ERROR, &e, &el), 0);
        assert_int_equal(e, 0);
    } else {
        assert_int_equal(r, -1);
        assert_int_equal(errno, EAGAIN);
    }
    synack_fd_close(p->a, c);
}

/* The same through SO_ERROR and a blocking recv. */
static void port_unreachable_recv(void **state)
{
    rt_pair *p = *state;
    int c = udp(p->a, AF_INET, 0);
    struct sockaddr_in to = sin4(B_IP, 5361);
    assert_int_equal(synack_fd_connect(p->a, c, SA(to), sizeof to), 0);
    assert_int_equal(synack_fd_send(p->a, c, "anyone?", 7, 0), 7);
    char buf[8];
    assert_int_equal(synack_fd_recv(p->a, c, buf, sizeof buf, 0), -1);
    assert_int_equal(errno, ECONNREFUSED);
    int e = -1;
    socklen_t el = sizeof e;
    assert_int_equal(synack_fd_getsockopt(p->a, c, SOL_SOCKET, SO_ERROR, &e, &el), 0);
    assert_int_equal(e, 0);
    synack_fd_close(p->a, c);
}

/* bind to port 0 picks a port getsockname shows at once; an unbound
 * socket shows 0.0.0.0:0; connect shows the source address; a second
 * bind to the same port fails EADDRINUSE. */
static void ephemeral_bind_and_names(void **state)
{
    rt_pair *p = *state;
    int u = udp(p->a, AF_INET, 0);
    struct sockaddr_in me;
    socklen_t ml = sizeof me;
    assert_int_equal(synack_fd_getsockname(p->a, u, SA(me), &ml), 0);
    assert_int_equal(ml, sizeof me);
    assert_int_equal(me.sin_port, 0);
    struct sockaddr_in any = sin4(0, 0);
    assert_int_equal(synack_fd_bind(p->a, u, SA(any), sizeof any), 0);
    assert_int_equal(synack_fd_getsockname(p->a, u, SA(me), &ml), 0);
    uint16_t port = ntohs(me.sin_port);
    assert_true(port >= 32768);
    assert_int_equal(me.sin_addr.s_addr, 0);
    int v = udp(p->a, AF_INET, 0);
    struct sockaddr_in same = sin4(0, port);
    assert_int_equal(synack_fd_bind(p->a, v, SA(same), sizeof same), -1);
    assert_int_equal(errno, EADDRINUSE);
    struct sockaddr_in to = sin4(B_IP, 9);
    assert_int_equal(synack_fd_connect(p->a, v, SA(to), sizeof to), 0);
    assert_int_equal(synack_fd_getsockname(p->a, v, SA(me), &ml), 0);
    assert_int_equal(ntohl(me.sin_addr.s_addr), A_IP);
    assert_true(ntohs(me.sin_port) != 0 && ntohs(me.sin_port) != port);
    int type = 0;
    socklen_t tl = sizeof type;
    assert_int_equal(synack_fd_getsockopt(p->a, v, SOL_SOCKET, SO_TYPE, &type, &tl), 0);
    assert_int_equal(type, SOCK_DGRAM);
    int rcv = 4096;
    assert_int_equal(synack_fd_setsockopt(p->a, v, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv), 0);
    assert_int_equal(synack_fd_getsockopt(p->a, v, SOL_SOCKET, SO_RCVBUF, &rcv, &tl), 0);
    assert_int_equal(rcv, 8192);
    synack_fd_close(p->a, u);
    synack_fd_close(p->a, v);
}

/* IPv6: both ways with the addresses, and the IPv6 size limit. */
static void ipv6_both_ways(void **state)
{
    rt_pair *p = *state;
    int s = udp(p->b, AF_INET6, 0);
    struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_port = htons(5370)};
    assert_int_equal(synack_fd_bind(p->b, s, SA(any), sizeof any), 0);
    int c = udp(p->a, AF_INET6, 0);
    struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_port = htons(5370)};
    inet_pton(AF_INET6, "fd00::2", &to.sin6_addr);
    assert_int_equal(synack_fd_sendto(p->a, c, "six", 3, 0, SA(to), sizeof to), 3);
    char buf[16];
    struct sockaddr_in6 from;
    socklen_t fl = sizeof from;
    assert_true(wait_fd(s, POLLIN, WAIT_MS) & POLLIN);
    assert_int_equal(synack_fd_recvfrom(p->b, s, buf, sizeof buf, 0, SA(from), &fl), 3);
    assert_int_equal(fl, sizeof from);
    assert_int_equal(from.sin6_family, AF_INET6);
    char text[64];
    inet_ntop(AF_INET6, &from.sin6_addr, text, sizeof text);
    assert_string_equal(text, "fd00::1");
    assert_int_equal(synack_fd_sendto(p->b, s, "back", 4, 0, SA(from), fl), 4);
    assert_true(wait_fd(c, POLLIN, WAIT_MS) & POLLIN);
    assert_int_equal(synack_fd_recvfrom(p->a, c, buf, sizeof buf, 0, SA(from), &fl), 4);
    inet_ntop(AF_INET6, &from.sin6_addr, text, sizeof text);
    assert_string_equal(text, "fd00::2");
    assert_int_equal(ntohs(from.sin6_port), 5370);
    static char big[65528];
    assert_int_equal(synack_fd_sendto(p->a, c, big, 65528, 0, SA(to), sizeof to), -1);
    assert_int_equal(errno, EMSGSIZE);
    assert_int_equal(synack_fd_sendto(p->a, c, big, 65527, 0, SA(to), sizeof to), 65527);
    assert_true(wait_fd(s, POLLIN, WAIT_MS) & POLLIN); /* the largest, in fragments */
    assert_int_equal(synack_fd_recv(p->b, s, big, sizeof big, 0), 65527);
    synack_fd_close(p->a, c);
    synack_fd_close(p->b, s);
}

/* Sends that cannot go, with Linux's errnos. */
static void send_errors(void **state)
{
    rt_pair *p = *state;
    int c = udp(p->a, AF_INET, 0);
    assert_int_equal(synack_fd_send(p->a, c, "x", 1, 0), -1);
    assert_int_equal(errno, EDESTADDRREQ);
    static char big[65508];
    struct sockaddr_in to = sin4(B_IP, 5380);
    assert_int_equal(synack_fd_sendto(p->a, c, big, 65508, 0, SA(to), sizeof to), -1);
    assert_int_equal(errno, EMSGSIZE);
    int s = udp_bound(p->b, 5380);
    /* The largest goes, and arrives whole: its 45 fragments wait for ARP. */
    assert_int_equal(synack_fd_sendto(p->a, c, big, 65507, 0, SA(to), sizeof to), 65507);
    assert_true(wait_fd(s, POLLIN, WAIT_MS) & POLLIN);
    assert_int_equal(synack_fd_recv(p->b, s, big, sizeof big, 0), 65507);
    synack_fd_close(p->b, s);
    struct sockaddr_in zero = sin4(B_IP, 0);
    assert_int_equal(synack_fd_sendto(p->a, c, "x", 1, 0, SA(zero), sizeof zero), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(synack_fd_sendto(p->a, c, "x", 1, 0, SA(to), 4), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(synack_fd_listen(p->a, c, 1), -1);
    assert_int_equal(errno, EOPNOTSUPP);
    /* a destination on a connected socket is allowed, as Linux */
    assert_int_equal(synack_fd_connect(p->a, c, SA(to), sizeof to), 0);
    assert_int_equal(synack_fd_sendto(p->a, c, "x", 1, 0, SA(to), sizeof to), 1);
    synack_fd_close(p->a, c);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(sendto_recvfrom_both_ways, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(connected_send_recv, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(datagram_boundaries, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(truncation, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(peek_and_fionread, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(nonblocking_and_poll, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(port_unreachable_refuses, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(port_unreachable_recv, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(ephemeral_bind_and_names, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(ipv6_both_ways, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(send_errors, pair_setup, pair_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
