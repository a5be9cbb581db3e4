/*
 * pkt.h — packet-conversation harness for the TCP tests, in the style of
 * smoltcp's socket tests: one stack, a scripted peer. The test injects the
 * peer's segments with pkt_send and checks, segment by segment, exactly what
 * the stack answered with pkt_expect / pkt_expect_none.
 *
 * The stack runs on a bare-IP link (SYNACK_LINK_IP: no Ethernet, no ARP) as
 * 10.0.0.2 (PKT_US); the peer is 10.0.0.1 (PKT_PEER). Time starts at
 * PKT_T0 and moves only through pkt_advance.
 *
 * Both families: with SYNACK_PKT_FAMILY=6 in the environment (tests/run.sh
 * runs every tests/tcp binary a second time so), the same conversations
 * run over IPv6, the stack as fd00::2 (PKT_US6) and the peer as fd00::1
 * (PKT_PEER6). The link's MTU is then 1520, so that MSS and segment sizes
 * are the IPv4 ones and every test's numbers hold in both families.
 */
#ifndef SYNACK_TEST_PKT_H
#define SYNACK_TEST_PKT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdint.h>

#include "synack.h"
#include "wire/wire.h"

#define PKT_US 0x0a000002u   /* 10.0.0.2: the stack under test   */
#define PKT_PEER 0x0a000001u /* 10.0.0.1: the scripted peer      */
#define PKT_US6 "fd00::2"
#define PKT_PEER6 "fd00::1"
#define PKT_MS 1000000ULL    /* nanoseconds per millisecond      */
#define PKT_T0 (1000 * PKT_MS)
#define PKT_ANY (-1)         /* pkt_expect: do not check this field */
#define PKT_ANY_FLAGS 0xff   /* pkt_expect: any flags (no real segment has all eight) */

/* Flags, short. */
#define FIN SYNACK_FIN
#define SYN SYNACK_SYN
#define RST SYNACK_RST
#define PSH SYNACK_PSH
#define ACK SYNACK_ACK

#define PKT_QMAX 4096
#define PKT_TRMAX 256
#define PKT_EVMAX 128
#define PKT_BURST_MAX 64

typedef struct pkt_transition {
    uint32_t conn;
    int from, to;
    char cause[48];
} pkt_transition;

typedef struct pkt_h {
    synack_stack *s;
    int family;                /* SYNACK_AF_INET or SYNACK_AF_INET6       */
    synack_addr us, peer;      /* the stack's and the peer's addresses    */
    synack_config cfg;
    uint64_t now;              /* ns */
    uint16_t port;             /* our port: destination of pkt_send       */
    uint16_t peer_port;        /* the peer's port: source of pkt_send     */
    uint32_t iss;              /* our ISS once a pkt_*_open helper ran    */
    uint32_t irs;              /* the peer's ISS in the helpers           */
    int nagle;                 /* 1: helpers leave Nagle on (default off) */
    /* Frames the output hook emitted, oldest first. */
    struct { uint8_t *data; size_t len; } q[PKT_QMAX];
    size_t qhead, qlen;
    uint8_t last[65536];       /* the frame pkt_expect popped last        */
    uint64_t gathered[4];      /* "gather=1": output_v calls by piece count */
    uint8_t direct[65536];     /* "direct=N": what cfg.data took, N bytes a call at most */
    uint32_t direct_len, direct_take, direct_calls;
    pkt_transition tr[PKT_TRMAX];
    size_t ntr;
    struct { synack_sock *sock; unsigned ev; } ev[PKT_EVMAX];
    size_t nev;
    struct { synack_udp *u; unsigned ev; } uev[PKT_EVMAX]; /* UDP sockets' events */
    size_t nuev;
    uint64_t rng;
    /* 1 + the offset of a payload byte the next pkt_send flips after
     * computing its checksum (a segment corrupted on the way); 0: none. */
    size_t corrupt_next;
    char text[1024];
    /* Between pkt_burst_begin and pkt_burst_end the peer's frames are held
     * and then handed over in one synack_input_burst. */
    bool in_burst;
    struct { uint8_t *data; size_t len; } burst[PKT_BURST_MAX];
    size_t nburst;
} pkt_h;

/* A stack with the defaults changed by `knobs`: space-separated name=value
 * pairs, pairs of numbers written with a comma ("ip_local_port_range=5,6");
 * "link_mtu=N" sets the link's MTU, "direct=N" sets cfg.data (it takes up
 * to N bytes a call, into h->direct), "no_ipv4=1" leaves the stack without an
 * IPv4 address, "gather=1" takes frames through cfg.output_v (and turns the
 * trace off, which gathering needs: no state history then).
 * NULL or "" keeps Linux's defaults. */
pkt_h *pkt_new(const char *knobs);
/* The allocator the next pkt_new's stack gets, when its malloc is set
 * (counting tests); pkt_new leaves it as it is. */
extern synack_allocator pkt_allocator;
/* An allocator that counts the blocks it has out in pkt_live_blocks (set
 * pkt_allocator to it before pkt_new: tests of what a connection holds). */
extern const synack_allocator pkt_counting_allocator;
extern long pkt_live_blocks;
extern long pkt_allocations; /* malloc and realloc calls through it */
/* The same in a given family (SYNACK_AF_INET6: the stack has both
 * addresses, the peer speaks IPv6), whatever SYNACK_PKT_FAMILY says. */
pkt_h *pkt_new_family(const char *knobs, int family);
void pkt_free(pkt_h *h);

/* The conversation's family (SYNACK_PKT_FAMILY), and connect to the peer. */
static inline bool pkt_ipv6(const pkt_h *h) { return h->family == SYNACK_AF_INET6; }
int pkt_connect(pkt_h *h, synack_sock *k, uint16_t port);
/* Parse a frame the stack emitted as TCP from us to the peer, checksum
 * included; false if it is not one. */
bool pkt_parse(const pkt_h *h, const uint8_t *frame, size_t len, wire_tcp *out);
/* The source port of the next frame waiting to be popped (a SYN we sent). */
uint16_t pkt_peek_sport(pkt_h *h);
/* Wrap `payload` (protocol `proto`) in the conversation's IP header, from
 * `src` (NULL: the peer) to us, and hand it to the stack. For ICMP(v6)
 * errors and SYNs from other hosts. */
void pkt_send_ip(pkt_h *h, const synack_addr *src, uint8_t proto, const uint8_t *payload,
                 size_t len);

/* pkt_send_ip to any destination `dst` (NULL: us): a packet for an
 * address that is not the stack's (a transparent socket's). */
void pkt_send_ip_to(pkt_h *h, const synack_addr *src, const synack_addr *dst, uint8_t proto,
                    const uint8_t *payload, size_t len);
/* A UDP datagram from `src`:sport (NULL: the peer) to `dst`:dport (NULL:
 * us), with a correct checksum, handed to the stack. */
void pkt_send_udp(pkt_h *h, const synack_addr *src, uint16_t sport, const synack_addr *dst,
                  uint16_t dport, const void *payload, size_t len);
/* Pop the next frame the stack emitted, whatever it is, into h->last;
 * returns its length. Fails the test when there is none. */
#define pkt_pop(h) pkt_pop_at((h), __FILE__, __LINE__)
size_t pkt_pop_at(pkt_h *h, const char *file, int line);
/* UDP events delivered to `u` since the last call (SYNACK_EV_* mask); clears. */
unsigned pkt_udp_events(pkt_h *h, const synack_udp *u);

/* Options: none, or just an MSS. Fill in more fields as a test needs. */
wire_tcp_opts pkt_opts(void);
wire_tcp_opts pkt_opts_mss(uint16_t mss);
/* MSS 1460 and timestamps TSval `val`, TSecr `ecr`. */
wire_tcp_opts pkt_opts_ts(uint32_t val, uint32_t ecr);

/* Hold the peer's next frames (pkt_send and friends), then hand them to
 * the stack as one burst (synack_input_burst), as a device read that found
 * them all waiting does. */
void pkt_burst_begin(pkt_h *h);
void pkt_burst_end(pkt_h *h);
/* Build an IPv4+TCP segment from PKT_PEER:peer_port to PKT_US:port with
 * correct checksums and hand it to the stack at the current time. */
void pkt_send(pkt_h *h, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t wnd,
              const void *payload, size_t len, const wire_tcp_opts *opts);

/* Pop the next frame the stack emitted, check it is a valid TCP segment to
 * the peer with exactly these flags, seq and ack (PKT_ANY skips a field),
 * and return it parsed (payload valid until the next pop). Fails the test
 * with what was expected and what came. */
#define pkt_expect(h, flags, seq, ack) pkt_expect_at((h), (flags), (seq), (ack), __FILE__, __LINE__)
wire_tcp pkt_expect_at(pkt_h *h, uint8_t flags, int64_t seq, int64_t ack, const char *file,
                       int line);
/* Fail the test if the stack emitted anything not yet popped. */
#define pkt_expect_none(h) pkt_expect_none_at((h), __FILE__, __LINE__)
void pkt_expect_none_at(pkt_h *h, const char *file, int line);
/* Frames waiting to be popped. */
size_t pkt_pending(const pkt_h *h);
/* Drop every frame waiting to be popped. */
void pkt_drain(pkt_h *h);

/* Move the clock `ms` forward and run the stack's timers. */
void pkt_advance(pkt_h *h, uint64_t ms);
/* Milliseconds until the stack's next deadline (UINT64_MAX if none). */
uint64_t pkt_next_deadline_ms(const pkt_h *h);

/* A connection's stable id (trace events use it; valid after a free). */
uint32_t pkt_id(const synack_sock *k);
/* The states connection `id` went through, e.g.
 * "CLOSED > SYN-SENT > ESTABLISHED" ("" if it never changed state). */
const char *pkt_history(pkt_h *h, uint32_t id);
/* The cause of the connection's latest state change ("" if none). */
const char *pkt_last_cause(pkt_h *h, uint32_t id);
/* Ids of connections, in order of their first state change, that are not
 * `except` (0: none): how a test finds a listener's child. */
uint32_t pkt_other_conn(pkt_h *h, uint32_t except);
/* Events delivered to `k` since the last call (SYNACK_EV_* mask); clears. */
unsigned pkt_events(pkt_h *h, const synack_sock *k);
/* A counter by its field name: pkt_counter(h, tcp_challenge_acks). */
#define pkt_counter(h, field) (synack_get_counters((h)->s)->field)

/* Helpers for the common openings. Both leave the conversation at
 * our next seq h->iss + 1 and the peer's next seq h->irs + 1, with the peer
 * offering only MSS 1460 and window `PKT_PEER_WND`. */
#define PKT_PEER_WND 65535
#define PKT_PEER_ISS 1000u
/* A listener on `port` with the given backlog; sets h->port. */
synack_sock *pkt_listen(pkt_h *h, uint16_t port, int backlog);
/* An accepted connection on port 80 with SACK and MSS `mss`, whose
 * handshake took `rtt_ms`, with `n` full segments written and sent in one
 * flight (at one instant); n * mss is at most 64 KiB. */
synack_sock *pkt_sack_flight(pkt_h *h, int n, uint16_t mss, int rtt_ms);
/* The same with window scaling offered (wscale >= 0): the window field of
 * the peer's segments after the SYN counts in units of 2^wscale. */
synack_sock *pkt_sack_flight_ws(pkt_h *h, int n, uint16_t mss, int rtt_ms, int wscale);
/* Fill p with the tests' byte pattern (byte i: i * 7 + i / 256). */
void pkt_fill_pattern(uint8_t *p, size_t n);
/* Pop every frame waiting (each must parse, checksum included) and copy
 * each segment's payload to out at its offset from `base`. Returns the
 * highest offset seen. */
uint32_t pkt_collect(pkt_h *h, uint8_t *out, uint32_t base);
/* An ICMPv4 error (RFC 792) from `router` to us, quoting our segment to
 * the peer with sequence number `seq` (`mtu`: the next-hop MTU of a
 * "fragmentation needed", RFC 1191). */
void pkt_icmp4_error(pkt_h *h, uint32_t router, uint8_t type, uint8_t code, uint16_t mtu,
                     uint32_t seq);
/* The peer's ACK on such a connection: everything below segment `ack`,
 * with n SACK blocks [from, to) in segments (segment i starts at
 * ISS + 1 + i * mss), offering window `wnd`. */
void pkt_sack_ack(pkt_h *h, uint16_t mss, uint32_t ack, const uint32_t (*blocks)[2], int n,
                  uint16_t wnd);
/* A listener on port 80 (backlog 8) and one connection accepted from it. */
synack_sock *pkt_established(pkt_h *h);
/* cmocka teardown: pkt_free(*state). */
int pkt_teardown(void **state);
/* SYN → SYN,ACK → ACK against `listener`, then accept. */
synack_sock *pkt_passive_open(pkt_h *h, synack_sock *listener);
/* connect() → SYN, SYN,ACK → ACK, to PKT_PEER:h->peer_port; sets h->port. */
synack_sock *pkt_active_open(pkt_h *h);

/* Helpers for the common closings. Each takes connection `k` from
 * ESTABLISHED, as a helper above left it (our next seq h->iss + 1, the
 * peer's h->irs + 1, nothing in flight), to the state it names, the usual
 * way, and pkt_expects every segment the stack sends on the way. The peer's
 * segments carry window PKT_PEER_WND. They check no state and leave no
 * pkt_expect_none: a test asserts what it is about itself. */
/* shutdown(SHUT_WR) → our FIN,ACK: FIN-WAIT-1. */
void pkt_to_fin_wait_1(pkt_h *h, synack_sock *k);
/* FIN-WAIT-1, then the peer ACKs our FIN: FIN-WAIT-2. */
void pkt_to_fin_wait_2(pkt_h *h, synack_sock *k);
/* FIN-WAIT-2, then the peer's FIN,ACK → our ACK: TIME-WAIT (the four-way
 * close). The peer's two segments carry `opts` (NULL: none). */
void pkt_to_time_wait(pkt_h *h, synack_sock *k, const wire_tcp_opts *opts);
/* FIN-WAIT-1, then one FIN,ACK of the peer's that also acknowledges ours
 * → our ACK: TIME-WAIT without FIN-WAIT-2. */
void pkt_to_time_wait_at_once(pkt_h *h, synack_sock *k);
/* FIN-WAIT-1, then the peer's FIN crosses ours (acknowledging nothing new)
 * → our ACK: CLOSING (the simultaneous close). */
void pkt_to_closing(pkt_h *h, synack_sock *k);
/* The peer's FIN,ACK → our ACK: CLOSE-WAIT. */
void pkt_to_close_wait(pkt_h *h);
/* CLOSE-WAIT, then shutdown(SHUT_WR) → our FIN,ACK: LAST-ACK. */
void pkt_to_last_ack(pkt_h *h, synack_sock *k);

/* "SYN,ACK" for flags. */
const char *pkt_flags_str(uint8_t flags, char *buf, size_t size);

#endif
