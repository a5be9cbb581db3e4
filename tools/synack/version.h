/* version.h — the one place the version of synack (library and tool) is
 * written: `synack --version` prints it and the Makefile reads it for
 * synack.pc. */
#ifndef SYNACK_TOOL_VERSION_H
#define SYNACK_TOOL_VERSION_H

#define SYNACK_VERSION "0.1.0"

#endif
