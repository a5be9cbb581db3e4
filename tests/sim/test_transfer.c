/*
 * test_transfer.c — data transfer between two stacks in the simulator:
 * slow start doubles the flight each round trip, request/response with
 * Nagle and delayed ACK both on never stalls, a slow reader's zero window
 * is probed and reopens, keepalive notices a peer that vanished, and bulk
 * data survives loss intact with either congestion control.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sim/sim.h"

#define CLIENT_IP 0x0a000001u
#define SERVER_IP 0x0a000002u

typedef struct world {
    sim *s;
    sim_host *client, *server;
    synack_sock *listener, *c, *a;
    /* slow start */
    uint64_t first_data_ns, rtt_ns;
    uint32_t per_round[16];
} world;

static int not_accepted(void *ctx)
{
    world *w = ctx;
    if (!w->a)
        w->a = synack_accept(w->listener, NULL);
    return w->a == NULL;
}

static void open_world(world *w, uint64_t seed, uint64_t one_way_ms, const char *knobs[][2])
{
    memset(w, 0, sizeof(*w));
    w->s = sim_new(seed);
    synack_config cfg;
    synack_config_init(&cfg);
    for (int i = 0; knobs && knobs[i][0]; i++)
        assert_int_equal(synack_config_set(&cfg, knobs[i][0], knobs[i][1]), 0);
    w->client = sim_add_host(w->s, "client", CLIENT_IP, &cfg);
    w->server = sim_add_host(w->s, "server", SERVER_IP, &cfg);
    sim_link_params p = sim_link_params_default();
    p.delay_ns = one_way_ms * SIM_MS;
    sim_link(w->s, w->client, w->server, &p, &p);
    w->rtt_ns = 2 * p.delay_ns;
    w->listener = synack_socket(sim_host_stack(w->server));
    synack_bind(w->listener, 80);
    synack_listen(w->listener, 8);
    w->c = synack_socket(sim_host_stack(w->client));
    assert_int_equal(synack_connect(w->c, SERVER_IP, 80), 0);
    sim_run_while(w->s, not_accepted, w, 10 * SIM_SEC);
    assert_non_null(w->a);
}

/* ------------------------------------------------------------ slow start */

static void count_rounds(void *ctx, const sim_trace *t)
{
    world *w = ctx;
    if (t->kind != SIM_TRACE_STACK || t->host != w->client ||
        t->ev->kind != SYNACK_TRACE_SEG_OUT || !t->ev->seg.len)
        return;
    if (!w->first_data_ns)
        w->first_data_ns = t->time_ns;
    uint64_t round = (t->time_ns - w->first_data_ns) / w->rtt_ns;
    if (round < 16)
        w->per_round[round]++;
}

/* The flight doubles each round trip whether the receiver acknowledges
 * segment by segment or a whole burst at once (burst input: one ACK per
 * flight once its quick ACKs are spent, as GRO gives Linux's receivers). */
static void slow_start_doubles(int burst)
{
    world w;
    const char *knobs[][2] = {{"tcp_wmem", "4096 4194304 4194304"},
                              {"tcp_rmem", "4096 4194304 6291456"},
                              {NULL, NULL}};
    open_world(&w, 1, 50, knobs);
    sim_host_set_burst_input(w.server, burst);
    sim_set_trace(w.s, count_rounds, &w);
    static uint8_t data[1 << 20];
    assert_int_equal(synack_send(w.c, data, sizeof(data)), (ssize_t)sizeof(data));
    for (int i = 0; i < 40; i++) { /* the receiver keeps reading */
        sim_run_until(w.s, sim_now(w.s) + 25 * SIM_MS);
        while (synack_recv(w.a, data, sizeof(data)) > 0)
            ;
    }
    printf("%s: segments per round trip: %u %u %u %u %u\n", burst ? "bursts" : "frames",
           w.per_round[0], w.per_round[1], w.per_round[2], w.per_round[3], w.per_round[4]);
    assert_int_equal(w.per_round[0], 10); /* RFC 6928 initial window */
    for (int r = 1; r <= 4; r++) {
        double ratio = (double)w.per_round[r] / w.per_round[r - 1];
        assert_true(ratio >= 1.8 && ratio <= 2.2);
    }
    sim_free(w.s);
}

static void slow_start_doubles_each_round_trip(void **state)
{
    (void)state;
    slow_start_doubles(0);
}

static void slow_start_doubles_with_one_ack_per_burst(void **state)
{
    (void)state;
    slow_start_doubles(1);
}

/* ------------------------------------------------------------ request/response */

typedef struct rr {
    world w;
    int done, phase;
    uint64_t started;
    char buf[256];
    size_t got;
} rr;

/* Server: answers a two-part request ("HEAD" then "BODY") with a two-part
 * reply, each part its own write — the pattern Nagle and delayed ACK turn
 * into 40 ms (or 200 ms) stalls when nothing breaks the tie. */
static void rr_server(void *ctx, synack_sock *k, unsigned ev)
{
    rr *r = ctx;
    if (k != r->w.a || !(ev & SYNACK_EV_READABLE))
        return;
    char buf[64];
    ssize_t n;
    while ((n = synack_recv(k, buf, sizeof(buf))) > 0) {
        memcpy(r->buf + r->got, buf, (size_t)n);
        r->got += (size_t)n;
    }
    if (r->got >= 8) { /* the whole request */
        r->got = 0;
        synack_send(k, "HDR:", 4);
        synack_send(k, "body", 4);
    }
}

static void rr_client(void *ctx, synack_sock *k, unsigned ev)
{
    rr *r = ctx;
    if (k != r->w.c || !(ev & SYNACK_EV_READABLE))
        return;
    char buf[64];
    while (synack_recv(k, buf, sizeof(buf)) > 0)
        r->phase += 0;
    r->done++;
}

static int rr_waiting(void *ctx)
{
    rr *r = ctx;
    return r->done < 1;
}

static void request_response_never_stalls(void **state)
{
    (void)state;
    static rr r;
    memset(&r, 0, sizeof(r));
    open_world(&r.w, 2, 5, NULL); /* Nagle and delayed ACK on: the defaults */
    sim_host_set_event(r.w.server, rr_server, &r);
    sim_host_set_event(r.w.client, rr_client, &r);
    uint64_t worst = 0;
    for (int i = 0; i < 20; i++) {
        r.done = 0;
        uint64_t t0 = sim_now(r.w.s);
        synack_send(r.w.c, "HEAD", 4);
        synack_send(r.w.c, "BODY", 4);
        sim_run_while(r.w.s, rr_waiting, &r, t0 + 5 * SIM_SEC);
        /* the reply may come in two reads: wait for both parts */
        sim_run_until(r.w.s, sim_now(r.w.s) + 12 * SIM_MS);
        uint64_t took = sim_now(r.w.s) - t0;
        if (took > worst)
            worst = took;
    }
    printf("worst request/response: %.1f ms at 10 ms RTT\n", worst / 1e6);
    /* Two round trips at most (request halves, reply halves) plus the 12 ms
     * wait above; a 40 ms delayed-ACK stall would show well above it. */
    assert_true(worst <= 2 * r.w.rtt_ns + 12 * SIM_MS + 2 * SIM_MS);
    sim_free(r.w.s);
}

/* ------------------------------------------------------------ zero window */

static void zero_window_probed_then_reopened(void **state)
{
    (void)state;
    world w;
    const char *knobs[][2] = {{"tcp_rmem", "4096 8192 8192"}, {NULL, NULL}};
    open_world(&w, 3, 5, knobs);
    static uint8_t data[100000], got[100000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 31 + 7);
    size_t sent = 0, recvd = 0;
    ssize_t n = synack_send(w.c, data, sizeof(data));
    assert_true(n > 0);
    sent = (size_t)n;
    /* The reader sleeps for 10 s: the window closes and stays closed. */
    for (int i = 0; i < 100; i++) {
        sim_run_until(w.s, sim_now(w.s) + 100 * SIM_MS);
        n = synack_send(w.c, data + sent, sizeof(data) - sent);
        if (n > 0)
            sent += (size_t)n;
    }
    synack_tcp_info ci;
    synack_info(w.c, &ci);
    assert_int_equal(ci.snd_wnd, 0);
    assert_int_equal(synack_sock_state(w.c), SYNACK_ESTABLISHED); /* probes are answered */
    assert_true(ci.retransmits >= 3);                             /* ... and were sent */
    /* The reader wakes up: everything arrives, in order. */
    for (int i = 0; i < 2000 && recvd < sizeof(data); i++) {
        while ((n = synack_recv(w.a, got + recvd, sizeof(got) - recvd)) > 0)
            recvd += (size_t)n;
        if (sent < sizeof(data) && (n = synack_send(w.c, data + sent, sizeof(data) - sent)) > 0)
            sent += (size_t)n;
        sim_run_until(w.s, sim_now(w.s) + 10 * SIM_MS);
    }
    assert_int_equal(recvd, sizeof(data));
    assert_memory_equal(got, data, sizeof(data));
    sim_free(w.s);
}

/* ------------------------------------------------------------ keepalive */

static void keepalive_notices_vanished_peer(void **state)
{
    (void)state;
    world w;
    open_world(&w, 4, 5, NULL);
    assert_int_equal(synack_setopt(w.c, SYNACK_TCP_KEEPIDLE, 30), 0);
    assert_int_equal(synack_setopt(w.c, SYNACK_TCP_KEEPINTVL, 5), 0);
    assert_int_equal(synack_setopt(w.c, SYNACK_TCP_KEEPCNT, 3), 0);
    assert_int_equal(synack_setopt(w.c, SYNACK_SO_KEEPALIVE, 1), 0);
    /* An hour of idle with a live peer: probes answered, still up. */
    sim_run_until(w.s, sim_now(w.s) + 3600 * SIM_SEC);
    assert_int_equal(synack_sock_state(w.c), SYNACK_ESTABLISHED);
    /* The peer vanishes (its link goes dark). */
    sim_link_params dead = sim_link_params_default();
    dead.loss = 1.0;
    sim_link_set(w.s, w.server, w.client, &dead);
    sim_link_set(w.s, w.client, w.server, &dead);
    /* The next probe is due within the idle time (30 s); it and two more,
     * 5 s apart, go unanswered, and 5 s after the third the connection
     * ends: between 15 s and 45 s from now. */
    uint64_t t0 = sim_now(w.s);
    sim_run_until(w.s, t0 + 14 * SIM_SEC);
    assert_int_equal(synack_sock_state(w.c), SYNACK_ESTABLISHED);
    sim_run_until(w.s, t0 + 46 * SIM_SEC);
    assert_int_equal(synack_sock_state(w.c), SYNACK_CLOSED);
    assert_int_equal(synack_sock_error(w.c), -ETIMEDOUT);
    sim_free(w.s);
}

/* ------------------------------------------------------------ lossy bulk */

static void bulk_survives_loss(const char *cc)
{
    world w;
    const char *knobs[][2] = {{"tcp_congestion_control", cc}, {NULL, NULL}};
    open_world(&w, 5, 5, knobs);
    sim_link_params p = sim_link_params_default();
    p.delay_ns = 5 * SIM_MS;
    p.loss = 0.02;
    sim_link_set(w.s, w.client, w.server, &p);
    sim_link_set(w.s, w.server, w.client, &p);
    static uint8_t data[500000], got[500000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 131 + 3);
    size_t sent = 0, recvd = 0;
    for (int i = 0; i < 100000 && recvd < sizeof(data); i++) {
        ssize_t n;
        if (sent < sizeof(data) && (n = synack_send(w.c, data + sent, sizeof(data) - sent)) > 0)
            sent += (size_t)n;
        while ((n = synack_recv(w.a, got + recvd, sizeof(got) - recvd)) > 0)
            recvd += (size_t)n;
        sim_run_until(w.s, sim_now(w.s) + SIM_MS);
    }
    assert_int_equal(recvd, sizeof(data));
    assert_memory_equal(got, data, sizeof(data));
    const synack_counters *k = synack_get_counters(sim_host_stack(w.client));
    assert_true(k->tcp_fast_retrans > 0); /* losses were repaired by fast recovery ... */
    assert_true(k->tcp_retrans_segs < k->tcp_out_segs / 10); /* ... without a storm */
    sim_free(w.s);
}

static void bulk_survives_loss_cubic(void **state)
{
    (void)state;
    bulk_survives_loss("cubic");
}

static void bulk_survives_loss_reno(void **state)
{
    (void)state;
    bulk_survives_loss("reno");
}

/* ------------------------------------------------------------ ACK count */

static long ack_segs, data_segs;
static synack_sock *ack_reader;

static void count_acks(void *ctx, const sim_trace *t)
{
    world *w = ctx;
    if (t->kind != SIM_TRACE_STACK || t->host != w->server)
        return;
    if (t->ev->kind == SYNACK_TRACE_SEG_OUT && !t->ev->seg.len)
        ack_segs++;
    if (t->ev->kind == SYNACK_TRACE_SEG_IN && t->ev->seg.len)
        data_segs++;
}

static void read_all(void *ctx, synack_sock *k, unsigned ev)
{
    (void)ctx;
    static uint8_t buf[1 << 16];
    if (k == ack_reader && (ev & SYNACK_EV_READABLE))
        while (synack_recv(k, buf, sizeof(buf)) > 0)
            ;
}

/* A receiver whose application reads every segment as it comes still
 * sends one ACK per two segments (delayed ACK), not one per read: reading
 * alone does not warrant a window update (Linux's tcp_cleanup_rbuf rule). */
static void reader_that_keeps_up_acks_every_second_segment(void **state)
{
    (void)state;
    world w;
    open_world(&w, 7, 1, NULL);
    ack_segs = data_segs = 0;
    ack_reader = w.a;
    sim_set_trace(w.s, count_acks, &w);
    sim_host_set_event(w.server, read_all, NULL);
    static uint8_t data[1 << 16];
    for (int i = 0; i < 500; i++) {
        while (synack_send(w.c, data, sizeof(data)) > 0)
            ;
        sim_run_until(w.s, sim_now(w.s) + SIM_MS);
    }
    printf("%ld data segments, %ld ACKs\n", data_segs, ack_segs);
    assert_true(data_segs > 1000);
    assert_true(ack_segs <= data_segs / 2 + data_segs / 20);
    sim_free(w.s);
}

/* With sim_host_set_burst_input the frames that reach the receiver at one
 * instant (a flight on a link without a bandwidth limit) go in as one
 * burst, as a device read finds them, and earn one ACK per burst (up to
 * 64 KiB) instead of one per two segments. */
static void bursts_earn_one_ack_each(void **state)
{
    (void)state;
    long acks[2], segs[2];
    for (int burst = 0; burst < 2; burst++) {
        world w;
        open_world(&w, 7, 1, NULL);
        sim_host_set_burst_input(w.server, burst);
        ack_segs = data_segs = 0;
        ack_reader = w.a;
        sim_set_trace(w.s, count_acks, &w);
        sim_host_set_event(w.server, read_all, NULL);
        static uint8_t data[1 << 16];
        for (int i = 0; i < 500; i++) {
            while (synack_send(w.c, data, sizeof(data)) > 0)
                ;
            sim_run_until(w.s, sim_now(w.s) + SIM_MS);
        }
        acks[burst] = ack_segs;
        segs[burst] = data_segs;
        sim_free(w.s);
    }
    printf("frame by frame: %ld segments, %ld ACKs; bursts: %ld segments, %ld ACKs\n", segs[0],
           acks[0], segs[1], acks[1]);
    assert_true(segs[1] > 1000);
    assert_true(acks[0] >= segs[0] / 2 - segs[0] / 20);
    assert_true(acks[1] <= segs[1] / 8);
}

/* ------------------------------------------------------------ autotuning */

/* With Linux's default buffers (16 KiB to send, 128 KiB to receive) a
 * 100 ms path would carry at most 16 KiB per round trip. Both buffers grow
 * by themselves toward tcp_wmem[2] / tcp_rmem[2] as the flight needs. */
static void buffers_grow_with_the_path(void **state)
{
    (void)state;
    world w;
    open_world(&w, 6, 50, NULL);
    static uint8_t data[1 << 16];
    uint64_t sent = 0, recvd = 0, t0 = sim_now(w.s);
    while (sim_now(w.s) - t0 < 10 * SIM_SEC) {
        ssize_t n;
        while ((n = synack_send(w.c, data, sizeof(data))) > 0)
            sent += (uint64_t)n;
        while ((n = synack_recv(w.a, data, sizeof(data))) > 0)
            recvd += (uint64_t)n;
        sim_run_until(w.s, sim_now(w.s) + 5 * SIM_MS);
    }
    int snd = 0, rcv = 0;
    synack_getopt(w.c, SYNACK_SO_SNDBUF, &snd);
    synack_getopt(w.a, SYNACK_SO_RCVBUF, &rcv);
    double mbit = (double)recvd * 8 / 10 / 1e6;
    printf("10 s at 100 ms RTT: %.1f Mbit/s, send buffer %d, receive buffer %d\n", mbit, snd,
           rcv);
    assert_true(snd > 16384 * 4);
    assert_true(rcv > 131072);
    assert_true(mbit > 16384.0 * 8 / 0.1 / 1e6 * 4); /* four times the fixed-buffer bound */
    sim_free(w.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slow_start_doubles_each_round_trip),
        cmocka_unit_test(slow_start_doubles_with_one_ack_per_burst),
        cmocka_unit_test(request_response_never_stalls),
        cmocka_unit_test(zero_window_probed_then_reopened),
        cmocka_unit_test(keepalive_notices_vanished_peer),
        cmocka_unit_test(bulk_survives_loss_cubic),
        cmocka_unit_test(bulk_survives_loss_reno),
        cmocka_unit_test(buffers_grow_with_the_path),
        cmocka_unit_test(reader_that_keeps_up_acks_every_second_segment),
        cmocka_unit_test(bursts_earn_one_ack_each),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
