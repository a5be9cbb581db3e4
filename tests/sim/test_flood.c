/*
 * test_flood.c — a SYN flood never takes a listener down (issue 9): 100,000
 * SYNs from spoofed addresses in 10 s of virtual time at a listener with
 * backlog 128, while a real client connects and moves data during the
 * flood and right after it. The SYN queue fills and SYN cookies take the
 * rest, so the server's memory (counted through its allocator hook) grows
 * by well under 10 MiB, and every byte of the real client's arrives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "wire/wire.h"

#define CLIENT_IP 0x0a000001u
#define SERVER_IP 0x0a000002u
#define ROUTER_IP 0x0a000003u /* the way to the spoofed sources */
#define FLOOD_SYNS 100000
#define FLOOD_SECONDS 10
#define TRANSFER 65536

/* The server's allocator: libc, with the bytes it holds counted. */
typedef struct books {
    long long live, peak;
} books;

static void *b_malloc(void *ctx, size_t n)
{
    books *b = ctx;
    size_t *p = malloc(n + sizeof(size_t));
    if (!p)
        return NULL;
    *p = n;
    b->live += (long long)n;
    if (b->live > b->peak)
        b->peak = b->live;
    return p + 1;
}

static void b_free(void *ctx, void *q)
{
    books *b = ctx;
    if (!q)
        return;
    size_t *p = (size_t *)q - 1;
    b->live -= (long long)*p;
    free(p);
}

static void *b_realloc(void *ctx, void *q, size_t n)
{
    void *r = b_malloc(ctx, n);
    if (r && q) {
        size_t old = ((size_t *)q)[-1];
        memcpy(r, q, old < n ? old : n);
        b_free(ctx, q);
    }
    return r;
}

typedef struct world {
    sim *s;
    sim_host *cli, *srv, *router;
    synack_sock *l;
    books mem;
    uint32_t sent;
    uint64_t rng;
    /* the real client */
    synack_sock *c, *a;
    size_t c_sent, a_got;
    int transfers_done;
    uint8_t data[TRANSFER];
} world;

static uint32_t next_rand(world *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return (uint32_t)w->rng;
}

/* One spoofed SYN from 198.18.0.0/15, through the router. */
static void spoofed_syn(world *w)
{
    uint8_t frame[WIRE_ETH_HDR_LEN + WIRE_IPV4_HDR_LEN + 40];
    uint32_t src = 0xc6120000u | (next_rand(w) & 0x1ffff);
    wire_tcp t = {.sport = (uint16_t)(1024 + next_rand(w) % 60000), .dport = 80,
                  .seq = next_rand(w), .flags = SYNACK_SYN, .wnd = 65535};
    wire_tcp_opts_clear(&t.opt);
    t.opt.mss = 1460;
    uint8_t *tcp = frame + WIRE_ETH_HDR_LEN + WIRE_IPV4_HDR_LEN;
    size_t hl = wire_tcp_emit_header(tcp, 40, &t);
    wire_tcp_set_checksum(tcp, hl, src, SERVER_IP);
    wire_ipv4_emit(frame + WIRE_ETH_HDR_LEN, WIRE_IPV4_HDR_LEN, src, SERVER_IP,
                   WIRE_IPPROTO_TCP, 64, 1, hl);
    wire_eth_emit(frame, WIRE_ETH_HDR_LEN, sim_host_mac(w->srv), sim_host_mac(w->router),
                  WIRE_ETHERTYPE_IPV4);
    sim_inject(w->router, frame, WIRE_ETH_HDR_LEN + WIRE_IPV4_HDR_LEN + hl);
}

static void flood_tick(void *ctx)
{
    world *w = ctx;
    uint32_t per_ms = FLOOD_SYNS / (FLOOD_SECONDS * 1000);
    for (uint32_t i = 0; i < per_ms && w->sent < FLOOD_SYNS; i++, w->sent++)
        spoofed_syn(w);
    if (w->sent < FLOOD_SYNS)
        sim_at(w->s, sim_now(w->s) + SIM_MS, flood_tick, w);
}

/* The real client: connect, send TRANSFER bytes, close; the server side
 * reads them all. */
static void cli_event(void *ctx, synack_sock *k, unsigned ev)
{
    world *w = ctx;
    (void)ev;
    if (k != w->c)
        return;
    while (w->c_sent < TRANSFER) {
        ssize_t n = synack_send(k, w->data + w->c_sent, TRANSFER - w->c_sent);
        if (n <= 0)
            break;
        w->c_sent += (size_t)n;
    }
    if (w->c_sent == TRANSFER) {
        synack_close(k);
        w->c = NULL;
    }
}

static void srv_event(void *ctx, synack_sock *k, unsigned ev)
{
    world *w = ctx;
    (void)ev;
    if (k == w->l) {
        synack_sock *a;
        while ((a = synack_accept(w->l, NULL)))
            w->a = a;
        return;
    }
    if (k != w->a)
        return;
    uint8_t buf[8192];
    ssize_t n;
    while ((n = synack_recv(k, buf, sizeof buf)) > 0)
        w->a_got += (size_t)n;
    if (n == 0) {
        w->transfers_done += w->a_got == TRANSFER;
        synack_close(k);
        w->a = NULL;
    }
}

static void real_client(void *ctx)
{
    world *w = ctx;
    w->c = synack_socket(sim_host_stack(w->cli));
    w->c_sent = w->a_got = 0;
    assert_int_equal(synack_connect(w->c, SERVER_IP, 80), 0);
}

static void flood_leaves_the_listener_serving(void **state)
{
    (void)state;
    world *w = calloc(1, sizeof(*w));
    assert_non_null(w);
    w->rng = 88172645463325252ull;
    w->s = sim_new(11);
    synack_config cc, sc, rc;
    synack_config_init(&cc);
    synack_config_init(&sc);
    synack_config_init(&rc);
    sc.gateway = ROUTER_IP;
    sc.alloc = (synack_allocator){b_malloc, b_realloc, b_free, &w->mem};
    w->cli = sim_add_host(w->s, "client", CLIENT_IP, &cc);
    w->srv = sim_add_host(w->s, "server", SERVER_IP, &sc);
    w->router = sim_add_host(w->s, "router", ROUTER_IP, &rc);
    sim_link(w->s, w->cli, w->srv, NULL, NULL);
    sim_link(w->s, w->router, w->srv, NULL, NULL);
    sim_host_set_event(w->cli, cli_event, w);
    sim_host_set_event(w->srv, srv_event, w);
    w->l = synack_socket(sim_host_stack(w->srv));
    assert_int_equal(synack_bind(w->l, 80), 0);
    assert_int_equal(synack_listen(w->l, 128), 0);
    sim_run_until(w->s, SIM_SEC);
    long long before = w->mem.live;

    sim_at(w->s, SIM_SEC, flood_tick, w);
    sim_at(w->s, 4 * SIM_SEC, real_client, w);                     /* during */
    sim_at(w->s, (2 + FLOOD_SECONDS) * SIM_SEC, real_client, w);   /* right after */
    sim_run_until(w->s, 40 * SIM_SEC);

    const synack_counters *c = synack_get_counters(sim_host_stack(w->srv));
    assert_int_equal(w->sent, FLOOD_SYNS);
    assert_int_equal(w->transfers_done, 2);
    assert_true(c->tcp_syncookies_sent > FLOOD_SYNS / 2); /* the queue held 128 */
    long long growth = w->mem.peak - before;
    print_message("%u spoofed SYNs: %llu SYN cookies, server memory %lld -> peak %lld bytes "
                  "(+%.1f KiB)\n", w->sent, (unsigned long long)c->tcp_syncookies_sent, before,
                  w->mem.peak, growth / 1024.0);
    assert_true(growth < 10ll * 1024 * 1024);
    sim_free(w->s);
    assert_int_equal(w->mem.live, 0);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flood_leaves_the_listener_serving),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
