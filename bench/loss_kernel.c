/*
 * loss_kernel.c — the Linux kernel's TCP under bench_loss's loss, beside
 * synack's figure from the simulator (loss_sim.c), so the Mathis-bound
 * target can be read against what a mature TCP achieves on the same path.
 *
 * The kernel has no netem here, so the path is emulated in userspace: two
 * network namespaces of this program's own (unshare(CLONE_NEWNET), never
 * named, so nothing outlives the processes that hold them), each with a
 * TUN device; an emulator process per direction (loss_emu.c) reads the IP
 * packets one side's kernel sends into its TUN and writes them into the
 * other side's TUN 5 ms later (a FIFO: with a constant delay, arrival
 * order is release order). Packets from the sender carrying TCP payload are dropped
 * with probability p from a PRNG seeded per run; the ACK direction is
 * clean. No bandwidth limit, MTU 1500, private addresses in the two
 * namespaces only, no route out of them.
 *
 * A sender process connects from namespace A and writes without pause, a
 * receiver in namespace B reads and counts the bytes read from 2 s after
 * the connection is accepted to BENCH_LOSS_SECONDS (default 30). Runs
 * differ by the emulator's seed; median of them all, as bench_loss.
 *
 * Needs root and /dev/net/tun; otherwise (or with BENCH_NO_PEER) the
 * synack side is still printed with linux=na and the reason.
 */
#define _GNU_SOURCE
#include "loss_emu.h"
#include "loss_sim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/tcp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LK_PORT 5001
#define LK_DELAY_NS ((uint64_t)LOSS_RTT_MS * 1000000u / 2)
#define LK_MTU 1500
/* A packet may leave up to this much before its due time. The emulator's
 * timers and reads wake 50-200 us late on these VMs, and a burst takes
 * ~5 us a packet to write (each write runs the far side's TCP), so on
 * time by the clock is late on the wire: with 0, releases came a median
 * 0.14 ms late and ping across the loaded link read min/avg 10.25/10.58
 * ms; with 100 us, 0.02 ms and 10.03/10.25 ms (README).
 * BENCH_LOSS_EMU_EARLY_US overrides it. */
#define LK_EARLY_US_DEFAULT 100

static const char *const lk_ip[2] = {"10.97.0.1", "10.97.0.2"}; /* A sender, B receiver */
static const char *const lk_if[2] = {"lkA", "lkB"};

/* ------------------------------------------------------------ results */

/* Counters read from the namespaces after a run (whole run, warm-up
 * included); `ns` 0 is the sender's, 1 the receiver's. */
enum { C_RTO, C_TLP, C_TLP_RECOVERY, C_SACK_RECOVERY, C_SACK_FAIL, C_LOST_RETRANS,
       C_SPURIOUS_RTO, C_DSACK, C_RETRANS, C_OUT, C_DELACK, C_COALESCE, C_ACK_COMPRESSED,
       LK_NCTR };
static const struct lk_ctr {
    int ns;
    const char *file, *group, *name, *label;
} lk_ctrs[LK_NCTR] = {
    [C_RTO] = {0, "netstat", "TcpExt", "TCPTimeouts", "RTOs"},
    [C_TLP] = {0, "netstat", "TcpExt", "TCPLossProbes", "TLPs"},
    [C_TLP_RECOVERY] = {0, "netstat", "TcpExt", "TCPLossProbeRecovery", "TLP recoveries"},
    [C_SACK_RECOVERY] = {0, "netstat", "TcpExt", "TCPSackRecovery", "SACK recoveries"},
    [C_SACK_FAIL] = {0, "netstat", "TcpExt", "TCPSackRecoveryFail", "SACK recoveries failed"},
    [C_LOST_RETRANS] = {0, "netstat", "TcpExt", "TCPLostRetransmit", "lost retransmissions"},
    [C_SPURIOUS_RTO] = {0, "netstat", "TcpExt", "TCPSpuriousRTOs", "spurious RTOs"},
    [C_DSACK] = {0, "netstat", "TcpExt", "TCPDSACKRecv", "DSACKs"},
    [C_RETRANS] = {0, "snmp", "Tcp", "RetransSegs", "retransmitted segments"},
    [C_OUT] = {0, "snmp", "Tcp", "OutSegs", "segments sent"},
    [C_DELACK] = {1, "netstat", "TcpExt", "DelayedACKs", "receiver's delayed-ACK timeouts"},
    /* Why the receiver sends fewer ACKs than one per two segments:
     * segments merged while the reader held the socket, SACKs held back. */
    [C_COALESCE] = {1, "netstat", "TcpExt", "TCPBacklogCoalesce", "receiver's backlog merges"},
    [C_ACK_COMPRESSED] = {1, "netstat", "TcpExt", "TCPAckCompressed", "receiver's compressed SACKs"},
};

typedef struct lk_result {
    int ok;
    char why[160];
    double mbps;
    uint32_t mss, min_rtt_us, srtt_us, total_retrans;
    uint64_t ctr[LK_NCTR];
    uint64_t tun_drops[2]; /* TX drops of each TUN: packets its kernel lost
                            * because the emulator did not read them in time */
    double emu_cpu_s[2], seconds;
    emu_stats emu[2]; /* [0] data A -> B, [1] ACKs B -> A */
} lk_result;

typedef struct lk_params {
    const char *cc;
    double loss, seconds;
    uint64_t seed;
} lk_params;

/* ------------------------------------------------------------ small helpers */

static uint64_t now_ns(void) { return bench_now_ns(); }

/* Write all of buf to fd (a pipe); 0 or -1. */
static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Read exactly len bytes from fd within timeout_ms; 0 or -1. */
static int read_exact(int fd, void *buf, size_t len, int timeout_ms)
{
    char *p = buf;
    uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000u;
    while (len) {
        uint64_t now = now_ns();
        if (now >= end)
            return -1;
        struct pollfd pfd = {fd, POLLIN, 0};
        int r = poll(&pfd, 1, (int)((end - now) / 1000000u) + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* A forked helper dies with its parent and, as a backstop, after
 * `seconds`: no process of a run can outlive it. */
static void child_bounds(pid_t parent, double seconds)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
    alarm((unsigned)seconds + 1);
}

static void kill_wait(pid_t *pid, struct rusage *ru)
{
    if (*pid <= 0)
        return;
    kill(*pid, SIGKILL);
    int st;
    if (ru)
        wait4(*pid, &st, 0, ru);
    else
        waitpid(*pid, &st, 0);
    *pid = -1;
}

/* ------------------------------------------------------------ namespaces */

/* Configure interface `name` through the socket `sk` of its namespace:
 * address (a /24, so the other side is on-link), MTU, a TX queue long
 * enough for any burst here, up. */
static int if_setup(int sk, const char *name, const char *ip, char *why, size_t wl)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (ip) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
        sin->sin_family = AF_INET;
        inet_pton(AF_INET, ip, &sin->sin_addr);
        if (ioctl(sk, SIOCSIFADDR, &ifr) < 0)
            goto fail;
        inet_pton(AF_INET, "255.255.255.0", &sin->sin_addr);
        if (ioctl(sk, SIOCSIFNETMASK, &ifr) < 0)
            goto fail;
        ifr.ifr_mtu = LK_MTU;
        if (ioctl(sk, SIOCSIFMTU, &ifr) < 0)
            goto fail;
        ifr.ifr_qlen = EMU_QUEUE;
        if (ioctl(sk, SIOCSIFTXQLEN, &ifr) < 0)
            goto fail;
    }
    if (ioctl(sk, SIOCGIFFLAGS, &ifr) < 0)
        goto fail;
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(sk, SIOCSIFFLAGS, &ifr) < 0)
        goto fail;
    return 0;
fail:
    snprintf(why, wl, "configure %s: %s", name, strerror(errno));
    return -1;
}

static int tun_open(const char *name, char *why, size_t wl)
{
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, wl, "open /dev/net/tun: %s", strerror(errno));
        return -1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI; /* bare IP packets, no offloads */
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        snprintf(why, wl, "TUNSETIFF %s: %s", name, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* The sysctls of the namespace the caller is in. The buffers are
 * bench_loss's, set the way synack's config sets them (tcp_wmem and
 * tcp_rmem, per namespace since Linux 4.15) rather than with SO_SNDBUF /
 * SO_RCVBUF, which would double the figure and turn autotuning off.
 * BENCH_LOSS_LINUX_BUFS=default leaves a new namespace's own (4096 16384
 * 4194304 and 4096 131072 6291456), to see what the 4 MiB start changes.
 * IPv6 is off so the TUNs carry nothing but the test's IPv4. */
static int ns_sysctls(char *why, size_t wl)
{
    static const char *const kv[][2] = {
        {"/proc/sys/net/ipv6/conf/all/disable_ipv6", "1"},
        {"/proc/sys/net/ipv6/conf/default/disable_ipv6", "1"},
        {"/proc/sys/net/ipv4/tcp_wmem", "4096 4194304 4194304"},
        {"/proc/sys/net/ipv4/tcp_rmem", "4096 4194304 6291456"},
    };
    const char *bufs = getenv("BENCH_LOSS_LINUX_BUFS");
    size_t n = bufs && strcmp(bufs, "default") == 0 ? 2 : 4;
    for (size_t i = 0; i < n; i++) {
        if (bench_sysctl(kv[i][0], kv[i][1]) < 0 && i >= 2) {
            snprintf(why, wl, "write %s: %s", kv[i][0], strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* A new namespace holding TUN `side` (its fd in *tun): returns an fd for
 * the namespace, the caller back in `orig`. */
static int ns_new(int orig, int side, int *tun, char *why, size_t wl)
{
    if (unshare(CLONE_NEWNET) < 0) {
        snprintf(why, wl, "unshare(CLONE_NEWNET): %s", strerror(errno));
        return -1;
    }
    int ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int ok = ns >= 0 && sk >= 0 && ns_sysctls(why, wl) == 0 &&
             if_setup(sk, "lo", NULL, why, wl) == 0 &&
             (*tun = tun_open(lk_if[side], why, wl)) >= 0 &&
             if_setup(sk, lk_if[side], lk_ip[side], why, wl) == 0;
    if (ns < 0 || sk < 0)
        snprintf(why, wl, "namespace fd or socket: %s", strerror(errno));
    if (sk >= 0)
        close(sk);
    if (setns(orig, CLONE_NEWNET) < 0) {
        /* Nowhere safe to go on from: this process only runs the test. */
        snprintf(why, wl, "setns back: %s", strerror(errno));
        ok = 0;
    }
    if (!ok && ns >= 0) {
        close(ns);
        ns = -1;
    }
    return ok ? ns : -1;
}

/* A TCP socket made inside namespace `ns` (a socket stays in the
 * namespace it was made in, whatever its process does next). */
static int tcp_socket_in(int ns, int orig, const char *cc, char *why, size_t wl)
{
    if (setns(ns, CLONE_NEWNET) < 0) {
        snprintf(why, wl, "setns: %s", strerror(errno));
        return -1;
    }
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int err = errno;
    if (setns(orig, CLONE_NEWNET) < 0) {
        snprintf(why, wl, "setns back: %s", strerror(errno));
        if (s >= 0)
            close(s);
        return -1;
    }
    if (s < 0) {
        snprintf(why, wl, "socket: %s", strerror(err));
        return -1;
    }
    if (setsockopt(s, IPPROTO_TCP, TCP_CONGESTION, cc, (socklen_t)strlen(cc)) < 0) {
        snprintf(why, wl, "setsockopt(TCP_CONGESTION, %s): %s", cc, strerror(errno));
        close(s);
        return -1;
    }
    return s;
}

/* ------------------------------------------------------------ the two ends */

/* The sender: connect, then write until killed. */
static void sender_main(int s)
{
    static unsigned char buf[65536];
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(LK_PORT)};
    inet_pton(AF_INET, lk_ip[1], &to.sin_addr);
    if (connect(s, (struct sockaddr *)&to, sizeof to) < 0)
        _exit(1);
    for (;;)
        if (write(s, buf, sizeof buf) < 0 && errno != EINTR)
            _exit(1);
}

/* The receiver: accept, read, and report goodput over [accept + warm-up,
 * accept + seconds] to `out`: a double, Mbit/s, negative on failure. */
static void receiver_main(int lst, double seconds, int out)
{
    static unsigned char buf[1 << 18];
    double mbps = -1;
    struct pollfd pfd = {lst, POLLIN, 0};
    int c = poll(&pfd, 1, 10000) == 1 ? accept(lst, NULL, NULL) : -1;
    if (c >= 0) {
        uint64_t t0 = now_ns(), from = t0 + (uint64_t)LOSS_WARMUP_S * 1000000000u,
                 to = t0 + (uint64_t)(seconds * 1e9), bytes = 0;
        for (uint64_t now = t0; now < to; now = now_ns()) {
            pfd = (struct pollfd){c, POLLIN, 0};
            if (poll(&pfd, 1, (int)((to - now) / 1000000u) + 1) <= 0)
                continue;
            ssize_t n = read(c, buf, sizeof buf);
            if (n <= 0)
                break;
            if (now_ns() >= from)
                bytes += (uint64_t)n;
        }
        if (now_ns() >= to)
            mbps = (double)bytes * 8 / ((double)(to - from) / 1e9) / 1e6;
    }
    write_all(out, &mbps, sizeof mbps);
    _exit(0);
}

/* ------------------------------------------------------------ one run */

/* Counter `name` of `group` in a /proc/net file's text: a line of names,
 * then a line of values, both starting "group:". */
static int counter_in(const char *text, const char *group, const char *name, uint64_t *v)
{
    char tag[32];
    snprintf(tag, sizeof tag, "%s:", group);
    size_t tl = strlen(tag), want = strlen(name);
    for (const char *l = text, *nl; (nl = strchr(l, '\n')) != NULL; l = nl + 1) {
        if (strncmp(l, tag, tl) != 0 || strncmp(nl + 1, tag, tl) != 0)
            continue;
        /* Walk the names (up to the newline) and the values together. */
        const char *n = l + tl, *x = nl + 1 + tl;
        for (;;) {
            n += strspn(n, " ");
            size_t k = strcspn(n, " \n");
            char *end;
            unsigned long long val = strtoull(x, &end, 10);
            if (k == 0 || n >= nl || end == x)
                return -1;
            if (k == want && strncmp(n, name, k) == 0) {
                *v = val;
                return 0;
            }
            n += k;
            x = end;
        }
    }
    return -1;
}

/* A file under /proc/thread-self/net (the caller's namespace) into buf. */
static int read_net_file(const char *file, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/thread-self/net/%s", file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t got = 0;
    ssize_t n;
    while (got + 1 < len && (n = read(fd, buf + got, len - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = 0;
    close(fd);
    return 0;
}

/* TX drops of interface `name` from /proc/net/dev: the 12th number. */
static uint64_t tun_tx_drops(const char *text, const char *name)
{
    char tag[32];
    snprintf(tag, sizeof tag, "%s:", name);
    const char *p = strstr(text, tag);
    if (!p)
        return UINT64_MAX;
    p += strlen(tag);
    unsigned long long v = 0;
    for (int i = 0; i < 12; i++) {
        char *end;
        v = strtoull(p, &end, 10);
        if (end == p)
            return UINT64_MAX;
        p = end;
    }
    return v;
}

/* Counters and TUN drops of namespace `side`, read from inside it. */
static void read_ns_counters(int ns, int orig, int side, lk_result *r)
{
    static char text[65536];
    if (setns(ns, CLONE_NEWNET) < 0)
        return;
    for (size_t i = 0; i < LK_NCTR; i++)
        if (lk_ctrs[i].ns == side && read_net_file(lk_ctrs[i].file, text, sizeof text) == 0 &&
            counter_in(text, lk_ctrs[i].group, lk_ctrs[i].name, &r->ctr[i]) < 0)
            r->ctr[i] = UINT64_MAX;
    if (read_net_file("dev", text, sizeof text) == 0)
        r->tun_drops[side] = tun_tx_drops(text, lk_if[side]);
    if (setns(orig, CLONE_NEWNET) < 0)
        _exit(1); /* cannot happen with a valid fd; the process is done anyway */
}

/* Everything one run holds; -1 for what is not open or running. */
typedef struct lk_run {
    int orig, ns[2], tun[2], lst, cli;
    int emu_stop, emu_out[2], rcv_out;
    pid_t emu[2], rcv, snd;
} lk_run;

/* An emulator process: runs until `stop` is closed, then writes its
 * statistics to `report`. BENCH_LOSS_EMU_RT=0 keeps it a normal task (to
 * see what SCHED_FIFO buys), BENCH_LOSS_EMU_EARLY_US sets early_ns. */
static void emu_child(int in, int out, double loss, uint64_t seed, int stop, int report)
{
    const char *rt = getenv("BENCH_LOSS_EMU_RT"), *early = getenv("BENCH_LOSS_EMU_EARLY_US");
    double early_us = early ? atof(early) : LK_EARLY_US_DEFAULT;
    emu_params p = {.in = in, .out = out, .delay_ns = LK_DELAY_NS, .loss = loss, .seed = seed,
                    .stop = stop, .realtime = !rt || strcmp(rt, "0") != 0,
                    .count_after_ns = (uint64_t)LOSS_WARMUP_S * 1000000000u,
                    .early_ns = early_us > 0 ? (uint64_t)(early_us * 1e3) : 0};
    static emu_stats st;
    if (emu_run(&p, &st) < 0)
        _exit(1);
    write_all(report, &st, sizeof st);
    _exit(0);
}

/* The emulator of direction `side` (0: A -> B, lossy), stopped by the
 * closing of u->emu_stop's pipe. Returns 0 or -1. */
static int spawn_emulator(lk_run *u, const lk_params *pr, int stop, int side)
{
    int out[2];
    if (pipe2(out, O_CLOEXEC) < 0)
        return -1;
    pid_t me = getpid(), pid = fork();
    if (pid < 0) {
        close(out[0]);
        close(out[1]);
        return -1;
    }
    if (pid == 0) {
        child_bounds(me, pr->seconds + 30);
        close(u->emu_stop);
        close(out[0]);
        emu_child(u->tun[side], u->tun[1 - side], side == 0 ? pr->loss : 0, pr->seed, stop,
                  out[1]);
    }
    close(out[1]);
    u->emu_out[side] = out[0];
    u->emu[side] = pid;
    return 0;
}

static int spawn_emulators(lk_run *u, const lk_params *pr)
{
    int stop[2];
    if (pipe2(stop, O_CLOEXEC) < 0)
        return -1;
    u->emu_stop = stop[1];
    int rc = spawn_emulator(u, pr, stop[0], 0) == 0 && spawn_emulator(u, pr, stop[0], 1) == 0;
    close(stop[0]);
    return rc ? 0 : -1;
}

/* In the sender and the receiver: drop what belongs to the others, above
 * all the emulator's stop pipe, whose closing must reach the emulator. */
static void child_close_others(lk_run *u, int keep)
{
    int fds[] = {u->emu_stop, u->emu_out[0], u->emu_out[1], u->tun[0], u->tun[1], u->lst,
                 u->cli, u->ns[0], u->ns[1], u->orig};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        if (fds[i] >= 0 && fds[i] != keep)
            close(fds[i]);
}

static pid_t spawn_receiver(lk_run *u, const lk_params *pr)
{
    int out[2];
    if (pipe2(out, O_CLOEXEC) < 0)
        return -1;
    pid_t me = getpid(), pid = fork();
    if (pid == 0) {
        child_bounds(me, pr->seconds + 30);
        close(out[0]);
        child_close_others(u, u->lst);
        receiver_main(u->lst, pr->seconds, out[1]);
    }
    close(out[1]);
    u->rcv_out = out[0];
    return pid;
}

static pid_t spawn_sender(lk_run *u, const lk_params *pr)
{
    pid_t me = getpid(), pid = fork();
    if (pid == 0) {
        child_bounds(me, pr->seconds + 30);
        if (u->rcv_out >= 0)
            close(u->rcv_out);
        child_close_others(u, u->cli);
        sender_main(u->cli);
    }
    return pid;
}

/* Namespaces, TUNs and the two sockets (the listener bound and
 * listening). */
static int run_setup(lk_run *u, const char *cc, char *why, size_t wl)
{
    u->orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (u->orig < 0) {
        snprintf(why, wl, "open own namespace: %s", strerror(errno));
        return -1;
    }
    for (int side = 0; side < 2; side++)
        if ((u->ns[side] = ns_new(u->orig, side, &u->tun[side], why, wl)) < 0)
            return -1;
    u->lst = tcp_socket_in(u->ns[1], u->orig, cc, why, wl);
    u->cli = tcp_socket_in(u->ns[0], u->orig, cc, why, wl);
    if (u->lst < 0 || u->cli < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(LK_PORT)};
    inet_pton(AF_INET, lk_ip[1], &a.sin_addr);
    if (bind(u->lst, (struct sockaddr *)&a, sizeof a) < 0 || listen(u->lst, 4) < 0) {
        snprintf(why, wl, "bind/listen: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* What TCP_INFO says of the sender's connection. */
static void read_tcp_info(int s, lk_result *r)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
        return;
    r->mss = ti.tcpi_snd_mss;
    r->srtt_us = ti.tcpi_rtt;
    r->min_rtt_us = len > offsetof(struct tcp_info, tcpi_min_rtt) ? ti.tcpi_min_rtt : 0;
    r->total_retrans = ti.tcpi_total_retrans;
}

/* The run proper, in the coordinating child. */
static int run_measure(lk_run *u, const lk_params *pr, lk_result *r)
{
    if (run_setup(u, pr->cc, r->why, sizeof r->why) < 0)
        return -1;
    if (spawn_emulators(u, pr) < 0 || (u->rcv = spawn_receiver(u, pr)) < 0 ||
        (u->snd = spawn_sender(u, pr)) < 0) {
        snprintf(r->why, sizeof r->why, "fork/pipe: %s", strerror(errno));
        return -1;
    }
    int wait_ms = (int)(pr->seconds * 1000) + 15000;
    if (read_exact(u->rcv_out, &r->mbps, sizeof r->mbps, wait_ms) < 0 || r->mbps < 0) {
        snprintf(r->why, sizeof r->why, "the receiver got no connection or stalled");
        return -1;
    }
    read_tcp_info(u->cli, r);
    for (int side = 0; side < 2; side++)
        read_ns_counters(u->ns[side], u->orig, side, r);
    kill_wait(&u->snd, NULL);
    close(u->emu_stop);
    u->emu_stop = -1;
    for (int side = 0; side < 2; side++) {
        if (read_exact(u->emu_out[side], &r->emu[side], sizeof r->emu[side], 5000) < 0) {
            snprintf(r->why, sizeof r->why, "the emulator did not report");
            return -1;
        }
        struct rusage ru;
        kill_wait(&u->emu[side], &ru);
        r->emu_cpu_s[side] = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                             (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    }
    r->seconds = pr->seconds;
    r->ok = 1;
    return 0;
}

/* The coordinating child of one run: measures, reports to `out`, and by
 * exiting takes the namespaces with it (their last fds close). */
static void run_child(const lk_params *pr, int out)
{
    lk_run u = {.orig = -1, .ns = {-1, -1}, .tun = {-1, -1}, .lst = -1, .cli = -1,
                .emu_stop = -1, .emu_out = {-1, -1}, .rcv_out = -1, .emu = {-1, -1},
                .rcv = -1, .snd = -1};
    lk_result r;
    memset(&r, 0, sizeof r);
    run_measure(&u, pr, &r);
    kill_wait(&u.snd, NULL);
    kill_wait(&u.rcv, NULL);
    kill_wait(&u.emu[0], NULL);
    kill_wait(&u.emu[1], NULL);
    write_all(out, &r, sizeof r);
    _exit(0);
}

/* One Linux run in a child process; 0 with *r filled, or -1 with r->why. */
static int linux_run(const lk_params *pr, lk_result *r)
{
    int p[2];
    memset(r, 0, sizeof *r);
    if (pipe2(p, O_CLOEXEC) < 0) {
        snprintf(r->why, sizeof r->why, "pipe: %s", strerror(errno));
        return -1;
    }
    fflush(stdout);
    pid_t me = getpid(), pid = fork();
    if (pid < 0) {
        snprintf(r->why, sizeof r->why, "fork: %s", strerror(errno));
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        child_bounds(me, pr->seconds + 40);
        close(p[0]);
        run_child(pr, p[1]);
    }
    close(p[1]);
    int got = read_exact(p[0], r, sizeof *r, (int)(pr->seconds * 1000) + 45000);
    close(p[0]);
    kill_wait(&pid, NULL);
    if (got < 0) {
        snprintf(r->why, sizeof r->why, "the run did not finish (killed)");
        return -1;
    }
    return r->ok ? 0 : -1;
}

/* ------------------------------------------------------------ reporting */

/* Why Linux cannot be measured here, or NULL. */
static const char *linux_unavailable(void)
{
    if (getenv("BENCH_NO_PEER"))
        return "BENCH_NO_PEER is set";
    if (geteuid() != 0)
        return "not root (needs network namespaces and TUN devices)";
    if (access("/dev/net/tun", R_OK | W_OK) < 0)
        return "no /dev/net/tun";
    return NULL;
}

static double ctr_median(const lk_result *rs, int n, size_t i)
{
    double v[BENCH_MAX_RUNS];
    int k = 0;
    for (int j = 0; j < n; j++)
        if (rs[j].ctr[i] != UINT64_MAX)
            v[k++] = (double)rs[j].ctr[i];
    return k ? bench_stats(v, k).med : -1;
}

/* "data: 12 of 45000 off by > 0.2 ms, p1/p50/p99 ..." for one direction. */
static void print_emu(const char *what, const emu_stats *st, double cpu_s, double seconds)
{
    double n = st->released ? (double)st->released : 1;
    printf("%s %llu of %llu off by > 0.2 ms, release - due p1 %.2f p50 %.2f p99 %.2f "
           "mean %.3f worst %.2f ms, CPU %.0f%%%s", what, (unsigned long long)st->off,
           (unsigned long long)st->released, emu_quantile(st, 0.01), emu_quantile(st, 0.5),
           emu_quantile(st, 0.99), (double)st->err_sum_ns / n / 1e6,
           (double)st->late_max_ns / 1e6, 100 * cpu_s / seconds, st->realtime ? " (RT)" : "");
}

static void print_run(uint64_t seed, const lk_result *r)
{
    if (!r->ok) {
        printf("      seed %llu: failed: %s\n", (unsigned long long)seed, r->why);
        return;
    }
    printf("      seed %llu: %.2f Mbit/s, RTOs %llu, TLPs %llu, SACK recoveries %llu, "
           "retransmitted %u (tcpi_total_retrans), min RTT %.2f ms, sRTT at the end %.2f ms\n",
           (unsigned long long)seed, r->mbps, (unsigned long long)r->ctr[C_RTO],
           (unsigned long long)r->ctr[C_TLP], (unsigned long long)r->ctr[C_SACK_RECOVERY],
           r->total_retrans, r->min_rtt_us / 1e3, r->srtt_us / 1e3);
    print_emu("        emulator data:", &r->emu[0], r->emu_cpu_s[0], r->seconds);
    print_emu(";\n        emulator ACKs:", &r->emu[1], r->emu_cpu_s[1], r->seconds);
    printf("\n");
    uint64_t own = r->emu[0].overflow + r->emu[1].overflow + r->emu[0].write_err +
                   r->emu[1].write_err;
    if (own || r->tun_drops[0] || r->tun_drops[1])
        printf("        WARNING the emulator lost packets itself: queue full or TUN write "
               "errors %llu, TUN TX drops %llu/%llu\n", (unsigned long long)own,
               (unsigned long long)r->tun_drops[0], (unsigned long long)r->tun_drops[1]);
}

/* The emulator over all the row's runs: the share of packets released
 * within 0.2 ms of their due time, each direction, and the worst. */
static void print_emu_summary(const lk_result *rs, int n)
{
    uint64_t off[2] = {0, 0}, all[2] = {0, 0};
    int64_t worst = 0;
    for (int j = 0; j < n; j++)
        for (int d = 0; d < 2; d++) {
            off[d] += rs[j].emu[d].off;
            all[d] += rs[j].emu[d].released;
            if (rs[j].emu[d].late_max_ns > worst)
                worst = rs[j].emu[d].late_max_ns;
        }
    printf("      emulator: %.1f%% of data and %.1f%% of ACKs within 0.2 ms of the 5 ms, "
           "worst %.2f ms late\n", all[0] ? 100.0 * (double)(all[0] - off[0]) / (double)all[0] : 0,
           all[1] ? 100.0 * (double)(all[1] - off[1]) / (double)all[1] : 0, (double)worst / 1e6);
}

/* The medians of the counters over the runs that finished. */
static void print_counters(const lk_result *rs, int n)
{
    printf("      linux counters, median per run:");
    for (size_t i = 0; i < LK_NCTR; i++) {
        double m = ctr_median(rs, n, i);
        if (m >= 0)
            printf("%s %s %.0f", i ? "," : "", lk_ctrs[i].label, m);
    }
    printf("\n");
}

/* Linux's runs for (cc, loss): their goodput statistics into *s, the
 * MSS used into *mss; finished runs are copied to rs. Returns how many. */
static int linux_series(const char *cc, double loss, int runs, double seconds, lk_result *rs,
                        bench_stat *s, uint32_t *mss, char *why, size_t wl)
{
    double v[BENCH_MAX_RUNS];
    int n = 0;
    for (int k = 0; k < runs && k < BENCH_MAX_RUNS; k++) {
        lk_params pr = {cc, loss, seconds, LOSS_SEED0 + (uint64_t)k};
        lk_result r;
        linux_run(&pr, &r);
        print_run(pr.seed, &r);
        if (!r.ok) {
            snprintf(why, wl, "%s", r.why);
            continue;
        }
        *mss = r.mss;
        rs[n] = r;
        v[n++] = r.mbps;
    }
    *s = bench_stats(v, n);
    return n;
}

static void one_row(const char *cc, double loss, int runs, double seconds, const char *no_linux)
{
    static lk_result rs[BENCH_MAX_RUNS];
    bench_stat syn, lin = {0};
    uint32_t smss, lmss = 1448;
    char name[64], b1[96], b2[96], why[160] = "";
    int cc_ok = loss_sim_series(cc, loss, loss_sim_reorder_env(), runs, seconds, &syn, &smss);
    printf("  %-6s p=%-4g%%\n", cc, loss * 100);
    int n = no_linux ? 0 : linux_series(cc, loss, runs, seconds, rs, &lin, &lmss, why, sizeof why);
    double sb = loss_mathis_mbps(smss, loss), lb = loss_mathis_mbps(lmss, loss);
    if (syn.n)
        printf("      synack %s Mbit/s  %.2f of the bound (%.2f, MSS %u)%s\n",
               bench_fmt(b1, sizeof b1, syn, "%.2f"), syn.med / sb, sb, smss,
               cc_ok ? "" : "  [tcp_congestion_control refused: the default]");
    if (n) {
        printf("      linux  %s Mbit/s  %.2f of the bound (%.2f, MSS %u)\n",
               bench_fmt(b2, sizeof b2, lin, "%.2f"), lin.med / lb, lb, lmss);
        print_counters(rs, n);
        print_emu_summary(rs, n);
    } else {
        printf("      linux  not measured: %s\n", no_linux ? no_linux : why);
    }
    snprintf(name, sizeof name, "loss_linux_%s_p%g", cc, loss * 100);
    bench_line(name, syn.n ? syn.med : 0, "linux", lin.med, n > 0 && syn.n, "Mbit/s");
}

int main(void)
{
    const double losses[] = {0.001, 0.01, 0.05};
    const char *ccs[] = {"reno", "cubic"};
    double seconds = bench_env("BENCH_LOSS_SECONDS", 30);
    int runs = bench_runs(5);
    const char *no_linux = linux_unavailable();
    if (seconds < LOSS_WARMUP_S + 1)
        seconds = LOSS_WARMUP_S + 1;
    printf("throughput under loss, Linux (real time, userspace link emulator over TUN) beside "
           "synack (simulator): RTT 10 ms, MTU 1500, %.0f s per run (2 s warm-up), %d seeds, "
           "loss on the data direction only\n", seconds, runs);
    if (no_linux)
        printf("  linux side skipped: %s\n", no_linux);
    /* BENCH_LOSS_ONLY=reno_p5 (say) measures the rows so named only. */
    const char *only = getenv("BENCH_LOSS_ONLY");
    for (size_t c = 0; c < 2; c++)
        for (size_t i = 0; i < 3; i++) {
            char row[32];
            snprintf(row, sizeof row, "%s_p%g", ccs[c], losses[i] * 100);
            if (!only || strstr(only, row))
                one_row(ccs[c], losses[i], runs, seconds, no_linux);
        }
    return 0;
}
