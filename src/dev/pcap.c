/* pcap.c — classic libpcap file writer (see pcap.h). */
#include "dev/pcap.h"

#include <stdlib.h>

struct pcap_writer {
    FILE *f;
    int owns_file;
    int resolution;
    int failed;
    uint64_t count;
};

static void put_le16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static int write_all(pcap_writer *w, const void *p, size_t n) {
    if (w->failed)
        return -1;
    if (n && fwrite(p, 1, n, w->f) != n) {
        w->failed = 1;
        return -1;
    }
    return 0;
}

static pcap_writer *start(FILE *f, int owns, int linktype, int resolution) {
    pcap_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->f = f;
    w->owns_file = owns;
    w->resolution = resolution == PCAP_NSEC ? PCAP_NSEC : PCAP_USEC;

    uint8_t h[24];
    put_le32(h, w->resolution == PCAP_NSEC ? 0xa1b23c4du : 0xa1b2c3d4u);
    put_le16(h + 4, 2);          /* version major */
    put_le16(h + 6, 4);          /* version minor */
    put_le32(h + 8, 0);          /* thiszone      */
    put_le32(h + 12, 0);         /* sigfigs       */
    put_le32(h + 16, PCAP_SNAPLEN);
    put_le32(h + 20, (uint32_t)linktype);
    if (write_all(w, h, sizeof h) < 0) {
        free(w);
        return NULL;
    }
    return w;
}

pcap_writer *pcap_open(const char *path, int linktype, int resolution) {
    FILE *f = fopen(path, "wb");
    if (!f)
        return NULL;
    pcap_writer *w = start(f, 1, linktype, resolution);
    if (!w)
        fclose(f);
    return w;
}

pcap_writer *pcap_open_stream(FILE *f, int linktype, int resolution) {
    return f ? start(f, 0, linktype, resolution) : NULL;
}

int pcap_write(pcap_writer *w, uint64_t t_ns, const void *frame, size_t len) {
    uint64_t sec = t_ns / 1000000000u;
    uint64_t frac = t_ns % 1000000000u;
    if (w->resolution == PCAP_USEC)
        frac /= 1000u;
    size_t caplen = len > PCAP_SNAPLEN ? PCAP_SNAPLEN : len;

    uint8_t h[16];
    put_le32(h, (uint32_t)sec);
    put_le32(h + 4, (uint32_t)frac);
    put_le32(h + 8, (uint32_t)caplen);
    put_le32(h + 12, (uint32_t)len);
    if (write_all(w, h, sizeof h) < 0 || write_all(w, frame, caplen) < 0)
        return -1;
    w->count++;
    return 0;
}

uint64_t pcap_count(const pcap_writer *w) { return w->count; }

int pcap_close(pcap_writer *w) {
    if (!w)
        return 0;
    int rc = w->failed ? -1 : 0;
    if (fflush(w->f) != 0)
        rc = -1;
    if (w->owns_file && fclose(w->f) != 0)
        rc = -1;
    free(w);
    return rc;
}
