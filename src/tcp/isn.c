/* isn.c — initial sequence numbers, RFC 9293 §3.4.1 and RFC 6528:
 * ISN = M + F(localip, localport, remoteip, remoteport, secretkey), where M
 * ticks every 4 microseconds and F is a keyed hash (SipHash). */
#include "tcp/tcp.h"

uint32_t tcp_isn(tcp_ctx *c, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport)
{
    uint32_t tuple[3] = {lip, rip, (uint32_t)lport << 16 | rport};
    uint32_t f = (uint32_t)siphash24(&c->isn_key, tuple, sizeof(tuple));
    uint32_t m = (uint32_t)(c->now / 4000);
    return m + f;
}
