/* tap_reflect.c — the TAP ceiling: a trivial reflector that reads every
 * frame from a TAP interface and writes it straight back with Ethernet and
 * IPv4 addresses and UDP ports swapped, so the kernel's UDP socket gets it.
 * No stack at all: what it moves is the most any stack on this TAP can.
 * Usage: tap_reflect IFNAME SECONDS (exits after SECONDS). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static void swap(uint8_t *a, uint8_t *b, size_t n)
{
    uint8_t t[6];
    memcpy(t, a, n);
    memcpy(a, b, n);
    memcpy(b, t, n);
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    int fd = open("/dev/net/tun", O_RDWR);
    struct ifreq r;
    memset(&r, 0, sizeof r);
    snprintf(r.ifr_name, IFNAMSIZ, "%s", argv[1]);
    r.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (fd < 0 || ioctl(fd, TUNSETIFF, &r) < 0) {
        perror("tap");
        return 1;
    }
    time_t end = time(NULL) + atoi(argv[2]);
    uint8_t f[2048];
    unsigned long n = 0, rd = 0;
    unsigned long long bytes = 0;
    struct timespec first = {0, 0}, last = {0, 0};
    fprintf(stderr, "reflecting\n");
    while (time(NULL) < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 200) <= 0)
            continue;
        ssize_t len = read(fd, f, sizeof f);
        if (len > 0) {
            if (!rd++)
                clock_gettime(CLOCK_MONOTONIC, &first);
            clock_gettime(CLOCK_MONOTONIC, &last);
            bytes += (unsigned long long)len;
        }
        /* IPv4 UDP only: swap MACs, addresses, ports (checksums stay valid) */
        if (len < 42 || f[12] != 8 || f[13] != 0 || f[23] != 17)
            continue;
        swap(f, f + 6, 6);
        swap(f + 26, f + 30, 4);
        swap(f + 34, f + 36, 2);
        if (write(fd, f, (size_t)len) == len)
            n++;
    }
    double dt = (double)(last.tv_sec - first.tv_sec) + (double)(last.tv_nsec - first.tv_nsec) / 1e9;
    fprintf(stderr, "reflected %lu frames\n", n);
    /* one way, kernel -> TAP reader: the most a stack on this TAP can take in */
    printf("%.1f\n", dt > 0 ? (double)bytes * 8 / dt / 1e6 : 0.0);
    return 0;
}
