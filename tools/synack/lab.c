/* lab.c — the `synack lab` framework: the experiment list, key figures,
 * series, JSON/CSV output, a small SVG line-plot writer and the command. */
#include "lab.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"

static const lab_experiment EXPERIMENTS[] = {
    {"port-exhaustion", "one client opens connections to one server port as fast as it can "
                        "for 3 virtual minutes: the ports / TIME-WAIT ceiling, then with "
                        "tcp_tw_reuse, a wider port range and a shorter MSL",
     lab_port_exhaustion},
    {"why-time-wait", "a delayed duplicate corrupts a new incarnation when TIME-WAIT is cut "
                      "to zero; a lost last ACK leaves the peer a RST",
     lab_why_time_wait},
    {"why-three-way", "an old duplicate SYN: a two-way handshake (lab-only mode) opens a "
                      "connection nobody asked for; three-way lets the client's RST kill it",
     lab_why_three_way},
    {"why-four-way", "half-close: the ACK of a FIN and the peer's own FIN are separate "
                     "because CLOSE-WAIT lasts as long as the application needs",
     lab_why_four_way},
    {"tw-reuse", "tcp_tw_reuse's rules on the client: timestamps, 1 s since the last one, "
                 "ISS above the old SND.NXT, PAWS guarding the reused 4-tuple",
     lab_tw_reuse},
    {"tw-recycle-nat", "tcp_tw_recycle=1 behind a NAT drops SYNs silently; per-connection "
                       "timestamp offsets hurt even one client: why Linux removed it",
     lab_tw_recycle_nat},
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
            return e[i].run(o, r);
    return -1;
}

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

int lab_write_csv(const lab_result *r, const char *path) {
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "series,%s,%s\n", r->xlabel[0] ? r->xlabel : "x", r->ylabel[0] ? r->ylabel : "y");
    for (int i = 0; i < r->nseries; i++)
        for (size_t j = 0; j < r->series[i].n; j++)
            fprintf(f, "%s,%.6g,%.6g\n", r->series[i].name, r->series[i].x[j], r->series[i].y[j]);
    return fclose(f) == 0 ? 0 : -1;
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

int lab_write_svg(const lab_result *r, const char *path) {
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
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
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
    return fclose(f) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ the command */

static void usage(FILE *f) {
    fprintf(f, "usage: synack lab EXPERIMENT [--json] [--csv FILE] [--plot FILE.svg] [--seed N]\n\n"
               "Experiments about TCP's connection lifecycle, run in the simulator in virtual\n"
               "time. Each prints an explanation and a result table.\n\nexperiments:\n");
    size_t n;
    const lab_experiment *e = lab_experiments(&n);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-16s %s\n", e[i].name, e[i].summary);
    fprintf(f, "\noptions:\n"
               "  --json          print the key figures as one JSON object instead\n"
               "  --csv FILE      write the series (a header row naming the axes, then series,x,y rows)\n"
               "  --plot FILE     draw the series as an SVG line plot\n"
               "  --seed N        simulator seed (default 1)\n");
}

int lab_main(int argc, char **argv) {
    const char *name = NULL, *csv = NULL, *plot = NULL;
    int json = 0;
    lab_options o = {stdout, 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (opts_is_help(a)) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if ((!strcmp(a, "--csv") || !strcmp(a, "--plot") || !strcmp(a, "--seed")) &&
                   i + 1 < argc) {
            if (!strcmp(a, "--csv"))
                csv = argv[++i];
            else if (!strcmp(a, "--plot"))
                plot = argv[++i];
            else
                o.seed = strtoull(argv[++i], NULL, 0);
        } else if (a[0] == '-') {
            fprintf(stderr, "synack lab: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (!name) {
            name = a;
        } else {
            fprintf(stderr, "synack lab: one experiment at a time\n");
            return 2;
        }
    }
    if (!name) {
        usage(stderr);
        return 2;
    }
    if (json)
        o.out = NULL;
    lab_result r;
    if (lab_run(name, &o, &r) < 0) {
        fprintf(stderr, "synack lab: unknown experiment '%s'\n", name);
        usage(stderr);
        return 2;
    }
    int status = 0;
    if (json)
        lab_write_json(&r, name, stdout);
    if (csv && (r.nseries == 0 || lab_write_csv(&r, csv) < 0)) {
        fprintf(stderr, "synack lab: %s: %s\n", csv, r.nseries ? "cannot write" : "no series in this experiment");
        status = 1;
    }
    if (plot && (r.nseries == 0 || lab_write_svg(&r, plot) < 0)) {
        fprintf(stderr, "synack lab: %s: %s\n", plot, r.nseries ? "cannot write" : "no series in this experiment");
        status = 1;
    }
    if (!json && (csv || plot) && status == 0)
        printf("\nwrote%s%s%s%s\n", csv ? " " : "", csv ? csv : "", plot ? " " : "", plot ? plot : "");
    lab_result_free(&r);
    return status;
}
