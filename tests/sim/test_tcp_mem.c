/*
 * test_tcp_mem.c — tcp_mem's hard limit holds under load (issue 9): a
 * client blasts 32 KiB into each of 1,000 connections whose server-side
 * readers do not read for 10 s. Without a limit the server would hold a
 * 128 KiB receive ring per connection (125 MiB); with tcp_mem's hard limit
 * at 1 MiB it holds at most that plus tcp_rmem[0] per connection, enters
 * and counts memory pressure, and drops what does not fit. Then the
 * readers read: every byte arrives, in order, and the memory goes back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim/sim.h"

#define CLIENT_IP 0x0a000001u
#define SERVER_IP 0x0a000002u
#define CONNS 1000
#define EACH 32768
#define HARD_PAGES 256 /* tcp_mem[2]: 1 MiB */

typedef struct conn {
    synack_sock *c, *a;
    uint32_t sent, got;
    bool bad;
} conn;

typedef struct world {
    sim *s;
    synack_stack *cli, *srv;
    synack_sock *l;
    conn k[CONNS];
    uint32_t accepted;
    uint64_t peak_pages;
} world;

static uint8_t pattern(uint32_t conn_i, uint32_t off) { return (uint8_t)(off * 7 + conn_i); }

static void blast(world *w)
{
    uint8_t buf[4096];
    for (uint32_t i = 0; i < CONNS; i++) {
        conn *k = &w->k[i];
        while (k->sent < EACH) {
            uint32_t n = EACH - k->sent < sizeof buf ? EACH - k->sent : (uint32_t)sizeof buf;
            for (uint32_t j = 0; j < n; j++)
                buf[j] = pattern(i, k->sent + j);
            ssize_t r = synack_send(k->c, buf, n);
            if (r <= 0)
                break;
            k->sent += (uint32_t)r;
        }
    }
}

static void accept_all(world *w)
{
    synack_sock *a;
    while ((a = synack_accept(w->l, NULL))) {
        uint16_t rport;
        synack_sock_name(a, NULL, NULL, NULL, &rport);
        for (uint32_t i = 0; i < CONNS; i++) {
            uint16_t lport;
            synack_sock_name(w->k[i].c, NULL, &lport, NULL, NULL);
            if (lport == rport)
                w->k[i].a = a;
        }
        w->accepted++;
    }
}

static void read_all(world *w)
{
    uint8_t buf[8192];
    for (uint32_t i = 0; i < CONNS; i++) {
        conn *k = &w->k[i];
        ssize_t n;
        while (k->a && (n = synack_recv(k->a, buf, sizeof buf)) > 0) {
            for (ssize_t j = 0; j < n; j++)
                k->bad |= buf[j] != pattern(i, k->got + (uint32_t)j);
            k->got += (uint32_t)n;
        }
    }
}

static uint64_t server_pages(world *w)
{
    synack_sockstat st;
    synack_get_sockstat(w->srv, &st);
    return st.mem_pages;
}

/* Run `ms` of virtual time in 5 ms steps, blasting (and reading if asked). */
static void run(world *w, uint64_t ms, bool reading)
{
    for (uint64_t t = 0; t < ms; t += 5) {
        blast(w);
        accept_all(w);
        if (reading)
            read_all(w);
        sim_run_until(w->s, sim_now(w->s) + 5 * SIM_MS);
        uint64_t p = server_pages(w);
        if (p > w->peak_pages)
            w->peak_pages = p;
    }
}

static void hard_limit_holds_under_a_blast(void **state)
{
    (void)state;
    world *w = calloc(1, sizeof(*w));
    assert_non_null(w);
    w->s = sim_new(5);
    synack_config cc, sc;
    synack_config_init(&cc);
    synack_config_init(&sc);
    assert_int_equal(synack_config_set(&sc, "tcp_mem", "64 128 256"), 0);
    sim_host *ch = sim_add_host(w->s, "client", CLIENT_IP, &cc);
    sim_host *sh = sim_add_host(w->s, "server", SERVER_IP, &sc);
    sim_link(w->s, ch, sh, NULL, NULL);
    w->cli = sim_host_stack(ch);
    w->srv = sim_host_stack(sh);
    w->l = synack_socket(w->srv);
    assert_int_equal(synack_bind(w->l, 80), 0);
    assert_int_equal(synack_listen(w->l, 1024), 0);
    for (uint32_t i = 0; i < CONNS; i++) {
        w->k[i].c = synack_socket(w->cli);
        assert_int_equal(synack_connect(w->k[i].c, SERVER_IP, 80), 0);
    }
    sim_run_until(w->s, SIM_SEC);
    accept_all(w);
    assert_int_equal(w->accepted, CONNS);

    run(w, 10000, false); /* nobody reads */
    uint64_t allowed = HARD_PAGES + CONNS * 1; /* tcp_rmem[0] is one page */
    printf("peak %llu pages held (limit %llu; unlimited would be %u)\n",
           (unsigned long long)w->peak_pages, (unsigned long long)allowed, CONNS * 32);
    assert_true(w->peak_pages <= allowed);
    const synack_counters *c = synack_get_counters(w->srv);
    assert_true(c->tcp_memory_pressures >= 1);
    assert_true(c->tcp_rcv_buf_drop > 0);

    run(w, 60000, true); /* the readers read */
    uint32_t done = 0;
    for (uint32_t i = 0; i < CONNS; i++) {
        assert_false(w->k[i].bad);
        done += w->k[i].got == EACH;
    }
    assert_int_equal(done, CONNS);
    assert_int_equal(server_pages(w), 0);
    assert_int_equal(c->tcp_estab_resets, 0);
    sim_free(w->s);
    free(w);
}

/* Autotuning stops at tcp_mem[0] (Linux's tcp_should_expand_sndbuf): on a
 * 100 ms path the buffers would grow to megabytes; with tcp_mem[0] at
 * 64 pages neither the send nor the receive buffer grows past 256 KiB. */
static void growth_stops_at_tcp_mem_low(void **state)
{
    (void)state;
    sim *s = sim_new(6);
    synack_config cfg;
    synack_config_init(&cfg);
    assert_int_equal(synack_config_set(&cfg, "tcp_mem", "64 1000 100000"), 0);
    sim_host *ch = sim_add_host(s, "client", CLIENT_IP, &cfg);
    sim_host *sh = sim_add_host(s, "server", SERVER_IP, &cfg);
    sim_link_params p = sim_link_params_default();
    p.delay_ns = 50 * SIM_MS;
    sim_link(s, ch, sh, &p, &p);
    synack_sock *l = synack_socket(sim_host_stack(sh));
    synack_bind(l, 80);
    synack_listen(l, 8);
    synack_sock *c = synack_socket(sim_host_stack(ch)), *a = NULL;
    assert_int_equal(synack_connect(c, SERVER_IP, 80), 0);
    static uint8_t data[1 << 16];
    while (sim_now(s) < 10 * SIM_SEC) {
        while (synack_send(c, data, sizeof data) > 0)
            ;
        if (!a)
            a = synack_accept(l, NULL);
        while (a && synack_recv(a, data, sizeof data) > 0)
            ;
        sim_run_until(s, sim_now(s) + 5 * SIM_MS);
    }
    int snd = 0, rcv = 0;
    synack_getopt(c, SYNACK_SO_SNDBUF, &snd);
    synack_getopt(a, SYNACK_SO_RCVBUF, &rcv);
    printf("send buffer %d, receive buffer %d\n", snd, rcv);
    assert_true(snd > 16384 && snd < 256 * 1024);
    assert_true(rcv < 256 * 1024);
    sim_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hard_limit_holds_under_a_blast),
        cmocka_unit_test(growth_stops_at_tcp_mem_low),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
