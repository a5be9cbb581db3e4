/* fmt.h — small text helpers shared by the CLI's renderers. */
#ifndef SYNACK_TOOL_FMT_H
#define SYNACK_TOOL_FMT_H

#include <stddef.h>
#include <stdint.h>

#include "synack.h"

/* "SYN,ACK", "PSH,ACK", "FIN,ACK", "RST" ... in Wireshark's order; "none"
 * for no flags. `buf` needs 40 bytes. Returns buf. */
char *fmt_flags(uint8_t flags, char *buf);
/* "10.0.0.1" (buf >= 16) and "10.0.0.1:80" (buf >= 24). Return buf. */
char *fmt_ip(uint32_t ip, char *buf);
char *fmt_endpoint(uint32_t ip, uint16_t port, char *buf);
/* "10.0.0.1:80" or "[fd00::1]:80" into buf (FMT_ENDPOINT_LEN bytes). */
#define FMT_ENDPOINT_LEN 56
char *fmt_addr_endpoint(const synack_addr *a, uint16_t port, char *buf);
/* A trace event's local (local = 1) or remote endpoint, either family (an
 * IPv6 listener's unset peer is [::]:0). */
char *fmt_event_endpoint(const synack_trace_event *ev, int local, char *buf);
/* "ECONNREFUSED" for -ECONNREFUSED (or ECONNREFUSED); "E<n>" otherwise. */
const char *fmt_errno(int err);
/* Display columns a UTF-8 string takes (one per code point). */
size_t fmt_width(const char *s);

#endif
