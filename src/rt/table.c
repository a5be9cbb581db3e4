/* table.c — the runtime's sockets, found by the inode of the application's
 * descriptor. An inode, not a descriptor number: every dup of the
 * descriptor finds the same socket, and a number the application closed
 * and the kernel handed out again never finds a stale one. Chained hash,
 * doubled when the load passes 1; runtime thread only. */
#include "rt/rt.h"

#include <errno.h>
#include <stdlib.h>

static size_t slot(const synack_rt *rt, uint64_t ino)
{
    return (size_t)((ino * 0x9e3779b97f4a7c15ull) >> 20) & (rt->table_size - 1);
}

rt_sock *rt_lookup(synack_rt *rt, uint64_t ino)
{
    if (!rt->table_size)
        return NULL;
    for (rt_sock *r = rt->table[slot(rt, ino)]; r; r = r->hnext)
        if (r->ino == ino)
            return r;
    return NULL;
}

static int grow(synack_rt *rt)
{
    size_t old = rt->table_size, size = old ? old * 2 : 64;
    rt_sock **t = calloc(size, sizeof *t);
    if (!t)
        return -ENOMEM;
    rt_sock **was = rt->table;
    rt->table = t;
    rt->table_size = size;
    for (size_t i = 0; i < old; i++) {
        for (rt_sock *r = was[i], *next; r; r = next) {
            next = r->hnext;
            size_t s = slot(rt, r->ino);
            r->hnext = t[s];
            t[s] = r;
        }
    }
    free(was);
    return 0;
}

int rt_insert(synack_rt *rt, rt_sock *r)
{
    if (rt->nsocks >= rt->table_size && grow(rt) < 0)
        return -ENOMEM;
    size_t s = slot(rt, r->ino);
    r->hnext = rt->table[s];
    rt->table[s] = r;
    rt->nsocks++;
    if (!r->shadow) /* the descriptor's calls come here (group.c) */
        rt_group_place(rt, r->ino);
    return 0;
}

void rt_remove(synack_rt *rt, rt_sock *r)
{
    for (rt_sock **p = &rt->table[slot(rt, r->ino)]; *p; p = &(*p)->hnext) {
        if (*p == r) {
            *p = r->hnext;
            rt->nsocks--;
            if (!r->shadow)
                rt_group_forget(rt, r->ino);
            return;
        }
    }
}
