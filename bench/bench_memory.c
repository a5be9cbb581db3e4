/*
 * bench_memory.c — memory per idle established connection, everything
 * counted, beside Linux's measured the same way; and per TIME-WAIT entry.
 *
 * synack: the program is linked with -Wl,--wrap=malloc,calloc,realloc,free
 * so every allocation libsynack makes goes through a counting wrapper that
 * keeps the live byte count (bytes requested; glibc adds 8-16 bytes of
 * chunk header per block, shown apart). Two stacks over a memlink open
 * N connections (BENCH_MEM_CONNS, default 20000) and keep them open:
 *   idle = (live bytes after - before) / (2N)       [both ends are counted]
 * Then every connection exchanges a 100-byte request and reply, read by
 * the application and acknowledged, and is measured again ("after use"):
 * buffers come with data and go when empty, so both figures are the record,
 * its share of the hash table and timer heap, and (after use) the stacks'
 * few spare buffers spread over all connections.
 * Then every client closes first and the servers close on EOF: the clients
 * hold N TIME-WAIT entries and the servers free everything:
 *   TIME-WAIT = (live bytes after - before) / N
 *
 * Linux, in a network namespace of its own: BENCH_MEM_LINUX_CONNS (default
 * 5000) loopback connections, both ends held by this process, after the same
 * exchange; the growth of the kernel's slab memory (Slab in /proc/meminfo:
 * struct tcp_sock, the socket inode, file, dentry, ...) plus the pages
 * sockstat charges to TCP buffers, per socket. /proc/meminfo is the whole
 * machine's, so run on a quiet one; the object sizes of the TCP and
 * tw_sock_TCP slab caches are printed beside it.
 */
#define _GNU_SOURCE
#include "util.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ counting allocator */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);

static long long live_bytes, live_blocks;
#define HDR 16 /* keeps 16-byte alignment */

void *__wrap_malloc(size_t n)
{
    unsigned char *p = __real_malloc(n + HDR);
    if (!p)
        return NULL;
    memcpy(p, &n, sizeof n);
    live_bytes += (long long)n;
    live_blocks++;
    return p + HDR;
}

void *__wrap_calloc(size_t n, size_t m)
{
    if (m && n > ((size_t)-1 - HDR) / m)
        return NULL;
    size_t sz = n * m;
    unsigned char *p = __real_calloc(1, sz + HDR);
    if (!p)
        return NULL;
    memcpy(p, &sz, sizeof sz);
    live_bytes += (long long)sz;
    live_blocks++;
    return p + HDR;
}

void __wrap_free(void *q)
{
    if (!q)
        return;
    unsigned char *p = (unsigned char *)q - HDR;
    size_t n;
    memcpy(&n, p, sizeof n);
    live_bytes -= (long long)n;
    live_blocks--;
    __real_free(p);
}

void *__wrap_realloc(void *q, size_t n)
{
    if (!q)
        return __wrap_malloc(n);
    unsigned char *p = (unsigned char *)q - HDR;
    size_t old;
    memcpy(&old, p, sizeof old);
    unsigned char *r = __real_realloc(p, n + HDR);
    if (!r)
        return NULL;
    memcpy(r, &n, sizeof n);
    live_bytes += (long long)n - (long long)old;
    return r + HDR;
}

/* ------------------------------------------------------------ synack */

static void tune(synack_config *cfg, void *ctx)
{
    (void)ctx;
    synack_config_set(cfg, "ip_local_port_range", "1024 65535");
}

typedef struct result {
    double est, est_blocks, used, tw, tw_blocks;
    long n;
} result;

#define REQ 100

/* Each client sends REQ bytes, each server reads them and answers REQ
 * bytes, each client reads them; then the ACKs settle. */
static void exchange(bench_pair *p, synack_sock **cli, synack_sock **srv, long n, uint64_t *now)
{
    static char buf[REQ];
    for (long i = 0; i < n; i++)
        if (synack_send(cli[i], buf, REQ) != REQ)
            fprintf(stderr, "bench_memory: request %ld not sent\n", i);
    memlink_drain(p->link, *now += 1000, 0);
    for (long i = 0; i < n; i++)
        if (synack_recv(srv[i], buf, REQ) != REQ || synack_send(srv[i], buf, REQ) != REQ)
            fprintf(stderr, "bench_memory: server %ld did not answer\n", i);
    memlink_drain(p->link, *now += 1000, 0);
    for (long i = 0; i < n; i++)
        if (synack_recv(cli[i], buf, REQ) != REQ)
            fprintf(stderr, "bench_memory: reply %ld missing\n", i);
    memlink_drain(p->link, *now += 200000000ull, 0); /* past the delayed ACKs */
}

/* with_data: each connection carries a request and a reply before it
 * closes (the established figures); without, the TIME-WAIT figure, which
 * then holds no buffers the exchange left behind: the stacks keep emptied
 * rings for reuse (up to 64, at most tcp_rmem[2] + tcp_wmem[2] bytes), a
 * bounded cache that would count as TIME-WAIT's cost otherwise. */
static int synack_measure(long n, result *out, int with_data)
{
    bench_pair p;
    uint64_t now = 1000000000ull; /* a fake clock: nothing here is timed */
    if (bench_pair_new(&p, 1500, tune, NULL, now) < 0)
        return -1;
    synack_sock *l = synack_socket(p.b);
    if (!l || synack_bind(l, 80) || synack_listen(l, 4096))
        return -1;
    synack_sock **cli = malloc(sizeof(*cli) * (size_t)n), **srv = malloc(sizeof(*srv) * (size_t)n);
    if (!cli || !srv)
        return -1;
    memlink_drain(p.link, now, 0);
    long long base = live_bytes, base_blocks = live_blocks;
    long got = 0;
    for (long i = 0; i < n; i++) {
        cli[i] = synack_socket(p.a);
        if (!cli[i] || synack_connect(cli[i], BENCH_IP_B, 80) < 0)
            return -1;
        memlink_drain(p.link, now += 1000, 0);
        synack_sock *s;
        while ((s = synack_accept(l, NULL)))
            srv[got++] = s;
    }
    if (got != n) {
        fprintf(stderr, "bench_memory: %ld of %ld connections established\n", got, n);
        return -1;
    }
    out->est = (double)(live_bytes - base) / (2.0 * (double)n);
    out->est_blocks = (double)(live_blocks - base_blocks) / (2.0 * (double)n);
    if (with_data)
        exchange(&p, cli, srv, n, &now);
    out->used = (double)(live_bytes - base) / (2.0 * (double)n);
    /* Close: clients first (they keep TIME-WAIT), servers on EOF. */
    for (long i = 0; i < n; i++)
        synack_close(cli[i]);
    memlink_drain(p.link, now += 1000, 0);
    char b;
    for (long i = 0; i < n; i++) {
        if (synack_recv(srv[i], &b, 1) != 0)
            fprintf(stderr, "bench_memory: server %ld saw no EOF\n", i);
        synack_close(srv[i]);
    }
    memlink_drain(p.link, now += 1000, 0);
    const synack_counters *ca = synack_get_counters(p.a);
    if (ca->tcp_time_waited != (uint64_t)n)
        fprintf(stderr, "bench_memory: %llu TIME-WAIT entries, expected %ld\n",
                (unsigned long long)ca->tcp_time_waited, n);
    out->tw = (double)(live_bytes - base) / (double)n;
    out->tw_blocks = (double)(live_blocks - base_blocks) / (double)n;
    out->n = n;
    free(cli);
    free(srv);
    bench_pair_free(&p);
    return 0;
}

/* ------------------------------------------------------------ Linux */

/* A number from a "Name: value" line of a /proc file; -1 if missing. */
static long proc_value(const char *path, const char *name)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[256];
    long v = -1;
    size_t len = strlen(name);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, name, len) == 0 && sscanf(line + len, " %ld", &v) == 1)
            break;
    fclose(f);
    return v;
}

/* Pages charged to TCP buffers ("mem" on the TCP line of sockstat). */
static long sockstat_tcp_mem(void)
{
    FILE *f = fopen("/proc/net/sockstat", "r");
    if (!f)
        return -1;
    char line[256];
    long mem = -1;
    while (fgets(line, sizeof line, f)) {
        char *m = strncmp(line, "TCP:", 4) == 0 ? strstr(line, " mem ") : NULL;
        if (m)
            mem = strtol(m + 5, NULL, 10);
    }
    fclose(f);
    return mem;
}

static int linux_idle(void *arg, double *per_socket)
{
    long n = *(long *)arg;
    struct rlimit rl = {(rlim_t)(2 * n + 64), (rlim_t)(2 * n + 64)};
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -1;
    int *fds = malloc(sizeof(int) * 2 * (size_t)n);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(80)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (!fds || l < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) || listen(l, 4096))
        return -1;
    long slab0 = proc_value("/proc/meminfo", "Slab:"), mem0 = sockstat_tcp_mem();
    char buf[REQ] = {0};
    for (long i = 0; i < n; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof sa) < 0)
            return -1;
        int a = accept(l, NULL, NULL);
        if (a < 0 || write(c, buf, REQ) != REQ || read(a, buf, REQ) != REQ ||
            write(a, buf, REQ) != REQ || read(c, buf, REQ) != REQ)
            return -1;
        fds[2 * i] = c;
        fds[2 * i + 1] = a;
    }
    usleep(300000); /* past the delayed ACKs */
    long slab1 = proc_value("/proc/meminfo", "Slab:"), mem1 = sockstat_tcp_mem();
    if (slab0 < 0 || slab1 < 0)
        return -1;
    double bytes = (double)(slab1 - slab0) * 1024.0 + (double)(mem1 - mem0) * 4096.0;
    *per_socket = bytes / (2.0 * (double)n);
    for (long i = 0; i < 2 * n; i++)
        close(fds[i]);
    free(fds);
    return 0;
}

/* objsize column of /proc/slabinfo for cache `name`; -1 if unreadable. */
static long slab_objsize(const char *name)
{
    FILE *f = fopen("/proc/slabinfo", "r");
    if (!f)
        return -1;
    char line[512], nm[128];
    long active, num, objsize = -1;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%127s %ld %ld %ld", nm, &active, &num, &objsize) == 4 &&
            strcmp(nm, name) == 0) {
            fclose(f);
            return objsize;
        }
        objsize = -1;
    }
    fclose(f);
    return -1;
}

int main(void)
{
    long n = (long)bench_env("BENCH_MEM_CONNS", 20000);
    long ln = (long)bench_env("BENCH_MEM_LINUX_CONNS", 5000);
    int runs = bench_runs(5);
    double est[BENCH_MAX_RUNS], used[BENCH_MAX_RUNS], tw[BENCH_MAX_RUNS], lx[BENCH_MAX_RUNS];
    result r = {0};
    int ok = 0, lok = 0;
    char why[200] = "";
    for (int i = 0; i < runs; i++) {
        result q = {0};
        if (synack_measure(n, &r, 1) == 0 && synack_measure(n, &q, 0) == 0) {
            est[ok] = r.est;
            used[ok] = r.used;
            tw[ok] = q.tw;
            r.tw_blocks = q.tw_blocks;
            ok++;
        }
        double v;
        if (bench_linux_run(1500, 60, linux_idle, &ln, &v, why, sizeof why) == 0)
            lx[lok++] = v;
    }
    if (!ok) {
        printf("memory: synack measurement failed\n");
        return 1;
    }
    bench_stat se = bench_stats(est, ok), su = bench_stats(used, ok), st = bench_stats(tw, ok);
    bench_stat sl = lok ? bench_stats(lx, lok) : (bench_stat){0};
    long ltcp = slab_objsize("TCP"), ltw = slab_objsize("tw_sock_TCP");
    char b[96];
    printf("memory per connection: %ld synack connections (counting allocator, bytes requested), "
           "%ld Linux ones, %d runs\n", n, ln, ok);
    printf("  idle established, buffers included: synack %s B in %.1f blocks (+%.0f B glibc chunk headers)\n",
           bench_fmt(b, sizeof b, se, "%.0f"), r.est_blocks, r.est_blocks * 8);
    printf("  after a 100-byte request and reply:  synack %s B\n", bench_fmt(b, sizeof b, su, "%.0f"));
    if (lok)
        printf("  idle established, after the same exchange: linux %s B (slab growth + sockstat mem, per socket)\n",
               bench_fmt(b, sizeof b, sl, "%.0f"));
    else
        printf("  linux: not measured (%s)\n", why);
    printf("  TIME-WAIT entry:                     synack %s B in %.1f blocks (+%.0f B glibc chunk headers)\n",
           bench_fmt(b, sizeof b, st, "%.0f"), r.tw_blocks, r.tw_blocks * 8);
    if (ltcp > 0)
        printf("  linux slab objsize: TCP %ld B, tw_sock_TCP %ld B (/proc/slabinfo)\n", ltcp, ltw);
    bench_line("mem_established", su.med, "linux", sl.med, lok > 0, "bytes");
    bench_line("mem_timewait", st.med, "linux", (double)ltw, ltw > 0, "bytes");
    return 0;
}
