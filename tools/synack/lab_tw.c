/* lab_tw.c — `synack lab why-time-wait` and `synack lab tw-reuse`. */
#include "lab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"

#define CLIENT_IP 0x0a000001u
#define SERVER_IP 0x0a000002u
#define CPORT 40000
#define XFER 100000
#define DUP_AT 90000

/* ------------------------------------------------------------ a small world */

typedef struct world {
    const lab_options *o;
    sim *s;
    sim_host *cli, *srv;
    synack_sock *l, *ck, *sk;
    int conn;                 /* client connections made so far */
    uint8_t *rx;              /* what the server's application read (this connection) */
    size_t rxn;
    uint32_t iss[4];          /* client ISS of connection 1.. */
    uint8_t dup[2048];        /* the captured segment */
    size_t duplen;
    int capture_from;         /* host index whose data we capture (0 client, 1 server) */
    uint32_t capture_off;
    int srv_shutdown_only;    /* server uses shutdown(WR) instead of close */
    int drop_last_ack;        /* why-time-wait (b) */
    int dropped;
    int srv_end_cause;        /* synack_cause of the server connection's end; -1 while open */
    uint32_t srv_conn_id;
    int connect_err;
    uint64_t retry_at;
    size_t reply;             /* server replies this many bytes once it got `reply_after` */
    size_t reply_after;
    size_t cli_rx;
} world;

static uint8_t pat(int conn, size_t i) { return (uint8_t)((conn == 1 ? 'a' : 'A') + i % 26); }

static void srv_read(world *w, synack_sock *k) {
    uint8_t buf[4096];
    ssize_t n;
    while ((n = synack_recv(k, buf, sizeof buf)) > 0) {
        if (w->rx && w->rxn + (size_t)n <= XFER)
            memcpy(w->rx + w->rxn, buf, (size_t)n);
        w->rxn += (size_t)n;
    }
    if (w->reply && w->rxn >= w->reply_after) {
        static uint8_t zeros[4096];
        size_t left = w->reply;
        while (left) {
            ssize_t m = synack_send(k, zeros, left < sizeof zeros ? left : sizeof zeros);
            if (m <= 0)
                break;
            left -= (size_t)m;
        }
        w->reply = 0;
    }
    if (n == 0) {
        if (w->srv_shutdown_only)
            synack_shutdown(k, SYNACK_SHUT_WR);
        else
            synack_close(k);
        if (k == w->sk && !w->srv_shutdown_only)
            w->sk = NULL;
    }
}

static void srv_event(void *ctx, synack_sock *k, unsigned ev) {
    world *w = ctx;
    (void)ev;
    if (k == w->l) {
        synack_sock *a;
        while ((a = synack_accept(k, NULL))) {
            w->sk = a;
            w->rxn = 0;
            srv_read(w, a);
        }
        return;
    }
    if (synack_sock_state(k) != SYNACK_CLOSED || synack_readable(k))
        srv_read(w, k);
}

static void on_trace(void *ctx, const sim_trace *t) {
    world *w = ctx;
    if (t->kind == SIM_TRACE_STACK && t->ev->kind == SYNACK_TRACE_STATE && t->host == w->srv &&
        t->ev->new_state == SYNACK_CLOSED && t->ev->local_port == 80 && t->ev->remote_port) {
        w->srv_end_cause = t->ev->reason;
        w->srv_conn_id = t->ev->conn_id;
    }
    if (t->kind != SIM_TRACE_LINK || t->link_event != SIM_LINK_SEND || !t->info.is_tcp)
        return;
    const synack_seg_info *g = &t->info.seg;
    if (t->host == w->cli && g->flags == SYNACK_SYN && w->conn >= 1 && w->conn <= 3)
        w->iss[w->conn] = g->seq;
    if (w->conn == 1 && !w->duplen && g->len > 0 && t->host_index == w->capture_from) {
        uint32_t base = w->capture_from == 0 ? w->iss[1] + 1 : 0;
        uint32_t off = g->seq - base;
        if (w->capture_from == 1 || (off <= DUP_AT && off + g->len > DUP_AT)) {
            w->duplen = t->len < sizeof w->dup ? t->len : sizeof w->dup;
            memcpy(w->dup, t->frame, w->duplen);
            w->capture_off = off;
        }
    }
    if (w->drop_last_ack && !w->dropped && t->host == w->srv && (g->flags & SYNACK_FIN)) {
        /* The server's FIN is on its way: lose the client's ACK of it. */
        sim_link_params p = *sim_link_get(w->s, w->cli, w->srv);
        p.loss = 1.0;
        sim_link_set(w->s, w->cli, w->srv, &p);
        w->dropped = 1;
    }
}

static void restore_link(void *ctx) {
    world *w = ctx;
    sim_link_params p = *sim_link_get(w->s, w->cli, w->srv);
    p.loss = 0;
    sim_link_set(w->s, w->cli, w->srv, &p);
}

static int world_new(world *w, const lab_options *o, const char *cli_knobs, const char *srv_knobs) {
    memset(w, 0, sizeof *w);
    w->srv_end_cause = -1;
    synack_config cc, sc;
    synack_config_init(&cc);
    synack_config_init(&sc);
    const char *kn[2] = {cli_knobs, srv_knobs};
    synack_config *cf[2] = {&cc, &sc};
    for (int i = 0; i < 2; i++) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", kn[i] ? kn[i] : "");
        char *save = NULL;
        for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
            char *eq = strchr(tok, '=');
            if (!eq)
                return -1;
            *eq = 0;
            for (char *c = eq + 1; *c; c++)
                if (*c == ',')
                    *c = ' ';
            if (synack_config_set(cf[i], tok, eq + 1) < 0)
                return -1;
        }
    }
    w->o = o;
    w->s = lab_sim_new(o);
    if (!w->s)
        return -1;
    w->cli = sim_add_host(w->s, "client", CLIENT_IP, &cc);
    w->srv = sim_add_host(w->s, "server", SERVER_IP, &sc);
    if (!w->cli || !w->srv)
        return -1;
    sim_link_params lp = sim_link_params_default();
    lp.delay_ns = 5 * SIM_MS;
    sim_link(w->s, w->cli, w->srv, &lp, &lp);
    sim_host_set_event(w->srv, srv_event, w);
    sim_set_trace(w->s, on_trace, w);
    w->l = synack_socket(sim_host_stack(w->srv));
    synack_bind(w->l, 80);
    synack_listen(w->l, 16);
    return 0;
}

static void world_free(world *w) {
    sim_set_trace(w->s, NULL, NULL);
    sim_free(w->s);
    free(w->rx);
}

/* ------------------------------------------------------------ why-time-wait (a) */

static void cli_send_all(world *w, synack_sock *k) {
    static uint8_t buf[XFER];
    for (size_t i = 0; i < XFER; i++)
        buf[i] = pat(w->conn, i);
    ssize_t n = synack_send(k, buf, XFER);
    (void)n;
    synack_close(k);
}

static void dup_cli_event(void *ctx, synack_sock *k, unsigned ev) {
    world *w = ctx;
    if (ev & SYNACK_EV_CONNECTED) {
        if (w->conn == 2 && w->duplen)
            sim_inject(w->cli, w->dup, w->duplen); /* the old duplicate arrives now */
        cli_send_all(w, k);
    }
}

static void dup_connect(void *ctx) {
    world *w = ctx;
    synack_sock *k = synack_socket(sim_host_stack(w->cli));
    synack_sock_set_user(k, w);
    synack_setopt(k, SYNACK_SO_SNDBUF, 2 * XFER);
    synack_setopt(k, SYNACK_SO_REUSEADDR, 1);
    synack_bind(k, CPORT);
    w->conn++;
    int rc = lab_connect(k, w->srv, 80, w->o);
    if (rc < 0) {
        w->conn--;
        if (!w->connect_err)
            w->connect_err = rc;
        synack_close(k);
        if (w->duplen && w->conn == 1) {
            sim_inject(w->cli, w->dup, w->duplen); /* the duplicate meets no connection */
            w->duplen = 0;
        }
        sim_at_host(w->cli, sim_now(w->s) + 61 * SIM_SEC, dup_connect, w);
        return;
    }
    if (w->conn == 2) {
        free(w->rx);
        w->rx = calloc(1, XFER);
        w->rxn = 0;
    }
}

typedef struct dup_row {
    const char *label, *cli, *srv;
    uint64_t corrupted;
    long first_bad;
    int connect_err;
    uint64_t paws, rsts;
} dup_row;

static int run_dup(const lab_options *o, dup_row *row) {
    world w;
    if (world_new(&w, o, row->cli, row->srv) < 0)
        return -1;
    sim_host_set_event(w.cli, dup_cli_event, &w);
    dup_connect(&w);
    sim_at_host(w.cli, 150 * SIM_MS, dup_connect, &w);
    sim_run_until(w.s, 200 * SIM_SEC);
    row->corrupted = 0;
    row->first_bad = -1;
    for (size_t i = 0; w.rx && i < w.rxn && i < XFER; i++) {
        if (w.rx[i] != pat(2, i)) {
            if (row->first_bad < 0)
                row->first_bad = (long)i;
            row->corrupted++;
        }
    }
    if (!w.rx || w.rxn != XFER)
        row->corrupted += XFER - (w.rxn < XFER ? w.rxn : XFER);
    row->connect_err = w.connect_err;
    row->paws = lab_counter(sim_host_stack(w.srv), "TcpExtPAWSEstab");
    row->rsts = lab_counter(sim_host_stack(w.srv), "TcpOutRsts");
    world_free(&w);
    return 0;
}

/* ------------------------------------------------------------ why-time-wait (b) */

static void ack_cli_event(void *ctx, synack_sock *k, unsigned ev) {
    (void)ctx;
    if (ev & SYNACK_EV_CONNECTED) {
        synack_send(k, "bye", 3);
        synack_close(k);
    }
}

static void ack_connect(void *ctx) {
    world *w = ctx;
    synack_sock *k = synack_socket(sim_host_stack(w->cli));
    w->conn = 1;
    lab_connect(k, w->srv, 80, w->o);
}

static const char *end_text(int cause) {
    return cause < 0 ? "(still open)" : synack_cause_name(cause);
}

static int run_lost_ack(const lab_options *o, const char *cli_knobs, int *cause,
                        uint64_t *reacked) {
    world w;
    if (world_new(&w, o, cli_knobs, NULL) < 0)
        return -1;
    w.srv_shutdown_only = 1;
    w.drop_last_ack = 1;
    w.capture_from = 2; /* nothing */
    sim_host_set_event(w.cli, ack_cli_event, &w);
    ack_connect(&w);
    sim_at(w.s, 50 * SIM_MS, restore_link, &w);
    sim_run_until(w.s, 100 * SIM_SEC);
    *cause = w.srv_end_cause;
    *reacked = lab_counter(sim_host_stack(w.cli), "TcpExtTWFinReAcked");
    world_free(&w);
    return 0;
}

int lab_why_time_wait(const lab_options *o, lab_result *r) {
    FILE *out = o->out;
    char cli[FMT_ENDPOINT_LEN];
    dup_row rows[3] = {
        {"TIME-WAIT 60 s (defaults)", "tcp_timestamps=0", "tcp_timestamps=0", 0, 0, 0, 0, 0},
        {"TIME-WAIT 0 (tcp_msl=0)", "tcp_timestamps=0 tcp_msl=0", "tcp_timestamps=0", 0, 0, 0, 0, 0},
        {"TIME-WAIT 0, timestamps (PAWS)", "tcp_msl=0", NULL, 0, 0, 0, 0, 0},
    };
    if (out)
        fprintf(out,
                "synack lab why-time-wait%s\n\n"
                "(a) Delayed duplicates. The client (%s) sends 100,000 bytes to the\n"
                "server and closes; the network keeps a copy of the segment carrying offset\n"
                "%d and delivers it late. 150 ms later the client connects again from the\n"
                "same port: a new incarnation of the same 4-tuple, sending 100,000 other bytes.\n"
                "Its ISN is clock-driven (RFC 6528), 37,500 above the old one, so the old\n"
                "segment's sequence numbers fall inside the new connection's window.\n\n",
                lab_flag(o), lab_endpoint(o, CLIENT_IP, 0, CPORT, cli), DUP_AT);
    if (out)
        fprintf(out, "  %-32s %-22s %10s %12s %10s\n", "client setting", "reconnect at 150 ms",
                "corrupted", "first at", "PAWS drops");
    for (int i = 0; i < 3; i++) {
        if (run_dup(o, &rows[i]) < 0)
            return -1;
        char at[48] = "-";
        if (rows[i].first_bad >= 0)
            snprintf(at, sizeof at, "offset %ld", rows[i].first_bad);
        char rc[40];
        snprintf(rc, sizeof rc, "%s", rows[i].connect_err ? fmt_errno(rows[i].connect_err) : "ok");
        if (rows[i].connect_err)
            snprintf(rc, sizeof rc, "%s, later ok", fmt_errno(rows[i].connect_err));
        if (out)
            fprintf(out, "  %-32s %-22s %10llu %12s %10llu\n", rows[i].label, rc,
                    (unsigned long long)rows[i].corrupted, at, (unsigned long long)rows[i].paws);
    }
    lab_set_fig(r, "corrupted_bytes_with_tw", (double)rows[0].corrupted);
    lab_set_fig(r, "corrupted_bytes_without_tw", (double)rows[1].corrupted);
    lab_set_fig(r, "corrupted_offset_without_tw", (double)rows[1].first_bad);
    lab_set_fig(r, "corrupted_bytes_without_tw_with_paws", (double)rows[2].corrupted);
    lab_set_fig(r, "paws_drops_without_tw", (double)rows[2].paws);

    int cause_tw = -1, cause_no = -1;
    uint64_t reacked_tw = 0, reacked_no = 0;
    if (run_lost_ack(o, NULL, &cause_tw, &reacked_tw) < 0 ||
        run_lost_ack(o, "tcp_msl=0", &cause_no, &reacked_no) < 0)
        return -1;
    int clean_tw = cause_tw == SYNACK_CAUSE_RCV_ACK_OF_FIN;
    int rst_no = cause_no == SYNACK_CAUSE_RCV_RST;
    lab_set_fig(r, "lost_ack_clean_close_with_tw", clean_tw);
    lab_set_fig(r, "lost_ack_reset_without_tw", rst_no);
    lab_set_fig(r, "lost_ack_fin_reacked_with_tw", (double)reacked_tw);
    if (out) {
        fprintf(out,
                "\nWith TIME-WAIT the 4-tuple cannot be reused for 2 x MSL (connect says\n"
                "EADDRINUSE) and by then the duplicate has died (the server answered it with a\n"
                "RST). Without TIME-WAIT it lands inside the new stream: the server's\n"
                "application reads the old bytes as if they were new. Timestamps (PAWS,\n"
                "RFC 7323 §5) catch it too: its TSval is older than the new TS.Recent.\n\n"
                "(b) The last ACK is lost. The client closes first; the server answers with\n"
                "its FIN (LAST-ACK); the client's ACK of that FIN is lost on the link.\n\n"
                "  %-28s %-26s %s\n"
                "  %-28s %-26s %llu\n"
                "  %-28s %-26s %llu\n",
                "client setting", "server's connection ended", "FIN re-ACKed in TIME-WAIT",
                "TIME-WAIT 60 s (defaults)", end_text(cause_tw), (unsigned long long)reacked_tw,
                "TIME-WAIT 0 (tcp_msl=0)", end_text(cause_no), (unsigned long long)reacked_no);
        fprintf(out,
                "\nWith TIME-WAIT the retransmitted FIN is re-ACKed and both ends close cleanly.\n"
                "Without it the client has forgotten the connection and answers with a RST:\n"
                "the server's close ends in a reset (Linux reports ECONNRESET).\n");
    }
    return 0;
}

/* ------------------------------------------------------------ tw-reuse */

typedef struct reuse_st {
    world w;
    synack_sock *k1;
    uint32_t old_snd_nxt;
    int err_early, err_late;
    uint32_t new_iss;
    uint64_t paws_before, paws_after;
    int connected2;
} reuse_st;

static void reuse_cli_event(void *ctx, synack_sock *k, unsigned ev) {
    reuse_st *st = ctx;
    world *w = &st->w;
    if (ev & SYNACK_EV_CONNECTED) {
        if (k == st->k1) {
            static const uint8_t req[1000];
            synack_send(k, req, sizeof req);
        } else {
            st->connected2 = 1;
            synack_tcp_info ti;
            synack_info(k, &ti);
            st->new_iss = ti.iss;
            st->paws_before = lab_counter(sim_host_stack(w->cli), "TcpExtPAWSEstab");
            sim_inject(w->srv, w->dup, w->duplen); /* a stale segment of the old connection */
        }
    }
    if (k == st->k1 && (ev & SYNACK_EV_READABLE)) {
        uint8_t buf[4096];
        ssize_t n;
        while ((n = synack_recv(k, buf, sizeof buf)) > 0)
            w->cli_rx += (size_t)n;
        if (w->cli_rx >= 2000 && st->k1) {
            synack_tcp_info ti;
            synack_info(k, &ti);
            st->old_snd_nxt = ti.snd_nxt + 1; /* + our FIN */
            st->k1 = NULL;
            synack_close(k);
        }
    }
}

static void reuse_try(reuse_st *st, int *err) {
    synack_sock *k = synack_socket(sim_host_stack(st->w.cli));
    synack_sock_set_user(k, st);
    *err = lab_connect(k, st->w.srv, 80, st->w.o);
    if (*err < 0)
        synack_close(k);
}
static void reuse_early(void *ctx) { reuse_st *st = ctx; reuse_try(st, &st->err_early); }
static void reuse_late(void *ctx) { reuse_st *st = ctx; reuse_try(st, &st->err_late); }

static int run_reuse(const lab_options *o, const char *knobs, reuse_st *st) {
    memset(st, 0, sizeof *st);
    world *w = &st->w;
    if (world_new(w, o, knobs, NULL) < 0)
        return -1;
    w->capture_from = 1;
    w->reply = 2000;
    w->reply_after = 1000;
    sim_host_set_event(w->cli, reuse_cli_event, st);
    st->k1 = synack_socket(sim_host_stack(w->cli));
    synack_sock_set_user(st->k1, st);
    w->conn = 1;
    lab_connect(st->k1, w->srv, 80, o);
    sim_at_host(w->cli, 300 * SIM_MS, reuse_early, st);
    sim_at_host(w->cli, 1500 * SIM_MS, reuse_late, st);
    sim_run_until(w->s, 3 * SIM_SEC);
    st->paws_after = lab_counter(sim_host_stack(w->cli), "TcpExtPAWSEstab");
    return 0;
}

int lab_tw_reuse(const lab_options *o, lab_result *r) {
    FILE *out = o->out;
    if (out)
        fprintf(out,
                "synack lab tw-reuse%s\n\n"
                "The client has exactly one ephemeral port (ip_local_port_range=40000 40000).\n"
                "Its first connection ends with the client in TIME-WAIT. It then connects to\n"
                "the same server port again at 0.3 s and at 1.5 s. tcp_tw_reuse (Linux's\n"
                "tcp_twsk_unique) lets an outgoing connection take a 4-tuple in TIME-WAIT when\n"
                "timestamps were used and tcp_tw_reuse_delay (1000 ms) passed since the last\n"
                "one; the new ISS is the old SND.NXT + 65537 and TS.Recent is inherited, so\n"
                "PAWS rejects the old connection's stragglers.\n\n",
                lab_flag(o));
    static const char *const knobs[2] = {"ip_local_port_range=40000,40000 tcp_tw_reuse=0",
                                         "ip_local_port_range=40000,40000 tcp_tw_reuse=1"};
    if (out)
        fprintf(out, "  %-15s %-16s %-16s %-22s %s\n", "tcp_tw_reuse", "connect @0.3 s",
                "connect @1.5 s", "new ISS - old SND.NXT", "stale segment");
    for (int i = 0; i < 2; i++) {
        reuse_st *st = calloc(1, sizeof *st);
        if (!st || run_reuse(o, knobs[i], st) < 0) {
            free(st);
            return -1;
        }
        char diff[32] = "-", stale[48] = "-";
        if (st->connected2) {
            snprintf(diff, sizeof diff, "%u", st->new_iss - st->old_snd_nxt);
            snprintf(stale, sizeof stale, "%s", st->paws_after > st->paws_before ? "dropped by PAWS" : "not dropped by PAWS");
        }
        if (out)
            fprintf(out, "  %-15d %-16s %-16s %-22s %s\n", i,
                    st->err_early ? fmt_errno(st->err_early) : "ok",
                    st->err_late ? fmt_errno(st->err_late) : "ok (reused)", diff, stale);
        if (i == 1) {
            lab_set_fig(r, "connect_before_delay_errno", -st->err_early);
            lab_set_fig(r, "connect_after_delay_errno", -st->err_late);
            lab_set_fig(r, "iss_minus_old_snd_nxt", st->connected2 ? (double)(uint32_t)(st->new_iss - st->old_snd_nxt) : -1);
            lab_set_fig(r, "tw_recycled", (double)lab_counter(sim_host_stack(st->w.cli), "TcpExtTWRecycled"));
            lab_set_fig(r, "stale_dropped_by_paws", (double)(st->paws_after - st->paws_before));
        } else {
            lab_set_fig(r, "reuse_off_connect_after_delay_errno", -st->err_late);
        }
        world_free(&st->w);
        free(st);
    }
    if (out)
        fprintf(out,
                "\ntcp_tw_reuse=2 (Linux's default) allows it only towards our own addresses\n"
                "(loopback), where both ends' clocks are one. Reuse is safe because of PAWS:\n"
                "without timestamps it never applies.\n");
    return 0;
}
