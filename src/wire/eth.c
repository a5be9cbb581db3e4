/* eth.c — Ethernet II header. */
#include "wire/wire.h"

#include <string.h>

wire_err wire_eth_parse(const uint8_t *frame, size_t len, wire_eth *out)
{
    if (len < WIRE_ETH_HDR_LEN)
        return WIRE_TRUNCATED;
    out->dst = frame;
    out->src = frame + 6;
    out->type = wire_get16(frame + 12);
    out->payload = frame + WIRE_ETH_HDR_LEN;
    out->payload_len = len - WIRE_ETH_HDR_LEN;
    return WIRE_OK;
}

size_t wire_eth_emit(uint8_t *buf, size_t cap, const uint8_t dst[6],
                     const uint8_t src[6], uint16_t type)
{
    if (cap < WIRE_ETH_HDR_LEN)
        return 0;
    memmove(buf, dst, 6);
    memmove(buf + 6, src, 6);
    wire_put16(buf + 12, type);
    return WIRE_ETH_HDR_LEN;
}
