/* tcp_options.c — TCP options: MSS, window scale (RFC 7323), SACK (RFC 2018),
 * timestamps (RFC 7323). Parsed permissively, emitted in Linux's layout. */
#include "wire/wire.h"

#include <string.h>

#define OPT_LEN_MSS 4
#define OPT_LEN_WSCALE 3
#define OPT_LEN_SACK_PERM 2
#define OPT_LEN_TS 10
#define OPT_LEN_SACK_BLOCK 8

void wire_tcp_opts_clear(wire_tcp_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->wscale = -1;
}

static void parse_one(uint8_t kind, const uint8_t *v, size_t olen, wire_tcp_opts *out)
{
    switch (kind) {
    case WIRE_TCPOPT_MSS:
        if (olen == OPT_LEN_MSS)
            out->mss = wire_get16(v);
        break;
    case WIRE_TCPOPT_WSCALE:
        /* int8_t cannot hold 128..255: saturate. Any value > 14 is out of
         * range anyway; the TCP layer clamps it to 14 (RFC 7323 §2.3). */
        if (olen == OPT_LEN_WSCALE)
            out->wscale = (int8_t)(v[0] > 127 ? 127 : v[0]);
        break;
    case WIRE_TCPOPT_SACK_PERM:
        if (olen == OPT_LEN_SACK_PERM)
            out->sack_ok = 1;
        break;
    case WIRE_TCPOPT_TS:
        if (olen == OPT_LEN_TS) {
            out->has_ts = 1;
            out->ts_val = wire_get32(v);
            out->ts_ecr = wire_get32(v + 4);
        }
        break;
    case WIRE_TCPOPT_SACK:
        if (olen >= 2 + OPT_LEN_SACK_BLOCK && (olen - 2) % OPT_LEN_SACK_BLOCK == 0) {
            size_t n = (olen - 2) / OPT_LEN_SACK_BLOCK;
            if (n > WIRE_TCP_MAX_SACK)
                n = WIRE_TCP_MAX_SACK;
            for (size_t i = 0; i < n; i++) {
                out->sack[i][0] = wire_get32(v + i * OPT_LEN_SACK_BLOCK);
                out->sack[i][1] = wire_get32(v + i * OPT_LEN_SACK_BLOCK + 4);
            }
            out->sack_count = (uint8_t)n;
        }
        break;
    default: /* unknown kind: skipped by its length */
        break;
    }
}

wire_err wire_tcp_parse_options(const uint8_t *p, size_t len, wire_tcp_opts *out)
{
    wire_tcp_opts_clear(out);
    size_t i = 0;
    while (i < len) {
        uint8_t kind = p[i];
        if (kind == WIRE_TCPOPT_EOL)
            break;
        if (kind == WIRE_TCPOPT_NOP) {
            i++;
            continue;
        }
        if (len - i < 2)
            return WIRE_BAD_OPTIONS;
        size_t olen = p[i + 1];
        if (olen < 2 || olen > len - i)
            return WIRE_BAD_OPTIONS;
        parse_one(kind, p + i + 2, olen, out);
        i += olen;
    }
    return WIRE_OK;
}

/* Lay the options out Linux's way into `buf` (or only count when buf is
 * NULL). SYN options: "mss, sackOK ts | nop nop ts | nop nop sackOK, nop ws";
 * then, on any segment, "nop nop sack" with as many blocks as fit. */
static size_t layout(const wire_tcp_opts *o, uint8_t *b)
{
    size_t n = 0;

    if (o->mss) {
        b[n++] = WIRE_TCPOPT_MSS;
        b[n++] = OPT_LEN_MSS;
        wire_put16(b + n, o->mss);
        n += 2;
    }
    if (o->has_ts) {
        if (o->sack_ok) {
            b[n++] = WIRE_TCPOPT_SACK_PERM;
            b[n++] = OPT_LEN_SACK_PERM;
        } else {
            b[n++] = WIRE_TCPOPT_NOP;
            b[n++] = WIRE_TCPOPT_NOP;
        }
        b[n++] = WIRE_TCPOPT_TS;
        b[n++] = OPT_LEN_TS;
        wire_put32(b + n, o->ts_val);
        wire_put32(b + n + 4, o->ts_ecr);
        n += 8;
    } else if (o->sack_ok) {
        b[n++] = WIRE_TCPOPT_NOP;
        b[n++] = WIRE_TCPOPT_NOP;
        b[n++] = WIRE_TCPOPT_SACK_PERM;
        b[n++] = OPT_LEN_SACK_PERM;
    }
    if (o->wscale >= 0) {
        b[n++] = WIRE_TCPOPT_NOP;
        b[n++] = WIRE_TCPOPT_WSCALE;
        b[n++] = OPT_LEN_WSCALE;
        b[n++] = (uint8_t)o->wscale;
    }
    size_t blocks = o->sack_count > WIRE_TCP_MAX_SACK ? WIRE_TCP_MAX_SACK : o->sack_count;
    size_t room = (WIRE_TCP_MAX_OPT_LEN - n) < 4 ? 0 : (WIRE_TCP_MAX_OPT_LEN - n - 4) / OPT_LEN_SACK_BLOCK;
    if (blocks > room)
        blocks = room;
    if (blocks) {
        b[n++] = WIRE_TCPOPT_NOP;
        b[n++] = WIRE_TCPOPT_NOP;
        b[n++] = WIRE_TCPOPT_SACK;
        b[n++] = (uint8_t)(2 + blocks * OPT_LEN_SACK_BLOCK);
        for (size_t i = 0; i < blocks; i++) {
            wire_put32(b + n, o->sack[i][0]);
            wire_put32(b + n + 4, o->sack[i][1]);
            n += OPT_LEN_SACK_BLOCK;
        }
    }
    return n; /* every piece above is a multiple of 4 bytes */
}

/* The same sizes as layout() writes, without writing (it runs for every
 * segment built, twice). */
size_t wire_tcp_opts_len(const wire_tcp_opts *o)
{
    size_t n = (o->mss ? 4u : 0u) + (o->has_ts ? 12u : o->sack_ok ? 4u : 0u) +
               (o->wscale >= 0 ? 4u : 0u);
    size_t blocks = o->sack_count > WIRE_TCP_MAX_SACK ? WIRE_TCP_MAX_SACK : o->sack_count;
    size_t room = (WIRE_TCP_MAX_OPT_LEN - n) < 4 ? 0 : (WIRE_TCP_MAX_OPT_LEN - n - 4) / OPT_LEN_SACK_BLOCK;
    if (blocks > room)
        blocks = room;
    return n + (blocks ? 4 + blocks * OPT_LEN_SACK_BLOCK : 0);
}

size_t wire_tcp_emit_options(uint8_t *buf, const wire_tcp_opts *o) { return layout(o, buf); }
