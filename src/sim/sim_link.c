/* sim_link.c — point-to-point links: serialization, queueing and the
 * impairments (loss, duplication, reordering, corruption). */
#include "sim/sim_internal.h"

#include <stdlib.h>
#include <string.h>

#include "dev/pcap.h"
#include "wire/wire.h"

sim_link_params sim_link_params_default(void) {
    sim_link_params p;
    memset(&p, 0, sizeof p);
    p.delay_ns = 1 * SIM_MS;
    p.mtu = 1500;
    return p;
}

/* Static ARP on `h` for the far end `to` (a NAT box answers for both of
 * its addresses; a NAT box itself needs no ARP), and a static ND entry when
 * both speak IPv6. */
static int sim_host_arp(sim_host *h, const sim_host *to) {
    if (!h->stack)
        return 0;
    if (synack_arp_add(h->stack, to->ip, to->mac) < 0)
        return -1;
    if (to->nat && synack_arp_add(h->stack, sim_nat_inside_ip(to), to->mac) < 0)
        return -1;
    if (h->ip6.family && to->ip6.family && synack_neigh_add(h->stack, &to->ip6, to->mac) < 0)
        return -1;
    return 0;
}

int sim_link(sim *s, sim_host *a, sim_host *b, const sim_link_params *a_to_b,
             const sim_link_params *b_to_a) {
    if (s->nwires == s->wires_cap) {
        size_t cap = s->wires_cap ? s->wires_cap * 2 : 8;
        sim_wire **n = realloc(s->wires, cap * sizeof *n);
        if (!n)
            return -1;
        s->wires = n;
        s->wires_cap = cap;
    }
    sim_wire *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    sim_link_params def = sim_link_params_default();
    w->dir[0].from = a;
    w->dir[0].to = b;
    w->dir[0].p = a_to_b ? *a_to_b : def;
    w->dir[1].from = b;
    w->dir[1].to = a;
    w->dir[1].p = b_to_a ? *b_to_a : def;
    uint64_t id = (uint64_t)s->nwires + 1;
    sim_rng_seed(&w->dir[0].rng, s->seed, 0x10000 + 2 * id);
    sim_rng_seed(&w->dir[1].rng, s->seed, 0x10000 + 2 * id + 1);
    if (sim_host_arp(a, b) < 0 || sim_host_arp(b, a) < 0) {
        free(w);
        return -1;
    }
    s->wires[s->nwires++] = w;
    return 0;
}

void sim_wires_free(sim *s) {
    for (size_t i = 0; i < s->nwires; i++)
        free(s->wires[i]);
    free(s->wires);
    s->wires = NULL;
    s->nwires = 0;
}

static sim_dir *find_dir(const sim *s, const sim_host *from, const sim_host *to) {
    for (size_t i = 0; i < s->nwires; i++)
        for (int d = 0; d < 2; d++)
            if (s->wires[i]->dir[d].from == from && s->wires[i]->dir[d].to == to)
                return &s->wires[i]->dir[d];
    return NULL;
}

int sim_link_set(sim *s, const sim_host *from, const sim_host *to, const sim_link_params *p) {
    sim_dir *d = find_dir(s, from, to);
    if (!d)
        return -1;
    d->p = p ? *p : sim_link_params_default();
    return 0;
}

const sim_link_params *sim_link_get(const sim *s, const sim_host *from, const sim_host *to) {
    sim_dir *d = find_dir(s, from, to);
    return d ? &d->p : NULL;
}

/* ------------------------------------------------------------ sending */

typedef struct link_tracer {
    sim *s;
    sim_host *from, *to;
    uint64_t frame_id;
    sim_frame_info info;
} link_tracer;

static void link_trace(const link_tracer *lt, sim_link_event e, const uint8_t *frame,
                       size_t len, uint64_t arrival) {
    sim *s = lt->s;
    if (!s->trace)
        return;
    sim_trace t = sim_trace_at(lt->from, SIM_TRACE_LINK);
    t.link_event = e;
    t.peer = lt->to;
    t.frame = frame;
    t.len = len;
    t.arrival_ns = arrival;
    t.frame_id = lt->frame_id;
    t.info = lt->info;
    if (e == SIM_LINK_CORRUPT)
        sim_frame_parse(frame, len, &t.info);
    s->trace(s->trace_ctx, &t);
}

static int schedule(sim *s, sim_host *to, uint64_t t, const uint8_t *frame, size_t len) {
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return -1;
    memcpy(copy, frame, len);
    sim_event ev = {.t = t, .kind = SIM_EV_FRAME, .host = to, .data = copy, .len = len};
    if (sim_push_event(s, &ev) < 0) {
        free(copy);
        return -1;
    }
    return 0;
}

/* A router on the link that cannot forward `frame` (too big) tells its
 * sender: ICMP destination unreachable, fragmentation needed, quoting the
 * IPv4 header and 8 bytes (RFC 792, RFC 1191), back over the link. */
static void send_frag_needed(sim *s, const sim_dir *d, const uint8_t *frame, size_t len)
{
    const uint8_t *ip = frame + WIRE_ETH_HDR_LEN;
    if (!d->p.mtu_icmp_from || len < WIRE_ETH_HDR_LEN + WIRE_IPV4_HDR_LEN + 8 ||
        wire_get16(frame + 12) != WIRE_ETHERTYPE_IPV4)
        return;
    size_t ihl = (size_t)(ip[0] & 0x0f) * 4, quote = ihl + 8;
    if (ihl < WIRE_IPV4_HDR_LEN || len < WIRE_ETH_HDR_LEN + quote)
        return;
    uint8_t out[WIRE_ETH_HDR_LEN + WIRE_IPV4_HDR_LEN + 8 + 60 + 8];
    uint8_t *oip = out + WIRE_ETH_HDR_LEN, *icmp = oip + WIRE_IPV4_HDR_LEN;
    size_t ilen = wire_icmp_emit_error(icmp, sizeof out - (size_t)(icmp - out),
                                       WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_FRAG_NEEDED, d->p.mtu,
                                       ip, quote);
    wire_ipv4_emit(oip, WIRE_IPV4_HDR_LEN, d->p.mtu_icmp_from, wire_get32(ip + 12),
                   WIRE_IPPROTO_ICMP, 64, 0, ilen);
    wire_eth_emit(out, WIRE_ETH_HDR_LEN, frame + 6, frame, WIRE_ETHERTYPE_IPV4);
    size_t olen = WIRE_ETH_HDR_LEN + WIRE_IPV4_HDR_LEN + ilen;
    schedule(s, d->from, s->now + d->p.delay_ns, out, olen);
}

/* The same router for IPv6: ICMPv6 packet too big with the next hop's MTU,
 * quoting as much of the packet as a 1280-byte answer holds (RFC 4443
 * §3.2), from mtu_icmp_from6 to the packet's source, on Ethernet back to
 * the MAC it came from. */
static void send_packet_too_big(sim *s, const sim_dir *d, const uint8_t *frame, size_t len)
{
    static const uint8_t none[16];
    const uint8_t *ip = frame + WIRE_ETH_HDR_LEN;
    if (memcmp(d->p.mtu_icmp_from6, none, 16) == 0 ||
        len < WIRE_ETH_HDR_LEN + WIRE_IPV6_HDR_LEN || wire_get16(frame + 12) != WIRE_ETHERTYPE_IPV6)
        return;
    uint8_t out[WIRE_ETH_HDR_LEN + WIRE_IPV6_MIN_MTU];
    uint8_t *oip = out + WIRE_ETH_HDR_LEN, *icmp = oip + WIRE_IPV6_HDR_LEN;
    size_t ilen = wire_icmpv6_emit_packet_too_big(icmp, sizeof out - (size_t)(icmp - out),
                                                  d->p.mtu_icmp_from6, ip + 8, d->p.mtu, ip,
                                                  len - WIRE_ETH_HDR_LEN);
    wire_ipv6 h = {.next_header = WIRE_IPPROTO_ICMPV6, .hop_limit = 64, .payload_len = ilen};
    memcpy(h.src, d->p.mtu_icmp_from6, 16);
    memcpy(h.dst, ip + 8, 16);
    if (!ilen || !wire_ipv6_emit(oip, WIRE_IPV6_HDR_LEN, &h))
        return;
    wire_eth_emit(out, WIRE_ETH_HDR_LEN, frame + 6, frame, WIRE_ETHERTYPE_IPV6);
    size_t olen = WIRE_ETH_HDR_LEN + WIRE_IPV6_HDR_LEN + ilen;
    schedule(s, d->from, s->now + d->p.delay_ns, out, olen);
}

static void transmit(sim *s, sim_dir *d, uint64_t frame_id, const sim_frame_info *info,
                     const uint8_t *frame, size_t len) {
    const sim_link_params *p = &d->p;
    link_tracer lt = {s, d->from, d->to, frame_id, *info};

    if (p->mtu && len > 14 && len - 14 > p->mtu) {
        s->st.dropped_mtu++;
        link_trace(&lt, SIM_LINK_DROP_MTU, frame, len, 0);
        send_frag_needed(s, d, frame, len);
        send_packet_too_big(s, d, frame, len);
        return;
    }

    uint64_t done = s->now;
    if (p->bandwidth_bps) {
        uint64_t backlog_ns = d->busy_until > s->now ? d->busy_until - s->now : 0;
        if (p->queue_bytes) {
            /* bytes still waiting to serialize ahead of this frame */
            double backlog = (double)backlog_ns * (double)p->bandwidth_bps / 8e9;
            if (backlog + (double)len > (double)p->queue_bytes) {
                s->st.dropped_queue++;
                link_trace(&lt, SIM_LINK_DROP_QUEUE, frame, len, 0);
                return;
            }
        }
        uint64_t bits = (uint64_t)len * 8u;
        uint64_t tx_ns = (bits * SIM_SEC + p->bandwidth_bps - 1) / p->bandwidth_bps;
        uint64_t start = d->busy_until > s->now ? d->busy_until : s->now;
        d->busy_until = start + tx_ns;
        done = d->busy_until;
    }
    uint64_t arrival = done + p->delay_ns;

    s->st.sent++;
    if (s->pcap)
        pcap_write(s->pcap, s->now, frame, len);

    /* The draws happen in a fixed order so a seed replays exactly. */
    int lost = sim_rng_chance(&d->rng, p->loss);
    if (lost) {
        s->st.lost++;
        link_trace(&lt, SIM_LINK_SEND, frame, len, arrival);
        link_trace(&lt, SIM_LINK_LOSS, frame, len, arrival);
        return;
    }
    int corrupt = sim_rng_chance(&d->rng, p->corrupt);
    int reorder = sim_rng_chance(&d->rng, p->reorder);
    int dup = sim_rng_chance(&d->rng, p->duplicate);
    uint64_t extra = 0;
    if (reorder)
        extra = 1 + (p->reorder_delay_ns ? sim_rng_below(&d->rng, p->reorder_delay_ns) : 0);

    link_trace(&lt, SIM_LINK_SEND, frame, len, arrival + extra);

    const uint8_t *out = frame;
    uint8_t *mangled = NULL;
    if (corrupt && len > 0) {
        mangled = malloc(len);
        if (mangled) {
            memcpy(mangled, frame, len);
            size_t at = (size_t)sim_rng_below(&d->rng, len);
            mangled[at] ^= (uint8_t)(1 + sim_rng_below(&d->rng, 255));
            out = mangled;
            s->st.corrupted++;
            link_trace(&lt, SIM_LINK_CORRUPT, out, len, arrival + extra);
        }
    }
    if (reorder) {
        s->st.reordered++;
        link_trace(&lt, SIM_LINK_REORDER, out, len, arrival + extra);
    }
    schedule(s, d->to, arrival + extra, out, len);
    if (dup) {
        s->st.duplicated++;
        link_trace(&lt, SIM_LINK_DUPLICATE, out, len, arrival + extra);
        schedule(s, d->to, arrival + extra, out, len);
    }
    free(mangled);
}

static int is_broadcast(const uint8_t *mac) {
    static const uint8_t bc[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    return memcmp(mac, bc, 6) == 0 || (mac[0] & 1);
}

void sim_wire_output(sim *s, sim_host *from, const uint8_t *frame, size_t len) {
    uint64_t id = ++s->frame_ids;
    sim_frame_info info;
    sim_frame_parse(frame, len, &info);
    int sent = 0;
    if (len >= 14) {
        int bc = is_broadcast(frame);
        for (size_t i = 0; i < s->nwires; i++) {
            for (int k = 0; k < 2; k++) {
                sim_dir *d = &s->wires[i]->dir[k];
                if (d->from != from)
                    continue;
                if (!bc && memcmp(frame, d->to->mac, 6) != 0)
                    continue;
                transmit(s, d, id, &info, frame, len);
                sent = 1;
            }
        }
    }
    if (!sent) {
        s->st.no_route++;
        link_tracer lt = {s, from, NULL, id, info};
        link_trace(&lt, SIM_LINK_NO_ROUTE, frame, len, 0);
    }
}
