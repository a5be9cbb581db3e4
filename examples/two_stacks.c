/*
 * two_stacks.c — two synack stacks in one process, joined by in-memory
 * queues, move 1 MiB each way and close.
 *
 * Uses nothing but the public API (synack.h). The "network" is two FIFO
 * queues: each stack's output hook appends the frame to the other stack's
 * queue, and the main loop delivers queued frames, runs the timers, and
 * advances a fake clock. Build: make build/examples/two_stacks
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synack.h"

#define TOTAL (1u << 20) /* bytes each way */
#define STEP_NS 100000u  /* the fake clock moves 100 us per busy round */
#define MAX_CONNS 8

/* ------------------------------------------------------------ a frame queue */

typedef struct frame {
    struct frame *next;
    size_t len;
    unsigned char data[];
} frame;

typedef struct queue {
    frame *head, *tail;
    size_t count;
    int oom;
} queue;

static void queue_push(queue *q, const void *data, size_t len) {
    frame *f = malloc(sizeof *f + len);
    if (!f) {
        q->oom = 1;
        return;
    }
    f->next = NULL;
    f->len = len;
    memcpy(f->data, data, len);
    if (q->tail)
        q->tail->next = f;
    else
        q->head = f;
    q->tail = f;
    q->count++;
}

static frame *queue_pop(queue *q) {
    frame *f = q->head;
    if (f) {
        q->head = f->next;
        if (!q->head)
            q->tail = NULL;
        q->count--;
    }
    return f;
}

static void queue_clear(queue *q) {
    frame *f;
    while ((f = queue_pop(q)))
        free(f);
}

/* ------------------------------------------------------------ one endpoint */

typedef struct endpoint {
    const char *name;
    synack_stack *stack;
    queue *inbox;       /* frames for this stack                 */
    queue *peer_inbox;  /* where this stack's output goes        */
    uint64_t rng;       /* xorshift state for the random hook    */
    synack_sock *conn;
    size_t sent, received;
    uint8_t pattern;    /* what this side sends: byte i = f(i, pattern) */
    int mismatch, eof, shut;
    int err;            /* first error synack_recv reported */
    struct {
        uint32_t id;
        int state;
    } conns[MAX_CONNS]; /* every connection seen and its latest state */
    int nconns;
} endpoint;

static uint8_t byte_at(size_t i, uint8_t pattern) {
    return (uint8_t)((i * 31u + (i >> 9) + pattern) & 0xffu);
}

static void on_output(void *ctx, const void *data, size_t len) {
    endpoint *e = ctx;
    queue_push(e->peer_inbox, data, len);
}

static void on_random(void *ctx, void *buf, size_t len) {
    endpoint *e = ctx;
    unsigned char *p = buf;
    for (size_t i = 0; i < len; i++) {
        e->rng ^= e->rng << 13;
        e->rng ^= e->rng >> 7;
        e->rng ^= e->rng << 17;
        p[i] = (unsigned char)(e->rng >> 24);
    }
}

/* Remember each connection's latest state, from the state trace. */
static void on_trace(void *ctx, const synack_trace_event *ev) {
    endpoint *e = ctx;
    if (ev->kind != SYNACK_TRACE_STATE)
        return;
    for (int i = 0; i < e->nconns; i++) {
        if (e->conns[i].id == ev->conn_id) {
            e->conns[i].state = ev->new_state;
            return;
        }
    }
    if (e->nconns < MAX_CONNS) {
        e->conns[e->nconns].id = ev->conn_id;
        e->conns[e->nconns].state = ev->new_state;
        e->nconns++;
    }
}

/* Connections (listeners included) not in CLOSED. */
static int open_conns(const endpoint *e) {
    int n = 0;
    for (int i = 0; i < e->nconns; i++)
        n += e->conns[i].state != SYNACK_CLOSED;
    return n;
}

static int create(endpoint *e, const char *name, uint32_t ip, const uint8_t mac[6],
                  queue *inbox, queue *peer_inbox, uint64_t seed) {
    memset(e, 0, sizeof *e);
    e->name = name;
    e->inbox = inbox;
    e->peer_inbox = peer_inbox;
    e->rng = seed;
    synack_config cfg;
    synack_config_init(&cfg);
    memcpy(cfg.mac, mac, 6);
    cfg.ip = ip;
    cfg.output = on_output;
    cfg.output_ctx = e;
    cfg.random = on_random;
    cfg.random_ctx = e;
    cfg.trace = on_trace;
    cfg.trace_ctx = e;
    e->stack = synack_stack_new(&cfg, 0);
    return e->stack ? 0 : -1;
}

/* Read what arrived and check it; send what fits; shut down when done. */
static void pump(endpoint *e) {
    if (!e->conn)
        return;
    unsigned char buf[16384];
    for (;;) {
        ssize_t n = synack_recv(e->conn, buf, sizeof buf);
        if (n == 0) {
            e->eof = 1;
            break;
        }
        if (n < 0) {
            if (n != -EAGAIN && !e->err)
                e->err = (int)n;
            break;
        }
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != byte_at(e->received + (size_t)i, (uint8_t)(e->pattern ^ 0x5a)))
                e->mismatch = 1;
        e->received += (size_t)n;
    }
    while (e->sent < TOTAL) {
        size_t want = TOTAL - e->sent;
        if (want > sizeof buf)
            want = sizeof buf;
        for (size_t i = 0; i < want; i++)
            buf[i] = byte_at(e->sent + i, e->pattern);
        ssize_t n = synack_send(e->conn, buf, want);
        if (n <= 0)
            break;
        e->sent += (size_t)n;
    }
    if (e->sent == TOTAL && !e->shut) {
        if (synack_shutdown(e->conn, SYNACK_SHUT_WR) == 0)
            e->shut = 1;
    }
}

static void deliver(endpoint *e, uint64_t now, size_t *moved) {
    frame *f;
    while ((f = queue_pop(e->inbox))) {
        synack_input(e->stack, f->data, f->len, now);
        free(f);
        (*moved)++;
    }
}

int main(void) {
    const uint32_t ip_a = 0x0a000001u, ip_b = 0x0a000002u; /* 10.0.0.1, 10.0.0.2 */
    const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 1}, mac_b[6] = {0x02, 0, 0, 0, 0, 2};
    queue to_a = {0}, to_b = {0};
    endpoint a, b;
    synack_sock *listener = NULL;
    int ok = 0;
    const char *why = "setup failed";
    uint64_t now = 0;

    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    if (create(&a, "client", ip_a, mac_a, &to_a, &to_b, 0x9e3779b97f4a7c15ull) < 0 ||
        create(&b, "server", ip_b, mac_b, &to_b, &to_a, 0xd1b54a32d192ed03ull) < 0)
        goto out;
    a.pattern = 0x11;
    b.pattern = 0x11 ^ 0x5a; /* each side checks for the other's pattern */
    if (synack_arp_add(a.stack, ip_b, mac_b) < 0 || synack_arp_add(b.stack, ip_a, mac_a) < 0)
        goto out;

    listener = synack_socket(b.stack);
    if (!listener || synack_bind(listener, 7000) < 0 || synack_listen(listener, 8) < 0)
        goto out;
    a.conn = synack_socket(a.stack);
    if (!a.conn || synack_connect(a.conn, ip_b, 7000) < 0)
        goto out;

    why = "timed out";
    /* Run until both sides have everything and the FINs crossed, then on
     * (jumping the clock from deadline to deadline) until TIME-WAIT ends. */
    for (long round = 0; round < 10000000L; round++) {
        size_t moved = 0;
        deliver(&b, now, &moved);
        deliver(&a, now, &moved);
        synack_poll(a.stack, now);
        synack_poll(b.stack, now);
        if (!b.conn) {
            int err;
            b.conn = synack_accept(listener, &err);
        }
        pump(&a);
        pump(&b);
        if (to_a.oom || to_b.oom) {
            why = "out of memory";
            goto out;
        }
        if (a.conn && b.conn && a.eof && b.eof && a.shut && b.shut) {
            /* both streams complete: hand the sockets back to the stacks */
            synack_close(a.conn);
            synack_close(b.conn);
            a.conn = b.conn = NULL;
        }
        int busy = to_a.count || to_b.count;
        if (busy || moved) {
            now += STEP_NS;
            continue;
        }
        uint64_t da = synack_next_deadline(a.stack), db = synack_next_deadline(b.stack);
        uint64_t next = da < db ? da : db;
        if (a.err || b.err) {
            why = "connection error";
            goto out;
        }
        if (next == UINT64_MAX) {
            if (!a.conn && !b.conn)
                break; /* nothing left to do anywhere */
            why = "stalled: nothing pending but the transfer is not done";
            goto out;
        }
        now = next > now ? next : now + 1;
    }
    synack_close(listener);
    listener = NULL;

    if (a.received != TOTAL || b.received != TOTAL) {
        why = "short transfer";
    } else if (a.mismatch || b.mismatch) {
        why = "data corrupted";
    } else if (open_conns(&a) != 0 || open_conns(&b) != 0) {
        why = "a connection did not reach CLOSED";
    } else {
        ok = 1;
    }
out:
    if (ok)
        printf("two_stacks: ok: %u bytes each way verified, both sides CLOSED after %.3f s "
               "of fake time\n", TOTAL, (double)now / 1e9);
    else
        printf("two_stacks: FAILED (%s): client sent %zu received %zu, server sent %zu "
               "received %zu, open connections %d/%d, errors %d/%d\n",
               why, a.sent, a.received, b.sent, b.received, open_conns(&a), open_conns(&b),
               a.err, b.err);
    synack_stack_free(a.stack);
    synack_stack_free(b.stack);
    queue_clear(&to_a);
    queue_clear(&to_b);
    return ok ? 0 : 1;
}
