/* tw_reuse.c — may a new connection take a 4-tuple a TIME-WAIT entry
 * holds? Linux's tcp_tw_reuse (tcp_twsk_unique): only with timestamps, so
 * PAWS guards the new incarnation, and with its ISS above the old SND.NXT. */
#include "tcp/tw_table.h"

/* ------------------------------------------------------------ connect and bind */

/* tcp_tw_reuse=2: loopback only. Our own address counts, as Linux's
 * connections to it go over lo. */
static bool is_own_address(const tcp_ctx *c, const synack_addr *ip)
{
    static const uint8_t loopback6[16] = {[15] = 1};
    synack_addr ours = tcp_local_addr(c, ip->family);
    if (tcp_addr_eq(ip, &ours))
        return true;
    if (ip->family == SYNACK_AF_INET6)
        return memcmp(ip->v6, loopback6, 16) == 0;
    return (ip->v4 >> 24) == 127;
}

tw_verdict tcp_tw_check(tcp_ctx *c, const synack_addr *lip, uint16_t lport, const synack_addr *rip,
                        uint16_t rport)
{
    uint32_t i = tw_find(c, lip, lport, rip, rport);
    if (!i)
        return TW_FREE;
    const tcp_tw *r = rec(c->tw, i);
    uint32_t reuse = c->sys->tcp_tw_reuse;
    if (reuse == 2 && !is_own_address(c, rip))
        reuse = 0;
    /* Linux tcp_twsk_unique: only with timestamps (PAWS must guard the new
     * connection) and once tcp_tw_reuse_delay passed since the last one. */
    if (reuse && (r->flags & TW_F_TS) &&
        now_ms(c) - r->ts_stamp_ms >= c->sys->tcp_tw_reuse_delay)
        return TW_REUSABLE;
    return TW_BUSY;
}

void tcp_tw_reuse(tcb *t)
{
    tcp_ctx *c = t->ctx;
    uint32_t i = tw_find(c, &t->laddr, t->lport, &t->raddr, t->rport);
    if (!i)
        return;
    tcp_tw *r = rec(c->tw, i);
    uint32_t iss = r->snd_nxt + 65535 + 2;
    t->snd.iss = iss ? iss : 1;
    t->opts.ts_recent = r->ts_recent;
    c->ctr->tcp_tw_recycled++;
    tw_kill(c, i, SYNACK_CAUSE_TW_REUSED);
}
