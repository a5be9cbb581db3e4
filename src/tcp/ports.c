/* ports.c — ephemeral port selection, RFC 6056 Algorithm 3 ("simple hash-
 * based"): a keyed per-destination offset plus a shared counter, so each
 * destination sees its own sequence and an observer cannot predict ours. */
#include "tcp/tcp.h"

#include <errno.h>

int tcp_pick_port(tcp_ctx *c, uint32_t rip, uint16_t rport, uint16_t *out)
{
    uint32_t lo = c->sys->ip_local_port_range[0], hi = c->sys->ip_local_port_range[1];
    if (lo == 0 || hi < lo || hi > 65535)
        return -EADDRNOTAVAIL;
    uint32_t num = hi - lo + 1;
    uint32_t key[3] = {c->local_ip, rip, rport};
    uint32_t offset = (uint32_t)siphash24(&c->port_key, key, sizeof(key));
    for (uint32_t i = 0; i < num; i++) {
        uint16_t port = (uint16_t)(lo + (offset + c->port_next + i) % num);
        if (tcb_lookup(c, c->local_ip, port, rip, rport) || tcb_find_listener(c, port))
            continue;
        c->port_next += i + 1;
        *out = port;
        return 0;
    }
    return -EADDRNOTAVAIL;
}
