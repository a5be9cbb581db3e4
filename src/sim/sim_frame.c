/* sim_frame.c — a lenient frame summary for traces (no checksums checked,
 * every length checked). */
#include "sim/sim.h"

#include <string.h>

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void parse_options(const uint8_t *p, size_t len, synack_seg_info *seg) {
    size_t i = 0;
    while (i < len) {
        uint8_t kind = p[i];
        if (kind == 0)
            break;
        if (kind == 1) {
            i++;
            continue;
        }
        if (i + 1 >= len)
            break;
        uint8_t olen = p[i + 1];
        if (olen < 2 || i + olen > len)
            break;
        const uint8_t *o = p + i + 2;
        switch (kind) {
        case 2:
            if (olen == 4)
                seg->mss = rd16(o);
            break;
        case 3:
            if (olen == 3)
                seg->wscale = (int8_t)(o[0] > 127 ? 127 : o[0]);
            break;
        case 4:
            if (olen == 2)
                seg->sack_ok = 1;
            break;
        case 5:
            for (size_t b = 0; b + 8 <= (size_t)olen - 2 && seg->sack_blocks < 4; b += 8) {
                seg->sack[seg->sack_blocks][0] = rd32(o + b);
                seg->sack[seg->sack_blocks][1] = rd32(o + b + 4);
                seg->sack_blocks++;
            }
            break;
        case 8:
            if (olen == 10) {
                seg->has_ts = 1;
                seg->ts_val = rd32(o);
                seg->ts_ecr = rd32(o + 4);
            }
            break;
        }
        i += olen;
    }
}

void sim_frame_parse(const uint8_t *f, size_t len, sim_frame_info *out) {
    memset(out, 0, sizeof *out);
    out->seg.wscale = -1;
    if (len < 14)
        return;
    uint16_t type = rd16(f + 12);
    if (type == 0x0806) {
        out->is_arp = 1;
        return;
    }
    if (type != 0x0800 || len < 14 + 20)
        return;
    const uint8_t *ip = f + 14;
    size_t avail = len - 14;
    if ((ip[0] >> 4) != 4)
        return;
    size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
    size_t total = rd16(ip + 2);
    if (ihl < 20 || ihl > avail)
        return;
    if (total > avail || total < ihl)
        total = avail;
    out->is_ipv4 = 1;
    out->src_ip = rd32(ip + 12);
    out->dst_ip = rd32(ip + 16);
    if (ip[9] != 6)
        return;
    const uint8_t *t = ip + ihl;
    size_t tlen = total - ihl;
    if (tlen < 20)
        return;
    size_t doff = (size_t)(t[12] >> 4) * 4;
    if (doff < 20 || doff > tlen)
        return;
    out->is_tcp = 1;
    out->src_port = rd16(t);
    out->dst_port = rd16(t + 2);
    out->seg.seq = rd32(t + 4);
    out->seg.ack = rd32(t + 8);
    out->seg.flags = t[13];
    out->seg.wnd = rd16(t + 14);
    out->seg.len = (uint32_t)(tlen - doff);
    parse_options(t + 20, doff - 20, &out->seg);
}
