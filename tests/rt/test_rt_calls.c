/* test_rt_calls.c — the fd API's calls one by one: accept (blocking, non-
 * blocking, accept4's flags, readiness through poll, select and epoll),
 * bind's and listen's errnos, shutdown, the kernel's own data calls on
 * the descriptor, sendfile, ioctl, IPv6, and a reset when data is left
 * unread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <linux/sockios.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/uio.h>

#include "rt/rt_fixture.h"

/* The listener is readable only while a connection waits, through poll,
 * select and epoll alike; a non-blocking accept says EAGAIN; accept4's
 * flags reach the new descriptor. */
static void accept_readiness_and_flags(void **state)
{
    rt_pair *p = *state;
    int l = listener(p->b, 90);
    assert_int_equal(wait_fd(l, POLLIN, 100), 0);
    int fl = fcntl(l, F_GETFL);
    fcntl(l, F_SETFL, fl | O_NONBLOCK);
    assert_int_equal(synack_fd_accept(p->b, l, NULL, NULL, 0), -1);
    assert_int_equal(errno, EAGAIN);
    fcntl(l, F_SETFL, fl);

    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN}, out;
    assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev), 0);
    assert_int_equal(epoll_wait(ep, &out, 1, 0), 0);

    int c = synack_fd_socket(p->a, AF_INET, 0);
    struct sockaddr_in to = sin4(B_IP, 90);
    assert_int_equal(synack_fd_connect(p->a, c, SA(to), sizeof to), 0);
    assert_int_equal(epoll_wait(ep, &out, 1, WAIT_MS), 1);
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(l, &rs);
    struct timeval tv = {.tv_sec = 5};
    assert_int_equal(select(l + 1, &rs, NULL, NULL, &tv), 1);
    int s = synack_fd_accept(p->b, l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    assert_true(s >= 0);
    assert_true(fcntl(s, F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(s, F_GETFD) & FD_CLOEXEC);
    assert_int_equal(wait_fd(l, POLLIN, 0), 0); /* taken: not readable now */
    assert_int_equal(read(s, &(char){0}, 1), -1);
    assert_int_equal(errno, EAGAIN);
    close(ep);
    synack_fd_close(p->a, c);
    synack_fd_close(p->b, s);
    synack_fd_close(p->b, l);
}

static void bind_listen_errors(void **state)
{
    rt_pair *p = *state;
    int l = listener(p->b, 91);
    int x = synack_fd_socket(p->b, AF_INET, 0);
    struct sockaddr_in any = sin4(0, 91);
    assert_int_equal(synack_fd_bind(p->b, x, SA(any), sizeof any), -1);
    assert_int_equal(errno, EADDRINUSE);
    struct sockaddr_in foreign = sin4(0x0a000063u, 92);
    assert_int_equal(synack_fd_bind(p->b, x, SA(foreign), sizeof foreign), -1);
    assert_int_equal(errno, EADDRNOTAVAIL);
    assert_int_equal(synack_fd_bind(p->b, x, SA(any), 4), -1);
    assert_int_equal(errno, EINVAL);
    struct sockaddr_in ok = sin4(B_IP, 92);
    assert_int_equal(synack_fd_bind(p->b, x, SA(ok), sizeof ok), 0);
    assert_int_equal(synack_fd_bind(p->b, x, SA(ok), sizeof ok), -1);
    assert_int_equal(errno, EINVAL); /* bound already */
    struct sockaddr_in name;
    socklen_t nl = sizeof name;
    assert_int_equal(synack_fd_getsockname(p->b, x, SA(name), &nl), 0);
    assert_int_equal(ntohs(name.sin_port), 92);
    assert_int_equal(synack_fd_getpeername(p->b, x, SA(name), &nl), -1);
    assert_int_equal(errno, ENOTCONN);
    assert_int_equal(synack_fd_shutdown(p->b, x, SHUT_WR), -1);
    assert_int_equal(errno, ENOTCONN);
    assert_int_equal(synack_fd_shutdown(p->b, x, 7), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(synack_fd_accept(p->b, x, NULL, NULL, 0), -1);
    assert_int_equal(errno, EINVAL); /* not listening */
    assert_int_equal(synack_fd_socket(p->b, AF_UNIX, 0), -1);
    assert_int_equal(errno, EAFNOSUPPORT);
    int notours[2];
    assert_int_equal(pipe(notours), 0);
    assert_int_equal(synack_fd_listen(p->b, notours[0], 1), -1);
    assert_int_equal(errno, ENOTSOCK);
    close(notours[0]);
    close(notours[1]);
    synack_fd_close(p->b, x);
    synack_fd_close(p->b, l);
}

static uint16_t port_of(synack_rt *rt, int fd)
{
    struct sockaddr_in name;
    socklen_t nl = sizeof name;
    assert_int_equal(synack_fd_getsockname(rt, fd, SA(name), &nl), 0);
    return ntohs(name.sin_port);
}

/* Port 0, as Linux: bind picks a free ephemeral port at once, and listen
 * on an unbound socket binds one (inet_autobind); both take connections
 * on the port getsockname shows, and the two ports differ. */
static void port_zero_and_autobind(void **state)
{
    rt_pair *p = *state;
    int x = synack_fd_socket(p->b, AF_INET, 0), y = synack_fd_socket(p->b, AF_INET, 0);
    struct sockaddr_in any = sin4(0, 0);
    assert_int_equal(synack_fd_bind(p->b, x, SA(any), sizeof any), 0);
    uint16_t px = port_of(p->b, x);
    assert_true(px >= 32768 && px <= 60999);
    assert_int_equal(synack_fd_listen(p->b, x, 4), 0);
    assert_int_equal(port_of(p->b, x), px);
    assert_int_equal(synack_fd_listen(p->b, y, 4), 0); /* never bound */
    uint16_t py = port_of(p->b, y);
    assert_true(py >= 32768 && py <= 60999);
    assert_true(py != px);
    int lis[2] = {x, y};
    uint16_t ports[2] = {px, py};
    for (int i = 0; i < 2; i++) {
        int c = synack_fd_socket(p->a, AF_INET, 0);
        struct sockaddr_in to = sin4(B_IP, ports[i]);
        assert_int_equal(synack_fd_connect(p->a, c, SA(to), sizeof to), 0);
        int s = accept_wait(p->b, lis[i]);
        synack_fd_close(p->a, c);
        synack_fd_close(p->b, s);
    }
    synack_fd_close(p->b, x);
    synack_fd_close(p->b, y);
}

/* The descriptor is a kernel socket: MSG_PEEK, MSG_WAITALL, readv and
 * writev, MSG_DONTWAIT, and 1 MiB through with every byte in place. */
static void kernel_data_calls(void **state)
{
    rt_pair *p = *state;
    int l, c, s;
    connect_pair(p, 93, &l, &c, &s);
    struct iovec wv[2] = {{.iov_base = "abc", .iov_len = 3}, {.iov_base = "defg", .iov_len = 4}};
    assert_int_equal(writev(c, wv, 2), 7);
    char buf[8] = {0};
    assert_int_equal(recv(s, buf, 7, MSG_WAITALL), 7);
    assert_memory_equal(buf, "abcdefg", 7);
    assert_int_equal(send(s, "xyz", 3, 0), 3);
    assert_true(wait_fd(c, POLLIN, WAIT_MS) & POLLIN);
    int inq = 0;
    for (int i = 0; i < 100 && inq < 3; i++) { /* the bytes may still be on their way */
        assert_int_equal(synack_fd_ioctl(p->a, c, SIOCINQ, &inq), 0);
        if (inq < 3)
            usleep(1000);
    }
    assert_int_equal(inq, 3);
    assert_int_equal(recv(c, buf, 2, MSG_PEEK), 2);
    assert_memory_equal(buf, "xy", 2);
    char a[1], b[2];
    struct iovec rv[2] = {{.iov_base = a, .iov_len = 1}, {.iov_base = b, .iov_len = 2}};
    assert_int_equal(readv(c, rv, 2), 3);
    assert_memory_equal(b, "yz", 2);
    assert_int_equal(recv(c, buf, 1, MSG_DONTWAIT), -1);
    assert_int_equal(errno, EAGAIN);

    size_t total = 1 << 20;
    uint8_t *out = malloc(total), *in = malloc(total);
    for (size_t i = 0; i < total; i++)
        out[i] = (uint8_t)(i * 7 + (i >> 11));
    size_t sent = 0, got = 0;
    fcntl(c, F_SETFL, O_NONBLOCK);
    while (got < total) {
        if (sent < total) {
            ssize_t n = write(c, out + sent, total - sent);
            if (n > 0)
                sent += (size_t)n;
        }
        if (wait_fd(s, POLLIN, sent < total ? 1 : WAIT_MS) & POLLIN) {
            ssize_t n = read(s, in + got, total - got);
            assert_true(n > 0);
            got += (size_t)n;
        } else if (sent == total) {
            break;
        }
    }
    assert_int_equal(got, total);
    assert_memory_equal(in, out, total);
    int outq = -1;
    assert_int_equal(synack_fd_ioctl(p->a, c, SIOCOUTQ, &outq), 0);
    assert_true(outq >= 0);
    free(out);
    free(in);
    synack_fd_close(p->a, c);
    synack_fd_close(p->b, s);
    synack_fd_close(p->b, l);
}

/* sendfile(2) into a non-blocking descriptor (nginx's way to serve a
 * file): every EAGAIN is followed by POLLOUT, and the file arrives whole. */
static void sendfile_whole_file(void **state)
{
    rt_pair *p = *state;
    int l, c, s;
    connect_pair(p, 94, &l, &c, &s);
    char path[] = "/tmp/synack-sendfile-XXXXXX";
    int f = mkstemp(path);
    assert_true(f >= 0);
    unlink(path);
    size_t total = 4 << 20;
    uint8_t *out = malloc(total), *in = malloc(total);
    for (size_t i = 0; i < total; i++)
        out[i] = (uint8_t)(i * 13 + (i >> 12));
    assert_int_equal(write(f, out, total), (ssize_t)total);
    fcntl(c, F_SETFL, O_NONBLOCK);
    off_t off = 0;
    size_t got = 0;
    while (got < total) {
        /* Send until EAGAIN: the connection and the descriptor fill up. */
        while ((size_t)off < total) {
            ssize_t n = sendfile(c, f, &off, total - (size_t)off);
            if (n < 0) {
                assert_int_equal(errno, EAGAIN);
                break;
            }
        }
        /* Then read until POLLOUT: the kernel's promise after EAGAIN is
         * that it comes once the reader makes room. */
        int more = (size_t)off < total;
        for (;;) {
            struct pollfd pf[2] = {{.fd = s, .events = POLLIN}, {.fd = c, .events = more ? POLLOUT : 0}};
            assert_true(poll(pf, 2, WAIT_MS) > 0);
            if (pf[0].revents & POLLIN) {
                ssize_t n = read(s, in + got, total - got);
                assert_true(n > 0);
                got += (size_t)n;
            }
            if (got == total || (more && (pf[1].revents & POLLOUT)))
                break;
        }
    }
    assert_memory_equal(in, out, total);
    free(out);
    free(in);
    close(f);
    synack_fd_close(p->a, c);
    synack_fd_close(p->b, s);
    synack_fd_close(p->b, l);
}

/* Closing with received data unread resets the connection, as Linux does:
 * the peer sees ECONNRESET. */
static void close_with_unread_data_resets(void **state)
{
    rt_pair *p = *state;
    int l, c, s;
    connect_pair(p, 94, &l, &c, &s);
    assert_int_equal(write(c, "unread", 6), 6);
    assert_true(wait_fd(s, POLLIN, WAIT_MS) & POLLIN);
    close(s); /* close(2) itself, not synack_fd_close: the kernel tells the runtime */
    short ev = wait_fd(c, POLLIN, WAIT_MS);
    assert_true(ev & POLLERR);
    char buf[4];
    assert_int_equal(read(c, buf, sizeof buf), -1);
    assert_int_equal(errno, ECONNRESET);
    synack_fd_close(p->a, c);
    synack_fd_close(p->b, l);
}

/* Our own shutdown(SHUT_WR): writes fail EPIPE; the peer reads EOF. */
static void own_shutdown_write(void **state)
{
    rt_pair *p = *state;
    int l, c, s;
    connect_pair(p, 95, &l, &c, &s);
    assert_int_equal(synack_fd_shutdown(p->a, c, SHUT_WR), 0);
    assert_int_equal(send(c, "x", 1, MSG_NOSIGNAL), -1);
    assert_int_equal(errno, EPIPE);
    assert_true(wait_fd(s, POLLIN, WAIT_MS) & POLLIN);
    assert_int_equal(read(s, &(char){0}, 1), 0);
    synack_fd_close(p->a, c);
    synack_fd_close(p->b, s);
    synack_fd_close(p->b, l);
}

/* IPv6 sockets: connect to fd00::2, names in sockaddr_in6; an AF_INET6
 * listener on :: also takes IPv4 (shown IPv4-mapped). */
static void ipv6_sockets(void **state)
{
    rt_pair *p = *state;
    int l = synack_fd_socket(p->b, AF_INET6, 0);
    struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_port = htons(96)};
    assert_int_equal(synack_fd_bind(p->b, l, SA(any), sizeof any), 0);
    assert_int_equal(synack_fd_listen(p->b, l, 4), 0);
    int c = synack_fd_socket(p->a, AF_INET6, 0);
    struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_port = htons(96)};
    inet_pton(AF_INET6, "fd00::2", &to.sin6_addr);
    assert_int_equal(synack_fd_connect(p->a, c, SA(to), sizeof to), 0);
    struct sockaddr_in6 peer;
    socklen_t pl = sizeof peer;
    assert_true(wait_fd(l, POLLIN, WAIT_MS) & POLLIN);
    int s = synack_fd_accept(p->b, l, SA(peer), &pl, 0);
    assert_true(s >= 0);
    char text[64];
    inet_ntop(AF_INET6, &peer.sin6_addr, text, sizeof text);
    assert_string_equal(text, "fd00::1");
    assert_int_equal(write(c, "six", 3), 3);
    char buf[4];
    assert_int_equal(read_full(s, buf, 3), 3);

    int c4 = synack_fd_socket(p->a, AF_INET, 0);
    struct sockaddr_in to4 = sin4(B_IP, 96);
    assert_int_equal(synack_fd_connect(p->a, c4, SA(to4), sizeof to4), 0);
    pl = sizeof peer;
    assert_true(wait_fd(l, POLLIN, WAIT_MS) & POLLIN);
    int s4 = synack_fd_accept(p->b, l, SA(peer), &pl, 0);
    assert_true(s4 >= 0);
    inet_ntop(AF_INET6, &peer.sin6_addr, text, sizeof text);
    assert_string_equal(text, "::ffff:10.0.0.1");
    int v = 0;
    socklen_t vl = sizeof v;
    assert_int_equal(synack_fd_getsockopt(p->b, l, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vl), 0);
    assert_int_equal(v, 0);
    assert_int_equal(synack_fd_getsockopt(p->a, c4, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vl), -1);
    assert_int_equal(errno, ENOPROTOOPT);
    synack_fd_close(p->a, c);
    synack_fd_close(p->a, c4);
    synack_fd_close(p->b, s);
    synack_fd_close(p->b, s4);
    synack_fd_close(p->b, l);
}

/* A dup of the descriptor is the same socket: the fd API finds it, and
 * the connection ends with the last close only, as the kernel's would. */
static void dup_is_the_same_socket(void **state)
{
    rt_pair *p = *state;
    int l, c, s;
    connect_pair(p, 97, &l, &c, &s);
    int d = dup(c);
    assert_true(d >= 0);
    struct sockaddr_in them;
    socklen_t tl = sizeof them;
    assert_int_equal(synack_fd_getpeername(p->a, d, SA(them), &tl), 0);
    assert_int_equal(ntohs(them.sin_port), 97);
    close(c);
    assert_int_equal(wait_fd(s, POLLIN, 200), 0); /* still open: no EOF */
    assert_int_equal(write(d, "d", 1), 1);
    char buf[2];
    assert_int_equal(read_full(s, buf, 1), 1);
    int on = 1;
    assert_int_equal(synack_fd_ioctl(p->a, d, FIONBIO, &on), 0);
    assert_true(fcntl(d, F_GETFL) & O_NONBLOCK);
    synack_fd_close(p->a, d);
    assert_true(wait_fd(s, POLLIN, WAIT_MS) & POLLIN);
    assert_int_equal(read(s, buf, 1), 0);
    synack_fd_close(p->b, s);
    synack_fd_close(p->b, l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(accept_readiness_and_flags, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(bind_listen_errors, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(port_zero_and_autobind, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(kernel_data_calls, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(sendfile_whole_file, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(close_with_unread_data_resets, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(own_shutdown_write, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(ipv6_sockets, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(dup_is_the_same_socket, pair_setup, pair_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
