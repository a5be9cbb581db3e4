/* icmp.c — RFC 792: answer echo requests; count everything else. */
#include "net/net.h"

void icmp_input(net_ctx *n, uint32_t src, const uint8_t *p, size_t len)
{
    wire_icmp m;
    n->ctr->icmp_in_msgs++;
    wire_err e = wire_icmp_parse(p, len, &m);
    if (e != WIRE_OK) {
        n->ctr->icmp_in_errors++;
        if (e == WIRE_BAD_CSUM)
            n->ctr->icmp_in_csum_errors++;
        return;
    }
    if (m.type != WIRE_ICMP_ECHO_REQUEST)
        return;
    uint8_t *out = n->buf + 64;
    size_t room = sizeof(n->buf) - 64;
    size_t olen = wire_icmp_emit_echo(out, room, WIRE_ICMP_ECHO_REPLY, m.id, m.seq, m.data,
                                      m.data_len);
    if (!olen)
        return;
    n->ctr->icmp_out_echo_reps++;
    ipv4_output(n, src, WIRE_IPPROTO_ICMP, out, olen);
}
