/* fuzz_ack.c — libFuzzer target for the acknowledgement and SACK path, with
 * a semantic oracle rather than "no crash":
 *
 *  1. no ACK of sent data is refused: an ACK whose number lies in
 *     [SND.UNA, SND.MAX] never counts as "ACK for data never sent" or
 *     "ACK too old";
 *  2. nothing sent stays unacknowledged forever: after the fuzzer's turn, a
 *     truthful peer that receives everything and acknowledges what it holds
 *     gets every byte written, and the connection is still alive;
 *  3. every byte on the wire is the byte written at that place in the
 *     stream, whether written by copy (synack_send) or by reference
 *     (synack_send_ref, mixed at the fuzzer's choice), through
 *     retransmissions, SACK recovery and partial acknowledgements.
 *
 * Each input sets up one connection (the first byte picks SACK, window
 * scale and timestamps), then its bytes are operations: deliver or lose the
 * next segment the stack sent, send an ACK (any number, window and SACK
 * blocks, reneging and lies included), let time pass, write more. The
 * fuzzer's cumulative ACKs count as received data for the truthful peer.
 * Build: make fuzz. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "synack.h"
#include "wire/wire.h"

#define MS 1000000ull
#define US 0x0a000002u
#define PEER 0x0a000001u
#define PEER_ISS 5000u
#define QMAX 1024
#define MAXDATA (256 * 1024)

typedef struct out_seg { uint32_t seq, len; } out_seg;

static struct {
    synack_stack *s;
    synack_sock *k;
    uint64_t now;
    out_seg q[QMAX];
    size_t qn;
    uint32_t iss, max_end;   /* our ISS; highest sequence end the stack sent */
    uint32_t peer_ts, our_ts;
    int ts, ws;
    uint8_t held[MAXDATA + 1]; /* the truthful peer's copy: byte i received */
    uint32_t contig;           /* bytes held from the start, in a row */
    uint32_t written;
    uint64_t rng;
} F;

/* What byte i of the stream is: filled once, never changed after (the
 * references point into it). */
static uint8_t stream[MAXDATA];

static void on_output(void *ctx, const void *frame, size_t len)
{
    (void)ctx;
    wire_ipv4 ip;
    wire_tcp t;
    if (wire_ipv4_parse(frame, len, &ip) != WIRE_OK ||
        wire_tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &t) != WIRE_OK)
        __builtin_trap(); /* what the stack sends must parse */
    uint32_t span = (uint32_t)t.payload_len + !!(t.flags & SYNACK_SYN) + !!(t.flags & SYNACK_FIN);
    if (t.opt.has_ts)
        F.our_ts = t.opt.ts_val;
    if (F.qn == 0 && F.max_end == 0 && (t.flags & SYNACK_SYN))
        F.iss = t.seq;
    if ((int32_t)(t.seq + span - F.max_end) > 0 || F.max_end == 0)
        F.max_end = t.seq + span;
    if (t.payload_len && F.qn < QMAX)
        F.q[F.qn++] = (out_seg){t.seq, (uint32_t)t.payload_len};
    for (size_t j = 0; j < t.payload_len; j++) { /* oracle 3 */
        uint32_t off = t.seq + (uint32_t)j - F.iss - 1;
        if (off >= F.written || t.payload[j] != stream[off])
            __builtin_trap(); /* a byte not written, or not the one written there */
    }
}

static void on_random(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    uint8_t *p = buf;
    for (size_t i = 0; i < len; i++) {
        F.rng = F.rng * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (uint8_t)(F.rng >> 56);
    }
}

/* One segment from the peer: seq is always its next (it sends no data). */
static void peer_send(uint8_t flags, uint32_t ack, uint16_t wnd, const uint32_t (*sack)[2],
                      int nsack, const wire_tcp_opts *syn_opts)
{
    static uint8_t pkt[WIRE_IPV4_HDR_LEN + 60];
    wire_tcp t = {.sport = 40000, .dport = 80, .seq = PEER_ISS + !(flags & SYNACK_SYN),
                  .ack = ack, .flags = flags, .wnd = wnd};
    if (syn_opts)
        t.opt = *syn_opts;
    else
        wire_tcp_opts_clear(&t.opt);
    if (F.ts) {
        t.opt.has_ts = 1;
        t.opt.ts_val = ++F.peer_ts;
        t.opt.ts_ecr = F.our_ts;
    }
    int room = F.ts ? 3 : 4;
    for (int i = 0; i < nsack && i < room; i++) {
        t.opt.sack[i][0] = sack[i][0];
        t.opt.sack[i][1] = sack[i][1];
        t.opt.sack_count = (uint8_t)(i + 1);
    }
    uint8_t *seg = pkt + WIRE_IPV4_HDR_LEN;
    size_t hl = wire_tcp_emit_header(seg, sizeof(pkt) - WIRE_IPV4_HDR_LEN, &t);
    if (!hl)
        __builtin_trap();
    wire_tcp_set_checksum(seg, hl, PEER, US);
    wire_ipv4_emit(pkt, WIRE_IPV4_HDR_LEN, PEER, US, WIRE_IPPROTO_TCP, 64, 1, hl);
    synack_input(F.s, pkt, WIRE_IPV4_HDR_LEN + hl, F.now);
}

/* Write the stream's next n bytes (at most 16 KiB): copied, or by
 * reference to stream itself, which never changes. */
static void write_more(uint32_t n, bool by_ref)
{
    if (n > 16384)
        n = 16384;
    if (n > MAXDATA - F.written)
        n = MAXDATA - F.written;
    const uint8_t *from = stream + F.written;
    uint32_t before = F.written;
    F.written += n; /* what goes out at once is checked against this */
    ssize_t w = by_ref ? synack_send_ref(F.k, from, n) : synack_send(F.k, from, n);
    F.written = before + (w > 0 ? (uint32_t)w : 0);
}

static void advance(uint64_t ms)
{
    F.now += ms * MS;
    synack_poll(F.s, F.now);
}

static int open_connection(uint8_t flags)
{
    memset(&F, 0, sizeof(F));
    F.now = 1000 * MS;
    F.rng = 1;
    if (!stream[1])
        for (uint32_t i = 0; i < MAXDATA; i++)
            stream[i] = (uint8_t)(i * 131u >> 3 ^ i >> 11);
    synack_config cfg;
    synack_config_init(&cfg);
    cfg.link = SYNACK_LINK_IP;
    cfg.ip = US;
    cfg.mtu = 1040; /* MSS 1000 */
    cfg.output = on_output;
    cfg.random = on_random;
    F.s = synack_stack_new(&cfg, F.now);
    synack_sock *l = synack_socket(F.s);
    synack_setopt(l, SYNACK_TCP_NODELAY, 1);
    synack_bind(l, 80);
    synack_listen(l, 4);
    F.ts = flags & 1;
    F.ws = flags & 2;
    wire_tcp_opts o;
    wire_tcp_opts_clear(&o);
    o.mss = 1000;
    o.sack_ok = (flags & 4) != 0;
    o.wscale = F.ws ? 2 : -1;
    peer_send(SYNACK_SYN, 0, 65535, NULL, 0, &o);
    if (!F.iss)
        return -1;
    F.qn = 0;
    peer_send(SYNACK_ACK, F.iss + 1, 65535, NULL, 0, NULL);
    F.k = synack_accept(l, NULL);
    return F.k ? 0 : -1;
}

/* Oracle 1: an ACK of sent data is taken. */
static void fuzzer_ack(const uint8_t *p)
{
    synack_tcp_info i;
    synack_info(F.k, &i);
    uint32_t span = F.max_end - i.snd_una;
    uint32_t ack = i.snd_una + (span ? (uint32_t)(p[0] | p[1] << 8) % (span + 8) : p[0] % 4);
    uint16_t wnd = (uint16_t)(p[2] << 8 | p[3]);
    uint32_t sack[4][2];
    int n = p[4] % 5;
    for (int b = 0; b < n; b++) {
        uint32_t s = i.snd_una + (uint32_t)(p[5 + 2 * b] * 257) % (span + 1);
        sack[b][0] = s;
        sack[b][1] = s + 1 + p[6 + 2 * b] * 13u;
    }
    uint64_t unsent = synack_drop_count(F.s, SYNACK_DROP_ACK_UNSENT_DATA);
    uint64_t old = synack_drop_count(F.s, SYNACK_DROP_ACK_TOO_OLD);
    bool in_range = (int32_t)(ack - i.snd_una) >= 0 && (int32_t)(F.max_end - ack) >= 0;
    peer_send(SYNACK_ACK, ack, wnd, sack, n, NULL);
    if (in_range && (synack_drop_count(F.s, SYNACK_DROP_ACK_UNSENT_DATA) != unsent ||
                     synack_drop_count(F.s, SYNACK_DROP_ACK_TOO_OLD) != old))
        __builtin_trap(); /* an ACK of data we sent was refused */
    uint32_t upto = ack - F.iss - 1; /* what the peer acknowledged, it holds */
    if (in_range && upto > F.contig && upto <= MAXDATA)
        F.contig = upto;
}

static void deliver(const out_seg *g)
{
    for (uint32_t j = 0; j < g->len; j++) {
        uint32_t off = g->seq + j - F.iss - 1;
        if (off < MAXDATA)
            F.held[off] = 1;
    }
}

/* The peer's cumulative ACK: everything it holds from the start. */
static uint32_t truthful_ack(void)
{
    while (F.contig < F.written && F.held[F.contig])
        F.contig++;
    return F.iss + 1 + F.contig;
}

/* Oracle 2: a truthful peer gets everything, and the connection lives. */
static void truthful_peer(void)
{
    for (int round = 0; round < 4000; round++) {
        for (size_t i = 0; i < F.qn; i++)
            deliver(&F.q[i]);
        F.qn = 0;
        peer_send(SYNACK_ACK, truthful_ack(), 65535, NULL, 0, NULL);
        if (synack_sock_state(F.k) != SYNACK_ESTABLISHED)
            __builtin_trap(); /* it died */
        synack_tcp_info i;
        synack_info(F.k, &i);
        if (i.snd_una == F.iss + 1 + F.written && i.unacked == 0)
            return; /* everything written is acknowledged */
        if (F.qn == 0) {
            uint64_t next = synack_next_deadline(F.s);
            if (next == UINT64_MAX)
                __builtin_trap(); /* data unacknowledged and no timer to resend it */
            F.now = next > F.now ? next : F.now + MS;
            synack_poll(F.s, F.now);
        }
    }
    __builtin_trap(); /* never got through */
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    if (n < 1 || open_connection(d[0]) != 0) {
        if (F.s)
            synack_stack_free(F.s);
        F.s = NULL;
        return 0;
    }
    write_more(4000, d[0] & 8);
    for (size_t i = 1; i + 14 <= n; i += 14) {
        const uint8_t *op = d + i;
        switch (op[0] % 4) {
        case 0: /* deliver (or lose) the oldest segment in flight */
            if (F.qn) {
                if (op[1] & 1)
                    deliver(&F.q[0]);
                memmove(F.q, F.q + 1, (F.qn - 1) * sizeof(F.q[0]));
                F.qn--;
            }
            break;
        case 1:
            fuzzer_ack(op + 1);
            break;
        case 2:
            advance(op[1] * 10u);
            break;
        case 3:
            write_more((uint32_t)(op[1] << 8 | op[2]), op[3] & 1);
            break;
        }
        if (synack_sock_state(F.k) != SYNACK_ESTABLISHED)
            break; /* the fuzzer's lies may end it (RST-free, but timeouts) */
    }
    if (synack_sock_state(F.k) == SYNACK_ESTABLISHED)
        truthful_peer();
    synack_stack_free(F.s);
    F.s = NULL;
    return 0;
}
