/* test_reasons.c — causes and drop reasons as enums: every drop is counted
 * under its reason (like Linux's skb_drop_reason), every state change names
 * its cause, and the lab-only switch is out of the public configuration. */
#include "common/pkt.h"

#include <errno.h>
#include <string.h>

/* Each cause and drop reason has its own non-empty name; NONE is "". */
static void names_are_distinct(void **state)
{
    (void)state;
    for (int i = 1; i < SYNACK_CAUSE_COUNT; i++) {
        assert_true(strlen(synack_cause_name(i)) > 0);
        for (int j = 1; j < i; j++)
            assert_string_not_equal(synack_cause_name(i), synack_cause_name(j));
    }
    for (int i = 1; i < SYNACK_DROP_COUNT; i++) {
        assert_true(strlen(synack_drop_name(i)) > 0);
        for (int j = 1; j < i; j++)
            assert_string_not_equal(synack_drop_name(i), synack_drop_name(j));
    }
    assert_string_equal(synack_cause_name(SYNACK_CAUSE_NONE), "");
    assert_string_equal(synack_cause_name(SYNACK_CAUSE_COUNT), "?");
    assert_string_equal(synack_drop_name(-1), "?");
}

/* Only the reason that applies moves, once per dropped segment. */
static void assert_only_drop(pkt_h *h, int reason, uint64_t n)
{
    for (int i = 0; i < SYNACK_DROP_COUNT + 1; i++)
        assert_int_equal(synack_drop_count(h->s, i), i == reason ? n : 0);
}

static void drops_counted_by_reason(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_only_drop(h, SYNACK_DROP_NONE, 0);
    /* Far beyond the window: dropped, answered with an ACK. */
    pkt_send(h, ACK, P + 5000000, S, PKT_PEER_WND, "x", 1, NULL);
    pkt_expect(h, ACK, S, P);
    assert_only_drop(h, SYNACK_DROP_OUT_OF_WINDOW, 1);
    pkt_send(h, ACK, P + 6000000, S, PKT_PEER_WND, "y", 1, NULL);
    pkt_expect(h, ACK, S, P);
    assert_only_drop(h, SYNACK_DROP_OUT_OF_WINDOW, 2);
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
}

static void ack_of_unsent_data_counted(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK, P, S + 100, PKT_PEER_WND, NULL, 0, NULL);
    pkt_expect(h, ACK, S, P);
    assert_only_drop(h, SYNACK_DROP_ACK_UNSENT_DATA, 1);
}

/* The traced cause is the enum's name: a program compares the enum, a
 * person reads the text. */
static void cause_names_the_transition(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t id = pkt_id(k), S = h->iss + 1, P = h->irs + 1;
    assert_string_equal(pkt_last_cause(h, id), synack_cause_name(SYNACK_CAUSE_RCV_ACK));
    pkt_send(h, FIN | ACK, P, S, PKT_PEER_WND, NULL, 0, NULL);
    assert_string_equal(pkt_last_cause(h, id), synack_cause_name(SYNACK_CAUSE_RCV_FIN));
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSE_WAIT);
}

/* The two-way handshake exists for `synack lab why-three-way` only: an
 * embedder cannot switch it on by name. */
static void lab_switch_not_public(void **state)
{
    (void)state;
    synack_config cfg;
    synack_config_init(&cfg);
    assert_int_equal(synack_config_set(&cfg, "lab_two_way_handshake", "1"), -ENOENT);
    assert_int_equal(synack_config_set(&cfg, "net.ipv4.lab_two_way_handshake", "1"), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_are_distinct),
        cmocka_unit_test_teardown(drops_counted_by_reason, pkt_teardown),
        cmocka_unit_test_teardown(ack_of_unsent_data_counted, pkt_teardown),
        cmocka_unit_test_teardown(cause_names_the_transition, pkt_teardown),
        cmocka_unit_test(lab_switch_not_public),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
