/* test_rt_opts.c — socket options and controls through the fd API: the
 * values Linux reports (doubled buffers, SO_TYPE, ...), TCP_INFO, unknown
 * options refused with ENOPROTOOPT, and an unreachable host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <linux/tcp.h>
#include <stdlib.h>
#include <time.h>

/* Linux's TCP states as TCP_INFO numbers them (include/net/tcp_states.h). */
enum { LINUX_TCP_ESTABLISHED = 1, LINUX_TCP_LISTEN = 10 };

#include "rt/rt_fixture.h"

static int get_int(synack_rt *rt, int fd, int level, int name)
{
    int v = -12345;
    socklen_t l = sizeof v;
    assert_int_equal(synack_fd_getsockopt(rt, fd, level, name, &v, &l), 0);
    assert_int_equal(l, sizeof v);
    return v;
}

static void set_int(synack_rt *rt, int fd, int level, int name, int v)
{
    assert_int_equal(synack_fd_setsockopt(rt, fd, level, name, &v, sizeof v), 0);
}

static void plain_options(void **state)
{
    rt_pair *p = *state;
    int s = synack_fd_socket(p->a, AF_INET, 0);
    assert_int_equal(get_int(p->a, s, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
    assert_int_equal(get_int(p->a, s, SOL_SOCKET, SO_DOMAIN), AF_INET);
    assert_int_equal(get_int(p->a, s, SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
    assert_int_equal(get_int(p->a, s, SOL_SOCKET, SO_ACCEPTCONN), 0);
    set_int(p->a, s, SOL_SOCKET, SO_RCVBUF, 65536);
    assert_int_equal(get_int(p->a, s, SOL_SOCKET, SO_RCVBUF), 131072); /* doubled */
    set_int(p->a, s, SOL_SOCKET, SO_SNDBUF, 40000);
    assert_int_equal(get_int(p->a, s, SOL_SOCKET, SO_SNDBUF), 80000);
    struct {
        int level, name, value;
    } flags[] = {
        {SOL_SOCKET, SO_REUSEADDR, 1}, {SOL_SOCKET, SO_KEEPALIVE, 1},
        {SOL_SOCKET, SO_REUSEPORT, 1}, {IPPROTO_TCP, TCP_NODELAY, 1},
        {IPPROTO_TCP, TCP_CORK, 1},    {IPPROTO_TCP, TCP_QUICKACK, 1},
        {IPPROTO_TCP, TCP_KEEPIDLE, 30}, {IPPROTO_TCP, TCP_KEEPINTVL, 5},
        {IPPROTO_TCP, TCP_KEEPCNT, 3}, {IPPROTO_TCP, TCP_DEFER_ACCEPT, 5},
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        assert_int_equal(get_int(p->a, s, flags[i].level, flags[i].name) == flags[i].value, 0);
        set_int(p->a, s, flags[i].level, flags[i].name, flags[i].value);
        assert_int_equal(get_int(p->a, s, flags[i].level, flags[i].name), flags[i].value);
    }
    int zero = 0;
    assert_int_equal(synack_fd_setsockopt(p->a, s, IPPROTO_TCP, TCP_KEEPIDLE, &zero, sizeof zero), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(synack_fd_setsockopt(p->a, s, SOL_SOCKET, SO_KEEPALIVE, &zero, 2), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(synack_fd_setsockopt(p->a, s, SOL_SOCKET, SO_BROADCAST, &zero, sizeof zero), -1);
    assert_int_equal(errno, ENOPROTOOPT);
    assert_int_equal(synack_fd_setsockopt(p->a, s, IPPROTO_TCP, 9999, &zero, sizeof zero), -1);
    assert_int_equal(errno, ENOPROTOOPT);
    int v;
    socklen_t vl = sizeof v;
    assert_int_equal(synack_fd_getsockopt(p->a, s, IPPROTO_TCP, TCP_FASTOPEN, &v, &vl), -1);
    assert_int_equal(errno, ENOPROTOOPT);
    assert_int_equal(get_int(p->a, s, IPPROTO_TCP, TCP_USER_TIMEOUT), 0);
    set_int(p->a, s, IPPROTO_TCP, TCP_USER_TIMEOUT, 1500);
    assert_int_equal(get_int(p->a, s, IPPROTO_TCP, TCP_USER_TIMEOUT), 1500);
    int neg = -1;
    assert_int_equal(synack_fd_setsockopt(p->a, s, IPPROTO_TCP, TCP_USER_TIMEOUT, &neg, sizeof neg), -1);
    assert_int_equal(errno, EINVAL);
    struct linger lg = {.l_onoff = 1, .l_linger = 0}, back;
    assert_int_equal(synack_fd_setsockopt(p->a, s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    socklen_t bl = sizeof back;
    assert_int_equal(synack_fd_getsockopt(p->a, s, SOL_SOCKET, SO_LINGER, &back, &bl), 0);
    assert_int_equal(back.l_onoff, 1);
    assert_int_equal(back.l_linger, 0);
    set_int(p->a, s, SOL_SOCKET, SO_RCVLOWAT, 10); /* the descriptor's own */
    assert_int_equal(get_int(p->a, s, SOL_SOCKET, SO_RCVLOWAT), 10);
    synack_fd_close(p->a, s);
}

/* TCP_INFO on a connection: ESTABLISHED, an MSS, an RTT once data was
 * acknowledged, the bytes; a listener says LISTEN and SO_ACCEPTCONN. */
static void tcp_info(void **state)
{
    rt_pair *p = *state;
    int l, c, s;
    connect_pair(p, 70, &l, &c, &s);
    assert_int_equal(get_int(p->b, l, SOL_SOCKET, SO_ACCEPTCONN), 1);
    assert_int_equal(write(c, "0123456789", 10), 10);
    char buf[10];
    assert_int_equal(read_full(s, buf, 10), 10);
    struct tcp_info ti;
    socklen_t tl = sizeof ti;
    for (int i = 0; i < 200; i++) { /* until the ACK is back */
        tl = sizeof ti;
        assert_int_equal(synack_fd_getsockopt(p->a, c, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
        if (ti.tcpi_bytes_acked >= 10)
            break;
        usleep(1000);
    }
    assert_int_equal(tl, sizeof ti);
    assert_int_equal(ti.tcpi_state, LINUX_TCP_ESTABLISHED);
    assert_true(ti.tcpi_snd_mss > 0);
    assert_true(ti.tcpi_bytes_acked >= 10);
    assert_true(ti.tcpi_snd_cwnd > 0);
    assert_true(ti.tcpi_rto > 0);
    assert_true(ti.tcpi_options & TCPI_OPT_TIMESTAMPS);
    tl = 8; /* a short buffer takes what fits, as Linux */
    assert_int_equal(synack_fd_getsockopt(p->a, c, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
    assert_int_equal(tl, 8);
    tl = sizeof ti;
    assert_int_equal(synack_fd_getsockopt(p->b, l, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
    assert_int_equal(ti.tcpi_state, LINUX_TCP_LISTEN);
    assert_int_equal(get_int(p->a, c, IPPROTO_TCP, TCP_MAXSEG) > 500, 1);
    synack_fd_close(p->a, c);
    synack_fd_close(p->b, s);
    synack_fd_close(p->b, l);
}

/* TCP_CONGESTION: the name in a 16-byte field as Linux, ENOENT for one
 * not known, a listener's choice carried to what it accepts. */
static void congestion(void **state)
{
    rt_pair *p = *state;
    int l = listener(p->b, 71);
    char name[16];
    socklen_t nl = sizeof name;
    assert_int_equal(synack_fd_getsockopt(p->b, l, IPPROTO_TCP, TCP_CONGESTION, name, &nl), 0);
    assert_int_equal(nl, 16);
    assert_string_equal(name, "cubic");
    assert_int_equal(synack_fd_setsockopt(p->b, l, IPPROTO_TCP, TCP_CONGESTION, "nope", 4), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(synack_fd_setsockopt(p->b, l, IPPROTO_TCP, TCP_CONGESTION, "reno", 4), 0);
    int c = synack_fd_socket(p->a, AF_INET, 0);
    struct sockaddr_in to = sin4(B_IP, 71);
    assert_int_equal(synack_fd_connect(p->a, c, SA(to), sizeof to), 0);
    int s = accept_wait(p->b, l);
    nl = sizeof name;
    assert_int_equal(synack_fd_getsockopt(p->b, s, IPPROTO_TCP, TCP_CONGESTION, name, &nl), 0);
    assert_string_equal(name, "reno");
    assert_int_equal(synack_fd_setsockopt(p->a, c, IPPROTO_TCP, TCP_CONGESTION, "reno", 5), 0);
    nl = 4; /* a short buffer takes what fits */
    memset(name, 'x', sizeof name);
    assert_int_equal(synack_fd_getsockopt(p->a, c, IPPROTO_TCP, TCP_CONGESTION, name, &nl), 0);
    assert_int_equal(nl, 4);
    assert_memory_equal(name, "renox", 5);
    /* SO_RCVBUF/SO_SNDBUF after connect are taken (and reported doubled). */
    set_int(p->a, c, SOL_SOCKET, SO_RCVBUF, 1 << 20);
    assert_int_equal(get_int(p->a, c, SOL_SOCKET, SO_RCVBUF), 2 << 20);
    set_int(p->b, s, SOL_SOCKET, SO_SNDBUF, 1 << 20);
    assert_int_equal(get_int(p->b, s, SOL_SOCKET, SO_SNDBUF), 2 << 20);
    static char big[300000];
    memset(big, 'q', sizeof big);
    assert_int_equal(write(s, big, sizeof big), (ssize_t)sizeof big);
    static char back[300000];
    assert_int_equal(read_full(c, back, sizeof back), sizeof back);
    assert_memory_equal(big, back, sizeof big);
    synack_fd_close(p->a, c);
    synack_fd_close(p->b, s);
    synack_fd_close(p->b, l);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* SO_LINGER with a time: a blocking close returns once the data and FIN
 * are acknowledged, or after the linger time when they never are. */
static void linger_waits(void **state)
{
    rt_pair *p = *state;
    int l, c, s;
    connect_pair(p, 72, &l, &c, &s);
    struct linger lg = {.l_onoff = 1, .l_linger = 2}, back;
    assert_int_equal(synack_fd_setsockopt(p->a, c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    socklen_t bl = sizeof back;
    assert_int_equal(synack_fd_getsockopt(p->a, c, SOL_SOCKET, SO_LINGER, &back, &bl), 0);
    assert_int_equal(back.l_onoff, 1);
    assert_int_equal(back.l_linger, 2);
    assert_int_equal(write(c, "bye", 3), 3);
    double t0 = now_s();
    assert_int_equal(synack_fd_close(p->a, c), 0);
    assert_true(now_s() - t0 < 1.5); /* the peer is there: acknowledged at once */
    char buf[3];
    assert_int_equal(read_full(s, buf, 3), 3);

    /* The peer's runtime stops: nothing is acknowledged any more. */
    int c2 = synack_fd_socket(p->a, AF_INET, 0);
    struct sockaddr_in to = sin4(B_IP, 72);
    assert_int_equal(synack_fd_connect(p->a, c2, SA(to), sizeof to), 0);
    int s2 = accept_wait(p->b, l);
    lg.l_linger = 1;
    assert_int_equal(synack_fd_setsockopt(p->a, c2, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    synack_rt_stop(p->b);
    assert_int_equal(write(c2, "lost", 4), 4);
    t0 = now_s();
    assert_int_equal(synack_fd_close(p->a, c2), 0);
    double took = now_s() - t0;
    assert_true(took > 0.9 && took < 3.0);
    close(s2);
    close(s);
    close(l);
}

/* A bulk sender's send buffer grows (autotuning, up to tcp_wmem[2]) as a
 * program writing through its descriptor fills it: the runtime offers the
 * connection more than fits, as the program's own writes would. */
static void send_buffer_autotunes(void **state)
{
    rt_pair *p = *state;
    int l, c, s;
    connect_pair(p, 76, &l, &c, &s);
    int before = get_int(p->a, c, SOL_SOCKET, SO_SNDBUF);
    static char buf[1 << 16];
    size_t total = 16u << 20, sent = 0, got = 0;
    fcntl(c, F_SETFL, O_NONBLOCK);
    while (got < total) {
        if (sent < total) {
            ssize_t n = write(c, buf, sizeof buf < total - sent ? sizeof buf : total - sent);
            if (n > 0)
                sent += (size_t)n;
        }
        struct pollfd pf[2] = {{.fd = s, .events = POLLIN},
                               {.fd = c, .events = sent < total ? POLLOUT : 0}};
        assert_true(poll(pf, 2, WAIT_MS) > 0);
        if (pf[0].revents & POLLIN) {
            ssize_t n = read(s, buf, sizeof buf);
            assert_true(n > 0);
            got += (size_t)n;
        }
    }
    int after = get_int(p->a, c, SOL_SOCKET, SO_SNDBUF);
    assert_true(after >= 4 * before);
    synack_fd_close(p->a, c);
    close(s);
    close(l);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* nginx's way with TCP_CORK (tcp_nopush): a byte, then cork, two writes,
 * uncork. The options are posted (fd.c), in order with every other call
 * (read back at once, they show the new value); the corked bytes wait,
 * and the uncork wakes the runtime and sends them at once: each round
 * takes a few ms, not a cork timeout (median of 9 under 25 ms). */
static void cork_rounds_go_at_once(void **state)
{
    rt_pair *p = *state;
    int l, c, s;
    connect_pair(p, 75, &l, &c, &s);
    double took[9];
    char buf[256];
    for (int round = 0; round < 9; round++) {
        double t0 = now_s();
        assert_int_equal(write(c, "x", 1), 1);
        set_int(p->a, c, IPPROTO_TCP, TCP_CORK, 1);
        assert_int_equal(get_int(p->a, c, IPPROTO_TCP, TCP_CORK), 1);
        assert_int_equal(write(c, buf, 100), 100);
        assert_int_equal(write(c, buf, 100), 100);
        usleep(5000); /* the runtime has taken them, corked, and sleeps */
        set_int(p->a, c, IPPROTO_TCP, TCP_CORK, 0);
        assert_int_equal(read_full(s, buf, 201), 201);
        took[round] = now_s() - t0;
        assert_int_equal(write(s, "k", 1), 1); /* the reply acknowledges it all */
        assert_int_equal(read_full(c, buf, 1), 1);
    }
    qsort(took, 9, sizeof took[0], cmp_double);
    assert_true(took[4] < 0.025);
    synack_fd_close(p->a, c);
    close(s);
    close(l);
}

/* TCP_USER_TIMEOUT: a peer that stops answering ends the connection with
 * ETIMEDOUT after about the time set, long before tcp_retries2 would. */
static void user_timeout(void **state)
{
    rt_pair *p = *state;
    int l, c, s;
    connect_pair(p, 73, &l, &c, &s);
    int ms = 600;
    set_int(p->a, c, IPPROTO_TCP, TCP_USER_TIMEOUT, ms);
    synack_rt_stop(p->b);
    double t0 = now_s();
    assert_int_equal(write(c, "anyone?", 7), 7);
    assert_true(wait_fd(c, POLLIN, WAIT_MS) & (POLLIN | POLLHUP | POLLERR));
    double took = now_s() - t0;
    assert_true(took > 0.5 && took < 4.0);
    char buf[8]; /* reported once, then EOF */
    assert_int_equal(synack_fd_recv(p->a, c, buf, sizeof buf, 0), -1);
    assert_int_equal(errno, ETIMEDOUT);
    assert_int_equal(synack_fd_recv(p->a, c, buf, sizeof buf, 0), 0);
    assert_int_equal(get_int(p->a, c, SOL_SOCKET, SO_ERROR), 0);
    synack_fd_close(p->a, c);
    close(s);
    close(l);
}

/* Keepalive (SO_KEEPALIVE, TCP_KEEPIDLE 1 s, TCP_KEEPINTVL 1 s,
 * TCP_KEEPCNT 2) finds a vanished peer of an idle connection: ETIMEDOUT
 * after about 3 s; the first write reports it, with no SIGPIPE. */
static void keepalive_timeout(void **state)
{
    rt_pair *p = *state;
    int l, c, s;
    connect_pair(p, 74, &l, &c, &s);
    set_int(p->a, c, SOL_SOCKET, SO_KEEPALIVE, 1);
    set_int(p->a, c, IPPROTO_TCP, TCP_KEEPIDLE, 1);
    set_int(p->a, c, IPPROTO_TCP, TCP_KEEPINTVL, 1);
    set_int(p->a, c, IPPROTO_TCP, TCP_KEEPCNT, 2);
    synack_rt_stop(p->b);
    double t0 = now_s();
    assert_true(wait_fd(c, POLLIN, 8000) & (POLLHUP | POLLERR));
    double took = now_s() - t0;
    assert_true(took > 2.5 && took < 6.0);
    assert_int_equal(synack_fd_send(p->a, c, "hi", 2, 0), -1);
    assert_int_equal(errno, ETIMEDOUT);
    synack_fd_close(p->a, c);
    close(s);
    close(l);
}

/* Nobody answers ARP for 10.0.0.99: the connect ends with EHOSTUNREACH
 * (blocking) or SO_ERROR EHOSTUNREACH (non-blocking). */
static void unreachable_host(void **state)
{
    rt_pair *p = *state;
    int c = synack_fd_socket(p->a, AF_INET, 0);
    struct sockaddr_in to = sin4(0x0a000063u, 80);
    assert_int_equal(synack_fd_connect(p->a, c, SA(to), sizeof to), -1);
    assert_int_equal(errno, EHOSTUNREACH);
    synack_fd_close(p->a, c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(plain_options, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(tcp_info, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(unreachable_host, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(congestion, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(linger_waits, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(send_buffer_autotunes, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(cork_rounds_go_at_once, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(user_timeout, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(keepalive_timeout, pair_setup, pair_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
