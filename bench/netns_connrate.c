/*
 * netns_connrate.c — the plain-socket client and server behind bench/netns.sh.
 * It uses the kernel's sockets only: what it measures is the relay between
 * a namespace and the host (synack netns, pasta, slirp4netns), not itself.
 *
 *   server PORT NPORTS [LIMIT_S]      epoll on 127.0.0.1:PORT..PORT+NPORTS-1;
 *                                     echoes what it reads, closes on EOF
 *                                     (so the client closes first); exits on
 *                                     SIGTERM/SIGINT or after LIMIT_S (600)
 *   rate HOST PORT NPORTS SECS P      P threads, each: connect, write 1 byte,
 *                                     read 1 byte, close, for SECS seconds;
 *                                     connection i goes to PORT + i % NPORTS
 *                                     -> "rate CONNS_PER_S conns=N errors=E
 *                                     cpu_us=C": C is the whole machine's
 *                                     busy CPU time over the run (every
 *                                     process, the kernel's too: /proc/stat
 *                                     is not per namespace) per connection,
 *                                     in µs
 *   pingpong HOST PORT SECS           one connection, 1 byte each way until
 *                                     SECS or 1,000,000 round trips
 *                                     -> "pingpong p50=US p99=US n=N
 *                                     p90=US p95=US p999=US"
 *   hold HOST PORT NPORTS N           prints "ready", waits for a line on
 *                                     stdin, opens N connections (1 byte each
 *                                     way on each), prints "held N", keeps
 *                                     them idle until stdin ends (at most
 *                                     120 s), closes them
 *
 * Why NPORTS: the client closes first, so each of its connections stays in
 * TIME-WAIT for 60 s in the namespace, and Linux does not reuse a TIME-WAIT
 * 4-tuple towards a non-loopback address (the gateway). 28,232 ephemeral
 * ports per destination would run out within seconds at tens of thousands
 * of connections per second; spreading them over NPORTS destination ports
 * gives NPORTS times as many 4-tuples.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS 64

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

/* The most file descriptors the hard limit allows (1,000 held connections
 * and their server ends need more than a default soft limit of 1024). */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static struct sockaddr_in addr_of(const char *host, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        fprintf(stderr, "not an IPv4 address: %s\n", host);
        exit(2);
    }
    return a;
}

/* A connected socket with TCP_NODELAY, or -1. */
static int dial(const struct sockaddr_in *a)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)a, sizeof *a) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* One byte out and the same byte back: 0, or -1. */
static int exchange(int fd)
{
    char c = 'x';
    if (write(fd, &c, 1) != 1)
        return -1;
    return read(fd, &c, 1) == 1 ? 0 : -1;
}

/* ------------------------------------------------------------ server */

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int run_server(int port, int nports, double limit_s)
{
    raise_nofile();
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1");
    int listeners[MAX_PORTS];
    for (int i = 0; i < nports; i++) {
        struct sockaddr_in a = addr_of("127.0.0.1", port + i);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 4096) < 0)
            die("bind/listen");
        listeners[i] = fd;
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    printf("listening %d-%d\n", port, port + nports - 1);
    fflush(stdout);
    double end = now_s() + limit_s;
    struct epoll_event evs[256];
    while (!stop && now_s() < end) {
        int n = epoll_wait(ep, evs, 256, 200);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            int is_listener = 0;
            for (int k = 0; k < nports; k++)
                is_listener |= fd == listeners[k];
            if (is_listener) {
                int c;
                while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    int one = 1;
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event ev = {.events = EPOLLIN, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
                }
                continue;
            }
            char buf[4096];
            ssize_t r = read(fd, buf, sizeof buf);
            if (r > 0) {
                if (write(fd, buf, (size_t)r) != r) {
                    close(fd); /* a client that does not read: drop it */
                }
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                close(fd); /* after the client's FIN (or its reset) */
            }
        }
    }
    return 0;
}

/* ------------------------------------------------------------ rate */

/* The machine's busy CPU time so far, in seconds: /proc/stat's user, nice,
 * system, irq and softirq (not idle, iowait, or steal, which is time the
 * hypervisor gave to someone else). -1 when it cannot be read. */
static double machine_busy_s(void)
{
    FILE *f = fopen("/proc/stat", "r");
    unsigned long long u, n, sy, id, io, irq, sirq;
    int got = f ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu", &u, &n, &sy, &id, &io, &irq,
                         &sirq)
                : 0;
    if (f)
        fclose(f);
    long hz = sysconf(_SC_CLK_TCK);
    if (got != 7 || hz <= 0)
        return -1;
    return (double)(u + n + sy + irq + sirq) / (double)hz;
}

static struct {
    struct sockaddr_in addr[MAX_PORTS];
    int nports;
    double end;
    atomic_long next, done, errors;
} rate;

static void *rate_worker(void *arg)
{
    (void)arg;
    while (now_s() < rate.end) {
        long i = atomic_fetch_add(&rate.next, 1);
        int fd = dial(&rate.addr[i % rate.nports]);
        if (fd < 0) {
            atomic_fetch_add(&rate.errors, 1);
            continue;
        }
        if (exchange(fd) == 0)
            atomic_fetch_add(&rate.done, 1);
        else
            atomic_fetch_add(&rate.errors, 1);
        close(fd); /* the client closes first: its side keeps the TIME-WAIT */
    }
    return NULL;
}

static int run_rate(const char *host, int port, int nports, double secs, int par)
{
    rate.nports = nports;
    for (int i = 0; i < nports; i++)
        rate.addr[i] = addr_of(host, port + i);
    pthread_t th[256];
    double busy0 = machine_busy_s();
    double t0 = now_s();
    rate.end = t0 + secs;
    for (int i = 0; i < par; i++)
        pthread_create(&th[i], NULL, rate_worker, NULL);
    for (int i = 0; i < par; i++)
        pthread_join(th[i], NULL);
    double el = now_s() - t0;
    double busy1 = machine_busy_s();
    long done = atomic_load(&rate.done);
    printf("rate %.1f conns=%ld errors=%ld", (double)done / el, done, atomic_load(&rate.errors));
    if (busy0 >= 0 && busy1 >= 0 && done > 0)
        printf(" cpu_us=%.1f", (busy1 - busy0) * 1e6 / (double)done);
    printf("\n");
    return done > 0 ? 0 : 1;
}

/* ------------------------------------------------------------ pingpong */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int run_pingpong(const char *host, int port, double secs)
{
    struct sockaddr_in a = addr_of(host, port);
    int fd = dial(&a);
    if (fd < 0)
        die("connect");
    enum { MAX_SAMPLES = 1000000 };
    double *us = malloc(MAX_SAMPLES * sizeof *us);
    if (!us)
        die("malloc");
    size_t n = 0;
    double end = now_s() + secs;
    exchange(fd); /* the first round trip sets the connection up; not counted */
    while (n < MAX_SAMPLES) {
        double t = now_s();
        if (t >= end)
            break;
        if (exchange(fd) < 0)
            die("exchange");
        us[n++] = (now_s() - t) * 1e6;
    }
    close(fd);
    if (n == 0)
        return 1;
    qsort(us, n, sizeof *us, cmp_double);
    printf("pingpong p50=%.1f p99=%.1f n=%zu p90=%.1f p95=%.1f p999=%.1f\n", us[n / 2],
           us[n * 99 / 100], n, us[n * 90 / 100], us[n * 95 / 100], us[n * 999 / 1000]);
    free(us);
    return 0;
}

/* ------------------------------------------------------------ hold */

static int run_hold(const char *host, int port, int nports, int count)
{
    raise_nofile();
    struct sockaddr_in a[MAX_PORTS];
    for (int i = 0; i < nports; i++)
        a[i] = addr_of(host, port + i);
    int *fds = calloc((size_t)count, sizeof *fds);
    if (!fds)
        die("calloc");
    printf("ready\n");
    fflush(stdout);
    char line[64];
    if (!fgets(line, sizeof line, stdin))
        return 1;
    int held = 0;
    for (int i = 0; i < count; i++) {
        fds[i] = dial(&a[i % nports]);
        if (fds[i] < 0 || exchange(fds[i]) < 0) {
            fprintf(stderr, "hold: connection %d failed: %s\n", i, strerror(errno));
            break;
        }
        held++;
    }
    printf("held %d\n", held);
    fflush(stdout);
    /* Idle until stdin ends, at most 120 s. */
    struct pollfd p = {.fd = 0, .events = POLLIN};
    double end = now_s() + 120;
    while (now_s() < end && poll(&p, 1, 1000) >= 0) {
        if (p.revents && read(0, line, sizeof line) <= 0)
            break;
    }
    for (int i = 0; i < held; i++)
        close(fds[i]);
    free(fds);
    return held == count ? 0 : 1;
}

/* ------------------------------------------------------------ main */

static int nports_arg(const char *s)
{
    int n = atoi(s);
    if (n < 1 || n > MAX_PORTS) {
        fprintf(stderr, "NPORTS must be 1..%d\n", MAX_PORTS);
        exit(2);
    }
    return n;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 4 && strcmp(argv[1], "server") == 0)
        return run_server(atoi(argv[2]), nports_arg(argv[3]), argc > 4 ? atof(argv[4]) : 600);
    if (argc == 7 && strcmp(argv[1], "rate") == 0) {
        int par = atoi(argv[6]);
        if (par < 1 || par > 256)
            par = 1;
        return run_rate(argv[2], atoi(argv[3]), nports_arg(argv[4]), atof(argv[5]), par);
    }
    if (argc == 5 && strcmp(argv[1], "pingpong") == 0)
        return run_pingpong(argv[2], atoi(argv[3]), atof(argv[4]));
    if (argc == 6 && strcmp(argv[1], "hold") == 0)
        return run_hold(argv[2], atoi(argv[3]), nports_arg(argv[4]), atoi(argv[5]));
    fprintf(stderr, "usage: %s server PORT NPORTS [LIMIT_S]\n"
                    "       %s rate HOST PORT NPORTS SECS PARALLEL\n"
                    "       %s pingpong HOST PORT SECS\n"
                    "       %s hold HOST PORT NPORTS N\n",
            argv[0], argv[0], argv[0], argv[0]);
    return 2;
}
