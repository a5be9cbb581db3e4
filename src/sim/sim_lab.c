/* sim_lab.c — switches that exist only for `synack lab`: behaviour no real
 * TCP may have. They reach into the stack's internals from the simulator,
 * which only the tools and tests link, so the public API cannot turn them on. */
#include "sim/sim.h"
#include "stack/stack.h"

void sim_host_lab_two_way_handshake(sim_host *h, int on)
{
    sim_host_stack(h)->tcp.lab_two_way_handshake = on != 0;
}
