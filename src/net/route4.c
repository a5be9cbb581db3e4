/* route4.c — IPv4 routes beyond the connected subnet and the default
 * gateway (synack_route_add): a longest-prefix match over a few entries,
 * each either through a gateway on our subnet or on-link (another subnet
 * on the same wire, whose hosts answer ARP themselves). */
#include "base/prefix.h"
#include "net/net.h"

#include <errno.h>

/* The connected subnet: cfg.ip's. */
static bool on_subnet(const net_ctx *n, uint32_t a)
{
    uint32_t mask = prefix_mask4(n->cfg->prefix_len);
    return (a & mask) == (n->cfg->ip & mask);
}

int net_route_add4(net_ctx *n, uint32_t prefix, uint8_t len, uint32_t gateway)
{
    if (len > 32)
        return -EINVAL;
    if (gateway && !on_subnet(n, gateway))
        return -ENETUNREACH; /* a next hop must be a neighbour (Linux: "invalid gateway") */
    uint32_t mask = prefix_mask4(len);
    for (uint8_t i = 0; i < n->nroutes4; i++)
        if (n->routes4[i].net == (prefix & mask) && n->routes4[i].mask == mask)
            return -EEXIST;
    if (n->nroutes4 == NET_MAX_ROUTES4)
        return -ENOSPC;
    n->routes4[n->nroutes4++] = (net_route4){prefix & mask, mask, gateway};
    return 0;
}

bool ipv4_route(net_ctx *n, uint32_t dst, uint32_t *hop)
{
    *hop = dst;
    if (on_subnet(n, dst))
        return true;
    const net_route4 *best = NULL;
    for (uint8_t i = 0; i < n->nroutes4; i++) {
        const net_route4 *r = &n->routes4[i];
        if ((dst & r->mask) == r->net && (!best || r->mask > best->mask))
            best = r; /* longest prefix: the mask with more bits is larger */
    }
    if (best) {
        *hop = best->gateway ? best->gateway : dst;
        return true;
    }
    if (!n->cfg->gateway) {
        n->ctr->ip_out_no_routes++;
        return false;
    }
    *hop = n->cfg->gateway;
    return true;
}
