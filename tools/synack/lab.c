/* lab.c — the `synack lab` framework: the experiment list, key figures,
 * series, JSON/CSV output, a small SVG line-plot writer and the command. */
#include "lab.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "opts.h"

static const lab_experiment EXPERIMENTS[] = {
    {"port-exhaustion", "one client opens connections to one server port as fast as it can "
                        "for 3 virtual minutes: the ports / TIME-WAIT ceiling, then with "
                        "tcp_tw_reuse, a wider port range and a shorter MSL",
     lab_port_exhaustion, 1},
    {"why-time-wait", "a delayed duplicate corrupts a new incarnation when TIME-WAIT is cut "
                      "to zero; a lost last ACK leaves the peer a RST",
     lab_why_time_wait},
    {"why-three-way", "an old duplicate SYN: a two-way handshake (lab-only mode) opens a "
                      "connection nobody asked for; three-way lets the client's RST kill it",
     lab_why_three_way},
    {"why-four-way", "half-close: the ACK of a FIN and the peer's own FIN are separate "
                     "because CLOSE-WAIT lasts as long as the application needs",
     lab_why_four_way, 1},
    {"tw-reuse", "tcp_tw_reuse's rules on the client: timestamps, 1 s since the last one, "
                 "ISS above the old SND.NXT, PAWS guarding the reused 4-tuple",
     lab_tw_reuse},
    {"tw-recycle-nat", "tcp_tw_recycle=1 behind a NAT drops SYNs silently; per-connection "
                       "timestamp offsets hurt even one client: why Linux removed it",
     lab_tw_recycle_nat, 1,
     "its clients share one address behind a NAT, an IPv4 artefact (the simulator's "
     "NAT box is IPv4-only; NAT66 is rare). tcp_tw_recycle's per-address timestamp "
     "cache treats IPv6 peers alike: run it without --ipv6 to see why it went"},
};

const lab_experiment *lab_experiments(size_t *count) {
    *count = sizeof EXPERIMENTS / sizeof EXPERIMENTS[0];
    return EXPERIMENTS;
}

int lab_run(const char *name, const lab_options *o, lab_result *r) {
    memset(r, 0, sizeof *r);
    size_t n;
    const lab_experiment *e = lab_experiments(&n);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(e[i].name, name))
            return o->ipv6 && e[i].no_ipv6 ? -1 : e[i].run(o, r);
    return -1;
}

sim *lab_sim_new(const lab_options *o) {
    sim *s = sim_new(o->seed);
    if (s)
        sim_set_ipv6(s, o->ipv6);
    return s;
}

int lab_connect(synack_sock *k, const sim_host *to, uint16_t port, const lab_options *o) {
    synack_addr a = sim_host_addr(to, o->ipv6 ? SYNACK_AF_INET6 : SYNACK_AF_INET);
    return synack_connect_addr(k, &a, port);
}

char *lab_endpoint(const lab_options *o, uint32_t ip, int index, uint16_t port, char *buf) {
    synack_addr a = o->ipv6 ? sim_ip6_for_index(index) : synack_addr_v4(ip);
    return fmt_addr_endpoint(&a, port, buf);
}

const char *lab_flag(const lab_options *o) { return o->ipv6 ? " --ipv6" : ""; }

void lab_result_free(lab_result *r) {
    for (int i = 0; i < r->nseries; i++) {
        free(r->series[i].x);
        free(r->series[i].y);
    }
    r->nseries = 0;
}

double lab_fig(const lab_result *r, const char *name) {
    for (int i = 0; i < r->nfig; i++)
        if (!strcmp(r->fig[i].name, name))
            return r->fig[i].value;
    return NAN;
}

void lab_set_fig(lab_result *r, const char *name, double value) {
    for (int i = 0; i < r->nfig; i++) {
        if (!strcmp(r->fig[i].name, name)) {
            r->fig[i].value = value;
            return;
        }
    }
    if (r->nfig == LAB_MAX_FIGS)
        return;
    snprintf(r->fig[r->nfig].name, sizeof r->fig[r->nfig].name, "%s", name);
    r->fig[r->nfig++].value = value;
}

int lab_add_series(lab_result *r, const char *name) {
    if (r->nseries == LAB_MAX_SERIES)
        return -1;
    lab_series *s = &r->series[r->nseries];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    return r->nseries++;
}

void lab_point(lab_result *r, int series, double x, double y) {
    if (series < 0 || series >= r->nseries)
        return;
    lab_series *s = &r->series[series];
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        double *nx = realloc(s->x, cap * sizeof *nx);
        if (!nx)
            return;
        s->x = nx;
        double *ny = realloc(s->y, cap * sizeof *ny);
        if (!ny)
            return;
        s->y = ny;
        s->cap = cap;
    }
    s->x[s->n] = x;
    s->y[s->n++] = y;
}

uint64_t lab_counter(synack_stack *s, const char *nstat_name) {
    const synack_counters *c = synack_get_counters(s);
    for (size_t i = 0; i < synack_counter_count(); i++)
        if (!strcmp(synack_counter_name(i), nstat_name))
            return synack_counter_value(c, i);
    return 0;
}

/* ------------------------------------------------------------ output */

void lab_write_json(const lab_result *r, const char *experiment, FILE *out) {
    fprintf(out, "{\"experiment\": \"%s\"", experiment);
    for (int i = 0; i < r->nfig; i++) {
        double v = r->fig[i].value;
        if (isnan(v))
            fprintf(out, ", \"%s\": null", r->fig[i].name);
        else if (v == floor(v) && fabs(v) < 1e15)
            fprintf(out, ", \"%s\": %.0f", r->fig[i].name, v);
        else
            fprintf(out, ", \"%s\": %.6g", r->fig[i].name, v);
    }
    fprintf(out, "}\n");
}

void lab_write_csv(const lab_result *r, FILE *f) {
    fprintf(f, "series,%s,%s\n", r->xlabel[0] ? r->xlabel : "x", r->ylabel[0] ? r->ylabel : "y");
    for (int i = 0; i < r->nseries; i++)
        for (size_t j = 0; j < r->series[i].n; j++)
            fprintf(f, "%s,%.6g,%.6g\n", r->series[i].name, r->series[i].x[j], r->series[i].y[j]);
}

/* A "nice" step for about `n` ticks over `range`. */
static double nice_step(double range, int n) {
    double raw = range / n, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}

static void svg_text(FILE *f, double x, double y, const char *anchor, int size, const char *t) {
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\">", x, y, anchor,
            size);
    for (const char *p = t; *p; p++) {
        if (*p == '<')
            fputs("&lt;", f);
        else if (*p == '&')
            fputs("&amp;", f);
        else if (*p == '>')
            fputs("&gt;", f);
        else
            fputc(*p, f);
    }
    fputs("</text>\n", f);
}

void lab_write_svg(const lab_result *r, FILE *f) {
    static const char *const colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                         "#8c564b"};
    const double W = 800, H = 450, L = 80, R = 20, T = 40, B = 60;
    double xmin = INFINITY, xmax = -INFINITY, ymin = 0, ymax = -INFINITY;
    for (int i = 0; i < r->nseries; i++)
        for (size_t j = 0; j < r->series[i].n; j++) {
            xmin = fmin(xmin, r->series[i].x[j]);
            xmax = fmax(xmax, r->series[i].x[j]);
            ymin = fmin(ymin, r->series[i].y[j]);
            ymax = fmax(ymax, r->series[i].y[j]);
        }
    if (!(xmax > xmin)) {
        xmin = 0;
        xmax = 1;
    }
    if (!(ymax > ymin))
        ymax = ymin + 1;
    double ys = nice_step(ymax - ymin, 5);
    ymax = ceil(ymax / ys) * ys;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "font-family=\"sans-serif\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            W, H);
#define PX(x) (L + ((x) - xmin) / (xmax - xmin) * (W - L - R))
#define PY(y) (H - B - ((y) - ymin) / (ymax - ymin) * (H - T - B))
    svg_text(f, W / 2, 24, "middle", 16, r->title);
    fprintf(f, "<g stroke=\"#ccc\" stroke-width=\"1\">\n");
    for (double y = ymin; y <= ymax + ys / 2; y += ys)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", L, PY(y), W - R, PY(y));
    double xs = nice_step(xmax - xmin, 8);
    for (double x = ceil(xmin / xs) * xs; x <= xmax + xs / 1000; x += xs)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", PX(x), T, PX(x), H - B);
    fprintf(f, "</g>\n");
    char buf[64];
    for (double y = ymin; y <= ymax + ys / 2; y += ys) {
        snprintf(buf, sizeof buf, "%g", y);
        svg_text(f, L - 6, PY(y) + 4, "end", 11, buf);
    }
    for (double x = ceil(xmin / xs) * xs; x <= xmax + xs / 1000; x += xs) {
        snprintf(buf, sizeof buf, "%g", x);
        svg_text(f, PX(x), H - B + 16, "middle", 11, buf);
    }
    svg_text(f, (L + W - R) / 2, H - 20, "middle", 13, r->xlabel);
    fprintf(f, "<g transform=\"translate(18 %.1f) rotate(-90)\">\n", (T + H - B) / 2);
    svg_text(f, 0, 0, "middle", 13, r->ylabel);
    fprintf(f, "</g>\n");
    for (int i = 0; i < r->nseries; i++) {
        const lab_series *s = &r->series[i];
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"",
                colors[i % 6]);
        for (size_t j = 0; j < s->n; j++)
            fprintf(f, "%.1f,%.1f ", PX(s->x[j]), PY(s->y[j]));
        fprintf(f, "\"/>\n");
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"4\" fill=\"%s\"/>\n",
                L + 10, T + 8 + 18.0 * i, colors[i % 6]);
        svg_text(f, L + 30, T + 14 + 18.0 * i, "start", 12, s->name);
    }
#undef PX
#undef PY
    fprintf(f, "</svg>\n");
}

/* ------------------------------------------------------------ the command */

static void usage(FILE *f) {
    fprintf(f, "usage: synack lab EXPERIMENT [--json] [--csv FILE|-] [--plot FILE.svg|-]\n"
               "                             [--seed N] [--ipv6]\n"
               "       synack lab --list\n\n"
               "Experiments about TCP's connection lifecycle, run in the simulator in virtual\n"
               "time. Each prints an explanation and a result table.\n\nexperiments:\n");
    size_t n;
    const lab_experiment *e = lab_experiments(&n);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-16s %s\n", e[i].name, e[i].summary);
    fprintf(f, "\noptions:\n"
               "  --json          print the key figures as one JSON object instead\n"
               "  --csv FILE|-    write the series (a header row naming the axes, then series,x,y\n"
               "                  rows); '-' writes them to stdout instead of the text\n"
               "  --plot FILE|-   draw the series as an SVG line plot ('-': to stdout)\n"
               "  --seed N        simulator seed, 0 to 18446744073709551615 (default 1)\n"
               "  --ipv6          run over IPv6 (hosts fd00::1, fd00::2, ...); all but\n"
               "                  tw-recycle-nat, whose NAT is IPv4-only\n"
               "  --list          list the experiment names\n"
               "  --version       print the version\n\n"
               "--csv and --plot apply to port-exhaustion, why-four-way and tw-recycle-nat;\n"
               "their files are opened before the run. Exit status: 0, 1 when a file could\n"
               "not be opened or written, 2 on bad usage.\n");
}

static const lab_experiment *find_experiment(const char *name) {
    size_t n;
    const lab_experiment *e = lab_experiments(&n);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(e[i].name, name))
            return &e[i];
    return NULL;
}

/* One series output: --csv or --plot, its path, and its stream. */
typedef struct lab_output {
    const char *opt, *path;
    FILE *f;
} lab_output;

/* Open the series outputs before the run, so a bad path fails at once
 * instead of after it. Returns 0, or 1 (message printed). */
static int open_outputs(lab_output *out, int nout) {
    for (int i = 0; i < nout; i++) {
        if (!out[i].path)
            continue;
        out[i].f = strcmp(out[i].path, "-") ? fopen(out[i].path, "w") : stdout;
        if (!out[i].f) {
            fprintf(stderr, "synack lab: %s %s: %s\n", out[i].opt, out[i].path, strerror(errno));
            return 1;
        }
    }
    return 0;
}

/* Close the outputs unwritten (a file stays empty). */
static void close_outputs(lab_output *out, int nout) {
    for (int i = 0; i < nout; i++)
        if (out[i].f && out[i].f != stdout)
            fclose(out[i].f);
}

/* Write and close the outputs. Returns 0, or 1 (message printed). */
static int write_outputs(const lab_result *r, lab_output *out, int nout) {
    int status = 0;
    for (int i = 0; i < nout; i++) {
        if (!out[i].f)
            continue;
        char why[128];
        snprintf(why, sizeof why, "the experiment drew no series"); /* has_series is wrong */
        if (r->nseries > 0 && out[i].opt[2] == 'c')
            lab_write_csv(r, out[i].f);
        else if (r->nseries > 0)
            lab_write_svg(r, out[i].f);
        if (opts_close_file(out[i].f, why, sizeof why) < 0 || r->nseries == 0) {
            fprintf(stderr, "synack lab: %s %s: %s\n", out[i].opt, out[i].path, why);
            status = 1;
        }
        out[i].f = NULL;
    }
    return status;
}

/* The command line's own errors, before anything runs. 0, or 2 (message
 * printed). */
static int check_usage(const char *name, int json, int ipv6, const lab_output *out, int nout) {
    if (!name) {
        fprintf(stderr, "synack lab: give an experiment (synack lab --list names them)\n");
        return 2;
    }
    const lab_experiment *e = find_experiment(name);
    if (!e) {
        fprintf(stderr, "synack lab: unknown experiment '%s' (see synack lab --list)\n", name);
        return 2;
    }
    if (ipv6 && e->no_ipv6) {
        fprintf(stderr, "synack lab: %s cannot run over IPv6: %s\n", name, e->no_ipv6);
        return 2;
    }
    int to_stdout = json;
    for (int i = 0; i < nout; i++) {
        if (!out[i].path)
            continue;
        if (!e->has_series) {
            fprintf(stderr, "synack lab: %s %s: %s has no series (port-exhaustion, "
                            "why-four-way and tw-recycle-nat have)\n",
                    out[i].opt, out[i].path, name);
            return 2;
        }
        if (!strcmp(out[i].path, "-") && to_stdout++) {
            fprintf(stderr, "synack lab: %s -: stdout already carries %s\n", out[i].opt,
                    json ? "--json" : out[0].opt);
            return 2;
        }
    }
    return 0;
}

int lab_main(int argc, char **argv) {
    const char *name = NULL;
    int json = 0;
    lab_options o = {stdout, 1, 0, 0};
    lab_output out[2] = {{"--csv", NULL, NULL}, {"--plot", NULL, NULL}};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (opts_is_help(a)) {
            usage(stdout);
            return 0;
        } else if (opts_is_version(a)) {
            return opts_print_version();
        } else if (!strcmp(a, "--list")) {
            size_t n;
            const lab_experiment *e = lab_experiments(&n);
            for (size_t k = 0; k < n; k++)
                printf("%s\n", e[k].name);
            return 0;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--ipv6")) {
            o.ipv6 = 1;
        } else if (!strcmp(a, "--csv") || !strcmp(a, "--plot") || !strcmp(a, "--seed")) {
            if (!(v = opts_value("lab", argc, argv, &i)))
                return 2;
            if (a[2] != 's')
                out[a[2] == 'c' ? 0 : 1].path = v;
            else if (opts_u64(v, &o.seed) < 0) {
                fprintf(stderr, "synack lab: --seed %s: not a whole number from 0 to "
                                "18446744073709551615\n", v);
                return 2;
            }
        } else if (a[0] == '-' && a[1]) {
            return opts_usage_error("lab", a, "unknown option");
        } else if (!name) {
            name = a;
        } else {
            fprintf(stderr, "synack lab: one experiment at a time ('%s' and '%s')\n", name, a);
            return 2;
        }
    }
    int status = check_usage(name, json, o.ipv6, out, 2);
    if (status)
        return status;
    if (open_outputs(out, 2)) {
        close_outputs(out, 2);
        return 1;
    }
    int csv_out = out[0].path && !strcmp(out[0].path, "-");
    int plot_out = out[1].path && !strcmp(out[1].path, "-");
    if (json || csv_out || plot_out)
        o.out = NULL;
    lab_result r;
    if (lab_run(name, &o, &r) < 0) {
        fprintf(stderr, "synack lab: %s: the experiment could not run (out of memory)\n", name);
        close_outputs(out, 2);
        lab_result_free(&r);
        return 1;
    }
    if (json)
        lab_write_json(&r, name, stdout);
    status = write_outputs(&r, out, 2);
    if (!json && !csv_out && !plot_out && (out[0].path || out[1].path) && status == 0)
        printf("\nwrote%s%s%s%s\n", out[0].path ? " " : "", out[0].path ? out[0].path : "",
               out[1].path ? " " : "", out[1].path ? out[1].path : "");
    lab_result_free(&r);
    return status;
}
