/* json.c — trace events as JSON lines (see json.h). */
#include "json.h"

#include "fmt.h"

void json_write_string(FILE *out, const char *s) {
    fputc('"', out);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (c < 0x20)
                fprintf(out, "\\u%04x", c);
            else
                fputc(c, out);
        }
    }
    fputc('"', out);
}

static const char *origin_name(int o) {
    switch (o) {
    case SIM_ORIGIN_INPUT: return "input";
    case SIM_ORIGIN_POLL: return "timer";
    case SIM_ORIGIN_APP: return "app";
    }
    return "none";
}

static const char *kind_name(int k) {
    switch (k) {
    case SYNACK_TRACE_STATE: return "state";
    case SYNACK_TRACE_SEG_IN: return "seg_in";
    case SYNACK_TRACE_SEG_OUT: return "seg_out";
    case SYNACK_TRACE_DROP: return "drop";
    }
    return "unknown";
}

static void write_seg(FILE *out, const synack_seg_info *s) {
    char flags[40];
    fprintf(out, ",\"flags\":\"%s\",\"seq\":%u,\"ack\":%u,\"win\":%u,\"len\":%u",
            fmt_flags(s->flags, flags), s->seq, s->ack, (unsigned)s->wnd, s->len);
    if (s->mss)
        fprintf(out, ",\"mss\":%u", (unsigned)s->mss);
    if (s->wscale >= 0)
        fprintf(out, ",\"wscale\":%d", (int)s->wscale);
    if (s->sack_ok)
        fputs(",\"sack_ok\":true", out);
    if (s->has_ts)
        fprintf(out, ",\"ts_val\":%u,\"ts_ecr\":%u", s->ts_val, s->ts_ecr);
    if (s->sack_blocks) {
        fputs(",\"sack\":[", out);
        for (unsigned i = 0; i < s->sack_blocks && i < 4; i++)
            fprintf(out, "%s[%u,%u]", i ? "," : "", s->sack[i][0], s->sack[i][1]);
        fputc(']', out);
    }
}

/* An ICMP or ICMPv6 message (Neighbour Discovery included): its addresses,
 * type and code (RFC 792, RFC 4443). */
static void write_icmp(FILE *out, const sim_frame_info *fi) {
    char a[SYNACK_ADDR_TEXT], b[SYNACK_ADDR_TEXT];
    fprintf(out, ",\"proto\":\"%s\",\"src\":\"%s\",\"dst\":\"%s\",\"icmp_type\":%u,"
                 "\"icmp_code\":%u",
            fi->is_ipv6 ? "icmpv6" : "icmp", synack_addr_format(&fi->src, a, sizeof a),
            synack_addr_format(&fi->dst, b, sizeof b), (unsigned)fi->icmp_type,
            (unsigned)fi->icmp_code);
}

void json_write_trace(FILE *out, const sim_trace *t) {
    char a[FMT_ENDPOINT_LEN], b[FMT_ENDPOINT_LEN];
    fprintf(out, "{\"t_ns\":%llu,\"host\":", (unsigned long long)t->time_ns);
    json_write_string(out, t->host_name);
    fprintf(out, ",\"origin\":\"%s\"", origin_name(t->origin));

    if (t->kind == SIM_TRACE_STACK) {
        const synack_trace_event *ev = t->ev;
        fprintf(out, ",\"type\":\"%s\",\"conn\":%u", kind_name(ev->kind), ev->conn_id);
        fprintf(out, ",\"local\":\"%s\",\"remote\":\"%s\"",
                fmt_event_endpoint(ev, 1, a), fmt_event_endpoint(ev, 0, b));
        if (ev->kind == SYNACK_TRACE_STATE)
            fprintf(out, ",\"old\":\"%s\",\"new\":\"%s\"", synack_state_name(ev->old_state),
                    synack_state_name(ev->new_state));
        if (ev->cause) {
            fputs(",\"cause\":", out);
            json_write_string(out, ev->cause);
        }
        if (ev->kind != SYNACK_TRACE_STATE)
            write_seg(out, &ev->seg);
        if (ev->kind == SYNACK_TRACE_SEG_OUT)
            fprintf(out, ",\"retransmit\":%s", ev->retransmit ? "true" : "false");
    } else {
        fprintf(out, ",\"type\":\"link\",\"event\":\"%s\",\"to\":", sim_link_event_name(t->link_event));
        json_write_string(out, t->peer ? sim_host_name(t->peer) : NULL);
        fprintf(out, ",\"frame\":%llu,\"bytes\":%zu", (unsigned long long)t->frame_id, t->len);
        if (t->arrival_ns)
            fprintf(out, ",\"arrival_ns\":%llu", (unsigned long long)t->arrival_ns);
        if (t->info.is_tcp) {
            fprintf(out, ",\"src\":\"%s\",\"dst\":\"%s\"",
                    fmt_addr_endpoint(&t->info.src, t->info.src_port, a),
                    fmt_addr_endpoint(&t->info.dst, t->info.dst_port, b));
            write_seg(out, &t->info.seg);
        } else if (t->info.is_arp) {
            fputs(",\"proto\":\"arp\"", out);
        } else if (t->info.is_icmp) {
            write_icmp(out, &t->info);
        }
    }
    fputs("}\n", out);
}
