/* addr.c — one address type for both families (synack_addr), and its text
 * forms: dotted quads for IPv4, RFC 4291 §2.2 in and RFC 5952 out for
 * IPv6, and "ADDR:PORT" / "[ADDR]:PORT" endpoints (RFC 3986 §3.2.2). */
#include "synack.h"
#include "tcp/tcp.h" /* tcp_addr4, tcp_addr_eq: the per-segment versions */

#include <errno.h>
#include <stdio.h>
#include <string.h>

synack_addr synack_addr_v4(uint32_t ip) { return tcp_addr4(ip); }

synack_addr synack_addr_v6(const uint8_t bytes[16])
{
    synack_addr a;
    memset(&a, 0, sizeof a);
    a.family = SYNACK_AF_INET6;
    memcpy(a.v6, bytes, 16);
    return a;
}

int synack_addr_equal(const synack_addr *a, const synack_addr *b) { return tcp_addr_eq(a, b); }

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One group of 1-4 hex digits at *p; advances *p. -1 if none. */
static int hex_group(const char **p)
{
    int v = 0, n = 0, d;
    while (n < 5 && (d = hexval(**p)) >= 0) {
        v = v << 4 | d;
        (*p)++;
        n++;
    }
    return n == 0 || n > 4 ? -1 : v;
}

/* Does an IPv4 dotted quad start at p (before the next ':' or the end)? */
static int dotted_follows(const char *p)
{
    for (; *p && *p != ':'; p++)
        if (*p == '.')
            return 1;
    return 0;
}

/* RFC 4291 §2.2: x:x:x:x:x:x:x:x, "::" once for a run of zero groups, and
 * the last 32 bits as a dotted quad. */
static int parse_v6(const char *p, uint8_t out[16])
{
    uint16_t g[8] = {0};
    int n = 0, gap = -1;
    if (p[0] == ':' && p[1] == ':') {
        gap = 0;
        p += 2;
    }
    while (*p) {
        if (n == 8)
            return -EINVAL;
        if (dotted_follows(p)) {
            uint32_t v4;
            if (n > 6 || synack_ip_parse(p, &v4) < 0)
                return -EINVAL;
            g[n++] = (uint16_t)(v4 >> 16);
            g[n++] = (uint16_t)v4;
            p += strlen(p);
            break;
        }
        int v = hex_group(&p);
        if (v < 0)
            return -EINVAL;
        g[n++] = (uint16_t)v;
        if (*p == ':' && p[1] == ':') {
            if (gap >= 0)
                return -EINVAL; /* "::" only once */
            gap = n;
            p += 2;
        } else if (*p == ':') {
            if (!*++p)
                return -EINVAL; /* a trailing single ':' */
        } else if (*p) {
            return -EINVAL;
        }
    }
    if (gap < 0 ? n != 8 : n > 7)
        return -EINVAL;
    uint16_t full[8] = {0};
    int tail = gap < 0 ? 0 : n - gap;
    for (int i = 0; i < n - tail; i++)
        full[i] = g[i];
    for (int i = 0; i < tail; i++)
        full[8 - tail + i] = g[gap + i];
    for (int i = 0; i < 8; i++) {
        out[2 * i] = (uint8_t)(full[i] >> 8);
        out[2 * i + 1] = (uint8_t)full[i];
    }
    return 0;
}

int synack_addr_parse(const char *text, synack_addr *out)
{
    if (!text || !out)
        return -EINVAL;
    uint32_t v4;
    if (synack_ip_parse(text, &v4) == 0) {
        *out = synack_addr_v4(v4);
        return 0;
    }
    uint8_t b[16];
    if (!strchr(text, ':') || parse_v6(text, b) < 0)
        return -EINVAL;
    *out = synack_addr_v6(b);
    return 0;
}

/* RFC 5952 §4: lower case, no leading zeros, the longest run of two or
 * more zero groups (the first of equals) as "::", and an IPv4-mapped
 * address (§5) with its dotted quad. */
static void format_v6(const uint8_t b[16], char *buf, size_t len)
{
    uint16_t g[8];
    for (int i = 0; i < 8; i++)
        g[i] = (uint16_t)(b[2 * i] << 8 | b[2 * i + 1]);
    int best = -1, best_len = 1;
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && g[j] == 0)
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j > i ? j : i + 1;
    }
    size_t n = 0;
    int mapped = best == 0 && best_len == 5 && g[5] == 0xffff;
    int groups = mapped ? 6 : 8;
    for (int i = 0; i < groups && n < len; i++) {
        if (i == best) {
            n += (size_t)snprintf(buf + n, len - n, "::");
            i += best_len - 1;
            continue;
        }
        n += (size_t)snprintf(buf + n, len - n, "%s%x", n && buf[n - 1] != ':' ? ":" : "", g[i]);
    }
    if (mapped && n < len)
        snprintf(buf + n, len - n, ":%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
}

char *synack_addr_format(const synack_addr *a, char *buf, size_t len)
{
    if (!len)
        return buf;
    if (a->family == SYNACK_AF_INET6) {
        format_v6(a->v6, buf, len);
    } else {
        char tmp[16];
        snprintf(buf, len, "%s", synack_ip_format(a->v4, tmp));
    }
    return buf;
}

int synack_endpoint_parse(const char *text, synack_addr *addr, uint16_t *port)
{
    char host[64];
    const char *colon;
    if (!text || !addr || !port)
        return -EINVAL;
    if (text[0] == '[') {
        const char *end = strchr(text, ']');
        if (!end || end[1] != ':' || (size_t)(end - text - 1) >= sizeof host)
            return -EINVAL;
        memcpy(host, text + 1, (size_t)(end - text - 1));
        host[end - text - 1] = 0;
        colon = end + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon || (size_t)(colon - text) >= sizeof host || memchr(text, ':', (size_t)(colon - text)))
            return -EINVAL; /* an IPv6 address needs its brackets */
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = 0;
    }
    unsigned long v = 0;
    const char *p = colon + 1;
    if (!*p)
        return -EINVAL;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || (v = v * 10 + (unsigned long)(*p - '0')) > 65535)
            return -EINVAL;
    }
    if (v == 0 || synack_addr_parse(host, addr) < 0)
        return -EINVAL;
    *port = (uint16_t)v;
    return 0;
}
