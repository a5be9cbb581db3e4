/* reasm.c — fragment reassembly for IPv4 (RFC 791 §3.2, RFC 815) and IPv6
 * (RFC 8200 §4.5), one machine for both; reasm4.c and reasm6.c turn each
 * family's fragments into a reasm_piece and take the datagrams made whole.
 *
 * A datagram being reassembled is keyed by family, addresses and
 * identification (and, for IPv4, protocol) and holds its fragments in a list
 * sorted by offset, each a copy of that fragment's data; the first (offset
 * 0) also keeps its headers. Fragments never overlap: one that would ends
 * the whole datagram (RFC 5722; Linux does the same for IPv4 since 4.19;
 * for IPv6 its record stays until it expires, so that its later fragments
 * are dropped too), while an exact duplicate of a fragment held (same
 * offset and length) is dropped alone (RFC 5722 §4 allows it; Linux does
 * it). So the datagram is whole exactly when its last fragment (MF or M clear)
 * has come and the bytes held add up to its length: the holes of RFC 815
 * need no list of their own. It is then copied into one contiguous buffer
 * and delivered as an unfragmented one would be.
 *
 * Limits, with Linux's names, per family: all datagrams together hold at
 * most ipfrag_high_thresh (ip6frag_high_thresh) bytes (a fragment beyond is
 * dropped), and a datagram not whole ipfrag_time (ip6frag_time) seconds
 * after its first fragment came is dropped, with an ICMP time exceeded
 * (code 1) to its source if the fragment at offset 0 came. A datagram
 * arrives in at most REASM_MAX_FRAGS fragments.
 *
 * An ICMP error about a datagram, when it times out or once it is whole,
 * goes by how its first fragment came: none if that frame was to a
 * link-layer multicast or broadcast address (n->l2_group; RFC 4443
 * §2.4(e.4), (e.5), RFC 1122 §3.2.2), the fragment those errors quote.
 *
 * Every datagram of a family lives exactly that family's time, and time
 * never runs backwards, so a FIFO list by age is also the list by expiry:
 * the timer looks only at each family's head. The hash is keyed (SipHash)
 * so that chosen identifications cannot pile datagrams into one chain. */
#include "net/net.h"

#include <string.h>

#define MAX_LEN 65535   /* IPv4 Total Length, IPv6 Payload Length */
#define FRAG_HDR_LEN 8  /* the IPv6 fragment header, dropped from the whole datagram */

enum { PLACE_OK, PLACE_DUP, PLACE_OVERLAP };

void reasm_init(net_ctx *n)
{
    const synack_sysctl *s = &n->cfg->net;
    synack_counters *c = n->ctr;
    n->reasm[REASM_IPV4] = (reasm_family){
        .high_thresh = &s->ipfrag_high_thresh, .lifetime_s = &s->ipfrag_time,
        .reqds = &c->ip_reasm_reqds, .oks = &c->ip_reasm_oks, .fails = &c->ip_reasm_fails,
        .timeouts = &c->ip_reasm_timeout, .overlaps = &c->ip_reasm_overlaps};
    n->reasm[REASM_IPV6] = (reasm_family){
        .high_thresh = &s->ip6frag_high_thresh, .lifetime_s = &s->ip6frag_time,
        .reqds = &c->ip6_reasm_reqds, .oks = &c->ip6_reasm_oks, .fails = &c->ip6_reasm_fails,
        .timeouts = &c->ip6_reasm_timeout, .overlaps = &c->ip6_reasm_overlaps, .bury = true};
}

static size_t bucket(const net_ctx *n, const reasm_key *k)
{
    uint8_t b[2 + 4 + 32];
    b[0] = k->family;
    b[1] = k->proto;
    wire_put32(b + 2, k->id);
    memcpy(b + 6, k->src, 16);
    memcpy(b + 22, k->dst, 16);
    return (size_t)(siphash13(&n->reasm_key, b, sizeof(b)) % REASM_BUCKETS);
}

static bool same_key(const reasm_key *a, const reasm_key *b)
{
    return a->family == b->family && a->proto == b->proto && a->id == b->id &&
           memcmp(a->src, b->src, 16) == 0 && memcmp(a->dst, b->dst, 16) == 0;
}

static reasm_dgram *find(net_ctx *n, const reasm_key *k, size_t b)
{
    for (reasm_dgram *d = n->reasm_hash[b]; d; d = d->hnext)
        if (same_key(&d->key, k))
            return d;
    return NULL;
}

static void frags_free(net_ctx *n, reasm_dgram *d)
{
    for (reasm_frag *f = d->frags, *next; f; f = next) {
        next = f->next;
        mem_free(&n->cfg->alloc, f);
    }
    d->frags = NULL;
}

/* Unlink a datagram from the hash and its family's age list, and free it
 * with its fragments. */
static void dgram_free(net_ctx *n, reasm_dgram *d)
{
    reasm_family *fam = &n->reasm[d->key.family];
    reasm_dgram **pp = &n->reasm_hash[bucket(n, &d->key)];
    while (*pp != d)
        pp = &(*pp)->hnext;
    *pp = d->hnext;
    if (d->older)
        d->older->newer = d->newer;
    else
        fam->oldest = d->newer;
    if (d->newer)
        d->newer->older = d->older;
    else
        fam->newest = d->older;
    frags_free(n, d);
    fam->mem -= d->mem;
    fam->count--;
    mem_free(&n->cfg->alloc, d);
}

/* Free a datagram's fragments, keeping its record: what is left of a
 * datagram an overlap ended, until it expires. RFC 5722 §4 wants the
 * fragments not yet received discarded too; Linux forgets the datagram,
 * and IPv4 here does as Linux. */
static void bury(net_ctx *n, reasm_family *fam, reasm_dgram *d)
{
    frags_free(n, d);
    fam->mem -= d->mem - sizeof(*d);
    d->mem = sizeof(*d);
    d->nfrags = 0;
    d->received = 0;
    d->have_last = 0;
    d->dead = 1;
}

/* A failure: counted once; the datagram, if any, is dropped whole. */
static void fail(net_ctx *n, reasm_family *fam, reasm_dgram *d)
{
    (*fam->fails)++;
    if (d)
        dgram_free(n, d);
}

static bool fits(const reasm_family *fam, size_t cost)
{
    return cost <= *fam->high_thresh && fam->mem <= *fam->high_thresh - cost;
}

static reasm_dgram *dgram_new(net_ctx *n, const reasm_key *k, size_t b)
{
    reasm_family *fam = &n->reasm[k->family];
    reasm_dgram *d = mem_calloc(&n->cfg->alloc, 1, sizeof(*d));
    if (!d)
        return NULL;
    d->key = *k;
    d->expires = n->now + (uint64_t)*fam->lifetime_s * NS_PER_SEC;
    d->mem = sizeof(*d);
    d->hnext = n->reasm_hash[b];
    n->reasm_hash[b] = d;
    d->older = fam->newest;
    if (d->older)
        d->older->newer = d;
    else
        fam->oldest = d;
    fam->newest = d;
    fam->mem += d->mem;
    fam->count++;
    return d;
}

/* Where the fragment [off, end) goes (*at: the link to point at it), or
 * why it cannot: an exact duplicate, or an overlap with one held. */
static int place(reasm_dgram *d, uint32_t off, uint32_t end, reasm_frag ***at)
{
    reasm_frag **pp = &d->frags;
    while (*pp && (uint32_t)(*pp)->off + (*pp)->len <= off)
        pp = &(*pp)->next;
    const reasm_frag *f = *pp; /* the first held fragment ending after off */
    if (f && f->off == off && (uint32_t)f->off + f->len == end)
        return PLACE_DUP;
    if (f && f->off < end)
        return PLACE_OVERLAP;
    *at = pp;
    return PLACE_OK;
}

/* Do the lengths agree? One last fragment, and nothing beyond its end. */
static bool consistent(const reasm_dgram *d, const reasm_piece *p, uint32_t end)
{
    if (p->more)
        return !d->have_last || end <= d->total;
    if (d->have_last)
        return end == d->total;
    const reasm_frag *f = d->frags;
    while (f && f->next)
        f = f->next;
    return !f || (uint32_t)f->off + f->len <= end;
}

/* RFC 791, RFC 8200 §4.5: a fragment's data is a multiple of 8 bytes
 * unless it is the last; none is empty; the whole fits its length field. */
static bool well_formed(const reasm_piece *p)
{
    return p->len > 0 && p->off + p->len <= p->max_end && (!p->more || p->len % 8 == 0);
}

/* The headers the whole datagram starts with, from its first fragment's:
 * IPv4 keeps the first fragment's header (an ICMP port unreachable quotes
 * it); IPv6 keeps what came before the fragment header (RFC 8200 §4.5:
 * the unfragmentable part). */
static size_t lead_len(const reasm_dgram *d, const reasm_frag *first)
{
    return d->key.family == REASM_IPV6 ? first->hdr_len - FRAG_HDR_LEN : first->hdr_len;
}

/* Does the whole datagram fit its length field? IPv4 counts its header
 * (with the first fragment's options), IPv6 what follows the fixed header. */
static bool whole_fits(const reasm_dgram *d, const reasm_frag *first)
{
    size_t hdr = d->key.family == REASM_IPV6 ? lead_len(d, first) - WIRE_IPV6_HDR_LEN
                                             : first->hdr_len;
    return hdr + d->total <= MAX_LEN;
}

/* Hand the whole datagram `buf` (len bytes, lead_len of headers first) to
 * its family; `d` is a copy of the datagram's record, now freed. */
static void deliver(net_ctx *n, const reasm_dgram *d, uint8_t next_header, uint8_t *buf,
                    size_t len)
{
    if (d->key.family == REASM_IPV6)
        reasm6_deliver(n, d, next_header, buf, len);
    else
        ipv4_deliver(n, buf, wire_get32(d->key.src), wire_get32(d->key.dst), d->key.proto,
                     buf + (len - d->total), d->total);
}

/* Whole: copy the pieces into one buffer, forget the datagram, deliver. */
static void complete(net_ctx *n, reasm_family *fam, reasm_dgram *d)
{
    const synack_allocator *a = &n->cfg->alloc;
    const reasm_frag *first = d->frags; /* whole, so offset 0 is here and leads */
    if (!first || first->off != 0 || !whole_fits(d, first)) {
        fail(n, fam, d);
        return;
    }
    size_t lead = lead_len(d, first);
    uint8_t *buf = mem_alloc(a, lead + d->total);
    if (!buf) {
        fail(n, fam, d);
        return;
    }
    memcpy(buf, first->data, lead);
    for (const reasm_frag *f = d->frags; f; f = f->next) {
        if ((uint32_t)f->off + f->len > d->total) { /* consistent() rules it out */
            mem_free(a, buf);
            fail(n, fam, d);
            return;
        }
        memcpy(buf + lead + f->off, f->data + f->hdr_len, f->len);
    }
    reasm_dgram copy = *d;
    /* IPv6: the first fragment's fragment header names what follows it. */
    uint8_t next_header = d->key.family == REASM_IPV6 ? first->data[lead] : 0;
    dgram_free(n, d);
    (*fam->oks)++;
    bool l2_group = n->l2_group;
    n->l2_group = copy.l2_group; /* errors about it go by its first fragment */
    deliver(n, &copy, next_header, buf, lead + copy.total);
    n->l2_group = l2_group;
    mem_free(a, buf);
}

/* Keep a copy of the fragment in datagram `d`, at link `at`. */
static bool hold(net_ctx *n, reasm_family *fam, reasm_dgram *d, reasm_frag **at,
                 const reasm_piece *p)
{
    size_t hdr_len = p->off == 0 ? p->hdr_len : 0;
    size_t cost = sizeof(reasm_frag) + hdr_len + p->len;
    reasm_frag *f = mem_alloc(&n->cfg->alloc, cost);
    if (!f)
        return false;
    f->off = (uint16_t)p->off;
    f->len = (uint16_t)p->len;
    f->hdr_len = (uint32_t)hdr_len;
    memcpy(f->data, p->pkt + p->hdr_len - hdr_len, hdr_len + p->len);
    f->next = *at;
    *at = f;
    d->nfrags++;
    d->received += f->len;
    d->mem += cost;
    fam->mem += cost;
    if (!p->more) {
        d->have_last = 1;
        d->total = (uint32_t)f->off + f->len;
    }
    if (f->off == 0) {
        d->nh_off = p->nh_off;
        d->l2_group = n->l2_group;
    }
    return true;
}

/* What the fragment costs: its copy, and a new datagram's record. */
static size_t piece_cost(const reasm_piece *p, const reasm_dgram *d)
{
    return sizeof(reasm_frag) + (p->off == 0 ? p->hdr_len : 0) + p->len +
           (d ? 0 : sizeof(reasm_dgram));
}

void reasm_add(net_ctx *n, const reasm_piece *p)
{
    reasm_family *fam = &n->reasm[p->key.family];
    (*fam->reqds)++;
    size_t b = bucket(n, &p->key);
    reasm_dgram *d = find(n, &p->key, b);
    uint32_t end = p->off + (uint32_t)p->len;
    if (d && d->dead) {
        (*fam->fails)++; /* RFC 5722: a fragment of a datagram an overlap ended */
        return;
    }
    if (!well_formed(p) || (d && !consistent(d, p, end))) {
        fail(n, fam, d);
        return;
    }
    if (!fits(fam, piece_cost(p, d)) || (!d && !(d = dgram_new(n, &p->key, b)))) {
        fail(n, fam, NULL); /* over high_thresh, or no memory: this fragment only */
        return;
    }
    reasm_frag **at = NULL;
    switch (place(d, p->off, end, &at)) {
    case PLACE_DUP:
        fail(n, fam, NULL); /* as Linux: counted, the datagram kept (RFC 5722 §4 allows) */
        return;
    case PLACE_OVERLAP:
        (*fam->overlaps)++;
        if (fam->bury) {
            (*fam->fails)++;
            bury(n, fam, d);
        } else {
            fail(n, fam, d);
        }
        return;
    default:
        break;
    }
    if (d->nfrags == REASM_MAX_FRAGS || !hold(n, fam, d, at, p)) {
        fail(n, fam, d);
        return;
    }
    if (d->have_last && d->received == d->total)
        complete(n, fam, d);
}

void reasm_timers(net_ctx *n)
{
    for (int i = 0; i < REASM_FAMILIES; i++) {
        reasm_family *fam = &n->reasm[i];
        reasm_dgram *d;
        while ((d = fam->oldest) != NULL && d->expires <= n->now) {
            if (d->dead) { /* counted when it died */
                dgram_free(n, d);
                continue;
            }
            (*fam->timeouts)++;
            n->l2_group = d->l2_group;
            if (i == REASM_IPV6)
                reasm6_time_exceeded(n, d);
            else
                reasm4_time_exceeded(n, d);
            n->l2_group = false;
            fail(n, fam, d);
        }
    }
}

uint64_t reasm_next_deadline(const net_ctx *n)
{
    uint64_t t = UINT64_MAX;
    for (int i = 0; i < REASM_FAMILIES; i++)
        if (n->reasm[i].oldest && n->reasm[i].oldest->expires < t)
            t = n->reasm[i].oldest->expires;
    return t;
}

void reasm_free(net_ctx *n)
{
    for (int i = 0; i < REASM_FAMILIES; i++)
        while (n->reasm[i].oldest)
            dgram_free(n, n->reasm[i].oldest);
}
