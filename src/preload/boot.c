/* boot.c — libsynack-preload.so's runtime: made at the first TCP or UDP socket
 * from the environment `synack run` sets (SYNACK_RUN_*, docs/runtime.md),
 * lost to a forked child, and wound down at exit: the sockets still open
 * are closed as the kernel would close them, and the closing handshakes
 * get a moment (SYNACK_RUN_LINGER_MS, 3000 by default) to finish. */
#define _GNU_SOURCE
#include "preload/preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

sp_libc sp_real;

static pthread_mutex_t boot_mu = PTHREAD_MUTEX_INITIALIZER;
static synack_rt *_Atomic the_rt;
static int boot_errno;       /* the runtime could not be made: this errno */
static atomic_int forked;    /* a child forked from the runtime's process */

#define FIND(f) sp_real.f = (__typeof__(sp_real.f))dlsym(RTLD_NEXT, #f)

void sp_resolve(void)
{
    FIND(socket); FIND(bind); FIND(listen); FIND(accept); FIND(accept4);
    FIND(connect); FIND(shutdown); FIND(close); FIND(getsockopt);
    FIND(setsockopt); FIND(getsockname); FIND(getpeername); FIND(ioctl);
    FIND(fcntl); FIND(fcntl64); FIND(dup); FIND(dup2); FIND(dup3);
    FIND(sendto); FIND(sendmsg); FIND(read); FIND(write); FIND(recv); FIND(send);
    FIND(recvfrom); FIND(recvmsg); FIND(readv); FIND(writev); FIND(__read_chk);
    FIND(__recv_chk); FIND(__recvfrom_chk); FIND(sendmmsg); FIND(recvmmsg);
    if (!sp_real.fcntl64) /* a libc older than 2.28 */
        sp_real.fcntl64 = sp_real.fcntl;
}

void sp_say(const char *a, const char *b, const char *c)
{
    char line[512];
    int n = snprintf(line, sizeof line, "synack: %s%s%s\n", a, b, c);
    if (n > 0)
        (void)!write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void on_fork_child(void)
{
    if (atomic_load(&the_rt))
        atomic_store(&forked, 1);
}

__attribute__((constructor)) static void sp_init(void)
{
    sp_resolve();
    pthread_atfork(NULL, NULL, on_fork_child);
}

int sp_forked(void)
{
    return atomic_load(&forked);
}

synack_rt *sp_current(void)
{
    return atomic_load(&the_rt);
}

static int parse_mac(const char *t, uint8_t mac[6])
{
    unsigned v[6];
    if (sscanf(t, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
        return -1;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)v[i];
    return 0;
}

/* "ADDR/PREFIX" of either family into `a` and *prefix. */
static int parse_net(const char *t, synack_addr *a, uint8_t *prefix)
{
    char buf[80];
    snprintf(buf, sizeof buf, "%s", t);
    char *slash = strchr(buf, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    *prefix = (uint8_t)atoi(slash + 1);
    return synack_addr_parse(buf, a);
}

/* Each "name=value" line of SYNACK_RUN_SYSCTL. */
static const char *apply_knobs(synack_config *sc, const char *knobs)
{
    static char bad[160];
    char *copy = strdup(knobs), *save = NULL;
    if (!copy)
        return "out of memory";
    const char *why = NULL;
    for (char *k = strtok_r(copy, "\n", &save); k && !why; k = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(k, '=');
        if (eq)
            *eq = '\0';
        if (!eq || synack_config_set(sc, k, eq + 1) < 0) {
            snprintf(bad, sizeof bad, "SYNACK_RUN_SYSCTL: bad knob %s", k);
            why = bad;
        }
    }
    free(copy);
    return why;
}

/* The configuration in the environment; NULL, or what is wrong. */
static const char *config_from_env(synack_rt_config *cfg)
{
    const char *dev = getenv("SYNACK_RUN_DEVICE"), *ifname = getenv("SYNACK_RUN_IF");
    const char *ip = getenv("SYNACK_RUN_IP"), *v;
    if (!dev || !ifname || !ip)
        return "no device: SYNACK_RUN_DEVICE, SYNACK_RUN_IF and SYNACK_RUN_IP are unset "
               "(run the program with `synack run`)";
    cfg->device = !strcmp(dev, "tap") ? SYNACK_RT_TAP : !strcmp(dev, "tun") ? SYNACK_RT_TUN
                  : !strcmp(dev, "packet") ? SYNACK_RT_PACKET : -1;
    if (cfg->device < 0)
        return "SYNACK_RUN_DEVICE: not tap, tun or packet";
    cfg->ifname = ifname;
    synack_config *sc = &cfg->stack;
    sc->link = cfg->device == SYNACK_RT_TUN ? SYNACK_LINK_IP : SYNACK_LINK_ETHERNET;
    synack_addr a;
    if (parse_net(ip, &a, &sc->prefix_len) < 0 || a.family != SYNACK_AF_INET)
        return "SYNACK_RUN_IP: not an IPv4 ADDR/PREFIX";
    sc->ip = a.v4;
    if ((v = getenv("SYNACK_RUN_IP6")) && *v) {
        if (parse_net(v, &a, &sc->prefix6_len) < 0 || a.family != SYNACK_AF_INET6)
            return "SYNACK_RUN_IP6: not an IPv6 ADDR/PREFIX";
        memcpy(sc->ip6, a.v6, 16);
    }
    uint8_t m[6] = {0x02, 0x00, (uint8_t)(sc->ip >> 24), (uint8_t)(sc->ip >> 16),
                    (uint8_t)(sc->ip >> 8), (uint8_t)sc->ip};
    memcpy(sc->mac, m, 6);
    if ((v = getenv("SYNACK_RUN_MAC")) && *v && parse_mac(v, sc->mac) < 0)
        return "SYNACK_RUN_MAC: not a MAC address";
    if ((v = getenv("SYNACK_RUN_GW")) && *v && synack_ip_parse(v, &sc->gateway) < 0)
        return "SYNACK_RUN_GW: not an IPv4 address";
    if ((v = getenv("SYNACK_RUN_GW6")) && *v) {
        if (synack_addr_parse(v, &a) < 0 || a.family != SYNACK_AF_INET6)
            return "SYNACK_RUN_GW6: not an IPv6 address";
        memcpy(sc->gateway6, a.v6, 16);
    }
    if ((v = getenv("SYNACK_RUN_OFFLOAD")) && !strcmp(v, "1")) {
        cfg->dev_flags = 1;
        sc->gso_max = 65535;
    }
    if ((v = getenv("SYNACK_RUN_THREADS")) && *v) {
        char *end;
        unsigned long n = strtoul(v, &end, 10);
        if (*end || n < 1 || n > SYNACK_RT_MAX_THREADS)
            return "SYNACK_RUN_THREADS: not a count from 1 to 64";
        cfg->threads = (unsigned)n;
    }
    if ((v = getenv("SYNACK_RUN_SYSCTL")) && *v)
        return apply_knobs(sc, v);
    return NULL;
}

static void mark_runtime_thread(void *ctx, synack_stack *s)
{
    (void)ctx;
    (void)s;
    sp_inside = 1; /* its own socket calls are libc's */
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Make and start the runtime (boot_mu held). */
static synack_rt *boot(void)
{
    synack_rt_config cfg;
    synack_rt_config_init(&cfg);
    const char *why = config_from_env(&cfg);
    if (why) {
        sp_say(why, "", "");
        return NULL;
    }
    sp_events_setup(&cfg, mono_ns());
    char err[256];
    sp_inside++;
    synack_rt *rt = synack_rt_new(&cfg, err, sizeof err);
    sp_inside--;
    if (!rt) {
        sp_say("cannot start the stack: ", err, "");
        return NULL;
    }
    /* The runtime thread takes no signal: they are the program's. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = synack_rt_start(rt);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc < 0) {
        sp_say("cannot start the runtime thread: ", strerror(errno), "");
        synack_rt_free(rt);
        return NULL;
    }
    synack_rt_with_stack(rt, mark_runtime_thread, NULL);
    return rt;
}

synack_rt *sp_runtime(void)
{
    synack_rt *rt = atomic_load(&the_rt);
    if (rt && !sp_forked())
        return rt;
    if (sp_forked()) {
        sp_say("socket: this process was forked from the one running synack's stack; "
               "a forked child cannot make synack sockets", "", "");
        errno = ENETDOWN;
        return NULL;
    }
    pthread_mutex_lock(&boot_mu);
    rt = atomic_load(&the_rt);
    if (!rt && !boot_errno) {
        rt = boot();
        if (rt)
            atomic_store(&the_rt, rt);
        else
            boot_errno = ENETDOWN;
    }
    pthread_mutex_unlock(&boot_mu);
    if (!rt)
        errno = boot_errno;
    return rt;
}

static void count_busy(void *ctx, synack_stack *s)
{
    synack_sockstat st;
    synack_get_sockstat(s, &st);
    *(uint32_t *)ctx += st.inuse; /* summed over a group's members */
}

/* At exit: close what the program left open (the kernel would), let the
 * connections finish closing, then stop the runtime and write the rest. */
__attribute__((destructor)) static void sp_fini(void)
{
    synack_rt *rt = atomic_load(&the_rt);
    if (!rt || sp_forked())
        return;
    sp_inside++;
    for (int fd = 0; fd < SP_MAX_FD; fd++)
        if (atomic_exchange(&sp_fds[fd], 0))
            synack_fd_close(rt, fd);
    const char *v = getenv("SYNACK_RUN_LINGER_MS");
    uint64_t linger = (v ? strtoull(v, NULL, 10) : 3000) * 1000000ull;
    uint64_t end = mono_ns() + linger;
    for (;;) {
        uint32_t busy = 0;
        synack_rt_with_stack(rt, count_busy, &busy);
        if (!busy || mono_ns() >= end)
            break;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    synack_rt_with_stack(rt, sp_events_counters, NULL); /* summed per member */
    sp_events_counters_put();
    synack_rt_stop(rt);
    sp_events_close();
    sp_inside--;
}
