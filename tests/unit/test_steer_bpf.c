/* test_steer_bpf.c — the kernel's steering program (src/dev/steer_bpf.c)
 * names the same member as synack_steer_owner, frame for frame: loaded
 * into this kernel and run on crafted frames with BPF_PROG_TEST_RUN.
 * Skipped where eBPF may not be loaded (not root, or no eBPF). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dev/steer_bpf.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

/* The program's answer for a frame: run in the kernel. A socket filter's
 * test run takes the first 14 bytes as the link header and starts the
 * program after them, where a TAP's or TUN's program starts at the frame:
 * so a dummy header goes first. -1 on failure. */
static int kernel_owner(int prog, const uint8_t *frame, size_t len, int link)
{
    uint8_t in[256];
    memset(in, 0, 14);
    if (link == SYNACK_LINK_ETHERNET)
        memcpy(in + 12, frame + 12, 2);
    else
        in[12] = (frame[0] >> 4) == 6 ? 0x86 : 0x08, in[13] = (frame[0] >> 4) == 6 ? 0xdd : 0;
    memcpy(in + 14, frame, len);
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.test.prog_fd = (uint32_t)prog;
    a.test.data_in = (uint64_t)(uintptr_t)in;
    a.test.data_size_in = (uint32_t)(14 + len);
    a.test.repeat = 1;
    if (syscall(SYS_bpf, BPF_PROG_TEST_RUN, &a, sizeof a) < 0)
        return -1;
    return (int)a.test.retval;
}

/* A random frame: IPv4 or IPv6, TCP or UDP, now and then an IPv4
 * fragment or IPv4 options. */
static size_t random_frame(uint8_t *f)
{
    memset(f, 0, 128);
    uint32_t r = next();
    int v6 = r & 1, udp = (r >> 1) % 4 == 0;
    size_t ip = 14, l4;
    if (!v6) {
        size_t ihl = (r >> 4) % 5 == 0 ? 24 : 20;
        f[12] = 0x08, f[13] = 0x00;
        f[ip] = (uint8_t)(0x40 | ihl / 4);
        f[ip + 9] = udp ? 17 : 6;
        if ((r >> 8) % 6 == 0)
            f[ip + 6] = 0x20; /* more fragments */
        for (int i = 12; i < 20; i++)
            f[ip + i] = (uint8_t)next();
        l4 = ip + ihl;
    } else {
        f[12] = 0x86, f[13] = 0xdd;
        f[ip] = 0x60;
        f[ip + 6] = udp ? 17 : 6;
        for (int i = 8; i < 40; i++)
            f[ip + i] = (uint8_t)next();
        l4 = ip + 40;
    }
    uint32_t ports = next();
    memcpy(f + l4, &ports, 4);
    return l4 + 20;
}

/* For frames of `link` (a TAP's or a TUN's). */
static void steers_as_synack_does(int link)
{
    if (geteuid() != 0) {
        print_message("skipped: loading eBPF needs root (CAP_BPF)\n");
        skip();
    }
    synack_steer st = {.count = 2, .key = {next() | (uint64_t)next() << 32,
                                           next() | (uint64_t)next() << 32}};
    for (uint32_t count = 2; count <= 5; count++) {
        st.count = count;
        char err[200];
        int prog = dev_steer_bpf_load(&st, link, err, sizeof err);
        if (prog < 0 && (errno == EPERM || errno == ENOSYS || errno == EINVAL) && count == 2) {
            print_message("skipped: %s\n", err);
            skip();
        }
        assert_true(prog >= 0);
        for (int i = 0; i < 2000; i++) {
            uint8_t f[128];
            size_t len = random_frame(f);
            const uint8_t *fr = link == SYNACK_LINK_IP ? f + 14 : f; /* a TUN's: no Ethernet */
            size_t flen = link == SYNACK_LINK_IP ? len - 14 : len;
            int want = synack_steer_owner(&st, link, fr, flen);
            assert_int_equal(kernel_owner(prog, fr, flen, link), want);
        }
        close(prog);
    }
}

static void a_taps_frames(void **state)
{
    (void)state;
    steers_as_synack_does(SYNACK_LINK_ETHERNET);
}

static void a_tuns_packets(void **state)
{
    (void)state;
    steers_as_synack_does(SYNACK_LINK_IP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_taps_frames),
        cmocka_unit_test(a_tuns_packets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
