/* ipv6addr.c — IPv6 address classes and the addresses derived from others
 * that Neighbour Discovery needs: solicited-node multicast (RFC 4291
 * §2.7.1), its Ethernet group address (RFC 2464 §7) and the link-local
 * address from a MAC by modified EUI-64 (RFC 4291 appendix A, RFC 2464 §4-5). */
#include "wire/wire.h"

#include <string.h>

static const uint8_t SOLICITED_PREFIX[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

int wire_ipv6addr_is_multicast(const uint8_t a[16])
{
    return a[0] == 0xff;
}

int wire_ipv6addr_is_unspecified(const uint8_t a[16])
{
    return all_zero(a, 16);
}

int wire_ipv6addr_is_link_local(const uint8_t a[16])
{
    return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

int wire_ipv6addr_is_loopback(const uint8_t a[16])
{
    return all_zero(a, 15) && a[15] == 1;
}

int wire_ipv6addr_is_v4_mapped(const uint8_t a[16])
{
    return all_zero(a, 10) && a[10] == 0xff && a[11] == 0xff;
}

int wire_ipv6addr_is_solicited_node(const uint8_t a[16])
{
    return memcmp(a, SOLICITED_PREFIX, sizeof(SOLICITED_PREFIX)) == 0;
}

void wire_ipv6addr_solicited_node(uint8_t out[16], const uint8_t a[16])
{
    uint8_t low[3] = {a[13], a[14], a[15]};
    memcpy(out, SOLICITED_PREFIX, sizeof(SOLICITED_PREFIX));
    memcpy(out + 13, low, 3);
}

void wire_ipv6addr_multicast_mac(uint8_t mac[6], const uint8_t group[16])
{
    mac[0] = 0x33;
    mac[1] = 0x33;
    memmove(mac + 2, group + 12, 4);
}

void wire_ipv6addr_link_local(uint8_t out[16], const uint8_t mac[6])
{
    uint8_t m[6];
    memcpy(m, mac, 6);
    memset(out, 0, 16);
    out[0] = 0xfe;
    out[1] = 0x80;
    out[8] = m[0] ^ 0x02; /* the universal/local bit, inverted */
    out[9] = m[1];
    out[10] = m[2];
    out[11] = 0xff;
    out[12] = 0xfe;
    out[13] = m[3];
    out[14] = m[4];
    out[15] = m[5];
}
