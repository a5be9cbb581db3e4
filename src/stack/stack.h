/* stack.h — the stack object: it owns the interface, TCP and UDP layers. */
#ifndef SYNACK_STACK_H
#define SYNACK_STACK_H

#include "net/net.h"
#include "tcp/tcp.h"

struct synack_stack {
    synack_config cfg;
    synack_counters ctr;
    int depth;   /* nesting of public calls; events go out when it drops to 0 */
    net_ctx net;
    tcp_ctx tcp;
    udp_ctx udp;
};

/* Every public entry point brackets its work with these, so that socket
 * events and frees happen once the stack is consistent again. */
/* False (and counted) when called from inside the stack's own output hook:
 * the caller must then do nothing. */
bool stack_enter(synack_stack *s, uint64_t now_ns);
void stack_leave(synack_stack *s);

#endif
