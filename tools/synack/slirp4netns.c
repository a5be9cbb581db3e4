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
            "--netns-type=TYPE        what PID|PATH is ([path|pid], default=pid)\n"
            "--userns-path=PATH       enter this user namespace first\n"
            "-h, --help               show this help and exit\n"
            "-v, --version            show version and exit\n");
}

/* The slirp4netns options synack does not do: refused by name. */
static const char *const unsupported[] = {
    "--enable-sandbox", "--enable-seccomp", "--outbound-addr",
    "--outbound-addr6", "--disable-dns", "--macaddress", "--target-type", NULL};

typedef struct s4n {
    const char *argv[MAX_ARGS];
    int argc;
    int configure, pid_type;
    const char *mtu;
    const char *pos[2]; /* PID|PATH, TAPNAME */
    int npos;
} s4n;

static void add(s4n *s, const char *a, const char *v)
{
    s->argv[s->argc++] = a;
    if (v)
        s->argv[s->argc++] = v;
}

/* "--name=value" or "--name value", "-x value" or "-xvalue": the value, or
 * NULL (and the reason on stderr). *i moves past what was taken. */
static const char *value_of(int argc, char **argv, int *i, size_t name_len)
{
    const char *a = argv[*i];
    if (a[1] != '-' && a[2])
        return a + 2;
    if (a[1] == '-' && a[name_len] == '=')
        return a + name_len + 1;
    if (*i + 1 < argc)
        return argv[++*i];
    fprintf(stderr, "synack " CMD ": %s needs a value\n", a);
    return NULL;
}

/* Is argv[i] the option with this long name (and short letter, or 0),
 * with or without an attached value? */
static bool is_opt(const char *a, const char *lng, char shrt)
{
    size_t n = strlen(lng);
    if (!strncmp(a, lng, n) && (a[n] == '\0' || a[n] == '='))
        return true;
    return shrt && a[0] == '-' && a[1] == shrt;
}

/* One option with a value into s. 0, 1 when `a` is not one, -1 bad. */
static int valued(s4n *s, int argc, char **argv, int *i)
{
    static const struct {
        const char *lng;
        char shrt;
        const char *to; /* synack netns's option, or NULL: handled here */
    } map[] = {{"--exit-fd", 'e', "--exit-fd"}, {"--ready-fd", 'r', "--ready-fd"},
               {"--mtu", 'm', NULL},            {"--cidr", 0, "--cidr"},
               {"--netns-type", 0, NULL},       {"--userns-path", 0, "--userns"},
               {"--api-socket", 'a', "--api-socket"}};
    const char *a = argv[*i];
    for (size_t k = 0; k < sizeof map / sizeof map[0]; k++) {
        if (!is_opt(a, map[k].lng, map[k].shrt))
            continue;
        const char *v = value_of(argc, argv, i, strlen(a[1] == '-' ? map[k].lng : "-x"));
        if (!v || s->argc + 2 > MAX_ARGS)
            return -1;
        if (map[k].to)
            add(s, map[k].to, v);
        else if (map[k].shrt == 'm')
            s->mtu = v;
        else if (!strcmp(v, "pid") || !strcmp(v, "path"))
            s->pid_type = !strcmp(v, "pid");
        else {
            fprintf(stderr, "synack " CMD ": --netns-type %s: expected pid or path\n", v);
            return -1;
        }
        return 0;
    }
    return 1;
}

/* One argument. 0, or -1 with the exit status in *status. */
static int parse_one(s4n *s, int argc, char **argv, int *i, int *status)
{
    const char *a = argv[*i];
    *status = 1;
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
    } else if (!strcmp(a, "-6") || !strcmp(a, "--enable-ipv6")) {
        add(s, "--ipv6", NULL);
    } else if (!strcmp(a, "--disable-host-loopback")) {
        add(s, a, NULL);
    } else if (a[0] == '-' && a[1]) {
        int r = valued(s, argc, argv, i);
        if (r > 0)
            fprintf(stderr, "synack " CMD ": %s: unknown option (see --help)\n", a);
        return r ? -1 : 0;
    } else if (s->npos < 2) {
        s->pos[s->npos++] = a;
    } else {
        fprintf(stderr, "synack " CMD ": %s: one PID|PATH and one TAPNAME at most\n", a);
        return -1;
    }
    return 0;
}

bool slirp4netns_named(const char *argv0)
{
    const char *base = strrchr(argv0, '/');
    return !strncmp(base ? base + 1 : argv0, CMD, strlen(CMD));
}

int slirp4netns_main(int argc, char **argv)
{
    s4n s;
    memset(&s, 0, sizeof s);
    s.pid_type = 1;
    s.mtu = "1500";
    add(&s, "netns", "-q");
    int status = 1;
    for (int i = 1; i < argc; i++)
        if (s.argc + 2 > MAX_ARGS || parse_one(&s, argc, argv, &i, &status) < 0)
            return status;
    if (s.npos == 0) {
        fprintf(stderr, "synack " CMD ": needs PID|PATH (see --help)\n");
        return 1;
    }
    add(&s, "--mtu", s.mtu);
    add(&s, "--ifname", s.npos > 1 ? s.pos[1] : "tap0");
    if (!s.configure)
        add(&s, "--no-configure", NULL);
    char path[4096];
    if (s.pid_type) {
        add(&s, "--pid", s.pos[0]);
    } else { /* a path without a '/' is still a path, not a /run/netns name */
        snprintf(path, sizeof path, "%s%s", strchr(s.pos[0], '/') ? "" : "./", s.pos[0]);
        add(&s, "--netns", path);
    }
    s.argv[s.argc] = NULL;
    int r = netns_main(s.argc, (char **)s.argv);
    return r == 2 ? 1 : r;
}
