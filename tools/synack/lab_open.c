/* lab_open.c — `synack lab why-three-way` and `synack lab why-four-way`. */
#include "lab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "ladder.h"

#define CLIENT_IP 0x0a000001u
#define SERVER_IP 0x0a000002u

typedef struct hs {
    const lab_options *o;
    sim *s;
    sim_host *cli, *srv;
    synack_sock *l, *ck, *sk;
    ladder *lad;
    uint8_t syn[256];
    size_t synlen;
    int accepted;
    uint64_t srv_sent, srv_after_fin, cli_rx;
    int srv_end;              /* synack_cause that ended the server side; -1 while open */
    /* why-four-way */
    uint64_t t_cli_fin, t_fin_acked, t_srv_fin, t_cw_enter, t_cw_leave;
    int chunks_left;
} hs;

static void hs_trace(void *ctx, const sim_trace *t) {
    hs *h = ctx;
    if (h->lad)
        ladder_observe(h->lad, t);
    if (t->kind == SIM_TRACE_STACK && t->ev->kind == SYNACK_TRACE_STATE && t->host == h->srv &&
        t->ev->remote_port) {
        if (t->ev->new_state == SYNACK_CLOSED)
            h->srv_end = t->ev->reason;
        if (t->ev->new_state == SYNACK_CLOSE_WAIT)
            h->t_cw_enter = t->time_ns;
        if (t->ev->old_state == SYNACK_CLOSE_WAIT)
            h->t_cw_leave = t->time_ns;
    }
    if (t->kind != SIM_TRACE_LINK || t->link_event != SIM_LINK_SEND || !t->info.is_tcp)
        return;
    const synack_seg_info *g = &t->info.seg;
    if (t->host == h->cli && g->flags == SYNACK_SYN && !h->synlen && t->len <= sizeof h->syn) {
        memcpy(h->syn, t->frame, t->len);
        h->synlen = t->len;
    }
    if (t->host == h->cli && (g->flags & SYNACK_FIN) && !h->t_cli_fin)
        h->t_cli_fin = t->time_ns;
    if (t->host == h->srv && h->t_cli_fin && !h->t_fin_acked && !(g->flags & SYNACK_FIN) &&
        (g->flags & SYNACK_ACK))
        h->t_fin_acked = t->time_ns;
    if (t->host == h->srv && (g->flags & SYNACK_FIN) && !h->t_srv_fin)
        h->t_srv_fin = t->time_ns;
    if (t->host == h->srv && h->t_cli_fin && g->len)
        h->srv_after_fin += g->len;
}

static void hs_new(hs *h, const lab_options *o, const synack_config *srv_cfg) {
    memset(h, 0, sizeof *h);
    h->o = o;
    h->srv_end = -1;
    h->s = lab_sim_new(o);
    h->cli = sim_add_host(h->s, "client", CLIENT_IP, NULL);
    h->srv = sim_add_host(h->s, "server", SERVER_IP, srv_cfg);
    sim_link_params lp = sim_link_params_default();
    lp.delay_ns = 5 * SIM_MS;
    sim_link(h->s, h->cli, h->srv, &lp, &lp);
    sim_set_trace(h->s, hs_trace, h);
    h->l = synack_socket(sim_host_stack(h->srv));
    synack_bind(h->l, 80);
    synack_listen(h->l, 16);
}

static void hs_free(hs *h) {
    sim_set_trace(h->s, NULL, NULL);
    sim_free(h->s);
    ladder_free(h->lad);
}

/* ------------------------------------------------------------ why-three-way */

static const char PAYLOAD[] = "here is the file you asked for (you did not)";

static void tw_srv_event(void *ctx, synack_sock *k, unsigned ev) {
    hs *h = ctx;
    (void)ev;
    if (k == h->l) {
        synack_sock *a;
        while ((a = synack_accept(k, NULL))) {
            h->accepted++;
            h->sk = a;
            ssize_t n = synack_send(a, PAYLOAD, sizeof PAYLOAD - 1);
            if (n > 0)
                h->srv_sent += (uint64_t)n;
        }
    }
}

static void tw_cli_event(void *ctx, synack_sock *k, unsigned ev) {
    (void)ctx;
    if (ev & SYNACK_EV_CONNECTED)
        synack_close(k);
}

static void tw_first(void *ctx) {
    hs *h = ctx;
    synack_sock *k = synack_socket(sim_host_stack(h->cli));
    synack_bind(k, 40000);
    lab_connect(k, h->srv, 80, h->o);
}

static void tw_replay(void *ctx) {
    hs *h = ctx;
    h->accepted = 0;
    h->srv_sent = 0;
    h->srv_end = -1;
    h->lad = ladder_new(0, 1);
    sim_inject(h->cli, h->syn, h->synlen); /* an old duplicate SYN, delayed in the network */
}

int lab_why_three_way(const lab_options *o, lab_result *r) {
    FILE *out = o->out;
    char from[FMT_ENDPOINT_LEN];
    if (out)
        fprintf(out,
                "synack lab why-three-way%s\n\n"
                "A connection from %s to the server came and went. 70 s later an old\n"
                "duplicate of its SYN, delayed in the network, reaches the server. The client\n"
                "has no connection and wants none.\n\n",
                lab_flag(o), lab_endpoint(o, CLIENT_IP, 0, 40000, from));
    int accepted[2];
    uint64_t sent[2];
    char end[2][64];
    for (int two = 1; two >= 0; two--) {
        synack_config sc;
        synack_config_init(&sc);
        hs h;
        hs_new(&h, o, &sc);
        sim_host_lab_two_way_handshake(h.srv, two);
        sim_host_set_event(h.srv, tw_srv_event, &h);
        sim_host_set_event(h.cli, tw_cli_event, &h);
        sim_at(h.s, 0, tw_first, &h);
        sim_at(h.s, 70 * SIM_SEC, tw_replay, &h);
        sim_run_until(h.s, 75 * SIM_SEC);
        accepted[two] = h.accepted;
        sent[two] = h.srv_sent;
        snprintf(end[two], sizeof end[two], "%s", h.srv_end < 0 ? "(open)" : synack_cause_name(h.srv_end));
        if (out) {
            fprintf(out, "%s handshake%s:\n\n", two ? "Two-way" : "Three-way",
                    two ? " (lab_two_way_handshake=1: the SYN,ACK alone opens the connection)" : "");
            ladder_style st = {0, 0, 100};
            ladder_render(h.lad, out, &st);
            fputc('\n', out);
        }
        hs_free(&h);
    }
    if (out)
        fprintf(out,
                "  %-10s %-22s %-26s %s\n"
                "  %-10s %-22d %-26llu %s\n"
                "  %-10s %-22d %-26llu %s\n",
                "handshake", "connections accepted", "bytes sent by the server", "server side ended by",
                "two-way", accepted[1], (unsigned long long)sent[1], end[1],
                "three-way", accepted[0], (unsigned long long)sent[0], end[0]);
    if (out)
        fprintf(out,
                "\nWith two messages the server cannot tell an old SYN from a new one: it opens\n"
                "and serves a connection nobody asked for. The third message is the client's\n"
                "confirmation that this SYN is current; for an old one it answers RST instead\n"
                "(RFC 9293 §3.5, figure 9), and the half-open connection dies before any\n"
                "application sees it.\n");
    lab_set_fig(r, "accepted_two_way", accepted[1]);
    lab_set_fig(r, "bytes_sent_two_way", (double)sent[1]);
    lab_set_fig(r, "accepted_three_way", accepted[0]);
    lab_set_fig(r, "bytes_sent_three_way", (double)sent[0]);
    return 0;
}

/* ------------------------------------------------------------ why-four-way */

static void fw_chunk(void *ctx);

static void fw_srv_event(void *ctx, synack_sock *k, unsigned ev) {
    hs *h = ctx;
    (void)ev;
    if (k == h->l) {
        synack_sock *a;
        while ((a = synack_accept(k, NULL)))
            h->sk = a;
        return;
    }
    char buf[512];
    ssize_t n;
    while ((n = synack_recv(k, buf, sizeof buf)) > 0) {
    }
    if (n == 0 && !h->chunks_left && h->sk == k) {
        /* The client is done sending; we are not: a report takes a while. */
        h->chunks_left = 6;
        sim_at_host(h->srv, sim_now(h->s) + 500 * SIM_MS, fw_chunk, h);
    }
}

static void fw_chunk(void *ctx) {
    hs *h = ctx;
    static const uint8_t chunk[1000];
    ssize_t n = synack_send(h->sk, chunk, sizeof chunk);
    if (n > 0)
        h->srv_sent += (uint64_t)n;
    if (--h->chunks_left > 0)
        sim_at_host(h->srv, sim_now(h->s) + 500 * SIM_MS, fw_chunk, h);
    else {
        synack_close(h->sk); /* now, and only now, the server's FIN */
        h->sk = NULL;
    }
}

static void fw_cli_event(void *ctx, synack_sock *k, unsigned ev) {
    hs *h = ctx;
    if (ev & SYNACK_EV_CONNECTED) {
        synack_send(k, "REPORT\n", 7);
        synack_shutdown(k, SYNACK_SHUT_WR); /* half-close: no more requests */
    }
    char buf[2048];
    ssize_t n;
    while ((n = synack_recv(k, buf, sizeof buf)) > 0) {
        h->cli_rx += (uint64_t)n;
    }
    if (n == 0)
        synack_close(k);
}

int lab_why_four_way(const lab_options *o, lab_result *r) {
    FILE *out = o->out;
    hs h;
    hs_new(&h, o, NULL);
    h.lad = ladder_new(0, 1);
    sim_host_set_event(h.srv, fw_srv_event, &h);
    sim_host_set_event(h.cli, fw_cli_event, &h);
    synack_sock *k = synack_socket(sim_host_stack(h.cli));
    lab_connect(k, h.srv, 80, o);
    int series = lab_add_series(r, "bytes the client received after its FIN");
    snprintf(r->title, sizeof r->title, "why-four-way: data flows after the client's FIN");
    snprintf(r->xlabel, sizeof r->xlabel, "virtual time (s)");
    snprintf(r->ylabel, sizeof r->ylabel, "bytes");
    for (uint64_t t = 0; t <= 5 * SIM_SEC; t += 100 * SIM_MS) {
        sim_run_until(h.s, t);
        lab_point(r, series, (double)t / SIM_SEC, (double)h.cli_rx);
    }
    sim_run_until(h.s, 200 * SIM_SEC);
    if (out) {
        fprintf(out,
                "synack lab why-four-way%s\n\n"
                "The client sends a request and shuts down its sending side (FIN). The server\n"
                "still has a report to send: 6,000 bytes, 1,000 every 0.5 s. Closing takes four\n"
                "segments because each direction closes on its own: the server ACKs the\n"
                "client's FIN at once (the TCP layer can), but sends its own FIN only when its\n"
                "application is done (CLOSE-WAIT lasts as long as the application needs).\n\n",
                lab_flag(o));
        ladder_style st = {0, 0, 100};
        ladder_render(h.lad, out, &st);
        fprintf(out,
                "\n  client FIN sent                        %8.3f s\n"
                "  server ACK of that FIN                 %8.3f s (as soon as it arrives)\n"
                "  server FIN                             %8.3f s\n"
                "  server in CLOSE-WAIT for               %8.3f s\n"
                "  bytes the server sent after that FIN   %8llu\n"
                "  bytes the client received              %8llu\n",
                h.t_cli_fin / 1e9, h.t_fin_acked / 1e9, h.t_srv_fin / 1e9,
                (h.t_cw_leave - h.t_cw_enter) / 1e9, (unsigned long long)h.srv_after_fin,
                (unsigned long long)h.cli_rx);
        fprintf(out,
                "\nA three-way close (FIN,ACK answering FIN) only happens when the application\n"
                "closes at once; here it could not, so the ACK and the FIN are %.1f s apart.\n",
                (h.t_srv_fin - h.t_fin_acked) / 1e9);
    }
    lab_set_fig(r, "fin_ack_delay_s", (h.t_fin_acked - h.t_cli_fin) / 1e9);
    lab_set_fig(r, "close_wait_s", (h.t_cw_leave - h.t_cw_enter) / 1e9);
    lab_set_fig(r, "gap_ack_to_fin_s", (h.t_srv_fin - h.t_fin_acked) / 1e9);
    lab_set_fig(r, "bytes_after_fin", (double)h.srv_after_fin);
    lab_set_fig(r, "bytes_client_received", (double)h.cli_rx);
    hs_free(&h);
    return 0;
}
