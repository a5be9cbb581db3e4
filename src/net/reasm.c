/* reasm.c — IPv4 fragment reassembly (RFC 791 §3.2, RFC 815).
 *
 * A datagram being reassembled is keyed by (source, destination, protocol,
 * identification) and holds its fragments in a list sorted by offset, each
 * a copy of that fragment's payload. Fragments never overlap (one that would
 * ends the whole datagram, as RFC 5722 asks for IPv6 and Linux does for IPv4
 * since 4.19), so the datagram is whole exactly when its last fragment (MF
 * clear) has come and the bytes held add up to its length: the holes of
 * RFC 815 need no list of their own. It is then copied into one contiguous
 * buffer and delivered as an unfragmented one would be.
 *
 * Limits, with Linux's names: all datagrams together hold at most
 * ipfrag_high_thresh bytes (a fragment beyond is dropped), and a datagram not
 * whole ipfrag_time seconds after its first fragment came is dropped, with
 * an ICMP time exceeded (code 1) to its source if the fragment at offset 0
 * came. A datagram arrives in at most REASM_MAX_FRAGS fragments.
 *
 * Every datagram lives exactly ipfrag_time, and time never runs backwards,
 * so a FIFO list by age is also the list by expiry: the timer looks only at
 * its head. The hash is keyed (SipHash) so that chosen identifications cannot
 * pile datagrams into one chain. */
#include "net/net.h"

#include <string.h>

#define IPV4_MAX_LEN 65535

enum { PLACE_OK, PLACE_DUP, PLACE_OVERLAP };

static size_t bucket(const net_ctx *n, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id)
{
    uint8_t k[11];
    wire_put32(k, src);
    wire_put32(k + 4, dst);
    k[8] = proto;
    wire_put16(k + 9, id);
    return (size_t)(siphash24(&n->reasm_key, k, sizeof(k)) % REASM_BUCKETS);
}

static reasm_dgram *find(net_ctx *n, const wire_ipv4 *ip, size_t b)
{
    for (reasm_dgram *d = n->reasm_hash[b]; d; d = d->hnext)
        if (d->src == ip->src && d->dst == ip->dst && d->proto == ip->proto && d->id == ip->id)
            return d;
    return NULL;
}

/* Unlink a datagram from the hash and the age list, and free it with its
 * fragments. */
static void dgram_free(net_ctx *n, reasm_dgram *d)
{
    const synack_allocator *a = &n->cfg->alloc;
    reasm_dgram **pp = &n->reasm_hash[bucket(n, d->src, d->dst, d->proto, d->id)];
    while (*pp != d)
        pp = &(*pp)->hnext;
    *pp = d->hnext;
    if (d->older)
        d->older->newer = d->newer;
    else
        n->reasm_oldest = d->newer;
    if (d->newer)
        d->newer->older = d->older;
    else
        n->reasm_newest = d->older;
    for (reasm_frag *f = d->frags, *next; f; f = next) {
        next = f->next;
        mem_free(a, f);
    }
    n->reasm_mem -= d->mem;
    n->reasm_count--;
    mem_free(a, d);
}

/* A failure: counted once; the datagram, if any, is dropped whole. */
static void fail(net_ctx *n, reasm_dgram *d)
{
    n->ctr->ip_reasm_fails++;
    if (d)
        dgram_free(n, d);
}

static bool fits(const net_ctx *n, size_t cost)
{
    return cost <= n->cfg->net.ipfrag_high_thresh &&
           n->reasm_mem <= n->cfg->net.ipfrag_high_thresh - cost;
}

static reasm_dgram *dgram_new(net_ctx *n, const wire_ipv4 *ip, size_t b)
{
    reasm_dgram *d = mem_calloc(&n->cfg->alloc, 1, sizeof(*d));
    if (!d)
        return NULL;
    d->src = ip->src;
    d->dst = ip->dst;
    d->proto = ip->proto;
    d->id = ip->id;
    d->expires = n->now + (uint64_t)n->cfg->net.ipfrag_time * NS_PER_SEC;
    d->mem = sizeof(*d);
    d->hnext = n->reasm_hash[b];
    n->reasm_hash[b] = d;
    d->older = n->reasm_newest;
    if (d->older)
        d->older->newer = d;
    else
        n->reasm_oldest = d;
    n->reasm_newest = d;
    n->reasm_mem += d->mem;
    n->reasm_count++;
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
static bool consistent(const reasm_dgram *d, const wire_ipv4 *ip, uint32_t end)
{
    if (ip->more_frags)
        return !d->have_last || end <= d->total;
    if (d->have_last)
        return end == d->total;
    const reasm_frag *f = d->frags;
    while (f && f->next)
        f = f->next;
    return !f || (uint32_t)f->off + f->len <= end;
}

/* RFC 791: a fragment's data is a multiple of 8 bytes unless it is the
 * last; none is empty; the whole datagram fits in 65535 bytes. */
static bool well_formed(const wire_ipv4 *ip)
{
    size_t end = (size_t)ip->frag_offset + ip->payload_len;
    return ip->payload_len > 0 && end + WIRE_IPV4_HDR_LEN <= IPV4_MAX_LEN &&
           (!ip->more_frags || ip->payload_len % 8 == 0);
}

/* Whole: copy the pieces into one buffer, forget the datagram, deliver. */
static void complete(net_ctx *n, reasm_dgram *d)
{
    const synack_allocator *a = &n->cfg->alloc;
    if (d->hdr_len + d->total > IPV4_MAX_LEN) { /* options made it too long */
        fail(n, d);
        return;
    }
    uint8_t *buf = mem_alloc(a, d->total);
    if (!buf) {
        fail(n, d);
        return;
    }
    for (const reasm_frag *f = d->frags; f; f = f->next) {
        if ((uint32_t)f->off + f->len > d->total) { /* consistent() rules it out */
            mem_free(a, buf);
            fail(n, d);
            return;
        }
        memcpy(buf + f->off, f->data, f->len);
    }
    uint32_t src = d->src, dst = d->dst, len = d->total;
    uint8_t proto = d->proto;
    dgram_free(n, d);
    n->ctr->ip_reasm_oks++;
    ipv4_deliver(n, src, dst, proto, buf, len);
    mem_free(a, buf);
}

/* Keep a copy of the fragment in datagram `d`, at link `at`. */
static bool hold(net_ctx *n, reasm_dgram *d, reasm_frag **at, const wire_ipv4 *ip,
                 const uint8_t *hdr)
{
    size_t cost = sizeof(reasm_frag) + ip->payload_len;
    reasm_frag *f = mem_alloc(&n->cfg->alloc, cost);
    if (!f)
        return false;
    f->off = ip->frag_offset;
    f->len = (uint16_t)ip->payload_len;
    memcpy(f->data, ip->payload, ip->payload_len);
    f->next = *at;
    *at = f;
    d->nfrags++;
    d->received += f->len;
    d->mem += cost;
    n->reasm_mem += cost;
    if (!ip->more_frags) {
        d->have_last = 1;
        d->total = (uint32_t)f->off + f->len;
    }
    if (f->off == 0) {
        memcpy(d->hdr, hdr, ip->hdr_len);
        d->hdr_len = ip->hdr_len;
    }
    return true;
}

void reasm_input(net_ctx *n, const wire_ipv4 *ip, const uint8_t *hdr)
{
    n->ctr->ip_reasm_reqds++;
    size_t b = bucket(n, ip->src, ip->dst, ip->proto, ip->id);
    reasm_dgram *d = find(n, ip, b);
    uint32_t off = ip->frag_offset, end = off + (uint32_t)ip->payload_len;
    if (!well_formed(ip) || (d && !consistent(d, ip, end))) {
        fail(n, d);
        return;
    }
    size_t cost = sizeof(reasm_frag) + ip->payload_len + (d ? 0 : sizeof(reasm_dgram));
    if (!fits(n, cost) || (!d && !(d = dgram_new(n, ip, b)))) {
        fail(n, NULL); /* over ipfrag_high_thresh, or no memory: this fragment only */
        return;
    }
    reasm_frag **at = NULL;
    switch (place(d, off, end, &at)) {
    case PLACE_DUP:
        fail(n, NULL); /* as Linux: counted, the datagram kept */
        return;
    case PLACE_OVERLAP:
        n->ctr->ip_reasm_overlaps++;
        fail(n, d);
        return;
    default:
        break;
    }
    if (d->nfrags == REASM_MAX_FRAGS || !hold(n, d, at, ip, hdr)) {
        fail(n, d);
        return;
    }
    if (d->have_last && d->received == d->total)
        complete(n, d);
}

/* ICMP time exceeded, code 1, quoting the first fragment's header and the
 * first 8 bytes of its data (RFC 792). Never about an ICMP error. */
static void time_exceeded(net_ctx *n, const reasm_dgram *d)
{
    const reasm_frag *first = d->frags; /* offset 0: hdr_len is set */
    if (!d->hdr_len || !first || first->off != 0)
        return;
    if (d->proto == WIRE_IPPROTO_ICMP && first->data[0] != WIRE_ICMP_ECHO_REQUEST &&
        first->data[0] != WIRE_ICMP_ECHO_REPLY)
        return;
    uint8_t quote[60 + 8];
    size_t extra = first->len < 8 ? first->len : 8;
    memcpy(quote, d->hdr, d->hdr_len);
    memcpy(quote + d->hdr_len, first->data, extra);
    uint8_t *out = n->buf + 64;
    size_t len = wire_icmp_emit_error(out, sizeof(n->buf) - 64, WIRE_ICMP_TIME_EXCEEDED,
                                      WIRE_ICMP_EXC_FRAGTIME, 0, quote, d->hdr_len + extra);
    if (!len || !icmp_error_allowed(n))
        return;
    n->ctr->icmp_out_time_excds++;
    ipv4_output(n, d->src, WIRE_IPPROTO_ICMP, out, len);
}

void reasm_timers(net_ctx *n)
{
    reasm_dgram *d;
    while ((d = n->reasm_oldest) != NULL && d->expires <= n->now) {
        n->ctr->ip_reasm_timeout++;
        time_exceeded(n, d);
        fail(n, d);
    }
}

uint64_t reasm_next_deadline(const net_ctx *n)
{
    return n->reasm_oldest ? n->reasm_oldest->expires : UINT64_MAX;
}

void reasm_free(net_ctx *n)
{
    while (n->reasm_oldest)
        dgram_free(n, n->reasm_oldest);
}
