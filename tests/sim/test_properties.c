/*
 * test_properties.c — simulation property tests over many seeds.
 *
 * For each seed: two hosts on a link whose loss (up to 20%), duplication,
 * reordering, corruption and delay come from the seed; odd seeds speak
 * IPv6, even ones IPv4. The client and the server each send a seed-sized
 * pattern, shut down their send side, read to end of stream and close.
 * Once half the client's bytes have arrived (if more are to come) the path
 * MTU drops both ways, to 600..1399 bytes over IPv4 and 1280..1399 over
 * IPv6: a router answers with ICMP fragmentation needed or ICMPv6 packet too
 * big, except on one seed pair in four, a black hole (800 bytes at least)
 * that only tcp_mtu_probing gets through. Properties: every byte arrives exactly once and
 * in order, every connection on both hosts ends in CLOSED, the world goes
 * idle (no timer left) and nothing leaks (LeakSanitizer checks at exit).
 *
 * SYNACK_SEEDS sets the number of seeds (default 1000); SYNACK_SEED runs
 * one seed (to replay a failure).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

#define MAX_CONNS 64

typedef struct endpoint {
    synack_sock *sock;
    uint32_t to_send, sent;
    uint32_t received;
    uint32_t pattern;       /* seeds the byte pattern this side sends */
    uint32_t peer_pattern;
    int bad_byte_at;        /* first mismatching offset, -1 = none    */
    int eof, shut, closed, error;
} endpoint;

typedef struct world {
    sim *s;
    int family;             /* SYNACK_AF_INET or SYNACK_AF_INET6 */
    uint32_t mtu_to;        /* the path MTU after the drop          */
    int black_hole;         /* no ICMP from the router              */
    int mtu_dropped;
    sim_host *client_host, *server_host;
    synack_sock *listener;
    endpoint client, server;
    uint32_t conn_ids[MAX_CONNS];
    int conn_host[MAX_CONNS];
    int last_state[MAX_CONNS];
    int nconns;
    int verbose;            /* SYNACK_VERBOSE: print every trace event */
} world;

static uint8_t pattern_byte(uint32_t pattern, uint32_t i)
{
    uint32_t x = (i + pattern) * 2654435761u;
    return (uint8_t)(x >> 24);
}

static void pump(endpoint *e)
{
    uint8_t buf[8192];
    while (e->sent < e->to_send) {
        uint32_t n = e->to_send - e->sent;
        if (n > sizeof(buf))
            n = sizeof(buf);
        for (uint32_t i = 0; i < n; i++)
            buf[i] = pattern_byte(e->pattern, e->sent + i);
        ssize_t w = synack_send(e->sock, buf, n);
        if (w <= 0) {
            if (w != -EAGAIN)
                e->error = (int)w;
            break;
        }
        e->sent += (uint32_t)w;
    }
    if (e->sent == e->to_send && !e->shut && !e->error) {
        e->shut = 1;
        int r = synack_shutdown(e->sock, SYNACK_SHUT_WR);
        if (r)
            e->error = r;
    }
    for (;;) {
        ssize_t r = synack_recv(e->sock, buf, sizeof(buf));
        if (r > 0) {
            for (ssize_t i = 0; i < r; i++)
                if (buf[i] != pattern_byte(e->peer_pattern, e->received + (uint32_t)i) &&
                    e->bad_byte_at < 0)
                    e->bad_byte_at = (int)(e->received + (uint32_t)i);
            e->received += (uint32_t)r;
            continue;
        }
        if (r == 0)
            e->eof = 1;
        else if (r != -EAGAIN)
            e->error = (int)r;
        break;
    }
    if (e->eof && e->shut && !e->closed) {
        e->closed = 1;
        synack_close(e->sock);
    }
}

/* Halfway through the client's bytes the path MTU drops both ways: a
 * router that answers in the run's family, or a black hole. */
static void maybe_drop_mtu(world *w)
{
    endpoint *e = &w->server;
    if (w->mtu_dropped || e->received * 2 < w->client.to_send || e->received >= w->client.to_send)
        return;
    w->mtu_dropped = 1;
    for (int dir = 0; dir < 2; dir++) {
        sim_host *from = dir ? w->server_host : w->client_host;
        sim_host *to = dir ? w->client_host : w->server_host;
        sim_link_params p = *sim_link_get(w->s, from, to);
        p.mtu = w->mtu_to;
        if (!w->black_hole && w->family == SYNACK_AF_INET6)
            p.mtu_icmp_from6[0] = 0xfd, p.mtu_icmp_from6[15] = 0xfe; /* fd00::fe */
        else if (!w->black_hole)
            p.mtu_icmp_from = 0x0a0000fe; /* 10.0.0.254 */
        sim_link_set(w->s, from, to, &p);
    }
}

static void on_event(void *ctx, synack_sock *k, unsigned ev)
{
    world *w = ctx;
    if (k == w->listener) {
        if (ev & SYNACK_EV_ACCEPT) {
            synack_sock *a = synack_accept(k, NULL);
            if (a && !w->server.sock) {
                w->server.sock = a;
                pump(&w->server);
            } else if (a) {
                synack_abort(a);
            }
        }
        return;
    }
    endpoint *e = k == w->client.sock ? &w->client : k == w->server.sock ? &w->server : NULL;
    if (!e || e->closed)
        return;
    if ((ev & SYNACK_EV_ERROR) && !e->error)
        e->error = synack_sock_error(k) ? -1 : 0;
    pump(e);
    maybe_drop_mtu(w);
}

static void print_trace(const sim_trace *t)
{
    if (t->kind == SIM_TRACE_LINK) {
        if (t->link_event != SIM_LINK_SEND)
            fprintf(stderr, "%10.3f %s link %s\n", t->time_ns / 1e6, t->host_name,
                    sim_link_event_name(t->link_event));
        return;
    }
    const synack_trace_event *e = t->ev;
    if (e->kind == SYNACK_TRACE_STATE)
        fprintf(stderr, "%10.3f %s #%u %s -> %s (%s)\n", t->time_ns / 1e6, t->host_name,
                e->conn_id, synack_state_name(e->old_state), synack_state_name(e->new_state),
                e->cause);
    else if (e->kind == SYNACK_TRACE_DROP)
        fprintf(stderr, "%10.3f %s #%u drop: %s\n", t->time_ns / 1e6, t->host_name, e->conn_id,
                e->cause);
    else
        fprintf(stderr, "%10.3f %s #%u %s %02x seq=%u ack=%u wnd=%u len=%u%s\n",
                t->time_ns / 1e6, t->host_name, e->conn_id,
                e->kind == SYNACK_TRACE_SEG_IN ? "in " : "out", e->seg.flags, e->seg.seq,
                e->seg.ack, e->seg.wnd, e->seg.len, e->retransmit ? " rexmit" : "");
}

static void on_trace(void *ctx, const sim_trace *t)
{
    world *w = ctx;
    if (w->verbose)
        print_trace(t);
    if (t->kind != SIM_TRACE_STACK || t->ev->kind != SYNACK_TRACE_STATE || !t->ev->conn_id)
        return;
    for (int i = 0; i < w->nconns; i++) {
        if (w->conn_ids[i] == t->ev->conn_id && w->conn_host[i] == t->host_index) {
            w->last_state[i] = t->ev->new_state;
            return;
        }
    }
    if (w->nconns < MAX_CONNS) {
        w->conn_ids[w->nconns] = t->ev->conn_id;
        w->conn_host[w->nconns] = t->host_index;
        w->last_state[w->nconns++] = t->ev->new_state;
    }
}

static void start_client(void *ctx)
{
    world *w = ctx;
    synack_stack *st = sim_host_stack(w->client_host);
    w->client.sock = synack_socket(st);
    synack_addr to = sim_host_addr(w->server_host, w->family ? w->family : SYNACK_AF_INET);
    int r = synack_connect_addr(w->client.sock, &to, 80);
    if (r)
        w->client.error = r;
}

/* What the seeds covered: IPv6 runs, and runs where the MTU drop caught
 * frames in flight (by family; black holes among them). */
static unsigned ran6, hit[2], hit_hole;

static double frac(sim *s, double max)
{
    return (double)(sim_random(s) % 10001) / 10000.0 * max;
}

/* Run one seed; returns 0 or prints why it failed and returns -1. */
static int run_seed(uint64_t seed)
{
    world w = {0};
    w.client.bad_byte_at = w.server.bad_byte_at = -1;
    w.verbose = getenv("SYNACK_VERBOSE") != NULL;
    w.s = sim_new(seed);
    w.family = seed & 1 ? SYNACK_AF_INET6 : SYNACK_AF_INET;
    w.black_hole = (seed >> 1) % 4 == 0;
    sim_set_ipv6(w.s, w.family == SYNACK_AF_INET6);
    sim_set_trace(w.s, on_trace, &w);

    synack_config cfg;
    synack_config_init(&cfg);
    /* Generous retry limits: the property is about correctness under loss,
     * not about giving up, and 20% loss makes seven lost SYNs plausible. */
    synack_config_set(&cfg, "tcp_syn_retries", "20");
    synack_config_set(&cfg, "tcp_synack_retries", "20");
    synack_config_set(&cfg, "tcp_retries2", "30");
    synack_config_set(&cfg, "tcp_msl", "2000");
    if (sim_random(w.s) % 2)
        synack_config_set(&cfg, "tcp_timestamps", "0");
    if (sim_random(w.s) % 3 == 0)
        synack_config_set(&cfg, "tcp_window_scaling", "0");
    if (sim_random(w.s) % 2)
        synack_config_set(&cfg, "tcp_congestion_control", "reno");
    if (sim_random(w.s) % 4 == 0)
        synack_config_set(&cfg, "tcp_sack", "0");
    if (sim_random(w.s) % 4 == 0)
        synack_config_set(&cfg, "tcp_delack_ms", "0");
    if (sim_random(w.s) % 3 == 0)
        synack_config_set(&cfg, "tcp_rmem", "4096 8192 6291456"); /* small window: flow control */
    if (w.black_hole)
        synack_config_set(&cfg, "tcp_mtu_probing", "1");

    w.client_host = sim_add_host(w.s, "client", 0x0a000001, &cfg);
    w.server_host = sim_add_host(w.s, "server", 0x0a000002, &cfg);
    sim_link_params p = sim_link_params_default();
    p.delay_ns = (1 + sim_random(w.s) % 50) * SIM_MS;
    p.loss = frac(w.s, 0.20);
    p.duplicate = frac(w.s, 0.05);
    p.reorder = frac(w.s, 0.10);
    p.reorder_delay_ns = 2 * p.delay_ns;
    p.corrupt = frac(w.s, 0.05);
    sim_link_params q = p;
    q.loss = frac(w.s, 0.20);
    sim_link(w.s, w.client_host, w.server_host, &p, &q);
    sim_host_set_event(w.client_host, on_event, &w);
    sim_host_set_event(w.server_host, on_event, &w);

    w.client.to_send = (uint32_t)(sim_random(w.s) % 40000);
    w.server.to_send = (uint32_t)(sim_random(w.s) % 40000);
    w.client.pattern = w.server.peer_pattern = (uint32_t)sim_random(w.s);
    w.server.pattern = w.client.peer_pattern = (uint32_t)sim_random(w.s);
    /* Black-hole detection halves the segment size once (icmp_error.c): an
     * IPv4 hole must take that size, 800 bytes will do. */
    uint32_t lo = w.family == SYNACK_AF_INET6 ? 1280 : w.black_hole ? 800 : 600;
    w.mtu_to = lo + (uint32_t)(sim_random(w.s) % (1400 - lo));

    w.listener = synack_socket(sim_host_stack(w.server_host));
    synack_bind(w.listener, 80);
    synack_listen(w.listener, 8);
    sim_at(w.s, 0, start_client, &w);

    int idle = sim_run_idle(w.s, 3600 * SIM_SEC);
    synack_close(w.listener);
    sim_run_idle(w.s, 7200 * SIM_SEC);

    int fail = 0;
    const char *why = "";
    if (!idle) { fail = 1; why = "did not go idle within an hour"; }
    else if (w.client.error || w.server.error) { fail = 1; why = "a socket reported an error"; }
    else if (w.client.received != w.server.to_send || w.server.received != w.client.to_send) {
        fail = 1; why = "byte count mismatch";
    } else if (w.client.bad_byte_at >= 0 || w.server.bad_byte_at >= 0) {
        fail = 1; why = "corrupted or misordered byte";
    } else if (!w.client.eof || !w.server.eof) { fail = 1; why = "no end of stream"; }
    for (int i = 0; i < w.nconns && !fail; i++)
        if (w.last_state[i] != SYNACK_CLOSED) {
            fail = 1;
            why = "a connection did not end in CLOSED";
        }
    if (sim_next_time(w.s) != UINT64_MAX && !fail) { fail = 1; why = "timers still pending"; }
    int six = w.family == SYNACK_AF_INET6;
    ran6 += six;
    if (sim_get_stats(w.s)->dropped_mtu) {
        hit[six]++;
        hit_hole += w.black_hole;
    }
    if (fail && w.verbose)
        for (int h = 0; h < 2; h++) {
            const synack_counters *c = synack_get_counters(sim_host_stack(h ? w.server_host : w.client_host));
            for (size_t i = 0; i < synack_counter_count(); i++)
                if (synack_counter_value(c, i))
                    fprintf(stderr, "  %s %s=%llu\n", h ? "server" : "client", synack_counter_name(i),
                            (unsigned long long)synack_counter_value(c, i));
        }
    if (fail)
        fprintf(stderr,
                "seed %llu FAILED: %s (IPv%d; client sent %u/%u recv %u err %d eof %d; server "
                "sent %u/%u recv %u err %d eof %d; loss %.3f/%.3f; MTU %s to %u%s)\n",
                (unsigned long long)seed, why, w.family == SYNACK_AF_INET6 ? 6 : 4, w.client.sent,
                w.client.to_send, w.client.received, w.client.error, w.client.eof, w.server.sent,
                w.server.to_send, w.server.received, w.server.error, w.server.eof, p.loss, q.loss,
                w.mtu_dropped ? "dropped" : "not dropped", w.mtu_to,
                w.black_hole ? " (black hole)" : "");
    sim_free(w.s);
    return fail ? -1 : 0;
}

static void test_many_seeds(void **state)
{
    (void)state;
    const char *one = getenv("SYNACK_SEED");
    if (one) {
        assert_int_equal(run_seed(strtoull(one, NULL, 10)), 0);
        return;
    }
    const char *n_env = getenv("SYNACK_SEEDS");
    unsigned n = n_env ? (unsigned)strtoul(n_env, NULL, 10) : 1000;
    unsigned failed = 0;
    for (unsigned i = 1; i <= n; i++)
        failed += run_seed(i) != 0;
    printf("property run: %u seeds (%u over IPv6), %u failed; the MTU drop caught frames "
           "in %u IPv4 and %u IPv6 runs (%u black holes)\n", n, ran6, failed, hit[0], hit[1],
           hit_hole);
    assert_int_equal(failed, 0);
    if (n >= 100) /* the drop must land mid-transfer often, in both families */
        assert_true(hit[0] >= n / 10 && hit[1] >= n / 10 && hit_hole >= n / 40);
}

/* The same seed twice gives the same run, byte for byte and tick for tick. */
static uint64_t fingerprint;
static void fp_trace(void *ctx, const sim_trace *t)
{
    (void)ctx;
    if (t->kind == SIM_TRACE_LINK)
        for (size_t i = 0; i < t->len; i++)
            fingerprint = (fingerprint ^ t->frame[i]) * 1099511628211ull + t->time_ns;
}

static uint64_t run_fingerprint(uint64_t seed)
{
    fingerprint = 1469598103934665603ull;
    world w = {0};
    w.client.bad_byte_at = w.server.bad_byte_at = -1;
    w.s = sim_new(seed);
    sim_set_trace(w.s, fp_trace, NULL);
    w.client_host = sim_add_host(w.s, "client", 0x0a000001, NULL);
    w.server_host = sim_add_host(w.s, "server", 0x0a000002, NULL);
    sim_link_params p = sim_link_params_default();
    p.loss = 0.1;
    p.reorder = 0.1;
    p.reorder_delay_ns = 3 * SIM_MS;
    sim_link(w.s, w.client_host, w.server_host, &p, &p);
    sim_host_set_event(w.client_host, on_event, &w);
    sim_host_set_event(w.server_host, on_event, &w);
    w.client.to_send = w.server.to_send = 20000;
    w.listener = synack_socket(sim_host_stack(w.server_host));
    synack_bind(w.listener, 80);
    synack_listen(w.listener, 8);
    sim_at(w.s, 0, start_client, &w);
    sim_run_idle(w.s, 3600 * SIM_SEC);
    synack_close(w.listener);
    sim_run_idle(w.s, 7200 * SIM_SEC);
    sim_free(w.s);
    return fingerprint;
}

static void test_replays_exactly(void **state)
{
    (void)state;
    uint64_t a = run_fingerprint(42), b = run_fingerprint(42), c = run_fingerprint(43);
    assert_true(a == b);
    assert_true(a != c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replays_exactly),
        cmocka_unit_test(test_many_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
