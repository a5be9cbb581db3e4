/* sim_nat.c — a NAT box (NAPT) for the simulator: many inside hosts behind
 * one outside address, TCP port rewriting, optional port preservation,
 * lazily expiring mappings. IPv4 only: IPv6 frames are dropped, counted
 * apart, never rewritten. See sim.h. */
#include "sim/sim_internal.h"

#include <stdlib.h>
#include <string.h>

#define NAT_BUCKETS 4096

typedef struct nat_map {
    uint32_t in_ip;
    uint16_t in_port;
    uint8_t used;
    uint64_t last_used;
    int32_t next;              /* forward hash chain (outside port), -1 = end */
} nat_map;

struct sim_nat {
    sim_nat_params p;
    sim_nat_stats st;
    nat_map map[65536];        /* by outside port                          */
    int32_t buckets[NAT_BUCKETS];
    uint32_t next_port;        /* where the allocator looks next           */
};

sim_nat_params sim_nat_params_default(void) {
    sim_nat_params p;
    memset(&p, 0, sizeof p);
    p.inside_ip = 0xc0a80101u; /* 192.168.1.1 */
    p.inside_prefix_len = 24;
    p.port_lo = 1024;
    p.port_hi = 65535;
    p.mapping_timeout_ns = 300 * SIM_SEC;
    return p;
}

sim_host *sim_add_nat(sim *s, const char *name, uint32_t outside_ip, const sim_nat_params *p) {
    struct sim_nat *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->p = p ? *p : sim_nat_params_default();
    if (n->p.port_lo == 0 || n->p.port_hi < n->p.port_lo) {
        free(n);
        return NULL;
    }
    for (int i = 0; i < NAT_BUCKETS; i++)
        n->buckets[i] = -1;
    n->next_port = n->p.port_lo;
    sim_host *h = sim_add_host(s, name, outside_ip, (const synack_config *)(const void *)&sim_no_stack);
    if (!h) {
        free(n);
        return NULL;
    }
    h->nat = n;
    return h;
}

void sim_nat_free(struct sim_nat *n) { free(n); }
int sim_host_is_nat(const sim_host *h) { return h->nat != NULL; }
uint32_t sim_nat_inside_ip(const sim_host *h) { return h->nat ? h->nat->p.inside_ip : 0; }
const sim_nat_stats *sim_nat_get_stats(const sim_host *h) { return h->nat ? &h->nat->st : NULL; }

/* ------------------------------------------------------------ mappings */

static uint32_t bucket(uint32_t ip, uint16_t port) {
    uint32_t x = ip * 2654435761u ^ (uint32_t)port * 40503u;
    return (x ^ x >> 15) % NAT_BUCKETS;
}

static int expired(const struct sim_nat *n, const nat_map *m, uint64_t now) {
    return now - m->last_used > n->p.mapping_timeout_ns;
}

static void unmap(struct sim_nat *n, uint16_t port) {
    nat_map *m = &n->map[port];
    for (int32_t *pp = &n->buckets[bucket(m->in_ip, m->in_port)]; *pp >= 0;
         pp = &n->map[*pp].next) {
        if (*pp == port) {
            *pp = m->next;
            break;
        }
    }
    m->used = 0;
    n->st.mappings_active--;
}

static int port_free(struct sim_nat *n, uint32_t port, uint64_t now) {
    nat_map *m = &n->map[port];
    if (!m->used)
        return 1;
    if (expired(n, m, now)) {
        unmap(n, (uint16_t)port);
        n->st.mappings_expired++;
        return 1;
    }
    return 0;
}

/* The outside port of inside endpoint ip:port, made if need be; -1 if none free. */
static int32_t map_out(struct sim_nat *n, uint32_t ip, uint16_t port, uint64_t now) {
    for (int32_t i = n->buckets[bucket(ip, port)]; i >= 0; i = n->map[i].next) {
        nat_map *m = &n->map[i];
        if (m->in_ip == ip && m->in_port == port) {
            if (!expired(n, m, now)) {
                m->last_used = now;
                return i;
            }
            unmap(n, (uint16_t)i);
            n->st.mappings_expired++;
            break;
        }
    }
    int32_t out = -1;
    if (n->p.preserve_ports && port >= n->p.port_lo && port <= n->p.port_hi) {
        if (port_free(n, port, now))
            out = port;
        else
            n->st.port_collisions++;
    }
    uint32_t range = (uint32_t)n->p.port_hi - n->p.port_lo + 1;
    for (uint32_t k = 0; out < 0 && k < range; k++) {
        uint32_t cand = n->p.port_lo + (n->next_port - n->p.port_lo + k) % range;
        if (port_free(n, cand, now)) {
            out = (int32_t)cand;
            n->next_port = cand + 1 > n->p.port_hi ? n->p.port_lo : cand + 1;
        }
    }
    if (out < 0)
        return -1;
    nat_map *m = &n->map[out];
    m->in_ip = ip;
    m->in_port = port;
    m->used = 1;
    m->last_used = now;
    uint32_t b = bucket(ip, port);
    m->next = n->buckets[b];
    n->buckets[b] = out;
    n->st.mappings_created++;
    n->st.mappings_active++;
    return out;
}

/* ------------------------------------------------------------ frames */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void wr32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t acc) {
    for (size_t i = 0; i + 1 < len; i += 2)
        acc += rd16(p + i);
    if (len & 1)
        acc += (uint32_t)p[len - 1] << 8;
    return acc;
}

static uint16_t fold(uint32_t acc) {
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)~acc;
}

static void fix_checksums(uint8_t *ip, size_t ihl, size_t total) {
    wr16(ip + 10, 0);
    wr16(ip + 10, fold(sum16(ip, ihl, 0)));
    uint8_t *t = ip + ihl;
    size_t tlen = total - ihl;
    wr16(t + 16, 0);
    uint32_t acc = sum16(ip + 12, 8, 0) + 6 + (uint32_t)tlen;
    wr16(t + 16, fold(sum16(t, tlen, acc)));
}

static sim_host *neighbour(sim *s, const sim_host *nat, uint32_t ip) {
    for (size_t i = 0; i < s->nwires; i++)
        for (int d = 0; d < 2; d++)
            if (s->wires[i]->dir[d].from == nat && s->wires[i]->dir[d].to->ip == ip)
                return s->wires[i]->dir[d].to;
    return NULL;
}

void sim_nat_input(sim_host *h, const uint8_t *frame, size_t len) {
    struct sim_nat *n = h->nat;
    sim *s = h->s;
    if (len >= 14 && rd16(frame + 12) == 0x86dd) {
        n->st.dropped_ipv6++;
        return;
    }
    if (len < 14 + 20 || rd16(frame + 12) != 0x0800) {
        n->st.dropped_other++;
        return;
    }
    const uint8_t *ip = frame + 14;
    size_t ihl = (size_t)(ip[0] & 15) * 4, total = rd16(ip + 2);
    if ((ip[0] >> 4) != 4 || ihl < 20 || total > len - 14 || total < ihl + 20 || ip[9] != 6) {
        n->st.dropped_other++;
        return;
    }
    uint8_t *f = malloc(len);
    if (!f)
        return;
    memcpy(f, frame, len);
    uint8_t *ipw = f + 14, *tcp = ipw + ihl;
    uint32_t src = rd32(ipw + 12), dst = rd32(ipw + 16);
    uint32_t mask = n->p.inside_prefix_len ? 0xffffffffu << (32 - n->p.inside_prefix_len) : 0;
    if (dst == h->ip) { /* inbound: follow a mapping back */
        uint16_t port = rd16(tcp + 2);
        nat_map *m = &n->map[port];
        if (!m->used || expired(n, m, s->now)) {
            n->st.in_no_mapping++;
            free(f);
            return;
        }
        m->last_used = s->now;
        wr32(ipw + 16, m->in_ip);
        wr16(tcp + 2, m->in_port);
        dst = m->in_ip;
        n->st.in_translated++;
    } else if ((src & mask) == (n->p.inside_ip & mask)) { /* outbound */
        int32_t port = map_out(n, src, rd16(tcp), s->now);
        if (port < 0) {
            n->st.dropped_other++;
            free(f);
            return;
        }
        wr32(ipw + 12, h->ip);
        wr16(tcp, (uint16_t)port);
        n->st.out_translated++;
    } else {
        n->st.dropped_other++;
        free(f);
        return;
    }
    sim_host *to = neighbour(s, h, dst);
    if (!to) {
        n->st.dropped_other++;
        free(f);
        return;
    }
    fix_checksums(ipw, ihl, total);
    memcpy(f, to->mac, 6);
    memcpy(f + 6, h->mac, 6);
    sim_wire_output(s, h, f, len);
    free(f);
}
