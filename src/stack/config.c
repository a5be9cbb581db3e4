/* config.c — the configuration: Linux's defaults, and knobs set and listed
 * by their sysctl names. */
#include "synack.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void synack_config_init(synack_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->link = SYNACK_LINK_ETHERNET;
    cfg->prefix_len = 24;
    cfg->prefix6_len = 64;
    cfg->mtu = 1500;
    synack_sysctl *n = &cfg->net;
    n->ip_local_port_range[0] = 32768;
    n->ip_local_port_range[1] = 60999;
    n->ip_default_ttl = 64;
    n->ipfrag_high_thresh = 4194304;
    n->ipfrag_time = 30;
    n->ip6frag_high_thresh = 4194304;
    n->ip6frag_time = 60;
    n->dad_transmits = 1;
    n->tcp_syn_retries = 6;
    n->tcp_synack_retries = 5;
    n->tcp_retries2 = 15;
    n->tcp_fin_timeout = 60;
    n->tcp_msl = 30000;
    n->tcp_timestamps = 1;
    n->tcp_window_scaling = 1;
    n->tcp_sack = 1;
    n->tcp_rmem[0] = 4096; n->tcp_rmem[1] = 131072; n->tcp_rmem[2] = 6291456;
    n->tcp_wmem[0] = 4096; n->tcp_wmem[1] = 16384; n->tcp_wmem[2] = 4194304;
    n->tcp_mem[0] = 196608; n->tcp_mem[1] = 262144; n->tcp_mem[2] = 393216; /* 768 MiB, 1, 1.5 GiB */
    n->tcp_max_syn_backlog = 4096;
    n->tcp_orphan_retries = 0;
    n->tcp_max_orphans = 65536;
    n->tcp_max_connections = 0;
    n->tcp_syncookies = 1;
    n->somaxconn = 4096;
    n->tcp_challenge_ack_limit = 1000;
    n->tcp_rto_min_ms = 200;
    n->tcp_rto_max_ms = 120000;
    n->tcp_rto_initial_ms = 1000;
    n->tcp_base_mss = 536;
    n->tcp_max_ooo_segments = 32;
    n->tcp_mtu_probing = 0;
    n->icmp_msgs_per_sec = 1000;
    n->icmp_msgs_burst = 50;
    n->tcp_rfc1337 = 0;
    n->tcp_max_tw_buckets = 262144;
    n->tcp_tw_reuse = 2;
    n->tcp_tw_reuse_delay = 1000;
    n->tcp_tw_recycle = 0;
    n->tcp_invalid_ratelimit = 500;
    strcpy(n->tcp_congestion_control, "cubic");
    n->tcp_delack_ms = 40;
    n->tcp_max_quickacks = 16;
    n->tcp_keepalive_time = 7200;
    n->tcp_keepalive_intvl = 75;
    n->tcp_keepalive_probes = 9;
    n->tcp_recovery = 1;
}

/* Each knob: its name, the Linux sysctl directory it lives in ("net.ipv4.",
 * "net.ipv6.", "net.core.", "net.ipv6.conf.all."), where it lives here, how
 * many numbers, and bounds. */
typedef struct knob {
    const char *name;
    const char *dir;
    size_t offset;
    int count;
    uint32_t min, max;
} knob;

#define KD(field, dir, n, lo, hi) {#field, dir, offsetof(synack_sysctl, field), n, lo, hi}
#define K(field, n, lo, hi) KD(field, "net.ipv4.", n, lo, hi)
static const knob KNOBS[] = {
    K(ip_local_port_range, 2, 1, 65535),
    K(ip_default_ttl, 1, 1, 255),
    K(ipfrag_high_thresh, 1, 0, 1u << 30),
    K(ipfrag_time, 1, 1, 86400),
    KD(ip6frag_high_thresh, "net.ipv6.", 1, 0, 1u << 30),
    KD(ip6frag_time, "net.ipv6.", 1, 1, 86400),
    KD(dad_transmits, "net.ipv6.conf.all.", 1, 0, 255),
    K(tcp_syn_retries, 1, 1, 127),
    K(tcp_synack_retries, 1, 0, 255),
    K(tcp_retries2, 1, 0, 255),
    K(tcp_fin_timeout, 1, 0, 86400),
    K(tcp_msl, 1, 0, 3600000),
    K(tcp_timestamps, 1, 0, 2),
    K(tcp_window_scaling, 1, 0, 1),
    K(tcp_sack, 1, 0, 1),
    K(tcp_rmem, 3, 1024, 1u << 30),
    K(tcp_wmem, 3, 1024, 1u << 30),
    K(tcp_mem, 3, 1, 1u << 30),
    K(tcp_max_syn_backlog, 1, 1, 1u << 24),
    K(tcp_orphan_retries, 1, 0, 255),
    K(tcp_max_orphans, 1, 0, 1u << 24),
    K(tcp_max_connections, 1, 0, 1u << 30),
    K(tcp_syncookies, 1, 0, 2),
    KD(somaxconn, "net.core.", 1, 1, 1u << 24),
    K(tcp_challenge_ack_limit, 1, 0, UINT32_MAX),
    K(tcp_rto_min_ms, 1, 1, 120000),
    K(tcp_rto_max_ms, 1, 1, 600000),
    K(tcp_rto_initial_ms, 1, 1, 120000),
    K(tcp_base_mss, 1, 64, 65495),
    K(tcp_max_ooo_segments, 1, 0, 32),
    K(tcp_mtu_probing, 1, 0, 2),
    K(icmp_msgs_per_sec, 1, 0, 1u << 30),
    K(icmp_msgs_burst, 1, 0, 1u << 30),
    K(tcp_rfc1337, 1, 0, 1),
    K(tcp_recovery, 1, 0, 3),
    K(tcp_max_tw_buckets, 1, 0, 1u << 24),
    K(tcp_tw_reuse, 1, 0, 2),
    K(tcp_tw_reuse_delay, 1, 1, 600000),
    K(tcp_tw_recycle, 1, 0, 1),
    K(tcp_invalid_ratelimit, 1, 0, 600000),
    K(tcp_delack_ms, 1, 0, 500),
    K(tcp_max_quickacks, 1, 0, 255),
    K(tcp_keepalive_time, 1, 1, 32767),
    K(tcp_keepalive_intvl, 1, 1, 32767),
    K(tcp_keepalive_probes, 1, 1, 127),
};
#undef K
#undef KD

/* By its bare name, or by its Linux name in the knob's own directory:
 * "net.ipv6.ip6frag_time", never "net.ipv4.ip6frag_time". An interface's
 * knob (net.ipv6.conf.all.*) is also taken for "default", which Linux
 * copies to new interfaces. */
static bool name_matches(const knob *k, const char *name)
{
    static const char dflt[] = "net.ipv6.conf.default.";
    size_t d = strlen(k->dir);
    if (strcmp(k->name, name) == 0)
        return true;
    if (strncmp(name, k->dir, d) == 0 && strcmp(name + d, k->name) == 0)
        return true;
    return strncmp(k->dir, "net.ipv6.conf.", 14) == 0 && strncmp(name, dflt, sizeof dflt - 1) == 0 &&
           strcmp(name + sizeof dflt - 1, k->name) == 0;
}

static const knob *find_knob(const char *name)
{
    for (size_t i = 0; i < sizeof(KNOBS) / sizeof(KNOBS[0]); i++)
        if (name_matches(&KNOBS[i], name))
            return &KNOBS[i];
    return NULL;
}

/* The one text-valued knob: the congestion control algorithm. */
static int set_congestion_control(synack_config *cfg, const char *value)
{
    if (strcmp(value, "cubic") && strcmp(value, "reno") && strcmp(value, "newreno"))
        return -EINVAL;
    snprintf(cfg->net.tcp_congestion_control, sizeof(cfg->net.tcp_congestion_control), "%s",
             value);
    return 0;
}

int synack_config_set(synack_config *cfg, const char *name, const char *value)
{
    const char *bare = strncmp(name, "net.ipv4.", 9) == 0 ? name + 9 : name;
    if (!strcmp(bare, "tcp_congestion_control"))
        return set_congestion_control(cfg, value);
    const knob *k = find_knob(name);
    if (!k)
        return -ENOENT;
    uint32_t v[3];
    const char *p = value;
    for (int i = 0; i < k->count; i++) {
        char *end;
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p < '0' || *p > '9')
            return -EINVAL;
        unsigned long long x = strtoull(p, &end, 10);
        if (end == p || x < k->min || x > k->max)
            return -EINVAL;
        v[i] = (uint32_t)x;
        p = end;
    }
    while (*p == ' ' || *p == '\t' || *p == '\n')
        p++;
    if (*p)
        return -EINVAL;
    if (k->count == 2 && v[0] > v[1])
        return -EINVAL;
    if (k->count == 3 && (v[0] > v[1] || v[1] > v[2]))
        return -EINVAL;
    memcpy((char *)&cfg->net + k->offset, v, (size_t)k->count * sizeof(uint32_t));
    return 0;
}

size_t synack_config_dump(const synack_config *cfg, char *buf, size_t size)
{
    size_t used = 0;
    for (size_t i = 0; i < sizeof(KNOBS) / sizeof(KNOBS[0]); i++) {
        const knob *k = &KNOBS[i];
        const uint32_t *v = (const uint32_t *)((const char *)&cfg->net + k->offset);
        char line[128];
        int n = snprintf(line, sizeof(line), "%s%s =", k->dir, k->name);
        for (int j = 0; j < k->count; j++)
            n += snprintf(line + n, sizeof(line) - (size_t)n, " %u", v[j]);
        n += snprintf(line + n, sizeof(line) - (size_t)n, "\n");
        if (used + (size_t)n < size)
            memcpy(buf + used, line, (size_t)n + 1);
        used += (size_t)n;
    }
    char line[96];
    int n = snprintf(line, sizeof(line), "net.ipv4.tcp_congestion_control = %s\n",
                     cfg->net.tcp_congestion_control);
    if (used + (size_t)n < size)
        memcpy(buf + used, line, (size_t)n + 1);
    used += (size_t)n;
    if (size && used >= size)
        buf[size - 1] = 0;
    return used;
}
