/* lab_recycle.c — `synack lab tw-recycle-nat`: why Linux removed
 * tcp_tw_recycle (4.12). Clients behind one NAT share an address but not a
 * timestamp clock; recycle's per-address timestamp cache then drops SYNs. */
#include "lab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SERVER_IP 0x0a000002u
#define NAT_IP 0x0a000001u
#define NMAX 16
#define RUN_S 30

typedef struct rc_world {
    sim *s;
    sim_host *srv, *nat, *cli[NMAX];
    int n;
    synack_sock *l;
    uint64_t syns, done;
    uint64_t syn_sec[RUN_S + 1], drop_sec[RUN_S + 1];
} rc_world;

static void srv_event(void *ctx, synack_sock *k, unsigned ev) {
    rc_world *w = ctx;
    (void)ev;
    if (k == w->l) {
        while (synack_accept(k, NULL)) {
        }
        return;
    }
    char buf[256];
    ssize_t n = synack_recv(k, buf, sizeof buf);
    if (n > 0) {
        /* HTTP/1.0 style: answer and close first, so the server holds the
         * TIME-WAIT (and, with recycle, remembers the peer's timestamp). */
        synack_send(k, "HTTP/1.0 200 OK\r\n\r\nhi\n", 23);
        synack_close(k);
    } else if (n == 0 || n != -EAGAIN) {
        synack_close(k);
    }
}

typedef struct rc_client {
    rc_world *w;
    int idx;
} rc_client;

static void start_conn(void *ctx);

static void cli_event(void *ctx, synack_sock *k, unsigned ev) {
    rc_client *c = ctx;
    if (ev & SYNACK_EV_CONNECTED)
        synack_send(k, "GET / HTTP/1.0\r\n\r\n", 18);
    char buf[256];
    ssize_t n;
    while ((n = synack_recv(k, buf, sizeof buf)) > 0) {
    }
    if (n == 0 || (n < 0 && n != -EAGAIN) || synack_sock_state(k) == SYNACK_CLOSED) {
        if (n == 0)
            c->w->done++;
        synack_close(k);
        sim_at_host(c->w->cli[c->idx], sim_now(c->w->s) + 200 * SIM_MS, start_conn, c);
    }
}

static void start_conn(void *ctx) {
    rc_client *c = ctx;
    if (sim_now(c->w->s) >= RUN_S * SIM_SEC)
        return;
    synack_sock *k = synack_socket(sim_host_stack(c->w->cli[c->idx]));
    synack_sock_set_user(k, c);
    if (synack_connect(k, SERVER_IP, 80) < 0) {
        synack_close(k);
        sim_at_host(c->w->cli[c->idx], sim_now(c->w->s) + 200 * SIM_MS, start_conn, c);
    }
}

static void on_trace(void *ctx, const sim_trace *t) {
    rc_world *w = ctx;
    if (t->kind == SIM_TRACE_LINK && t->link_event == SIM_LINK_SEND && t->host == w->nat &&
        t->info.is_tcp && t->info.seg.flags == SYNACK_SYN) {
        w->syns++;
        uint64_t s = t->time_ns / SIM_SEC;
        if (s <= RUN_S)
            w->syn_sec[s]++;
    }
    if (t->kind == SIM_TRACE_STACK && t->host == w->srv && t->ev->kind == SYNACK_TRACE_DROP &&
        t->ev->reason == SYNACK_DROP_TW_RECYCLE_PAWS) {
        uint64_t s = t->time_ns / SIM_SEC;
        if (s <= RUN_S)
            w->drop_sec[s]++;
    }
}

typedef struct rc_out {
    uint64_t syns, dropped, done;
    double pct;
} rc_out;

static int run(const lab_options *o, int nclients, int recycle, int timestamps, rc_out *res,
               lab_result *r) {
    rc_world *w = calloc(1, sizeof *w);
    rc_client *cl = calloc(NMAX, sizeof *cl);
    if (!w || !cl) {
        free(w);
        free(cl);
        return -1;
    }
    w->s = sim_new(o->seed);
    w->n = nclients;
    synack_config sc, cc;
    synack_config_init(&sc);
    sc.net.tcp_tw_recycle = (uint32_t)recycle;
    w->srv = sim_add_host(w->s, "server", SERVER_IP, &sc);
    sim_nat_params np = sim_nat_params_default();
    w->nat = sim_add_nat(w->s, "nat", NAT_IP, &np);
    sim_link_params lp = sim_link_params_default();
    lp.delay_ns = 10 * SIM_MS;
    sim_link(w->s, w->nat, w->srv, &lp, &lp);
    synack_config_init(&cc);
    cc.net.tcp_timestamps = (uint32_t)timestamps;
    cc.gateway = np.inside_ip;
    for (int i = 0; i < nclients; i++) {
        char name[32];
        snprintf(name, sizeof name, "client%d", i + 1);
        w->cli[i] = sim_add_host(w->s, name, np.inside_ip + 9 + (uint32_t)i, &cc);
        /* Each machine booted at a different time: its timestamp clock differs. */
        sim_host_set_clock_offset(w->cli[i], (sim_random(w->s) % (10ull * 86400)) * SIM_SEC);
        sim_link_params ip = sim_link_params_default();
        ip.delay_ns = SIM_MS / 2;
        sim_link(w->s, w->cli[i], w->nat, &ip, &ip);
        cl[i].w = w;
        cl[i].idx = i;
        sim_host_set_event(w->cli[i], cli_event, &cl[i]);
        sim_at_host(w->cli[i], (uint64_t)i * 37 * SIM_MS, start_conn, &cl[i]);
    }
    sim_host_set_event(w->srv, srv_event, w);
    sim_set_trace(w->s, on_trace, w);
    w->l = synack_socket(sim_host_stack(w->srv));
    synack_bind(w->l, 80);
    synack_listen(w->l, 128);
    sim_run_until(w->s, RUN_S * SIM_SEC);
    res->syns = w->syns;
    res->dropped = lab_counter(sim_host_stack(w->srv), "TcpExtPAWSPassive");
    res->done = w->done;
    res->pct = w->syns ? 100.0 * (double)res->dropped / (double)w->syns : 0;
    if (r) {
        int a = lab_add_series(r, "SYNs reaching the server/s");
        int b = lab_add_series(r, "SYNs dropped by tw_recycle/s");
        for (int s = 0; s < RUN_S; s++) {
            lab_point(r, a, s, (double)w->syn_sec[s]);
            lab_point(r, b, s, (double)w->drop_sec[s]);
        }
    }
    sim_set_trace(w->s, NULL, NULL);
    sim_free(w->s);
    free(w);
    free(cl);
    return 0;
}

int lab_tw_recycle_nat(const lab_options *o, lab_result *r) {
    FILE *out = o->out;
    snprintf(r->title, sizeof r->title, "tw-recycle-nat: 8 clients behind one NAT, recycle on");
    snprintf(r->xlabel, sizeof r->xlabel, "virtual time (s)");
    snprintf(r->ylabel, sizeof r->ylabel, "SYNs per second");
    if (out)
        fprintf(out,
                "synack lab tw-recycle-nat\n\n"
                "tcp_tw_recycle (Linux until 4.12) shortened TIME-WAIT to 3.5 x RTO and, to stay\n"
                "safe, remembered the last timestamp seen from each peer ADDRESS: a SYN from\n"
                "that address with an older timestamp (within 60 s) was silently dropped. Behind\n"
                "a NAT many machines share one address but each has its own timestamp clock\n"
                "(its uptime). Here 8 clients with random uptimes sit behind a NAT (10.0.0.1)\n"
                "and fetch a page every 0.2 s from a server that closes first, for %d s.\n\n",
                RUN_S);
    struct { const char *label; int n, recycle, ts; } V[] = {
        {"8 clients, recycle=1, timestamps=2 (no offsets)", 8, 1, 2},
        {"8 clients, recycle=0", 8, 0, 2},
        {"1 client,  recycle=1, timestamps=2 (no offsets)", 1, 1, 2},
        {"1 client,  recycle=1, timestamps=1 (random offsets)", 1, 1, 1},
    };
    rc_out res[4];
    if (out)
        fprintf(out, "  %-52s %8s %9s %9s %10s\n", "setting", "SYNs", "dropped", "dropped%",
                "pages");
    for (int i = 0; i < 4; i++) {
        if (run(o, V[i].n, V[i].recycle, V[i].ts, &res[i], i == 0 ? r : NULL) < 0)
            return -1;
        if (out)
            fprintf(out, "  %-52s %8llu %9llu %8.1f%% %10llu\n", V[i].label,
                    (unsigned long long)res[i].syns, (unsigned long long)res[i].dropped,
                    res[i].pct, (unsigned long long)res[i].done);
    }
    lab_set_fig(r, "syn_dropped_pct_recycle_on", res[0].pct);
    lab_set_fig(r, "syn_dropped_pct_recycle_off", res[1].pct);
    lab_set_fig(r, "syn_dropped_pct_single_client_no_offsets", res[2].pct);
    lab_set_fig(r, "syn_dropped_pct_single_client_random_offsets", res[3].pct);
    lab_set_fig(r, "pages_recycle_on", (double)res[0].done);
    lab_set_fig(r, "pages_recycle_off", (double)res[1].done);
    if (out)
        fprintf(out,
                "\nA dropped SYN is silent: the client retransmits after 1 s, 3 s, 7 s ... and\n"
                "stays stuck while the cached timestamp (from a machine with a faster or older\n"
                "clock) is newer and under 60 s old. With random per-connection timestamp\n"
                "offsets (Linux 4.10, tcp_timestamps=1) every connection has its own clock, so\n"
                "even a single client is hurt; Linux removed tcp_tw_recycle in 4.12. Use\n"
                "tcp_tw_reuse (client side, safe with PAWS) instead.\n");
    return 0;
}
