/* nd.c — Neighbour Discovery messages (RFC 4861): parse router and neighbour
 * solicitations and advertisements, walk their options (§4.6), check what
 * §6.1 and §7.1 let the wire layer check, emit NS and NA. */
#include "wire/wire.h"

#include <string.h>

#define ND_OPT_UNIT 8
#define ND_LLADDR_OPT_LEN 8  /* type, length, 6-byte Ethernet address */
#define ND_PREFIX_OPT_LEN 32
#define ND_MTU_OPT_LEN 8

/* Options start after the fixed part, when the message is long enough. */
static void opts_after(const wire_icmpv6 *m, size_t fixed, const uint8_t **opts, size_t *len)
{
    *opts = m->msg + fixed;
    *len = m->len - fixed;
}

wire_err wire_nd_parse_ns(const wire_icmpv6 *m, wire_nd_ns *out)
{
    if (m->type != WIRE_ND_NEIGHBOR_SOLICIT)
        return WIRE_BAD_HEADER;
    if (m->len < WIRE_ND_NS_LEN)
        return WIRE_TRUNCATED;
    memcpy(out->target, m->msg + 8, 16);
    opts_after(m, WIRE_ND_NS_LEN, &out->opts, &out->opts_len);
    return WIRE_OK;
}

wire_err wire_nd_parse_na(const wire_icmpv6 *m, wire_nd_na *out)
{
    if (m->type != WIRE_ND_NEIGHBOR_ADVERT)
        return WIRE_BAD_HEADER;
    if (m->len < WIRE_ND_NA_LEN)
        return WIRE_TRUNCATED;
    out->flags = m->msg[4] & (WIRE_ND_NA_ROUTER | WIRE_ND_NA_SOLICITED | WIRE_ND_NA_OVERRIDE);
    memcpy(out->target, m->msg + 8, 16);
    opts_after(m, WIRE_ND_NA_LEN, &out->opts, &out->opts_len);
    return WIRE_OK;
}

wire_err wire_nd_parse_rs(const wire_icmpv6 *m, wire_nd_rs *out)
{
    if (m->type != WIRE_ND_ROUTER_SOLICIT)
        return WIRE_BAD_HEADER;
    if (m->len < WIRE_ND_RS_LEN)
        return WIRE_TRUNCATED;
    opts_after(m, WIRE_ND_RS_LEN, &out->opts, &out->opts_len);
    return WIRE_OK;
}

wire_err wire_nd_parse_ra(const wire_icmpv6 *m, wire_nd_ra *out)
{
    if (m->type != WIRE_ND_ROUTER_ADVERT)
        return WIRE_BAD_HEADER;
    if (m->len < WIRE_ND_RA_LEN)
        return WIRE_TRUNCATED;
    const uint8_t *p = m->msg;
    out->cur_hop_limit = p[4];
    out->flags = p[5];
    out->router_lifetime = wire_get16(p + 6);
    out->reachable_time = wire_get32(p + 8);
    out->retrans_timer = wire_get32(p + 12);
    opts_after(m, WIRE_ND_RA_LEN, &out->opts, &out->opts_len);
    return WIRE_OK;
}

int wire_nd_opt_next(const uint8_t *opts, size_t len, size_t *off, wire_nd_opt *out)
{
    if (*off >= len)
        return 0;
    size_t left = len - *off;
    const uint8_t *o = opts + *off;
    if (left < 2 || o[1] == 0)
        return -1;
    size_t olen = (size_t)o[1] * ND_OPT_UNIT;
    if (olen > left)
        return -1;
    out->type = o[0];
    out->p = o;
    out->len = olen;
    *off += olen;
    return 1;
}

wire_err wire_nd_parse_prefix(const wire_nd_opt *o, wire_nd_prefix *out)
{
    if (o->type != WIRE_NDOPT_PREFIX || o->len != ND_PREFIX_OPT_LEN)
        return WIRE_BAD_HEADER;
    out->prefix_len = o->p[2];
    out->flags = o->p[3];
    out->valid_lifetime = wire_get32(o->p + 4);
    out->preferred_lifetime = wire_get32(o->p + 8);
    memcpy(out->prefix, o->p + 16, 16); /* after 4 reserved bytes */
    return WIRE_OK;
}

/* Take one option into the summary (the first of each kind counts). */
static void note_option(const wire_nd_opt *o, wire_nd_opts *out)
{
    switch (o->type) {
    case WIRE_NDOPT_SRC_LLADDR:
        if (o->len == ND_LLADDR_OPT_LEN && !out->has_slla) {
            memcpy(out->slla, o->p + 2, 6);
            out->has_slla = 1;
        }
        break;
    case WIRE_NDOPT_TGT_LLADDR:
        if (o->len == ND_LLADDR_OPT_LEN && !out->has_tlla) {
            memcpy(out->tlla, o->p + 2, 6);
            out->has_tlla = 1;
        }
        break;
    case WIRE_NDOPT_MTU:
        if (o->len == ND_MTU_OPT_LEN && !out->has_mtu) {
            out->mtu = wire_get32(o->p + 4); /* after 2 reserved bytes */
            out->has_mtu = 1;
        }
        break;
    case WIRE_NDOPT_PREFIX:
        if (o->len == ND_PREFIX_OPT_LEN)
            out->prefixes++;
        break;
    case WIRE_NDOPT_REDIRECTED:
        break;
    default:
        out->unknown++;
        break;
    }
}

wire_err wire_nd_parse_options(const uint8_t *opts, size_t len, wire_nd_opts *out)
{
    memset(out, 0, sizeof(*out));
    size_t off = 0;
    wire_nd_opt o;
    int r;
    while ((r = wire_nd_opt_next(opts, len, &off, &o)) > 0)
        note_option(&o, out);
    return r == 0 ? WIRE_OK : WIRE_BAD_OPTIONS;
}

/* Does the option list hold a source link-layer address option? Only called
 * once the walk is known to succeed. */
static int has_slla(const uint8_t *opts, size_t len)
{
    size_t off = 0;
    wire_nd_opt o;
    while (wire_nd_opt_next(opts, len, &off, &o) > 0)
        if (o.type == WIRE_NDOPT_SRC_LLADDR)
            return 1;
    return 0;
}

static size_t min_len(uint8_t type)
{
    switch (type) {
    case WIRE_ND_ROUTER_SOLICIT: return WIRE_ND_RS_LEN;
    case WIRE_ND_ROUTER_ADVERT: return WIRE_ND_RA_LEN;
    case WIRE_ND_NEIGHBOR_SOLICIT: return WIRE_ND_NS_LEN;
    case WIRE_ND_NEIGHBOR_ADVERT: return WIRE_ND_NA_LEN;
    default: return 0;
    }
}

/* The checks particular to one type, after the common ones. */
static wire_nd_invalid validate_type(const wire_icmpv6 *m, const uint8_t src[16],
                                     const uint8_t dst[16], const uint8_t *opts, size_t olen)
{
    const uint8_t *target = m->msg + 8;
    switch (m->type) {
    case WIRE_ND_ROUTER_SOLICIT: /* §6.1.1 */
        if (wire_ipv6addr_is_unspecified(src) && has_slla(opts, olen))
            return WIRE_ND_UNSPEC_WITH_SLLA;
        return WIRE_ND_VALID;
    case WIRE_ND_ROUTER_ADVERT: /* §6.1.2 */
        return wire_ipv6addr_is_link_local(src) ? WIRE_ND_VALID : WIRE_ND_RA_NOT_LINK_LOCAL;
    case WIRE_ND_NEIGHBOR_SOLICIT: /* §7.1.1 */
        if (wire_ipv6addr_is_multicast(target))
            return WIRE_ND_TARGET_MULTICAST;
        if (wire_ipv6addr_is_unspecified(src)) {
            if (!wire_ipv6addr_is_solicited_node(dst))
                return WIRE_ND_DAD_NOT_SOLICITED_NODE;
            if (has_slla(opts, olen))
                return WIRE_ND_UNSPEC_WITH_SLLA;
        }
        return WIRE_ND_VALID;
    default: /* NA, §7.1.2 */
        if (wire_ipv6addr_is_multicast(target))
            return WIRE_ND_TARGET_MULTICAST;
        if (wire_ipv6addr_is_multicast(dst) && (m->msg[4] & WIRE_ND_NA_SOLICITED))
            return WIRE_ND_SOLICITED_TO_MULTICAST;
        return WIRE_ND_VALID;
    }
}

wire_nd_invalid wire_nd_validate(const wire_icmpv6 *m, const uint8_t src[16],
                                 const uint8_t dst[16], uint8_t hop_limit)
{
    size_t fixed = min_len(m->type);
    if (fixed == 0)
        return WIRE_ND_NOT_ND;
    if (hop_limit != 255)
        return WIRE_ND_BAD_HOP_LIMIT;
    if (m->code != 0)
        return WIRE_ND_BAD_CODE;
    if (m->len < fixed)
        return WIRE_ND_TOO_SHORT;
    const uint8_t *opts = m->msg + fixed;
    size_t olen = m->len - fixed;
    size_t off = 0;
    wire_nd_opt o;
    int r;
    while ((r = wire_nd_opt_next(opts, olen, &off, &o)) > 0)
        ;
    if (r < 0)
        return WIRE_ND_BAD_OPTION;
    return validate_type(m, src, dst, opts, olen);
}

/* NS and NA share a layout: header, 4-byte body, target, then an optional
 * link-layer address option of `opt_type`. */
static size_t emit_ns_na(uint8_t *buf, size_t cap, const uint8_t src[16], const uint8_t dst[16],
                         uint8_t type, uint8_t flags, const uint8_t target[16],
                         uint8_t opt_type, const uint8_t *lladdr)
{
    size_t len = WIRE_ND_NS_LEN + (lladdr ? ND_LLADDR_OPT_LEN : 0);
    if (cap < len)
        return 0;
    buf[0] = type;
    buf[1] = 0;
    wire_put16(buf + 2, 0);
    buf[4] = flags;
    buf[5] = buf[6] = buf[7] = 0;
    memmove(buf + 8, target, 16);
    if (lladdr) {
        buf[24] = opt_type;
        buf[25] = 1;
        memmove(buf + 26, lladdr, 6);
    }
    wire_icmpv6_set_checksum(buf, len, src, dst);
    return len;
}

size_t wire_nd_emit_ns(uint8_t *buf, size_t cap, const uint8_t src[16], const uint8_t dst[16],
                       const uint8_t target[16], const uint8_t *slla)
{
    return emit_ns_na(buf, cap, src, dst, WIRE_ND_NEIGHBOR_SOLICIT, 0, target,
                      WIRE_NDOPT_SRC_LLADDR, slla);
}

size_t wire_nd_emit_na(uint8_t *buf, size_t cap, const uint8_t src[16], const uint8_t dst[16],
                       uint8_t flags, const uint8_t target[16], const uint8_t *tlla)
{
    flags &= WIRE_ND_NA_ROUTER | WIRE_ND_NA_SOLICITED | WIRE_ND_NA_OVERRIDE;
    return emit_ns_na(buf, cap, src, dst, WIRE_ND_NEIGHBOR_ADVERT, flags, target,
                      WIRE_NDOPT_TGT_LLADDR, tlla);
}
