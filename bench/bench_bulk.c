/*
 * bench_bulk.c — bulk throughput over one connection.
 *
 * synack: two stacks in this process joined by a memlink (no delay), one
 * thread; the client writes BENCH_BULK_MB MiB with synack_send, the server
 * reads it with synack_recv, memlink_pump moves the frames, the clock is the
 * real monotonic clock. Linux: a sender and a receiver thread over
 * 127.0.0.1 in a fresh network namespace with lo at the same MTU. Both
 * sides copy the data in and out through 256 KiB application buffers, and
 * both stop at the byte count or the time bound, whichever comes first.
 * Runs alternate synack / Linux so both see the same machine state.
 * Each MTU is also measured over IPv6 (synack: fd00::1 -> fd00::2; Linux:
 * ::1), printed beside IPv4 with the IPv6 / IPv4 ratio of each stack.
 * Over IPv4 synack also runs with the zero-copy calls (issue 13): the
 * client sends the application buffer by reference (synack_send_ref; the
 * buffer never changes, so no completion has to be waited for beyond the
 * references' limit), the server reads with synack_recv_view/consume, with
 * and without the offloads.
 *
 * Usage: bench_bulk [MTU ...]   (default: 1500 9000)
 */
#define _GNU_SOURCE
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define APPBUF (256u << 10)

static uint64_t total_bytes;
static double time_bound_s;
static uint32_t sock_buf;

static unsigned char appbuf_tx[APPBUF], appbuf_rx[APPBUF];

/* ------------------------------------------------------------ synack */

static int offload; /* run synack the way Linux runs lo: no checksums, 64 KiB segments */
/* The zero-copy calls: the client sends the (never changing) application
 * buffer by reference, the server reads with a view and consumes it. */
static int zerocopy;

static void tune(synack_config *cfg, void *ctx)
{
    (void)ctx;
    if (offload) {
        cfg->checksum_offload = 1;
        cfg->gso_max = 65535;
    }
    char v[64];
    snprintf(v, sizeof v, "4096 %u %u", sock_buf, sock_buf > 6291456 ? sock_buf : 6291456);
    synack_config_set(cfg, "tcp_rmem", v);
    snprintf(v, sizeof v, "4096 %u %u", sock_buf, sock_buf > 4194304 ? sock_buf : 4194304);
    synack_config_set(cfg, "tcp_wmem", v);
}

/* Gbit/s, or -1 on failure. */
static double synack_run(uint32_t mtu, int family, uint64_t *moved)
{
    bench_pair p;
    uint64_t now = bench_now_ns();
    double gbps = -1;
    synack_addr server = bench_server_addr(family);
    if (bench_pair_new_family(&p, family, mtu, tune, NULL, now) < 0) {
        fprintf(stderr, "bench_bulk: cannot make the stacks\n");
        return -1;
    }
    synack_sock *l = synack_socket(p.b), *c = synack_socket(p.a), *s = NULL;
    if (!l || !c || synack_bind(l, 5001) || synack_listen(l, 8) ||
        synack_connect_addr(c, &server, 5001)) {
        fprintf(stderr, "bench_bulk: socket setup failed\n");
        goto out;
    }
    for (int i = 0; i < 100 && !s; i++) {
        memlink_pump(p.link, bench_now_ns(), 0);
        s = synack_accept(l, NULL);
    }
    if (!s) {
        fprintf(stderr, "bench_bulk: no connection\n");
        goto out;
    }
    uint64_t sent = 0, recvd = 0;
    uint64_t t0 = bench_now_ns(), deadline = t0 + (uint64_t)(time_bound_s * 1e9), t = t0;
    size_t off = 0;
    while (recvd < total_bytes) {
        while (sent < total_bytes) {
            size_t want = APPBUF - off;
            if (want > total_bytes - sent)
                want = (size_t)(total_bytes - sent);
            ssize_t n = zerocopy ? synack_send_ref(c, appbuf_tx + off, want)
                                 : synack_send(c, appbuf_tx + off, want);
            if (n <= 0)
                break;
            sent += (uint64_t)n;
            off = (off + (size_t)n) % APPBUF;
        }
        t = bench_now_ns();
        memlink_pump(p.link, t, 0);
        for (;;) {
            synack_iov v[2];
            ssize_t n = zerocopy ? synack_recv_view(s, v) : synack_recv(s, appbuf_rx, APPBUF);
            if (zerocopy && n > 0)
                synack_recv_consume(s, (size_t)n);
            if (n <= 0) {
                if (n < 0 && n != -EAGAIN) {
                    fprintf(stderr, "bench_bulk: recv error %zd\n", n);
                    goto out;
                }
                break;
            }
            recvd += (uint64_t)n;
        }
        if (t > deadline)
            break;
    }
    t = bench_now_ns();
    *moved = recvd;
    gbps = (double)recvd * 8 / (double)(t - t0);
    const memlink_stats *st = memlink_get_stats(p.link, MEMLINK_B);
    if (st->dropped)
        fprintf(stderr, "bench_bulk: memlink dropped %llu frames\n",
                (unsigned long long)st->dropped);
out:
    bench_pair_free(&p); /* frees the sockets too */
    return gbps;
}

/* ------------------------------------------------------------ Linux */

typedef struct lrun {
    int lfd;
    uint64_t recvd;
    uint64_t t_end;
} lrun;

static void *linux_receiver(void *arg)
{
    lrun *r = arg;
    int fd = accept(r->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    for (;;) {
        ssize_t n = read(fd, appbuf_rx, APPBUF);
        if (n <= 0)
            break;
        r->recvd += (uint64_t)n;
    }
    r->t_end = bench_now_ns();
    close(fd);
    return NULL;
}

/* arg: the family (int *). */
static int linux_bulk(void *arg, double *result)
{
    int family = *(int *)arg, af = family == SYNACK_AF_INET6 ? AF_INET6 : AF_INET;
    lrun r = {0};
    struct sockaddr_storage sa;
    socklen_t salen = bench_loopback(family, 5001, &sa);
    r.lfd = socket(af, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(r.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (r.lfd < 0 || bind(r.lfd, (struct sockaddr *)&sa, salen) || listen(r.lfd, 8))
        return -1;
    pthread_t th;
    if (pthread_create(&th, NULL, linux_receiver, &r))
        return -1;
    int fd = socket(af, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, salen) < 0)
        return -1;
    uint64_t sent = 0, t0 = bench_now_ns();
    uint64_t deadline = t0 + (uint64_t)(time_bound_s * 1e9);
    while (sent < total_bytes) {
        size_t want = APPBUF;
        if (want > total_bytes - sent)
            want = (size_t)(total_bytes - sent);
        ssize_t n = write(fd, appbuf_tx, want);
        if (n <= 0)
            break;
        sent += (uint64_t)n;
        if ((sent & ((64u << 20) - 1)) < (uint64_t)n && bench_now_ns() > deadline)
            break;
    }
    close(fd);
    pthread_join(th, NULL);
    close(r.lfd);
    if (!r.recvd)
        return -1;
    *result = (double)r.recvd * 8 / (double)(r.t_end - t0);
    return 0;
}

/* One MTU in one family: synack (plain, and with offloads over IPv4) and
 * Linux, alternating; the medians of plain synack and Linux in *s and *l. */
static int measure(unsigned mtu, int family, int runs, double *s_med, double *l_med)
{
    double sv[BENCH_MAX_RUNS], lv[BENCH_MAX_RUNS], ov[BENCH_MAX_RUNS];
    double zv[BENCH_MAX_RUNS], zov[BENCH_MAX_RUNS];
    int ns = 0, nl = 0, no = 0, nz = 0, nzo = 0;
    char why[256] = "";
    for (int r = 0; r < runs; r++) {
        uint64_t moved = 0;
        offload = 0;
        double g = synack_run(mtu, family, &moved);
        if (g > 0)
            sv[ns++] = g;
        if (family == SYNACK_AF_INET) {
            offload = 1;
            g = synack_run(mtu, family, &moved);
            if (g > 0)
                ov[no++] = g;
            zerocopy = 1;
            g = synack_run(mtu, family, &moved);
            if (g > 0)
                zov[nzo++] = g;
            offload = 0;
            g = synack_run(mtu, family, &moved);
            if (g > 0)
                zv[nz++] = g;
            zerocopy = 0;
        }
        double lg;
        if (bench_linux_run(mtu, time_bound_s * 3 + 5, linux_bulk, &family, &lg, why,
                            sizeof why) == 0)
            lv[nl++] = lg;
    }
    const char *fam = bench_family_name(family), *v6 = family == SYNACK_AF_INET6 ? "6" : "";
    if (!ns) {
        printf("  MTU %u %s: synack runs failed\n", mtu, fam);
        return -1;
    }
    bench_stat s = bench_stats(sv, ns), l = bench_stats(lv, nl);
    char b1[96], b2[96], name[64];
    printf("  MTU %-5u %s synack %s Gbit/s  (every segment MTU-sized and checksummed)\n", mtu,
           fam, bench_fmt(b1, sizeof b1, s, "%.2f"));
    if (no) {
        bench_stat o = bench_stats(ov, no);
        printf("  MTU %-5u %s synack %s Gbit/s  (offloads as Linux lo: no checksum, 64 KiB GSO)\n",
               mtu, fam, bench_fmt(b1, sizeof b1, o, "%.2f"));
        snprintf(name, sizeof name, "bulk_offload_mtu%u", mtu);
        bench_line(name, o.med, "linux", l.med, nl > 0, "Gbit/s");
    }
    if (nz && nzo) {
        bench_stat z = bench_stats(zv, nz), zo = bench_stats(zov, nzo);
        printf("  MTU %-5u %s synack %s Gbit/s  (zero-copy calls: send by reference, read by view)\n",
               mtu, fam, bench_fmt(b1, sizeof b1, z, "%.2f"));
        printf("  MTU %-5u %s synack %s Gbit/s  (zero-copy calls and offloads)\n", mtu, fam,
               bench_fmt(b1, sizeof b1, zo, "%.2f"));
        snprintf(name, sizeof name, "bulk_zc_mtu%u", mtu);
        bench_line(name, z.med, "copying", s.med, 1, "Gbit/s");
        snprintf(name, sizeof name, "bulk_zc_offload_mtu%u", mtu);
        bench_line(name, zo.med, "linux", l.med, nl > 0, "Gbit/s");
    }
    if (nl)
        printf("  MTU %-5u %s linux  %s Gbit/s   ratio %.2fx\n", mtu, fam,
               bench_fmt(b2, sizeof b2, l, "%.2f"), s.med / l.med);
    else
        printf("  MTU %-5u %s linux  skipped: %s\n", mtu, fam, why);
    snprintf(name, sizeof name, "bulk%s_mtu%u", v6, mtu);
    bench_line(name, s.med, "linux", l.med, nl > 0, "Gbit/s");
    *s_med = s.med;
    *l_med = nl ? l.med : 0;
    return 0;
}

int main(int argc, char **argv)
{
    unsigned mtus[8] = {1500, 9000};
    int nmtu = 2;
    if (argc > 1) {
        nmtu = 0;
        for (int i = 1; i < argc && nmtu < 8; i++)
            mtus[nmtu++] = (unsigned)atoi(argv[i]);
    }
    total_bytes = (uint64_t)(bench_env("BENCH_BULK_MB", 2048) * 1048576.0);
    time_bound_s = bench_env("BENCH_BULK_SECONDS", 5);
    sock_buf = (uint32_t)bench_env("BENCH_BULK_SOCKBUF", 1 << 20);
    int runs = bench_runs(5);
    for (size_t i = 0; i < APPBUF; i++)
        appbuf_tx[i] = (unsigned char)(i * 131u >> 3);

    printf("bulk throughput: %.0f MiB per run (or %.0f s), %d runs per side, alternating\n",
           (double)total_bytes / 1048576.0, time_bound_s, runs);
    printf("  synack: two stacks, one thread, memlink, socket buffers %u KiB\n", sock_buf >> 10);
    printf("  linux : sender + receiver thread, 127.0.0.1 (::1), fresh netns, default sysctls\n");
    int status = 0;
    for (int m = 0; m < nmtu; m++) {
        double s4, l4, s6, l6;
        if (measure(mtus[m], SYNACK_AF_INET, runs, &s4, &l4) < 0 ||
            measure(mtus[m], SYNACK_AF_INET6, runs, &s6, &l6) < 0) {
            status = 1;
            continue;
        }
        char name[64];
        printf("  MTU %-5u IPv6 / IPv4: synack %.2fx", mtus[m], s6 / s4);
        if (l4 > 0 && l6 > 0)
            printf(", linux %.2fx", l6 / l4);
        printf("\n");
        snprintf(name, sizeof name, "bulk6_vs4_mtu%u", mtus[m]);
        bench_line(name, s6, "ipv4", s4, 1, "Gbit/s");
    }
    return status;
}
