/* ipaddr.c — IPv4 addresses as text: dotted quads in, dotted quads out. */
#include "synack.h"

#include <errno.h>
#include <stdio.h>

int synack_ip_parse(const char *text, uint32_t *ip)
{
    uint32_t v = 0;
    const char *p = text;
    for (int i = 0; i < 4; i++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        unsigned part = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 4) {
            part = part * 10 + (unsigned)(*p++ - '0');
            digits++;
        }
        if (part > 255 || digits > 3)
            return -EINVAL;
        v = v << 8 | part;
        if (i < 3 && *p++ != '.')
            return -EINVAL;
    }
    if (*p)
        return -EINVAL;
    *ip = v;
    return 0;
}

char *synack_ip_format(uint32_t ip, char *buf)
{
    snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
    return buf;
}
