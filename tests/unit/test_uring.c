/* test_uring.c — a TAP read and written in io_uring batches (src/dev/uring.c)
 * keeps every frame, in order, both ways; and so does the one-frame-per-call
 * path it falls back to (SYNACK_NO_IO_URING=1). Runs in a network namespace
 * of its own (unshare), with a TAP the device creates there; skipped where
 * that is not allowed (not root) or io_uring is not available. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dev/dev.h"
#include "dev/uring.h"
#include "wire/wire.h"

#define PORT 9009
#define FRAMES 300

static int in_own_netns; /* 1: unshare worked */
/* Each test's TAP has a subnet of its own (10.9.N.0/24), so one that fails
 * and leaves its TAP behind does not take the next one's frames. */
static char KERNEL_IP[16], OUR_IP[16], BCAST_IP[16];

static void use_subnet(int n)
{
    snprintf(KERNEL_IP, sizeof KERNEL_IP, "10.9.%d.1", n);
    snprintf(OUR_IP, sizeof OUR_IP, "10.9.%d.2", n);
    snprintf(BCAST_IP, sizeof BCAST_IP, "10.9.%d.255", n);
}

/* The kernel's address on the TAP. */
static void set_address(const char *ifname)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq r;
    memset(&r, 0, sizeof r);
    snprintf(r.ifr_name, IFNAMSIZ, "%s", ifname);
    struct sockaddr_in *a = (struct sockaddr_in *)&r.ifr_addr;
    a->sin_family = AF_INET;
    inet_pton(AF_INET, KERNEL_IP, &a->sin_addr);
    assert_int_equal(ioctl(s, SIOCSIFADDR, &r), 0);
    inet_pton(AF_INET, "255.255.255.0", &a->sin_addr);
    assert_int_equal(ioctl(s, SIOCSIFNETMASK, &r), 0);
    close(s);
}

static dev *open_tap(const char *ifname)
{
    char err[256];
    dev *d = dev_open_flags(DEV_TAP, ifname, 0, err, sizeof err);
    if (!d)
        fail_msg("dev_open_flags: %s", err);
    set_address(ifname);
    return d;
}

/* The sequence number of our test datagram in an Ethernet frame, or -1. */
static long seq_of(const uint8_t *f, size_t len)
{
    if (len < 14 + 20 + 8 + 4 || f[12] != 0x08 || f[13] != 0x00 || f[14 + 9] != 17)
        return -1;
    const uint8_t *udp = f + 14 + (f[14] & 15) * 4;
    if ((udp[2] << 8 | udp[3]) != PORT)
        return -1;
    uint32_t v;
    memcpy(&v, udp + 8, 4);
    return (long)v;
}

/* Kernel -> TAP: broadcast datagrams 0..FRAMES-1 in bursts of varying
 * size, read back with dev_recv; every one must come, in order. */
static void check_reads_in_order(dev *d)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(PORT)};
    inet_pton(AF_INET, BCAST_IP, &to.sin_addr);
    uint32_t sent = 0;
    long want = 0;
    for (int burst = 1; sent < FRAMES; burst = burst % 70 + 7) {
        for (int i = 0; i < burst && sent < FRAMES; i++, sent++)
            assert_int_equal(sendto(s, &sent, 4, 0, (struct sockaddr *)&to, sizeof to), 4);
        const uint8_t *frames[DEV_BATCH];
        size_t lens[DEV_BATCH];
        int n;
        while ((n = dev_recv(d, frames, lens, DEV_BATCH)) > 0) {
            for (int i = 0; i < n; i++) {
                long q = seq_of(frames[i], lens[i]);
                if (q < 0)
                    continue; /* IPv6 autoconfiguration and the like */
                assert_int_equal(q, want);
                want++;
            }
        }
        assert_int_equal(n, 0);
    }
    assert_int_equal(want, FRAMES);
    close(s);
}

static uint32_t host_ip(const char *text)
{
    struct in_addr a;
    inet_pton(AF_INET, text, &a);
    return ntohl(a.s_addr);
}

/* An Ethernet/IPv4/UDP frame from us to the kernel's socket, carrying q
 * (UDP checksum 0: none, allowed over IPv4). */
static size_t build_frame(uint8_t *f, const uint8_t kmac[6], uint32_t q)
{
    static const uint8_t ours[6] = {0x02, 0, 10, 9, 0xee, 2};
    memcpy(f, kmac, 6);
    memcpy(f + 6, ours, 6);
    f[12] = 0x08;
    f[13] = 0x00;
    uint8_t *ip = f + 14, *udp = ip + WIRE_IPV4_HDR_LEN;
    assert_int_equal(wire_ipv4_emit(ip, WIRE_IPV4_HDR_LEN, host_ip(OUR_IP), host_ip(KERNEL_IP),
                                    WIRE_IPPROTO_UDP, 64, 1, WIRE_UDP_HDR_LEN + 4),
                     WIRE_IPV4_HDR_LEN);
    assert_int_equal(wire_udp_emit_header(udp, WIRE_UDP_HDR_LEN, 9999, PORT, 4), WIRE_UDP_HDR_LEN);
    memcpy(udp + WIRE_UDP_HDR_LEN, &q, 4);
    return 14 + WIRE_IPV4_HDR_LEN + WIRE_UDP_HDR_LEN + 4;
}

/* TAP -> kernel: frames queued with dev_send in bursts, flushed; the
 * kernel's socket must receive 0..FRAMES-1 in order. */
static void check_writes_in_order(dev *d)
{
    uint8_t kmac[6];
    assert_int_equal(dev_hwaddr(d, kmac), 0);
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), buf = 1 << 20;
    setsockopt(s, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons(PORT)};
    inet_pton(AF_INET, KERNEL_IP, &at.sin_addr);
    assert_int_equal(bind(s, (struct sockaddr *)&at, sizeof at), 0);
    uint32_t sent = 0, want = 0;
    for (int burst = 1; sent < FRAMES; burst = burst % 70 + 5) {
        for (int i = 0; i < burst && sent < FRAMES; i++, sent++) {
            uint8_t f[64];
            dev_send(d, f, build_frame(f, kmac, sent));
        }
        dev_flush(d);
        uint32_t q;
        while (recv(s, &q, sizeof q, 0) == 4) {
            assert_int_equal(q, want);
            want++;
        }
    }
    assert_int_equal(want, FRAMES);
    assert_int_equal(dev_get_stats(d)->tx_dropped, 0);
    close(s);
}

static int setup(void **state)
{
    (void)state;
    in_own_netns = geteuid() == 0 && unshare(CLONE_NEWNET) == 0;
    return 0;
}

static void both_ways(const char *ifname, int subnet, const char *no_uring)
{
    use_subnet(subnet);
    if (!in_own_netns) {
        print_message("skipped: not root, or no network namespace of our own to make a TAP in\n");
        skip();
    }
    if (no_uring)
        setenv("SYNACK_NO_IO_URING", no_uring, 1);
    else
        unsetenv("SYNACK_NO_IO_URING");
    dev *d = open_tap(ifname);
    int batched = no_uring ? 0 : 1;
    assert_int_equal(dev_batched(d), batched); /* the path under test is the one taken */
    check_reads_in_order(d);
    check_writes_in_order(d);
    assert_int_equal(dev_batched(d), batched); /* and it was not dropped on the way */
    dev_close(d);
}

static void uring_keeps_order_both_ways(void **state)
{
    (void)state;
    dev_uring *u = dev_uring_new(8);
    if (!u) {
        print_message("skipped: io_uring is not available here (the fallback test covers the device)\n");
        skip();
    }
    dev_uring_free(u);
    both_ways("utest0", 0, NULL);
}

static void one_per_call_keeps_order_both_ways(void **state)
{
    (void)state;
    both_ways("utest1", 1, "1");
}

static void env_turns_uring_off(void **state)
{
    (void)state;
    setenv("SYNACK_NO_IO_URING", "1", 1);
    assert_null(dev_uring_new(8));
    unsetenv("SYNACK_NO_IO_URING");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uring_keeps_order_both_ways),
        cmocka_unit_test(one_per_call_keeps_order_both_ways),
        cmocka_unit_test(env_turns_uring_off),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
