/* test_rt_group.c — a runtime of two members (cfg.threads = 2, issue 13:
 * every core) on a multi-queue TAP, the kernel as the peer, in a network
 * namespace this process makes for itself (needs root; skipped without).
 * 64 connections out through synack_fd_connect and 64 in through one
 * listening descriptor: every byte arrives, both members carry
 * connections both ways (each member's TcpActiveOpens and TcpPassiveOpens
 * through synack_rt_with_stack, once per member), none is refused, and
 * no frame reaches the wrong member's stack (eBPF steering or hand-over).
 * UDP datagrams from eight addresses reach the socket in member 0. */
#define _GNU_SOURCE
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synack_rt.h"

#define CONNS 64
#define BYTES 3000
#define KIP "10.88.0.1"
#define SIP "10.88.0.2"
#define WAIT_MS 5000

static short wait_fd(int fd, short events, int ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    return poll(&p, 1, ms) == 1 ? p.revents : 0;
}

/* What each member counted, in member order. */
typedef struct per_member {
    unsigned calls;
    uint64_t active[2], passive[2];
    uint64_t foreign; /* frames a member dropped as the other's */
} per_member;

static uint64_t counter(synack_stack *s, const char *name)
{
    const synack_counters *c = synack_get_counters(s);
    for (size_t i = 0; synack_counter_name(i); i++)
        if (!strcmp(synack_counter_name(i), name))
            return synack_counter_value(c, i);
    return 0;
}

static void count(void *ctx, synack_stack *s)
{
    per_member *p = ctx;
    if (p->calls < 2) {
        p->active[p->calls] = counter(s, "TcpActiveOpens");
        p->passive[p->calls] = counter(s, "TcpPassiveOpens");
    }
    p->foreign += synack_drop_count(s, SYNACK_DROP_STEER_FOREIGN);
    p->calls++;
}

static synack_rt *group_rt(void)
{
    synack_rt_config cfg;
    synack_rt_config_init(&cfg);
    cfg.device = SYNACK_RT_TAP;
    cfg.ifname = "rtg0";
    cfg.threads = 2;
    uint8_t mac[6] = {2, 0, 0, 0, 0x88, 2};
    memcpy(cfg.stack.mac, mac, 6);
    cfg.stack.ip = 0x0a580002u;
    cfg.stack.prefix_len = 24;
    char err[256] = "";
    synack_rt *rt = synack_rt_new(&cfg, err, sizeof err);
    if (!rt)
        print_error("synack_rt_new: %s\n", err);
    assert_non_null(rt);
    assert_int_equal(system("ip link set lo up && ip addr add " KIP "/24 dev rtg0 && "
                            "ip link set rtg0 up"),
                     0);
    assert_int_equal(synack_rt_start(rt), 0);
    return rt;
}

static struct sockaddr_in at(const char *ip, uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

/* Connection i's bytes: its number in every byte, so a mix-up shows. */
static void pattern(uint8_t *buf, int i)
{
    for (int k = 0; k < BYTES; k++)
        buf[k] = (uint8_t)(i * 7 + k);
}

/* Read to EOF (kernel or synack descriptor alike) and check the bytes. */
static void read_all_check(int fd)
{
    uint8_t got[BYTES + 1], want[BYTES];
    size_t n = 0;
    for (;;) {
        assert_true(wait_fd(fd, POLLIN, WAIT_MS) & (POLLIN | POLLHUP));
        ssize_t r = read(fd, got + n, sizeof got - n);
        assert_true(r >= 0);
        if (r == 0)
            break;
        n += (size_t)r;
    }
    assert_int_equal(n, BYTES);
    pattern(want, (int)got[0] * 183 % 256); /* byte 0 is 7i mod 256; 7 * 183 = 1 */
    assert_memory_equal(got, want, BYTES);
}

static void write_all(int fd, int i)
{
    uint8_t buf[BYTES];
    pattern(buf, i);
    for (size_t off = 0; off < BYTES;) {
        ssize_t w = write(fd, buf + off, BYTES - off);
        assert_true(w > 0);
        off += (size_t)w;
    }
}

static void connections_out(synack_rt *rt)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in k = at(KIP, 7000);
    assert_int_equal(bind(l, (struct sockaddr *)&k, sizeof k), 0);
    assert_int_equal(listen(l, 2 * CONNS), 0);
    for (int i = 0; i < CONNS; i++) {
        int fd = synack_fd_socket(rt, AF_INET, 0);
        assert_true(fd >= 0);
        assert_int_equal(synack_fd_connect(rt, fd, (struct sockaddr *)&k, sizeof k), 0);
        write_all(fd, i);
        assert_int_equal(synack_fd_shutdown(rt, fd, SHUT_WR), 0);
        int a = accept(l, NULL, NULL);
        assert_true(a >= 0);
        read_all_check(a);
        close(a);
        assert_int_equal(synack_fd_close(rt, fd), 0);
    }
    close(l);
}

static void connections_in(synack_rt *rt)
{
    int l = synack_fd_socket(rt, AF_INET, 0);
    struct sockaddr_in s = at(SIP, 7001);
    assert_int_equal(synack_fd_bind(rt, l, (struct sockaddr *)&s, sizeof s), 0);
    assert_int_equal(synack_fd_listen(rt, l, 2 * CONNS), 0);
    for (int i = 0; i < CONNS; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        assert_int_equal(connect(c, (struct sockaddr *)&s, sizeof s), 0);
        write_all(c, i);
        shutdown(c, SHUT_WR);
        int a = synack_fd_accept(rt, l, NULL, NULL, 0);
        assert_true(a >= 0);
        read_all_check(a);
        assert_int_equal(synack_fd_close(rt, a), 0);
        close(c);
    }
    assert_int_equal(synack_fd_close(rt, l), 0);
}

/* UDP lives in member 0 whoever the addresses hash to: datagrams from
 * eight kernel addresses (about half of them hash to member 1) all arrive,
 * and the answers go back. */
static void datagrams(synack_rt *rt)
{
    int u = synack_fd_socket_type(rt, AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in s = at(SIP, 7002);
    assert_int_equal(synack_fd_bind(rt, u, (struct sockaddr *)&s, sizeof s), 0);
    for (int i = 0; i < 8; i++) {
        char ip[24], cmd[64], buf[24];
        snprintf(ip, sizeof ip, "10.88.0.%d", 11 + i);
        snprintf(cmd, sizeof cmd, "ip addr add %s/24 dev rtg0", ip);
        assert_int_equal(system(cmd), 0);
        int k = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in from = at(ip, 0), peer;
        assert_int_equal(bind(k, (struct sockaddr *)&from, sizeof from), 0);
        assert_int_equal(sendto(k, ip, strlen(ip), 0, (struct sockaddr *)&s, sizeof s),
                         (ssize_t)strlen(ip));
        assert_true(wait_fd(u, POLLIN, WAIT_MS) & POLLIN);
        socklen_t plen = sizeof peer;
        ssize_t n = synack_fd_recvfrom(rt, u, buf, sizeof buf, 0, (struct sockaddr *)&peer, &plen);
        assert_int_equal(n, (ssize_t)strlen(ip));
        assert_memory_equal(buf, ip, (size_t)n);
        assert_int_equal(synack_fd_sendto(rt, u, "ok", 2, 0, (struct sockaddr *)&peer, plen), 2);
        assert_true(wait_fd(k, POLLIN, WAIT_MS) & POLLIN);
        assert_int_equal(recv(k, buf, sizeof buf, 0), 2);
        close(k);
    }
    assert_int_equal(synack_fd_close(rt, u), 0);
}

static void two_members_both_ways(void **state)
{
    (void)state;
    alarm(60);
    if (geteuid() != 0 || access("/dev/net/tun", F_OK) != 0 || unshare(CLONE_NEWNET) != 0) {
        print_message("skipped: needs root, /dev/net/tun and a network namespace of its own\n");
        skip();
    }
    synack_rt *rt = group_rt();
    connections_out(rt);
    connections_in(rt);
    datagrams(rt);
    per_member p = {0};
    synack_rt_with_stack(rt, count, &p);
    print_message("active opens per member %llu %llu, passive %llu %llu\n",
                  (unsigned long long)p.active[0], (unsigned long long)p.active[1],
                  (unsigned long long)p.passive[0], (unsigned long long)p.passive[1]);
    assert_int_equal(p.calls, 2);
    assert_int_equal(p.foreign, 0); /* the kernel's queue or the hand-over */
    assert_int_equal(p.active[0] + p.active[1], CONNS);
    assert_int_equal(p.passive[0] + p.passive[1], CONNS);
    assert_true(p.active[0] > 0 && p.active[1] > 0);
    assert_true(p.passive[0] > 0 && p.passive[1] > 0);
    synack_rt_free(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_members_both_ways),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
