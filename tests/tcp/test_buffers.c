/* test_buffers.c — buffers come with the data and go when they are empty,
 * and all of them together are held to tcp_mem (src/tcp/mem.c): an idle
 * connection holds no buffer, pressure shrinks new windows and drops
 * out-of-order data, and over the hard limit a connection gets only
 * tcp_rmem[0]. Memory is read as the stack reports it (synack_sockstat). */
#include "common/pkt.h"

#include <stdlib.h>
#include <string.h>

static uint64_t mem_bytes(pkt_h *h)
{
    synack_sockstat st;
    synack_get_sockstat(h->s, &st);
    return st.mem_bytes;
}

static int pressure(pkt_h *h)
{
    synack_sockstat st;
    synack_get_sockstat(h->s, &st);
    return st.memory_pressure;
}

static uint8_t payload[8192];

/* The peer's data brings the receive ring, reading it all returns it;
 * our data brings the send ring, the peer's ACK of all of it returns it. */
static void idle_connection_holds_no_buffers(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(mem_bytes(h), 0);

    pkt_send(h, ACK | PSH, P, S, PKT_PEER_WND, payload, 100, NULL);
    assert_int_equal(mem_bytes(h), 131072); /* tcp_rmem[1] */
    char buf[200];
    assert_int_equal(synack_recv(k, buf, sizeof buf), 100);
    assert_int_equal(mem_bytes(h), 0);
    pkt_drain(h);

    assert_int_equal(synack_send(k, payload, 100), 100);
    assert_int_equal(mem_bytes(h), 16384); /* tcp_wmem[1] */
    pkt_expect(h, ACK | PSH, S, P + 100);
    pkt_send(h, ACK, P + 100, S + 50, PKT_PEER_WND, NULL, 0, NULL);
    assert_int_equal(mem_bytes(h), 16384); /* half acknowledged: it stays */
    pkt_send(h, ACK, P + 100, S + 100, PKT_PEER_WND, NULL, 0, NULL);
    assert_int_equal(mem_bytes(h), 0);
    /* Without a ring the whole buffer is still offered. */
    pkt_send(h, ACK | PSH, P + 100, S + 100, PKT_PEER_WND, payload, 10, NULL);
    assert_int_equal(synack_recv(k, buf, sizeof buf), 10);
    pkt_advance(h, 200);
    wire_tcp a = pkt_expect(h, ACK, S + 100, P + 110);
    assert_int_equal(a.wnd, 65535);
    assert_int_equal(synack_writable(k), 16384);
}

/* Out-of-order data keeps the ring until the hole fills. */
static void out_of_order_data_keeps_its_ring(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK, P, S, PKT_PEER_WND, payload, 100, NULL);
    pkt_send(h, ACK, P + 200, S, PKT_PEER_WND, payload, 100, NULL);
    char buf[400];
    assert_int_equal(synack_recv(k, buf, sizeof buf), 100);
    assert_int_equal(mem_bytes(h), 131072);
    pkt_send(h, ACK, P + 100, S, PKT_PEER_WND, payload, 100, NULL);
    assert_int_equal(synack_recv(k, buf, sizeof buf), 200);
    assert_int_equal(mem_bytes(h), 0);
    assert_int_equal(pkt_counter(h, tcp_ofo_pruned), 0);
}

/* The out-of-order ranges take memory only while there are some: their
 * array comes with the first range and goes when the hole fills, so an
 * idle connection does not carry it (issue 13: a million connections). */
static void out_of_order_ranges_come_and_go(void **state)
{
    pkt_allocator = pkt_counting_allocator;
    pkt_h *h = *state = pkt_new(NULL);
    pkt_allocator = (synack_allocator){0};
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK, P, S, PKT_PEER_WND, payload, 100, NULL); /* the ring */
    long with_ring = pkt_live_blocks;
    pkt_send(h, ACK, P + 200, S, PKT_PEER_WND, payload, 100, NULL);
    assert_int_equal(pkt_live_blocks, with_ring + 1);
    pkt_send(h, ACK, P + 400, S, PKT_PEER_WND, payload, 100, NULL); /* same array */
    assert_int_equal(pkt_live_blocks, with_ring + 1);
    pkt_send(h, ACK, P + 100, S, PKT_PEER_WND, payload, 100, NULL);
    assert_int_equal(pkt_live_blocks, with_ring + 1); /* one hole left */
    pkt_send(h, ACK, P + 300, S, PKT_PEER_WND, payload, 100, NULL);
    assert_int_equal(pkt_live_blocks, with_ring);
    char buf[600];
    assert_int_equal(synack_recv(k, buf, sizeof buf), 500);
}

/* Above tcp_mem[2] a new ring gets tcp_rmem[0]: a connection whose window
 * was offered before memory ran short takes what fits and drops the rest,
 * counted; the peer sends it again after a read. A connection opened
 * then is offered no more than it gets. */
static void hard_limit_leaves_the_minimum(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_mem=1,2,40"); /* 160 KiB: one default receive ring */
    synack_sock *l = pkt_listen(h, 80, 8);
    synack_sock *a = pkt_passive_open(h, l);
    uint32_t Sa = h->iss + 1, Pa = h->irs + 1;
    h->peer_port = 40001;
    synack_sock *b = pkt_passive_open(h, l);
    uint32_t Sb = h->iss + 1, Pb = h->irs + 1;

    h->peer_port = 40000;
    pkt_send(h, ACK, Pa, Sa, PKT_PEER_WND, payload, 100, NULL);
    assert_int_equal(mem_bytes(h), 131072);
    h->peer_port = 40001;
    pkt_send(h, ACK, Pb, Sb, PKT_PEER_WND, payload, 3000, NULL);
    assert_int_equal(mem_bytes(h), 131072 + 4096);
    pkt_send(h, ACK, Pb + 3000, Sb, PKT_PEER_WND, payload, 3000, NULL);
    assert_int_equal(pkt_counter(h, tcp_rcv_buf_drop), 1);
    pkt_advance(h, 200);
    pkt_drain(h);
    uint8_t buf[8192];
    assert_int_equal(synack_recv(b, buf, sizeof buf), 4096);
    assert_int_equal(mem_bytes(h), 131072);
    pkt_send(h, ACK, Pb + 4096, Sb, PKT_PEER_WND, payload, 1904, NULL);
    assert_int_equal(synack_recv(b, buf, sizeof buf), 1904);

    pkt_drain(h);
    h->peer_port = 40002;
    pkt_send(h, SYN, 7000, 0, PKT_PEER_WND, NULL, 0, NULL);
    wire_tcp sa = pkt_expect(h, SYN | ACK, PKT_ANY, 7001);
    assert_int_equal(sa.wnd, 4096); /* all it would get now */
    (void)a;
}

/* Pressure starts above tcp_mem[1] and ends below tcp_mem[0]; meanwhile a
 * new connection is offered tcp_rmem[1], not its larger SO_RCVBUF. */
static void pressure_shrinks_new_windows(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_mem=1,4,100000 tcp_rmem=4096,16384,6291456");
    synack_sock *l = synack_socket(h->s);
    assert_int_equal(synack_setopt(l, SYNACK_SO_RCVBUF, 40000), 0);
    assert_int_equal(synack_bind(l, 80), 0);
    assert_int_equal(synack_listen(l, 8), 0);
    h->port = 80;
    synack_sock *a = pkt_passive_open(h, l);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK, P, S, PKT_PEER_WND, payload, 100, NULL); /* 40000 B: 10 pages */
    assert_int_equal(pressure(h), 1);
    assert_int_equal(pkt_counter(h, tcp_memory_pressures), 1);
    pkt_drain(h);

    h->peer_port = 40001;
    pkt_send(h, SYN, 5000, 0, PKT_PEER_WND, NULL, 0, NULL);
    wire_tcp sa = pkt_expect(h, SYN | ACK, PKT_ANY, 5001);
    assert_int_equal(sa.wnd, 16384); /* tcp_rmem[1] */

    h->peer_port = 40000;
    char buf[200];
    assert_int_equal(synack_recv(a, buf, sizeof buf), 100);
    assert_int_equal(pressure(h), 0); /* below tcp_mem[0] again */
    pkt_drain(h);
    h->peer_port = 40002;
    pkt_send(h, SYN, 9000, 0, PKT_PEER_WND, NULL, 0, NULL);
    sa = pkt_expect(h, SYN | ACK, PKT_ANY, 9001);
    assert_int_equal(sa.wnd, 40000);
    assert_int_equal(pkt_counter(h, tcp_memory_pressures), 1);
}

/* Under pressure out-of-order data gets no new ring, and a ring that holds
 * only out-of-order data once the application has read is released (the
 * data pruned, as RFC 2018 §8 allows). */
static void pressure_prunes_out_of_order_data(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_mem=1,4,100000");
    synack_sock *l = pkt_listen(h, 80, 8);
    synack_sock *a = pkt_passive_open(h, l);
    uint32_t Sa = h->iss + 1, Pa = h->irs + 1;
    h->peer_port = 40001;
    pkt_passive_open(h, l);
    uint32_t Sb = h->iss + 1, Pb = h->irs + 1;

    h->peer_port = 40000;
    pkt_send(h, ACK, Pa, Sa, PKT_PEER_WND, payload, 100, NULL);
    pkt_send(h, ACK, Pa + 200, Sa, PKT_PEER_WND, payload, 100, NULL);
    assert_int_equal(pressure(h), 1);
    uint64_t held = mem_bytes(h);

    h->peer_port = 40001;
    pkt_send(h, ACK, Pb + 100, Sb, PKT_PEER_WND, payload, 100, NULL);
    assert_int_equal(pkt_counter(h, tcp_ofo_drop), 1);
    assert_int_equal(mem_bytes(h), held);

    char buf[400];
    assert_int_equal(synack_recv(a, buf, sizeof buf), 100);
    assert_int_equal(pkt_counter(h, tcp_ofo_pruned), 1);
    assert_int_equal(mem_bytes(h), 0);
    /* The hole's data now comes; the pruned range must come again. */
    pkt_drain(h);
    h->peer_port = 40000;
    pkt_send(h, ACK, Pa + 100, Sa, PKT_PEER_WND, payload, 100, NULL);
    assert_int_equal(synack_recv(a, buf, sizeof buf), 100);
    pkt_advance(h, 200);
    wire_tcp ack = pkt_expect(h, ACK, Sa, Pa + 200);
    assert_int_equal(ack.opt.sack_count, 0);
}

/* Pressure must not break a promise: a window offered before pressure
 * began is honoured in full when the data comes (only the hard limit may
 * drop data inside it). */
static void pressure_keeps_the_offered_window(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_mem=1,4,100000 tcp_rmem=4096,16384,6291456");
    synack_sock *l = synack_socket(h->s);
    assert_int_equal(synack_setopt(l, SYNACK_SO_RCVBUF, 40000), 0);
    assert_int_equal(synack_bind(l, 80), 0);
    assert_int_equal(synack_listen(l, 8), 0);
    h->port = 80;
    synack_sock *a = pkt_passive_open(h, l); /* offered 40000 */
    uint32_t Sa = h->iss + 1, Pa = h->irs + 1;
    h->peer_port = 40001;
    synack_sock *b = pkt_passive_open(h, l);
    pkt_send(h, ACK, h->irs + 1, h->iss + 1, PKT_PEER_WND, payload, 100, NULL);
    assert_int_equal(pressure(h), 1); /* b's ring: 10 pages */
    h->peer_port = 40000;
    for (uint32_t off = 0; off < 32000; off += 4000)
        pkt_send(h, ACK, Pa + off, Sa, PKT_PEER_WND, payload, 4000, NULL);
    assert_int_equal(pkt_counter(h, tcp_rcv_buf_drop), 0);
    assert_int_equal(synack_readable(a), 32000);
    (void)b;
}

/* A connection that ends holds no send buffer (Linux purges its write
 * queue), and a send of nothing allocates none. */
static void closed_connections_return_their_buffers(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_send(k, payload, 0), 0);
    assert_int_equal(mem_bytes(h), 0);
    assert_int_equal(synack_send(k, payload, 100), 100);
    assert_int_equal(mem_bytes(h), 16384);
    pkt_send(h, RST, P, 0, 0, NULL, 0, NULL);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
    assert_int_equal(mem_bytes(h), 0);
    (void)S;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(idle_connection_holds_no_buffers, pkt_teardown),
        cmocka_unit_test_teardown(out_of_order_data_keeps_its_ring, pkt_teardown),
        cmocka_unit_test_teardown(out_of_order_ranges_come_and_go, pkt_teardown),
        cmocka_unit_test_teardown(hard_limit_leaves_the_minimum, pkt_teardown),
        cmocka_unit_test_teardown(pressure_shrinks_new_windows, pkt_teardown),
        cmocka_unit_test_teardown(pressure_prunes_out_of_order_data, pkt_teardown),
        cmocka_unit_test_teardown(pressure_keeps_the_offered_window, pkt_teardown),
        cmocka_unit_test_teardown(closed_connections_return_their_buffers, pkt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
