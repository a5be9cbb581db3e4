/* netns_opts.c — the command line of `synack netns` (see netns_opts.h):
 * --help, each option's parse and check, and the checks across them. */
#define _GNU_SOURCE
#include "netns_opts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netns_ns.h"
#include "opts.h"

#define CMD "netns"
/* A congestion control's name and its NUL (the kernel's TCP_CA_NAME_MAX). */
#define CC_NAME_MAX 16

static void usage(FILE *f)
{
    fprintf(f,
            "usage: synack netns [OPTIONS] -- COMMAND [ARGS...]\n"
            "       synack netns [OPTIONS] --pid PID | --netns NAME|PATH\n"
            "\n"
            "Give a network namespace its network through synack, as slirp4netns and\n"
            "pasta do. With COMMAND: run it in a new network namespace (as non-root in a\n"
            "new user namespace too, where it is root, as with unshare -r) and exit with\n"
            "its exit status (128 + N when signal N killed it). With --pid or --netns:\n"
            "join that namespace and run until SIGINT or SIGTERM (or --exit-fd).\n"
            "\n"
            "Inside, a TAP interface gets the address .100 of the network (10.0.2.100/24),\n"
            "lo and it are up (unless --no-configure), and the default route goes to .2\n"
            "(10.0.2.2), synack's own address, as in slirp4netns, and .3 is the resolver.\n"
            "synack runs outside, in the calling namespace, on the TAP's other end: every\n"
            "TCP connection and UDP flow out of the namespace is carried on by a host\n"
            "socket to its destination (10.0.2.2 is the host's 127.0.0.1; 10.0.2.3:53 the\n"
            "host's resolver), and -p forwards host ports in.\n"
            "\n"
            "options:\n"
            "  -p, --publish [HOSTIP:]HOSTPORT:NSPORT\n"
            "                       forward TCP connections to HOSTIP:HOSTPORT on the host\n"
            "                       to NSPORT in the namespace; HOSTIP defaults to 0.0.0.0\n"
            "                       (every address, as slirp4netns and pasta do); an IPv6\n"
            "                       HOSTIP goes in brackets ([::1]:8080:80) and, with\n"
            "                       --ipv6, forwards to fd00::100 over IPv6 (else to\n"
            "                       10.0.2.100); /tcp may follow, or /udp for UDP\n"
            "                       datagrams. Repeatable\n"
            "  --cidr A.B.C.D/N     the namespace's network (default 10.0.2.0/24; N at\n"
            "                       most 25, so that .100 fits)\n"
            "  --mtu N              the TAP's MTU, and synack's (default 65520; 68-65521)\n"
            "  --ifname NAME        the TAP's name in the namespace (default tap0)\n"
            "  --pid PID            join the network namespace of process PID (and, as\n"
            "                       non-root, its user namespace)\n"
            "  --netns NAME|PATH    join /run/netns/NAME (made by ip netns add), or the\n"
            "                       namespace file at PATH (one with a /)\n"
            "  --userns PATH        enter the user namespace file at PATH first (with\n"
            "                       --pid or --netns)\n"
            "  --no-configure       leave the TAP's addresses, MTU, link state and routes\n"
            "                       to the namespace's owner (who may have made the TAP\n"
            "                       already, by --ifname's name); synack still answers\n"
            "                       at the gateway address .2\n"
            "  --macaddress MAC     the TAP's MAC in the namespace (not with\n"
            "                       --no-configure)\n"
            "  --ready-fd FD        write \"1\" to FD and close it once running\n"
            "  --exit-fd FD         end the run when FD is readable or closed\n"
            "  --api-socket PATH    a Unix socket at PATH taking slirp4netns's API\n"
            "                       requests: add_hostfwd, list_hostfwd, remove_hostfwd\n"
            "                       (port forwards at run time; not with --threads)\n"
            "  --ipv6               IPv6 too: fd00::100/64 in the namespace, default route\n"
            "                       via fd00::2 (synack), which is the host's ::1\n"
            "  --busy-poll US       after traffic, poll up to US microseconds before\n"
            "                       sleeping: from 50, doubled after a gap between\n"
            "                       bursts it missed that was at most US, halved after\n"
            "                       a longer one (default 200; below 50: that long,\n"
            "                       fixed; 0: sleep at once, least CPU)\n"
            "  --threads N          N stacks, one per thread, each on its own queue of the\n"
            "                       TAP with its own relays (flows spread by a hash; 1 to\n"
            "                       16, default 1; not with --ladder or --pcap)\n"
            "  --no-offload         plain frames on the TAP: every TCP checksum computed\n"
            "                       and verified, segments no longer than the MTU (by\n"
            "                       default the TAP carries virtio-net offloads)\n"
            "  --loopback-cc NAME   congestion control of the host sockets to loopback\n"
            "                       and the host's own addresses (default reno: the\n"
            "                       kernel's pacing, as BBR's, buys nothing where no\n"
            "                       link queues; \"default\" leaves the system's)\n"
            "  --ns-cc NAME         the namespace's default congestion control (default\n"
            "                       reno in a namespace synack creates: its connections\n"
            "                       end one TAP hop away, the host sockets carry on;\n"
            "                       \"default\" or a joined namespace: left as it is)\n"
            "  --disable-host-loopback\n"
            "                       10.0.2.2 is not the host's 127.0.0.1: refused\n"
            "  --outbound-addr ADDR|IFNAME\n"
            "                       host sockets to anywhere but the host itself leave\n"
            "                       from this IPv4 address (or the interface's first)\n"
            "  --outbound-addr6 ADDR6|IFNAME\n"
            "                       the same for IPv6 (not a link-local address)\n"
            "  --dns-upstream IP[:PORT]\n"
            "                       where DNS to 10.0.2.3 goes (default: the first\n"
            "                       nameserver of the host's /etc/resolv.conf)\n"
            "  --disable-dns        DNS to 10.0.2.3 goes nowhere: refused\n"
            "  -o NAME=VALUE        set a sysctl knob of synack's stack (see synack serve\n"
            "                       --help); repeatable\n"
            "  --pcap FILE          write every frame on the TAP to FILE (pcap)\n"
            "  --trace              print every state change and segment to stderr\n"
            "  --ladder             draw each relayed connection as a ladder diagram at\n"
            "                       exit (synack's side and the namespace kernel's)\n"
            "  -q, --quiet          no start line, no relay lines, no counters at exit\n"
            "  -h, --help           this text\n"
            "  --version            print the version\n"
            "\n"
            "Each relayed connection ends with a line on stderr: its endpoints, bytes in\n"
            "(into the namespace) and out, its time, and how each side ended (fin, rst,\n"
            "refused, timeout). SIGUSR1 prints the stack's and the relay's counters;\n"
            "they are printed at exit too. Exit status: COMMAND's; 1 when the\n"
            "namespace, the TAP, a listener or the device failed; 2 on bad usage.\n"
            "\n"
            "example:\n"
            "  synack netns -p 127.0.0.1:8080:80 -- python3 -m http.server 80\n"
            "  curl http://127.0.0.1:8080/\n");
}

static int parse_cidr(const char *v, netns_opts *o)
{
    char buf[40];
    snprintf(buf, sizeof buf, "%s", v);
    char *slash = strchr(buf, '/');
    long p = 24;
    if (slash) {
        *slash = '\0';
        if (opts_long(slash + 1, 1, 25, &p) < 0)
            return -1;
    }
    uint32_t ip;
    if (synack_ip_parse(buf, &ip) < 0)
        return -1;
    o->prefix = (uint8_t)p;
    o->net = ip & (0xffffffffu << (32 - p));
    return 0;
}

static int parse_dns(const char *v, netns_opts *o)
{
    uint32_t ip;
    uint16_t port = 53;
    if (synack_ip_parse(v, &ip) < 0 && netrun_parse_endpoint(v, &ip, &port) < 0)
        return -1;
    o->dns_ip = ip;
    o->dns_port = port;
    return 0;
}

/* An option that takes a value: 0, or the exit status of bad usage. */
static int parse_valued(netns_opts *o, const char *a, const char *v)
{
    const char *why = NULL;
    if (opts_is(a, "--publish", "-p")) {
        if (o->nfwd == NETNS_MAX_FWD)
            why = "too many port forwards";
        else if (fwd_parse(v, &o->fwd[o->nfwd]) < 0)
            why = "expected [HOSTIP:]HOSTPORT:NSPORT[/tcp|/udp], an IPv6 HOSTIP in brackets";
        else
            o->nfwd++;
    } else if (!strcmp(a, "--cidr")) {
        why = parse_cidr(v, o) < 0 ? "expected a network A.B.C.D/N, N from 1 to 25" : NULL;
    } else if (!strcmp(a, "--mtu")) {
        why = opts_long(v, 68, 65521, &o->mtu) < 0 ? "not an MTU from 68 to 65521" : NULL;
    } else if (!strcmp(a, "--ifname")) {
        why = !*v || strlen(v) >= 16 || strchr(v, '/') ? "not an interface name" : NULL;
        o->ifname = v;
    } else if (!strcmp(a, "--pid")) {
        why = opts_long(v, 1, 0x7fffffff, &o->pid) < 0 ? "not a process id" : NULL;
    } else if (!strcmp(a, "--netns")) {
        why = !*v || !strcmp(v, ".") || !strcmp(v, "..") || strlen(v) >= NETNS_PATH_MAX - 16
                  ? "not a name or a path"
                  : NULL;
        o->nsname = v;
    } else if (!strcmp(a, "--outbound-addr")) {
        why = netns_outbound_parse(v, AF_INET, (uint8_t *)&o->map.out4) < 0
                  ? "not an IPv4 address or an interface with one"
                  : NULL;
    } else if (!strcmp(a, "--outbound-addr6")) {
        why = netns_outbound_parse(v, AF_INET6, o->map.out6) < 0
                  ? "not an IPv6 address or an interface with one (not link-local)"
                  : NULL;
    } else if (!strcmp(a, "--macaddress")) {
        why = netrun_parse_mac(v, o->mac) < 0 ? "not a unicast MAC address" : NULL;
        o->mac_set = 1;
    } else if (!strcmp(a, "--api-socket") || !strcmp(a, "--userns")) {
        why = !*v ? "not a path" : NULL;
        if (!strcmp(a, "--api-socket"))
            o->api_path = v;
        else
            o->userns = v;
    } else if (!strcmp(a, "--ready-fd") || !strcmp(a, "--exit-fd")) {
        long fd = -1;
        /* close-on-exec: COMMAND must not hold them (a parent waiting for
         * the ready pipe's end would wait as long as COMMAND runs) */
        why = opts_long(v, 0, 0x7fffffff, &fd) < 0 || fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0
                  ? "not an open file descriptor"
                  : NULL;
        if (!strcmp(a, "--ready-fd"))
            o->ready_fd = (int)fd;
        else
            o->exit_fd = (int)fd;
    } else if (!strcmp(a, "--busy-poll")) {
        long us = 0;
        why = opts_long(v, 0, 1000000, &us) < 0 ? "not a time in µs from 0 to 1000000" : NULL;
        o->busy_poll_ns = (uint64_t)us * 1000;
    } else if (!strcmp(a, "--threads")) {
        why = opts_long(v, 1, NETNS_MAX_QUEUES, &o->threads) < 0 ? "not a count from 1 to 16"
                                                                 : NULL;
    } else if (!strcmp(a, "--loopback-cc") || !strcmp(a, "--ns-cc")) {
        why = !*v || strlen(v) >= CC_NAME_MAX ? "not a congestion control's name" : NULL;
        if (!strcmp(a, "--ns-cc")) {
            o->ns_cc = v;
            o->ns_cc_given = 1;
        } else {
            o->loopback_cc = v;
            o->loopback_cc_given = 1;
        }
    } else if (!strcmp(a, "--dns-upstream")) {
        why = parse_dns(v, o) < 0 ? "expected IP or IP:PORT" : NULL;
    } else {
        o->nr.pcap_path = v; /* --pcap */
    }
    if (!why)
        return 0;
    fprintf(stderr, "synack " CMD ": %s %s: %s\n", a, v, why);
    return 2;
}

/* One argument at argv[*i]: 0 to go on, 1 when COMMAND starts after it,
 * or -1 with *status set (2 bad usage, 0 after --help/--version). */
static int parse_one(netns_opts *o, int argc, char **argv, int *i, int *status)
{
    static const char *const valued[] = {"-p", "--publish", "--cidr", "--mtu", "--ifname",
                                         "--pid", "--netns", "--dns-upstream", "--pcap", "--busy-poll",
                                         "--threads", "--userns", "--ready-fd", "--exit-fd", "--api-socket",
                                         "--outbound-addr", "--outbound-addr6", "--macaddress",
                                         "--loopback-cc", "--ns-cc", NULL};
    const char *a = argv[*i], *kv;
    *status = 2;
    if (!strcmp(a, "--"))
        return 1;
    if (opts_is_help(a) || opts_is_version(a)) {
        if (opts_is_help(a))
            usage(stdout);
        *status = opts_is_help(a) ? 0 : opts_print_version();
        return -1;
    }
    int knob = opts_knob(CMD, argc, argv, i, &kv);
    if (knob < 0 || (knob > 0 && o->nr.nknobs == NETRUN_MAX_KNOBS))
        return -1;
    if (knob > 0) {
        o->nr.knobs[o->nr.nknobs++] = kv;
        return 0;
    }
    if (opts_is_one_of(a, valued)) {
        const char *v = opts_value(CMD, argc, argv, i);
        return !v ? -1 : (*status = parse_valued(o, a, v)) ? -1 : 0;
    }
    if (!strcmp(a, "--trace"))
        o->nr.trace = 1;
    else if (!strcmp(a, "--ladder"))
        o->ladder = 1;
    else if (opts_is(a, "--quiet", "-q"))
        o->quiet = 1;
    else if (!strcmp(a, "--disable-host-loopback"))
        o->no_host_loopback = 1;
    else if (!strcmp(a, "--disable-dns"))
        o->no_dns = 1;
    else if (!strcmp(a, "--ipv6"))
        o->ipv6 = 1;
    else if (!strcmp(a, "--no-offload"))
        o->no_offload = 1;
    else if (!strcmp(a, "--no-configure"))
        o->no_configure = 1;
    else {
        *status = opts_usage_error(CMD, a, "unknown option");
        return -1;
    }
    return 0;
}

/* Whether `name` is in net.ipv4.tcp_allowed_congestion_control, the
 * only ones a namespace other than the host's may have as its default:
 * 1, 0, or -1 when the list cannot be read (the child then finds out). */
static int cc_allowed(const char *name)
{
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_allowed_congestion_control", "re");
    char list[256];
    if (!f)
        return -1;
    int ok = fgets(list, sizeof list, f) != NULL;
    fclose(f);
    if (!ok)
        return -1;
    for (char *save = NULL, *w = strtok_r(list, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
        if (!strcmp(w, name))
            return 1;
    return 0;
}

/* A congestion control option (--loopback-cc, --ns-cc) as its user wants
 * it: NULL for "default". Tried once on a socket of this process: a name
 * the kernel refuses (not built, a module not loaded, or not in
 * net.ipv4.tcp_allowed_congestion_control for a user without
 * CAP_NET_ADMIN; for a namespace's default, not in that list for anyone)
 * is an error when given, and quietly NULL when not (reno, taken out of
 * the allowed list by an administrator). 0, or -1. */
static int cc_check(const char *opt, const char **name, int given)
{
    if (!*name || !strcmp(*name, "default")) {
        *name = NULL;
        return 0;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = fd < 0 ? -1
                    : setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, *name, (socklen_t)strlen(*name));
    int err = errno;
    if (fd >= 0)
        close(fd);
    int ns = !strcmp(opt, "--ns-cc");
    if ((rc == 0 || err == EPERM) && ns && cc_allowed(*name) == 0) {
        rc = -1;
        err = EPERM;
    }
    if (rc == 0)
        return 0;
    if (!given) {
        *name = NULL;
        return 0;
    }
    fprintf(stderr, "synack " CMD ": %s %s: %s\n", opt, *name,
            err == ENOENT ? "not available (not built, or its module not loaded: "
                            "net.ipv4.tcp_available_congestion_control)"
            : err == EPERM && ns ? "a namespace's default must be one of "
                                   "net.ipv4.tcp_allowed_congestion_control"
            : err == EPERM ? "not allowed without CAP_NET_ADMIN "
                             "(net.ipv4.tcp_allowed_congestion_control)"
                           : strerror(err));
    return -1;
}

int netns_parse_args(netns_opts *o, int argc, char **argv, int *status)
{
    memset(o, 0, sizeof *o);
    o->net = 0x0a000200; /* 10.0.2.0/24, slirp4netns's default */
    o->prefix = 24;
    o->mtu = 65520;
    o->ifname = "tap0";
    o->busy_poll_ns = NETNS_BUSY_POLL_US * 1000;
    o->loopback_cc = "reno";
    o->threads = 1;
    o->ready_fd = o->exit_fd = -1;
    for (int i = 1; i < argc; i++) {
        int r = parse_one(o, argc, argv, &i, status);
        if (r < 0)
            return -1;
        if (r > 0) {
            o->argv = i + 1 < argc ? argv + i + 1 : NULL;
            if (!o->argv) {
                *status = opts_usage_error(CMD, "--", "needs a COMMAND after it");
                return -1;
            }
            break;
        }
    }
    *status = 2;
    if ((o->argv != NULL) + (o->pid != 0) + (o->nsname != NULL) != 1) {
        fprintf(stderr, "synack " CMD ": give one of -- COMMAND, --pid PID, --netns NAME "
                        "(see synack " CMD " --help)\n");
        return -1;
    }
    if (o->mac_set && o->no_configure) {
        fprintf(stderr, "synack " CMD ": --macaddress needs the TAP configured (not --no-configure)\n");
        return -1;
    }
    if (o->userns && o->argv) {
        fprintf(stderr, "synack " CMD ": --userns goes with --pid or --netns\n");
        return -1;
    }
    if (o->threads > 1 && (o->ladder || o->nr.pcap_path || o->api_path)) {
        fprintf(stderr, "synack " CMD ": --threads takes no --ladder, --pcap or --api-socket\n");
        return -1;
    }
    /* A namespace we create is ours to tune; one we join is its owner's. */
    if (!o->ns_cc_given)
        o->ns_cc = o->argv ? "reno" : NULL;
    return cc_check("--loopback-cc", &o->loopback_cc, o->loopback_cc_given) < 0 ||
                   cc_check("--ns-cc", &o->ns_cc, o->ns_cc_given) < 0
               ? -1
               : 0;
}
