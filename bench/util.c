/* util.c — shared benchmark helpers; see util.h. */
#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

bench_stat bench_stats(double *v, int n)
{
    bench_stat s = {0, 0, 0, n};
    if (n <= 0)
        return s;
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    s.min = v[0];
    s.max = v[n - 1];
    s.med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    return s;
}

const char *bench_fmt(char *buf, size_t len, bench_stat s, const char *numfmt)
{
    char a[32], b[32], c[32];
    snprintf(a, sizeof a, numfmt, s.med);
    snprintf(b, sizeof b, numfmt, s.min);
    snprintf(c, sizeof c, numfmt, s.max);
    snprintf(buf, len, "%s (%s-%s, n=%d)", a, b, c, s.n);
    return buf;
}

void bench_line(const char *name, double synack, const char *peer, double peer_value,
                int peer_ok, const char *unit)
{
    if (peer_ok && peer_value > 0)
        printf("bench %s synack=%.4g %s=%.4g unit=%s ratio=%.3g\n", name, synack, peer,
               peer_value, unit, synack / peer_value);
    else
        printf("bench %s synack=%.4g %s=na unit=%s ratio=na\n", name, synack, peer, unit);
    fflush(stdout);
}

double bench_env(const char *name, double def)
{
    const char *v = getenv(name);
    double d = v ? atof(v) : 0;
    return d > 0 ? d : def;
}

int bench_runs(int def)
{
    int n = (int)bench_env("BENCH_RUNS", def);
    if (n < 5 && !getenv("BENCH_QUICK"))
        n = 5;
    if (n < 1)
        n = 1;
    return n > BENCH_MAX_RUNS ? BENCH_MAX_RUNS : n;
}

/* ------------------------------------------------------------ two stacks */

static void pair_random(void *ctx, void *buf, size_t len)
{
    uint64_t *x = ctx;
    unsigned char *p = buf;
    for (size_t i = 0; i < len; i++) {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        p[i] = (unsigned char)(*x >> 32);
    }
}

synack_addr bench_server_addr(int family)
{
    static const uint8_t b6[16] = {0xfd, 0x00, [15] = 2};
    return family == SYNACK_AF_INET6 ? synack_addr_v6(b6) : synack_addr_v4(BENCH_IP_B);
}

const char *bench_family_name(int family) { return family == SYNACK_AF_INET6 ? "IPv6" : "IPv4"; }

unsigned bench_loopback(int family, uint16_t port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (family == SYNACK_AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        a->sin6_addr = in6addr_loopback;
        return sizeof *a;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sizeof *a;
}

int bench_pair_new(bench_pair *p, uint32_t mtu, void (*tune)(synack_config *, void *),
                   void *tune_ctx, uint64_t now)
{
    return bench_pair_new_family(p, SYNACK_AF_INET, mtu, tune, tune_ctx, now);
}

int bench_pair_new_family(bench_pair *p, int family, uint32_t mtu,
                          void (*tune)(synack_config *, void *), void *tune_ctx, uint64_t now)
{
    static const uint8_t mac[2][6] = {{2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}};
    const uint32_t ip[2] = {BENCH_IP_A, BENCH_IP_B};
    memset(p, 0, sizeof(*p));
    p->link = memlink_new(0);
    if (!p->link)
        return -1;
    p->rng[0] = 0x9e3779b97f4a7c15ull ^ now;
    p->rng[1] = 0xd1b54a32d192ed03ull ^ (now << 1);
    synack_stack *st[2];
    for (int i = 0; i < 2; i++) {
        synack_config cfg;
        synack_config_init(&cfg);
        memcpy(cfg.mac, mac[i], 6);
        cfg.ip = ip[i];
        cfg.mtu = mtu;
        if (family == SYNACK_AF_INET6) {
            static const uint8_t a6[16] = {0xfd, 0x00, [15] = 1};
            memcpy(cfg.ip6, a6, 16);
            cfg.ip6[15] = (uint8_t)(i + 1);
            cfg.prefix6_len = 64;
            cfg.net.dad_transmits = 0;
        }
        cfg.random = pair_random;
        cfg.random_ctx = &p->rng[i];
        memlink_config(p->link, i, &cfg);
        if (tune)
            tune(&cfg, tune_ctx);
        st[i] = synack_stack_new(&cfg, now);
        if (!st[i])
            return -1;
        memlink_attach(p->link, i, st[i]);
    }
    p->a = st[0];
    p->b = st[1];
    if (synack_arp_add(p->a, ip[1], mac[1]) || synack_arp_add(p->b, ip[0], mac[0]))
        return -1;
    return 0;
}

/* Pump until `cond` holds (at most 64 rounds: a connection over a
 * memlink needs a few). */
#define PAIR_PUMP_UNTIL(cond)                                                \
    do {                                                                     \
        int guard_ = 0;                                                      \
        while (!(cond)) {                                                    \
            if (++guard_ > 64)                                               \
                return -1;                                                   \
            memlink_pump(p->link, bench_now_ns(), 0);                        \
        }                                                                    \
    } while (0)

int bench_pair_one_connection(bench_pair *p, synack_sock *l, const synack_addr *server,
                              uint16_t port)
{
    synack_sock *c = synack_socket(p->a), *s = NULL;
    char byte;
    if (!c || synack_connect_addr(c, server, port) < 0)
        return -1;
    PAIR_PUMP_UNTIL((s = synack_accept(l, NULL)) != NULL &&
                    synack_sock_state(c) == SYNACK_ESTABLISHED);
    if (synack_send(c, "q", 1) != 1)
        return -1;
    PAIR_PUMP_UNTIL(synack_recv(s, &byte, 1) == 1);
    if (synack_send(s, "r", 1) != 1)
        return -1;
    PAIR_PUMP_UNTIL(synack_recv(c, &byte, 1) == 1);
    synack_close(c);
    PAIR_PUMP_UNTIL(synack_recv(s, &byte, 1) == 0);
    synack_close(s);
    memlink_drain(p->link, bench_now_ns(), 16);
    return 0;
}

void bench_pair_free(bench_pair *p)
{
    synack_stack_free(p->a);
    synack_stack_free(p->b);
    memlink_free(p->link);
    memset(p, 0, sizeof(*p));
}

/* ------------------------------------------------------------ Linux side */

int bench_sysctl(const char *path, const char *value)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, value, strlen(value));
    close(fd);
    return n == (ssize_t)strlen(value) ? 0 : -1;
}

static int lo_setup(unsigned mtu, char *why, size_t whylen)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        snprintf(why, whylen, "socket: %s", strerror(errno));
        return -1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    ifr.ifr_mtu = (int)mtu;
    if (ioctl(fd, SIOCSIFMTU, &ifr) < 0) {
        snprintf(why, whylen, "set lo mtu %u: %s", mtu, strerror(errno));
        close(fd);
        return -1;
    }
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 ||
        (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)) {
        snprintf(why, whylen, "set lo up: %s", strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int bench_linux_run(unsigned mtu, double timeout_s, int (*fn)(void *arg, double *result),
                    void *arg, double *result, char *why, size_t whylen)
{
    int pfd[2];
    if (getenv("BENCH_NO_PEER")) {
        snprintf(why, whylen, "BENCH_NO_PEER is set");
        return -1;
    }
    if (pipe(pfd) < 0) {
        snprintf(why, whylen, "pipe: %s", strerror(errno));
        return -1;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, whylen, "fork: %s", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        /* The child: its own network namespace (gone when it exits), lo
         * only; killed by SIGALRM if it overruns. */
        close(pfd[0]);
        alarm((unsigned)(timeout_s + 1));
        char msg[200] = "";
        double r = 0;
        int ok = 0;
        if (unshare(CLONE_NEWNET) < 0)
            snprintf(msg, sizeof msg, "unshare(CLONE_NEWNET): %s", strerror(errno));
        else if (lo_setup(mtu, msg, sizeof msg) == 0) {
            if (fn(arg, &r) == 0)
                ok = 1;
            else
                snprintf(msg, sizeof msg, "measurement failed");
        }
        char out[256];
        int n = ok ? snprintf(out, sizeof out, "ok %.17g\n", r)
                   : snprintf(out, sizeof out, "err %s\n", msg);
        if (write(pfd[1], out, (size_t)n) < 0)
            _exit(2);
        _exit(0);
    }
    close(pfd[1]);
    char buf[256];
    size_t got = 0;
    for (;;) {
        ssize_t n = read(pfd[0], buf + got, sizeof buf - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    buf[got] = 0;
    close(pfd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (strncmp(buf, "ok ", 3) == 0) {
        *result = strtod(buf + 3, NULL);
        return 0;
    }
    if (strncmp(buf, "err ", 4) == 0) {
        buf[strcspn(buf, "\n")] = 0;
        snprintf(why, whylen, "%s", buf + 4);
    } else if (WIFSIGNALED(status)) {
        snprintf(why, whylen, "child killed by signal %d (timeout %.0f s?)", WTERMSIG(status),
                 timeout_s);
    } else {
        snprintf(why, whylen, "child exited without a result");
    }
    return -1;
}
