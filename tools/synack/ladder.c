/* ladder.c — the ladder diagram renderer (see ladder.h). */
#include "ladder.h"

#include <stdlib.h>
#include <string.h>

#include "fmt.h"

enum { R_SEG = 1, R_SEGOUT, R_STATE, R_NOTE };

/* Sequence-space order (RFC 9293 §3.4), for spotting retransmissions. */
static int seq_before(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }

typedef struct rec {
    int kind;
    uint64_t t;
    int side;
    /* R_SEG: a frame on the link; R_SEGOUT: the stack's own record of a
     * segment it sent (used for its retransmit flag only) */
    uint64_t frame_id;
    uint16_t sport, dport;
    synack_seg_info seg;
    uint8_t lost, dup, corrupt, reorder, dropped_mtu, dropped_queue;
    uint8_t inferred_rexmit; /* repeats sequence space already sent */
    uint8_t stack_rexmit;    /* the stack said so (valid when matched) */
    uint8_t matched;         /* R_SEG: a stack SEG_OUT was found       */
    int origin;
    /* R_STATE */
    int old_state, new_state;
    /* R_STATE cause, R_NOTE text */
    char text[72];
} rec;

struct ladder {
    int host[2];
    char name[2][32];
    rec *r;
    size_t n, cap;
    ladder_track tr[2];
    int have_isn[2];
    uint32_t isn[2];
    int have_max[2];
    uint32_t snd_max[2];
    int have_ts0[2];
    uint32_t ts0[2];
    int8_t ws[2];
    int have_ep;
    synack_addr ep_addr[2]; /* either family, from the first segment */
    uint16_t ep_port[2];
};

/* ------------------------------------------------------------ tracking */

void ladder_track_init(ladder_track *tr) {
    memset(tr, 0, sizeof *tr);
    tr->state = SYNACK_CLOSED;
}

int ladder_track_event(ladder_track *tr, const synack_trace_event *ev) {
    if (ev->kind != SYNACK_TRACE_STATE)
        return 0;
    if (tr->have_main) {
        if (ev->conn_id != tr->main_id)
            return 0;
    } else {
        int listener = ev->new_state == SYNACK_LISTEN ||
                       (ev->old_state == SYNACK_LISTEN && ev->new_state == SYNACK_CLOSED);
        if (listener) {
            if (ev->new_state != SYNACK_LISTEN)
                return 0; /* a listener closing is not the connection's story */
        } else {
            tr->have_main = 1;
            tr->main_id = ev->conn_id;
        }
    }
    tr->state = ev->new_state;
    return 1;
}

/* ------------------------------------------------------------ recording */

ladder *ladder_new(int left_host, int right_host) {
    ladder *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->host[0] = left_host;
    l->host[1] = right_host;
    ladder_track_init(&l->tr[0]);
    ladder_track_init(&l->tr[1]);
    l->ws[0] = l->ws[1] = -1;
    strcpy(l->name[0], "left");
    strcpy(l->name[1], "right");
    return l;
}

void ladder_free(ladder *l) {
    if (!l)
        return;
    free(l->r);
    free(l);
}

static rec *push(ladder *l) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        rec *n = realloc(l->r, cap * sizeof *n);
        if (!n)
            return NULL;
        l->r = n;
        l->cap = cap;
    }
    rec *r = &l->r[l->n++];
    memset(r, 0, sizeof *r);
    return r;
}

static int side_of(const ladder *l, int host_index) {
    if (host_index == l->host[0])
        return 0;
    if (host_index == l->host[1])
        return 1;
    return -1;
}

static void copy_text(char *dst, size_t cap, const char *src) {
    snprintf(dst, cap, "%s", src ? src : "");
}

void ladder_note(ladder *l, uint64_t t_ns, int side, const char *text) {
    rec *r = push(l);
    if (!r)
        return;
    r->kind = R_NOTE;
    r->t = t_ns;
    r->side = side ? 1 : 0;
    copy_text(r->text, sizeof r->text, text);
}

static int same_seg(const synack_seg_info *a, const synack_seg_info *b) {
    return a->seq == b->seq && a->flags == b->flags && a->len == b->len && a->ack == b->ack;
}

/* A stack SEG_OUT and a link SEND for the same segment happen within the
 * same synack call, in either order: pair them up. */
static void match_segout(ladder *l, rec *nr) {
    for (size_t i = l->n - 1; i-- > 0;) {
        rec *r = &l->r[i];
        if (r->t != nr->t)
            break;
        if (r->side != nr->side || r->matched)
            continue;
        if (nr->kind == R_SEG && r->kind == R_SEGOUT && same_seg(&r->seg, &nr->seg)) {
            nr->matched = r->matched = 1;
            nr->stack_rexmit = r->stack_rexmit;
            return;
        }
        if (nr->kind == R_SEGOUT && r->kind == R_SEG && same_seg(&r->seg, &nr->seg)) {
            nr->matched = r->matched = 1;
            r->stack_rexmit = nr->stack_rexmit;
            return;
        }
    }
}

static rec *find_frame(ladder *l, uint64_t frame_id) {
    for (size_t i = l->n; i-- > 0;) {
        if (l->r[i].kind == R_SEG && l->r[i].frame_id == frame_id)
            return &l->r[i];
        if (l->r[i].kind == R_SEG && l->r[i].frame_id < frame_id)
            break;
    }
    return NULL;
}

static void observe_segment(ladder *l, int side, const sim_trace *t) {
    const sim_frame_info *fi = &t->info;
    rec *r = push(l);
    if (!r)
        return;
    r->kind = R_SEG;
    r->t = t->time_ns;
    r->side = side;
    r->frame_id = t->frame_id;
    r->sport = fi->src_port;
    r->dport = fi->dst_port;
    r->seg = fi->seg;
    r->origin = t->origin;
    if (t->link_event == SIM_LINK_DROP_MTU)
        r->dropped_mtu = 1;
    if (t->link_event == SIM_LINK_DROP_QUEUE)
        r->dropped_queue = 1;

    const synack_seg_info *s = &fi->seg;
    if (!l->have_ep) {
        l->have_ep = 1;
        l->ep_addr[side] = fi->src;
        l->ep_port[side] = fi->src_port;
        l->ep_addr[!side] = fi->dst;
        l->ep_port[!side] = fi->dst_port;
    }
    if ((s->flags & SYNACK_SYN) && !l->have_isn[side]) {
        l->have_isn[side] = 1;
        l->isn[side] = s->seq;
        l->ws[side] = s->wscale;
    }
    if (s->has_ts && !l->have_ts0[side]) {
        l->have_ts0[side] = 1;
        l->ts0[side] = s->ts_val;
    }
    uint32_t span = s->len + !!(s->flags & SYNACK_SYN) + !!(s->flags & SYNACK_FIN);
    if (span > 0 && !(s->flags & SYNACK_RST)) {
        uint32_t end = s->seq + span;
        if (l->have_max[side] && seq_before(s->seq, l->snd_max[side]))
            r->inferred_rexmit = 1;
        if (!l->have_max[side] || seq_before(l->snd_max[side], end))
            l->snd_max[side] = end;
        l->have_max[side] = 1;
    }
    match_segout(l, r);
}

void ladder_observe(ladder *l, const sim_trace *t) {
    int side = side_of(l, t->host_index);
    if (side < 0)
        return;
    if (t->host_name)
        copy_text(l->name[side], sizeof l->name[side], t->host_name);

    if (t->kind == SIM_TRACE_LINK) {
        if (!t->info.is_tcp || (t->peer && side_of(l, sim_host_index(t->peer)) != !side))
            return;
        switch (t->link_event) {
        case SIM_LINK_SEND:
        case SIM_LINK_DROP_MTU:
        case SIM_LINK_DROP_QUEUE:
            observe_segment(l, side, t);
            break;
        default: {
            rec *r = find_frame(l, t->frame_id);
            if (!r)
                break;
            if (t->link_event == SIM_LINK_LOSS)
                r->lost = 1;
            else if (t->link_event == SIM_LINK_DUPLICATE)
                r->dup = 1;
            else if (t->link_event == SIM_LINK_CORRUPT)
                r->corrupt = 1;
            else if (t->link_event == SIM_LINK_REORDER)
                r->reorder = 1;
            break;
        }
        }
        return;
    }

    const synack_trace_event *ev = t->ev;
    if (ev->kind == SYNACK_TRACE_SEG_OUT) {
        rec *r = push(l);
        if (!r)
            return;
        r->kind = R_SEGOUT;
        r->t = t->time_ns;
        r->side = side;
        r->seg = ev->seg;
        r->stack_rexmit = ev->retransmit;
        copy_text(r->text, sizeof r->text, ev->cause);
        match_segout(l, r);
    } else if (ev->kind == SYNACK_TRACE_STATE) {
        if (!ladder_track_event(&l->tr[side], ev))
            return;
        rec *r = push(l);
        if (!r)
            return;
        r->kind = R_STATE;
        r->t = t->time_ns;
        r->side = side;
        r->old_state = ev->old_state;
        r->new_state = ev->new_state;
        r->origin = t->origin;
        copy_text(r->text, sizeof r->text, ev->cause);
    }
}

/* ------------------------------------------------------------ statistics */

static int is_rexmit(const rec *r) { return r->matched ? r->stack_rexmit : r->inferred_rexmit; }

void ladder_stats(const ladder *l, int dir, ladder_dir_stats *out) {
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < l->n; i++) {
        const rec *r = &l->r[i];
        if (r->kind != R_SEG || r->side != dir)
            continue;
        out->segments++;
        out->payload_bytes += r->seg.len;
        if (is_rexmit(r)) {
            out->retransmits++;
            if (r->origin == SIM_ORIGIN_POLL)
                out->rto++;
        }
        if (r->lost || r->dropped_mtu || r->dropped_queue)
            out->lost++;
    }
}

void ladder_endpoints(const ladder *l, synack_addr addr[2], uint16_t port[2]) {
    for (int i = 0; i < 2; i++) {
        if (l->have_ep)
            addr[i] = l->ep_addr[i];
        else
            memset(&addr[i], 0, sizeof addr[i]);
        port[i] = l->have_ep ? l->ep_port[i] : 0;
    }
}

/* ------------------------------------------------------------ rendering */

typedef struct lbuf {
    char b[4096];
    size_t n;
    size_t cols;
} lbuf;

static void lb_put(lbuf *b, const char *s) {
    size_t len = strlen(s);
    if (b->n + len >= sizeof b->b)
        len = sizeof b->b - 1 - b->n;
    memcpy(b->b + b->n, s, len);
    b->n += len;
    b->b[b->n] = '\0';
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            b->cols++;
}

static void lb_rep(lbuf *b, const char *s, size_t count) {
    for (size_t i = 0; i < count; i++)
        lb_put(b, s);
}

static void lb_pad(lbuf *b, size_t col) {
    while (b->cols < col)
        lb_put(b, " ");
}

static void lb_end(lbuf *b, FILE *out) {
    while (b->n > 0 && b->b[b->n - 1] == ' ')
        b->b[--b->n] = '\0';
    fprintf(out, "%s\n", b->b);
}

typedef struct glyphs {
    const char *dash, *right, *left, *lost, *arrow_mid;
} glyphs;

static const glyphs G_UTF8 = {"\u2500", "\u25b6", "\u25c0", "\u2717", "\u2192"};
static const glyphs G_ASCII = {"-", ">", "<", "x", "->"};

#define TIME_W 10
#define STATE_W 13

typedef struct layout {
    size_t arrow_w;
    size_t left_col, arrow_col, right_col, note_col;
    const glyphs *g;
    int absolute;
} layout;

static uint32_t rel(const ladder *l, const layout *lo, int side, uint32_t v) {
    return (lo->absolute || !l->have_isn[side]) ? v : v - l->isn[side];
}

static void seg_label(const ladder *l, const layout *lo, const rec *r, char *buf, size_t cap) {
    const synack_seg_info *s = &r->seg;
    int me = r->side, peer = !r->side;
    char flags[40];
    size_t n = 0;
    n += (size_t)snprintf(buf + n, cap - n, "%s", fmt_flags(s->flags, flags));
    int show_seq = s->len || (s->flags & (SYNACK_SYN | SYNACK_FIN | SYNACK_RST)) ||
                   !(s->flags & SYNACK_ACK);
    if (show_seq && n < cap)
        n += (size_t)snprintf(buf + n, cap - n, " seq=%u", rel(l, lo, me, s->seq));
    if ((s->flags & SYNACK_ACK) && n < cap)
        n += (size_t)snprintf(buf + n, cap - n, " ack=%u", rel(l, lo, peer, s->ack));
    uint32_t win = s->wnd;
    if (!(s->flags & SYNACK_SYN) && l->ws[0] >= 0 && l->ws[1] >= 0)
        win <<= (l->ws[me] > 14 ? 14 : l->ws[me]);
    if (!(s->flags & SYNACK_RST) && n < cap)
        n += (size_t)snprintf(buf + n, cap - n, " win=%u", win);
    if (s->len && n < cap)
        n += (size_t)snprintf(buf + n, cap - n, " len=%u", s->len);

    char opt[200];
    size_t o = 0;
    opt[0] = '\0';
#define OPT(...)                                                                  \
    do {                                                                          \
        if (o < sizeof opt) {                                                     \
            if (o)                                                                \
                o += (size_t)snprintf(opt + o, sizeof opt - o, ",");              \
            if (o < sizeof opt)                                                   \
                o += (size_t)snprintf(opt + o, sizeof opt - o, __VA_ARGS__);      \
        }                                                                         \
    } while (0)
    if (s->mss)
        OPT("mss %u", (unsigned)s->mss);
    if (s->sack_ok)
        OPT("sackOK");
    if (s->has_ts) {
        uint32_t val = s->ts_val, ecr = s->ts_ecr;
        if (!lo->absolute) {
            if (l->have_ts0[me])
                val -= l->ts0[me];
            if (ecr && l->have_ts0[peer])
                ecr -= l->ts0[peer];
        }
        OPT("ts %u/%u", val, ecr);
    }
    if (s->wscale >= 0)
        OPT("ws %d", (int)s->wscale);
    for (unsigned i = 0; i < s->sack_blocks && i < 4; i++)
        OPT("sack %u-%u", rel(l, lo, peer, s->sack[i][0]), rel(l, lo, peer, s->sack[i][1]));
#undef OPT
    if (opt[0] && n < cap)
        snprintf(buf + n, cap - n, " <%s>", opt);
}

static void seg_notes(const rec *r, char *buf, size_t cap) {
    buf[0] = '\0';
    size_t n = 0;
#define NOTE(s)                                                                   \
    do {                                                                          \
        if (n < cap)                                                              \
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", s);    \
    } while (0)
    if (is_rexmit(r))
        NOTE(r->origin == SIM_ORIGIN_POLL ? "retransmit (RTO)" : "retransmit");
    if (r->lost)
        NOTE("lost");
    if (r->dropped_mtu)
        NOTE("dropped: over MTU");
    if (r->dropped_queue)
        NOTE("dropped: queue full");
    if (r->corrupt)
        NOTE("corrupted");
    if (r->reorder)
        NOTE("delayed (reordered)");
    if (r->dup)
        NOTE("duplicated");
#undef NOTE
}

static void truncate_to(char *s, size_t cols) {
    if (strlen(s) > cols && cols >= 3) {
        s[cols - 3] = '\0';
        strcat(s, "...");
    }
}

static void draw_arrow(lbuf *b, const layout *lo, int side, const char *label, int lost) {
    const glyphs *g = lo->g;
    size_t lw = fmt_width(label);
    size_t len = lo->arrow_w;
    if (lost) {
        size_t short_len = lo->arrow_w * 3 / 4;
        if (short_len < lw + 6)
            short_len = lw + 6;
        if (short_len < len)
            len = short_len;
    }
    size_t start = b->cols;
    if (side == 0) {
        lb_rep(b, g->dash, 2);
        lb_put(b, label);
        lb_rep(b, g->dash, len > lw + 3 ? len - lw - 3 : 0);
        lb_put(b, lost ? g->lost : g->right);
    } else {
        lb_pad(b, start + (lo->arrow_w - len));
        lb_put(b, lost ? g->lost : g->left);
        lb_rep(b, g->dash, 2);
        lb_put(b, label);
        lb_rep(b, g->dash, len > lw + 3 ? len - lw - 3 : 0);
    }
}

static void left_state(lbuf *b, int cur[2], int shown[2]) {
    if (cur[0] >= 0 && cur[0] != shown[0]) {
        lb_put(b, synack_state_name(cur[0]));
        shown[0] = cur[0];
    }
}

static void row_start(lbuf *b, uint64_t t) {
    char tm[32];
    snprintf(tm, sizeof tm, "%*.3f", TIME_W, (double)t / 1e6);
    memset(b, 0, sizeof *b);
    lb_put(b, tm);
    lb_put(b, "  ");
}

static void right_state(lbuf *b, const layout *lo, int cur[2], int shown[2]) {
    lb_pad(b, lo->right_col);
    if (cur[1] >= 0 && cur[1] != shown[1]) {
        lb_put(b, synack_state_name(cur[1]));
        shown[1] = cur[1];
    }
}

/* Should a state change at r be shown on a segment row at the same instant
 * rather than on a row of its own? */
static int defer_state(const ladder *l, size_t i) {
    const rec *r = &l->r[i];
    for (size_t j = i + 1; j < l->n; j++) {
        const rec *q = &l->r[j];
        if (q->t != r->t)
            return 0;
        if (q->kind == R_SEG)
            return 1;
        if (q->kind == R_STATE && q->side == r->side)
            return 0; /* show each state the connection passes through */
        if (q->kind == R_NOTE)
            return 0;
    }
    return 0;
}

static void state_note(const rec *r, const layout *lo, char *buf, size_t cap) {
    if (r->old_state == SYNACK_TIME_WAIT && r->new_state == SYNACK_CLOSED) {
        snprintf(buf, cap, "TIME-WAIT expired (2MSL timer)");
        (void)lo;
    } else if (r->text[0]) {
        snprintf(buf, cap, "(%s)", r->text);
    } else {
        snprintf(buf, cap, "%s %s %s", synack_state_name(r->old_state), lo->g->arrow_mid,
                 synack_state_name(r->new_state));
    }
}

static void side_text(lbuf *b, const layout *lo, int side, const char *text) {
    if (side == 0) {
        lb_pad(b, lo->arrow_col);
        lb_put(b, text);
    } else {
        size_t w = fmt_width(text);
        size_t end = lo->arrow_col + lo->arrow_w;
        lb_pad(b, end > w ? (end - w > lo->arrow_col ? end - w : lo->arrow_col) : lo->arrow_col);
        lb_put(b, text);
    }
}

void ladder_render(const ladder *l, FILE *out, const ladder_style *style) {
    ladder_style st = style ? *style : (ladder_style){0};
    size_t width = st.width > 0 ? (size_t)st.width : 100;
    layout lo;
    memset(&lo, 0, sizeof lo);
    lo.g = st.ascii ? &G_ASCII : &G_UTF8;
    lo.absolute = st.absolute;

    size_t base = width > 60 ? width - 40 : 20;
    size_t maxlab = 0;
    char label[256], notes[160], text[160];
    for (size_t i = 0; i < l->n; i++) {
        if (l->r[i].kind != R_SEG)
            continue;
        seg_label(l, &lo, &l->r[i], label, sizeof label);
        size_t w = fmt_width(label);
        if (w > maxlab)
            maxlab = w;
    }
    lo.arrow_w = base;
    if (maxlab + 6 > lo.arrow_w)
        lo.arrow_w = maxlab + 6 > base + 16 ? base + 16 : maxlab + 6;
    lo.left_col = TIME_W + 2;
    lo.arrow_col = lo.left_col + STATE_W + 1;
    lo.right_col = lo.arrow_col + lo.arrow_w + 1;
    lo.note_col = lo.right_col + STATE_W + 1;

    /* header */
    lbuf b;
    char ep[FMT_ENDPOINT_LEN];
    memset(&b, 0, sizeof b);
    lb_pad(&b, TIME_W - 5);
    lb_put(&b, "t(ms)  ");
    lb_pad(&b, lo.left_col);
    lb_put(&b, l->name[0]);
    if (l->have_ep) {
        lb_put(&b, " ");
        lb_put(&b, fmt_addr_endpoint(&l->ep_addr[0], l->ep_port[0], ep));
    }
    snprintf(text, sizeof text, "%s%s%s", l->name[1], l->have_ep ? " " : "",
             l->have_ep ? fmt_addr_endpoint(&l->ep_addr[1], l->ep_port[1], ep) : "");
    lb_pad(&b, lo.right_col + STATE_W > fmt_width(text) ? lo.right_col + STATE_W - fmt_width(text) : 0);
    lb_put(&b, text);
    lb_end(&b, out);

    int cur[2] = {-1, -1}, shown[2] = {-1, -1};
    for (size_t i = 0; i < l->n; i++) {
        const rec *r = &l->r[i];
        switch (r->kind) {
        case R_SEGOUT:
            break;
        case R_STATE:
            cur[r->side] = r->new_state;
            if (defer_state(l, i))
                break;
            row_start(&b, r->t);
            left_state(&b, cur, shown);
            state_note(r, &lo, text, sizeof text);
            side_text(&b, &lo, r->side, text);
            right_state(&b, &lo, cur, shown);
            lb_end(&b, out);
            break;
        case R_NOTE:
            row_start(&b, r->t);
            left_state(&b, cur, shown);
            snprintf(text, sizeof text, "[%s]", r->text);
            side_text(&b, &lo, r->side, text);
            right_state(&b, &lo, cur, shown);
            lb_end(&b, out);
            break;
        case R_SEG:
            row_start(&b, r->t);
            left_state(&b, cur, shown);
            lb_pad(&b, lo.arrow_col);
            seg_label(l, &lo, r, label, sizeof label);
            truncate_to(label, lo.arrow_w - 6);
            draw_arrow(&b, &lo, r->side, label, r->lost || r->dropped_mtu || r->dropped_queue);
            right_state(&b, &lo, cur, shown);
            seg_notes(r, notes, sizeof notes);
            if (notes[0]) {
                lb_pad(&b, lo.note_col);
                lb_put(&b, notes);
            }
            lb_end(&b, out);
            break;
        }
    }
}
