/* test_zerocopy.c — synack_send_space/commit and synack_recv_view/consume:
 * a relay reads straight into the send buffer and writes straight from
 * the receive buffer. The bytes on the wire are the bytes written into the
 * space, pieces wrap where the ring does, and consuming reopens the window
 * as a read does. With SYNACK_TCP_DIRECT_DATA in-order data goes to
 * cfg.data from the frame, without the copy into the receive buffer. */
#include "common/pkt.h"

#include <errno.h>
#include <string.h>

static uint8_t pattern[65536];

static void fill_pattern(void) { pkt_fill_pattern(pattern, sizeof pattern); }

/* Bytes written into the space and committed go out as they were. */
static void committed_bytes_are_sent(void **state)
{
    fill_pattern();
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    synack_iov v[2];
    assert_int_equal(synack_send_space(k, v), 16384); /* tcp_wmem[1] */
    assert_int_equal(v[0].len, 16384);
    assert_int_equal(v[1].len, 0);
    memcpy(v[0].base, pattern, 1000);
    pkt_expect_none(h); /* nothing goes before the commit */
    assert_int_equal(synack_send_commit(k, 1000), 1000);
    wire_tcp seg = pkt_expect(h, ACK | PSH, S, P);
    assert_int_equal(seg.payload_len, 1000);
    assert_memory_equal(seg.payload, pattern, 1000);
    /* More than the space is refused, and changes nothing. */
    assert_int_equal(synack_send_space(k, v), 16384 - 1000);
    assert_int_equal(synack_send_commit(k, 16384), -EINVAL);
    pkt_expect_none(h);
    assert_int_equal(synack_writable(k), 16384 - 1000);
}

/* Once the unacknowledged bytes sit in the middle of the ring, the free
 * space comes in two pieces, and the bytes written across the edge are
 * sent in order. */
static void space_wraps_with_the_ring(void **state)
{
    fill_pattern();
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    synack_iov v[2];
    assert_int_equal(synack_send_space(k, v), 16384);
    memcpy(v[0].base, pattern, 10000);
    assert_int_equal(synack_send_commit(k, 10000), 10000);
    pkt_drain(h);
    pkt_send(h, ACK, P, S + 6000, PKT_PEER_WND, NULL, 0, NULL);
    pkt_drain(h);
    assert_int_equal(synack_send_space(k, v), 16384 - 4000);
    assert_int_equal(v[0].len, 16384 - 10000);
    assert_int_equal(v[1].len, 6000);
    memcpy(v[0].base, pattern + 10000, v[0].len);
    memcpy(v[1].base, pattern + 10000 + v[0].len, 2000);
    assert_int_equal(synack_send_commit(k, v[0].len + 2000), 16384 - 10000 + 2000);
    static uint8_t got[65536];
    uint32_t top = pkt_collect(h, got, S);
    while (top < 18384) {
        pkt_send(h, ACK, P, S + top, PKT_PEER_WND, NULL, 0, NULL);
        uint32_t t = pkt_collect(h, got, S);
        assert_true(t > top);
        top = t;
    }
    assert_int_equal(top, 18384);
    assert_memory_equal(got + 10000, pattern + 10000, 8384);
}

/* The calls fail as synack_send does: full, and after shutdown. An empty
 * commit gives the ring back (buffers come with the data). */
static void space_errors_follow_send(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    synack_iov v[2];
    assert_int_equal(synack_send_space(k, v), 16384);
    assert_int_equal(synack_send_commit(k, 0), 0);
    synack_sockstat st;
    synack_get_sockstat(h->s, &st);
    assert_int_equal(st.mem_bytes, 0);
    /* Full: the peer's window is 0, so nothing leaves and nothing frees. */
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK, P, S, 0, NULL, 0, NULL);
    for (int i = 0; i < 8; i++) {
        ssize_t n = synack_send_space(k, v);
        if (n == -EAGAIN)
            break;
        assert_true(n > 0);
        assert_int_equal(synack_send_commit(k, (size_t)n), n);
    }
    assert_int_equal(synack_send_space(k, v), -EAGAIN);
    pkt_drain(h);
    assert_int_equal(synack_shutdown(k, SYNACK_SHUT_WR), 0);
    assert_int_equal(synack_send_space(k, v), -EPIPE);
    assert_int_equal(synack_send_commit(k, 1), -EPIPE);
}

/* The view shows the bytes ready in order, in two pieces across the ring's
 * edge; consuming drops them as a read would. */
static void view_shows_ready_bytes(void **state)
{
    fill_pattern();
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    synack_iov v[2];
    assert_int_equal(synack_recv_view(k, v), -EAGAIN);
    pkt_send(h, ACK | PSH, P, S, PKT_PEER_WND, pattern, 1000, NULL);
    assert_int_equal(synack_recv_view(k, v), 1000);
    assert_int_equal(v[0].len, 1000);
    assert_int_equal(v[1].len, 0);
    assert_memory_equal(v[0].base, pattern, 1000);
    assert_int_equal(synack_recv_consume(k, 1001), -EINVAL);
    assert_int_equal(synack_recv_consume(k, 400), 400);
    assert_int_equal(synack_recv_view(k, v), 600);
    assert_memory_equal(v[0].base, pattern + 400, 600);
    assert_int_equal(synack_recv_consume(k, 600), 600);
    assert_int_equal(synack_recv_view(k, v), -EAGAIN);
    /* Keep a byte unread so the ring stays (an empty one goes back), and
     * move its head near the end: the next bytes wrap. */
    uint32_t cap = 131072, at = 1000, head = 0; /* tcp_rmem[1]; the head is 0 again */
    while (head < cap - 600) {
        uint32_t n = cap - 600 - head > 1460 ? 1460 : cap - 600 - head;
        pkt_send(h, ACK, P + at, S, PKT_PEER_WND, pattern + (at % 32768), n, NULL);
        at += n;
        head += n;
        pkt_advance(h, 10); /* tuning looks at a round trip's reads: none grow it */
        pkt_drain(h);
        ssize_t ready = synack_recv_view(k, v);
        assert_true(ready > 1);
        assert_int_equal(synack_recv_consume(k, (size_t)ready - 1), ready - 1);
    }
    pkt_send(h, ACK | PSH, P + at, S, PKT_PEER_WND, pattern, 1000, NULL);
    assert_int_equal(synack_recv_view(k, v), 1001);
    assert_int_equal(v[0].len, 601);
    assert_int_equal(v[1].len, 400);
    assert_memory_equal((uint8_t *)v[0].base + 1, pattern, 600);
    assert_memory_equal(v[1].base, pattern + 600, 400);
}

/* Consuming reopens the window as synack_recv does: the update goes out
 * when the call returns; a view alone sends nothing. At the peer's FIN the
 * view says 0. */
static void consume_reopens_the_window(void **state)
{
    fill_pattern();
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1, at = 0;
    wire_tcp last = {0};
    for (int i = 0; i < 86; i++, at += 1460) /* most of the 128 KiB ring */
        pkt_send(h, ACK, P + at, S, PKT_PEER_WND, pattern + at % 32768, 1460, NULL);
    while (pkt_pending(h)) {
        size_t len = pkt_pop(h);
        assert_true(pkt_parse(h, h->last, len, &last));
    }
    assert_true(last.wnd < 8192); /* the window closed as the data came */
    synack_iov v[2];
    assert_int_equal(synack_recv_view(k, v), at);
    pkt_expect_none(h); /* looking is not reading */
    assert_int_equal(synack_recv_consume(k, at), at);
    wire_tcp upd = pkt_expect(h, ACK, S, P + at);
    assert_true(upd.wnd >= 65535 >> 1);
    pkt_send(h, ACK | FIN, P + at, S, PKT_PEER_WND, NULL, 0, NULL);
    pkt_drain(h);
    assert_int_equal(synack_recv_view(k, v), 0);
    assert_int_equal(synack_recv_consume(k, 1), -EINVAL);
}

/* With cfg.output_v a segment's payload leaves from the send buffer as
 * pieces behind the headers: the frames are the same bytes, checksums
 * right (pkt_parse verifies them), two pieces where the ring wraps; frames
 * without payload still go through output. */
static void gathered_segments_are_the_same_bytes(void **state)
{
    fill_pattern();
    pkt_h *h = *state = pkt_new("gather=1");
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_send(k, pattern, 10000), 10000);
    static uint8_t got[65536];
    uint32_t top = pkt_collect(h, got, S);
    assert_int_equal(top, 10000);
    assert_memory_equal(got, pattern, 10000);
    assert_int_equal(h->gathered[3], 0);
    uint64_t whole = h->gathered[2];
    assert_true(whole >= 7); /* ten thousand bytes in 1460-byte segments */
    pkt_send(h, ACK, P, S + 6000, PKT_PEER_WND, NULL, 0, NULL);
    pkt_drain(h);
    /* The ring now wraps at 16384: the next segments straddle its end. */
    assert_int_equal(synack_send(k, pattern + 10000, 8000), 8000);
    top = pkt_collect(h, got, S);
    while (top < 18000) {
        pkt_send(h, ACK, P, S + top, PKT_PEER_WND, NULL, 0, NULL);
        top = pkt_collect(h, got, S);
    }
    assert_memory_equal(got + 10000, pattern + 10000, 8000);
    assert_true(h->gathered[3] >= 1);
    /* An ACK alone is one piece: output, not output_v. */
    uint64_t before = h->gathered[2] + h->gathered[3];
    pkt_send(h, ACK | PSH, P, S + 18000, PKT_PEER_WND, pattern, 10, NULL);
    pkt_expect(h, ACK, S + 18000, P + 10);
    assert_int_equal(h->gathered[2] + h->gathered[3], before);
}

/* SYNACK_TCP_DIRECT_DATA: in-order data goes to cfg.data from the frame,
 * and nothing is buffered (no ring, no READABLE); the segment is
 * acknowledged as a read one would be. */
static void direct_data_skips_the_buffer(void **state)
{
    fill_pattern();
    pkt_h *h = *state = pkt_new("direct=65536");
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_setopt(k, SYNACK_TCP_DIRECT_DATA, 1), 0);
    int on = 0;
    assert_int_equal(synack_getopt(k, SYNACK_TCP_DIRECT_DATA, &on), 0);
    assert_int_equal(on, 1);
    pkt_events(h, k);
    pkt_send(h, ACK | PSH, P, S, PKT_PEER_WND, pattern, 1000, NULL);
    assert_int_equal(h->direct_len, 1000);
    assert_memory_equal(h->direct, pattern, 1000);
    pkt_expect(h, ACK, S, P + 1000); /* a short write's data: acknowledged at once */
    assert_false(pkt_events(h, k) & SYNACK_EV_READABLE);
    uint8_t buf[16];
    assert_int_equal(synack_recv(k, buf, sizeof buf), -EAGAIN);
    synack_sockstat st;
    synack_get_sockstat(h->s, &st);
    assert_int_equal(st.mem_bytes, 0);
    /* The FIN after directly taken data: end of stream as usual. */
    pkt_send(h, ACK | PSH | FIN, P + 1000, S, PKT_PEER_WND, pattern + 1000, 500, NULL);
    assert_int_equal(h->direct_len, 1500);
    assert_memory_equal(h->direct + 1000, pattern + 1000, 500);
    assert_true(pkt_events(h, k) & SYNACK_EV_READABLE);
    assert_int_equal(synack_recv(k, buf, sizeof buf), 0);
}

/* What the application does not take is buffered, and later data waits
 * behind it (the stream stays in order); once it is read, data goes
 * direct again. Without cfg.data the option is refused. */
static void direct_data_keeps_the_order(void **state)
{
    fill_pattern();
    pkt_h *h = *state = pkt_new("direct=300");
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_setopt(k, SYNACK_TCP_DIRECT_DATA, 1), 0);
    pkt_send(h, ACK, P, S, PKT_PEER_WND, pattern, 1000, NULL);
    assert_int_equal(h->direct_len, 300);
    pkt_send(h, ACK, P + 1000, S, PKT_PEER_WND, pattern + 1000, 500, NULL);
    assert_int_equal(h->direct_len, 300); /* 700 bytes wait before it */
    static uint8_t buf[4096];
    assert_int_equal(synack_recv(k, buf, sizeof buf), 1200);
    assert_memory_equal(h->direct, pattern, 300);
    assert_memory_equal(buf, pattern + 300, 1200);
    /* A hole: data beyond it is kept in the ring; the segment that fills
     * the hole is not taken directly either (it joins the bytes after it). */
    pkt_send(h, ACK, P + 2500, S, PKT_PEER_WND, pattern + 2500, 500, NULL);
    pkt_send(h, ACK, P + 1500, S, PKT_PEER_WND, pattern + 1500, 1000, NULL);
    assert_int_equal(h->direct_len, 300);
    assert_int_equal(synack_recv(k, buf, sizeof buf), 1500);
    assert_memory_equal(buf, pattern + 1500, 1500);
    pkt_send(h, ACK, P + 3000, S, PKT_PEER_WND, pattern + 3000, 200, NULL);
    assert_int_equal(h->direct_len, 500);
    assert_memory_equal(h->direct + 300, pattern + 3000, 200);

    pkt_h *plain = pkt_new(NULL);
    synack_sock *k2 = pkt_established(plain);
    assert_int_equal(synack_setopt(k2, SYNACK_TCP_DIRECT_DATA, 1), -EINVAL);
    pkt_free(plain);
}

/* A connection still in the accept queue gets nothing directly (children
 * inherit the listener's option): the data waits for the application that
 * accepts it, as events do. */
static void direct_data_waits_for_accept(void **state)
{
    fill_pattern();
    pkt_h *h = *state = pkt_new("direct=65536");
    synack_sock *l = pkt_listen(h, 80, 8);
    assert_int_equal(synack_setopt(l, SYNACK_TCP_DIRECT_DATA, 1), 0);
    wire_tcp_opts o = pkt_opts_mss(1460);
    h->irs = PKT_PEER_ISS;
    pkt_send(h, SYN, h->irs, 0, PKT_PEER_WND, NULL, 0, &o);
    wire_tcp sa = pkt_expect(h, SYN | ACK, PKT_ANY, h->irs + 1);
    h->iss = sa.seq;
    pkt_send(h, ACK | PSH, h->irs + 1, h->iss + 1, PKT_PEER_WND, pattern, 100, NULL);
    pkt_drain(h);
    assert_int_equal(h->direct_len, 0);
    synack_sock *k = synack_accept(l, NULL);
    assert_non_null(k);
    uint8_t buf[200];
    assert_int_equal(synack_recv(k, buf, sizeof buf), 100);
    assert_memory_equal(buf, pattern, 100);
    pkt_send(h, ACK | PSH, h->irs + 101, h->iss + 1, PKT_PEER_WND, pattern + 100, 50, NULL);
    assert_int_equal(h->direct_len, 50); /* accepted: direct from now on */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(committed_bytes_are_sent, pkt_teardown),
        cmocka_unit_test_teardown(space_wraps_with_the_ring, pkt_teardown),
        cmocka_unit_test_teardown(space_errors_follow_send, pkt_teardown),
        cmocka_unit_test_teardown(view_shows_ready_bytes, pkt_teardown),
        cmocka_unit_test_teardown(consume_reopens_the_window, pkt_teardown),
        cmocka_unit_test_teardown(gathered_segments_are_the_same_bytes, pkt_teardown),
        cmocka_unit_test_teardown(direct_data_skips_the_buffer, pkt_teardown),
        cmocka_unit_test_teardown(direct_data_keeps_the_order, pkt_teardown),
        cmocka_unit_test_teardown(direct_data_waits_for_accept, pkt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
