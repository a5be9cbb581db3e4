/* tap_ceiling.c — the raw limit of a TAP interface on this machine, one
 * direction at a time, with no stack on the user side at all.
 *
 *   tap_ceiling rx IFNAME SECONDS DST_IP
 *       kernel -> TAP. A thread sends UDP through the kernel to DST_IP (an
 *       address on the TAP's subnet whose neighbour entry the caller made
 *       static) as cheaply as the kernel allows: 64 KiB sends split into
 *       1472-byte datagrams by UDP GSO, so every frame on the TAP is a full
 *       1514-byte frame and the sender costs one syscall per 44 frames. The
 *       main thread just reads frames from the TAP (one read per frame, as
 *       any TAP user must) and counts them.
 *   tap_ceiling tx IFNAME SECONDS
 *       TAP -> kernel. Writes full-size frames (a valid IPv4/UDP packet, 1514
 *       bytes) as fast as it can, one write per frame. They are addressed to
 *       a MAC that is not the kernel's, so the kernel takes each through the
 *       device and its receive path up to IP and drops it there: the cost of
 *       moving a frame through the TAP, with no protocol work after it.
 *
 * Prints one line: "frames=N seconds=S fps=F frame_mbit=M tcp_mbit=T" where
 * tcp_mbit = fps x 1448 x 8 / 1e6, the TCP payload those frames carry at
 * MTU 1500 with timestamps (the unit the TCP benchmarks report). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

enum { FRAME = 1514, DGRAM = 1472, GSO_SEND = 44 * DGRAM };

static atomic_int stop;
static const char *dst_ip;

static double mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int tap_open(const char *name)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct ifreq r;
    memset(&r, 0, sizeof r);
    snprintf(r.ifr_name, IFNAMSIZ, "%s", name);
    r.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (ioctl(fd, TUNSETIFF, &r) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void *udp_sender(void *arg)
{
    (void)arg;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
    inet_pton(AF_INET, dst_ip, &to.sin_addr);
    int seg = DGRAM;
    int gso = setsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof seg) == 0;
    if (!gso)
        fprintf(stderr, "tap_ceiling: no UDP GSO here; sending one datagram per call\n");
    int sndbuf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    if (connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
        perror("tap_ceiling: connect");
        return NULL;
    }
    static char payload[GSO_SEND];
    size_t len = gso ? sizeof payload : DGRAM;
    while (!atomic_load(&stop))
        (void)send(fd, payload, len, 0); /* ENOBUFS when the TAP queue is full: go on */
    close(fd);
    return NULL;
}

static void report(unsigned long long frames, unsigned long long bytes, double dt)
{
    double fps = dt > 0 ? (double)frames / dt : 0;
    printf("frames=%llu seconds=%.3f fps=%.0f frame_mbit=%.1f tcp_mbit=%.1f\n", frames, dt, fps,
           dt > 0 ? (double)bytes * 8 / dt / 1e6 : 0, fps * 1448 * 8 / 1e6);
}

static int run_rx(int fd, double seconds)
{
    pthread_t t;
    pthread_create(&t, NULL, udp_sender, NULL);
    static uint8_t f[65536];
    unsigned long long frames = 0, bytes = 0;
    double start = mono(), t0 = 0, t1 = 0;
    double warm = start + 0.3, end = start + seconds;
    while (mono() < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        for (int i = 0; i < 256; i++) {
            ssize_t n = read(fd, f, sizeof f);
            if (n <= 0)
                break;
            if (n < FRAME) /* ARP, IPv6 noise: not part of the stream */
                continue;
            double now = (frames & 63) ? t1 : mono();
            if (now < warm)
                continue;
            if (!t0)
                t0 = now;
            t1 = now;
            frames++;
            bytes += (unsigned long long)n;
        }
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    report(frames, bytes, t1 - t0);
    return 0;
}

static uint16_t ip_checksum(const uint8_t *h)
{
    uint32_t s = 0;
    for (int i = 0; i < 20; i += 2)
        s += (uint32_t)(h[i] << 8 | h[i + 1]);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static int run_tx(int fd, double seconds)
{
    uint8_t f[FRAME];
    memset(f, 0x5a, sizeof f);
    static const uint8_t dst[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x99}; /* nobody's */
    static const uint8_t src[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x98};
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = 0x08;
    f[13] = 0x00;
    uint8_t *ip = f + 14;
    memset(ip, 0, 28);
    ip[0] = 0x45;
    ip[2] = (FRAME - 14) >> 8;
    ip[3] = (FRAME - 14) & 255;
    ip[8] = 64;
    ip[9] = 17;
    const uint8_t sa[4] = {10, 77, 0, 98}, da[4] = {10, 77, 0, 99};
    memcpy(ip + 12, sa, 4);
    memcpy(ip + 16, da, 4);
    uint16_t c = ip_checksum(ip);
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
    uint8_t *udp = ip + 20;
    udp[1] = 9;
    udp[3] = 9;
    udp[4] = (FRAME - 34) >> 8;
    udp[5] = (FRAME - 34) & 255; /* checksum 0: none, valid for UDP over IPv4 */
    unsigned long long frames = 0, bytes = 0, refused = 0;
    double t0 = mono(), end = t0 + seconds, now = t0;
    while (now < end) {
        for (int i = 0; i < 64; i++) {
            if (write(fd, f, sizeof f) == (ssize_t)sizeof f) {
                frames++;
                bytes += sizeof f;
            } else {
                refused++;
            }
        }
        now = mono();
    }
    if (refused)
        fprintf(stderr, "tap_ceiling: %llu writes refused\n", refused);
    report(frames, bytes, now - t0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[1], "rx") && strcmp(argv[1], "tx")) ||
        (!strcmp(argv[1], "rx") && argc < 5)) {
        fprintf(stderr, "usage: tap_ceiling rx IFNAME SECONDS DST_IP | tx IFNAME SECONDS\n");
        return 2;
    }
    int fd = tap_open(argv[2]);
    if (fd < 0) {
        fprintf(stderr, "tap_ceiling: %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    double seconds = atof(argv[3]);
    if (seconds <= 0 || seconds > 60)
        seconds = 3;
    int rc;
    if (argv[1][0] == 'r') {
        dst_ip = argv[4];
        rc = run_rx(fd, seconds);
    } else {
        rc = run_tx(fd, seconds);
    }
    close(fd);
    return rc;
}
