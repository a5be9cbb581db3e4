/* stack.c — creating and driving a stack: synack_input, synack_poll and
 * synack_next_deadline. */
#include "stack/stack.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

static void random_key(synack_stack *s, siphash_key *k)
{
    s->cfg.random(s->cfg.random_ctx, k, sizeof(*k));
}

/* The UDP layer: its tables keyed apart from TCP's, its datagrams built in
 * the interface layer's scratch buffer and sent through it. */
static void udp_setup(synack_stack *s)
{
    udp_ctx *u = &s->udp;
    u->sys = &s->cfg.net;
    u->alloc = &s->cfg.alloc;
    u->ctr = &s->ctr;
    random_key(s, &u->hash_key);
    random_key(s, &u->port_key);
    u->buf = s->net.buf;
    u->buf_len = sizeof(s->net.buf);
    u->emit = net_emit_udp;
    u->emit_ctx = &s->net;
    u->event = s->cfg.udp_event;
    u->event_ctx = s->cfg.udp_event_ctx;
    udp_ctx_init(u);
    s->net.udp = u;
}

synack_stack *synack_stack_new(const synack_config *cfg, uint64_t now_ns)
{
    if (!cfg || !cfg->output || !cfg->random || cfg->mtu < 68 || cfg->mtu > 65535)
        return NULL;
    if (cfg->steer.count > 1 && cfg->steer.index >= cfg->steer.count)
        return NULL;
    const synack_allocator *a = &cfg->alloc;
    if (!a->malloc != !a->realloc || !a->malloc != !a->free)
        return NULL; /* all three hooks or none */
    synack_stack *s = mem_calloc(a, 1, sizeof(*s));
    if (!s)
        return NULL;
    s->cfg = *cfg;
    tcp_ctx *t = &s->tcp;
    t->sys = &s->cfg.net;
    t->alloc = &s->cfg.alloc;
    t->ctr = &s->ctr;
    t->local_ip = cfg->ip;
    memcpy(t->local_ip6, cfg->ip6, 16);
    t->mtu = cfg->mtu;
    t->csum_offload = cfg->checksum_offload != 0;
    t->gso_max = cfg->gso_max > 65535 ? 65535 : cfg->gso_max;
    t->now = now_ns;
    t->emit = net_emit_tcp;
    t->emit_ctx = &s->net;
    t->emit_tail = net_emit_tcp_tail;
    t->gather = cfg->output_v != NULL;
    t->trace = cfg->trace;
    t->trace_ctx = cfg->trace_ctx;
    t->event = cfg->event;
    t->event_ctx = cfg->event_ctx;
    t->data = cfg->data;
    t->data_ctx = cfg->data_ctx;
    t->steer = cfg->steer;
    random_key(s, &t->hash_key);
    random_key(s, &t->isn_key);
    random_key(s, &t->port_key);
    if (tcp_ctx_init(t) != 0) {
        mem_free(a, s);
        return NULL;
    }
    s->net.now = now_ns; /* before net_init: DAD starts now */
    net_init(&s->net, &s->cfg, &s->ctr, t);
    udp_setup(s);
    return s;
}

void synack_stack_free(synack_stack *s)
{
    if (!s)
        return;
    tcp_ctx_free(&s->tcp);
    udp_ctx_free(&s->udp);
    net_free(&s->net);
    synack_allocator a = s->cfg.alloc; /* s goes with the call */
    mem_free(&a, s);
}

bool stack_enter(synack_stack *s, uint64_t now_ns)
{
    if (s->net.in_output) {
        /* The output hook called back into its own stack: the frame it
         * holds lives in the stack's scratch buffer, which this call would
         * overwrite (synack.h forbids it). Loud in debug builds; refused
         * and counted with NDEBUG. */
        s->ctr.reentered_calls++;
        assert(!"synack: a synack_* call from inside the stack's own output hook");
        return false;
    }
    /* Time never runs backwards inside the stack, whatever the caller says. */
    if (now_ns > s->tcp.now) {
        s->tcp.now = now_ns;
        s->net.now = now_ns;
    }
    s->depth++;
    return true;
}

void stack_leave(synack_stack *s)
{
    if (--s->depth == 0) {
        s->depth++; /* handlers calling back in must not dispatch recursively */
        tcp_dispatch(&s->tcp);
        udp_dispatch(&s->udp);
        s->depth--;
    }
}

void synack_input(synack_stack *s, const void *frame, size_t len, uint64_t now_ns)
{
    if (!stack_enter(s, now_ns))
        return;
    if (frame)
        net_input(&s->net, frame, len);
    stack_leave(s);
}

void synack_input_burst(synack_stack *s, const void *const *frames, const size_t *lens, size_t n,
                        uint64_t now_ns)
{
    if (!stack_enter(s, now_ns))
        return;
    s->tcp.in_burst = true;
    for (size_t i = 0; i < n; i++)
        if (frames[i])
            net_input(&s->net, frames[i], lens[i]);
    s->tcp.in_burst = false;
    stack_leave(s); /* events, then the ACKs the burst owes (tcp_dispatch) */
}

void synack_poll(synack_stack *s, uint64_t now_ns)
{
    if (!stack_enter(s, now_ns))
        return;
    net_timers(&s->net);
    tcp_timers(&s->tcp);
    stack_leave(s);
}

uint64_t synack_next_deadline(const synack_stack *s)
{
    uint64_t tcp = tcp_next_deadline(&s->tcp), net = net_next_deadline(&s->net);
    return tcp < net ? tcp : net;
}

int synack_arp_add(synack_stack *s, uint32_t ip, const uint8_t mac[6])
{
    return arp_add_static(&s->net, ip, mac) == 0 ? 0 : -12 /* ENOMEM */;
}

int synack_neigh_add(synack_stack *s, const synack_addr *addr, const uint8_t mac[6])
{
    if (addr->family == SYNACK_AF_INET)
        return synack_arp_add(s, addr->v4, mac);
    if (addr->family != SYNACK_AF_INET6)
        return -EINVAL;
    return neigh_add_static(&s->net, &s->net.nd, addr, mac) == 0 ? 0 : -ENOMEM;
}

void synack_arp_announce(synack_stack *s, uint64_t now_ns)
{
    if (!stack_enter(s, now_ns))
        return;
    arp_announce(&s->net);
    stack_leave(s);
}

int synack_addr6_state(const synack_stack *s, const uint8_t addr[16])
{
    for (int i = 0; i < 2; i++)
        if (memcmp(s->net.addr6[i].a, addr, 16) == 0)
            return s->net.addr6[i].state;
    return SYNACK_ADDR6_NONE;
}

const synack_config *synack_stack_config(const synack_stack *s) { return &s->cfg; }

const synack_counters *synack_get_counters(const synack_stack *s) { return &s->ctr; }

uint64_t synack_drop_count(const synack_stack *s, int drop)
{
    return drop > SYNACK_DROP_NONE && drop < SYNACK_DROP_COUNT ? s->tcp.drops[drop] : 0;
}
