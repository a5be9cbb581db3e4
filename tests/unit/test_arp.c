/* test_arp.c — resolving a next hop on an Ethernet link: requests repeat on
 * their own timer, and a neighbour that never answers fails the connect
 * with EHOSTUNREACH after Linux's three probes, not ETIMEDOUT after the SYN
 * retries (127 s); one that answers late still gets the SYN through. A
 * stale entry in use is probed with requests to its MAC alone, and dropped
 * when three go unanswered (Linux's ucast_solicit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "synack.h"
#include "wire/wire.h"

#define MS 1000000ull
#define US_IP 0x0a000002u   /* 10.0.0.2 */
#define PEER_IP 0x0a000001u /* 10.0.0.1 */

static const uint8_t PEER_MAC[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t BROADCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

typedef struct world {
    synack_stack *s;
    int arp_requests, ipv4_frames;
    int arp_unicast;         /* requests to PEER_MAC alone (probes) */
    unsigned events;
    uint64_t rng;
} world;

static void on_output(void *ctx, const void *frame, size_t len)
{
    world *w = ctx;
    wire_eth e;
    assert_int_equal(wire_eth_parse(frame, len, &e), WIRE_OK);
    if (e.type == WIRE_ETHERTYPE_ARP) {
        wire_arp a;
        assert_int_equal(wire_arp_parse(e.payload, e.payload_len, &a), WIRE_OK);
        assert_int_equal(a.op, WIRE_ARP_REQUEST);
        assert_int_equal(a.tpa, PEER_IP);
        w->arp_requests++;
        if (memcmp(e.dst, BROADCAST, 6) != 0) {
            assert_memory_equal(e.dst, PEER_MAC, 6);
            w->arp_unicast++;
        }
    } else {
        w->ipv4_frames++;
    }
}

static void on_random(void *ctx, void *buf, size_t len)
{
    world *w = ctx;
    uint8_t *p = buf;
    for (size_t i = 0; i < len; i++) {
        w->rng = w->rng * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (uint8_t)(w->rng >> 56);
    }
}

static void on_event(void *ctx, synack_sock *k, unsigned ev)
{
    (void)k;
    ((world *)ctx)->events |= ev;
}

static synack_sock *connecting(world *w)
{
    memset(w, 0, sizeof(*w));
    w->rng = 7;
    synack_config cfg;
    synack_config_init(&cfg);
    cfg.ip = US_IP;
    cfg.output = on_output;
    cfg.output_ctx = w;
    cfg.random = on_random;
    cfg.random_ctx = w;
    cfg.event = on_event;
    cfg.event_ctx = w;
    /* The SYN's own retransmission far away: what happens is ARP's doing. */
    assert_int_equal(synack_config_set(&cfg, "tcp_rto_initial_ms", "10000"), 0);
    w->s = synack_stack_new(&cfg, 1000 * MS);
    assert_non_null(w->s);
    synack_sock *k = synack_socket(w->s);
    assert_int_equal(synack_connect(k, PEER_IP, 80), 0);
    assert_int_equal(w->arp_requests, 1); /* the SYN waits for the answer */
    assert_int_equal(w->ipv4_frames, 0);
    return k;
}

/* Requests at 0, 1 and 2 s, then at 3 s the neighbour is given up: the
 * SYN is dropped and connect fails with EHOSTUNREACH. */
static void silent_neighbour_fails_connect(void **state)
{
    (void)state;
    world w;
    synack_sock *k = connecting(&w);
    uint64_t t = 1000 * MS;
    assert_int_equal(synack_next_deadline(w.s), t + 1000 * MS); /* ARP's own timer */
    for (int i = 1; i <= 3; i++) {
        t = synack_next_deadline(w.s);
        synack_poll(w.s, t);
    }
    assert_int_equal(w.arp_requests, 3);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
    assert_true(w.events & SYNACK_EV_ERROR);
    assert_int_equal(synack_sock_error(k), -EHOSTUNREACH);
    assert_int_equal(t, 4000 * MS); /* three probes, 1 s apart, then the verdict */
    const synack_counters *c = synack_get_counters(w.s);
    assert_int_equal(c->arp_resolve_failed, 1);
    assert_true(c->arp_unresolved_drops >= 1);
    assert_int_equal(w.ipv4_frames, 0);
    synack_close(k);
    synack_stack_free(w.s);
}

/* The first request is lost; ARP asks again after a second on its own
 * timer, and the answer releases the held SYN at once, long before the
 * SYN's retransmission timer. */
static void late_answer_releases_the_syn(void **state)
{
    (void)state;
    world w;
    synack_sock *k = connecting(&w);
    synack_poll(w.s, 2000 * MS - 1); /* nothing due yet */
    assert_int_equal(w.arp_requests, 1);
    synack_poll(w.s, 2000 * MS);
    assert_int_equal(w.arp_requests, 2);
    const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
    uint8_t frame[WIRE_ETH_HDR_LEN + WIRE_ARP_LEN];
    wire_arp a = {.op = WIRE_ARP_REPLY, .spa = PEER_IP, .tpa = US_IP};
    memcpy(a.sha, mac, 6);
    memcpy(a.tha, synack_stack_config(w.s)->mac, 6);
    wire_eth_emit(frame, sizeof frame, synack_stack_config(w.s)->mac, mac, WIRE_ETHERTYPE_ARP);
    wire_arp_emit(frame + WIRE_ETH_HDR_LEN, WIRE_ARP_LEN, &a);
    synack_input(w.s, frame, sizeof frame, 2100 * MS);
    assert_int_equal(w.ipv4_frames, 1); /* the held SYN */
    assert_int_equal(synack_sock_state(k), SYNACK_SYN_SENT);
    synack_close(k);
    synack_stack_free(w.s);
}

/* An ARP reply from the peer (PEER_MAC) to us at `now`. */
static void arp_reply(world *w, uint64_t now)
{
    uint8_t frame[WIRE_ETH_HDR_LEN + WIRE_ARP_LEN];
    wire_arp a = {.op = WIRE_ARP_REPLY, .spa = PEER_IP, .tpa = US_IP};
    memcpy(a.sha, PEER_MAC, 6);
    memcpy(a.tha, synack_stack_config(w->s)->mac, 6);
    wire_eth_emit(frame, sizeof frame, synack_stack_config(w->s)->mac, PEER_MAC,
                  WIRE_ETHERTYPE_ARP);
    wire_arp_emit(frame + WIRE_ETH_HDR_LEN, WIRE_ARP_LEN, &a);
    synack_input(w->s, frame, sizeof frame, now);
}

/* An echo request from the peer at `now`: its reply needs the peer's MAC. */
static void ping(world *w, uint64_t now)
{
    uint8_t frame[WIRE_ETH_HDR_LEN + WIRE_IPV4_HDR_LEN + 8];
    wire_eth_emit(frame, WIRE_ETH_HDR_LEN, synack_stack_config(w->s)->mac, PEER_MAC,
                  WIRE_ETHERTYPE_IPV4);
    wire_ipv4_emit(frame + WIRE_ETH_HDR_LEN, WIRE_IPV4_HDR_LEN, PEER_IP, US_IP,
                   WIRE_IPPROTO_ICMP, 64, 1, 8);
    wire_icmp_emit_echo(frame + WIRE_ETH_HDR_LEN + WIRE_IPV4_HDR_LEN, 8, WIRE_ICMP_ECHO_REQUEST,
                        1, 1, NULL, 0);
    synack_input(w->s, frame, sizeof frame, now);
}

/* Fresh for 60 s after the peer's reply; the first use after that sends
 * the packet to the MAC held and probes it there at once, then twice more
 * a second apart; unanswered, the entry is gone a second after the third,
 * and the next packet waits for a broadcast request, whose answer
 * releases it. */
static void stale_entry_is_probed_then_dropped(void **state)
{
    (void)state;
    world w;
    memset(&w, 0, sizeof w);
    synack_config cfg;
    synack_config_init(&cfg);
    cfg.ip = US_IP;
    cfg.output = on_output;
    cfg.output_ctx = &w;
    cfg.random = on_random;
    cfg.random_ctx = &w;
    w.s = synack_stack_new(&cfg, 1000 * MS);
    assert_non_null(w.s);
    arp_reply(&w, 1000 * MS);
    ping(&w, 60000 * MS);
    assert_int_equal(w.ipv4_frames, 1); /* fresh: no request */
    assert_int_equal(w.arp_requests, 0);
    ping(&w, 62000 * MS);
    assert_int_equal(w.ipv4_frames, 2);
    assert_int_equal(w.arp_unicast, 1);
    assert_int_equal(synack_next_deadline(w.s), 63000 * MS);
    synack_poll(w.s, 63000 * MS);
    synack_poll(w.s, 64000 * MS);
    assert_int_equal(w.arp_unicast, 3);
    ping(&w, 64500 * MS);
    assert_int_equal(w.ipv4_frames, 3); /* still used while probed */
    synack_poll(w.s, 65000 * MS);
    assert_int_equal(w.arp_requests, 3);
    assert_int_equal(synack_next_deadline(w.s), UINT64_MAX); /* gone */
    ping(&w, 65000 * MS);
    assert_int_equal(w.ipv4_frames, 3); /* held */
    assert_int_equal(w.arp_requests, 4);
    assert_int_equal(w.arp_unicast, 3); /* the fourth to everyone */
    arp_reply(&w, 65100 * MS);
    assert_int_equal(w.ipv4_frames, 4);
    assert_int_equal(synack_get_counters(w.s)->arp_requests_sent, 4);
    synack_stack_free(w.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(silent_neighbour_fails_connect),
        cmocka_unit_test(late_answer_releases_the_syn),
        cmocka_unit_test(stale_entry_is_probed_then_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
