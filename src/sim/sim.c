/* sim.c — the simulator's world: hosts, the event heap and the run loop. */
#include "sim/sim_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dev/pcap.h"

/* ------------------------------------------------------------ the heap */

static int ev_before(const sim_event *a, const sim_event *b) {
    if (a->t != b->t)
        return a->t < b->t;
    return a->order < b->order;
}

static void heap_swap(sim_event *a, sim_event *b) {
    sim_event t = *a;
    *a = *b;
    *b = t;
}

int sim_push_event(sim *s, const sim_event *ev) {
    if (s->hlen == s->hcap) {
        size_t cap = s->hcap ? s->hcap * 2 : 64;
        sim_event *n = realloc(s->heap, cap * sizeof *n);
        if (!n)
            return -1;
        s->heap = n;
        s->hcap = cap;
    }
    size_t i = s->hlen++;
    s->heap[i] = *ev;
    s->heap[i].order = s->order++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!ev_before(&s->heap[i], &s->heap[parent]))
            break;
        heap_swap(&s->heap[i], &s->heap[parent]);
        i = parent;
    }
    return 0;
}

static sim_event heap_pop(sim *s) {
    sim_event top = s->heap[0];
    s->heap[0] = s->heap[--s->hlen];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->hlen && ev_before(&s->heap[l], &s->heap[m]))
            m = l;
        if (r < s->hlen && ev_before(&s->heap[r], &s->heap[m]))
            m = r;
        if (m == i)
            break;
        heap_swap(&s->heap[i], &s->heap[m]);
        i = m;
    }
    return top;
}

/* ------------------------------------------------------------ the world */

sim *sim_new(uint64_t seed) {
    sim *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->seed = seed;
    sim_rng_seed(&s->rng, seed, 0);
    return s;
}

void sim_free(sim *s) {
    if (!s)
        return;
    s->trace = NULL; /* freeing stacks must not call back into the caller */
    for (size_t i = 0; i < s->nhosts; i++) {
        sim_host *h = s->hosts[i];
        synack_stack_free(h->stack);
        sim_nat_free(h->nat);
        free(h->name);
        free(h);
    }
    free(s->hosts);
    for (size_t i = 0; i < s->hlen; i++)
        free(s->heap[i].data);
    free(s->heap);
    sim_wires_free(s);
    pcap_close(s->pcap);
    free(s);
}

uint64_t sim_now(const sim *s) { return s->now; }
uint64_t sim_seed(const sim *s) { return s->seed; }
uint64_t sim_random(sim *s) { return sim_rng_next(&s->rng); }
const sim_stats *sim_get_stats(const sim *s) { return &s->st; }

void sim_set_trace(sim *s, sim_trace_fn fn, void *ctx) {
    s->trace = fn;
    s->trace_ctx = ctx;
}

int sim_set_pcap(sim *s, const char *path) {
    int rc = pcap_close(s->pcap);
    s->pcap = NULL;
    if (!path || rc < 0)
        return rc;
    s->pcap = pcap_open(path, PCAP_LINKTYPE_ETHERNET, PCAP_NSEC);
    return s->pcap ? 0 : -1;
}

/* ------------------------------------------------------------ hosts */

sim_origin sim_host_origin(const sim_host *h) {
    return h->s->app_depth > 0 ? SIM_ORIGIN_APP : h->origin;
}

static void host_output(void *ctx, const void *frame, size_t len) {
    sim_host *h = ctx;
    sim_wire_output(h->s, h, frame, len);
}

void sim_inject(sim_host *from, const void *frame, size_t len) {
    sim_wire_output(from->s, from, frame, len);
}

static void host_random(void *ctx, void *buf, size_t len) {
    sim_host *h = ctx;
    uint8_t *p = buf;
    while (len > 0) {
        uint64_t v = sim_rng_next(&h->rng);
        size_t n = len < 8 ? len : 8;
        memcpy(p, &v, n);
        p += n;
        len -= n;
    }
}

sim_trace sim_trace_at(sim_host *h, int kind) {
    sim_trace t;
    memset(&t, 0, sizeof t);
    t.kind = kind;
    t.time_ns = h->s->now;
    t.host = h;
    t.host_index = h->index;
    t.host_name = h->name;
    t.origin = sim_host_origin(h);
    return t;
}

static void host_trace(void *ctx, const synack_trace_event *ev) {
    sim_host *h = ctx;
    sim *s = h->s;
    if (!s->trace)
        return;
    sim_trace t = sim_trace_at(h, SIM_TRACE_STACK);
    t.ev = ev;
    s->trace(s->trace_ctx, &t);
}

static void host_event(void *ctx, synack_sock *sock, unsigned events) {
    sim_host *h = ctx;
    if (!h->ev_fn)
        return;
    h->s->app_depth++;
    h->ev_fn(h->ev_ctx, sock, events);
    h->s->app_depth--;
}

void sim_set_ipv6(sim *s, int on) { s->ipv6 = on != 0; }

synack_addr sim_ip6_for_index(int index) {
    uint8_t a[16] = {0xfd};
    uint64_t id = (uint64_t)index + 1;
    for (int i = 0; i < 8; i++)
        a[15 - i] = (uint8_t)(id >> (8 * i));
    return synack_addr_v6(a);
}

/* The host's IPv6 address (see sim_set_ipv6): the caller's, else one the
 * simulator hands out, whose DAD it skips. */
static void host_ip6(sim *s, sim_host *h, synack_config *c) {
    static const uint8_t none[16];
    if (memcmp(c->ip6, none, 16) == 0 && s->ipv6) {
        memcpy(c->ip6, sim_ip6_for_index(h->index).v6, 16);
        c->prefix6_len = 64;
        c->net.dad_transmits = 0;
    }
    if (memcmp(c->ip6, none, 16) != 0)
        h->ip6 = synack_addr_v6(c->ip6);
}

synack_addr sim_host_addr(const sim_host *h, int family) {
    synack_addr none;
    memset(&none, 0, sizeof none);
    if (family == SYNACK_AF_INET)
        return synack_addr_v4(h->ip);
    return family == SYNACK_AF_INET6 ? h->ip6 : none;
}

/* Passed as `cfg` by sim_add_nat: a host without a stack. */
const char sim_no_stack = 0;

sim_host *sim_add_host(sim *s, const char *name, uint32_t ip, const synack_config *cfg) {
    int no_stack = (const void *)cfg == (const void *)&sim_no_stack;
    if (no_stack)
        cfg = NULL;
    if (s->nhosts == s->hosts_cap) {
        size_t cap = s->hosts_cap ? s->hosts_cap * 2 : 8;
        sim_host **n = realloc(s->hosts, cap * sizeof *n);
        if (!n)
            return NULL;
        s->hosts = n;
        s->hosts_cap = cap;
    }
    sim_host *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->s = s;
    h->index = (int)s->nhosts;
    h->ip = ip;
    h->name = strdup(name ? name : "host");
    if (!h->name) {
        free(h);
        return NULL;
    }
    unsigned id = (unsigned)h->index + 1;
    uint8_t mac[6] = {0x02, 0x00, 0x00, 0x00, (uint8_t)(id >> 8), (uint8_t)id};
    memcpy(h->mac, mac, 6);
    sim_rng_seed(&h->rng, s->seed, 0x100 + id);

    synack_config c;
    if (cfg)
        c = *cfg;
    else
        synack_config_init(&c);
    c.link = SYNACK_LINK_ETHERNET;
    memcpy(c.mac, h->mac, 6);
    c.ip = ip;
    c.output = host_output;
    c.output_ctx = h;
    c.random = host_random;
    c.random_ctx = h;
    c.trace = host_trace;
    c.trace_ctx = h;
    c.event = host_event;
    c.event_ctx = h;
    if (no_stack) {
        s->hosts[s->nhosts++] = h; /* a NAT box: sim_nat.c fills in the rest */
        return h;
    }
    host_ip6(s, h, &c);
    h->stack = synack_stack_new(&c, s->now);
    if (!h->stack) {
        free(h->name);
        free(h);
        return NULL;
    }
    s->hosts[s->nhosts++] = h;
    return h;
}

synack_stack *sim_host_stack(sim_host *h) { return h->stack; }
const char *sim_host_name(const sim_host *h) { return h->name; }
uint32_t sim_host_ip(const sim_host *h) { return h->ip; }
const uint8_t *sim_host_mac(const sim_host *h) { return h->mac; }
int sim_host_index(const sim_host *h) { return h->index; }
size_t sim_host_count(const sim *s) { return s->nhosts; }
sim_host *sim_host_get(sim *s, size_t index) { return index < s->nhosts ? s->hosts[index] : NULL; }

void sim_host_set_clock_offset(sim_host *h, uint64_t offset_ns) { h->clock_offset = offset_ns; }

void sim_host_set_burst_input(sim_host *h, int on) { h->burst_input = on; }

void sim_host_set_event(sim_host *h, synack_event_fn fn, void *ctx) {
    h->ev_fn = fn;
    h->ev_ctx = ctx;
}

/* ------------------------------------------------------------ scheduling */

int sim_at(sim *s, uint64_t t, sim_fn fn, void *ctx) {
    sim_event ev = {.t = t < s->now ? s->now : t, .kind = SIM_EV_CALL, .fn = fn, .ctx = ctx};
    return sim_push_event(s, &ev);
}

int sim_at_host(sim_host *h, uint64_t t, sim_fn fn, void *ctx) {
    sim *s = h->s;
    sim_event ev = {.t = t < s->now ? s->now : t, .kind = SIM_EV_HOST_CALL, .host = h,
                    .fn = fn, .ctx = ctx};
    return sim_push_event(s, &ev);
}

static uint64_t host_deadline(const sim_host *h) {
    if (!h->stack)
        return UINT64_MAX;
    uint64_t d = synack_next_deadline(h->stack);
    if (d != UINT64_MAX)
        d = d > h->clock_offset ? d - h->clock_offset : 0;
    return d < h->poll_floor ? h->poll_floor : d;
}

static void host_poll(sim *s, sim_host *h) {
    if (!h->stack)
        return;
    h->origin = SIM_ORIGIN_POLL;
    synack_poll(h->stack, s->now + h->clock_offset);
    h->origin = SIM_ORIGIN_NONE;
    s->st.polls++;
    /* A deadline that stays in the past after a poll would spin the loop
     * at one instant forever; look at this host again a nanosecond later. */
    if (synack_next_deadline(h->stack) <= s->now + h->clock_offset)
        h->poll_floor = s->now + 1;
}

/* The host with the earliest deadline (lowest index among ties). */
static sim_host *earliest_host(const sim *s, uint64_t *t) {
    sim_host *best = NULL;
    uint64_t bt = UINT64_MAX;
    for (size_t i = 0; i < s->nhosts; i++) {
        uint64_t d = host_deadline(s->hosts[i]);
        if (d < bt) {
            bt = d;
            best = s->hosts[i];
        }
    }
    *t = bt;
    return best;
}

uint64_t sim_next_time(const sim *s) {
    uint64_t th;
    earliest_host(s, &th);
    uint64_t te = s->hlen ? s->heap[0].t : UINT64_MAX;
    uint64_t t = te < th ? te : th;
    if (t != UINT64_MAX && t < s->now)
        t = s->now;
    return t;
}

#define SIM_BURST_MAX 64

/* ev and every frame for the same host at the same instant next in line,
 * handed over as one burst. */
static void deliver_burst(sim *s, sim_event *ev) {
    sim_event evs[SIM_BURST_MAX];
    const void *frames[SIM_BURST_MAX];
    size_t lens[SIM_BURST_MAX], n = 0;
    evs[n++] = *ev;
    while (n < SIM_BURST_MAX && s->hlen && s->heap[0].t == ev->t &&
           s->heap[0].kind == SIM_EV_FRAME && s->heap[0].host == ev->host)
        evs[n++] = heap_pop(s);
    for (size_t i = 0; i < n; i++) {
        frames[i] = evs[i].data;
        lens[i] = evs[i].len;
    }
    synack_input_burst(ev->host->stack, frames, lens, n, s->now + ev->host->clock_offset);
    s->st.events += n - 1;
    s->st.delivered += n;
    for (size_t i = 0; i < n; i++)
        free(evs[i].data);
}

static void run_event(sim *s, sim_event *ev) {
    s->st.events++;
    switch (ev->kind) {
    case SIM_EV_FRAME:
        ev->host->origin = SIM_ORIGIN_INPUT;
        if (ev->host->nat) {
            sim_nat_input(ev->host, ev->data, ev->len);
        } else if (ev->host->burst_input) {
            deliver_burst(s, ev);
            ev->host->origin = SIM_ORIGIN_NONE;
            break;
        } else {
            synack_input(ev->host->stack, ev->data, ev->len, s->now + ev->host->clock_offset);
        }
        ev->host->origin = SIM_ORIGIN_NONE;
        s->st.delivered++;
        free(ev->data);
        break;
    case SIM_EV_CALL:
        for (size_t i = 0; i < s->nhosts; i++)
            host_poll(s, s->hosts[i]);
        s->app_depth++;
        ev->fn(ev->ctx);
        s->app_depth--;
        break;
    case SIM_EV_HOST_CALL:
        host_poll(s, ev->host);
        s->app_depth++;
        ev->fn(ev->ctx);
        s->app_depth--;
        break;
    }
}

int sim_step(sim *s) {
    uint64_t th;
    sim_host *h = earliest_host(s, &th);
    uint64_t te = s->hlen ? s->heap[0].t : UINT64_MAX;
    if (te == UINT64_MAX && th == UINT64_MAX)
        return 0;
    if (te <= th) {
        sim_event ev = heap_pop(s);
        if (ev.t > s->now)
            s->now = ev.t;
        run_event(s, &ev);
    } else {
        if (th > s->now)
            s->now = th;
        host_poll(s, h);
    }
    return 1;
}

void sim_run_until(sim *s, uint64_t t) {
    while (sim_next_time(s) <= t && sim_step(s)) {
    }
    if (s->now < t)
        s->now = t;
}

int sim_run_while(sim *s, int (*pred)(void *ctx), void *ctx, uint64_t deadline) {
    while (pred(ctx)) {
        uint64_t t = sim_next_time(s);
        if (t == UINT64_MAX || t > deadline)
            return 0;
        sim_step(s);
    }
    return 1;
}

int sim_run_idle(sim *s, uint64_t deadline) {
    for (;;) {
        uint64_t t = sim_next_time(s);
        if (t == UINT64_MAX)
            return 1;
        if (t > deadline)
            return 0;
        sim_step(s);
    }
}

const char *sim_link_event_name(int ev) {
    switch (ev) {
    case SIM_LINK_SEND: return "send";
    case SIM_LINK_LOSS: return "loss";
    case SIM_LINK_DUPLICATE: return "duplicate";
    case SIM_LINK_CORRUPT: return "corrupt";
    case SIM_LINK_REORDER: return "reorder";
    case SIM_LINK_DROP_MTU: return "drop-mtu";
    case SIM_LINK_DROP_QUEUE: return "drop-queue";
    case SIM_LINK_NO_ROUTE: return "no-route";
    }
    return "?";
}
