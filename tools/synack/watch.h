/* watch.h — one thing an epoll loop waits on: epoll_event.data.ptr points
 * to a watch, and the loop calls its fn with the events that came. Embed it
 * in the object that owns the descriptor. */
#ifndef SYNACK_TOOL_WATCH_H
#define SYNACK_TOOL_WATCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct watch watch;
struct watch {
    void (*fn)(watch *w, uint32_t events);
};

/* Who owns a synack socket: its user pointer points to one, and the
 * stack's event hook calls on_event with the events that came. Embed it in
 * the owning object (a relay, a connection still opening, a listener). */
typedef struct synack_sock synack_sock;
typedef struct sock_owner sock_owner;
struct sock_owner {
    void (*on_event)(sock_owner *o, synack_sock *k, unsigned events);
    /* Optional (NULL: none): in-order data for a socket with
     * SYNACK_TCP_DIRECT_DATA, straight from the frame; returns the bytes
     * it took. Runs inside synack_input: no synack calls. */
    size_t (*on_data)(sock_owner *o, synack_sock *k, const void *data, size_t len);
};

/* The same for a synack UDP socket. */
typedef struct synack_udp synack_udp;
typedef struct udp_owner udp_owner;
struct udp_owner {
    void (*on_event)(udp_owner *o, synack_udp *u, unsigned events);
};

#endif
