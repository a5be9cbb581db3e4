/*
 * test_alloc_fail.c — SQLite's technique for memory failures: run a whole
 * connection (handshake, data both ways, close, TIME-WAIT to its end)
 * through an allocator that fails its Nth call, for every N the clean run
 * makes. Whatever N, nothing crashes (ASan and UBSan watch), nothing leaks
 * (the allocator's books balance once the stacks are freed), and a failure
 * that changed the outcome shows: a call returned -ENOMEM, or a counter of
 * memory pressure moved, or the connection ended with an error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

#define CLIENT_IP 0x0a000001u
#define SERVER_IP 0x0a000002u
#define PAYLOAD 40000

/* An allocator that counts, and fails call number `fail_at` (0: never). */
typedef struct books {
    long calls, fail_at, live;
    bool failed;
} books;

static void *b_malloc(void *ctx, size_t n)
{
    books *b = ctx;
    if (++b->calls == b->fail_at) {
        b->failed = true;
        return NULL;
    }
    void *p = malloc(n ? n : 1);
    b->live += p != NULL;
    return p;
}

static void *b_realloc(void *ctx, void *p, size_t n)
{
    books *b = ctx;
    if (++b->calls == b->fail_at) {
        b->failed = true;
        return NULL;
    }
    void *q = realloc(p, n ? n : 1);
    b->live += q && !p;
    return q;
}

static void b_free(void *ctx, void *p)
{
    books *b = ctx;
    b->live -= p != NULL;
    free(p);
}

typedef struct run {
    sim *s;
    sim_host *cli, *srv;
    synack_sock *l, *c, *a;
    size_t sent, got_srv, got_cli;
    bool enomem, cli_closed, srv_closed;
    int cli_err;
    uint8_t buf[PAYLOAD];
} run;

static void note(run *r, long rc)
{
    if (rc == -ENOMEM)
        r->enomem = true;
}

static void srv_event(void *ctx, synack_sock *k, unsigned ev)
{
    run *r = ctx;
    (void)ev;
    if (k == r->l) {
        int err = 0;
        synack_sock *a = synack_accept(r->l, &err);
        if (a && !r->a)
            r->a = a;
        else if (a)
            synack_abort(a);
        note(r, err);
        return;
    }
    if (k != r->a)
        return;
    uint8_t tmp[4096];
    ssize_t n;
    size_t room;
    /* Echo: read no more than the send buffer takes back at once. */
    while ((room = synack_writable(k)) > 0 &&
           (n = synack_recv(k, tmp, room < sizeof tmp ? room : sizeof tmp)) > 0) {
        r->got_srv += (size_t)n;
        note(r, synack_send(k, tmp, (size_t)n));
    }
    n = synack_readable(k) ? 1 : synack_recv(k, tmp, 0);
    if (n == 0 && !r->srv_closed) {
        r->srv_closed = true;
        synack_close(k);
        r->a = NULL;
    }
}

static void cli_event(void *ctx, synack_sock *k, unsigned ev)
{
    run *r = ctx;
    (void)ev;
    if (k != r->c || r->cli_closed)
        return;
    int e = synack_sock_error(k);
    if (e) {
        r->cli_err = e;
        r->cli_closed = true;
        synack_abort(k);
        r->c = NULL;
        return;
    }
    while (r->sent < PAYLOAD) {
        ssize_t n = synack_send(k, r->buf + r->sent, PAYLOAD - r->sent);
        note(r, n);
        if (n <= 0)
            break;
        r->sent += (size_t)n;
    }
    uint8_t tmp[4096];
    ssize_t n;
    while ((n = synack_recv(k, tmp, sizeof tmp)) > 0)
        r->got_cli += (size_t)n;
    if (r->got_cli == PAYLOAD) {
        r->cli_closed = true;
        synack_close(k);
        r->c = NULL;
    }
}

static uint64_t pressure(sim_host *h)
{
    if (!h)
        return 0;
    const synack_counters *c = synack_get_counters(sim_host_stack(h));
    uint64_t n = c->tcp_no_memory + c->arp_unresolved_drops;
    return n;
}

/* One run with the Nth allocation failing; returns whether it completed. */
static bool one_run(books *b, bool *visible)
{
    run *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->s = sim_new(3);
    synack_config cfg;
    synack_config_init(&cfg);
    cfg.alloc = (synack_allocator){b_malloc, b_realloc, b_free, b};
    r->cli = sim_add_host(r->s, "client", CLIENT_IP, &cfg);
    r->srv = sim_add_host(r->s, "server", SERVER_IP, &cfg);
    bool up = r->cli && r->srv;
    if (up) {
        sim_link_params p = sim_link_params_default();
        sim_link(r->s, r->cli, r->srv, &p, &p);
        sim_host_set_event(r->srv, srv_event, r);
        sim_host_set_event(r->cli, cli_event, r);
        r->l = synack_socket(sim_host_stack(r->srv));
        r->c = synack_socket(sim_host_stack(r->cli));
        up = r->l && r->c;
    }
    if (up) {
        note(r, synack_bind(r->l, 80));
        note(r, synack_listen(r->l, 8));
        int rc = synack_connect(r->c, SERVER_IP, 80);
        note(r, rc);
        if (rc == 0)
            sim_run_until(r->s, 200 * SIM_SEC); /* past TIME-WAIT's 60 s */
    }
    bool done = up && r->got_cli == PAYLOAD && r->srv_closed;
    *visible = !up || r->enomem || r->cli_err || pressure(r->cli) || pressure(r->srv);
    sim_free(r->s); /* frees both stacks and what the application still holds */
    free(r);
    return done;
}

static void every_allocation_may_fail(void **state)
{
    (void)state;
    books clean = {0};
    bool visible;
    assert_true(one_run(&clean, &visible));
    assert_false(visible);
    assert_int_equal(clean.live, 0);
    assert_true(clean.calls > 10);
    long survived = 0;
    for (long n = 1; n <= clean.calls; n++) {
        books b = {.fail_at = n};
        bool done = one_run(&b, &visible);
        if (b.live != 0)
            fail_msg("allocation %ld of %ld failed: %ld blocks leaked", n, clean.calls, b.live);
        if (!done && !visible)
            fail_msg("allocation %ld of %ld failed and nothing said so", n, clean.calls);
        survived += done;
    }
    print_message("%ld allocations; the connection completed anyway in %ld of the failures\n",
                  clean.calls, survived);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_allocation_may_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
