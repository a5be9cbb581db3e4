/*
 * pcap.h — a small writer for classic libpcap capture files.
 *
 * Outside the core: uses stdio. The file is written in little-endian byte
 * order with either microsecond (magic a1b2c3d4) or nanosecond (magic
 * a1b23c4d) timestamps, readable by tcpdump, tshark and Wireshark.
 */
#ifndef SYNACK_DEV_PCAP_H
#define SYNACK_DEV_PCAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum {
    PCAP_LINKTYPE_ETHERNET = 1, /* frames start with an Ethernet header */
    PCAP_LINKTYPE_RAW = 101,    /* bare IPv4/IPv6 packets               */
};

enum { PCAP_USEC = 0, PCAP_NSEC = 1 };

#define PCAP_SNAPLEN 262144u

typedef struct pcap_writer pcap_writer;

/* Create (truncate) `path` and write the global header. `resolution` is
 * PCAP_USEC or PCAP_NSEC. Returns NULL on failure (errno says why). */
pcap_writer *pcap_open(const char *path, int linktype, int resolution);

/* Same, on a stream the caller opened (e.g. stdout). pcap_close does not
 * close it, only flushes it. */
pcap_writer *pcap_open_stream(FILE *f, int linktype, int resolution);

/* Append one record stamped `t_ns` nanoseconds since the epoch of the
 * capture (the simulator passes its virtual clock). Frames longer than the
 * snap length are cut and recorded with their original length.
 * Returns 0, or -1 on a write error (later writes keep failing). */
int pcap_write(pcap_writer *w, uint64_t t_ns, const void *frame, size_t len);

/* Records written so far. */
uint64_t pcap_count(const pcap_writer *w);

/* Flush and close. Returns 0, or -1 if any write failed. NULL is ignored. */
int pcap_close(pcap_writer *w);

#endif
