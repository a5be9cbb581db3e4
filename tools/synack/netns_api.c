/* netns_api.c — the API socket's server and the forwards it keeps (see
 * netns_api.h); the requests are read by netns_api_req.c. */
#define _GNU_SOURCE
#include "netns_api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fmt.h"
#include "netns_api_req.h"
#include "netns_fwd.h"
#include "netns_fwd_udp.h"
#include "watch.h"

typedef struct api_fwd {
    long id;             /* 0: a free slot                                   */
    fwd_spec spec;       /* spec.text points at text                         */
    char text[64];
    uint32_t host, guest;
    fwd *tcp;
    ufwd *udp;
} api_fwd;

typedef struct api_client {
    watch w; /* first: epoll's data.ptr */
    netns_api *a;
    int fd;
    size_t len;
    char buf[API_REQ_MAX];
} api_client;

struct netns_api {
    watch w;
    int fd;
    struct sockaddr_un addr;
    api_env env;
    api_client *clients[API_MAX_CLIENTS];
    unsigned evict;      /* the slot a new client takes when all are busy */
    api_fwd fwds[API_MAX_FWDS];
    long next_id;
};

/* An answer being written: {"return": ...} or {"error": {"desc": ...}}. */
typedef struct answer {
    char buf[2 * API_MAX_FWDS * 160 + 64]; /* list_hostfwd: the entries twice */
    size_t len;
} answer;

static void put(answer *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = sizeof o->buf - o->len;
    int n = vsnprintf(o->buf + o->len, room, fmt, ap);
    va_end(ap);
    o->len += n < 0 ? 0 : (size_t)n < room ? (size_t)n : room - 1;
}

/* {"error": {"desc": "why"}}, quotes and backslashes in `why` escaped. */
static void put_error(answer *o, const char *fmt, ...)
{
    char why[256], esc[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    size_t n = 0;
    for (const char *p = why; *p && n + 2 < sizeof esc; p++) {
        if (*p == '"' || *p == '\\')
            esc[n++] = '\\';
        esc[n++] = (unsigned char)*p < 0x20 ? ' ' : *p;
    }
    esc[n] = '\0';
    o->len = 0;
    put(o, "{\"error\": {\"desc\": \"%s\"}}", esc);
}

static void put_entry(answer *o, const api_fwd *f)
{
    char h[16], g[16];
    put(o, "{\"id\": %ld, \"proto\": \"%s\", \"host_addr\": \"%s\", \"host_port\": %u, "
           "\"guest_addr\": \"%s\", \"guest_port\": %u}",
        f->id, f->spec.udp ? "udp" : "tcp", fmt_ip(f->host, h), f->spec.host_port,
        fmt_ip(f->guest, g), f->spec.ns_port);
}

/* A guest address the namespace's network holds that is not the network,
 * its broadcast, the gateway (.2) or the resolver (.3). */
static int guest_ok(const api_env *e, uint32_t ip)
{
    uint32_t mask = 0xffffffffu << (32 - e->prefix);
    uint32_t host = ip & ~mask;
    return (ip & mask) == e->net && host != 0 && host != ~mask && host != 2 && host != 3;
}

static void add_hostfwd(netns_api *a, const api_req *r, answer *o)
{
    uint32_t hip = 0, guest = a->env.guest;
    int udp = !strcmp(r->proto, "udp");
    if (!udp && strcmp(r->proto, "tcp"))
        return put_error(o, "add_hostfwd: \"proto\" must be \"tcp\" or \"udp\"");
    if (r->host_addr[0] && synack_ip_parse(r->host_addr, &hip) < 0)
        return put_error(o, "add_hostfwd: \"host_addr\" is not an IPv4 address");
    if (r->guest_addr[0] && (synack_ip_parse(r->guest_addr, &guest) < 0 || !guest_ok(&a->env, guest)))
        return put_error(o, "add_hostfwd: \"guest_addr\" is not an address of the namespace's network");
    if (r->host_port < 1 || r->host_port > 65535 || r->guest_port < 1 || r->guest_port > 65535)
        return put_error(o, "add_hostfwd: \"host_port\" and \"guest_port\" must be 1 to 65535");
    api_fwd *f = NULL;
    for (size_t i = 0; i < API_MAX_FWDS && !f; i++)
        f = a->fwds[i].id ? NULL : &a->fwds[i];
    if (!f)
        return put_error(o, "add_hostfwd: %d forwards already", API_MAX_FWDS);
    char h[16];
    snprintf(f->text, sizeof f->text, "%s:%ld:%ld/%s", fmt_ip(hip, h), r->host_port,
             r->guest_port, udp ? "udp" : "tcp");
    f->spec = (fwd_spec){.host = synack_addr_v4(hip), .host_port = (uint16_t)r->host_port,
                         .ns_port = (uint16_t)r->guest_port, .udp = udp, .text = f->text};
    f->host = hip;
    f->guest = guest;
    fwd_ns ns = {.ip = guest};
    char err[200];
    if (udp)
        f->udp = ufwd_open(&f->spec, a->env.epfd, a->env.s, &ns, err, sizeof err);
    else
        f->tcp = fwd_open(&f->spec, a->env.epfd, a->env.s, &ns, a->env.rc, err, sizeof err);
    if (!f->udp && !f->tcp)
        return put_error(o, "add_hostfwd: %s", err);
    f->id = ++a->next_id;
    put(o, "{\"return\": {\"id\": %ld}}", f->id);
}

static void put_entries(netns_api *a, answer *o)
{
    put(o, "\"entries\": [");
    int first = 1;
    for (size_t i = 0; i < API_MAX_FWDS; i++) {
        if (!a->fwds[i].id)
            continue;
        put(o, first ? "" : ", ");
        put_entry(o, &a->fwds[i]);
        first = 0;
    }
    put(o, "]");
}

/* slirp4netns's manual puts the list in "return"; slirp4netns 1.2 itself
 * answers with "entries" at the top. Both are there, for clients written
 * against either. */
static void list_hostfwd(netns_api *a, answer *o)
{
    put(o, "{\"return\": {");
    put_entries(a, o);
    put(o, "}, ");
    put_entries(a, o);
    put(o, "}");
}

static void drop_fwd(api_fwd *f)
{
    fwd_close(f->tcp);
    ufwd_close(f->udp);
    memset(f, 0, sizeof *f);
}

static void remove_hostfwd(netns_api *a, const api_req *r, answer *o)
{
    for (size_t i = 0; i < API_MAX_FWDS; i++) {
        if (r->id > 0 && a->fwds[i].id == r->id) {
            drop_fwd(&a->fwds[i]);
            return put(o, "{\"return\": {}}");
        }
    }
    put_error(o, "remove_hostfwd: no forward with \"id\" %ld", r->id);
}

static void drop_client(netns_api *a, unsigned slot)
{
    api_client *cl = a->clients[slot];
    if (!cl)
        return;
    close(cl->fd); /* leaves the epoll set with it */
    free(cl);
    a->clients[slot] = NULL;
}

/* The whole request is in: answer it and let the client go. */
static void answer_client(netns_api *a, unsigned slot, int too_large)
{
    api_client *cl = a->clients[slot];
    static answer o; /* one at a time: the loop is single-threaded */
    o.len = 0;
    api_req r;
    const char *why;
    if (too_large)
        put_error(&o, "the request is larger than %d bytes", API_REQ_MAX - 1);
    else if (api_req_parse(cl->buf, cl->len, &r, &why) < 0)
        put_error(&o, "bad request: %s", why);
    else if (!strcmp(r.execute, "add_hostfwd"))
        add_hostfwd(a, &r, &o);
    else if (!strcmp(r.execute, "list_hostfwd"))
        list_hostfwd(a, &o);
    else if (!strcmp(r.execute, "remove_hostfwd"))
        remove_hostfwd(a, &r, &o);
    else
        put_error(&o, "bad request: unknown \"execute\"");
    put(&o, "\n");
    ssize_t n = write(cl->fd, o.buf, o.len); /* small: the socket takes it whole */
    (void)n;
    drop_client(a, slot);
}

static void on_client(watch *w, uint32_t events)
{
    (void)events;
    api_client *cl = (api_client *)w;
    netns_api *a = cl->a;
    unsigned slot = 0;
    while (a->clients[slot] != cl)
        slot++;
    for (;;) {
        ssize_t n = read(cl->fd, cl->buf + cl->len, sizeof cl->buf - cl->len);
        if (n > 0 && (cl->len += (size_t)n) < sizeof cl->buf)
            continue;
        if (n > 0 || n == 0)
            return answer_client(a, slot, n > 0);
        if (errno != EAGAIN && errno != EINTR)
            drop_client(a, slot);
        if (errno != EINTR)
            return;
    }
}

static void on_accept(watch *w, uint32_t events)
{
    (void)events;
    netns_api *a = (netns_api *)w;
    int fd;
    while ((fd = accept4(a->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        unsigned slot = 0;
        while (slot < API_MAX_CLIENTS && a->clients[slot])
            slot++;
        if (slot == API_MAX_CLIENTS) { /* all busy: the one longest in a slot goes */
            slot = a->evict++ % API_MAX_CLIENTS;
            drop_client(a, slot);
        }
        api_client *cl = malloc(sizeof *cl);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = cl};
        if (!cl || epoll_ctl(a->env.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            free(cl);
            close(fd);
            continue;
        }
        cl->w.fn = on_client;
        cl->a = a;
        cl->fd = fd;
        cl->len = 0;
        a->clients[slot] = cl;
    }
}

netns_api *api_open(const char *path, const api_env *env, char *err, size_t errlen)
{
    netns_api *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->w.fn = on_accept;
    a->env = *env;
    a->addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof a->addr.sun_path) {
        snprintf(err, errlen, "--api-socket %s: the path is too long", path);
        free(a);
        return NULL;
    }
    strcpy(a->addr.sun_path, path);
    a->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &a->w};
    if (a->fd < 0 || bind(a->fd, (struct sockaddr *)&a->addr, sizeof a->addr) < 0) {
        snprintf(err, errlen, "--api-socket %s: %s", path, strerror(errno));
        a->addr.sun_path[0] = '\0'; /* not ours to remove */
        api_close(a);
        return NULL;
    }
    if (listen(a->fd, 16) < 0 || epoll_ctl(env->epfd, EPOLL_CTL_ADD, a->fd, &ev) < 0) {
        snprintf(err, errlen, "--api-socket %s: %s", path, strerror(errno));
        api_close(a);
        return NULL;
    }
    return a;
}

void api_sweep(netns_api *a, uint64_t now)
{
    for (size_t i = 0; a && i < API_MAX_FWDS; i++)
        if (a->fwds[i].udp)
            ufwd_sweep(a->fwds[i].udp, now);
}

void api_close(netns_api *a)
{
    if (!a)
        return;
    for (unsigned i = 0; i < API_MAX_CLIENTS; i++)
        drop_client(a, i);
    for (size_t i = 0; i < API_MAX_FWDS; i++)
        drop_fwd(&a->fwds[i]);
    if (a->fd >= 0)
        close(a->fd);
    if (a->addr.sun_path[0])
        unlink(a->addr.sun_path);
    free(a);
}
