/* slirp4netns.c — slirp4netns's options read and handed to netns_main
 * (see slirp4netns.h). Only what synack does is accepted and listed by
 * --help: the programs that start slirp4netns read its --help to learn
 * which options they may pass, so an option listed but ignored (a sandbox,
 * say) would promise what is not done. */
#define _GNU_SOURCE
#include "slirp4netns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netns.h"
#include "opts.h"

#define CMD "slirp4netns"
#define MAX_ARGS 40
#define EXTRA_ENV "SYNACK_NETNS_OPTS"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: slirp4netns [OPTION]... PID|PATH [TAPNAME]\n"
            "(synack netns behind slirp4netns's command line; see synack netns --help)\n"
            "\n"
            "Give the network namespace of process PID (or the namespace file at PATH,\n"
            "with --netns-type=path) its network through synack, on TAP interface\n"
            "TAPNAME (default tap0), made there unless it exists. Runs until SIGTERM,\n"
            "or until the exit FD is readable or closed.\n"
            "\n"
            "-c, --configure          give the TAP its address (.100 of the network),\n"
            "                         MTU and default route (via .2), and bring it up\n"
            "-e, --exit-fd=FD         end when FD is readable or closed\n"
            "-r, --ready-fd=FD        write \"1\" to FD once the network is there\n"
            "-m, --mtu=MTU            MTU (default=1500, max=65521)\n"
            "-6, --enable-ipv6        IPv6 too: fd00::100/64, gateway fd00::2\n"
            "-a, --api-socket=PATH    API socket path (add_hostfwd, list_hostfwd,\n"
            "                         remove_hostfwd)\n"
            "--cidr=CIDR              the network (default=10.0.2.0/24)\n"
            "--disable-host-loopback  the gateway .2 is not the host's 127.0.0.1\n"
            "--disable-dns            DNS to .3 is not passed to the host's resolver\n"
            "--netns-type=TYPE        what PID|PATH is ([path|pid], default=pid)\n"
            "--userns-path=PATH       enter this user namespace first\n"
            "--outbound-addr=IPv4     the host's IPv4 address (or an interface's) that\n"
            "                         outbound connections leave from\n"
            "--outbound-addr6=IPv6    the same for IPv6\n"
            "--macaddress=MAC         the TAP's MAC (only with -c)\n"
            "-h, --help               show this help and exit\n"
            "-v, --version            show version and exit\n"
            "\n"
            "Environment: SYNACK_NETNS_OPTS, synack netns options added to these (e.g.\n"
            "\"--pcap /tmp/ns.pcap --trace\"); with it set, synack also logs each relayed\n"
            "connection and its counters to stderr.\n");
}

/* The slirp4netns options synack does not do: refused by name. */
static const char *const unsupported[] = {"--enable-sandbox", "--enable-seccomp", NULL};

/* What reading slirp4netns's options makes: synack netns's argv. */
typedef struct netns_argv {
    const char *argv[MAX_ARGS];
    int argc;
    int configure;          /* -c                                        */
    int by_pid;             /* --netns-type pid (the default) or path    */
    const char *mtu;        /* -m, or slirp4netns's default 1500         */
    const char *target[2];  /* PID|PATH, TAPNAME                         */
    int ntargets;
    int options_done;       /* after "--": operands only                 */
} netns_argv;

/* What the end of slirp4netns_main adds: --mtu V --ifname V
 * --no-configure --pid|--netns V and the NULL. */
#define TAIL_ARGS 8

static int add(netns_argv *s, const char *a, const char *v)
{
    if (s->argc + 2 > MAX_ARGS - TAIL_ARGS) {
        fprintf(stderr, "synack " CMD ": too many options\n");
        return -1;
    }
    s->argv[s->argc++] = a;
    if (v)
        s->argv[s->argc++] = v;
    return 0;
}

/* "--name=value" or "--name value", "-x value" or "-xvalue": the value, or
 * NULL (and the reason on stderr). *i moves past what was taken. */
static const char *value_of(int argc, char **argv, int *i, const char *name)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (a[1] != '-' && a[2]) /* -xVALUE */
        return a + 2;
    if (a[1] == '-' && a[n] == '=')
        return a + n + 1;
    if (*i + 1 < argc)
        return argv[++*i];
    fprintf(stderr, "synack " CMD ": %s needs a value\n", a);
    return NULL;
}

/* Is `a` the option with this long name (or short letter, 0 for none),
 * with or without an attached value? */
static bool is_opt(const char *a, const char *lng, char shrt)
{
    size_t n = strlen(lng);
    if (!strncmp(a, lng, n) && (a[n] == '\0' || a[n] == '='))
        return true;
    return shrt && a[0] == '-' && a[1] == shrt;
}

/* The options that take a value, and what becomes of each. */
enum valued_kind { PASS_ON, MTU, NETNS_TYPE, TARGET_TYPE };
static const struct {
    const char *lng;
    char shrt;
    enum valued_kind kind;
    const char *netns_opt; /* PASS_ON: synack netns's name for it */
} valued[] = {
    {"--exit-fd", 'e', PASS_ON, "--exit-fd"}, {"--ready-fd", 'r', PASS_ON, "--ready-fd"},
    {"--cidr", 0, PASS_ON, "--cidr"},         {"--userns-path", 0, PASS_ON, "--userns"},
    {"--api-socket", 'a', PASS_ON, "--api-socket"},
    {"--outbound-addr", 0, PASS_ON, "--outbound-addr"},
    {"--outbound-addr6", 0, PASS_ON, "--outbound-addr6"},
    {"--macaddress", 0, PASS_ON, "--macaddress"},
    {"--mtu", 'm', MTU, NULL},                {"--netns-type", 0, NETNS_TYPE, NULL},
    {"--target-type", 0, TARGET_TYPE, NULL},
};

static int take_value(netns_argv *s, enum valued_kind kind, const char *netns_opt,
                      const char *lng, const char *v)
{
    switch (kind) {
    case PASS_ON:
        return add(s, netns_opt, v);
    case MTU:
        s->mtu = v;
        return 0;
    case NETNS_TYPE:
        if (strcmp(v, "pid") && strcmp(v, "path"))
            break;
        s->by_pid = !strcmp(v, "pid");
        return 0;
    case TARGET_TYPE: /* netns, the default, is all synack does */
        if (strcmp(v, "netns"))
            break;
        return 0;
    }
    fprintf(stderr, "synack " CMD ": %s %s: expected %s\n", lng, v,
            kind == NETNS_TYPE ? "pid or path" : "netns (the only one supported by synack)");
    return -1;
}

/* One option with a value. 0, 1 when `argv[*i]` is not one, -1 bad. */
static int take_valued(netns_argv *s, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++) {
        if (!is_opt(a, valued[k].lng, valued[k].shrt))
            continue;
        const char *v = value_of(argc, argv, i, a[1] == '-' ? valued[k].lng : "-x");
        if (!v)
            return -1;
        return take_value(s, valued[k].kind, valued[k].netns_opt, valued[k].lng, v);
    }
    return 1;
}

/* PID|PATH, then TAPNAME. */
static int take_target(netns_argv *s, const char *a)
{
    if (s->ntargets == 2 || !*a) {
        fprintf(stderr, "synack " CMD ": %s: %s\n", *a ? a : "''",
                *a ? "one PID|PATH and one TAPNAME at most" : "an empty PID|PATH or TAPNAME");
        return -1;
    }
    s->target[s->ntargets++] = a;
    return 0;
}

/* One argument. 0, or -1 with the exit status in *status. */
static int parse_one(netns_argv *s, int argc, char **argv, int *i, int *status)
{
    const char *a = argv[*i];
    *status = 1;
    if (s->options_done || a[0] != '-' || !a[1])
        return take_target(s, a);
    if (!strcmp(a, "--")) {
        s->options_done = 1;
        return 0;
    }
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
        usage(stdout);
        *status = 0;
        return -1;
    }
    if (!strcmp(a, "-v") || !strcmp(a, "--version")) {
        *status = opts_print_version();
        return -1;
    }
    for (size_t k = 0; unsupported[k]; k++) {
        if (is_opt(a, unsupported[k], 0)) {
            fprintf(stderr, "synack " CMD ": %s: not supported by synack\n", unsupported[k]);
            return -1;
        }
    }
    if (!strcmp(a, "-c") || !strcmp(a, "--configure")) {
        s->configure = 1;
        return 0;
    }
    if (!strcmp(a, "-6") || !strcmp(a, "--enable-ipv6"))
        return add(s, "--ipv6", NULL);
    if (!strcmp(a, "--disable-host-loopback") || !strcmp(a, "--disable-dns"))
        return add(s, a, NULL);
    int r = take_valued(s, argc, argv, i);
    if (r > 0)
        fprintf(stderr, "synack " CMD ": %s: unknown option (see --help)\n", a);
    return r ? -1 : 0;
}

/* SYNACK_NETNS_OPTS: synack netns options for a synack that a container
 * tool started as slirp4netns, whose command line it does not choose
 * (--pcap FILE, --trace, -o knob=value ...), split at blanks; podman and
 * rootlesskit pass their environment on. With it set, the start line, a
 * line per relayed connection and the counters go to stderr too: what
 * synack shows is what someone setting it wants to see (where stderr goes
 * is the starter's choice; a --pcap file is there whatever it chose). */
static int add_extra(netns_argv *s, const char *extra)
{
    static char *copy; /* its words are the argv's for the whole run */
    if (!(copy = strdup(extra))) {
        fprintf(stderr, "synack " CMD ": out of memory\n");
        return -1;
    }
    char *save = NULL;
    for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save))
        if (add(s, w, NULL) < 0)
            return -1;
    return 0;
}

bool slirp4netns_named(const char *argv0)
{
    const char *base = strrchr(argv0, '/');
    return !strncmp(base ? base + 1 : argv0, CMD, strlen(CMD));
}

int slirp4netns_main(int argc, char **argv)
{
    netns_argv s;
    memset(&s, 0, sizeof s);
    s.by_pid = 1;
    s.mtu = "1500";
    const char *extra = getenv(EXTRA_ENV);
    add(&s, "netns", extra ? NULL : "-q");
    if (extra && add_extra(&s, extra) < 0)
        return 1;
    int status = 1;
    for (int i = 1; i < argc; i++)
        if (parse_one(&s, argc, argv, &i, &status) < 0)
            return status;
    if (s.ntargets == 0) {
        fprintf(stderr, "synack " CMD ": needs PID|PATH (see --help)\n");
        return 1;
    }
    /* The tail: TAIL_ARGS entries, room for which add() kept. */
    s.argv[s.argc++] = "--mtu";
    s.argv[s.argc++] = s.mtu;
    s.argv[s.argc++] = "--ifname";
    s.argv[s.argc++] = s.ntargets > 1 ? s.target[1] : "tap0";
    if (!s.configure)
        s.argv[s.argc++] = "--no-configure";
    char path[4096];
    s.argv[s.argc++] = s.by_pid ? "--pid" : "--netns";
    if (s.by_pid) {
        s.argv[s.argc++] = s.target[0];
    } else { /* a path without a '/' is still a path, not a /run/netns name */
        int n = snprintf(path, sizeof path, "%s%s", strchr(s.target[0], '/') ? "" : "./",
                         s.target[0]);
        if (n < 0 || (size_t)n >= sizeof path) {
            fprintf(stderr, "synack " CMD ": %s: the path is too long\n", s.target[0]);
            return 1;
        }
        s.argv[s.argc++] = path;
    }
    s.argv[s.argc] = NULL;
    int r = netns_main(s.argc, (char **)s.argv);
    return r == 2 ? 1 : r;
}
