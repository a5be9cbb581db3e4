/* run.c — `synack run [device options] -- PROGRAM [ARGS]`: run PROGRAM with
 * libsynack-preload.so, so that its TCP sockets are synack's on the device
 * given, and watch them: the preload library appends the stack's trace
 * events to a file this process reads as they come (run_watch.c). */
#define _GNU_SOURCE
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "netrun.h"
#include "opts.h"
#include "run_watch.h"
#include "synack_rt.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: synack run (--tap IF | --tun IF | --packet IF) --ip ADDR/PREFIX\n"
            "                  [--ladder] [--trace] [--pcap FILE] [--json FILE] [options]\n"
            "                  -- PROGRAM [ARGS]\n"
            "\n"
            "Run PROGRAM (dynamically linked, unmodified) with its TCP sockets, IPv4 and\n"
            "IPv6, on synack instead of the kernel: libsynack-preload.so is preloaded\n"
            "and runs the stack on the device in a thread of PROGRAM's own. Other\n"
            "sockets (UDP, so DNS; AF_UNIX; netlink) stay the kernel's. Exit status:\n"
            "PROGRAM's (128+N when signal N killed it), 2 on bad usage, 127 when PROGRAM\n"
            "cannot be run. On exit, on stderr: a line per connection (endpoints, states\n"
            "passed, bytes, retransmissions, duration) and the counters in nstat's form.\n"
            "\n"
            "  --ladder             draw each connection as a ladder diagram at exit\n"
            "  --ascii              ... with ASCII characters only\n"
            "  --trace              print every state change and segment as it happens\n"
            "  --json FILE          every event as a JSON line to FILE\n"
            "  --preload LIB        the library (default: libsynack-preload.so next to\n"
            "                       synack or in its parent directory, or the\n"
            "                       SYNACK_PRELOAD environment variable)\n"
            "  --threads N          N stacks, each on a thread of its own and its own\n"
            "                       queue of a multi-queue TAP or TUN, the kernel\n"
            "                       steering each flow to its stack (default 1)\n"
            "  -q, --quiet          no summary lines or counters\n"
            "\n%s",
            NETRUN_HELP);
}

/* The preload library: --preload, $SYNACK_PRELOAD, beside this program,
 * its parent directory (build/san/synack -> build/), ../lib/synack. */
static const char *find_preload(const char *given, char *buf, size_t len)
{
    if (given)
        return given;
    const char *env = getenv("SYNACK_PRELOAD");
    if (env && *env)
        return env;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return NULL;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    static const char *const where[] = {"%s/libsynack-preload.so", "%s/../libsynack-preload.so",
                                        "%s/../lib/synack/libsynack-preload.so"};
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        snprintf(buf, len, where[i], self);
        if (access(buf, R_OK) == 0)
            return realpath(buf, self) ? strcpy(buf, self) : buf;
    }
    return NULL;
}

static void put_addr6(const char *name, const uint8_t a[16], int prefix)
{
    synack_addr x = {.family = SYNACK_AF_INET6};
    memcpy(x.v6, a, 16);
    char buf[FMT_ENDPOINT_LEN + 8];
    fmt_addr_endpoint(&x, 0, buf); /* "[addr]:0" */
    char *end = strrchr(buf, ']');
    if (end)
        *end = '\0';
    char val[FMT_ENDPOINT_LEN + 24];
    if (prefix >= 0)
        snprintf(val, sizeof val, "%s/%d", buf + 1, prefix);
    else
        snprintf(val, sizeof val, "%s", buf + 1);
    setenv(name, val, 1);
}

/* The device options as the preload library reads them (boot.c). */
static int set_env(const netrun_opts *o, const char *lib, const char *events, const char *pcap)
{
    char buf[64];
    static const char *const kinds[] = {[DEV_TAP] = "tap", [DEV_TUN] = "tun",
                                        [DEV_PACKET] = "packet"};
    setenv("SYNACK_RUN_DEVICE", kinds[o->kind], 1);
    setenv("SYNACK_RUN_IF", o->ifname, 1);
    snprintf(buf, sizeof buf, "%s/%u", fmt_ip(o->ip, (char[16]){0}), (unsigned)o->prefix);
    setenv("SYNACK_RUN_IP", buf, 1);
    if (o->ip6_set)
        put_addr6("SYNACK_RUN_IP6", o->ip6, o->prefix6);
    if (o->gw6_set)
        put_addr6("SYNACK_RUN_GW6", o->gw6, -1);
    if (o->gw)
        setenv("SYNACK_RUN_GW", fmt_ip(o->gw, buf), 1);
    if (o->mac_set) {
        snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", o->mac[0], o->mac[1],
                 o->mac[2], o->mac[3], o->mac[4], o->mac[5]);
        setenv("SYNACK_RUN_MAC", buf, 1);
    }
    if (o->offload)
        setenv("SYNACK_RUN_OFFLOAD", "1", 1);
    size_t len = 1;
    for (size_t i = 0; i < o->nknobs; i++)
        len += strlen(o->knobs[i]) + 1;
    char *knobs = calloc(1, len);
    if (!knobs)
        return -1;
    for (size_t i = 0; i < o->nknobs; i++)
        strcat(strcat(knobs, o->knobs[i]), "\n");
    setenv("SYNACK_RUN_SYSCTL", knobs, 1);
    free(knobs);
    setenv("SYNACK_RUN_EVENTS", events, 1);
    if (pcap)
        setenv("SYNACK_RUN_PCAP", pcap, 1);
    const char *old = getenv("LD_PRELOAD");
    char *pre = malloc(strlen(lib) + (old ? strlen(old) : 0) + 2);
    if (!pre)
        return -1;
    sprintf(pre, "%s%s%s", lib, old && *old ? ":" : "", old && *old ? old : "");
    setenv("LD_PRELOAD", pre, 1);
    free(pre);
    return 0;
}

static volatile sig_atomic_t child_pid;

static void forward(int sig)
{
    if (child_pid > 0)
        kill((pid_t)child_pid, sig);
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}

typedef struct reader {
    int fd;
    uint8_t *buf;
    size_t len, cap;
} reader;

/* Hand the watcher what the file has gained. */
static void drain(reader *r, run_watch *w)
{
    for (;;) {
        if (r->cap - r->len < 65536) {
            size_t cap = r->cap ? r->cap * 2 : 1 << 20;
            uint8_t *n = realloc(r->buf, cap);
            if (!n)
                return;
            r->buf = n;
            r->cap = cap;
        }
        ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len);
        if (n <= 0)
            break;
        r->len += (size_t)n;
    }
    size_t used = run_watch_feed(w, r->buf, r->len);
    memmove(r->buf, r->buf + used, r->len - used);
    r->len -= used;
}

/* Wait for the child, reading its events as they come; its status. */
static int watch_child(pid_t pid, reader *r, run_watch *w)
{
    int status = 0;
    for (;;) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        drain(r, w);
        if (got == pid)
            break;
        if (got < 0 && errno != EINTR)
            return 1;
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    drain(r, w);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

static pid_t spawn(char **prog)
{
    pid_t pid = fork();
    if (pid == 0) {
        execvp(prog[0], prog);
        fprintf(stderr, "synack run: %s: %s\n", prog[0], strerror(errno));
        _exit(127);
    }
    if (pid < 0)
        fprintf(stderr, "synack run: fork: %s\n", strerror(errno));
    return pid;
}

typedef struct run_args {
    netrun_opts o;
    run_watch_opts wo;
    const char *json_path, *preload;
    int quiet;
    long threads;
    char **prog;
} run_args;

/* Parse argv; 0, or the status to exit with (+1: 0 after --help). */
static int parse(run_args *a, int argc, char **argv)
{
    int i;
    for (i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--")) {
            i++;
            break;
        }
        if (s[0] != '-')
            break;
        int status, r = netrun_parse_common(&a->o, "run", argc, argv, &i, usage, &a->quiet,
                                            &status);
        if (r < 0)
            return status + 1;
        if (r > 0)
            continue;
        if (!strcmp(s, "--ladder")) {
            a->wo.ladder = 1;
        } else if (!strcmp(s, "--ascii")) {
            a->wo.ascii = 1;
        } else if (!strcmp(s, "--json") || !strcmp(s, "--preload")) {
            const char *v = opts_value("run", argc, argv, &i);
            if (!v)
                return 3;
            *(s[2] == 'j' ? &a->json_path : &a->preload) = v;
        } else if (!strcmp(s, "--threads")) {
            const char *v = opts_value("run", argc, argv, &i);
            if (!v)
                return 3;
            if (opts_long(v, 1, SYNACK_RT_MAX_THREADS, &a->threads) < 0) {
                fprintf(stderr, "synack run: --threads %s: not a count from 1 to %d\n", v,
                        SYNACK_RT_MAX_THREADS);
                return 3;
            }
        } else {
            return opts_usage_error("run", s, "unknown option") + 1;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "synack run: give the program to run: synack run [options] -- "
                        "PROGRAM [ARGS]\n");
        return 3;
    }
    a->prog = argv + i;
    if (a->threads > 1 && a->o.kind == DEV_PACKET) {
        fprintf(stderr, "synack run: --threads takes --tap or --tun\n");
        return 3;
    }
    if (a->o.impaired) {
        fprintf(stderr, "synack run: --impair is not supported here (use tc netem)\n");
        return 3;
    }
    return netrun_check(&a->o, "run") < 0 ? 3 : 0;
}

static int run_program(run_args *a, const char *events, run_watch *w)
{
    char libbuf[PATH_MAX];
    const char *lib = find_preload(a->preload, libbuf, sizeof libbuf);
    if (!lib || access(lib, R_OK) < 0) {
        fprintf(stderr, "synack run: libsynack-preload.so not found (build it with make, or "
                        "give --preload LIB)\n");
        return 1;
    }
    reader r = {.fd = open(events, O_RDONLY | O_CREAT | O_CLOEXEC, 0600)};
    /* Every event only when one is shown; a summary needs the states and
     * per-connection sums; quiet needs nothing (it costs a bulk transfer
     * a fifth of its rate to write and read each segment). */
    setenv("SYNACK_RUN_DETAIL", a->wo.trace || a->wo.ladder || a->wo.json ? "all"
                                : a->quiet                              ? "none"
                                                                        : "summary",
           1);
    char threads[24];
    snprintf(threads, sizeof threads, "%ld", a->threads > 1 ? a->threads : 1);
    setenv("SYNACK_RUN_THREADS", threads, 1);
    if (r.fd < 0 || set_env(&a->o, lib, events, a->o.pcap_path) < 0) {
        fprintf(stderr, "synack run: %s: %s\n", events, strerror(errno));
        return 1;
    }
    catch_signals();
    pid_t pid = spawn(a->prog);
    if (pid < 0)
        return 1;
    child_pid = pid;
    int status = watch_child(pid, &r, w);
    close(r.fd);
    free(r.buf);
    return status;
}

int run_main(int argc, char **argv)
{
    run_args a;
    memset(&a, 0, sizeof a);
    int bad = parse(&a, argc, argv);
    if (bad)
        return bad - 1;
    a.wo.out = stderr;
    if (a.json_path && !(a.wo.json = fopen(a.json_path, "w"))) {
        fprintf(stderr, "synack run: --json %s: %s\n", a.json_path, strerror(errno));
        return 1;
    }
    a.wo.trace = a.o.trace;
    char dir[] = "/tmp/synack-run-XXXXXX", events[64];
    run_watch *w = run_watch_new(&a.wo);
    if (!w || !mkdtemp(dir)) {
        fprintf(stderr, "synack run: %s\n", strerror(errno));
        return 1;
    }
    snprintf(events, sizeof events, "%s/events", dir);
    setvbuf(stderr, NULL, _IOLBF, 0);
    int status = run_program(&a, events, w);
    if (!a.quiet || a.wo.ladder)
        run_watch_finish(w, a.quiet);
    run_watch_free(w);
    unlink(events);
    rmdir(dir);
    if (a.wo.json && fclose(a.wo.json) != 0) {
        fprintf(stderr, "synack run: --json %s: write error\n", a.json_path);
        return status ? status : 1;
    }
    return status;
}
