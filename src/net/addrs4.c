/* addrs4.c — which IPv4 destinations this stack takes: its own addresses
 * (cfg.ip and those added with synack_add_address: ARP and echo answered,
 * every protocol delivered) and the prefixes it impersonates (synack_
 * impersonate: a relay or user-space NAT that answers for hosts it is not,
 * as `synack netns` does for the whole Internet; packets to them are
 * delivered, echo answered from the address pinged, but ARP is not, so
 * that a neighbour on the link is never shadowed). */
#include "base/prefix.h"
#include "net/net.h"

#include <errno.h>

bool ipv4_own(const net_ctx *n, uint32_t a)
{
    if (a == 0)
        return false;
    if (a == n->cfg->ip)
        return true;
    for (uint8_t i = 0; i < n->naddrs4; i++)
        if (n->addrs4[i] == a)
            return true;
    return false;
}

bool ipv4_impersonated(const net_ctx *n, uint32_t a)
{
    for (uint8_t i = 0; i < n->nimp4; i++)
        if ((a & n->imp4[i].mask) == n->imp4[i].net)
            return true;
    return false;
}

bool ipv4_takes(const net_ctx *n, uint32_t a)
{
    return n->cfg->ip != 0 && (ipv4_own(n, a) || ipv4_impersonated(n, a));
}

bool ipv4_unicast(uint32_t a)
{
    return (a >> 24) != 0 && (a >> 24) != 127 && (a >> 28) < 0xe;
}

int net_add_addr4(net_ctx *n, uint32_t a)
{
    if (!ipv4_unicast(a))
        return -EINVAL;
    if (ipv4_own(n, a))
        return -EEXIST;
    if (n->naddrs4 == NET_MAX_ADDRS4)
        return -ENOSPC;
    n->addrs4[n->naddrs4++] = a;
    return 0;
}

int net_impersonate4(net_ctx *n, uint32_t prefix, uint8_t len)
{
    if (len > 32)
        return -EINVAL;
    uint32_t mask = prefix_mask4(len);
    if (n->nimp4 == NET_MAX_ADDRS4)
        return -ENOSPC;
    n->imp4[n->nimp4++] = (net_prefix4){prefix & mask, mask};
    return 0;
}
