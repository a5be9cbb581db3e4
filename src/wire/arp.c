/* arp.c — ARP for IPv4 over Ethernet (RFC 826). */
#include "wire/wire.h"

#include <string.h>

#define ARP_HTYPE_ETHER 1

wire_err wire_arp_parse(const uint8_t *p, size_t len, wire_arp *out)
{
    if (len < WIRE_ARP_LEN)
        return WIRE_TRUNCATED;
    if (wire_get16(p) != ARP_HTYPE_ETHER || wire_get16(p + 2) != WIRE_ETHERTYPE_IPV4 ||
        p[4] != 6 || p[5] != 4)
        return WIRE_BAD_HEADER;
    out->op = wire_get16(p + 6);
    if (out->op != WIRE_ARP_REQUEST && out->op != WIRE_ARP_REPLY)
        return WIRE_BAD_HEADER;
    memcpy(out->sha, p + 8, 6);
    out->spa = wire_get32(p + 14);
    memcpy(out->tha, p + 18, 6);
    out->tpa = wire_get32(p + 24);
    return WIRE_OK;
}

size_t wire_arp_emit(uint8_t *buf, size_t cap, const wire_arp *a)
{
    if (cap < WIRE_ARP_LEN)
        return 0;
    wire_put16(buf, ARP_HTYPE_ETHER);
    wire_put16(buf + 2, WIRE_ETHERTYPE_IPV4);
    buf[4] = 6;
    buf[5] = 4;
    wire_put16(buf + 6, a->op);
    memmove(buf + 8, a->sha, 6);
    wire_put32(buf + 14, a->spa);
    memmove(buf + 18, a->tha, 6);
    wire_put32(buf + 24, a->tpa);
    return WIRE_ARP_LEN;
}
