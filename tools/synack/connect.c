/* connect.c — `synack connect`: open one or many connections from a real
 * interface, send a file or pattern bytes, take what comes back, report. */
#include "connect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "netrun.h"
#include "opts.h"

typedef struct client client;

typedef struct cconn {
    client *cl;
    synack_sock *k;
    int active;
    uint64_t sent, received;
    int shut;
    int eof;
} cconn;

struct client {
    netrun net;
    synack_addr addr;     /* --to                                        */
    uint16_t port;
    const uint8_t *data;  /* --send: the file's bytes; NULL: pattern      */
    uint64_t len;         /* bytes each connection sends                  */
    FILE *out;
    const char *out_path;
    int out_failed;       /* a write to --out failed (and was reported)   */
    int check_echo;
    int quiet;
    unsigned count, parallel;
    unsigned started, done, failed;
    uint64_t sent, received;
    uint64_t t_start, t_end, deadline;
    int first_err;        /* first failure, negative errno              */
    char first_msg[160];
    int mismatch;
    cconn *conns;         /* `parallel` slots                           */
};

static const char PATTERN[] = "0123456789";

/* --timeout's range in seconds: a millisecond to a year. */
#define TIMEOUT_MIN 0.001
#define TIMEOUT_MAX 31536000.0

static void start_one(client *cl, cconn *c);

/* Why --to cannot be a server's address (NULL: it can). */
static const char *to_problem(const netrun_opts *o, const synack_addr *a)
{
    static const uint8_t zero[16];
    if (a->family == SYNACK_AF_INET)
        return a->v4 == o->ip ? "synack's own --ip" : netrun_addr_problem(a->v4, o->ip, o->prefix);
    if (!o->ip6_set)
        return "an IPv6 address, and synack has no IPv6 --ip";
    if (memcmp(a->v6, o->ip6, 16) == 0)
        return "synack's own --ip";
    if (memcmp(a->v6, zero, 16) == 0 || a->v6[0] == 0xff)
        return "unspecified or multicast";
    if (a->v6[0] == 0xfe && (a->v6[1] & 0xc0) == 0x80)
        return "link-local (synack's TCP uses the --ip address)";
    return NULL;
}

static void finish(cconn *c, int err, const char *what)
{
    client *cl = c->cl;
    if (err) {
        cl->failed++;
        if (!cl->first_err) {
            cl->first_err = err;
            char peer[FMT_ENDPOINT_LEN];
            snprintf(cl->first_msg, sizeof cl->first_msg, "%s: %s",
                     fmt_addr_endpoint(&cl->addr, cl->port, peer), what);
        }
        synack_sock_set_user(c->k, NULL);
        synack_abort(c->k);
    } else {
        synack_sock_set_user(c->k, NULL);
        synack_close(c->k);
    }
    c->k = NULL;
    c->active = 0;
    cl->done++;
    if (cl->started < cl->count && !cl->first_err)
        start_one(cl, c);
}

static const char *err_text(int err)
{
    switch (-err) {
    case ECONNREFUSED: return "connection refused (RST in answer to SYN)";
    case ECONNRESET: return "connection reset by peer";
    case ETIMEDOUT: return "connection timed out";
    default: return fmt_errno(err);
    }
}

static void pump(cconn *c)
{
    client *cl = c->cl;
    for (int rounds = 0; rounds < 1024 && c->k; rounds++) {
        int progress = 0;
        /* send */
        while (c->sent < cl->len) {
            uint8_t chunk[16384];
            const void *p;
            size_t n = cl->len - c->sent < sizeof chunk ? (size_t)(cl->len - c->sent) : sizeof chunk;
            if (cl->data) {
                p = cl->data + c->sent;
            } else {
                for (size_t i = 0; i < n; i++)
                    chunk[i] = (uint8_t)PATTERN[(c->sent + i) % 10];
                p = chunk;
            }
            ssize_t r = synack_send(c->k, p, n);
            if (r == -EAGAIN || r == 0)
                break;
            if (r < 0) {
                finish(c, (int)r, err_text((int)r));
                return;
            }
            c->sent += (uint64_t)r;
            cl->sent += (uint64_t)r;
            progress = 1;
        }
        if (c->sent == cl->len && !c->shut) {
            c->shut = 1;
            synack_shutdown(c->k, SYNACK_SHUT_WR);
        }
        /* receive */
        uint8_t buf[65536];
        ssize_t r = synack_recv(c->k, buf, sizeof buf);
        if (r > 0) {
            if (cl->out && fwrite(buf, 1, (size_t)r, cl->out) != (size_t)r) {
                int err = errno;
                if (!cl->first_err) {
                    cl->first_err = -EIO;
                    snprintf(cl->first_msg, sizeof cl->first_msg, "--out %s: write error: %s",
                             cl->out_path, strerror(err));
                }
                cl->out_failed = 1;
                finish(c, -EIO, "");
                return;
            }
            if (cl->check_echo) {
                for (ssize_t i = 0; i < r && !cl->mismatch; i++) {
                    uint64_t off = c->received + (uint64_t)i;
                    uint8_t want = off >= cl->len ? 0
                                   : cl->data ? cl->data[off]
                                              : (uint8_t)PATTERN[off % 10];
                    if (off >= cl->len || buf[i] != want)
                        cl->mismatch = 1;
                }
            }
            c->received += (uint64_t)r;
            cl->received += (uint64_t)r;
            progress = 1;
        } else if (r == 0) {
            c->eof = 1;
        } else if (r != -EAGAIN) {
            finish(c, (int)r, err_text((int)r));
            return;
        }
        if (c->eof && c->shut) {
            if (cl->check_echo && c->received != cl->len)
                cl->mismatch = 1;
            finish(c, 0, NULL);
            return;
        }
        if (!progress)
            return;
    }
}

static void start_one(client *cl, cconn *c)
{
    memset(c, 0, sizeof(*c));
    c->cl = cl;
    c->k = synack_socket(cl->net.s);
    cl->started++;
    if (!c->k) {
        cl->done++;
        cl->failed++;
        if (!cl->first_err) {
            cl->first_err = -ENOMEM;
            snprintf(cl->first_msg, sizeof cl->first_msg, "out of memory");
        }
        return;
    }
    c->active = 1;
    synack_sock_set_user(c->k, c);
    int r = synack_connect_addr(c->k, &cl->addr, cl->port);
    if (r < 0)
        finish(c, r, fmt_errno(r));
}

static void on_event(void *ctx, synack_sock *k, unsigned events)
{
    (void)ctx;
    cconn *c = synack_sock_get_user(k);
    if (!c)
        return;
    if (events & SYNACK_EV_ERROR) {
        int err = synack_sock_error(k);
        if (err) {
            finish(c, err, err_text(err));
            return;
        }
    }
    pump(c);
}

static int tick(void *ctx, uint64_t now)
{
    client *cl = ctx;
    if (netrun_usr1())
        netrun_print_counters(&cl->net, stderr, "counters (SIGUSR1)");
    if (cl->done == cl->count || cl->first_err) {
        cl->t_end = now;
        return 1;
    }
    int sig = dev_loop_signalled();
    if (sig) {
        cl->t_end = now;
        cl->first_err = -EINTR;
        snprintf(cl->first_msg, sizeof cl->first_msg, "interrupted (%s)",
                 sig == SIGINT ? "SIGINT" : "SIGTERM");
        return 1;
    }
    if (cl->deadline && now >= cl->deadline) {
        cl->t_end = now;
        cl->first_err = -ETIMEDOUT;
        snprintf(cl->first_msg, sizeof cl->first_msg,
                 "timed out (--timeout) with %u of %u connections done", cl->done, cl->count);
        return 1;
    }
    return 0;
}

static int load_file(const char *path, uint8_t **data, uint64_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f)
        return -1;
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    for (;;) {
        if (!b)
            break;
        if (n == cap) {
            uint8_t *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    int bad = !b || ferror(f);
    if (f != stdin)
        fclose(f);
    if (bad) {
        free(b);
        errno = errno ? errno : ENOMEM;
        return -1;
    }
    *data = b;
    *len = n;
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: synack connect (--tap IF | --tun IF | --packet IF) --ip ADDR/PREFIX\n"
            "                      [--mac MAC] [--gw ADDR] --to ADDR:PORT|[ADDR6]:PORT\n"
            "                      [--send FILE | --bytes N] [--out FILE]\n"
            "                      [--count N --parallel P] [--check-echo] [--timeout SECS]\n"
            "                      [-o net.ipv4.NAME=VALUE]... [--pcap FILE] [--trace]\n"
            "                      [--counters] [--quiet]\n"
            "\n"
            "Connect to HOST:PORT with synack as the stack, like nc: send the data, then\n"
            "shut down the sending side (FIN), take everything the peer sends until it\n"
            "closes, close. Reports bytes, time and throughput on stderr. Exits 0 when\n"
            "every connection completed, 1 with a message saying which on refusal\n"
            "(RST to the SYN), reset, timeout, a data mismatch or a failed write\n"
            "(--out, --pcap), 2 on bad usage. SIGUSR1 prints the stack's counters on\n"
            "stderr (see --counters).\n"
            "\n"
            "client:\n"
            "  --to ADDR:PORT       the server (a unicast address, not synack's own); an\n"
            "                       IPv6 one in brackets, [fd77::1]:80, needs an IPv6 --ip\n"
            "  --send FILE          send the bytes of FILE (- = standard input)\n"
            "  --bytes N            send N bytes of the repeating pattern 0123456789\n"
            "                       (k, M, G, KiB, MiB, GiB suffixes); with neither\n"
            "                       option nothing is sent: FIN right after the handshake\n"
            "  --out FILE           write what arrives to FILE (- = standard output);\n"
            "                       only with a single connection\n"
            "  --count N            open N connections in all (default 1); each sends the\n"
            "                       same data\n"
            "  --parallel P         keep up to P of them open at once (default 1)\n"
            "  --check-echo         the peer is an echo server: check that each connection\n"
            "                       got back exactly the bytes it sent\n"
            "  --timeout SECS       give up after SECS seconds in all, 0.001 to 31536000\n"
            "                       (a year) (default: none; TCP's own limits,\n"
            "                       tcp_syn_retries and tcp_retries2, still apply)\n"
            "  --quiet              no report unless something fails\n"
            "  -h, --help           this text\n"
            "\n"
            "%s",
            NETRUN_HELP);
}

int connect_main(int argc, char **argv)
{
    client cl;
    memset(&cl, 0, sizeof cl);
    cl.count = 1;
    cl.parallel = 1;
    netrun_opts o;
    memset(&o, 0, sizeof o);
    const char *to = NULL, *send_path = NULL, *out_path = NULL;
    int bytes_set = 0;
    double timeout = 0;
    static const char *const valued[] = {"--to",    "--send",     "--bytes",   "--out",
                                         "--count", "--parallel", "--timeout", NULL};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int status, r = netrun_parse_common(&o, "connect", argc, argv, &i, usage, &cl.quiet,
                                            &status);
        if (r < 0)
            return status;
        if (r > 0)
            continue;
        if (!strcmp(a, "--check-echo")) {
            cl.check_echo = 1;
            continue;
        }
        if (i + 1 >= argc)
            return opts_usage_error("connect", a, opts_is_one_of(a, valued) ? "needs a value"
                                                                       : "unknown option");
        const char *v = argv[++i];
        long n;
        if (!strcmp(a, "--to")) {
            to = v;
        } else if (!strcmp(a, "--send")) {
            send_path = v;
        } else if (!strcmp(a, "--bytes")) {
            if (netrun_parse_size(v, &cl.len) < 0) {
                fprintf(stderr, "synack connect: --bytes %s: not a byte count\n", v);
                return 2;
            }
            bytes_set = 1;
        } else if (!strcmp(a, "--out")) {
            out_path = v;
        } else if (opts_is(a, "--count", "--parallel")) {
            if (opts_long(v, 1, 1000000, &n) < 0) {
                fprintf(stderr, "synack connect: %s %s: not a count from 1 to 1000000\n", a, v);
                return 2;
            }
            if (a[2] == 'c')
                cl.count = (unsigned)n;
            else
                cl.parallel = (unsigned)n;
        } else if (!strcmp(a, "--timeout")) {
            if (opts_double(v, TIMEOUT_MIN, TIMEOUT_MAX, &timeout) < 0) {
                fprintf(stderr, "synack connect: --timeout %s: not a number of seconds from "
                                "0.001 to 31536000 (a year)\n", v);
                return 2;
            }
        } else {
            return opts_usage_error("connect", a, "unknown option");
        }
    }
    if (netrun_check(&o, "connect") < 0)
        return 2;
    if (!to) {
        fprintf(stderr, "synack connect: give the server as --to ADDR:PORT\n");
        return 2;
    }
    if (synack_endpoint_parse(to, &cl.addr, &cl.port) < 0) {
        fprintf(stderr, "synack connect: --to %s: not ADDR:PORT or [ADDR6]:PORT (port 1 to "
                        "65535)\n", to);
        return 2;
    }
    const char *why = to_problem(&o, &cl.addr);
    if (why) {
        fprintf(stderr, "synack connect: --to %s: %s, not a server's address\n", to, why);
        return 2;
    }
    if (send_path && bytes_set) {
        fprintf(stderr, "synack connect: give --send or --bytes, not both\n");
        return 2;
    }
    if (out_path && cl.count > 1) {
        fprintf(stderr, "synack connect: --out needs a single connection (--count 1)\n");
        return 2;
    }
    if (cl.parallel > cl.count)
        cl.parallel = cl.count;
    uint8_t *file = NULL;
    if (send_path) {
        if (load_file(send_path, &file, &cl.len) < 0) {
            fprintf(stderr, "synack connect: --send %s: %s\n", send_path, strerror(errno));
            return 1;
        }
        cl.data = file;
    }
    if (out_path) {
        cl.out_path = out_path;
        cl.out = strcmp(out_path, "-") ? fopen(out_path, "wb") : stdout;
        if (!cl.out) {
            fprintf(stderr, "synack connect: --out %s: %s\n", out_path, strerror(errno));
            free(file);
            return 1;
        }
    }
    dev_loop_catch_signals();
    netrun_catch_usr1();
    int status = 1;
    cl.conns = calloc(cl.parallel, sizeof(cconn));
    if (!cl.conns || netrun_open(&cl.net, &o, "connect", on_event, &cl) < 0)
        goto out;
    cl.t_start = dev_now();
    if (timeout > 0)
        cl.deadline = cl.t_start + (uint64_t)(timeout * 1e9);
    for (unsigned i = 0; i < cl.parallel; i++)
        start_one(&cl, &cl.conns[i]);
    if (dev_loop_run(cl.net.loop, tick, &cl) < 0) {
        fprintf(stderr, "synack connect: device error: %s\n", strerror(errno));
        goto out;
    }
    double secs = (double)(cl.t_end - cl.t_start) / 1e9;
    if (secs <= 0)
        secs = 1e-9;
    int ok = !cl.first_err && !cl.mismatch && cl.failed == 0;
    if (!cl.quiet || !ok) {
        char peer[FMT_ENDPOINT_LEN];
        fmt_addr_endpoint(&cl.addr, cl.port, peer);
        if (cl.count == 1)
            fprintf(stderr, "synack connect: %s: sent %llu bytes, received %llu bytes in %.3f s "
                            "(%.1f Mbit/s out, %.1f Mbit/s in)\n",
                    peer, (unsigned long long)cl.sent, (unsigned long long)cl.received, secs,
                    (double)cl.sent * 8 / secs / 1e6, (double)cl.received * 8 / secs / 1e6);
        else
            fprintf(stderr, "synack connect: %s: %u of %u connections completed (%u parallel), "
                            "%u failed, in %.3f s (%.0f connections/s); sent %llu bytes, "
                            "received %llu bytes\n",
                    peer, cl.done - cl.failed, cl.count, cl.parallel, cl.failed, secs,
                    (double)(cl.done - cl.failed) / secs, (unsigned long long)cl.sent,
                    (unsigned long long)cl.received);
    }
    if (cl.first_err)
        fprintf(stderr, "synack connect: %s\n", cl.first_msg);
    if (o.counters)
        netrun_print_counters(&cl.net, stderr, "counters at exit");
    if (cl.mismatch)
        fprintf(stderr, "synack connect: data mismatch: the echo differs from what was sent\n");
    status = ok ? 0 : 1;
out:
    /* Abort what is still open so nothing lingers; closing the device ends it all. */
    for (unsigned i = 0; cl.conns && i < cl.parallel; i++)
        if (cl.conns[i].active && cl.conns[i].k) {
            synack_sock_set_user(cl.conns[i].k, NULL);
            synack_abort(cl.conns[i].k);
        }
    if (cl.net.d && netrun_close(&cl.net) < 0)
        status = 1;
    char what[300];
    snprintf(what, sizeof what, "--out %s", out_path ? out_path : "");
    if (cl.out_failed) { /* said already (for stdout too: status 1 keeps main quiet) */
        if (cl.out != stdout)
            fclose(cl.out);
        status = 1;
    } else if (opts_close_output(cl.out, "connect", what) < 0) {
        status = 1;
    }
    free(cl.conns);
    free(file);
    return status;
}
