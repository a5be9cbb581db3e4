/* steer_bpf.c — the kernel picks each frame's queue as synack would (see
 * steer_bpf.h): an eBPF program of a few dozen instructions, written out
 * here, that folds a frame's addresses and ports exactly as
 * src/base/steer.c does and returns the member that owns the flow. */
#define _GNU_SOURCE
#include "dev/steer_bpf.h"

#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_tun.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The registers: r6 the frame (LD_ABS reads from it), r7 the addresses'
 * fold, r8 the ports' fold, r9 scratch. LD_ABS/LD_IND leave their value in
 * r0 (in host order) and may clobber r1-r5. */
#define INSN(c, d, s, o, i) ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define MOV64_REG(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV64_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define ALU64_IMM(op, d, i) INSN(BPF_ALU64 | (op) | BPF_K, d, 0, 0, i)
#define ALU64_REG(op, d, s) INSN(BPF_ALU64 | (op) | BPF_X, d, s, 0, 0)
#define ALU32_IMM(op, d, i) INSN(BPF_ALU | (op) | BPF_K, d, 0, 0, i)
#define LD_ABS(size, off) INSN(BPF_LD | (size) | BPF_ABS, 0, 0, 0, off)
#define LD_IND(size, s, off) INSN(BPF_LD | (size) | BPF_IND, 0, s, 0, off)
#define JMP_IMM(op, d, i, o) INSN(BPF_JMP | (op) | BPF_K, d, 0, o, i)
#define JA(o) INSN(BPF_JMP | BPF_JA, 0, 0, o, 0)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define LD_IMM64_1(d, v) INSN(BPF_LD | BPF_DW | BPF_IMM, d, 0, 0, (int32_t)(uint32_t)(v))
#define LD_IMM64_2(v) INSN(0, 0, 0, 0, (int32_t)(uint32_t)((uint64_t)(v) >> 32))

/* A fixed-size program: jumps are counted in instructions, and labels
 * would be more code than the program. Each block says where it goes.
 * The frame starts with an Ethernet header on a TAP (l2 = 14) and with the
 * IP header on a TUN (l2 = 0): a TAP's frames are told apart by their
 * ethertype, a TUN's by the IP version; both prefixes end where the body
 * begins, so the jumps into it are the same. */
#define BODY_V6 15 /* the IPv6 block's place in the body */

size_t dev_steer_bpf_program(const synack_steer *st, int link, struct bpf_insn *p, size_t cap)
{
    const int l2 = link == SYNACK_LINK_IP ? 0 : 14;
    const struct bpf_insn tap[] = {
        MOV64_REG(6, 1), MOV64_IMM(7, 0), MOV64_IMM(8, 0),
        LD_ABS(BPF_H, 12),                                /* ethertype */
        JMP_IMM(BPF_JEQ, 0, 0x0800, 3),                   /* -> body: IPv4 */
        JMP_IMM(BPF_JEQ, 0, 0x86dd, 2 + BODY_V6),         /* -> IPv6 */
        MOV64_IMM(0, 0),                                  /* anything else: member 0 */
        EXIT(),
    };
    const struct bpf_insn tun[] = {
        MOV64_REG(6, 1), MOV64_IMM(7, 0), MOV64_IMM(8, 0),
        LD_ABS(BPF_B, 0),
        ALU64_IMM(BPF_RSH, 0, 4),                         /* the IP version */
        JMP_IMM(BPF_JEQ, 0, 4, 3),                        /* -> body: IPv4 */
        JMP_IMM(BPF_JEQ, 0, 6, 2 + BODY_V6),              /* -> IPv6 */
        MOV64_IMM(0, 0),
        EXIT(),
    };
    const struct bpf_insn *pre = l2 ? tap : tun;
    size_t npre = l2 ? sizeof tap / sizeof tap[0] : sizeof tun / sizeof tun[0];
    const struct bpf_insn body[] = {
        /* IPv4: r7 = src ^ dst; ports only for TCP that is not a fragment. */
        LD_ABS(BPF_W, l2 + 12),
        MOV64_REG(7, 0),
        LD_ABS(BPF_W, l2 + 16),
        ALU64_REG(BPF_XOR, 7, 0),
        LD_ABS(BPF_B, l2 + 9),
        JMP_IMM(BPF_JNE, 0, 6, 33),             /* -> the mix: not TCP */
        LD_ABS(BPF_H, l2 + 6),
        ALU64_IMM(BPF_AND, 0, 0x3fff),
        JMP_IMM(BPF_JNE, 0, 0, 30),             /* -> the mix: a fragment */
        LD_ABS(BPF_B, l2),
        ALU64_IMM(BPF_AND, 0, 15),
        ALU64_IMM(BPF_LSH, 0, 2),                /* the header's length */
        MOV64_REG(9, 0),
        LD_IND(BPF_W, 9, l2),                   /* sport << 16 | dport */
        JA(19),                                   /* -> fold the ports */
        /* IPv6: r7 = the XOR of the eight address words; ports for TCP
         * right after the fixed header (any extension header: none). */
        LD_ABS(BPF_W, l2 + 8),
        MOV64_REG(7, 0),
        LD_ABS(BPF_W, l2 + 12),
        ALU64_REG(BPF_XOR, 7, 0),
        LD_ABS(BPF_W, l2 + 16),
        ALU64_REG(BPF_XOR, 7, 0),
        LD_ABS(BPF_W, l2 + 20),
        ALU64_REG(BPF_XOR, 7, 0),
        LD_ABS(BPF_W, l2 + 24),
        ALU64_REG(BPF_XOR, 7, 0),
        LD_ABS(BPF_W, l2 + 28),
        ALU64_REG(BPF_XOR, 7, 0),
        LD_ABS(BPF_W, l2 + 32),
        ALU64_REG(BPF_XOR, 7, 0),
        LD_ABS(BPF_W, l2 + 36),
        ALU64_REG(BPF_XOR, 7, 0),
        LD_ABS(BPF_B, l2 + 6),
        JMP_IMM(BPF_JNE, 0, 6, 6),              /* -> the mix: not TCP */
        LD_ABS(BPF_W, l2 + 40),
        /* ports: r8 = sport ^ dport */
        MOV64_REG(8, 0),
        ALU64_IMM(BPF_RSH, 8, 16),
        ALU64_IMM(BPF_AND, 0, 0xffff),
        ALU64_REG(BPF_XOR, 8, 0),
        ALU64_IMM(BPF_AND, 8, 0xffff),
        /* the mix, steer_mix: v = ((addrs ^ k0) << 16 | ports) ^ k1 */
        ALU32_IMM(BPF_XOR, 7, (int32_t)(uint32_t)st->key[0]),
        ALU64_IMM(BPF_LSH, 7, 16),
        ALU64_REG(BPF_OR, 7, 8),
        LD_IMM64_1(9, st->key[1]),
        LD_IMM64_2(st->key[1]),
        ALU64_REG(BPF_XOR, 7, 9),
        LD_IMM64_1(9, 0x9e3779b97f4a7c15ull),
        LD_IMM64_2(0x9e3779b97f4a7c15ull),
        ALU64_REG(BPF_MUL, 7, 9),
        ALU64_IMM(BPF_RSH, 7, 32),               /* h */
        ALU64_IMM(BPF_MUL, 7, (int32_t)st->count),
        ALU64_IMM(BPF_RSH, 7, 32),               /* h * count >> 32 */
        MOV64_REG(0, 7),
        EXIT(),
    };
    size_t nbody = sizeof body / sizeof body[0];
    if (npre + nbody > cap)
        return 0;
    memcpy(p, pre, npre * sizeof *p);
    memcpy(p + npre, body, sizeof body);
    return npre + nbody;
}

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int dev_steer_bpf_load(const synack_steer *st, int link, char *err, size_t errlen)
{
    struct bpf_insn prog[DEV_STEER_BPF_MAX];
    size_t n = dev_steer_bpf_program(st, link, prog, DEV_STEER_BPF_MAX);
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    a.insns = (uint64_t)(uintptr_t)prog;
    a.insn_cnt = (uint32_t)n;
    a.license = (uint64_t)(uintptr_t)"Dual MIT/GPL";
    snprintf(a.prog_name, sizeof a.prog_name, "synack_steer");
    int fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a);
    if (fd < 0) {
        int e = errno;
        fail(err, errlen, "loading the steering program: %s%s", strerror(e),
             e == EPERM ? " (unprivileged eBPF is off here)" : "");
        errno = e;
    }
    return fd;
}

int dev_steer_bpf_attach(int tun_fd, const synack_steer *st, int link, char *err, size_t errlen)
{
    int prog = dev_steer_bpf_load(st, link, err, errlen);
    if (prog < 0)
        return -1;
    int rc = ioctl(tun_fd, TUNSETSTEERINGEBPF, &prog);
    int e = errno;
    close(prog); /* the device holds its own reference */
    if (rc < 0) {
        fail(err, errlen, "TUNSETSTEERINGEBPF: %s", strerror(e));
        errno = e;
        return -1;
    }
    return 0;
}

void dev_steer_bpf_detach(int tun_fd)
{
    int none = -1;
    (void)ioctl(tun_fd, TUNSETSTEERINGEBPF, &none);
}
