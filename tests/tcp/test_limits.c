/* test_limits.c — memory bounded by configuration: tcp_max_orphans resets
 * what close would leave beyond it (Linux's tcp_check_oom), and
 * tcp_max_connections caps the connections a stack holds. */
#include "common/pkt.h"

#include <errno.h>

/* With room for one orphan, the second close resets instead of finishing
 * on its own. */
static void orphans_beyond_the_limit_are_reset(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_max_orphans=1");
    synack_sock *l = pkt_listen(h, 80, 8);
    synack_sock *a = pkt_passive_open(h, l);
    uint32_t Sa = h->iss + 1, Pa = h->irs + 1;
    h->peer_port = 40001;
    synack_sock *b = pkt_passive_open(h, l);
    uint32_t Sb = h->iss + 1, Pb = h->irs + 1, idb = pkt_id(b);
    h->peer_port = 40000;
    synack_close(a); /* the first orphan: a FIN, and it finishes on its own */
    pkt_expect(h, FIN | ACK, Sa, Pa);
    h->peer_port = 40001;
    synack_close(b); /* one too many: reset */
    pkt_expect(h, FIN | ACK, Sb, Pb);
    pkt_expect(h, RST | ACK, Sb + 1, Pb);
    pkt_expect_none(h);
    assert_string_equal(pkt_last_cause(h, idb), "close with too many orphans (tcp_max_orphans)");
    assert_int_equal(pkt_counter(h, tcp_abort_on_memory), 1);
}

/* The orphan count goes down as orphans finish: room for the next one. */
static void finished_orphans_make_room(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_max_orphans=1 tcp_msl=1000");
    synack_sock *l = pkt_listen(h, 80, 8);
    synack_sock *a = pkt_passive_open(h, l);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    synack_close(a);
    pkt_expect(h, FIN | ACK, S, P);
    pkt_send(h, FIN | ACK, P, S + 1, PKT_PEER_WND, NULL, 0, NULL); /* TIME-WAIT: no orphan */
    pkt_expect(h, ACK, S + 1, P + 1);
    h->peer_port = 40001;
    synack_sock *b = pkt_passive_open(h, l);
    synack_close(b);
    pkt_expect(h, FIN | ACK, h->iss + 1, h->irs + 1);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, tcp_abort_on_memory), 0);
}

/* tcp_max_connections: connect says -ENOBUFS, a listener drops the SYN. */
static void connection_cap(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_max_connections=1");
    synack_sock *l = pkt_listen(h, 80, 8);
    pkt_passive_open(h, l);
    synack_sock *k = synack_socket(h->s);
    assert_int_equal(pkt_connect(h, k, 9000), -ENOBUFS);
    h->peer_port = 40001;
    pkt_send(h, SYN, 7000, 0, PKT_PEER_WND, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, tcp_conn_limit_drops), 2);
    assert_int_equal(synack_drop_count(h->s, SYNACK_DROP_CONNECTION_LIMIT), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(orphans_beyond_the_limit_are_reset, pkt_teardown),
        cmocka_unit_test_teardown(finished_orphans_make_room, pkt_teardown),
        cmocka_unit_test_teardown(connection_cap, pkt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
