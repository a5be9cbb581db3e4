/* serve.c — `synack serve`: listen on a real interface and run one of the
 * small applications (echo, discard, greet, source, http) on every
 * connection. */
#include "serve.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dev/fan.h"
#include "dev/steer_bpf.h"
#include "fmt.h"
#include "netrun.h"
#include "opts.h"

enum app { APP_ECHO, APP_DISCARD, APP_GREET, APP_SOURCE, APP_HTTP };

#define PEND_CAP 65536  /* echo / http bytes waiting for send-buffer room */
#define REQ_CAP 8192    /* one HTTP request head */
#define DRAIN_NS (300ull * 1000 * 1000)

#define MAX_THREADS 64

typedef struct conn conn;
typedef struct server server;

/* --threads N: N servers, one per thread, each with its own stack (member
 * i of a steered group) on its own queue of a multi-queue TAP or TUN. A
 * signal is caught by whichever thread sleeps; the group passes it on. */
typedef struct group {
    dev_fan *fan;
    unsigned n;
    atomic_uint signals, usr1s; /* counts caught by any member */
    atomic_int last_signal;
} group;

struct conn {
    server *sv;
    synack_sock *k;
    conn *prev, *next;
    synack_addr raddr;
    uint16_t rport;
    uint64_t t_open;
    uint64_t in, out;
    uint64_t src_left;   /* source: bytes still to send               */
    uint8_t *pend;       /* echo/http: bytes to send                  */
    size_t plen, poff;
    char *req;           /* http: request bytes not yet answered      */
    size_t rlen;
    int peer_eof;
    int close_after;     /* http: close once the pending reply is out */
    unsigned requests;
};

struct server {
    netrun net;
    enum app app;
    uint64_t source_bytes;
    uint16_t port;
    int quiet;
    unsigned max_conns;
    unsigned nconns;
    uint64_t total_conns;
    synack_sock *listener;
    conn *conns;
    int stopping;
    uint64_t stop_at;
    group *g;            /* NULL: one thread                           */
    unsigned index;      /* this member's                              */
    unsigned signals_seen, usr1s_seen;
    pthread_t th;
    int status;          /* the member's exit status                   */
};

static const char PATTERN[] = "0123456789";

static void log_end(conn *c, const char *how)
{
    server *sv = c->sv;
    if (sv->quiet)
        return;
    char peer[FMT_ENDPOINT_LEN];
    uint64_t now = dev_now();
    double secs = (double)(now - c->t_open) / 1e9;
    printf("conn %s in=%llu out=%llu time=%.3fs end=%s\n",
           fmt_addr_endpoint(&c->raddr, c->rport, peer),
           (unsigned long long)c->in, (unsigned long long)c->out, secs, how);
    fflush(stdout);
}

static void try_accept(server *sv);

/* Forget the connection; the handle is already closed or aborted. */
static void conn_free(conn *c)
{
    server *sv = c->sv;
    if (c->prev)
        c->prev->next = c->next;
    else
        sv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c->pend);
    free(c->req);
    free(c);
    sv->nconns--;
    if (!sv->stopping)
        try_accept(sv);
}

/* Graceful close: FIN after what is queued; the stack finishes the rest. */
static void conn_close(conn *c, const char *how)
{
    log_end(c, how);
    synack_sock_set_user(c->k, NULL);
    synack_close(c->k);
    conn_free(c);
}

static void conn_fail(conn *c, int err)
{
    char how[48];
    snprintf(how, sizeof how, "%s",
             err == -ECONNRESET  ? "reset"
             : err == -ETIMEDOUT ? "timeout"
                                 : fmt_errno(err));
    log_end(c, how);
    synack_sock_set_user(c->k, NULL);
    synack_abort(c->k);
    conn_free(c);
}

/* Send what is pending. Returns 1 when everything went, 0 when the send
 * buffer is full, or a negative error. */
static int flush_pending(conn *c)
{
    while (c->poff < c->plen) {
        ssize_t n = synack_send(c->k, c->pend + c->poff, c->plen - c->poff);
        if (n == -EAGAIN || n == 0)
            return 0;
        if (n < 0)
            return (int)n;
        c->poff += (size_t)n;
        c->out += (uint64_t)n;
    }
    c->plen = c->poff = 0;
    return 1;
}

/* The pattern, long enough that any 64 KiB run of it starts at one of the
 * first ten bytes: the source sends straight from here, nothing is built
 * per call (building it byte by byte, and again for every partial send,
 * cost the source ~40% of its CPU time at 1 Gbit/s). */
#define SRC_CHUNK 65536
static char src_pattern[SRC_CHUNK + 10];

/* Before any thread starts: the threads only read it. */
static void fill_pattern(void)
{
    for (size_t i = 0; i < sizeof src_pattern; i++)
        src_pattern[i] = PATTERN[i % 10];
}

static int pump_source(conn *c)
{
    while (c->src_left > 0) {
        /* the pattern continues across sends: start at out % 10 */
        size_t len = c->src_left < SRC_CHUNK ? (size_t)c->src_left : SRC_CHUNK;
        ssize_t n = synack_send(c->k, src_pattern + c->out % 10, len);
        if (n == -EAGAIN || n == 0)
            return 0;
        if (n < 0)
            return (int)n;
        c->out += (uint64_t)n;
        c->src_left -= (uint64_t)n;
    }
    return 1;
}

/* Answer the complete requests in c->req, queueing replies in c->pend. */
static void http_answer(conn *c)
{
    for (;;) {
        if (c->close_after)
            return;
        char *end = NULL;
        for (size_t i = 0; i + 3 < c->rlen; i++)
            if (!memcmp(c->req + i, "\r\n\r\n", 4)) {
                end = c->req + i + 4;
                break;
            }
        if (!end)
            return;
        size_t head = (size_t)(end - c->req);
        if (c->plen + 512 > PEND_CAP)
            return; /* wait until earlier replies have gone */
        c->req[head - 1] = '\0';
        int is_get = !strncmp(c->req, "GET ", 4);
        int http10 = strstr(c->req, " HTTP/1.0\r\n") != NULL;
        int want_close = http10, want_keep = 0;
        /* scan the header lines for Connection: */
        for (char *line = strstr(c->req, "\r\n"); line && line[2]; line = strstr(line + 2, "\r\n")) {
            char *h = line + 2;
            if (!strncasecmp(h, "Connection:", 11)) {
                char *v = h + 11;
                while (*v == ' ' || *v == '\t')
                    v++;
                if (!strncasecmp(v, "close", 5))
                    want_close = 1;
                else if (!strncasecmp(v, "keep-alive", 10))
                    want_keep = 1;
            }
        }
        if (http10 && want_keep)
            want_close = 0;
        c->requests++;
        char body[128];
        int blen = is_get ? snprintf(body, sizeof body, "Hello from synack, request %u\n", c->requests)
                          : snprintf(body, sizeof body, "only GET is served here\n");
        if (!is_get)
            want_close = 1;
        int n = snprintf((char *)c->pend + c->plen, PEND_CAP - c->plen,
                         "HTTP/1.1 %s\r\nServer: synack\r\nContent-Type: text/plain\r\n"
                         "Content-Length: %d\r\nConnection: %s\r\n\r\n%s",
                         is_get ? "200 OK" : "405 Method Not Allowed", blen,
                         want_close ? "close" : "keep-alive", body);
        c->plen += (size_t)n;
        memmove(c->req, end, c->rlen - head);
        c->rlen -= head;
        if (want_close)
            c->close_after = 1;
    }
}

/* Do everything the connection can do now. */
static void conn_pump(conn *c)
{
    for (int rounds = 0; rounds < 1024; rounds++) {
        int r = 1;
        if (c->plen)
            r = flush_pending(c);
        if (r == 1 && c->sv->app == APP_SOURCE)
            r = pump_source(c);
        if (r < 0) {
            conn_fail(c, r);
            return;
        }
        if (r == 1) {
            if (c->sv->app == APP_SOURCE && c->src_left == 0) {
                conn_close(c, c->peer_eof ? "peer-closed" : "closed");
                return;
            }
            if (c->sv->app == APP_HTTP && c->close_after) {
                conn_close(c, "closed");
                return;
            }
            if (c->peer_eof) {
                conn_close(c, "peer-closed");
                return;
            }
        }
        if (c->peer_eof)
            return; /* nothing more will come; wait for room to send */
        /* read */
        uint8_t buf[65536];
        uint8_t *dst = buf;
        size_t room = sizeof buf;
        if (c->sv->app == APP_ECHO) {
            if (c->plen)
                return; /* backpressure: leave it in the receive buffer */
            dst = c->pend;
            room = PEND_CAP;
        } else if (c->sv->app == APP_HTTP) {
            if (c->close_after || c->plen + 512 > PEND_CAP)
                return;
            if (c->rlen == REQ_CAP) {
                conn_fail(c, -EINVAL); /* request head too long */
                return;
            }
            dst = (uint8_t *)c->req + c->rlen;
            room = REQ_CAP - c->rlen;
        }
        ssize_t n = synack_recv(c->k, dst, room);
        if (n == -EAGAIN)
            return;
        if (n < 0) {
            conn_fail(c, (int)n);
            return;
        }
        if (n == 0) {
            c->peer_eof = 1;
            continue;
        }
        c->in += (uint64_t)n;
        if (c->sv->app == APP_ECHO) {
            c->plen = (size_t)n;
            c->poff = 0;
        } else if (c->sv->app == APP_HTTP) {
            c->rlen += (size_t)n;
            http_answer(c);
        }
    }
}

static void conn_open(server *sv, synack_sock *k)
{
    conn *c = calloc(1, sizeof(*c));
    if (!c || ((sv->app == APP_ECHO || sv->app == APP_HTTP) && !(c->pend = malloc(PEND_CAP))) ||
        (sv->app == APP_HTTP && !(c->req = malloc(REQ_CAP)))) {
        if (c) {
            free(c->pend);
            free(c);
        }
        synack_abort(k);
        return;
    }
    c->sv = sv;
    c->k = k;
    c->t_open = dev_now();
    synack_sock_addrs(k, NULL, NULL, &c->raddr, &c->rport);
    c->next = sv->conns;
    if (sv->conns)
        sv->conns->prev = c;
    sv->conns = c;
    sv->nconns++;
    sv->total_conns++;
    synack_sock_set_user(k, c);
    switch (sv->app) {
    case APP_GREET: {
        ssize_t n = synack_send(k, "hello\n", 6);
        if (n > 0)
            c->out += (uint64_t)n;
        conn_close(c, "closed");
        return;
    }
    case APP_SOURCE:
        c->src_left = sv->source_bytes;
        break;
    default:
        break;
    }
    conn_pump(c);
}

static void try_accept(server *sv)
{
    while (sv->listener && (!sv->max_conns || sv->nconns < sv->max_conns)) {
        int err;
        synack_sock *k = synack_accept(sv->listener, &err);
        if (!k)
            return;
        conn_open(sv, k);
    }
}

static void on_event(void *ctx, synack_sock *k, unsigned events)
{
    server *sv = ctx;
    if (k == sv->listener) {
        if (events & SYNACK_EV_ACCEPT)
            try_accept(sv);
        return;
    }
    conn *c = synack_sock_get_user(k);
    if (!c)
        return;
    if (events & SYNACK_EV_ERROR) {
        int err = synack_sock_error(k);
        if (err) {
            conn_fail(c, err);
            return;
        }
    }
    conn_pump(c);
}

static void wake_all(group *g)
{
    for (unsigned i = 0; i < g->n; i++)
        dev_fan_wake(g->fan, i);
}

/* Pass a signal to every member (each sees it once, member_signal). */
static void group_raise(group *g, int sig)
{
    atomic_store(&g->last_signal, sig);
    atomic_fetch_add(&g->signals, 1);
    wake_all(g);
}

/* A signal for this server: one it caught, or in a group one any member
 * caught (each member sees each signal once). 0 = none. */
static int member_signal(server *sv)
{
    int sig = dev_loop_signalled();
    group *g = sv->g;
    if (!g)
        return sig;
    if (sig)
        group_raise(g, sig);
    unsigned n = atomic_load(&g->signals);
    if (n == sv->signals_seen)
        return 0;
    sv->signals_seen = n;
    return atomic_load(&g->last_signal);
}

/* SIGUSR1: the counters; in a group, each member prints its own stack's. */
static void member_usr1(server *sv)
{
    group *g = sv->g;
    if (netrun_usr1()) {
        if (g) {
            atomic_fetch_add(&g->usr1s, 1);
            wake_all(g);
        } else {
            netrun_print_counters(&sv->net, stderr, "counters (SIGUSR1)");
        }
    }
    if (g && atomic_load(&g->usr1s) != sv->usr1s_seen) {
        sv->usr1s_seen = atomic_load(&g->usr1s);
        char when[64], *text = NULL;
        size_t len = 0;
        snprintf(when, sizeof when, "counters (SIGUSR1), thread %u of %u", sv->index + 1, g->n);
        FILE *m = open_memstream(&text, &len);
        if (!m)
            return;
        netrun_print_counters(&sv->net, m, when);
        fclose(m);
        fputs(text, stderr); /* one block: the members' do not interleave */
        free(text);
    }
}

static int tick(void *ctx, uint64_t now)
{
    server *sv = ctx;
    member_usr1(sv);
    int sig = member_signal(sv);
    if (sig && sv->stopping)
        return 1; /* second signal: leave at once */
    if (sig) {
        sv->stopping = 1;
        sv->stop_at = now + DRAIN_NS;
        if (!sv->quiet && sv->index == 0)
            fprintf(stderr, "synack serve: stopping (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
        if (sv->listener) {
            synack_close(sv->listener);
            sv->listener = NULL;
        }
        while (sv->conns)
            conn_close(sv->conns, "server-stopped");
    }
    return sv->stopping && now >= sv->stop_at;
}

/* Open member sv's device queue and stack and listen. 0 or -1 (printed). */
static int member_open(server *sv, const netrun_opts *o, int backlog)
{
    if (netrun_open(&sv->net, o, "serve", on_event, sv) < 0)
        return -1;
    synack_sock *l = synack_socket(sv->net.s);
    int rc = l ? synack_bind(l, sv->port) : -ENOMEM;
    if (rc == 0)
        rc = synack_listen(l, backlog);
    if (rc < 0) {
        fprintf(stderr, "synack serve: listen on port %u: %s\n", sv->port, fmt_errno(rc));
        netrun_close(&sv->net);
        return -1;
    }
    sv->listener = l;
    return 0;
}

static void *member_run(void *arg)
{
    server *sv = arg;
    sv->status = dev_loop_run(sv->net.loop, tick, sv) < 0 ? 1 : 0;
    if (sv->status)
        fprintf(stderr, "synack serve: device error: %s\n", strerror(errno));
    while (sv->conns)
        conn_close(sv->conns, "server-stopped");
    if (sv->g && sv->status) /* a member that fails takes the others along */
        group_raise(sv->g, SIGTERM);
    return NULL;
}

/* --max-conns N is the whole server's: each member takes its share. */
static void max_conns_share(server *sv, unsigned threads)
{
    if (sv->max_conns)
        sv->max_conns = (sv->max_conns + threads - 1) / threads;
}

/* The end: connections served and, with --counters, the counters, each
 * summed over the members. */
static void finish(server *svs, unsigned n, int counters)
{
    uint64_t total = 0;
    const netrun *nets[MAX_THREADS];
    for (unsigned i = 0; i < n; i++) {
        total += svs[i].total_conns;
        nets[i] = &svs[i].net;
    }
    fprintf(stderr, "synack serve: served %llu connections\n", (unsigned long long)total);
    if (n > 1) {
        uint64_t handed = 0, sent, taken;
        fprintf(stderr, "synack serve: per thread:");
        for (unsigned i = 0; i < n; i++) {
            dev_loop_fan_counts(svs[i].net.loop, &sent, &taken);
            handed += sent;
            fprintf(stderr, " %llu", (unsigned long long)svs[i].total_conns);
        }
        fprintf(stderr, " connections; frames handed over between threads: %llu\n",
                (unsigned long long)handed);
    }
    if (counters)
        netrun_print_counters_sum(nets, n, stderr, "counters at exit");
}

static void announce(const server *sv, const netrun_opts *o, unsigned threads)
{
    char ip[16], ip6[SYNACK_ADDR_TEXT] = "";
    synack_addr a6 = synack_addr_v6(o->ip6);
    if (o->ip6_set)
        synack_addr_format(&a6, ip6, sizeof ip6);
    char also[SYNACK_ADDR_TEXT + 16] = "", queues[48] = "";
    if (o->ip6_set)
        snprintf(also, sizeof also, " and [%s]:%u", ip6, sv->port);
    if (threads > 1)
        snprintf(queues, sizeof queues, " (%u queues, a thread each)", threads);
    fprintf(stderr, "synack serve: %s %s%s, listening on %s:%u%s\n",
            dev_created(sv->net.d) ? "created" : "on", dev_name(sv->net.d), queues,
            fmt_ip(o->ip, ip), sv->port, also);
}

/* Queues the interface has (rx-N in sysfs), or 0 when unknown. */
static unsigned queue_count(const char *ifname)
{
    char path[96];
    snprintf(path, sizeof path, "/sys/class/net/%s/queues", ifname);
    DIR *d = opendir(path);
    unsigned n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += !strncmp(e->d_name, "rx-", 3);
    if (d)
        closedir(d);
    return n;
}

/* Members 1.. on threads of their own, member 0 here, the kernel steering
 * by our hash meanwhile. The group's exit status. */
static int run_members(server *svs, unsigned threads, group *g, const synack_steer *st,
                       int link)
{
    char err[160];
    int steered = threads > 1 &&
                  dev_steer_bpf_attach(dev_fd(svs[0].net.d), st, link, err, sizeof err) == 0;
    if (threads > 1 && !steered)
        fprintf(stderr, "synack serve: steering by hand-over only: %s\n", err);
    unsigned started = 1;
    int failed = 0;
    for (; started < threads; started++) {
        if (pthread_create(&svs[started].th, NULL, member_run, &svs[started]) != 0) {
            fprintf(stderr, "synack serve: cannot start thread %u\n", started + 1);
            failed = 1;
            group_raise(g, SIGTERM);
            break;
        }
    }
    member_run(&svs[0]);
    int status = svs[0].status | failed;
    for (unsigned i = 1; i < started; i++) {
        pthread_join(svs[i].th, NULL);
        status |= svs[i].status;
    }
    if (steered)
        dev_steer_bpf_detach(dev_fd(svs[0].net.d));
    return status;
}

/* Serve on `threads` threads (1: this one alone, no group). */
static int serve_run(const server *tmpl, netrun_opts *o, int backlog, unsigned threads)
{
    server *svs = calloc(threads, sizeof(*svs));
    group g = {.n = threads};
    fill_pattern();
    if (!svs || (threads > 1 && !(g.fan = dev_fan_new(threads)))) {
        fprintf(stderr, "synack serve: out of memory\n");
        free(svs);
        return 1;
    }
    if (threads > 1) {
        o->steer.count = threads;
        o->fan = g.fan;
        netrun_steer_key(o->steer.key);
    }
    unsigned opened = 0;
    for (; opened < threads; opened++) {
        server *sv = &svs[opened];
        *sv = *tmpl;
        sv->index = opened;
        sv->g = threads > 1 ? &g : NULL;
        o->steer.index = opened;
        max_conns_share(sv, threads);
        if (member_open(sv, o, backlog) < 0)
            break;
    }
    int status = 1;
    unsigned queues = opened == threads && threads > 1 ? queue_count(dev_name(svs[0].net.d)) : 0;
    if (queues > threads) {
        fprintf(stderr, "synack serve: %s has %u queues, %u of them another program's: one "
                        "serve per interface\n", dev_name(svs[0].net.d), queues, queues - threads);
    } else if (opened == threads) {
        announce(&svs[0], o, threads);
        status = run_members(svs, threads, &g, &o->steer,
                             o->kind == DEV_TUN ? SYNACK_LINK_IP : SYNACK_LINK_ETHERNET);
        finish(svs, threads, o->counters);
    }
    for (unsigned i = 0; i < opened; i++)
        if (netrun_close(&svs[i].net) < 0)
            status = 1;
    dev_fan_free(g.fan);
    free(svs);
    return status;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: synack serve (--tap IF | --tun IF | --packet IF) --ip ADDR/PREFIX\n"
            "                    [--mac MAC] [--gw ADDR] --port PORT --app APP\n"
            "                    [-o net.ipv4.NAME=VALUE]... [--pcap FILE] [--trace]\n"
            "                    [--counters] [--max-conns N] [--backlog N] [--threads N]\n"
            "                    [--quiet]\n"
            "\n"
            "Serve TCP on a real interface with synack as the stack. Logs one line per\n"
            "connection to stdout (peer, bytes in and out, time, how it ended:\n"
            "closed = synack closed first, peer-closed = the peer closed first, reset,\n"
            "timeout, server-stopped). SIGINT or SIGTERM closes every connection, lets\n"
            "the FINs go out (0.3 s) and exits 0; a second signal exits at once.\n"
            "SIGUSR1 prints the stack's counters on stderr (see --counters). Exits 1\n"
            "when the device, the listen or a write (--pcap, stdout) failed, 2 on bad\n"
            "usage.\n"
            "\n"
            "server:\n"
            "  --port PORT          TCP port to listen on\n"
            "  --app APP            what to do with each connection:\n"
            "                         echo            send back every byte; when the peer\n"
            "                                         closes, flush and close\n"
            "                         discard         read and drop; close when the peer does\n"
            "                         greet           send \"hello\\n\" and close at once\n"
            "                                         (synack is the active closer and holds\n"
            "                                         TIME-WAIT)\n"
            "                         source[=BYTES]  send BYTES (default 100000; k, M, G,\n"
            "                                         KiB, MiB, GiB suffixes) of the repeating\n"
            "                                         pattern 0123456789, then close\n"
            "                         http            answer each GET with a small HTTP/1.1\n"
            "                                         200 response; keep-alive honoured,\n"
            "                                         \"Connection: close\" closes\n"
            "  --max-conns N        serve at most N connections at once; more wait in the\n"
            "                       accept queue (default: no limit)\n"
            "  --backlog N          the listen backlog: connections waiting for accept, and\n"
            "                       the SYN queue (default 4096, capped by somaxconn; beyond\n"
            "                       it SYN cookies, see tcp_syncookies)\n"
            "  --threads N          serve on N threads, each with its own stack and its own\n"
            "                       queue of a multi-queue TAP/TUN (created so, or made with\n"
            "                       `ip tuntap add ... multi_queue`): the kernel spreads\n"
            "                       connections over the queues, a frame that reaches the\n"
            "                       wrong thread is handed to the right one, and nothing\n"
            "                       else is shared (default 1; not with --packet, --pcap;\n"
            "                       --max-conns is then split evenly)\n"
            "  --quiet              no per-connection log lines\n"
            "  -h, --help           this text\n"
            "\n"
            "%s"
            "\n"
            "example (as root):\n"
            "  ip netns add demo && ip -n demo tuntap add dev tap0 mode tap\n"
            "  ip -n demo addr add 10.77.0.1/24 dev tap0 && ip -n demo link set tap0 up\n"
            "  ip netns exec demo synack serve --tap tap0 --ip 10.77.0.2/24 --port 80 --app http &\n"
            "  ip netns exec demo curl http://10.77.0.2/\n",
            NETRUN_HELP);
}

int serve_main(int argc, char **argv)
{
    server sv;
    memset(&sv, 0, sizeof sv);
    netrun_opts o;
    memset(&o, 0, sizeof o);
    int app_set = 0;
    static const char *const valued[] = {"--port", "--app", "--max-conns", "--backlog",
                                         "--threads", NULL};
    long backlog = 4096, threads_n = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int status, r = netrun_parse_common(&o, "serve", argc, argv, &i, usage, &sv.quiet,
                                            &status);
        if (r < 0)
            return status;
        if (r > 0)
            continue;
        if (i + 1 >= argc)
            return opts_usage_error("serve", a, opts_is_one_of(a, valued) ? "needs a value"
                                                                       : "unknown option");
        const char *v = argv[++i];
        long p, n;
        if (!strcmp(a, "--port")) {
            if (opts_long(v, 1, 65535, &p) < 0) {
                fprintf(stderr, "synack serve: --port %s: not a port\n", v);
                return 2;
            }
            sv.port = (uint16_t)p;
        } else if (!strcmp(a, "--app")) {
            app_set = 1;
            sv.source_bytes = 100000;
            if (!strcmp(v, "echo"))
                sv.app = APP_ECHO;
            else if (!strcmp(v, "discard"))
                sv.app = APP_DISCARD;
            else if (!strcmp(v, "greet"))
                sv.app = APP_GREET;
            else if (!strcmp(v, "http"))
                sv.app = APP_HTTP;
            else if (!strncmp(v, "source", 6) && (v[6] == '\0' || v[6] == '=')) {
                sv.app = APP_SOURCE;
                if (v[6] == '=' && netrun_parse_size(v + 7, &sv.source_bytes) < 0) {
                    fprintf(stderr, "synack serve: --app %s: bad byte count\n", v);
                    return 2;
                }
            } else {
                fprintf(stderr, "synack serve: --app %s: unknown (echo, discard, greet, "
                                "source[=BYTES], http)\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--max-conns")) {
            if (opts_long(v, 1, UINT_MAX, &n) < 0) {
                fprintf(stderr, "synack serve: --max-conns %s: not a count from 1 to %u\n", v,
                        UINT_MAX);
                return 2;
            }
            sv.max_conns = (unsigned)n;
        } else if (!strcmp(a, "--threads")) {
            if (opts_long(v, 1, MAX_THREADS, &threads_n) < 0) {
                fprintf(stderr, "synack serve: --threads %s: not a count from 1 to %d\n", v,
                        MAX_THREADS);
                return 2;
            }
        } else if (!strcmp(a, "--backlog")) {
            if (opts_long(v, 1, 65535, &backlog) < 0) {
                fprintf(stderr, "synack serve: --backlog %s: not a count from 1 to 65535\n", v);
                return 2;
            }
        } else {
            return opts_usage_error("serve", a, "unknown option");
        }
    }
    if (netrun_check(&o, "serve") < 0)
        return 2;
    if (!sv.port || !app_set) {
        fprintf(stderr, "synack serve: give --port PORT and --app APP\n");
        return 2;
    }
    unsigned threads = (unsigned)threads_n;
    if (threads > 1 && (o.kind == DEV_PACKET || o.pcap_path)) {
        fprintf(stderr, "synack serve: --threads takes --tap or --tun, and no --pcap\n");
        return 2;
    }
    dev_loop_catch_signals();
    netrun_catch_usr1();
    return serve_run(&sv, &o, (int)backlog, threads);
}
