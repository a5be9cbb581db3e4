/* ops.h — the calls the runtime thread carries out (ops.c), one per
 * synack_fd_* call that needs the stack. */
#ifndef SYNACK_RT_OPS_H
#define SYNACK_RT_OPS_H

#include "rt/rt.h"

int rt_op_socket(synack_rt *rt, rt_cmd *c);
int rt_op_bind(synack_rt *rt, rt_cmd *c);
int rt_op_listen(synack_rt *rt, rt_cmd *c);
int rt_op_is_listener(synack_rt *rt, rt_cmd *c);
int rt_op_connect(synack_rt *rt, rt_cmd *c);
int rt_op_shutdown(synack_rt *rt, rt_cmd *c);
int rt_op_close(synack_rt *rt, rt_cmd *c);
int rt_op_name(synack_rt *rt, rt_cmd *c);     /* c->how: 1 = the peer */
int rt_op_ioctl(synack_rt *rt, rt_cmd *c);    /* c->how: SIOCINQ or SIOCOUTQ */
int rt_op_setsockopt(synack_rt *rt, rt_cmd *c);
int rt_op_getsockopt(synack_rt *rt, rt_cmd *c);
int rt_op_with_stack(synack_rt *rt, rt_cmd *c);

#endif
