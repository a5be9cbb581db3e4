/* netns_api.c — the API socket's server and the forwards it keeps (see
 * netns_api.h); the requests are read by netns_api_req.c. Clients and
 * forwards live in fixed slots: nothing here is freed while the loop may
 * still hold an event for it. */
#define _GNU_SOURCE
#include "netns_api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fmt.h"
#include "netns_api_req.h"
#include "netns_fwd.h"
#include "netns_fwd_udp.h"
#include "watch.h"

typedef struct api_fwd {
    long id;             /* 0: a free slot                                   */
    int removed;         /* remove_hostfwd took it: closed at the next sweep */
    fwd_spec spec;       /* spec.text points at text                         */
    char text[64];
    uint32_t host, guest;
    fwd *tcp;
    ufwd *udp;
} api_fwd;

/* A client's slot: embedded, so that an event still queued in the loop's
 * batch for a client dropped meanwhile finds the slot (fd -1), not freed
 * memory. */
typedef struct api_client {
    watch w; /* first: epoll's data.ptr */
    netns_api *a;
    int fd;              /* -1: a free slot                                  */
    uint64_t seq;        /* its accept's number: the smallest goes first     */
    uint64_t since;      /* when it connected (api_sweep's clock)            */
    size_t len;
    char buf[API_REQ_MAX];
} api_client;

struct netns_api {
    watch w;
    int fd;
    int paused;          /* out of descriptors: the listener waits a sweep   */
    struct sockaddr_un addr;
    api_env env;
    api_client clients[API_MAX_CLIENTS];
    uint64_t accepted;
    uint64_t now;        /* the last sweep's time                            */
    uint64_t idle_swept; /* when idle clients were last looked for           */
    unsigned nremoved;   /* forwards removed and not closed yet              */
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

/* Make the answer {"error": {"desc": "why"}} (whatever was put before),
 * quotes and backslashes in `why` escaped. */
static void answer_error(answer *o, const char *fmt, ...)
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

/* The request's arguments, checked: 0, or -1 with the answer an error. */
static int add_args(const netns_api *a, const api_req *r, uint32_t *hip, uint32_t *guest,
                    answer *o)
{
    const char *why = NULL;
    *hip = 0;
    *guest = a->env.guest;
    if (strcmp(r->proto, "tcp") && strcmp(r->proto, "udp"))
        why = "\"proto\" must be \"tcp\" or \"udp\"";
    else if (r->host_addr[0] && synack_ip_parse(r->host_addr, hip) < 0)
        why = "\"host_addr\" is not an IPv4 address";
    else if (r->guest_addr[0] &&
             (synack_ip_parse(r->guest_addr, guest) < 0 || !guest_ok(&a->env, *guest)))
        why = "\"guest_addr\" is not an address of the namespace's network";
    else if (r->host_port < 1 || r->host_port > 65535 || r->guest_port < 1 || r->guest_port > 65535)
        why = "\"host_port\" and \"guest_port\" must be 1 to 65535";
    if (why)
        answer_error(o, "add_hostfwd: %s", why);
    return why ? -1 : 0;
}

static api_fwd *free_fwd(netns_api *a)
{
    for (size_t i = 0; i < API_MAX_FWDS; i++)
        if (!a->fwds[i].id && !a->fwds[i].removed)
            return &a->fwds[i];
    return NULL;
}

static void add_hostfwd(netns_api *a, const api_req *r, answer *o)
{
    uint32_t hip, guest;
    if (add_args(a, r, &hip, &guest, o) < 0)
        return;
    api_fwd *f = free_fwd(a);
    if (!f) {
        answer_error(o, "add_hostfwd: %d forwards already", API_MAX_FWDS);
        return;
    }
    int udp = !strcmp(r->proto, "udp");
    char h[16], err[200];
    snprintf(f->text, sizeof f->text, "%s:%ld:%ld/%s", fmt_ip(hip, h), r->host_port,
             r->guest_port, r->proto);
    f->spec = (fwd_spec){.host = synack_addr_v4(hip), .host_port = (uint16_t)r->host_port,
                         .ns_port = (uint16_t)r->guest_port, .udp = udp, .text = f->text};
    f->host = hip;
    f->guest = guest;
    fwd_ns ns = {.ip = guest, .prefix = a->env.prefix, .gw = a->env.gw};
    if (udp)
        f->udp = ufwd_open(&f->spec, a->env.epfd, a->env.s, &ns, a->env.udp_fwd, err, sizeof err);
    else
        f->tcp = fwd_open(&f->spec, a->env.epfd, a->env.s, &ns, a->env.rc, err, sizeof err);
    if (!f->udp && !f->tcp) {
        answer_error(o, "add_hostfwd: %s", err);
        return;
    }
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

/* The forward stops answering now; its listener closes at the next sweep,
 * since an event for it may still wait in the loop's batch. */
static void remove_hostfwd(netns_api *a, const api_req *r, answer *o)
{
    for (size_t i = 0; i < API_MAX_FWDS; i++) {
        if (r->id > 0 && a->fwds[i].id == r->id) {
            a->fwds[i].id = 0;
            a->fwds[i].removed = 1;
            a->nremoved++;
            put(o, "{\"return\": {}}");
            return;
        }
    }
    answer_error(o, "remove_hostfwd: no forward with \"id\" %ld", r->id);
}

static void close_fwd(api_fwd *f)
{
    fwd_close(f->tcp);
    ufwd_close(f->udp);
    memset(f, 0, sizeof *f);
}

static void drop_client(api_client *cl)
{
    if (cl->fd < 0)
        return;
    close(cl->fd); /* leaves the epoll set with it */
    cl->fd = -1;
}

static void answer_request(netns_api *a, const api_client *cl, int too_large, answer *o)
{
    api_req r;
    const char *why;
    if (too_large)
        answer_error(o, "the request is larger than %d bytes", API_REQ_MAX - 1);
    else if (api_req_parse(cl->buf, cl->len, &r, &why) < 0)
        answer_error(o, "bad request: %s", why);
    else if (!strcmp(r.execute, "add_hostfwd"))
        add_hostfwd(a, &r, o);
    else if (!strcmp(r.execute, "list_hostfwd"))
        list_hostfwd(a, o);
    else if (!strcmp(r.execute, "remove_hostfwd"))
        remove_hostfwd(a, &r, o);
    else
        answer_error(o, "bad request: unknown \"execute\"");
    put(o, "\n");
}

/* The whole request is in: answer it and let the client go. The socket's
 * buffer was made to hold any answer (api_accept), so one send takes it. */
static void answer_client(netns_api *a, api_client *cl, int too_large)
{
    static answer o; /* one at a time: the loop is single-threaded */
    o.len = 0;
    answer_request(a, cl, too_large, &o);
    ssize_t n = send(cl->fd, o.buf, o.len, MSG_NOSIGNAL);
    (void)n; /* a client that went away gets nothing */
    drop_client(cl);
}

static void on_client(watch *w, uint32_t events)
{
    (void)events;
    api_client *cl = (api_client *)w;
    while (cl->fd >= 0) {
        ssize_t n = read(cl->fd, cl->buf + cl->len, sizeof cl->buf - cl->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return; /* the rest is still on its way */
        if (n < 0) {
            drop_client(cl);
            return;
        }
        cl->len += (size_t)n;
        if (n == 0 || cl->len == sizeof cl->buf) {
            answer_client(cl->a, cl, n > 0); /* EOF, or a request too large */
            return;
        }
    }
}

/* A free slot, or the one taken by the client that connected first. */
static api_client *client_slot(netns_api *a)
{
    api_client *oldest = &a->clients[0];
    for (unsigned i = 0; i < API_MAX_CLIENTS; i++) {
        if (a->clients[i].fd < 0)
            return &a->clients[i];
        if (a->clients[i].seq < oldest->seq)
            oldest = &a->clients[i];
    }
    drop_client(oldest);
    return oldest;
}

static void take_client(netns_api *a, int fd)
{
    int sndbuf = (int)sizeof(answer);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    api_client *cl = client_slot(a);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = cl};
    if (epoll_ctl(a->env.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        close(fd);
        return;
    }
    cl->fd = fd;
    cl->seq = ++a->accepted;
    cl->since = a->now;
    cl->len = 0;
}

static void on_accept(watch *w, uint32_t events)
{
    (void)events;
    netns_api *a = (netns_api *)w;
    int fd;
    while ((fd = accept4(a->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
        take_client(a, fd);
    if ((errno == EMFILE || errno == ENFILE) && epoll_ctl(a->env.epfd, EPOLL_CTL_DEL, a->fd, NULL) == 0)
        a->paused = 1; /* else the listener stays readable and the loop spins */
}

/* An API socket file left by a run that was killed: a socket nobody
 * listens on. Only such a file is removed, never another kind. */
static int stale_socket(const struct sockaddr_un *addr)
{
    struct stat st;
    if (lstat(addr->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
        return 0;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int refused = fd >= 0 && connect(fd, (const struct sockaddr *)addr, sizeof *addr) < 0 &&
                  errno == ECONNREFUSED;
    if (fd >= 0)
        close(fd);
    return refused;
}

static int bind_listen(netns_api *a)
{
    a->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (a->fd < 0)
        return -1;
    int rc = bind(a->fd, (struct sockaddr *)&a->addr, sizeof a->addr);
    if (rc < 0 && errno == EADDRINUSE && stale_socket(&a->addr) && unlink(a->addr.sun_path) == 0)
        rc = bind(a->fd, (struct sockaddr *)&a->addr, sizeof a->addr);
    return rc;
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
    for (unsigned i = 0; i < API_MAX_CLIENTS; i++)
        a->clients[i] = (api_client){.w.fn = on_client, .a = a, .fd = -1};
    a->addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof a->addr.sun_path) {
        snprintf(err, errlen, "--api-socket %s: the path is too long", path);
        free(a);
        return NULL;
    }
    strcpy(a->addr.sun_path, path);
    if (bind_listen(a) < 0) {
        snprintf(err, errlen, "--api-socket %s: %s", path, strerror(errno));
        a->addr.sun_path[0] = '\0'; /* not ours to remove */
        api_close(a);
        return NULL;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &a->w};
    if (listen(a->fd, 16) < 0 || epoll_ctl(env->epfd, EPOLL_CTL_ADD, a->fd, &ev) < 0) {
        snprintf(err, errlen, "--api-socket %s: %s", path, strerror(errno));
        api_close(a);
        return NULL;
    }
    return a;
}

/* A removed forward closes at the first sweep, so that its port can be
 * added again by the next request; idle clients time out in seconds, and
 * looking for them on every pass of a busy loop would be waste. */
void api_sweep(netns_api *a, uint64_t now)
{
    if (!a)
        return;
    a->now = now;
    for (size_t i = 0; a->nremoved && i < API_MAX_FWDS; i++) {
        if (a->fwds[i].removed) {
            close_fwd(&a->fwds[i]);
            a->nremoved--;
        }
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &a->w};
    if (a->paused && epoll_ctl(a->env.epfd, EPOLL_CTL_ADD, a->fd, &ev) == 0)
        a->paused = 0;
    if (now - a->idle_swept < UFWD_SWEEP_NS)
        return;
    a->idle_swept = now;
    for (size_t i = 0; i < API_MAX_FWDS; i++)
        if (a->fwds[i].udp)
            ufwd_sweep(a->fwds[i].udp, now);
    for (unsigned i = 0; i < API_MAX_CLIENTS; i++)
        if (a->clients[i].fd >= 0 && now - a->clients[i].since > API_CLIENT_TIMEOUT_NS)
            drop_client(&a->clients[i]);
}

void api_close(netns_api *a)
{
    if (!a)
        return;
    for (unsigned i = 0; i < API_MAX_CLIENTS; i++)
        drop_client(&a->clients[i]);
    for (size_t i = 0; i < API_MAX_FWDS; i++)
        close_fwd(&a->fwds[i]);
    if (a->fd >= 0)
        close(a->fd);
    if (a->addr.sun_path[0])
        unlink(a->addr.sun_path);
    free(a);
}
