/* netns.c — `synack netns`: give a network namespace its network through
 * synack (see netns.h). The event loop, and the start and end of a run;
 * the command line is netns_opts.c, the namespace plumbing netns_ns.c, the
 * port forwards netns_fwd.c, the connections relay.c. */
#define _GNU_SOURCE
#include "netns.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "busy_poll.h"
#include "dev/fan.h"
#include "dev/steer_bpf.h"
#include "fmt.h"
#include "netns_api.h"
#include "netns_fwd.h"
#include "netns_fwd_udp.h"
#include "netns_map.h"
#include "netns_ns.h"
#include "netns_opts.h"
#include "netns_out.h"
#include "netns_udp.h"
#include "netrun.h"
#include "preload/stream.h"
#include "relay.h"
#include "run_watch.h"
#include "watch.h"

#define CMD "netns"
#define MAX_SLEEP_NS (1000ull * 1000 * 1000)
/* Busy polling (busy_poll.h), µs: after events the loop polls without
 * sleeping for a window that starts at NETNS_BUSY_POLL_START_US and adapts
 * up to --busy-poll's value (default NETNS_BUSY_POLL_US, netns_opts.h; a smaller value
 * is the window, fixed). The namespace's next frame or the host's answer
 * usually comes within it, and a sleeping process's wake-up is what a
 * short connection or a round trip mostly waits for (measured in
 * bench/README.md). It costs CPU only right after traffic, and grows only
 * while the gaps between bursts are no longer than its most. */
#define NETNS_BUSY_POLL_START_US 50
/* A log line (stderr) waits in the buffer at most this long; to a
 * terminal, it goes at once. */
#define LOG_FLUSH_NS (100ull * 1000 * 1000)
/* An epoll wait longer than this slept: nothing was waiting when it began. */
#define NETNS_SLEPT_NS (5ull * 1000)
/* After COMMAND exits, the run goes on at most this long while relays are
 * open: the FINs its sockets sent as it exited are still on the TAP, and
 * its connections should end as they did, not be stopped before synack
 * reads them. */
#define END_GRACE_NS (100ull * 1000 * 1000)


typedef struct netns_rt netns_rt;

/* --threads N: N runs, one per thread, each with its own stack (member i of
 * a steered group) on its own queue of the TAP, its own relays and host
 * sockets. Member 0 also has the signals, the child and the TCP port
 * forwards; it ends the others' runs when its own ends. */
typedef struct netns_group {
    dev_fan *fan;
    unsigned n;
    atomic_int stop;
    netns_rt *rts;
} netns_group;

/* A run: the stack on the TAP, the relays, the listeners, the child. */
struct netns_rt {
    const netns_opts *o;
    netns_net n;
    netrun net;
    int ep, sfd;
    watch tap_w, sig_w, exit_w;
    relay_ctx *rc;
    out_ctx out;             /* connections out of the namespace           */
    netns_udp udp;           /* UDP out of the namespace                    */
    run_watch *ladders;      /* --ladder: every connection's events         */
    fwd *fwds[NETNS_MAX_FWD];
    netns_api *api;          /* --api-socket: forwards added at run time   */
    ufwd *ufwds[NETNS_MAX_FWD];
    ufwd_counters ufwd_n;    /* every UDP forward's, the API's too         */
    size_t nfwd;
    pid_t child;             /* COMMAND (spawn mode), or 0                 */
    int slept;               /* the last epoll wait slept (see on_tap)     */
    uint64_t last_work;      /* when the last events came (--busy-poll)    */
    busy_poll poll;          /* how long to poll after them                 */
    int gap_slept;           /* the loop slept since the last events        */
    unsigned empty_polls;    /* epoll waits in a row that found nothing     */
    int status;              /* the exit status so far                     */
    int done;
    uint64_t log_since;      /* when the loop first saw unwritten log, or 0 */
    uint64_t idle_swept;     /* when the UDP forwards' clients were swept   */
    uint64_t ending;         /* COMMAND exited: the run ends by then, or as
                                soon as no relay is open (END_GRACE_NS)     */
    netns_group *g;          /* --threads: the group, and our place in it  */
    unsigned index;
    watch fan_w;             /* frames other members handed us             */
    pthread_t th;
};

static void group_stop(netns_group *g);

#define RT_OF(w, member) ((netns_rt *)((char *)(w) - offsetof(netns_rt, member)))

/* ------------------------------------------------------------ the loop */

/* A member's counters on f: the stack's (nstat's format), the frames it
 * handed to other members and took from them, the relays'. */
static void print_counters_to(netns_rt *rt, FILE *f, const char *when)
{
    netrun_print_counters(&rt->net, f, when);
    if (rt->g) {
        uint64_t sent, taken;
        dev_loop_fan_counts(rt->net.loop, &sent, &taken);
        fprintf(f, "%-31s %llu\n%-31s %llu\n", "ThreadFramesHandedOn",
                (unsigned long long)sent, "ThreadFramesTaken", (unsigned long long)taken);
    }
    relay_print_counters(rt->rc, f);
    out_print_counters(&rt->out, f);
    netns_udp_print_counters(&rt->udp, f);
    ufwd_print_counters(&rt->ufwd_n, f);
}

/* On SIGUSR1: member 0's own, while the others run (in a group the
 * label says so); at exit the whole group's, summed. */
static void print_counters(netns_rt *rt, const char *when)
{
    char label[96];
    if (rt->g) {
        snprintf(label, sizeof label, "%s, thread %u of %u", when, rt->index + 1, rt->g->n);
        when = label;
    }
    print_counters_to(rt, stderr, when);
}

#define MAX_COUNTERS 256

/* Every member's counters, summed name by name ("Name value" lines), in
 * the order they first appear. Called when every member has stopped. */
static void print_group_counters(netns_rt *rts, unsigned n, const char *when)
{
    static struct { char name[48]; unsigned long long v; } sum[MAX_COUNTERS];
    size_t nsum = 0;
    for (unsigned i = 0; i < n; i++) {
        char *text = NULL, line[160], name[48];
        size_t len = 0;
        FILE *m = open_memstream(&text, &len);
        if (!m)
            continue;
        print_counters_to(&rts[i], m, when);
        fclose(m);
        FILE *r = fmemopen(text, len, "r");
        unsigned long long v;
        while (r && fgets(line, sizeof line, r)) {
            if (line[0] == '#' || sscanf(line, "%47s %llu", name, &v) != 2)
                continue;
            size_t k = 0;
            while (k < nsum && strcmp(sum[k].name, name))
                k++;
            if (k == nsum && nsum < MAX_COUNTERS)
                snprintf(sum[nsum++].name, sizeof sum[0].name, "%s", name), sum[k].v = 0;
            if (k < nsum)
                sum[k].v += v;
        }
        if (r)
            fclose(r);
        free(text);
    }
    fprintf(stderr, "#synack " CMD ": %s (%u threads, summed)\n", when, n);
    for (size_t k = 0; k < nsum; k++)
        fprintf(stderr, "%-31s %llu\n", sum[k].name, sum[k].v);
    fflush(stderr);
}

/* --ladder: each trace event goes to the same renderer as `synack run`'s,
 * as the record its preload library would have written. */
static void ladder_hook(void *ctx, const synack_trace_event *ev)
{
    netns_rt *rt = ctx;
    if (!rt->ladders)
        return; /* drawn already: the end of the run */
    struct {
        sp_rec h;
        sp_event e;
    } rec;
    memset(&rec, 0, sizeof rec);
    rec.h = (sp_rec){.type = SP_REC_EVENT, .len = sizeof rec.e, .pid = 1};
    rec.e.ev = *ev;
    rec.e.ev.cause = NULL;
    if (ev->cause)
        snprintf(rec.e.cause, sizeof rec.e.cause, "%s", ev->cause);
    run_watch_feed(rt->ladders, (const uint8_t *)&rec, sizeof rec);
}

/* The namespace's frames into the stack. */
static void on_tap(watch *w, uint32_t events)
{
    (void)events;
    netns_rt *rt = RT_OF(w, tap_w);
    /* Woken from a sleep, one frame is the rule (a request, a SYN): read
     * it alone; epoll says at once if another waits, and then a batch is
     * read. Without a sleep frames are streaming in: read them all. (Reading
     * one at a time while frames come singly saved a read per connection,
     * 2%, but cost host-to-namespace bulk 9%: its ACKs queue up unseen.) */
    if (dev_loop_input_max(rt->net.loop, rt->slept ? 1 : DEV_BATCH) < 0) {
        fprintf(stderr, "synack " CMD ": %s: device error: %s\n", rt->n.ifname, strerror(errno));
        rt->status = 1;
        rt->done = 1;
        if (rt->g) /* a queue nobody reads: the whole run ends */
            group_stop(rt->g);
    }
}

/* COMMAND's end is ours; its status becomes ours, as a shell reports it. */
static void reap_child(netns_rt *rt)
{
    int st;
    if (!rt->child || waitpid(rt->child, &st, WNOHANG) != rt->child)
        return;
    rt->child = 0;
    rt->status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
    rt->ending = dev_now() + END_GRACE_NS;
}

static void on_signal(watch *w, uint32_t events)
{
    (void)events;
    netns_rt *rt = RT_OF(w, sig_w);
    struct signalfd_siginfo si;
    while (read(rt->sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        int sig = (int)si.ssi_signo;
        if (sig == SIGCHLD) {
            reap_child(rt);
        } else if (sig == SIGUSR1) {
            print_counters(rt, "counters (SIGUSR1)");
        } else if (rt->child) {
            kill(rt->child, sig); /* COMMAND decides; its exit ends the run */
        } else {
            if (!rt->o->quiet)
                fprintf(stderr, "synack " CMD ": stopping (%s)\n",
                        sig == SIGINT ? "SIGINT" : "SIGTERM");
            rt->done = 1;
        }
    }
}

/* --exit-fd readable or closed: whoever started us is done with the
 * namespace's network (slirp4netns's -e). */
static void on_exit_fd(watch *w, uint32_t events)
{
    (void)events;
    netns_rt *rt = RT_OF(w, exit_w);
    if (!rt->o->quiet)
        fprintf(stderr, "synack " CMD ": stopping (--exit-fd)\n");
    rt->done = 1;
}

/* The stack's socket events, to the socket's owner (watch.h): a relay, a
 * connection out of the namespace still opening, or its listener. */
static void on_sock_event(void *ctx, synack_sock *k, unsigned events)
{
    (void)ctx;
    sock_owner *o = synack_sock_get_user(k);
    if (o)
        o->on_event(o, k, events);
}

/* Direct delivery, to the socket's owner: a relay passes the bytes on to
 * its host socket without buffering them. */
static size_t on_sock_data(void *ctx, synack_sock *k, const void *data, size_t len)
{
    (void)ctx;
    sock_owner *o = synack_sock_get_user(k);
    return o && o->on_data ? o->on_data(o, k, data, len) : 0;
}

/* The same for UDP sockets. */
static void on_udp_event(void *ctx, synack_udp *u, unsigned events)
{
    (void)ctx;
    udp_owner *o = synack_udp_get_user(u);
    if (o)
        o->on_event(o, u, events);
}

/* End every member's run (each sees it at its next wake-up). */
static void group_stop(netns_group *g)
{
    atomic_store(&g->stop, 1);
    for (unsigned i = 0; i < g->n; i++)
        dev_fan_wake(g->fan, i);
}

/* Frames another member read from its queue for us. */
static void on_fan(watch *w, uint32_t events)
{
    (void)events;
    netns_rt *rt = RT_OF(w, fan_w);
    dev_loop_take_fan(rt->net.loop);
}

static bool run_over(const netns_rt *rt)
{
    return rt->done || (rt->g && atomic_load(&rt->g->stop)) ||
           (rt->ending && (!relay_get_counters(rt->rc)->active || dev_now() >= rt->ending));
}

/* The log lines go out in blocks, at most LOG_FLUSH_NS after the loop first
 * sees them: not one write per connection (a write per line was 1 of 26
 * system calls per relayed connection), and not a sleep's length late.
 * Returns how long the loop may sleep before the buffer is due. */
static uint64_t log_due_in(netns_rt *rt, uint64_t now)
{
    flockfile(stderr); /* --threads: the members share stderr */
    size_t pending = __fpending(stderr);
    funlockfile(stderr);
    if (!pending) {
        rt->log_since = 0;
        return UINT64_MAX;
    }
    if (!rt->log_since)
        rt->log_since = now;
    if (now - rt->log_since < LOG_FLUSH_NS)
        return rt->log_since + LOG_FLUSH_NS - now;
    fflush(stderr);
    rt->log_since = 0;
    return UINT64_MAX;
}

static void sweep_udp_forwards(netns_rt *rt, uint64_t now)
{
    if (now - rt->idle_swept < UFWD_SWEEP_NS)
        return;
    rt->idle_swept = now;
    for (size_t i = 0; i < rt->nfwd; i++)
        if (rt->ufwds[i])
            ufwd_sweep(rt->ufwds[i], now);
}

static int run_loop(netns_rt *rt)
{
    struct epoll_event evs[64];
    synack_stack *s = rt->net.s;
    dev *d = rt->net.d;
    while (!run_over(rt)) {
        synack_poll(s, dev_now());
        dev_flush(d);
        relay_reap(rt->rc);
        netns_udp_sweep(&rt->udp, dev_now());
        sweep_udp_forwards(rt, dev_now());
        api_sweep(rt->api, dev_now());
        uint64_t deadline = synack_next_deadline(s), now = dev_now();
        uint64_t wait = deadline <= now ? 0 : deadline - now;
        if (now - rt->last_work < rt->poll.ns)
            wait = 0; /* busy polling: an answer is likely within microseconds */
        if (wait > MAX_SLEEP_NS)
            wait = MAX_SLEEP_NS;
        uint64_t log_wait = log_due_in(rt, now);
        if (wait > log_wait)
            wait = log_wait;
        if (rt->ending) {
            uint64_t left = rt->ending > now ? rt->ending - now : 0;
            wait = wait > left ? left : wait;
        }
        struct timespec ts = {.tv_sec = (time_t)(wait / 1000000000ull),
                              .tv_nsec = (long)(wait % 1000000000ull)};
        uint64_t before = dev_now();
        int n = epoll_pwait2(rt->ep, evs, 64, &ts, NULL);
        uint64_t after = dev_now();
        /* A fresh arrival: the wait slept, or polls before it found nothing. */
        bool slept_now = after - before > NETNS_SLEPT_NS;
        rt->slept = slept_now || rt->empty_polls > 0;
        rt->empty_polls = n > 0 ? 0 : rt->empty_polls + 1;
        rt->gap_slept |= slept_now;
        if (n > 0) {
            /* A gap the window did not cover: was it worth covering? */
            if (rt->gap_slept && rt->last_work)
                busy_poll_learn(&rt->poll, after - rt->last_work);
            rt->gap_slept = 0;
            rt->last_work = after;
        }
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "synack " CMD ": epoll: %s\n", strerror(errno));
            return 1;
        }
        /* Socket calls run at the stack's latest time: bring it to now, or
         * a connect after a long sleep would date its SYN back to before
         * the sleep (and take the sleep for round-trip time). */
        synack_poll(s, dev_now());
        for (int i = 0; i < n; i++) {
            watch *w = evs[i].data.ptr;
            w->fn(w, evs[i].events);
        }
        dev_flush(d);
    }
    return rt->status;
}

/* ------------------------------------------------------ start and end */

/* The first nameserver of the host's /etc/resolv.conf (host order), or 0. */
static uint32_t host_resolver(void)
{
    FILE *f = fopen("/etc/resolv.conf", "re");
    char line[256], addr[64];
    uint32_t ip = 0;
    while (f && !ip && fgets(line, sizeof line, f))
        if (sscanf(line, " nameserver %63s", addr) == 1 && synack_ip_parse(addr, &ip) < 0)
            ip = 0;
    if (f)
        fclose(f);
    return ip;
}

/* Connections out of the namespace (netns_out.c): the stack answers for
 * every IPv4 address, and the resolver address (network + 3) is one of its
 * own, so the namespace's ARP for it is answered. */
static int outbound_setup(netns_rt *rt)
{
    const netns_opts *o = rt->o;
    out_ctx *out = &rt->out;
    netns_map *m = &out->map;
    *m = o->map;
    m->gw = rt->n.gw;
    memcpy(m->gw6, rt->n.gw6, 16);
    m->host_loopback = !o->no_host_loopback;
    m->dns = rt->n.gw + 1;
    m->dns_up = o->no_dns ? 0 : o->dns_ip ? o->dns_ip : host_resolver();
    m->dns_up_port = o->dns_ip ? o->dns_port : 53;
    out->ipv6 = o->ipv6;
    synack_addr dns = synack_addr_v4(m->dns);
    netns_udp *u = &rt->udp;
    u->map = *m;
    u->ipv6 = o->ipv6;
    if (synack_add_address(rt->net.s, &dns) < 0 ||
        out_open(out, rt->net.s, rt->ep, rt->rc, o->quiet ? NULL : stderr) < 0 ||
        netns_udp_open(u, rt->net.s, rt->ep) < 0) {
        fprintf(stderr, "synack " CMD ": cannot listen for the namespace's connections\n");
        return -1;
    }
    return 0;
}

/* A relay holds a host socket per connection: take every descriptor the
 * hard limit allows (Linux's soft default, 1024, would cap it near 1000). */
static void raise_fd_limit(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

/* Member rt->index's place in the group: the steering, the fan. */
static void join_group(const netns_rt *rt, netrun_opts *nr)
{
    if (!rt->g)
        return;
    nr->steer.count = rt->g->n;
    nr->steer.index = rt->index;
    memcpy(nr->steer.key, rt->o->steer_key, sizeof nr->steer.key);
    nr->fan = rt->g->fan;
}

/* The forwards: TCP ones in member 0 (the stack's own connections into the
 * namespace pick ports that are its own), UDP ones in the member that owns
 * their flow (UDP is steered by addresses alone). */
static int open_forwards(netns_rt *rt, char *err, size_t errlen)
{
    const netns_opts *o = rt->o;
    fwd_ns ns = {.ip = rt->n.host, .prefix = rt->n.prefix, .gw = rt->n.gw, .ipv6 = o->ipv6};
    memcpy(ns.ip6, rt->n.host6, 16);
    memcpy(ns.gw6, rt->n.gw6, 16);
    const synack_steer *st = &synack_stack_config(rt->net.s)->steer;
    for (size_t i = 0; i < o->nfwd; i++, rt->nfwd++) {
        synack_addr to = fwd_target(&o->fwd[i], &ns);
        synack_addr from = to.family == SYNACK_AF_INET6 ? synack_addr_v6(rt->n.gw6)
                                                        : synack_addr_v4(rt->n.gw);
        unsigned owner = o->fwd[i].udp ? (unsigned)synack_steer_flow(st, 17, &from, 0, &to, 0) : 0;
        if (owner != rt->index)
            continue;
        if (o->fwd[i].udp)
            rt->ufwds[i] = ufwd_open(&o->fwd[i], rt->ep, rt->net.s, &ns, &rt->ufwd_n, err, errlen);
        else
            rt->fwds[i] = fwd_open(&o->fwd[i], rt->ep, rt->net.s, &ns, rt->rc, err, errlen);
        if (!rt->fwds[i] && !rt->ufwds[i])
            return -1;
    }
    return 0;
}

/* The stack on the TAP queue `fd`, the epoll set, the relays and the
 * listeners. */
static int start(netns_rt *rt, int fd, const uint8_t ns_mac[6])
{
    const netns_opts *o = rt->o;
    char err[256];
    netrun_opts nr = o->nr;
    if (o->ladder) {
        run_watch_opts wo = {.ladder = 1, .out = stderr};
        if (!(rt->ladders = run_watch_new(&wo))) {
            close(fd);
            fprintf(stderr, "synack " CMD ": out of memory\n");
            return -1;
        }
        nr.trace_hook = ladder_hook;
        nr.trace_hook_ctx = rt;
    }
    /* Offloads: the stack neither computes nor verifies TCP checksums
     * (checksum_offload), the device vouching for what the namespace's
     * kernel did not (DEV_TRUST_CSUM), and sends segments up to 64 KiB that
     * the kernel cuts to the MTU when it is smaller. */
    unsigned dflags = rt->n.offload ? DEV_OFFLOAD | DEV_TRUST_CSUM : 0u;
    dev *d = dev_adopt_flags(DEV_TAP, fd, o->ifname, (unsigned)o->mtu, dflags, err,
                             sizeof err);
    if (!d) {
        close(fd);
        fprintf(stderr, "synack " CMD ": %s\n", err);
        return -1;
    }
    nr.kind = DEV_TAP;
    nr.offload = rt->n.offload;
    nr.trust_csum = rt->n.offload;
    nr.ip = rt->n.gw;
    nr.prefix = rt->n.prefix;
    if (o->ipv6) { /* the stack is fd00::2, used at once: nobody else is on this link */
        memcpy(nr.ip6, rt->n.gw6, 16);
        nr.prefix6 = 64;
        nr.ip6_set = 1;
        if (nr.nknobs < NETRUN_MAX_KNOBS)
            nr.knobs[nr.nknobs++] = "net.ipv6.conf.all.dad_transmits=0";
    }
    nr.udp_event = on_udp_event;
    nr.udp_event_ctx = rt;
    nr.data = on_sock_data;
    nr.data_ctx = rt;
    join_group(rt, &nr);
    if (netrun_open_dev(&rt->net, d, &nr, CMD, on_sock_event, rt) < 0)
        return -1;
    if (!memcmp(synack_stack_config(rt->net.s)->mac, ns_mac, 6)) {
        fprintf(stderr, "synack " CMD ": the namespace's TAP has synack's MAC; try again\n");
        return -1;
    }
    raise_fd_limit();
    rt->tap_w.fn = on_tap;
    rt->sig_w.fn = on_signal;
    rt->fan_w.fn = on_fan;
    rt->exit_w.fn = on_exit_fd;
    struct epoll_event te = {.events = EPOLLIN, .data.ptr = &rt->tap_w};
    struct epoll_event se = {.events = EPOLLIN, .data.ptr = &rt->sig_w};
    struct epoll_event fe = {.events = EPOLLIN, .data.ptr = &rt->fan_w};
    rt->ep = epoll_create1(EPOLL_CLOEXEC);
    if (rt->ep < 0 || epoll_ctl(rt->ep, EPOLL_CTL_ADD, dev_fd(d), &te) < 0 ||
        (rt->sfd >= 0 && epoll_ctl(rt->ep, EPOLL_CTL_ADD, rt->sfd, &se) < 0) ||
        (rt->g && epoll_ctl(rt->ep, EPOLL_CTL_ADD, dev_fan_fd(rt->g->fan, rt->index), &fe) < 0) ||
        !(rt->rc = relay_ctx_new(rt->ep, o->quiet ? NULL : stderr))) {
        fprintf(stderr, "synack " CMD ": epoll: %s\n", strerror(errno));
        return -1;
    }
    relay_set_loopback_cc(rt->rc, o->loopback_cc);
    struct epoll_event xe = {.events = EPOLLIN, .data.ptr = &rt->exit_w};
    if (rt->index == 0 && o->exit_fd >= 0 && epoll_ctl(rt->ep, EPOLL_CTL_ADD, o->exit_fd, &xe) < 0) {
        fprintf(stderr, "synack " CMD ": --exit-fd %d: %s\n", o->exit_fd, strerror(errno));
        return -1;
    }
    if (open_forwards(rt, err, sizeof err) < 0) {
        fprintf(stderr, "synack " CMD ": %s\n", err);
        return -1;
    }
    api_env env = {.epfd = rt->ep, .s = rt->net.s, .rc = rt->rc, .net = o->net,
                   .prefix = o->prefix, .guest = rt->n.host, .gw = rt->n.gw,
                   .udp_fwd = &rt->ufwd_n};
    if (o->api_path && !(rt->api = api_open(o->api_path, &env, err, sizeof err))) {
        fprintf(stderr, "synack " CMD ": %s\n", err);
        return -1;
    }
    return outbound_setup(rt);
}

static void say_started(const netns_rt *rt, const netns_tap *t)
{
    char h[16], g[16];
    fprintf(stderr, "synack " CMD ": %s/%u on %s (mtu %u), gateway %s (synack)",
            fmt_ip(rt->n.host, h), rt->n.prefix, rt->n.ifname, rt->n.mtu, fmt_ip(rt->n.gw, g));
    for (size_t i = 0; i < rt->o->nfwd; i++)
        fprintf(stderr, "%s%s", i ? ", " : "; forwarding ", rt->o->fwd[i].text);
    if (rt->g)
        fprintf(stderr, "; %u threads", rt->g->n);
    if (t->tcp_cc_set)
        fprintf(stderr, "; TCP inside on %s (--ns-cc)", rt->n.tcp_cc);
    fputc('\n', stderr);
}

/* --ready-fd: the namespace has its network now (slirp4netns's -r). */
static void say_ready(int fd)
{
    if (fd < 0)
        return;
    ssize_t r;
    while ((r = write(fd, "1", 1)) < 0 && errno == EINTR)
        ;
    if (r != 1)
        fprintf(stderr, "synack " CMD ": --ready-fd %d: %s\n", fd, strerror(errno));
    close(fd);
}

/* Everything start made, in reverse; a COMMAND still running is killed. */
static int stop(netns_rt *rt, int status)
{
    if (rt->child) {
        kill(rt->child, SIGKILL);
        waitpid(rt->child, NULL, 0);
    }
    relay_stop_all(rt->rc); /* their lines, then the counters that count them */
    if (rt->rc && !rt->o->quiet && !rt->g)
        print_counters(rt, "counters at exit");
    api_close(rt->api);
    relay_ctx_free(rt->rc);
    netns_udp_close(&rt->udp);
    if (rt->ladders)
        run_watch_finish(rt->ladders, 1);
    run_watch_free(rt->ladders);
    rt->ladders = NULL;
    for (size_t i = 0; i < rt->nfwd; i++) {
        fwd_close(rt->fwds[i]);
        ufwd_close(rt->ufwds[i]);
    }
    if (rt->net.s && netrun_close(&rt->net) < 0 && !status)
        status = 1;
    if (rt->ep >= 0)
        close(rt->ep);
    if (rt->sfd >= 0)
        close(rt->sfd);
    return status;
}

/* Block the signals the loop reads from a signalfd. *old: the mask before,
 * for COMMAND. */
static int catch_signals(netns_rt *rt, sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, old);
    rt->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (rt->sfd < 0)
        fprintf(stderr, "synack " CMD ": signalfd: %s\n", strerror(errno));
    return rt->sfd < 0 ? -1 : 0;
}

static void *member_thread(void *arg)
{
    netns_rt *rt = arg;
    rt->status = run_loop(rt);
    return NULL;
}

/* Start every member on its TAP queue. 0, or -1 (the queues not yet
 * adopted closed). */
static int start_all(netns_rt *rts, unsigned n, netns_tap *t)
{
    for (unsigned i = 0; i < n; i++) {
        int fd = t->fd[i];
        t->fd[i] = -1; /* start owns it now, and closes it on failure */
        if (start(&rts[i], fd, t->mac) < 0) {
            for (unsigned j = i + 1; j < n; j++)
                close(t->fd[j]);
            return -1;
        }
    }
    char err[160];
    if (n > 1 && dev_steer_bpf_attach(dev_fd(rts[0].net.d),
                                      &synack_stack_config(rts[0].net.s)->steer,
                                      SYNACK_LINK_ETHERNET, err, sizeof err) < 0 &&
        !rts[0].o->quiet)
        fprintf(stderr, "synack " CMD ": steering by hand-over only: %s\n", err);
    return 0;
}

/* Members 1..n-1 on threads of their own, member 0 here; when its run ends
 * (COMMAND exits, a signal), so do the others'. The exit status. */
static int run_all(netns_group *g, netns_rt *rts, unsigned n)
{
    unsigned started = 1;
    for (; started < n; started++)
        if (pthread_create(&rts[started].th, NULL, member_thread, &rts[started]) != 0)
            break;
    int status = started == n ? run_loop(&rts[0]) : 1;
    if (started != n)
        fprintf(stderr, "synack " CMD ": cannot start thread %u\n", started + 1);
    if (g->fan)
        group_stop(g);
    for (unsigned i = 1; i < started; i++) {
        pthread_join(rts[i].th, NULL);
        if (rts[i].status && !status)
            status = rts[i].status;
    }
    return status;
}

/* stop() for every member, member 0 (the child, the signals) last. */
static int stop_all(netns_group *g, netns_rt *rts, unsigned n, int status)
{
    bool all_started = true;
    for (unsigned i = 0; i < n; i++)
        all_started = all_started && rts[i].rc;
    if (g->fan && all_started && !rts[0].o->quiet) {
        for (unsigned i = 0; i < n; i++)
            relay_stop_all(rts[i].rc); /* their lines before the sums */
        print_group_counters(rts, n, "counters at exit");
    }
    for (unsigned i = n; i-- > 1;)
        stop(&rts[i], 0);
    status = stop(&rts[0], status);
    dev_fan_free(g->fan);
    free(rts);
    return status;
}

int netns_main(int argc, char **argv)
{
    netns_opts o;
    int status;
    if (netns_parse_args(&o, argc, argv, &status) < 0)
        return status;
    unsigned n = (unsigned)o.threads;
    netns_rt *rts = calloc(n, sizeof *rts);
    netns_group g = {.n = n, .rts = rts};
    if (!rts || (n > 1 && !(g.fan = dev_fan_new(n)))) {
        fprintf(stderr, "synack " CMD ": out of memory\n");
        free(rts);
        return 1;
    }
    if (n > 1)
        netrun_steer_key(o.steer_key);
    netns_net net = {.host = o.net + 100, .prefix = o.prefix, .gw = o.net + 2,
                     .mtu = (unsigned)o.mtu, .ifname = o.ifname, .ipv6 = o.ipv6,
                     .offload = !o.no_offload, .queues = n, .configure = !o.no_configure,
                     .mac_set = o.mac_set, .tcp_cc = o.ns_cc, .tcp_cc_strict = o.ns_cc_given};
    memcpy(net.mac, o.mac, 6);
    net.host6[0] = net.gw6[0] = 0xfd; /* fd00::100 and fd00::2, as slirp4netns */
    net.host6[14] = 0x01;
    net.gw6[15] = 0x02;
    for (unsigned i = 0; i < n; i++) {
        rts[i] = (netns_rt){.o = &o, .n = net, .ep = -1, .sfd = -1, .index = i,
                            .g = n > 1 ? &g : NULL};
        busy_poll_init(&rts[i].poll, NETNS_BUSY_POLL_START_US * 1000ull, o.busy_poll_ns);
    }
    sigset_t old;
    if (catch_signals(&rts[0], &old) < 0)
        return stop_all(&g, rts, n, 1);
    netns_tap t;
    char err[256];
    char path[NETNS_PATH_MAX];
    if (o.nsname)
        snprintf(path, sizeof path, strchr(o.nsname, '/') ? "%s" : "/run/netns/%s", o.nsname);
    int rc = o.argv ? netns_spawn(&net, o.argv, &old, &t, err, sizeof err)
                    : netns_attach(&net, (pid_t)o.pid, o.nsname ? path : NULL, o.userns, &t, err,
                                   sizeof err);
    if (rc < 0) {
        fprintf(stderr, "synack " CMD ": %s\n", err);
        return stop_all(&g, rts, n, 1);
    }
    rts[0].child = o.argv ? t.pid : 0;
    /* One connection, one log line: to a file or a pipe they go out in
     * blocks when the loop has time (run_loop), not a write each. Not
     * before the fork: the child's own message on a failed exec would stay
     * in a buffer that _exit does not write. */
    if (!isatty(STDERR_FILENO) && !o.nr.trace)
        setvbuf(stderr, NULL, _IOFBF, 1 << 16);
    signal(SIGPIPE, SIG_IGN); /* here only: COMMAND was forked with the default */
    if (start_all(rts, n, &t) < 0) {
        if (t.go >= 0)
            close(t.go);
        return stop_all(&g, rts, n, 1);
    }
    if (!o.quiet)
        say_started(&rts[0], &t);
    say_ready(o.ready_fd);
    if (o.argv && netns_go(&t) < 0)
        reap_child(&rts[0]); /* it died already: its status is the answer */
    return stop_all(&g, rts, n, run_all(&g, rts, n));
}
