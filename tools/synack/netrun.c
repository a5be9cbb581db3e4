/* netrun.c — shared set-up of `synack serve` and `synack connect` (see netrun.h). */
#include "netrun.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "fmt.h"
#include "opts.h"

const char NETRUN_HELP[] =
    "interface:\n"
    "  --tap IF             Ethernet frames through TAP interface IF (/dev/net/tun,\n"
    "                       IFF_TAP|IFF_NO_PI); attaches to IF if it exists (ip tuntap\n"
    "                       add), else creates it, brings it up, and removes it on exit\n"
    "  --tun IF             bare IPv4 packets through TUN interface IF (same rules)\n"
    "  --packet IF          an AF_PACKET socket on existing interface IF, e.g. one end\n"
    "                       of a veth pair (promiscuous while running)\n"
    "  --ip ADDR/PREFIX     synack's own address and subnet, e.g. 10.77.0.2/24; a\n"
    "                       unicast host address, not the kernel's own. A second\n"
    "                       --ip with an IPv6 address (e.g. fd77::2/64) adds IPv6:\n"
    "                       neighbour discovery (after a second of duplicate address\n"
    "                       detection), ping, and TCP for serve\n"
    "  --mac MAC            synack's MAC (Ethernet links); default 02:00 followed by\n"
    "                       the four bytes of --ip\n"
    "  --gw ADDR            next hop for destinations outside the subnet, a host on\n"
    "                       it (default: none; such destinations are unreachable). A\n"
    "                       second --gw with an IPv6 address (e.g. fe80::1) is the\n"
    "                       IPv6 default router: link-local, or inside --ip's prefix\n"
    "  -o NAME=VALUE        set a sysctl knob, Linux names, with or without the\n"
    "                       net.ipv4. prefix (e.g. -o net.ipv4.tcp_sack=0, or\n"
    "                       -o net.ipv6.conf.all.dad_transmits=0); repeatable\n"
    "  --pcap FILE          write every frame in and out to FILE (pcap, wall-clock\n"
    "                       time stamps)\n"
    "  --trace              print every state change and segment to stderr, one line\n"
    "                       each: time, connection, event\n"
    "  --impair SPEC        impair the link in user space, both ways, like tc netem on\n"
    "                       kernels without it: SPEC is a comma list of delay=10ms,\n"
    "                       loss=2%,reorder=5%,dup=1%,limit=1000,seed=N (reorder: that\n"
    "                       share of frames skips the delay)\n"
    "  --offload            (--tap, the default there) move up to 64 KiB per\n"
    "                       read/write: the TAP carries a virtio-net header\n"
    "                       (IFF_VNET_HDR), the kernel hands over large TCP segments\n"
    "                       with checksums left partial, and synack hands it segments\n"
    "                       up to 64 KiB for the kernel to cut to the MTU (TSO)\n"
    "  --no-offload         (--tap) one frame per read/write, every checksum computed\n"
    "  --counters           print the stack's non-zero counters on stderr at exit, in\n"
    "                       nstat's format (#header, then Name value lines); SIGUSR1\n"
    "                       prints them at any time, with or without this option\n"
    "  --version            print the version\n";

static int parse_percent(const char *v, double *out)
{
    char num[32];
    size_t n = strlen(v);
    if (n && v[n - 1] == '%')
        n--;
    if (n >= sizeof num)
        return -1;
    memcpy(num, v, n);
    num[n] = '\0';
    if (opts_double(num, 0, 100, out) < 0)
        return -1;
    *out /= 100.0;
    return 0;
}

static int parse_impair(const char *spec, dev_impair *imp)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec);
    memset(imp, 0, sizeof(*imp));
    for (char *save = NULL, *item = strtok_r(buf, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq)
            return -1;
        *eq = '\0';
        const char *v = eq + 1;
        char *end;
        if (!strcmp(item, "delay")) {
            double d = strtod(v, &end);
            double mul = !strcmp(end, "ms") ? 1e6 : !strcmp(end, "us") ? 1e3 : !strcmp(end, "s") ? 1e9 : -1;
            /* up to a minute; nan and inf never pass */
            if (end == v || mul < 0 || !(d >= 0 && d * mul <= 60e9))
                return -1;
            imp->delay_ns = (uint64_t)(d * mul);
        } else if (!strcmp(item, "loss")) {
            if (parse_percent(v, &imp->loss) < 0)
                return -1;
        } else if (!strcmp(item, "reorder")) {
            if (parse_percent(v, &imp->reorder) < 0)
                return -1;
        } else if (!strcmp(item, "dup") || !strcmp(item, "duplicate")) {
            if (parse_percent(v, &imp->dup) < 0)
                return -1;
        } else if (!strcmp(item, "limit") || !strcmp(item, "seed")) {
            const char *rest;
            uint64_t n;
            if (opts_u64_head(v, 10, &n, &rest) < 0 || *rest || (item[0] == 'l' && n > 1000000))
                return -1;
            if (item[0] == 'l')
                imp->limit = (unsigned)n;
            else
                imp->seed = n;
        } else {
            return -1;
        }
    }
    return 0;
}

int netrun_parse_mac(const char *t, uint8_t mac[6])
{
    unsigned v[6];
    char tail;
    if (sscanf(t, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
        return -1;
    for (int i = 0; i < 6; i++) {
        if (v[i] > 255)
            return -1;
        mac[i] = (uint8_t)v[i];
    }
    return (mac[0] & 1) ? -1 : 0; /* a multicast address cannot be ours */
}

/* Split --ip's "ADDR/PREFIX" into buf (the address) and *prefix (`def`
 * without a slash, else 1..max). 0, or -1 with the message printed. */
static int split_prefix(const char *cmd, const char *v, char *buf, size_t len, long def,
                        long max, long *prefix)
{
    snprintf(buf, len, "%s", v);
    char *slash = strchr(buf, '/');
    *prefix = def;
    if (!slash)
        return 0;
    *slash = '\0';
    if (opts_long(slash + 1, 1, max, prefix) < 0) {
        fprintf(stderr, "synack %s: --ip %s: bad prefix length\n", cmd, v);
        return -1;
    }
    return 0;
}

/* --ip ADDR/PREFIX with an IPv6 address: a unicast global or unique-local
 * one (the link-local address comes from the MAC by itself). */
static int parse_ip6(netrun_opts *o, const char *cmd, const char *v)
{
    char buf[64];
    long prefix;
    if (split_prefix(cmd, v, buf, sizeof buf, 64, 128, &prefix) < 0)
        return -1;
    synack_addr a;
    if (synack_addr_parse(buf, &a) < 0 || a.family != SYNACK_AF_INET6) {
        fprintf(stderr, "synack %s: --ip %s: not an IPv6 address\n", cmd, v);
        return -1;
    }
    if (a.v6[0] == 0xff || (a.v6[0] == 0xfe && (a.v6[1] & 0xc0) == 0x80) ||
        !memcmp(a.v6, (uint8_t[16]){0}, 15)) {
        fprintf(stderr, "synack %s: --ip %s: not a global or unique-local unicast address\n",
                cmd, v);
        return -1;
    }
    memcpy(o->ip6, a.v6, 16);
    o->prefix6 = (uint8_t)prefix;
    o->ip6_set = 1;
    return 1;
}

/* --gw ADDR with an IPv6 address: a unicast one (where it may be is
 * netrun_check's, once --ip is known). */
static int parse_gw6(netrun_opts *o, const char *cmd, const char *v)
{
    synack_addr a;
    if (synack_addr_parse(v, &a) < 0 || a.family != SYNACK_AF_INET6) {
        fprintf(stderr, "synack %s: --gw %s: not an IPv6 address\n", cmd, v);
        return -1;
    }
    if (a.v6[0] == 0xff || !memcmp(a.v6, (uint8_t[16]){0}, 15)) {
        fprintf(stderr, "synack %s: --gw %s: not a unicast address\n", cmd, v);
        return -1;
    }
    memcpy(o->gw6, a.v6, 16);
    o->gw6_set = 1;
    return 1;
}

/* An interface option, --ip, --mac, --gw, --pcap or --impair `a` with its
 * value `v`: 1, or -1 (message printed). */
static int parse_value(netrun_opts *o, const char *cmd, const char *a, const char *v)
{
    if (!strcmp(a, "--tap") || !strcmp(a, "--tun") || !strcmp(a, "--packet")) {
        if (o->kind_set) {
            fprintf(stderr, "synack %s: give only one of --tap, --tun, --packet\n", cmd);
            return -1;
        }
        o->kind_set = 1;
        o->kind = a[2] == 'p' ? DEV_PACKET : !strcmp(a, "--tap") ? DEV_TAP : DEV_TUN;
        o->ifname = v;
    } else if (!strcmp(a, "--ip") && strchr(v, ':')) {
        return parse_ip6(o, cmd, v);
    } else if (!strcmp(a, "--ip")) {
        char buf[64];
        long prefix;
        if (split_prefix(cmd, v, buf, sizeof buf, 24, 32, &prefix) < 0)
            return -1;
        if (synack_ip_parse(buf, &o->ip) < 0) {
            fprintf(stderr, "synack %s: --ip %s: not an IPv4 address\n", cmd, v);
            return -1;
        }
        const char *why = netrun_addr_problem(o->ip, o->ip, (uint8_t)prefix);
        if (why) {
            fprintf(stderr, "synack %s: --ip %s: %s, not a host's own\n", cmd, v, why);
            return -1;
        }
        o->prefix = (uint8_t)prefix;
        o->ip_set = 1;
    } else if (!strcmp(a, "--mac")) {
        if (netrun_parse_mac(v, o->mac) < 0) {
            fprintf(stderr, "synack %s: --mac %s: not a unicast MAC address\n", cmd, v);
            return -1;
        }
        o->mac_set = 1;
    } else if (!strcmp(a, "--gw") && strchr(v, ':')) {
        return parse_gw6(o, cmd, v);
    } else if (!strcmp(a, "--gw")) {
        if (synack_ip_parse(v, &o->gw) < 0) {
            fprintf(stderr, "synack %s: --gw %s: not an IPv4 address\n", cmd, v);
            return -1;
        }
    } else if (!strcmp(a, "--pcap")) {
        o->pcap_path = v;
    } else {
        if (parse_impair(v, &o->impair) < 0) {
            fprintf(stderr, "synack %s: --impair %s: expected e.g. delay=10ms,loss=2%%,"
                            "reorder=5%%,dup=1%%\n", cmd, v);
            return -1;
        }
        o->impaired = 1;
    }
    return 1;
}

int netrun_parse(netrun_opts *o, const char *cmd, int argc, char **argv, int *i)
{
    static const char *const valued[] = {"--tap", "--tun", "--packet", "--ip", "--mac", "--gw",
                                         "--pcap", "--impair", NULL};
    const char *a = argv[*i], *v;
    int knob = opts_knob(cmd, argc, argv, i, &v);
    if (knob > 0 && o->nknobs == NETRUN_MAX_KNOBS) {
        fprintf(stderr, "synack %s: too many -o options\n", cmd);
        return -1;
    }
    if (knob > 0)
        o->knobs[o->nknobs++] = v;
    if (knob)
        return knob;
    if (opts_is_one_of(a, valued))
        return (v = opts_value(cmd, argc, argv, i)) ? parse_value(o, cmd, a, v) : -1;
    if (!strcmp(a, "--offload") || !strcmp(a, "--no-offload")) {
        o->offload = !strcmp(a, "--offload");
        o->offload_set = 1;
        return 1;
    }
    if (!strcmp(a, "--trace")) {
        o->trace = 1;
        return 1;
    }
    if (!strcmp(a, "--counters")) {
        o->counters = 1;
        return 1;
    }
    return 0;
}

int netrun_parse_common(netrun_opts *o, const char *cmd, int argc, char **argv, int *i,
                        void (*usage)(FILE *), int *quiet, int *status)
{
    const char *a = argv[*i];
    int r = netrun_parse(o, cmd, argc, argv, i);
    *status = 2;
    if (r != 0)
        return r;
    if (opts_is_help(a)) {
        usage(stdout);
        *status = 0;
        return -1;
    }
    if (opts_is_version(a)) {
        *status = opts_print_version();
        return -1;
    }
    if (opts_is(a, "--quiet", "-q")) {
        *quiet = 1;
        return 1;
    }
    return 0;
}

const char *netrun_addr_problem(uint32_t a, uint32_t ip, uint8_t prefix)
{
    if (a == 0xffffffffu)
        return "the broadcast address";
    if ((a >> 24) == 0)
        return "in 0.0.0.0/8";
    if ((a >> 24) == 127)
        return "a loopback address";
    if ((a >> 28) == 0xe)
        return "a multicast address";
    if ((a >> 28) == 0xf)
        return "a reserved address (240.0.0.0/4)";
    uint32_t host = prefix >= 32 ? 0 : 0xffffffffu >> prefix;
    if (prefix <= 30 && (a & ~host) == (ip & ~host)) {
        if ((a & host) == host)
            return "the subnet's broadcast address";
        if ((a & host) == 0)
            return "the subnet's network address";
    }
    return NULL;
}

/* The interface on which the kernel (this namespace) has address `ip`, in
 * `ifname`: 1, or 0 when it has not. */
static int kernel_has(uint32_t ip, char *ifname, size_t len)
{
    struct ifaddrs *all;
    if (getifaddrs(&all) < 0)
        return 0;
    int found = 0;
    for (struct ifaddrs *i = all; i && !found; i = i->ifa_next) {
        struct sockaddr_in sin;
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
            continue;
        memcpy(&sin, i->ifa_addr, sizeof sin);
        if (ntohl(sin.sin_addr.s_addr) == ip) {
            snprintf(ifname, len, "%s", i->ifa_name);
            found = 1;
        }
    }
    freeifaddrs(all);
    return found;
}

/* An IPv6 --gw needs an IPv6 --ip, and must be on its link: link-local, or
 * inside its prefix, and not the address itself. 0 or -1 (printed). */
static int check_gw6(const netrun_opts *o, const char *cmd)
{
    if (!o->gw6_set)
        return 0;
    const char *why = NULL;
    unsigned bytes = o->prefix6 / 8, bits = o->prefix6 % 8;
    int link_local = o->gw6[0] == 0xfe && (o->gw6[1] & 0xc0) == 0x80;
    int inside = !memcmp(o->gw6, o->ip6, bytes) &&
                  (!bits || !((o->gw6[bytes] ^ o->ip6[bytes]) & (0xff << (8 - bits))));
    if (!o->ip6_set)
        why = "give synack an IPv6 address first (--ip ADDR6/PREFIX)";
    else if (!memcmp(o->gw6, o->ip6, 16))
        why = "synack's own --ip";
    else if (!link_local && !inside)
        why = "not on the link (neither link-local nor inside --ip's prefix)";
    if (why) {
        synack_addr a = synack_addr_v6(o->gw6);
        char text[SYNACK_ADDR_TEXT];
        fprintf(stderr, "synack %s: --gw %s: %s\n", cmd,
                synack_addr_format(&a, text, sizeof text), why);
        return -1;
    }
    return 0;
}

int netrun_check(netrun_opts *o, const char *cmd)
{
    char ip[16], ifname[64], err[256];
    if (!o->kind_set) {
        fprintf(stderr, "synack %s: give an interface: --tap IF, --tun IF or --packet IF\n", cmd);
        return -1;
    }
    if (!o->ip_set) {
        fprintf(stderr, "synack %s: give synack's address: --ip ADDR/PREFIX\n", cmd);
        return -1;
    }
    if (o->offload && o->kind != DEV_TAP) {
        fprintf(stderr, "synack %s: --offload needs --tap\n", cmd);
        return -1;
    }
    /* A TAP we open always takes the virtio-net header: use it unless told
     * not to (issue 13: the plain path pays a system call per frame). */
    if (!o->offload_set)
        o->offload = o->kind == DEV_TAP;
    synack_config cfg;
    synack_config_init(&cfg);
    for (size_t i = 0; i < o->nknobs; i++) {
        if (opts_knob_apply(&cfg, o->knobs[i], err, sizeof err) < 0) {
            fprintf(stderr, "synack %s: %s\n", cmd, err);
            return -1;
        }
    }
    fmt_ip(o->ip, ip);
    if (kernel_has(o->ip, ifname, sizeof ifname)) {
        fprintf(stderr, "synack %s: --ip %s: the kernel has this address (on %s); give synack "
                        "one of its own on the subnet\n", cmd, ip, ifname);
        return -1;
    }
    if (o->gw) {
        uint32_t mask = 0xffffffffu << (32 - o->prefix);
        const char *why = o->gw == o->ip ? "synack's own --ip"
                          : netrun_addr_problem(o->gw, o->ip, o->prefix);
        if (!why && (o->gw & mask) != (o->ip & mask))
            why = "not on --ip's subnet";
        if (why) {
            fprintf(stderr, "synack %s: --gw %s: %s\n", cmd, fmt_ip(o->gw, ip), why);
            return -1;
        }
    }
    return check_gw6(o, cmd);
}

static volatile sig_atomic_t usr1_seen;

static void on_usr1(int sig)
{
    (void)sig;
    usr1_seen = 1;
}

void netrun_catch_usr1(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART; /* a read or write it interrupts goes on */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
}

int netrun_usr1(void)
{
    if (!usr1_seen)
        return 0;
    usr1_seen = 0;
    return 1;
}

/* SYNACK_DROP_TW_PAWS -> "SynackDropTwPaws". */
static void drop_counter_name(int drop, char *buf, size_t len)
{
#define DROP_ID(id, text) #id,
    static const char *const ids[] = {SYNACK_DROPS(DROP_ID)};
#undef DROP_ID
    size_t n = (size_t)snprintf(buf, len, "SynackDrop");
    int upper = 1;
    for (const char *p = ids[drop]; *p && n + 1 < len; p++) {
        if (*p == '_') {
            upper = 1;
            continue;
        }
        buf[n++] = (char)(upper ? toupper((unsigned char)*p) : tolower((unsigned char)*p));
        upper = 0;
    }
    buf[n] = '\0';
}

void netrun_print_counters(const netrun *r, FILE *f, const char *when)
{
    netrun_print_counters_sum(&r, 1, f, when);
}

void netrun_print_counters_sum(const netrun *const *rs, size_t n, FILE *f, const char *when)
{
    fprintf(f, "#synack %s: %s\n", rs[0]->cmd, when);
    for (size_t i = 0; i < synack_counter_count(); i++) {
        uint64_t v = 0;
        for (size_t k = 0; k < n; k++)
            v += synack_counter_value(synack_get_counters(rs[k]->s), i);
        if (v)
            fprintf(f, "%-31s %llu\n", synack_counter_name(i), (unsigned long long)v);
    }
    for (int d = 1; d < SYNACK_DROP_COUNT; d++) {
        uint64_t v = 0;
        for (size_t k = 0; k < n; k++)
            v += synack_drop_count(rs[k]->s, d);
        char name[64];
        drop_counter_name(d, name, sizeof name);
        if (v)
            fprintf(f, "%-31s %llu\n", name, (unsigned long long)v);
    }
    fflush(f);
}

static void os_random(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    uint8_t *p = buf;
    while (len) {
        ssize_t n = getrandom(p, len, 0);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            abort(); /* no randomness: ISNs would be predictable */
        }
        p += n;
        len -= (size_t)n;
    }
}

void netrun_steer_key(uint64_t key[2]) { os_random(NULL, key, 2 * sizeof key[0]); }

static const char *kind_name(int k)
{
    switch (k) {
    case SYNACK_TRACE_STATE: return "STATE";
    case SYNACK_TRACE_SEG_IN: return "IN";
    case SYNACK_TRACE_SEG_OUT: return "OUT";
    case SYNACK_TRACE_DROP: return "DROP";
    }
    return "?";
}

static void on_trace(void *ctx, const synack_trace_event *ev)
{
    netrun *r = ctx;
    if (r->hook)
        r->hook(r->hook_ctx, ev);
    if (!r->trace)
        return;
    char l[FMT_ENDPOINT_LEN], rem[FMT_ENDPOINT_LEN], fl[40];
    uint64_t t = ev->time_ns > r->t0 ? ev->time_ns - r->t0 : 0;
    fprintf(stderr, "%llu.%06llu #%u %s %s %s", (unsigned long long)(t / 1000000000ull),
            (unsigned long long)(t % 1000000000ull / 1000), (unsigned)ev->conn_id,
            fmt_event_endpoint(ev, 1, l), fmt_event_endpoint(ev, 0, rem), kind_name(ev->kind));
    switch (ev->kind) {
    case SYNACK_TRACE_STATE:
        fprintf(stderr, " %s -> %s", synack_state_name(ev->old_state),
                synack_state_name(ev->new_state));
        break;
    case SYNACK_TRACE_SEG_IN:
    case SYNACK_TRACE_SEG_OUT:
        fprintf(stderr, " %s seq=%u ack=%u win=%u len=%u%s", fmt_flags(ev->seg.flags, fl),
                (unsigned)ev->seg.seq, (unsigned)ev->seg.ack, (unsigned)ev->seg.wnd,
                (unsigned)ev->seg.len, ev->retransmit ? " retransmit" : "");
        break;
    default:
        break;
    }
    if (ev->cause)
        fprintf(stderr, " (%s)", ev->cause);
    fputc('\n', stderr);
}

int netrun_open(netrun *r, const netrun_opts *o, const char *cmd, synack_event_fn event,
                void *event_ctx)
{
    memset(r, 0, sizeof(*r));
    r->cmd = cmd;
    r->pcap_path = o->pcap_path;
    char err[256];
    /* Offloads: the stack still computes and verifies every checksum (the
     * device completes the kernel's partial ones and turns ours into
     * partial ones for the kernel, dev.h). Trusting the device instead
     * (checksum_offload, DEV_TRUST_CSUM) is a third faster kernel -> stack,
     * but a TAP may be bridged to a real wire, and the device cannot vouch
     * for what it cannot parse (IPv4 fragments, IPv6 extension headers), so
     * only netns, whose frames all come from one kernel, does that. */
    unsigned dflags = (o->offload ? DEV_OFFLOAD : 0u) | (o->steer.count > 1 ? DEV_MULTI_QUEUE : 0u);
    dev *d = dev_open_flags(o->kind, o->ifname, dflags, err, sizeof err);
    if (!d) {
        fprintf(stderr, "synack %s: %s\n", cmd, err);
        return -1;
    }
    return netrun_open_dev(r, d, o, cmd, event, event_ctx);
}

int netrun_open_dev(netrun *r, dev *d, const netrun_opts *o, const char *cmd,
                    synack_event_fn event, void *event_ctx)
{
    memset(r, 0, sizeof(*r));
    r->cmd = cmd;
    r->pcap_path = o->pcap_path;
    r->d = d;
    char err[256];
    r->loop = dev_loop_new(r->d);
    if (!r->loop) {
        fprintf(stderr, "synack %s: epoll: %s\n", cmd, strerror(errno));
        goto bad;
    }
    synack_config cfg;
    synack_config_init(&cfg);
    cfg.link = o->kind == DEV_TUN ? SYNACK_LINK_IP : SYNACK_LINK_ETHERNET;
    cfg.ip = o->ip;
    cfg.prefix_len = o->prefix;
    if (o->ip6_set) {
        memcpy(cfg.ip6, o->ip6, 16);
        cfg.prefix6_len = o->prefix6;
    }
    cfg.gateway = o->gw;
    if (o->gw6_set)
        memcpy(cfg.gateway6, o->gw6, 16);
    cfg.mtu = dev_mtu(r->d) > 65535 ? 65535 : dev_mtu(r->d);
    if (o->offload)
        cfg.gso_max = 65535; /* the kernel cuts our segments to the MTU */
    cfg.checksum_offload = o->trust_csum;
    if (o->mac_set) {
        memcpy(cfg.mac, o->mac, 6);
    } else {
        uint8_t m[6] = {0x02, 0x00, (uint8_t)(o->ip >> 24), (uint8_t)(o->ip >> 16),
                        (uint8_t)(o->ip >> 8), (uint8_t)o->ip};
        memcpy(cfg.mac, m, 6);
    }
    uint8_t kmac[6];
    if (cfg.link == SYNACK_LINK_ETHERNET && dev_hwaddr(r->d, kmac) == 0 &&
        !memcmp(kmac, cfg.mac, 6)) {
        fprintf(stderr, "synack %s: --mac is the interface's own MAC; pick another\n", cmd);
        goto bad;
    }
    for (size_t i = 0; i < o->nknobs; i++) {
        if (opts_knob_apply(&cfg, o->knobs[i], err, sizeof err) < 0) { /* netrun_check did */
            fprintf(stderr, "synack %s: %s\n", cmd, err);
            goto bad;
        }
    }
    cfg.output = dev_loop_output;
    cfg.output_v = dev_loop_output_v;
    cfg.output_ctx = r->loop;
    cfg.random = os_random;
    cfg.event = event;
    cfg.event_ctx = event_ctx;
    cfg.udp_event = o->udp_event;
    cfg.udp_event_ctx = o->udp_event_ctx;
    cfg.data = o->data;
    cfg.data_ctx = o->data_ctx;
    cfg.steer = o->steer;
    r->t0 = dev_now();
    if (o->trace || o->trace_hook) {
        cfg.trace = on_trace;
        cfg.trace_ctx = r;
        r->trace = o->trace;
        r->hook = o->trace_hook;
        r->hook_ctx = o->trace_hook_ctx;
        if (o->trace)
            setvbuf(stderr, NULL, _IOLBF, 0);
    }
    if (o->pcap_path) {
        r->pcap = pcap_open(o->pcap_path,
                            cfg.link == SYNACK_LINK_IP ? PCAP_LINKTYPE_RAW : PCAP_LINKTYPE_ETHERNET,
                            PCAP_NSEC);
        if (!r->pcap) {
            fprintf(stderr, "synack %s: --pcap %s: %s\n", cmd, o->pcap_path, strerror(errno));
            goto bad;
        }
        dev_loop_set_pcap(r->loop, r->pcap);
    }
    if (o->impaired && dev_loop_set_impair(r->loop, &o->impair) < 0) {
        fprintf(stderr, "synack %s: out of memory\n", cmd);
        goto bad;
    }
    r->s = synack_stack_new(&cfg, r->t0);
    if (!r->s) {
        fprintf(stderr, "synack %s: cannot create the stack\n", cmd);
        goto bad;
    }
    dev_loop_set_stack(r->loop, r->s);
    if (o->fan && dev_loop_set_fan(r->loop, o->fan, &cfg.steer, cfg.link) < 0) {
        fprintf(stderr, "synack %s: epoll: %s\n", cmd, strerror(errno));
        goto bad;
    }
    if (o->steer.count <= 1 || o->steer.index == 0) /* a group announces once */
        synack_arp_announce(r->s, dev_now());
    dev_flush(r->d);
    return 0;
bad:
    netrun_close(r);
    return -1;
}

int netrun_close(netrun *r)
{
    if (r->d)
        dev_flush(r->d);
    synack_stack_free(r->s);
    dev_loop_free(r->loop);
    dev_close(r->d);
    errno = 0;
    int rc = pcap_close(r->pcap);
    if (rc < 0)
        fprintf(stderr, "synack %s: --pcap %s: write error: %s\n", r->cmd, r->pcap_path,
                errno ? strerror(errno) : "an earlier write failed");
    memset(r, 0, sizeof(*r));
    return rc;
}

int netrun_parse_endpoint(const char *text, uint32_t *ip, uint16_t *port)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", text);
    char *colon = strrchr(buf, ':');
    if (!colon)
        return -1;
    *colon = '\0';
    long p;
    if (opts_long(colon + 1, 1, 65535, &p) < 0)
        return -1;
    if (synack_ip_parse(buf, ip) < 0)
        return -1;
    *port = (uint16_t)p;
    return 0;
}

int netrun_parse_size(const char *text, uint64_t *out)
{
    const char *end;
    uint64_t v;
    if (opts_u64_head(text, 10, &v, &end) < 0)
        return -1;
    uint64_t mul = 1;
    if (!*end)
        mul = 1;
    else if (!strcmp(end, "k") || !strcmp(end, "K") || !strcmp(end, "kB"))
        mul = 1000;
    else if (!strcmp(end, "M") || !strcmp(end, "MB"))
        mul = 1000000;
    else if (!strcmp(end, "G") || !strcmp(end, "GB"))
        mul = 1000000000;
    else if (!strcmp(end, "KiB"))
        mul = 1024;
    else if (!strcmp(end, "MiB"))
        mul = 1024 * 1024;
    else if (!strcmp(end, "GiB"))
        mul = 1024ull * 1024 * 1024;
    else
        return -1;
    if (v > UINT64_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}
