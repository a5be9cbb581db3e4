/* imp6.c — the IPv6 prefixes this stack impersonates (synack_impersonate),
 * as addrs4.c keeps IPv4's: a relay or user-space NAT that answers for
 * hosts it is not, as `synack netns` does for the whole Internet. Packets
 * to an address inside one are taken (ipv6.c), TCP's reach
 * synack_listen_any listeners (own = false), echo is answered from the
 * address pinged (icmpv6.c) -- but Neighbour Discovery never answers for
 * one (ndisc.c looks at our own addresses only), so that no neighbour on
 * the link is shadowed, as ARP is not answered for IPv4. */
#include "base/prefix.h"
#include "net/net.h"

#include <errno.h>
#include <string.h>

/* Could `a` be a remote host's? Not ::, ::1 (RFC 4291 §2.5.3: never on
 * the wire), link-local (no scope in synack_addr), multicast (a group, no
 * host), IPv4-mapped (RFC 4942 §2.2) -- nor ours in any DAD state: a
 * tentative address of ours takes nothing (RFC 4862 §5.4). */
static bool remote_unicast(const net_ctx *n, const uint8_t a[16])
{
    if (wire_ipv6addr_is_unspecified(a) || wire_ipv6addr_is_loopback(a) ||
        wire_ipv6addr_is_link_local(a) || wire_ipv6addr_is_multicast(a) ||
        wire_ipv6addr_is_v4_mapped(a))
        return false;
    return !addr6_ours(n, a);
}

bool ipv6_impersonated(const net_ctx *n, const uint8_t a[16])
{
    if (n->nimp6 == 0 || !remote_unicast(n, a))
        return false;
    for (uint8_t i = 0; i < n->nimp6; i++)
        if (prefix_match6(a, n->imp6[i].net, n->imp6[i].len))
            return true;
    return false;
}

bool ipv6_may_send_from(const net_ctx *n, const uint8_t a[16])
{
    return ipv6_impersonated(n, a) || (addr6_ours(n, a) && !wire_ipv6addr_is_link_local(a));
}

int net_impersonate6(net_ctx *n, const uint8_t prefix[16], uint8_t len)
{
    if (len > 128)
        return -EINVAL;
    if (n->nimp6 == NET_MAX_ADDRS4)
        return -ENOSPC;
    net_prefix6 *p = &n->imp6[n->nimp6++];
    memset(p->net, 0, 16);
    memcpy(p->net, prefix, len / 8);
    if (len % 8)
        p->net[len / 8] = (uint8_t)(prefix[len / 8] & (0xff << (8 - len % 8)));
    p->len = len;
    return 0;
}
