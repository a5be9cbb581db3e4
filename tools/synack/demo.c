/* demo.c — `synack demo` scenarios (see demo.h). */
#include "demo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "json.h"
#include "opts.h"

#define CLIENT_IP 0x0a000001u /* 10.0.0.1 */
#define SERVER_IP 0x0a000002u /* 10.0.0.2 */
#define ROUTER_IP 0x0a0000feu /* 10.0.0.254: the path-mtu scenario's router */
#define ROUTER_IP6 "fd00::fe"  /* the same router over IPv6 */
#define PATH_MTU6 1280         /* IPv6 links take no less (RFC 8200 §5) */
#define SERVER_PORT 80
#define SIMOPEN_CLIENT_PORT 40001
#define RUN_LIMIT_NS (600ull * SIM_SEC)

static const char REQUEST[] = "GET / HTTP/1.0\r\n\r\n";
static const char REPLY[] = "HTTP/1.0 200 OK\r\nContent-Length: 13\r\n\r\nHello, world\n";

/* ------------------------------------------------------------ scenarios */

enum { AFTER_NOTHING = 0, AFTER_SHUTDOWN, AFTER_CLOSE };

/* What one side's application does. */
typedef struct plan {
    size_t tx_len;        /* bytes to send (REQUEST/REPLY or a pattern)          */
    int tx_text;          /* 1: REQUEST (client) / REPLY (server); 0: pattern     */
    size_t tx_after_rx;   /* start sending once this many bytes arrived           */
    int after_send;       /* AFTER_*: once everything is queued                   */
    int close_on_eof;     /* close when the peer's FIN has been read              */
    size_t close_after_rx;/* close once this many bytes arrived (0 = never)       */
    size_t chunk;         /* > 0: release the data `chunk` bytes every `every_ns` */
    uint64_t every_ns;
} plan;

typedef enum scen_id {
    SC_LIFECYCLE,
    SC_SIMOPEN,
    SC_SIMCLOSE,
    SC_HALFCLOSE,
    SC_REFUSED,
    SC_LOSSY,
    SC_PMTU,
    SC_COUNT
} scen_id;

typedef struct scenario {
    demo_scenario_info info;
    uint64_t seed;
    double loss;
    int listener;          /* the server listens (else: it connects or is absent) */
    int server_connects;   /* simultaneous open                                   */
    uint64_t close_both_at;/* > 0: both close at this time                        */
    uint32_t path_mtu;     /* > 0: a router on the client's way to the server takes
                              packets this large at most, and says so (ICMP); over
                              IPv6 PATH_MTU6 (ICMPv6 packet too big)              */
    plan p[2];
    const char *summary6;  /* the summary over IPv6 when it differs               */
} scenario;

static const scenario SCENARIOS[SC_COUNT] = {
    [SC_LIFECYCLE] = {
        {"lifecycle", "handshake, a request and a reply, the client closes first, "
                      "TIME-WAIT runs out (2 x MSL) to CLOSED"},
        1, 0.0, 1, 0, 0, 0,
        {{.tx_len = sizeof REQUEST - 1, .tx_text = 1, .close_after_rx = sizeof REPLY - 1},
         {.tx_len = sizeof REPLY - 1, .tx_text = 1, .tx_after_rx = sizeof REQUEST - 1,
          .close_on_eof = 1}}},
    [SC_SIMOPEN] = {
        {"simultaneous-open", "both sides connect to each other at once: SYN-SENT -> "
                              "SYN-RECEIVED -> ESTABLISHED on both"},
        1, 0.0, 0, 1, 0, 0,
        {{.tx_len = sizeof REQUEST - 1, .tx_text = 1, .close_after_rx = sizeof REPLY - 1},
         {.tx_len = sizeof REPLY - 1, .tx_text = 1, .tx_after_rx = sizeof REQUEST - 1,
          .close_on_eof = 1}}},
    [SC_SIMCLOSE] = {
        {"simultaneous-close", "both sides close at the same instant: FIN-WAIT-1 -> "
                               "CLOSING -> TIME-WAIT on both"},
        1, 0.0, 1, 0, 100 * SIM_MS, 0,
        {{.tx_len = sizeof REQUEST - 1, .tx_text = 1},
         {.tx_len = sizeof REPLY - 1, .tx_text = 1, .tx_after_rx = sizeof REQUEST - 1}}},
    [SC_HALFCLOSE] = {
        {"half-close", "the client sends a request and shuts down its write side; the "
                       "server keeps sending for a while, then closes"},
        1, 0.0, 1, 0, 0, 0,
        {{.tx_len = sizeof REQUEST - 1, .tx_text = 1, .after_send = AFTER_SHUTDOWN,
          .close_on_eof = 1},
         {.tx_len = 5 * 1000, .tx_after_rx = sizeof REQUEST - 1, .after_send = AFTER_CLOSE,
          .chunk = 1000, .every_ns = 40 * SIM_MS}}},
    [SC_REFUSED] = {
        {"refused", "connect to a port nobody listens on: RST, ECONNREFUSED"},
        1, 0.0, 0, 0, 0, 0,
        {{.tx_len = 0}, {.tx_len = 0}}},
    [SC_LOSSY] = {
        {"lossy", "25% loss each way: retransmissions and RTO backoff while a few KB "
                  "go each way"},
        7, 0.25, 1, 0, 0, 0,
        {{.tx_len = 3000, .close_after_rx = 6000},
         {.tx_len = 6000, .tx_after_rx = 3000, .close_on_eof = 1}}},
    [SC_PMTU] = {
        {"path-mtu", "a router on the way takes only 1000-byte packets: it drops the "
                     "full-size segments and says 'fragmentation needed'; the client "
                     "resends at the path's size (RFC 1191)"},
        1, 0.0, 1, 0, 0, 1000,
        {{.tx_len = 4000, .after_send = AFTER_CLOSE},
         {.tx_len = 0, .close_on_eof = 1}},
        "a router on the way takes only 1280-byte packets (IPv6's minimum MTU): it "
        "drops the full-size segments and says 'packet too big'; the client resends at "
        "the path's size (RFC 8201)"},
};

const demo_scenario_info *demo_scenarios(size_t *count) {
    static demo_scenario_info infos[SC_COUNT];
    for (int i = 0; i < SC_COUNT; i++)
        infos[i] = SCENARIOS[i].info;
    if (count)
        *count = SC_COUNT;
    return infos;
}

/* ------------------------------------------------------------ the run */

typedef struct demo demo;

typedef struct peer {
    demo *d;
    int idx;             /* DEMO_CLIENT / DEMO_SERVER */
    sim_host *host;
    const plan *pl;
    synack_sock *k;      /* the connection (NULL once closed) */
    synack_sock *listener;
    uint8_t *tx;
    size_t tx_off, tx_limit;
    int tx_started, after_done;
    uint8_t *rx;
    size_t rx_cap;
    ladder_track track;
    demo_side *res;
} peer;

struct demo {
    const scenario *sc;
    const demo_options *opt;
    int family;          /* SYNACK_AF_INET, or SYNACK_AF_INET6 with --ipv6 */
    sim *s;
    peer p[2];
    ladder *lad;
    FILE *json;
    demo_result *res;
};

static void note(demo *d, int side, const char *fmt_text) {
    if (d->lad)
        ladder_note(d->lad, sim_now(d->s), side, fmt_text);
}

static void peer_close(peer *p) {
    if (!p->k)
        return;
    note(p->d, p->idx, "close()");
    synack_sock *k = p->k;
    p->k = NULL;
    synack_close(k);
}

static void peer_error(peer *p, int err) {
    if (!p->res->error)
        p->res->error = err;
    char text[64];
    snprintf(text, sizeof text, "error: %s", fmt_errno(err));
    note(p->d, p->idx, text);
}

static void pump(peer *p);

static void release_more(void *ctx) {
    peer *p = ctx;
    p->tx_limit += p->pl->chunk;
    if (p->tx_limit > p->pl->tx_len)
        p->tx_limit = p->pl->tx_len;
    if (p->tx_limit < p->pl->tx_len)
        sim_at_host(p->host, sim_now(p->d->s) + p->pl->every_ns, release_more, p);
    pump(p);
}

static void start_sending(peer *p) {
    p->tx_started = 1;
    if (p->pl->chunk) {
        p->tx_limit = 0;
        release_more(p);
    } else {
        p->tx_limit = p->pl->tx_len;
    }
}

static void pump(peer *p) {
    synack_sock *k = p->k;
    if (!k)
        return;
    /* read everything there is */
    for (;;) {
        uint8_t buf[2048];
        ssize_t n = synack_recv(k, buf, sizeof buf);
        if (n > 0) {
            size_t at = (size_t)p->res->app_received;
            for (ssize_t i = 0; i < n && at + (size_t)i < p->rx_cap; i++)
                p->rx[at + (size_t)i] = buf[i];
            p->res->app_received += (uint64_t)n;
            continue;
        }
        if (n == 0) {
            p->res->eof = 1;
            break;
        }
        if (n != -EAGAIN) {
            peer_error(p, (int)n);
            peer_close(p);
            return;
        }
        break;
    }
    if (!p->tx_started && p->pl->tx_len && p->res->connected &&
        p->res->app_received >= p->pl->tx_after_rx)
        start_sending(p);
    while (p->tx_started && p->tx_off < p->tx_limit) {
        ssize_t n = synack_send(k, p->tx + p->tx_off, p->tx_limit - p->tx_off);
        if (n <= 0) {
            if (n != -EAGAIN) {
                peer_error(p, (int)n);
                peer_close(p);
                return;
            }
            break;
        }
        p->tx_off += (size_t)n;
        p->res->app_sent += (uint64_t)n;
    }
    if (p->tx_started && p->tx_off == p->pl->tx_len && !p->after_done) {
        p->after_done = 1;
        if (p->pl->after_send == AFTER_SHUTDOWN) {
            note(p->d, p->idx, "shutdown(SHUT_WR)");
            int rc = synack_shutdown(k, SYNACK_SHUT_WR);
            if (rc < 0)
                peer_error(p, rc);
        } else if (p->pl->after_send == AFTER_CLOSE) {
            peer_close(p);
            return;
        }
    }
    if ((p->res->eof && p->pl->close_on_eof) ||
        (p->pl->close_after_rx && p->res->app_received >= p->pl->close_after_rx))
        peer_close(p);
}

static void on_event(void *ctx, synack_sock *k, unsigned events) {
    peer *p = ctx;
    if (p->listener && k == p->listener) {
        if (!(events & SYNACK_EV_ACCEPT))
            return;
        for (;;) {
            int err = 0;
            synack_sock *c = synack_accept(k, &err);
            if (!c)
                break;
            if (p->k) { /* one connection per demo: refuse extras */
                synack_abort(c);
                continue;
            }
            p->k = c;
            p->res->connected = 1;
            synack_sock_set_user(c, p);
            pump(p);
        }
        return;
    }
    if (!p->k || k != p->k)
        return;
    if (events & SYNACK_EV_CONNECTED)
        p->res->connected = 1;
    if (events & SYNACK_EV_ERROR) {
        int err = synack_sock_error(k);
        if (err) {
            peer_error(p, err);
            peer_close(p);
            return;
        }
    }
    pump(p);
}

/* Over IPv6 a side binds to its IPv6 address, so its sockets (the listener
 * too) are IPv6 only and every trace names that address; over IPv4 to the
 * port alone, as before. */
static int bind_local(const peer *p, synack_sock *k, uint16_t port) {
    if (p->d->family == SYNACK_AF_INET6)
        return synack_bind_addr(k, &p->res->addr, port);
    return synack_bind(k, port);
}

static void connect_peer(peer *p, uint16_t bind_port, const peer *to, uint16_t port) {
    synack_sock *k = synack_socket(sim_host_stack(p->host));
    if (!k) {
        peer_error(p, -ENOMEM);
        return;
    }
    p->k = k;
    synack_sock_set_user(k, p);
    int rc = bind_port ? bind_local(p, k, bind_port) : 0;
    if (rc == 0)
        rc = synack_connect_addr(k, &to->res->addr, port);
    if (rc < 0) {
        peer_error(p, rc);
        peer_close(p);
    }
}

static void start(void *ctx) {
    demo *d = ctx;
    peer *c = &d->p[DEMO_CLIENT], *s = &d->p[DEMO_SERVER];
    if (d->sc->listener) {
        synack_sock *l = synack_socket(sim_host_stack(s->host));
        if (!l || bind_local(s, l, SERVER_PORT) < 0 || synack_listen(l, 16) < 0) {
            peer_error(s, -EINVAL);
            if (l)
                synack_close(l);
        } else {
            s->listener = l;
            synack_sock_set_user(l, s);
        }
    }
    if (d->sc->server_connects) {
        connect_peer(c, SIMOPEN_CLIENT_PORT, s, SERVER_PORT);
        connect_peer(s, SERVER_PORT, c, SIMOPEN_CLIENT_PORT);
    } else {
        connect_peer(c, 0, s, SERVER_PORT);
    }
}

static void close_both(void *ctx) {
    demo *d = ctx;
    peer_close(&d->p[DEMO_CLIENT]);
    peer_close(&d->p[DEMO_SERVER]);
}

static void on_trace(void *ctx, const sim_trace *t) {
    demo *d = ctx;
    if (d->lad)
        ladder_observe(d->lad, t);
    if (d->json)
        json_write_trace(d->json, t);
    if (t->kind == SIM_TRACE_LINK && t->link_event == SIM_LINK_DROP_MTU && d->sc->path_mtu) {
        char text[64];
        if (d->family == SYNACK_AF_INET6)
            snprintf(text, sizeof text, "router: too big for MTU %u, ICMPv6 packet too big",
                     PATH_MTU6);
        else
            snprintf(text, sizeof text, "router: too big for MTU %u, ICMP frag. needed",
                     d->sc->path_mtu);
        note(d, t->host_index, text);
    }
    if (t->kind != SIM_TRACE_STACK || t->ev->kind != SYNACK_TRACE_STATE)
        return;
    int idx = t->host_index;
    if (idx < 0 || idx > 1)
        return;
    peer *p = &d->p[idx];
    if (!ladder_track_event(&p->track, t->ev))
        return;
    demo_side *r = p->res;
    if (r->nstates < DEMO_MAX_STATES)
        r->states[r->nstates++] = t->ev->new_state;
    r->final_state = t->ev->new_state;
    if (t->ev->new_state != SYNACK_LISTEN && t->ev->local_port)
        r->port = t->ev->local_port;
}

static const scenario *find_scenario(const char *name) {
    if (!name)
        return &SCENARIOS[SC_LIFECYCLE];
    for (int i = 0; i < SC_COUNT; i++)
        if (strcmp(SCENARIOS[i].info.name, name) == 0)
            return &SCENARIOS[i];
    return NULL;
}

static int apply_sysctls(const demo_options *o, synack_config *cfg, char *err, size_t errlen) {
    for (size_t i = 0; i < o->nsysctl; i++)
        if (opts_knob_apply(cfg, o->sysctl[i], err, errlen) < 0)
            return -1;
    return 0;
}

static void fill_tx(peer *p) {
    const plan *pl = p->pl;
    p->tx = calloc(1, pl->tx_len ? pl->tx_len : 1);
    if (!p->tx)
        return;
    if (pl->tx_text) {
        memcpy(p->tx, p->idx == DEMO_CLIENT ? REQUEST : REPLY, pl->tx_len);
    } else {
        /* printable, position-dependent, different each way */
        for (size_t i = 0; i < pl->tx_len; i++)
            p->tx[i] = (uint8_t)('a' + (i * (p->idx ? 7u : 3u) + i / 26u) % 26u);
        for (size_t i = 63; i < pl->tx_len; i += 64)
            p->tx[i] = '\n';
    }
}

int demo_visited(const demo_side *side, int state) {
    for (int i = 0; i < side->nstates; i++)
        if (side->states[i] == state)
            return 1;
    return 0;
}

/* Join client and server: the scenario's loss both ways and, for path-mtu,
 * a router on the client's way that answers in the run's family. */
static int link_hosts(demo *d) {
    const demo_options *o = d->opt;
    const scenario *sc = d->sc;
    sim_link_params lp = sim_link_params_default();
    lp.delay_ns = o->delay_ns ? o->delay_ns : 5 * SIM_MS;
    lp.loss = o->loss_set ? o->loss : sc->loss;
    sim_link_params to_server = lp;
    if (sc->path_mtu && d->family == SYNACK_AF_INET6) {
        synack_addr router;
        synack_addr_parse(ROUTER_IP6, &router);
        to_server.mtu = PATH_MTU6;
        memcpy(to_server.mtu_icmp_from6, router.v6, 16);
    } else if (sc->path_mtu) {
        to_server.mtu = sc->path_mtu;
        to_server.mtu_icmp_from = ROUTER_IP;
    }
    return sim_link(d->s, d->p[0].host, d->p[1].host, &to_server, &lp);
}

int demo_run(const demo_options *o, demo_result *res, char *err, size_t errlen) {
    memset(res, 0, sizeof *res);
    const scenario *sc = find_scenario(o->scenario);
    if (!sc) {
        snprintf(err, errlen, "unknown scenario '%s' (see synack demo --help)", o->scenario);
        return -1;
    }
    synack_config cfg;
    synack_config_init(&cfg);
    if (apply_sysctls(o, &cfg, err, errlen) < 0)
        return -1;

    demo d;
    memset(&d, 0, sizeof d);
    d.sc = sc;
    d.opt = o;
    d.family = o->ipv6 ? SYNACK_AF_INET6 : SYNACK_AF_INET;
    d.res = res;
    res->scenario = sc->info.name;
    res->seed = o->seed_set ? o->seed : sc->seed;

    int rc = -1;
    d.s = sim_new(res->seed);
    if (!d.s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    sim_set_ipv6(d.s, o->ipv6);
    if (o->pcap_path && sim_set_pcap(d.s, o->pcap_path) < 0) {
        snprintf(err, errlen, "--pcap %s: %s", o->pcap_path, strerror(errno));
        goto out;
    }
    if (o->json_path) {
        d.json = strcmp(o->json_path, "-") == 0 ? stdout : fopen(o->json_path, "w");
        if (!d.json) {
            snprintf(err, errlen, "--json %s: %s", o->json_path, strerror(errno));
            goto out;
        }
    }
    const char *names[2] = {"client", "server"};
    const uint32_t ips[2] = {CLIENT_IP, SERVER_IP};
    for (int i = 0; i < 2; i++) {
        peer *p = &d.p[i];
        p->d = &d;
        p->idx = i;
        p->pl = &sc->p[i];
        p->res = &res->side[i];
        snprintf(p->res->name, sizeof p->res->name, "%s", names[i]);
        p->res->final_state = SYNACK_CLOSED;
        ladder_track_init(&p->track);
        p->host = sim_add_host(d.s, names[i], ips[i], &cfg);
        if (!p->host) {
            snprintf(err, errlen, "cannot create the %s's stack", names[i]);
            goto out;
        }
        p->res->addr = sim_host_addr(p->host, d.family);
        sim_host_set_event(p->host, on_event, p);
        fill_tx(p);
        p->rx_cap = sc->p[!i].tx_len;
        p->rx = calloc(1, p->rx_cap ? p->rx_cap : 1);
        if (!p->tx || !p->rx) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    d.lad = ladder_new(0, 1);
    sim_set_trace(d.s, on_trace, &d);

    if (link_hosts(&d) < 0) {
        snprintf(err, errlen, "cannot link the hosts");
        goto out;
    }
    sim_at(d.s, 0, start, &d);
    if (sc->close_both_at)
        sim_at(d.s, sc->close_both_at, close_both, &d);

    res->idle = sim_run_idle(d.s, RUN_LIMIT_NS);
    res->end_ns = sim_now(d.s);
    res->link = *sim_get_stats(d.s);
    for (int i = 0; i < 2; i++) {
        peer *p = &d.p[i];
        demo_side *r = p->res;
        const peer *q = &d.p[!i];
        r->data_ok = r->app_received == q->pl->tx_len &&
                     (q->pl->tx_len == 0 || memcmp(p->rx, q->tx, q->pl->tx_len) == 0);
        r->counters = *synack_get_counters(sim_host_stack(p->host));
        if (d.lad)
            ladder_stats(d.lad, i, &r->wire);
    }
    if (d.lad) {
        synack_addr addr[2];
        uint16_t port[2];
        ladder_endpoints(d.lad, addr, port);
        for (int i = 0; i < 2; i++)
            if (port[i])
                res->side[i].port = port[i];
    }
    if (o->out && d.lad) {
        const char *summary = o->ipv6 && sc->summary6 ? sc->summary6 : sc->info.summary;
        fprintf(o->out, "synack demo %s%s (seed %llu): %s\n\n", sc->info.name,
                o->ipv6 ? " --ipv6" : "", (unsigned long long)res->seed, summary);
        ladder_render(d.lad, o->out, &o->style);
        fputc('\n', o->out);
        demo_print_summary(o->out, res);
    }
    rc = 0;
out:
    sim_set_trace(d.s, NULL, NULL);
    errno = 0;
    if (d.s && o->pcap_path && sim_set_pcap(d.s, NULL) < 0 && rc == 0) {
        snprintf(err, errlen, "--pcap %s: write error: %s", o->pcap_path,
                 errno ? strerror(errno) : "an earlier write failed");
        rc = -1;
    }
    sim_free(d.s);
    ladder_free(d.lad);
    char why[128];
    if (opts_close_file(d.json, why, sizeof why) < 0 && rc == 0) {
        snprintf(err, errlen, "--json %s: %s", o->json_path, why);
        rc = -1;
    }
    for (int i = 0; i < 2; i++) {
        free(d.p[i].tx);
        free(d.p[i].rx);
    }
    return rc;
}

/* ------------------------------------------------------------ summary */

static void print_path(FILE *out, const demo_side *s) {
    if (s->nstates == 0) {
        fputs("(no connection)", out);
        return;
    }
    for (int i = 0; i < s->nstates; i++)
        fprintf(out, "%s%s", i ? " -> " : "", synack_state_name(s->states[i]));
}

void demo_print_summary(FILE *out, const demo_result *res) {
    char ep[2][FMT_ENDPOINT_LEN];
    for (int i = 0; i < 2; i++)
        fmt_addr_endpoint(&res->side[i].addr, res->side[i].port, ep[i]);
    fprintf(out, "summary: %.3f s of virtual time%s\n", (double)res->end_ns / 1e9,
            res->idle ? "" : " (stopped at the time limit)");
    for (int i = 0; i < 2; i++) {
        const demo_side *s = &res->side[i], *o = &res->side[!i];
        fprintf(out, "  %-6s -> %-6s  %llu bytes sent by the app, %llu delivered%s; "
                     "%llu segments (%llu retransmitted, %llu lost)\n",
                s->name, o->name, (unsigned long long)s->app_sent,
                (unsigned long long)o->app_received,
                s->app_sent == 0 ? "" : (o->data_ok ? " intact" : " (MISMATCH)"),
                (unsigned long long)s->wire.segments, (unsigned long long)s->wire.retransmits,
                (unsigned long long)s->wire.lost);
    }
    for (int i = 0; i < 2; i++) {
        const demo_side *s = &res->side[i];
        fprintf(out, "  %-6s %-16s ", s->name, ep[i]);
        print_path(out, s);
        if (s->error)
            fprintf(out, "  [error %s]", fmt_errno(s->error));
        fputc('\n', out);
    }
    for (int i = 0; i < 2; i++) {
        const demo_side *s = &res->side[i];
        fprintf(out, "  %-6s counters:", s->name);
        int col = 18, any = 0;
        for (size_t c = 0; c < synack_counter_count(); c++) {
            uint64_t v = synack_counter_value(&s->counters, c);
            if (!v)
                continue;
            char item[96];
            int n = snprintf(item, sizeof item, " %s=%llu", synack_counter_name(c),
                             (unsigned long long)v);
            if (col + n > 100) {
                fputs("\n                 ", out);
                col = 17;
            }
            fputs(item, out);
            col += n;
            any = 1;
        }
        if (!any)
            fputs(" (all zero)", out);
        fputc('\n', out);
    }
}

/* ------------------------------------------------------------ the command */

static void usage(FILE *f) {
    fprintf(f,
            "usage: synack demo [SCENARIO] [options]\n"
            "\n"
            "Runs two synack stacks in the network simulator, client 10.0.0.1 and server\n"
            "10.0.0.2 (port 80) over a link with a 5 ms one-way delay, entirely in virtual\n"
            "time, and draws every segment as a ladder diagram followed by a summary.\n"
            "\n"
            "scenarios:\n");
    size_t n;
    const demo_scenario_info *sc = demo_scenarios(&n);
    for (size_t i = 0; i < n; i++) {
        char text[320];
        snprintf(text, sizeof text, "%s%s", sc[i].summary, i == 0 ? " (default)" : "");
        fprintf(f, "  %-20s", sc[i].name);
        /* word-wrap the summary at 80 columns, indented under itself */
        int col = 22;
        char *save = NULL;
        for (char *w = strtok_r(text, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
            int len = (int)strlen(w);
            if (col + 1 + len > 80) {
                fprintf(f, "\n%22s", "");
                col = 22;
            }
            fprintf(f, " %s", w);
            col += 1 + len;
        }
        fputc('\n', f);
    }
    fprintf(f,
            "\n"
            "options:\n"
            "  --pcap FILE          write every frame put on the link to FILE (pcap,\n"
            "                       Ethernet, nanosecond timestamps of the virtual clock)\n"
            "  --json FILE|-        write every trace event as one JSON object per line;\n"
            "                       with '-' they go to stdout instead of the diagram\n"
            "  -o NAME=VALUE        set a sysctl knob on both hosts, Linux names, with or\n"
            "                       without 'net.ipv4.' (e.g. -o net.ipv4.tcp_msl=1000,\n"
            "                       -o tcp_timestamps=0, -o \"tcp_rmem=4096 8192 16384\")\n"
            "  --seed N             seed of the simulator's random numbers (ISNs, ports,\n"
            "                       losses); the same seed replays the same run\n"
            "  --delay MS           one-way link delay in milliseconds (default 5)\n"
            "  --loss P             loss probability each way, 0..1 (lossy: 0.25)\n"
            "  --ipv6               over IPv6: client fd00::1, server fd00::2; path-mtu's\n"
            "                       router then takes 1280 bytes (IPv6's minimum) and\n"
            "                       answers with ICMPv6 'packet too big'\n"
            "  --absolute           raw sequence numbers and timestamps (default: relative\n"
            "                       to each side's first SYN / first timestamp, as Wireshark)\n"
            "  --ascii              draw with ASCII characters only\n"
            "  --width N            target width of the diagram (default 100)\n"
            "  --quiet              print nothing (exit status only)\n"
            "  --list               list the scenario names\n"
            "  --help               this text\n"
            "\n"
            "reading the diagram: t(ms) is when a segment was put on the link; a state is\n"
            "shown in a side's column when it changes; seq/ack are relative unless\n"
            "--absolute; win is the scaled window; 'lost' (and a cross) marks a segment the\n"
            "link dropped; 'retransmit (RTO)' one a timer resent; [...] is what the\n"
            "application did.\n");
}

/* What demo_run would refuse before running, as bad usage: the scenario
 * and the -o knobs. Returns 0, or -1 with the message printed. */
static int check_usage(const demo_options *o) {
    char err[256];
    synack_config cfg;
    synack_config_init(&cfg);
    if (!find_scenario(o->scenario))
        snprintf(err, sizeof err, "unknown scenario '%s' (see synack demo --list)", o->scenario);
    else if (apply_sysctls(o, &cfg, err, sizeof err) == 0)
        return 0;
    fprintf(stderr, "synack demo: %s\n", err);
    return -1;
}

int demo_main(int argc, char **argv) {
    demo_options o;
    memset(&o, 0, sizeof o);
    o.out = stdout;
    const char **knobs = calloc((size_t)argc + 1, sizeof *knobs);
    if (!knobs)
        return 1;
    static const char *const valued[] = {"--pcap", "--json", "--seed", "--delay", "--loss",
                                         "--width", NULL};
    int quiet = 0, status = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int knob = opts_knob("demo", argc, argv, &i, &v);
        if (knob < 0 || (opts_is_one_of(a, valued) && !(v = opts_value("demo", argc, argv, &i))))
            goto done;
        double d;
        uint64_t w;
        const char *bad = NULL;
        if (knob) {
            knobs[o.nsysctl++] = v;
        } else if (opts_is_help(a)) {
            usage(stdout);
            status = 0;
            goto done;
        } else if (opts_is_version(a)) {
            status = opts_print_version();
            goto done;
        } else if (!strcmp(a, "--list")) {
            size_t n;
            const demo_scenario_info *sc = demo_scenarios(&n);
            for (size_t k = 0; k < n; k++)
                printf("%s\n", sc[k].name);
            status = 0;
            goto done;
        } else if (!strcmp(a, "--pcap")) {
            o.pcap_path = v;
        } else if (!strcmp(a, "--json")) {
            o.json_path = v;
        } else if (!strcmp(a, "--seed")) {
            if (opts_u64(v, &o.seed) < 0)
                bad = "not a whole number from 0 to 18446744073709551615";
            o.seed_set = 1;
        } else if (!strcmp(a, "--delay")) {
            if (opts_double(v, 0, 1e7, &d) < 0)
                bad = "not a number of milliseconds from 0 to 10000000";
            else
                o.delay_ns = d * 1e6 < 1 ? 1 : (uint64_t)(d * 1e6);
        } else if (!strcmp(a, "--loss")) {
            if (opts_double(v, 0, 1, &o.loss) < 0)
                bad = "not a probability from 0 to 1";
            o.loss_set = 1;
        } else if (!strcmp(a, "--width")) {
            if (opts_u64(v, &w) < 0 || w < 60 || w > 400)
                bad = "not a width from 60 to 400";
            else
                o.style.width = (int)w;
        } else if (!strcmp(a, "--ipv6")) {
            o.ipv6 = 1;
        } else if (!strcmp(a, "--absolute")) {
            o.style.absolute = 1;
        } else if (!strcmp(a, "--ascii")) {
            o.style.ascii = 1;
        } else if (opts_is(a, "--quiet", "-q")) {
            quiet = 1;
        } else if (a[0] == '-' && a[1]) {
            status = opts_usage_error("demo", a, "unknown option");
            goto done;
        } else if (!o.scenario) {
            o.scenario = a;
        } else {
            fprintf(stderr, "synack demo: one scenario at a time ('%s' and '%s')\n",
                    o.scenario, a);
            goto done;
        }
        if (bad) {
            fprintf(stderr, "synack demo: %s %s: %s\n", a, v, bad);
            goto done;
        }
    }
    o.sysctl = knobs;
    if (quiet || (o.json_path && !strcmp(o.json_path, "-")))
        o.out = NULL;
    if (check_usage(&o) < 0)
        goto done;
    demo_result res;
    char err[256];
    status = 1; /* from here on a failure is the run's, not the command line's */
    if (demo_run(&o, &res, err, sizeof err) < 0) {
        fprintf(stderr, "synack demo: %s\n", err);
        goto done;
    }
    status = 0;
done:
    free(knobs);
    return status;
}
