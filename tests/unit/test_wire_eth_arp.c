/* test_wire_eth_arp.c — Ethernet II header and ARP (RFC 826). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "unit/testutil.h"
#include "wire/wire.h"

/* An ARP request on the wire, padded to the 60-byte Ethernet minimum:
 * who-has 10.0.0.2 tell 10.0.0.1 (52:54:00:12:34:56). */
static const char ARP_REQ_FRAME[] =
    "ffffffffffff 525400123456 0806"
    "0001 0800 06 04 0001 525400123456 0a000001 000000000000 0a000002"
    "000000000000000000000000000000000000";

static const uint8_t MAC_A[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t MAC_B[6] = {0x02, 0x00, 0x00, 0xaa, 0xbb, 0xcc};
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void eth_parse_valid(void **state)
{
    (void)state;
    uint8_t f[64];
    size_t n = hex_decode(ARP_REQ_FRAME, f, sizeof(f));
    assert_int_equal(n, 60);
    wire_eth e;
    assert_int_equal(wire_eth_parse(f, n, &e), WIRE_OK);
    assert_ptr_equal(e.dst, f);
    assert_ptr_equal(e.src, f + 6);
    assert_memory_equal(e.dst, BCAST, 6);
    assert_memory_equal(e.src, MAC_A, 6);
    assert_int_equal(e.type, WIRE_ETHERTYPE_ARP);
    assert_ptr_equal(e.payload, f + 14);
    assert_int_equal(e.payload_len, 46);
    /* A bare header is a frame with an empty payload. */
    assert_int_equal(wire_eth_parse(f, 14, &e), WIRE_OK);
    assert_int_equal(e.payload_len, 0);
}

static void eth_parse_truncated(void **state)
{
    (void)state;
    uint8_t f[64];
    hex_decode(ARP_REQ_FRAME, f, sizeof(f));
    for (size_t len = 0; len < WIRE_ETH_HDR_LEN; len++) {
        uint8_t *c = exact_copy(f, len);
        wire_eth e;
        assert_int_equal(wire_eth_parse(c, len, &e), WIRE_TRUNCATED);
        free(c);
    }
}

static void eth_emit(void **state)
{
    (void)state;
    uint8_t buf[14];
    memset(buf, 0xee, sizeof(buf));
    assert_int_equal(wire_eth_emit(buf, 13, MAC_B, MAC_A, WIRE_ETHERTYPE_IPV4), 0);
    assert_int_equal(buf[0], 0xee); /* nothing written */
    assert_int_equal(wire_eth_emit(buf, 14, MAC_B, MAC_A, WIRE_ETHERTYPE_IPV4), 14);
    uint8_t want[14];
    hex_decode("020000aabbcc 525400123456 0800", want, sizeof(want));
    assert_memory_equal(buf, want, 14);
    wire_eth e;
    assert_int_equal(wire_eth_parse(buf, 14, &e), WIRE_OK);
    assert_int_equal(e.type, WIRE_ETHERTYPE_IPV4);
    assert_memory_equal(e.src, MAC_A, 6);
}

static void arp_parse_valid(void **state)
{
    (void)state;
    uint8_t f[64];
    size_t n = hex_decode(ARP_REQ_FRAME, f, sizeof(f));
    wire_arp a;
    /* With the Ethernet padding after it, and without. */
    assert_int_equal(wire_arp_parse(f + 14, n - 14, &a), WIRE_OK);
    assert_int_equal(wire_arp_parse(f + 14, WIRE_ARP_LEN, &a), WIRE_OK);
    assert_int_equal(a.op, WIRE_ARP_REQUEST);
    assert_memory_equal(a.sha, MAC_A, 6);
    assert_int_equal(a.spa, 0x0a000001);
    uint8_t zero[6] = {0};
    assert_memory_equal(a.tha, zero, 6);
    assert_int_equal(a.tpa, 0x0a000002);
}

static void arp_parse_truncated(void **state)
{
    (void)state;
    uint8_t f[64];
    hex_decode(ARP_REQ_FRAME, f, sizeof(f));
    for (size_t len = 0; len < WIRE_ARP_LEN; len++) {
        uint8_t *c = exact_copy(f + 14, len);
        wire_arp a;
        assert_int_equal(wire_arp_parse(c, len, &a), WIRE_TRUNCATED);
        free(c);
    }
}

static void arp_parse_malformed(void **state)
{
    (void)state;
    uint8_t f[64];
    hex_decode(ARP_REQ_FRAME, f, sizeof(f));
    uint8_t *arp = f + 14;
    wire_arp a;
    struct { size_t off; uint8_t val; } bad[] = {
        {1, 6},     /* htype 6 (IEEE 802) */
        {0, 1},     /* htype 0x0101       */
        {2, 0x86},  /* ptype 0x86dd       */
        {3, 0x06},  /* ptype 0x0806       */
        {4, 8},     /* hlen 8             */
        {5, 16},    /* plen 16            */
        {7, 0},     /* op 0               */
        {7, 3},     /* op 3 (RARP request)*/
        {6, 1},     /* op 0x0101          */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t c[WIRE_ARP_LEN];
        memcpy(c, arp, sizeof(c));
        c[bad[i].off] = bad[i].val;
        assert_int_equal(wire_arp_parse(c, sizeof(c), &a), WIRE_BAD_HEADER);
    }
}

static void arp_emit(void **state)
{
    (void)state;
    wire_arp r = {.op = WIRE_ARP_REPLY, .spa = 0x0a000002, .tpa = 0x0a000001};
    memcpy(r.sha, MAC_B, 6);
    memcpy(r.tha, MAC_A, 6);
    uint8_t buf[WIRE_ARP_LEN];
    for (size_t cap = 0; cap < WIRE_ARP_LEN; cap++)
        assert_int_equal(wire_arp_emit(buf, cap, &r), 0);
    assert_int_equal(wire_arp_emit(buf, sizeof(buf), &r), WIRE_ARP_LEN);
    uint8_t want[WIRE_ARP_LEN];
    hex_decode("0001 0800 06 04 0002 020000aabbcc 0a000002 525400123456 0a000001", want, sizeof(want));
    assert_memory_equal(buf, want, WIRE_ARP_LEN);
    wire_arp back;
    assert_int_equal(wire_arp_parse(buf, sizeof(buf), &back), WIRE_OK);
    assert_int_equal(back.op, r.op);
    assert_memory_equal(back.sha, r.sha, 6);
    assert_memory_equal(back.tha, r.tha, 6);
    assert_int_equal(back.spa, r.spa);
    assert_int_equal(back.tpa, r.tpa);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(eth_parse_valid),
        cmocka_unit_test(eth_parse_truncated),
        cmocka_unit_test(eth_emit),
        cmocka_unit_test(arp_parse_valid),
        cmocka_unit_test(arp_parse_truncated),
        cmocka_unit_test(arp_parse_malformed),
        cmocka_unit_test(arp_emit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
