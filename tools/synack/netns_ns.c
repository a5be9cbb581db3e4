/* netns_ns.c — enter a network namespace, make its TAP, hand it back (see
 * netns_ns.h). Everything here but the last steps of netns_spawn and
 * netns_attach runs in the child. */
#define _GNU_SOURCE
#include "netns_ns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The child's one message: the TAP's MAC, or why there is no TAP. */
typedef struct child_msg {
    int ok;
    int cc_set; /* the namespace's default is now tcp_cc */
    uint8_t mac[6];
    char err[240];
} child_msg;

static void say(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    errno = e;
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* A new network namespace; as non-root inside a new user namespace where
 * our uid and gid are root (setgroups denied first: the kernel requires it
 * before an unprivileged gid_map). */
static int enter_new_ns(char *err, size_t len)
{
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (uid == 0) {
        if (unshare(CLONE_NEWNET) == 0)
            return 0;
        say(err, len, "cannot create a network namespace: %s", strerror(errno));
        return -1;
    }
    if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0) {
        say(err, len, "user namespaces are not allowed here (unshare: %s); run as root, or "
                      "allow them (sysctl user.max_user_namespaces, "
                      "kernel.unprivileged_userns_clone)", strerror(errno));
        return -1;
    }
    char map[64];
    if (write_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT) {
        say(err, len, "/proc/self/setgroups: %s", strerror(errno));
        return -1;
    }
    snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
    if (write_file("/proc/self/uid_map", map) < 0) {
        say(err, len, "/proc/self/uid_map: %s", strerror(errno));
        return -1;
    }
    snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
    if (write_file("/proc/self/gid_map", map) < 0) {
        say(err, len, "/proc/self/gid_map: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static void set_sin(struct sockaddr *sa, uint32_t ip)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(ip)};
    memcpy(sa, &sin, sizeof sin);
}

static int if_up(int ctl, const char *name)
{
    struct ifreq r;
    memset(&r, 0, sizeof r);
    snprintf(r.ifr_name, sizeof r.ifr_name, "%s", name);
    if (ioctl(ctl, SIOCGIFFLAGS, &r) < 0)
        return -1;
    r.ifr_flags |= IFF_UP;
    return ioctl(ctl, SIOCSIFFLAGS, &r);
}

/* The MAC (when given), address, MTU, link state and default route of the
 * TAP, with the plain interface ioctls (no `ip` program needed). */
static int configure(int ctl, const netns_net *n, char *err, size_t len)
{
    struct ifreq r;
    memset(&r, 0, sizeof r);
    snprintf(r.ifr_name, sizeof r.ifr_name, "%s", n->ifname);
    if (n->mac_set) {
        r.ifr_hwaddr.sa_family = ARPHRD_ETHER;
        memcpy(r.ifr_hwaddr.sa_data, n->mac, 6);
        if (ioctl(ctl, SIOCSIFHWADDR, &r) < 0) {
            say(err, len, "%s: cannot set its MAC: %s", n->ifname, strerror(errno));
            return -1;
        }
    }
    r.ifr_mtu = (int)n->mtu;
    if (ioctl(ctl, SIOCSIFMTU, &r) < 0) {
        say(err, len, "%s: cannot set MTU %u: %s", n->ifname, n->mtu, strerror(errno));
        return -1;
    }
    set_sin(&r.ifr_addr, n->host);
    int bad = ioctl(ctl, SIOCSIFADDR, &r) < 0;
    set_sin(&r.ifr_netmask, n->prefix ? 0xffffffffu << (32 - n->prefix) : 0);
    if (bad || ioctl(ctl, SIOCSIFNETMASK, &r) < 0) {
        say(err, len, "%s: cannot set its address: %s", n->ifname, strerror(errno));
        return -1;
    }
    if (if_up(ctl, n->ifname) < 0 || if_up(ctl, "lo") < 0) {
        say(err, len, "cannot bring %s and lo up: %s", n->ifname, strerror(errno));
        return -1;
    }
    struct rtentry rt;
    memset(&rt, 0, sizeof rt);
    set_sin(&rt.rt_dst, 0);
    set_sin(&rt.rt_genmask, 0);
    set_sin(&rt.rt_gateway, n->gw);
    rt.rt_flags = RTF_UP | RTF_GATEWAY;
    rt.rt_dev = (char *)n->ifname;
    if (ioctl(ctl, SIOCADDRT, &rt) < 0) {
        say(err, len, "cannot add the default route: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* The namespace kernel's MAC on the TAP. */
static int read_mac(int ctl, const netns_net *n, uint8_t mac[6], char *err, size_t len)
{
    struct ifreq r;
    memset(&r, 0, sizeof r);
    snprintf(r.ifr_name, sizeof r.ifr_name, "%s", n->ifname);
    if (ioctl(ctl, SIOCGIFHWADDR, &r) < 0) {
        say(err, len, "%s: cannot read its MAC: %s", n->ifname, strerror(errno));
        return -1;
    }
    memcpy(mac, r.ifr_hwaddr.sa_data, 6);
    return 0;
}

/* The kernel's in6_ifreq (linux/ipv6.h, which clashes with netinet/in.h). */
struct ifreq6 {
    struct in6_addr addr;
    uint32_t prefixlen;
    int ifindex;
};

/* IPv6 on the TAP: host6/64 without Duplicate Address Detection (nobody
 * else is on this link, and DAD would hold the address back a second) and
 * a default route via gw6, synack. */
static int configure6(const netns_net *n, char *err, size_t len)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/accept_dad", n->ifname);
    int ctl = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int ifindex = (int)if_nametoindex(n->ifname);
    if (ctl < 0 || !ifindex || write_file(path, "0") < 0) {
        say(err, len, "%s: IPv6 is not available in the namespace: %s", n->ifname,
            strerror(errno));
        if (ctl >= 0)
            close(ctl);
        return -1;
    }
    struct ifreq6 a = {.prefixlen = 64, .ifindex = ifindex};
    memcpy(&a.addr, n->host6, 16);
    struct in6_rtmsg rt;
    memset(&rt, 0, sizeof rt);
    memcpy(&rt.rtmsg_gateway, n->gw6, 16);
    rt.rtmsg_flags = RTF_UP | RTF_GATEWAY;
    rt.rtmsg_metric = 1;
    rt.rtmsg_ifindex = ifindex;
    if (ioctl(ctl, SIOCSIFADDR, &a) < 0 || ioctl(ctl, SIOCADDRT, &rt) < 0) {
        say(err, len, "%s: cannot set its IPv6 address and route: %s", n->ifname,
            strerror(errno));
        close(ctl);
        return -1;
    }
    close(ctl);
    return 0;
}

/* The namespace's kernel may hand us segments with the checksum left
 * partial and up to 64 KiB long, each behind a virtio_net_hdr, and takes
 * ours the same way (dev.h, DEV_OFFLOAD): neither side computes a checksum
 * of bytes that never leave this machine's memory. 0, or -1. */
static int tap_offloads(int fd, const netns_net *n, char *err, size_t len)
{
    int sz = (int)sizeof(struct virtio_net_hdr);
    if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0 ||
        ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)) < 0) {
        say(err, len, "%s: cannot turn on the TAP's offloads: %s", n->ifname, strerror(errno));
        return -1;
    }
    return 0;
}

/* One queue of the TAP (the first creates it). Its fd, or -1. */
static int tap_queue(const netns_net *n, char *err, size_t len)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        say(err, len, "cannot open /dev/net/tun: %s%s", strerror(errno),
            errno == EACCES ? " (a TAP needs read-write access to it)" : "");
        return -1;
    }
    struct ifreq r;
    memset(&r, 0, sizeof r);
    snprintf(r.ifr_name, sizeof r.ifr_name, "%s", n->ifname);
    r.ifr_flags = (short)(IFF_TAP | IFF_NO_PI | (n->offload ? IFF_VNET_HDR : 0) |
                          (n->queues > 1 ? IFF_MULTI_QUEUE : 0));
    if (ioctl(fd, TUNSETIFF, &r) < 0) {
        say(err, len, "cannot create TAP interface %s in the namespace: %s", n->ifname,
            strerror(errno));
        close(fd);
        return -1;
    }
    if (n->offload && tap_offloads(fd, n, err, len) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void close_all(int fd[NETNS_MAX_QUEUES])
{
    for (unsigned i = 0; i < NETNS_MAX_QUEUES; i++) {
        if (fd[i] >= 0)
            close(fd[i]);
        fd[i] = -1;
    }
}

/* Create the TAP in the current namespace (or open the one that is there
 * by that name), and configure it unless told not to: fd[i] for each
 * queue. 0, or -1 (none open). */
static int tap_setup(const netns_net *n, int fd[NETNS_MAX_QUEUES], uint8_t mac[6], char *err,
                     size_t len)
{
    for (unsigned i = 0; i < NETNS_MAX_QUEUES; i++)
        fd[i] = -1;
    for (unsigned i = 0; i < n->queues; i++) {
        if ((fd[i] = tap_queue(n, err, len)) < 0) {
            close_all(fd);
            return -1;
        }
    }
    int ctl = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (ctl < 0 || (n->configure && configure(ctl, n, err, len) < 0) ||
        (n->configure && n->ipv6 && configure6(n, err, len) < 0) ||
        read_mac(ctl, n, mac, err, len) < 0) {
        if (ctl < 0)
            say(err, len, "socket: %s", strerror(errno));
        else
            close(ctl);
        close_all(fd);
        return -1;
    }
    close(ctl);
    return 0;
}

/* Send the message, with the TAP's fds (the first `n`; 0: none). */
static int send_msg(int sock, const child_msg *m, const int *fd, unsigned n)
{
    struct iovec iov = {.iov_base = (void *)m, .iov_len = sizeof *m};
    union {
        char buf[CMSG_SPACE(sizeof(int) * NETNS_MAX_QUEUES)];
        struct cmsghdr align;
    } u;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (n) {
        mh.msg_control = u.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * n);
        memcpy(CMSG_DATA(c), fd, sizeof(int) * n);
    }
    return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof *m ? 0 : -1;
}

/* The child's message and fds, one per queue. 0, or -1 with the reason in
 * err (none kept). */
static int recv_msg(int sock, const netns_net *net, netns_tap *t, char *err, size_t len)
{
    child_msg m;
    memset(&m, 0, sizeof m);
    struct iovec iov = {.iov_base = &m, .iov_len = sizeof m};
    union {
        char buf[CMSG_SPACE(sizeof(int) * NETNS_MAX_QUEUES)];
        struct cmsghdr align;
    } u;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf};
    ssize_t n;
    while ((n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
        ;
    unsigned got = 0;
    struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        got = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        got = got > NETNS_MAX_QUEUES ? NETNS_MAX_QUEUES : got;
        memcpy(t->fd, CMSG_DATA(c), sizeof(int) * got);
    }
    if (n != (ssize_t)sizeof m || !m.ok || got != net->queues) {
        say(err, len, "%s", n == (ssize_t)sizeof m && !m.ok ? m.err
                            : "the namespace's helper process died before handing over the TAP");
        close_all(t->fd);
        return -1;
    }
    memcpy(t->mac, m.mac, 6);
    t->tcp_cc_set = m.cc_set;
    return 0;
}

/* In the child, in the namespace: its default congestion control, for the
 * sockets its programs make from now on. Refused (the names the kernel
 * refuses were checked at start: what is left is a read-only /proc/sys and
 * the like) it is an error only when strict. 0 (*set: 1 when it is set), or
 * -1 with the reason. */
static int set_tcp_cc(const netns_net *n, int *set, char *err, size_t len)
{
    static const char path[] = "/proc/sys/net/ipv4/tcp_congestion_control";
    *set = n->tcp_cc && write_file(path, n->tcp_cc) == 0;
    if (!n->tcp_cc || *set || !n->tcp_cc_strict)
        return 0;
    say(err, len, "--ns-cc %s: %s: %s", n->tcp_cc, path, strerror(errno));
    return -1;
}

/* In the child: set the TAP up and send it, or send why not. 0 or -1. */
static int hand_over(int sock, const netns_net *n)
{
    child_msg m;
    memset(&m, 0, sizeof m);
    int fd[NETNS_MAX_QUEUES];
    for (unsigned i = 0; i < NETNS_MAX_QUEUES; i++)
        fd[i] = -1;
    /* the TAP first: a start that fails leaves a joined namespace's
     * default as it was */
    m.ok = tap_setup(n, fd, m.mac, m.err, sizeof m.err) == 0 &&
           set_tcp_cc(n, &m.cc_set, m.err, sizeof m.err) == 0;
    int rc = send_msg(sock, &m, fd, m.ok ? n->queues : 0);
    close_all(fd); /* the parent holds them now */
    return m.ok && rc == 0 ? 0 : -1;
}

static void fail_child(int sock, const char *why)
{
    child_msg m;
    memset(&m, 0, sizeof m);
    snprintf(m.err, sizeof m.err, "%s", why);
    send_msg(sock, &m, NULL, 0);
    _exit(1);
}

static void spawn_child(const netns_net *n, char **argv, const sigset_t *mask, int sock,
                        pid_t parent)
{
    /* Without synack the namespace has no network: the command goes too. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(1);
    char err[240];
    if (enter_new_ns(err, sizeof err) < 0)
        fail_child(sock, err);
    if (hand_over(sock, n) < 0)
        _exit(1);
    char go;
    ssize_t r;
    while ((r = read(sock, &go, 1)) < 0 && errno == EINTR)
        ;
    if (r != 1)
        _exit(1); /* synack gave up (a port it could not listen on, ...) */
    close(sock);
    sigprocmask(SIG_SETMASK, mask, NULL);
    execvp(argv[0], argv);
    int e = errno;
    fprintf(stderr, "synack netns: %s: %s\n", argv[0], strerror(e));
    _exit(e == ENOENT ? 127 : 126); /* as a shell says it */
}

/* A child, and a socket pair to talk to it: sv[0] ours, sv[1] the
 * child's (each side's other end closed). The child's pid (0 in the
 * child), or -1 with the reason in `err`. */
static pid_t fork_talking(netns_tap *t, int sv[2], char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    for (unsigned i = 0; i < NETNS_MAX_QUEUES; i++)
        t->fd[i] = -1;
    t->go = -1;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        say(err, errlen, "socketpair: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        say(err, errlen, "fork: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    close(sv[pid == 0 ? 0 : 1]);
    return pid;
}

int netns_spawn(const netns_net *n, char **argv, const sigset_t *mask, netns_tap *t,
                char *err, size_t errlen)
{
    int sv[2];
    pid_t parent = getpid();
    pid_t pid = fork_talking(t, sv, err, errlen);
    if (pid < 0)
        return -1;
    if (pid == 0)
        spawn_child(n, argv, mask, sv[1], parent);
    if (recv_msg(sv[0], n, t, err, errlen) < 0) {
        close(sv[0]);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    t->pid = pid;
    t->go = sv[0];
    return 0;
}

int netns_go(netns_tap *t)
{
    ssize_t r = write(t->go, "g", 1);
    close(t->go);
    t->go = -1;
    return r == 1 ? 0 : -1;
}

static int same_file(int a, int b)
{
    struct stat sa, sb;
    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* In the child: enter user namespace `userns` when given, else, as
 * non-root, the network namespace's own user namespace when it has one. */
static int enter_userns(int nfd, const char *path, const char *userns, char *err, size_t len)
{
    int ufd = -1;
    if (userns) {
        if ((ufd = open(userns, O_RDONLY | O_CLOEXEC)) < 0) {
            say(err, len, "cannot open %s: %s", userns, strerror(errno));
            return -1;
        }
    } else if (geteuid() != 0) {
        ufd = ioctl(nfd, NS_GET_USERNS);
    }
    if (ufd < 0)
        return 0; /* root, or a namespace without a user namespace of its own */
    int self = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
    int rc = 0;
    if (self < 0 ? userns != NULL : !same_file(ufd, self) && setns(ufd, CLONE_NEWUSER) < 0) {
        say(err, len, "cannot enter the user namespace %s: %s", userns ? userns : path,
            strerror(errno));
        rc = -1;
    }
    close(ufd);
    if (self >= 0)
        close(self);
    return rc;
}

/* In the child: enter the namespace at `path` (or of process `pid`), its
 * user namespace first (enter_userns). 0, or -1 with the reason. */
static int enter_existing(pid_t pid, const char *path, const char *userns, char *err,
                          size_t len)
{
    char proc[64];
    if (!path) {
        snprintf(proc, sizeof proc, "/proc/%d/ns/net", (int)pid);
        path = proc;
    }
    int nfd = open(path, O_RDONLY | O_CLOEXEC);
    if (nfd < 0) {
        say(err, len, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    int own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (own >= 0 && same_file(nfd, own)) {
        /* a TAP, an address and a route here would change our own network */
        say(err, len, "%s is synack's own network namespace, not another one", path);
        return -1;
    }
    if (enter_userns(nfd, path, userns, err, len) < 0)
        return -1;
    if (setns(nfd, CLONE_NEWNET) < 0) {
        say(err, len, "cannot enter the network namespace %s: %s%s", path, strerror(errno),
            errno == EPERM ? " (run as root, or as the user that owns it)" : "");
        return -1;
    }
    close(nfd);
    return 0;
}

int netns_attach(const netns_net *n, pid_t pid, const char *path, const char *userns,
                 netns_tap *t, char *err, size_t errlen)
{
    int sv[2];
    pid_t child = fork_talking(t, sv, err, errlen);
    if (child < 0)
        return -1;
    if (child == 0) {
        char why[240];
        if (enter_existing(pid, path, userns, why, sizeof why) < 0)
            fail_child(sv[1], why);
        _exit(hand_over(sv[1], n) < 0 ? 1 : 0);
    }
    int rc = recv_msg(sv[0], n, t, err, errlen);
    close(sv[0]);
    waitpid(child, NULL, 0);
    return rc;
}
