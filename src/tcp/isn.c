/* isn.c — initial sequence numbers, RFC 9293 §3.4.1 and RFC 6528:
 * ISN = M + F(localip, localport, remoteip, remoteport, secretkey), where M
 * ticks every 4 microseconds and F is a keyed hash (SipHash). */
#include "tcp/tcp.h"

uint32_t tcp_isn(tcp_ctx *c, const synack_addr *l, uint16_t lport, const synack_addr *r,
                 uint16_t rport)
{
    uint32_t w[TCP_TUPLE_WORDS];
    size_t n = tcp_tuple_words(l, lport, r, rport, w);
    uint32_t f = (uint32_t)siphash24(&c->isn_key, w, n * sizeof(w[0]));
    uint32_t m = (uint32_t)(c->now / 4000);
    return m + f;
}

/* Timestamp offsets, as Linux >= 4.10 with tcp_timestamps=1: a keyed hash
 * of the 4-tuple, so TSval does not reveal our clock (uptime) and two
 * connections to one peer do not share a timestamp clock, while a new
 * incarnation of the same 4-tuple continues its predecessor's clock (which
 * PAWS across TIME-WAIT reuse needs). The same key as the ISN, separated by
 * a different input length. tcp_timestamps=2: no offset. */
uint32_t tcp_ts_offset(tcp_ctx *c, const synack_addr *l, uint16_t lport, const synack_addr *r,
                       uint16_t rport)
{
    if (c->sys->tcp_timestamps != 1)
        return 0;
    uint32_t w[TCP_TUPLE_WORDS];
    size_t n = tcp_tuple_words(l, lport, r, rport, w);
    w[n++] = 0x74736f66u; /* "tsof" */
    return (uint32_t)siphash24(&c->isn_key, w, n * sizeof(w[0]));
}
