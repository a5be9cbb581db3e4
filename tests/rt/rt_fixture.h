/* rt_fixture.h — two runtimes in one process joined by an in-process link
 * (10.0.0.1 / fd00::1 and 10.0.0.2 / fd00::2), and small helpers with
 * bounded waits. Header-only: each test binary is one .c file. Include
 * after cmocka.h. Every test runs under alarm(): a bug that blocks a call
 * kills the binary instead of hanging CI. */
#ifndef SYNACK_TEST_RT_FIXTURE_H
#define SYNACK_TEST_RT_FIXTURE_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synack_rt.h"

#define TEST_ALARM_S 30
#define WAIT_MS 5000

typedef struct rt_pair {
    synack_rt_link *link;
    synack_rt *a, *b; /* a: 10.0.0.1, b: 10.0.0.2 */
} rt_pair;

static synack_rt *fixture_rt(synack_rt_link *link, int side)
{
    synack_rt_config cfg;
    synack_rt_config_init(&cfg);
    cfg.link = link;
    cfg.link_side = side;
    uint8_t mac[6] = {2, 0, 0, 0, 0, (uint8_t)(side + 1)};
    memcpy(cfg.stack.mac, mac, 6);
    cfg.stack.ip = 0x0a000001u + (uint32_t)side;
    inet_pton(AF_INET6, side ? "fd00::2" : "fd00::1", cfg.stack.ip6);
    cfg.stack.net.dad_transmits = 0;
    cfg.stack.checksum_offload = 1;
    cfg.stack.gso_max = 65535;
    char err[256];
    synack_rt *rt = synack_rt_new(&cfg, err, sizeof err);
    assert_non_null(rt);
    assert_int_equal(synack_rt_start(rt), 0);
    return rt;
}

static int pair_setup(void **state)
{
    alarm(TEST_ALARM_S);
    rt_pair *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->link = synack_rt_link_new();
    assert_non_null(p->link);
    p->a = fixture_rt(p->link, 0);
    p->b = fixture_rt(p->link, 1);
    *state = p;
    return 0;
}

static int pair_teardown(void **state)
{
    rt_pair *p = *state;
    synack_rt_free(p->a);
    synack_rt_free(p->b);
    synack_rt_link_free(p->link);
    free(p);
    alarm(0);
    return 0;
}

static inline struct sockaddr_in sin4(uint32_t ip, uint16_t port)
{
    struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(ip)};
    return s;
}
#define A_IP 0x0a000001u
#define B_IP 0x0a000002u
#define SA(x) ((struct sockaddr *)&(x))

/* poll's revents for `fd` after at most `ms` (0 when nothing came). */
static inline short wait_fd(int fd, short events, int ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    int n = poll(&p, 1, ms);
    return n > 0 ? p.revents : 0;
}

/* A listener on `rt` at port `port` (any address). */
static inline int listener(synack_rt *rt, uint16_t port)
{
    int l = synack_fd_socket(rt, AF_INET, 0);
    assert_true(l >= 0);
    int one = 1;
    assert_int_equal(synack_fd_setsockopt(rt, l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
    struct sockaddr_in s = sin4(0, port);
    assert_int_equal(synack_fd_bind(rt, l, SA(s), sizeof s), 0);
    assert_int_equal(synack_fd_listen(rt, l, 16), 0);
    return l;
}

/* Accept on `l`, waiting at most WAIT_MS. */
static inline int accept_wait(synack_rt *rt, int l)
{
    assert_true(wait_fd(l, POLLIN, WAIT_MS) & POLLIN);
    int c = synack_fd_accept(rt, l, NULL, NULL, 0);
    assert_true(c >= 0);
    return c;
}

/* A connection from a to b:port: *cli on a, *srv on b. */
static inline void connect_pair(rt_pair *p, uint16_t port, int *lis, int *cli, int *srv)
{
    *lis = listener(p->b, port);
    *cli = synack_fd_socket(p->a, AF_INET, 0);
    assert_true(*cli >= 0);
    struct sockaddr_in to = sin4(B_IP, port);
    assert_int_equal(synack_fd_connect(p->a, *cli, SA(to), sizeof to), 0);
    *srv = accept_wait(p->b, *lis);
}

/* Read exactly `len` bytes (or to EOF), each wait bounded. */
static inline size_t read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        if (!(wait_fd(fd, POLLIN, WAIT_MS) & (POLLIN | POLLHUP | POLLERR)))
            break;
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

#endif
