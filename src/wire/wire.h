/*
 * wire.h — parse and emit the frames synack speaks. No state, no allocation.
 *
 * Parsers take a byte range, check every length before reading, and fill a
 * view whose pointers point into the caller's frame. Emitters write into a
 * caller's buffer and return the bytes written, or 0 when `cap` is too small.
 * All multi-byte fields in the views are in host byte order.
 */
#ifndef SYNACK_WIRE_H
#define SYNACK_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* Why a parser refused its input. */
typedef enum wire_err {
    WIRE_OK = 0,
    WIRE_TRUNCATED,   /* shorter than a header or than a length field says */
    WIRE_BAD_HEADER,  /* a field holds a value we cannot accept            */
    WIRE_BAD_CSUM,    /* checksum mismatch                                 */
    WIRE_FRAGMENT,    /* an IPv4 fragment: the view is filled, for reassembly;
                       * from wire_ipv6_walk, an IPv6 fragment, described */
    WIRE_BAD_OPTIONS, /* a TCP or IPv6 option's length runs past its header */
    WIRE_PARAM_PROBLEM, /* IPv6: drop it; RFC 8200 names the offending byte
                         * (wire_ipv6_ext.problem) and says whether an
                         * ICMPv6 parameter problem goes back             */
} wire_err;

/* ------------------------------------------------------------ checksum */

/* One's-complement sum of `len` bytes added to `sum` (RFC 1071). `len` may
 * be odd only for the last piece of a sum. */
uint32_t wire_csum_add(uint32_t sum, const void *data, size_t len);
/* The same sum by the portable loop alone, never the CPU's vector unit:
 * what the tests hold the fast path to. */
uint32_t wire_csum_add_portable(uint32_t sum, const void *data, size_t len);
/* Copy `len` bytes from src to dst and return wire_csum_add(sum, dst, len):
 * one pass over the data instead of two, for building and receiving
 * segments. The ranges must not overlap. */
uint32_t wire_csum_copy(uint32_t sum, void *dst, const void *src, size_t len);
/* Fold and complement: the value to store in a checksum field. */
uint16_t wire_csum_fold(uint32_t sum);
/* Sum of the IPv4 pseudo-header (addresses, protocol, length). */
uint32_t wire_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);
/* Sum of the IPv6 pseudo-header (RFC 8200 §8.1: source, destination, the
 * 32-bit upper-layer length, three zero bytes, next header). `dst` is the
 * final destination (the last address of a routing header, if any). */
uint32_t wire_csum_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint8_t next_header,
                           uint32_t len);
/* The folded checksum of `len` bytes of an upper-layer message (TCP,
 * ICMPv6, UDP) over IPv6: 0 when a received message's checksum is right;
 * the value to store when its checksum field was zeroed first. */
uint16_t wire_csum6(const uint8_t src[16], const uint8_t dst[16], uint8_t next_header,
                    const void *data, size_t len);

/* ------------------------------------------------------------ Ethernet */

#define WIRE_ETH_HDR_LEN 14
#define WIRE_ETHERTYPE_IPV4 0x0800
#define WIRE_ETHERTYPE_ARP 0x0806

typedef struct wire_eth {
    const uint8_t *dst, *src; /* 6 bytes each */
    uint16_t type;
    const uint8_t *payload;
    size_t payload_len;
} wire_eth;

wire_err wire_eth_parse(const uint8_t *frame, size_t len, wire_eth *out);
size_t wire_eth_emit(uint8_t *buf, size_t cap, const uint8_t dst[6],
                     const uint8_t src[6], uint16_t type);

/* ------------------------------------------------------------ ARP (RFC 826) */

#define WIRE_ARP_LEN 28
#define WIRE_ARP_REQUEST 1
#define WIRE_ARP_REPLY 2

typedef struct wire_arp {
    uint16_t op;
    uint8_t sha[6];
    uint32_t spa;
    uint8_t tha[6];
    uint32_t tpa;
} wire_arp;

/* Accepts only Ethernet/IPv4 ARP (htype 1, ptype 0x0800, hlen 6, plen 4). */
wire_err wire_arp_parse(const uint8_t *p, size_t len, wire_arp *out);
size_t wire_arp_emit(uint8_t *buf, size_t cap, const wire_arp *a);

/* ------------------------------------------------------------ IPv4 (RFC 791) */

#define WIRE_IPV4_HDR_LEN 20
#define WIRE_IPPROTO_ICMP 1
#define WIRE_IPPROTO_TCP 6

typedef struct wire_ipv4 {
    uint8_t hdr_len;      /* bytes, options included (options are skipped) */
    uint8_t tos;
    uint16_t total_len;
    uint16_t id;
    uint8_t ttl, proto;
    uint32_t src, dst;
    uint16_t frag_offset; /* bytes (the field times 8); 0 unless a fragment   */
    uint8_t more_frags;   /* MF: not the last fragment                        */
    const uint8_t *payload;
    size_t payload_len;   /* total_len - hdr_len; link padding is excluded */
} wire_ipv4;

/* Checks version 4, IHL >= 5, total length within `len`, header checksum.
 * A fragment (MF set or offset != 0) passes the same checks and fills the
 * whole view, but returns WIRE_FRAGMENT: a caller that does not reassemble
 * drops it by checking for WIRE_OK alone. */
wire_err wire_ipv4_parse(const uint8_t *p, size_t len, wire_ipv4 *out);
/* Writes a 20-byte header (DF set, no options) with its checksum for a
 * payload of `payload_len` bytes that the caller places right after it. */
size_t wire_ipv4_emit(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst,
                      uint8_t proto, uint8_t ttl, uint16_t id, size_t payload_len);
/* Make the 20-byte header wire_ipv4_emit wrote at `hdr` a fragment's (RFC
 * 791 §3.2): DF clear, MF as `more`, the data at `offset` bytes into the
 * datagram's payload; checksum recomputed. 0 (nothing written) when the
 * offset is no multiple of 8 or does not fit its 13 bits. */
size_t wire_ipv4_set_fragment(uint8_t *hdr, size_t offset, int more);

/* ------------------------------------------------------------ IPv6 (RFC 8200) */

#define WIRE_ETHERTYPE_IPV6 0x86dd
#define WIRE_IPV6_HDR_LEN 40
#define WIRE_IPV6_MAX_EXT 8 /* extension headers walked before giving up */

/* Next header values (IANA "Assigned Internet Protocol Numbers"). */
#define WIRE_IPPROTO_HOPOPTS 0
#define WIRE_IPPROTO_UDP 17
#define WIRE_IPPROTO_ROUTING 43
#define WIRE_IPPROTO_FRAGMENT 44
#define WIRE_IPPROTO_AH 51 /* authentication header (RFC 4302): only skipped */
#define WIRE_IPPROTO_ICMPV6 58
#define WIRE_IPPROTO_NONE 59
#define WIRE_IPPROTO_DSTOPTS 60

/* ICMPv6 parameter problem codes (RFC 4443 §3.4). */
#define WIRE_ICMPV6_PP_HEADER 0 /* erroneous header field         */
#define WIRE_ICMPV6_PP_NEXTHDR 1 /* unrecognized next header type */
#define WIRE_ICMPV6_PP_OPTION 2 /* unrecognized IPv6 option       */
#define WIRE_ICMPV6_PP_CHAIN 3  /* first fragment has an incomplete header chain
                                   (RFC 7112) */

/* The fixed header. Also what wire_ipv6_emit writes (payload ignored). */
typedef struct wire_ipv6 {
    uint8_t traffic_class;
    uint32_t flow_label;   /* 20 bits                                     */
    uint8_t next_header;   /* the first extension header or upper layer   */
    uint8_t hop_limit;
    uint8_t src[16], dst[16];
    const uint8_t *payload; /* right after the 40 bytes                   */
    size_t payload_len;    /* the Payload Length field; link padding excluded */
} wire_ipv6;

/* Checks version 6 and that the payload length fits in `len` (bytes past it
 * are link padding and ignored). Jumbograms (RFC 2675) are not supported:
 * payload length 0 is an empty payload. WIRE_OK, WIRE_TRUNCATED or
 * WIRE_BAD_HEADER. Extension headers are left to wire_ipv6_walk. */
wire_err wire_ipv6_parse(const uint8_t *p, size_t len, wire_ipv6 *out);
/* Writes the 40-byte header from `h` (payload pointer ignored). 0 when cap
 * is too small, the flow label has more than 20 bits or payload_len > 65535. */
size_t wire_ipv6_emit(uint8_t *buf, size_t cap, const wire_ipv6 *h);

/* What the extension header walk found. Offsets count from the first byte
 * of the IPv6 header, as an ICMPv6 parameter problem's pointer does. */
typedef struct wire_ipv6_ext {
    uint8_t proto;          /* upper-layer protocol (or, for a fragment, the
                               fragment header's next header)              */
    uint8_t count;          /* extension headers walked                    */
    size_t proto_off;       /* offset of the Next Header field naming proto */
    size_t upper_off;       /* offset where proto's header starts          */
    const uint8_t *payload; /* that header and what follows it             */
    size_t payload_len;
    struct {
        uint8_t present;    /* a fragment header was seen                  */
        uint8_t more;       /* M flag                                      */
        uint16_t offset;    /* bytes (the field times 8)                   */
        uint32_t id;        /* identification                              */
        size_t hdr_off;     /* its offset: the per-fragment (unfragmentable)
                               headers are the bytes before it             */
        size_t nh_off;      /* the Next Header field that names it, which a
                               reassembled packet rewrites                 */
        size_t data_off;    /* where the fragmentable part starts          */
    } frag;
    struct {                /* set with WIRE_PARAM_PROBLEM                 */
        uint8_t send_icmp;  /* 1: answer with an ICMPv6 parameter problem  */
        uint8_t code;       /* WIRE_ICMPV6_PP_*                            */
        uint32_t pointer;   /* offset of the offending byte                */
    } problem;
} wire_ipv6_ext;

/* Walk the extension headers of a parsed packet (RFC 8200 §4) to the
 * upper-layer header, bounds-checking each one:
 *  - hop-by-hop (only right after the fixed header, §4.3) and destination
 *    options (§4.6): Pad1 and PadN are skipped, unknown options by their
 *    action bits (§4.2): 00 skip; 01 drop; 10 drop and send a parameter
 *    problem (code 2, pointer to the option type); 11 the same, but send
 *    only if the destination is not multicast;
 *  - routing (§4.4): ignored when segments left is 0, else (we route
 *    nothing, so every type is unknown) code 0 pointing at the type;
 *  - fragment (§4.5): fills `frag`. An atomic fragment (offset 0, M clear,
 *    RFC 6946) is walked past; any other returns WIRE_FRAGMENT with proto,
 *    payload and payload_len describing the fragment's data. A fragment with
 *    M set whose data is not a multiple of 8 bytes (code 0, pointer to the
 *    Payload Length) or that would reassemble past 65535 bytes (code 0,
 *    pointer to the Fragment Offset) is a parameter problem.
 * TCP, UDP, ICMPv6 and No Next Header end the walk with WIRE_OK. Any other
 * next header, a hop-by-hop header later in the chain among them, is
 * WIRE_PARAM_PROBLEM code 1 pointing at the Next Header field (proto and
 * the payload fields are still filled).
 * WIRE_TRUNCATED: a header runs past the payload; WIRE_BAD_OPTIONS: an
 * option runs past its header; WIRE_BAD_HEADER: more than
 * WIRE_IPV6_MAX_EXT extension headers. These drop silently.
 * problem.send_icmp is 0, whatever RFC 8200 asks, where RFC 4443 §2.4(e)
 * forbids an error: a multicast destination (except for an option with
 * action 10), or a source that is unspecified or multicast. The rest of
 * §2.4(e) is the caller's, who knows what the walk cannot: how the frame
 * was addressed at the link layer (e.4, e.5), whether the packet is an
 * ICMPv6 error (e.1: wire_ipv6_skip_ext), and the rate limit (synack's
 * icmpv6_error does all three). */
wire_err wire_ipv6_walk(const wire_ipv6 *ip, wire_ipv6_ext *out);

/* The rest of a first fragment's header chain: `ext` is what wire_ipv6_walk
 * returned WIRE_FRAGMENT with, for a fragment at offset 0. Walks the
 * extension headers after the fragment header into `upper`, as
 * wire_ipv6_walk does (its offsets then count from the fragment's data).
 * WIRE_TRUNCATED: the chain, or the upper-layer header (TCP with its
 * options, UDP and ICMPv6: 8 bytes), does not fit in the fragment, which
 * RFC 7112 (RFC 8200 §4.5) forbids: drop it and send a parameter problem,
 * code 3, pointer 0. WIRE_OK: upper names the upper-layer protocol and its
 * bytes in this fragment. Other results are wire_ipv6_walk's, about the
 * headers after the fragment header. */
wire_err wire_ipv6_first_fragment(const wire_ipv6 *ip, const wire_ipv6_ext *ext,
                                  wire_ipv6_ext *upper);

/* Writes an 8-byte fragment header (RFC 8200 §4.5) naming `next_header`,
 * for data at `offset` bytes into the fragmentable part, M as `more`,
 * identification `id`. 0 when cap < 8, or the offset is no multiple of 8
 * or does not fit its 13 bits. */
size_t wire_ipv6_emit_fragment(uint8_t *buf, size_t cap, uint8_t next_header, size_t offset,
                               int more, uint32_t id);

/* Where the upper layer starts, found as Linux's ipv6_skip_exthdr finds
 * it: hop-by-hop, routing, fragment, destination options and
 * authentication (RFC 4302) headers are skipped by their length fields
 * alone, in any order, no option evaluated. For RFC 4443 §2.4(e.1), which
 * asks whether a packet the walk refused is an ICMPv6 error message.
 *  - WIRE_OK: `*proto` is the first header that is none of those, at
 *    payload offset `*off` (== payload_len when none of it is there);
 *    `*first_frag` is 1 when a fragment header with M set came before it
 *    (a first fragment: what is missing may be in the next one).
 *  - WIRE_FRAGMENT: a fragment header with a non-zero offset: its data is
 *    no header, so nothing can be told (`*proto` is its Next Header).
 *  - WIRE_TRUNCATED: a header runs past the payload. */
wire_err wire_ipv6_skip_ext(const wire_ipv6 *ip, uint8_t *proto, size_t *off,
                            uint8_t *first_frag);

/* A flow label for RFC 6437 from a hash of the flow (a 32- or 64-bit
 * value, e.g. SipHash of the addresses and ports with a secret key):
 * 20 bits, never 0 (which means "no flow label"), every bit of the hash
 * counting. */
uint32_t wire_ipv6_flow_label(uint64_t hash);

/* ------------------------------------------------------------ ICMP (RFC 792) */

#define WIRE_ICMP_ECHO_REPLY 0
#define WIRE_ICMP_DEST_UNREACH 3
#define WIRE_ICMP_ECHO_REQUEST 8
#define WIRE_ICMP_TIME_EXCEEDED 11
#define WIRE_ICMP_PARAM_PROBLEM 12
#define WIRE_ICMP_FRAG_NEEDED 4   /* destination unreachable code (RFC 1191) */
#define WIRE_ICMP_PORT_UNREACH 3  /* destination unreachable code (RFC 792) */
#define WIRE_ICMP_EXC_FRAGTIME 1 /* code: fragment reassembly time exceeded */

typedef struct wire_icmp {
    uint8_t type, code;
    uint16_t id, seq;      /* echo request/reply only */
    const uint8_t *data;   /* after the 8-byte header  */
    size_t data_len;
} wire_icmp;

/* Checks length >= 8 and the checksum. */
wire_err wire_icmp_parse(const uint8_t *p, size_t len, wire_icmp *out);
/* What an ICMP error quotes of the datagram that caused it (RFC 792: the
 * IP header and at least 8 bytes of its payload; RFC 1191: the next-hop
 * MTU in a "fragmentation needed"). For TCP the 8 bytes are both ports and
 * the sequence number. */
typedef struct wire_icmp_quote {
    uint32_t src, dst;
    uint8_t proto;
    uint16_t sport, dport;
    uint32_t seq;
    uint16_t next_hop_mtu; /* destination unreachable, code 4; else 0 */
} wire_icmp_quote;
/* Parse an error (destination unreachable, time exceeded, parameter
 * problem) message's quote. WIRE_OK, WIRE_TRUNCATED or WIRE_BAD_HEADER. */
wire_err wire_icmp_parse_quote(const wire_icmp *m, wire_icmp_quote *out);
/* Writes an echo request/reply (`type`) carrying `data`. */
size_t wire_icmp_emit_echo(uint8_t *buf, size_t cap, uint8_t type, uint16_t id,
                           uint16_t seq, const uint8_t *data, size_t data_len);
/* Writes an error message (`type`, `code`, header bytes 4-7 = `rest`: zero,
 * or the next-hop MTU of "fragmentation needed", RFC 1191) quoting `quote`
 * (RFC 792: the offending IP header and 8 bytes of its data). */
size_t wire_icmp_emit_error(uint8_t *buf, size_t cap, uint8_t type, uint8_t code, uint32_t rest,
                            const uint8_t *quote, size_t quote_len);

/* ------------------------------------------------------------ TCP (RFC 9293) */

#define WIRE_TCP_HDR_LEN 20
#define WIRE_TCP_MAX_OPT_LEN 40
#define WIRE_TCP_MAX_SACK 4

/* Option kinds. */
enum {
    WIRE_TCPOPT_EOL = 0, WIRE_TCPOPT_NOP = 1, WIRE_TCPOPT_MSS = 2,
    WIRE_TCPOPT_WSCALE = 3, WIRE_TCPOPT_SACK_PERM = 4, WIRE_TCPOPT_SACK = 5,
    WIRE_TCPOPT_TS = 8,
};

typedef struct wire_tcp_opts {
    uint16_t mss;          /* 0 = absent                         */
    int8_t wscale;         /* -1 = absent (value as sent, <= 255) */
    uint8_t sack_ok;
    uint8_t has_ts;
    uint32_t ts_val, ts_ecr;
    uint8_t sack_count;    /* 0..4 blocks                        */
    uint32_t sack[WIRE_TCP_MAX_SACK][2];
} wire_tcp_opts;

typedef struct wire_tcp {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t hdr_len;       /* bytes, options included */
    uint8_t flags;         /* FIN=0x01 ... CWR=0x80   */
    uint16_t wnd, urg;
    wire_tcp_opts opt;
    const uint8_t *payload;
    size_t payload_len;
} wire_tcp;

/* Clear `o` to "no options" (wscale = -1). */
void wire_tcp_opts_clear(wire_tcp_opts *o);
/* Parse the option bytes. Unknown kinds are skipped by their length; a
 * known kind with the wrong length is ignored; a length < 2 or running past
 * the end is WIRE_BAD_OPTIONS. */
wire_err wire_tcp_parse_options(const uint8_t *p, size_t len, wire_tcp_opts *out);
/* Parse a segment and verify its checksum with the pseudo-header. */
wire_err wire_tcp_parse(const uint8_t *seg, size_t len, uint32_t src_ip,
                        uint32_t dst_ip, wire_tcp *out);
/* The same over IPv6: the checksum covers the IPv6 pseudo-header. */
wire_err wire_tcp_parse6(const uint8_t *seg, size_t len, const uint8_t src_ip[16],
                         const uint8_t dst_ip[16], wire_tcp *out);
/* The same without the checksum, for links that guarantee integrity
 * (checksum offload: an in-memory link, loopback). */
wire_err wire_tcp_parse_trusted(const uint8_t *seg, size_t len, wire_tcp *out);
/* Bytes the options in `o` take, padded to a multiple of 4 (<= 40). The
 * layout is Linux's: SYN "mss, sackOK+ts (or nop nop ts), nop ws";
 * other segments "nop nop ts" then "nop nop sack". */
size_t wire_tcp_opts_len(const wire_tcp_opts *o);
/* Write those wire_tcp_opts_len(o) bytes to `buf`, which must have room. */
size_t wire_tcp_emit_options(uint8_t *buf, const wire_tcp_opts *o);
/* Write header and options from `h` (h->hdr_len, payload fields ignored).
 * Checksum field left 0. Returns the header length written. */
size_t wire_tcp_emit_header(uint8_t *buf, size_t cap, const wire_tcp *h);
/* Compute and store the checksum of a complete segment in place. */
void wire_tcp_set_checksum(uint8_t *seg, size_t seg_len, uint32_t src_ip, uint32_t dst_ip);
/* The same over IPv6. */
void wire_tcp_set_checksum6(uint8_t *seg, size_t seg_len, const uint8_t src_ip[16],
                            const uint8_t dst_ip[16]);

/* ------------------------------------------------------------ UDP (RFC 768) */
/* src/wire/udp.c */

#define WIRE_UDP_HDR_LEN 8

typedef struct wire_udp {
    uint16_t sport, dport;
    uint16_t csum;            /* as received (0: none, IPv4 only) */
    const uint8_t *payload;
    size_t payload_len;       /* from the length field            */
} wire_udp;

/* Parse a datagram: the length field must cover the header and fit in
 * `len` (bytes after it are ignored, WIRE_TRUNCATED if it runs past,
 * WIRE_BAD_HEADER below 8); a checksum, if not 0, must verify with the
 * IPv4 pseudo-header (WIRE_BAD_CSUM). */
wire_err wire_udp_parse(const uint8_t *d, size_t len, uint32_t src_ip, uint32_t dst_ip,
                        wire_udp *out);
/* The same over IPv6, where a checksum of 0 is WIRE_BAD_CSUM (RFC 8200 §8.1). */
wire_err wire_udp_parse6(const uint8_t *d, size_t len, const uint8_t src_ip[16],
                         const uint8_t dst_ip[16], wire_udp *out);
/* Write the 8-byte header for `payload_len` bytes (checksum 0); returns 8,
 * or 0 when `cap` is short or the datagram would exceed 65535 bytes. */
size_t wire_udp_emit_header(uint8_t *buf, size_t cap, uint16_t sport, uint16_t dport,
                            size_t payload_len);
/* Compute and store the checksum of a complete datagram of `len` bytes
 * (a computed 0 is sent as 0xffff). */
void wire_udp_set_checksum(uint8_t *d, size_t len, uint32_t src_ip, uint32_t dst_ip);
void wire_udp_set_checksum6(uint8_t *d, size_t len, const uint8_t src_ip[16],
                            const uint8_t dst_ip[16]);

/* ------------------------------------------------------------ ICMPv6 (RFC 4443) */
/* src/wire/icmpv6.c. IPv6 addresses are 16 bytes in network order. The
 * checksum covers the IPv6 pseudo-header (RFC 8200 §8.1). */

#define WIRE_IPV6_MIN_MTU 1280       /* RFC 8200 §5 */
#define WIRE_ICMPV6_HDR_LEN 8        /* type, code, checksum, 4-byte body */
/* The longest quote an error carries: the error's IPv6 packet (40-byte
 * header, no extension headers) stays within the minimum MTU (§2.4(c)). */
#define WIRE_ICMPV6_MAX_QUOTE (WIRE_IPV6_MIN_MTU - 40 - WIRE_ICMPV6_HDR_LEN)

enum {
    WIRE_ICMPV6_DEST_UNREACH = 1,   /* codes 0-6, RFC 4443 §3.1 */
    WIRE_ICMPV6_PACKET_TOO_BIG = 2, /* body: MTU, §3.2 / RFC 8201 */
    WIRE_ICMPV6_TIME_EXCEEDED = 3,  /* codes 0-1, §3.3 */
    WIRE_ICMPV6_PARAM_PROBLEM = 4,  /* codes 0-3, body: pointer, §3.4 (code 3: RFC 7112) */
    WIRE_ICMPV6_ECHO_REQUEST = 128,
    WIRE_ICMPV6_ECHO_REPLY = 129,
    WIRE_ND_ROUTER_SOLICIT = 133,   /* RFC 4861 §4.1-4.4 */
    WIRE_ND_ROUTER_ADVERT = 134,
    WIRE_ND_NEIGHBOR_SOLICIT = 135,
    WIRE_ND_NEIGHBOR_ADVERT = 136,
    WIRE_ND_REDIRECT = 137,
};
#define WIRE_ICMPV6_PORT_UNREACH 4 /* destination unreachable: port unreachable (§3.1) */
#define WIRE_ICMPV6_TE_HOPLIMIT 0 /* time exceeded: hop limit exceeded in transit */
#define WIRE_ICMPV6_TE_FRAGTIME 1 /* time exceeded: fragment reassembly time exceeded */

typedef struct wire_icmpv6 {
    uint8_t type, code;
    uint32_t body;         /* bytes 4-7: echo id << 16 | seq, MTU, pointer,
                            * ND fields; 0 when the message is under 8 bytes */
    const uint8_t *msg;    /* the whole message, from the type byte */
    size_t len;
    const uint8_t *data;   /* after the 8 bytes (empty when len <= 8) */
    size_t data_len;
} wire_icmpv6;

/* Checks length >= 4 (type, code, checksum: §2.1) and the checksum with the
 * pseudo-header of `src` and `dst`. */
wire_err wire_icmpv6_parse(const uint8_t *p, size_t len, const uint8_t src[16],
                           const uint8_t dst[16], wire_icmpv6 *out);
/* Compute and store the checksum of a complete message in place. */
void wire_icmpv6_set_checksum(uint8_t *msg, size_t len, const uint8_t src[16],
                              const uint8_t dst[16]);
/* Writes an echo request/reply (`type`) carrying `data`, checksum set.
 * `data` may alias `buf` (a reply built over the request). */
size_t wire_icmpv6_emit_echo(uint8_t *buf, size_t cap, const uint8_t src[16],
                             const uint8_t dst[16], uint8_t type, uint16_t id,
                             uint16_t seq, const uint8_t *data, size_t data_len);
/* Error messages quote the first min(pkt_len, WIRE_ICMPV6_MAX_QUOTE) bytes
 * of the offending packet `pkt` (from its IPv6 header; it may alias `buf`).
 * They return 0 when `cap` cannot hold header and quote, or the code is out
 * of its range. The generic form takes any type, code and body. */
size_t wire_icmpv6_emit_error(uint8_t *buf, size_t cap, const uint8_t src[16],
                              const uint8_t dst[16], uint8_t type, uint8_t code,
                              uint32_t body, const uint8_t *pkt, size_t pkt_len);
size_t wire_icmpv6_emit_dest_unreach(uint8_t *buf, size_t cap, const uint8_t src[16],
                                     const uint8_t dst[16], uint8_t code,
                                     const uint8_t *pkt, size_t pkt_len);
size_t wire_icmpv6_emit_packet_too_big(uint8_t *buf, size_t cap, const uint8_t src[16],
                                       const uint8_t dst[16], uint32_t mtu,
                                       const uint8_t *pkt, size_t pkt_len);
size_t wire_icmpv6_emit_time_exceeded(uint8_t *buf, size_t cap, const uint8_t src[16],
                                      const uint8_t dst[16], uint8_t code,
                                      const uint8_t *pkt, size_t pkt_len);
size_t wire_icmpv6_emit_param_problem(uint8_t *buf, size_t cap, const uint8_t src[16],
                                      const uint8_t dst[16], uint8_t code, uint32_t pointer,
                                      const uint8_t *pkt, size_t pkt_len);

/* What an ICMPv6 error quotes of the packet that caused it. */
typedef struct wire_icmpv6_quote {
    uint8_t src[16], dst[16]; /* of the quoted IPv6 header */
    uint8_t next_header;      /* the quoted header's Next Header */
    uint8_t has_upper;        /* 1: next_header is no extension header and the
                               * quote holds 8 bytes of it; then: */
    uint16_t sport, dport;    /* for TCP and UDP: the ports */
    uint32_t seq;             /* for TCP: the sequence number */
    uint32_t mtu;             /* packet too big: its MTU (unclamped); else 0 */
} wire_icmpv6_quote;
/* Parse the quote of an error message (destination unreachable, packet too
 * big, time exceeded, parameter problem). WIRE_TRUNCATED when the message
 * is under 8 bytes or the quote under 40, WIRE_BAD_HEADER for another type
 * or a quoted version other than 6. */
wire_err wire_icmpv6_parse_quote(const wire_icmpv6 *m, wire_icmpv6_quote *out);

/* ------------------------------------------------------------ Neighbour Discovery (RFC 4861) */
/* src/wire/nd.c. Messages are ICMPv6 messages parsed by wire_icmpv6_parse;
 * the ND parsers read them further. */

#define WIRE_ND_NS_LEN 24            /* header, reserved, target (§4.3) */
#define WIRE_ND_NA_LEN 24
#define WIRE_ND_RS_LEN 8
#define WIRE_ND_RA_LEN 16
#define WIRE_ND_NA_ROUTER 0x80       /* NA flags, the first byte of the body */
#define WIRE_ND_NA_SOLICITED 0x40
#define WIRE_ND_NA_OVERRIDE 0x20
#define WIRE_ND_RA_MANAGED 0x80      /* RA flags */
#define WIRE_ND_RA_OTHER 0x40
#define WIRE_ND_PREFIX_ONLINK 0x80   /* prefix information flags (L, A) */
#define WIRE_ND_PREFIX_AUTO 0x40

/* Option types (§4.6). */
enum {
    WIRE_NDOPT_SRC_LLADDR = 1, WIRE_NDOPT_TGT_LLADDR = 2, WIRE_NDOPT_PREFIX = 3,
    WIRE_NDOPT_REDIRECTED = 4, WIRE_NDOPT_MTU = 5,
};

typedef struct wire_nd_ns {
    uint8_t target[16];
    const uint8_t *opts;
    size_t opts_len;
} wire_nd_ns;

typedef struct wire_nd_na {
    uint8_t flags;           /* WIRE_ND_NA_ROUTER | _SOLICITED | _OVERRIDE */
    uint8_t target[16];
    const uint8_t *opts;
    size_t opts_len;
} wire_nd_na;

typedef struct wire_nd_rs {
    const uint8_t *opts;
    size_t opts_len;
} wire_nd_rs;

typedef struct wire_nd_ra {
    uint8_t cur_hop_limit;
    uint8_t flags;           /* WIRE_ND_RA_MANAGED | _OTHER (other bits as sent) */
    uint16_t router_lifetime; /* seconds */
    uint32_t reachable_time, retrans_timer; /* ms */
    const uint8_t *opts;
    size_t opts_len;
} wire_nd_ra;

/* Each checks the type and the fixed part's length (WIRE_BAD_HEADER,
 * WIRE_TRUNCATED); the options are walked separately. */
wire_err wire_nd_parse_ns(const wire_icmpv6 *m, wire_nd_ns *out);
wire_err wire_nd_parse_na(const wire_icmpv6 *m, wire_nd_na *out);
wire_err wire_nd_parse_rs(const wire_icmpv6 *m, wire_nd_rs *out);
wire_err wire_nd_parse_ra(const wire_icmpv6 *m, wire_nd_ra *out);

/* One option as it stands in the message. */
typedef struct wire_nd_opt {
    uint8_t type;
    const uint8_t *p;        /* from the type byte */
    size_t len;              /* bytes: 8 x the length field */
} wire_nd_opt;
/* The option walk (§4.6), from *off = 0: 1 with the option at *off in
 * `out` and *off moved past it; 0 at the end (*off == len); -1 for a zero
 * length or an option running past `len` (drop the whole message). Unknown
 * types come out like any other, for the caller to skip. */
int wire_nd_opt_next(const uint8_t *opts, size_t len, size_t *off, wire_nd_opt *out);

typedef struct wire_nd_prefix {
    uint8_t prefix_len;
    uint8_t flags;           /* WIRE_ND_PREFIX_ONLINK | _AUTO */
    uint32_t valid_lifetime, preferred_lifetime; /* seconds */
    uint8_t prefix[16];
} wire_nd_prefix;
/* Decode a prefix information option (§4.6.2: length 32). WIRE_BAD_HEADER
 * for another type or length. */
wire_err wire_nd_parse_prefix(const wire_nd_opt *o, wire_nd_prefix *out);

/* The options a host acts on, collected by one walk. An option of a known
 * type with the wrong length is ignored, and so is a repeat (the first one
 * counts); unknown types are skipped (§4.6). Prefixes are only counted:
 * walk again with wire_nd_opt_next and wire_nd_parse_prefix to read them. */
typedef struct wire_nd_opts {
    uint8_t has_slla, has_tlla, has_mtu;
    uint8_t slla[6], tlla[6]; /* Ethernet addresses (option length 1) */
    uint32_t mtu;
    unsigned prefixes, unknown;
} wire_nd_opts;
wire_err wire_nd_parse_options(const uint8_t *opts, size_t len, wire_nd_opts *out);

/* Why a received ND message must be dropped (§6.1.1, §6.1.2, §7.1.1,
 * §7.1.2, the checks the wire can make; the checksum is wire_icmpv6_parse's). */
typedef enum wire_nd_invalid {
    WIRE_ND_VALID = 0,
    WIRE_ND_NOT_ND,              /* type is not RS, RA, NS or NA */
    WIRE_ND_BAD_HOP_LIMIT,       /* IPv6 hop limit is not 255 */
    WIRE_ND_BAD_CODE,            /* ICMP code is not 0 */
    WIRE_ND_TOO_SHORT,           /* under 24 (NS, NA), 8 (RS) or 16 (RA) bytes */
    WIRE_ND_TARGET_MULTICAST,    /* NS or NA target is a multicast address */
    WIRE_ND_BAD_OPTION,          /* an option with length 0 or past the end */
    WIRE_ND_UNSPEC_WITH_SLLA,    /* from :: (DAD, or an RS) with a source link-layer option */
    WIRE_ND_DAD_NOT_SOLICITED_NODE, /* NS from :: not to a solicited-node address */
    WIRE_ND_SOLICITED_TO_MULTICAST, /* NA with S set sent to a multicast address */
    WIRE_ND_RA_NOT_LINK_LOCAL,   /* RA from an address that is not link-local */
} wire_nd_invalid;
/* `src`, `dst` and `hop_limit` are the IPv6 header's. */
wire_nd_invalid wire_nd_validate(const wire_icmpv6 *m, const uint8_t src[16],
                                 const uint8_t dst[16], uint8_t hop_limit);

/* Write an NS for `target` (with a source link-layer option when `slla` is
 * not NULL; NULL for DAD) and an NA (flags, target, and a target
 * link-layer option when `tlla` is not NULL), checksum set. */
size_t wire_nd_emit_ns(uint8_t *buf, size_t cap, const uint8_t src[16], const uint8_t dst[16],
                       const uint8_t target[16], const uint8_t *slla);
size_t wire_nd_emit_na(uint8_t *buf, size_t cap, const uint8_t src[16], const uint8_t dst[16],
                       uint8_t flags, const uint8_t target[16], const uint8_t *tlla);

/* ------------------------------------------------------------ IPv6 addresses (RFC 4291) */
/* src/wire/ipv6addr.c. */

int wire_ipv6addr_is_multicast(const uint8_t a[16]);    /* ff00::/8 */
int wire_ipv6addr_is_unspecified(const uint8_t a[16]);  /* ::       */
int wire_ipv6addr_is_link_local(const uint8_t a[16]);   /* fe80::/10 */
int wire_ipv6addr_is_loopback(const uint8_t a[16]);     /* ::1      */
int wire_ipv6addr_is_v4_mapped(const uint8_t a[16]);    /* ::ffff:0:0/96 (RFC 4291 §2.5.5.2) */
int wire_ipv6addr_is_solicited_node(const uint8_t a[16]); /* ff02::1:ff00:0/104 */
/* ff02::1:ffXX:XXXX with the low 24 bits of `a` (§2.7.1). `out` may be `a`. */
void wire_ipv6addr_solicited_node(uint8_t out[16], const uint8_t a[16]);
/* The Ethernet address of a multicast group: 33:33 and its last 4 bytes
 * (RFC 2464 §7). */
void wire_ipv6addr_multicast_mac(uint8_t mac[6], const uint8_t group[16]);
/* fe80::/64 with the modified EUI-64 interface identifier of `mac` (the
 * universal/local bit flipped, ff:fe in the middle: RFC 4291 appendix A,
 * RFC 2464 §4-5). */
void wire_ipv6addr_link_local(uint8_t out[16], const uint8_t mac[6]);

/* Big-endian load/store helpers used across the wire code. */
static inline uint16_t wire_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t wire_get32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void wire_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void wire_put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

#endif
