/* lwip_peer.c — lwIP 2.1 (Debian's liblwip) as the comparison stack in the
 * TAP benchmarks: a server on a TAP interface, written against lwIP's raw
 * API and driven from one thread, like `synack serve`.
 *
 * Usage: lwip_peer IFNAME ADDR/PREFIX PORT APP [SECONDS]
 *   APP: discard | echo | greet | source=BYTES
 *   (same meanings as `synack serve --app`). Prints "listening" once ready;
 *   runs until SIGINT/SIGTERM or SECONDS (default 600).
 *
 * Debian's liblwip is built with its own lwipopts.h (NO_SYS=0, the GNU
 * Hurd's configuration) and that is compiled into the library, so we must
 * use its headers as they are. We never start the tcpip thread: lwip_init()
 * and then everything — input, timers, callbacks — runs in this thread, which
 * is how NO_SYS=1 programs drive lwIP (sys_check_timeouts in the loop). With
 * no tcpip thread, the library's core-locking check has nothing to check.
 *
 * The netif is our own: one frame per read()/write() on the TAP fd. Debian's
 * tapif driver is not used (its pbuf pool is smaller than a full frame and
 * corrupts the heap on frames above ~590 bytes). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/etharp.h"
#include "netif/ethernet.h"

enum app { APP_DISCARD, APP_ECHO, APP_GREET, APP_SOURCE };

static enum app app;
static unsigned long long source_bytes;
static int tap_fd = -1;
static volatile sig_atomic_t stop;
static unsigned long long frames_in, frames_out, write_fail;
static const char PATTERN[] = "0123456789";
static char pattern_buf[65536];

typedef struct conn {
    unsigned long long left; /* source: bytes still to queue */
} conn;

/* ---- the TAP netif ------------------------------------------------------ */

static err_t tap_linkoutput(struct netif *nif, struct pbuf *p)
{
    (void)nif;
    struct iovec iov[16];
    int n = 0;
    for (struct pbuf *q = p; q && n < 16; q = q->next) {
        iov[n].iov_base = q->payload;
        iov[n++].iov_len = q->len;
    }
    ssize_t r;
    do
        r = writev(tap_fd, iov, n);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        write_fail++;
        return ERR_IF;
    }
    frames_out++;
    return ERR_OK;
}

static err_t tap_netif_init(struct netif *nif)
{
    nif->name[0] = 't';
    nif->name[1] = 'p';
    nif->mtu = 1500;
    nif->hwaddr_len = 6;
    nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
                 NETIF_FLAG_LINK_UP;
    nif->output = etharp_output;
    nif->linkoutput = tap_linkoutput;
    return ERR_OK;
}

static int tap_open(const char *name)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct ifreq r;
    memset(&r, 0, sizeof r);
    snprintf(r.ifr_name, IFNAMSIZ, "%s", name);
    r.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (ioctl(fd, TUNSETIFF, &r) < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- the applications ---------------------------------------------------- */

static void conn_free(struct tcp_pcb *pcb, conn *c)
{
    if (pcb) {
        tcp_arg(pcb, NULL);
        tcp_recv(pcb, NULL);
        tcp_sent(pcb, NULL);
        tcp_err(pcb, NULL);
    }
    free(c);
}

static void close_conn(struct tcp_pcb *pcb, conn *c)
{
    conn_free(pcb, c);
    if (tcp_close(pcb) != ERR_OK)
        tcp_abort(pcb);
}

/* source: queue pattern bytes while the send buffer has room */
static void pump(struct tcp_pcb *pcb, conn *c)
{
    while (c->left > 0) {
        u16_t room = tcp_sndbuf(pcb);
        if (room == 0 || tcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN - 2)
            break;
        size_t off = (size_t)((source_bytes - c->left) % 10);
        size_t n = room;
        if (n > c->left)
            n = (size_t)c->left;
        if (n > sizeof pattern_buf - 16)
            n = sizeof pattern_buf - 16;
        u8_t fl = TCP_WRITE_FLAG_COPY | (n < c->left ? TCP_WRITE_FLAG_MORE : 0);
        if (tcp_write(pcb, pattern_buf + off, (u16_t)n, fl) != ERR_OK)
            break;
        c->left -= n;
    }
    tcp_output(pcb);
    if (c->left == 0)
        close_conn(pcb, c);
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)len;
    if (arg)
        pump(pcb, arg);
    return ERR_OK;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    conn *c = arg;
    (void)err;
    if (!p) { /* the peer closed its side */
        if (app == APP_SOURCE && c->left > 0)
            return ERR_OK; /* pump closes once everything is queued */
        close_conn(pcb, c);
        return ERR_OK;
    }
    if (app == APP_ECHO) {
        if (tcp_sndbuf(pcb) < p->tot_len || tcp_sndqueuelen(pcb) + pbuf_clen(p) + 2 > TCP_SND_QUEUELEN)
            return ERR_MEM; /* lwIP keeps the data and offers it again later */
        for (struct pbuf *q = p; q; q = q->next)
            tcp_write(pcb, q->payload, q->len, TCP_WRITE_FLAG_COPY);
        tcp_output(pcb);
    }
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
    (void)err;
    free(arg); /* the pcb is already gone */
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    conn *c = calloc(1, sizeof *c);
    if (!c) {
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    tcp_arg(pcb, c);
    tcp_err(pcb, on_err);
    tcp_recv(pcb, on_recv);
    switch (app) {
    case APP_GREET:
        tcp_write(pcb, "hello\n", 6, TCP_WRITE_FLAG_COPY);
        close_conn(pcb, c);
        break;
    case APP_SOURCE:
        c->left = source_bytes;
        tcp_sent(pcb, on_sent);
        pump(pcb, c);
        break;
    default:
        break;
    }
    return ERR_OK;
}

/* ---- main loop ----------------------------------------------------------- */

static void on_signal(int s) { stop = s; }

static double mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: lwip_peer IFNAME ADDR/PREFIX PORT discard|echo|greet|source=BYTES [SECONDS]\n");
        return 2;
    }
    char addr[32];
    snprintf(addr, sizeof addr, "%s", argv[2]);
    char *slash = strchr(addr, '/');
    int prefix = 24;
    if (slash) {
        *slash = '\0';
        prefix = atoi(slash + 1);
    }
    struct in_addr ia;
    if (inet_pton(AF_INET, addr, &ia) != 1 || prefix < 1 || prefix > 30) {
        fprintf(stderr, "lwip_peer: bad address %s\n", argv[2]);
        return 2;
    }
    int port = atoi(argv[3]);
    const char *a = argv[4];
    if (!strcmp(a, "discard"))
        app = APP_DISCARD;
    else if (!strcmp(a, "echo"))
        app = APP_ECHO;
    else if (!strcmp(a, "greet"))
        app = APP_GREET;
    else if (!strncmp(a, "source=", 7)) {
        app = APP_SOURCE;
        source_bytes = strtoull(a + 7, NULL, 10);
    } else {
        fprintf(stderr, "lwip_peer: unknown app %s\n", a);
        return 2;
    }
    double end = mono() + (argc > 5 ? atof(argv[5]) : 600.0);
    for (size_t i = 0; i < sizeof pattern_buf; i++)
        pattern_buf[i] = PATTERN[i % 10];

    tap_fd = tap_open(argv[1]);
    if (tap_fd < 0) {
        fprintf(stderr, "lwip_peer: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    lwip_init();
    uint32_t ip = ntohl(ia.s_addr);
    uint32_t mask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
    ip4_addr_t ipaddr, netmask, gw;
    IP4_ADDR(&ipaddr, ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
    IP4_ADDR(&netmask, mask >> 24, (mask >> 16) & 255, (mask >> 8) & 255, mask & 255);
    ip4_addr_set_zero(&gw);
    static struct netif nif;
    if (!netif_add(&nif, &ipaddr, &netmask, &gw, NULL, tap_netif_init, ethernet_input)) {
        fprintf(stderr, "lwip_peer: netif_add failed\n");
        return 1;
    }
    /* MAC 02:00 + the address, like synack serve's default */
    u8_t mac[6] = {0x02, 0x00, (u8_t)(ip >> 24), (u8_t)(ip >> 16), (u8_t)(ip >> 8), (u8_t)ip};
    memcpy(nif.hwaddr, mac, 6);
    netif_set_default(&nif);
    netif_set_up(&nif); /* sends a gratuitous ARP */

    struct tcp_pcb *l = tcp_new();
    if (!l || tcp_bind(l, IP4_ADDR_ANY, (u16_t)port) != ERR_OK) {
        fprintf(stderr, "lwip_peer: cannot bind port %d\n", port);
        return 1;
    }
    l = tcp_listen_with_backlog(l, 255);
    tcp_accept(l, on_accept);
    printf("listening on %s port %d (%s)\n", argv[2], port, a);
    fflush(stdout);

    static u8_t buf[65536];
    while (!stop && mono() < end) {
        u32_t wait = sys_timeouts_sleeptime();
        struct pollfd pf = {.fd = tap_fd, .events = POLLIN};
        int to = wait == SYS_TIMEOUTS_SLEEPTIME_INFINITE || wait > 100 ? 100 : (int)wait;
        int n = poll(&pf, 1, to);
        if (n > 0) {
            for (int i = 0; i < 64; i++) {
                ssize_t len = read(tap_fd, buf, sizeof buf);
                if (len <= 0)
                    break;
                frames_in++;
                struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
                if (!p)
                    continue;
                pbuf_take(p, buf, (u16_t)len);
                if (nif.input(p, &nif) != ERR_OK)
                    pbuf_free(p);
            }
        }
        sys_check_timeouts();
    }
    fprintf(stderr, "lwip_peer: %llu frames in, %llu out, %llu writes failed\n", frames_in,
            frames_out, write_fail);
    close(tap_fd);
    return 0;
}
