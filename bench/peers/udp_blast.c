/* udp_blast.c — the kernel's side of the TAP ceiling: one thread sends
 * 1472-byte UDP datagrams to HOST:PORT with sendmmsg as fast as it can,
 * another counts what the reflector sends back to the same socket.
 * Usage: udp_blast HOST PORT SECONDS; prints the Mbit/s that came back. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { BATCH = 64, SIZE = 1472 };
static int fd;
static atomic_int stop;
static unsigned long long got;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *rx(void *arg)
{
    (void)arg;
    static char buf[BATCH][2048];
    struct mmsghdr m[BATCH];
    struct iovec v[BATCH];
    while (!atomic_load(&stop)) {
        for (int i = 0; i < BATCH; i++) {
            v[i].iov_base = buf[i];
            v[i].iov_len = sizeof buf[i];
            memset(&m[i].msg_hdr, 0, sizeof m[i].msg_hdr);
            m[i].msg_hdr.msg_iov = &v[i];
            m[i].msg_hdr.msg_iovlen = 1;
        }
        struct timespec to = {0, 200000000};
        int n = recvmmsg(fd, m, BATCH, MSG_WAITFORONE, &to);
        for (int i = 0; i < n; i++)
            got += m[i].msg_len;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    struct sockaddr_in to = me;
    inet_pton(AF_INET, argv[1], &to.sin_addr);
    int big = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    struct timeval tv = {0, 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (bind(fd, (struct sockaddr *)&me, sizeof me) < 0 ||
        connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
        perror("udp");
        return 1;
    }
    pthread_t t;
    pthread_create(&t, NULL, rx, NULL);
    static char payload[SIZE];
    struct mmsghdr m[BATCH];
    struct iovec v = {payload, SIZE};
    for (int i = 0; i < BATCH; i++) {
        memset(&m[i].msg_hdr, 0, sizeof m[i].msg_hdr);
        m[i].msg_hdr.msg_iov = &v;
        m[i].msg_hdr.msg_iovlen = 1;
    }
    double t0 = now(), end = t0 + atof(argv[3]);
    while (now() < end)
        sendmmsg(fd, m, BATCH, 0);
    double dt = now() - t0;
    usleep(300000);
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    printf("%.1f\n", (double)got * 8 / dt / 1e6);
    return 0;
}
