/*
 * opts.h — the command-line pieces `synack serve`, `connect`, `lab` and
 * `demo` share: matching a flag, taking its value, -o NAME=VALUE knobs
 * applied through synack_config_set, numbers with range checks and the
 * "bad usage" exit. Each command keeps its own words; these keep the rules.
 */
#ifndef SYNACK_TOOL_OPTS_H
#define SYNACK_TOOL_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "synack.h"

/* `a` is -h or --help. */
int opts_is_help(const char *a);
/* `a` is `name` or `alias` (NULL: no alias). */
int opts_is(const char *a, const char *name, const char *alias);
/* `a` is one of `names` (NULL-terminated). */
int opts_is_one_of(const char *a, const char *const *names);

/* argv[*i] takes a value: step *i onto it and return it. NULL when it is the
 * last argument, with "synack CMD: ARG needs a value" printed. */
const char *opts_value(const char *cmd, int argc, char **argv, int *i);
/* -o NAME=VALUE or -oNAME=VALUE at argv[*i]: 1 with *kv set (and *i past
 * it), 0 when argv[*i] is not -o, -1 when -o is last (message printed). */
int opts_knob(const char *cmd, int argc, char **argv, int *i, const char **kv);

#define OPTS_KNOB_NOT_KV 1   /* opts_knob_set: no '=' in it          */
#define OPTS_KNOB_LONG 2     /* opts_knob_set: NAME does not fit     */
/* Apply one "NAME=VALUE" with synack_config_set. NAME is copied to `name`
 * (cut to namesz - 1 characters). Returns 0, OPTS_KNOB_NOT_KV,
 * OPTS_KNOB_LONG, or synack_config_set's error (-ENOENT: no such knob). */
int opts_knob_set(synack_config *cfg, const char *kv, char *name, size_t namesz);

/* A decimal whole number from lo to hi, nothing after it (no overflow). 0,
 * or -1 (*out untouched). */
int opts_long(const char *s, long lo, long hi, long *out);
/* A finite number strtod reads from lo to hi, nothing after it (nan and inf
 * never pass). 0, or -1. */
int opts_double(const char *s, double lo, double hi, double *out);
/* An unsigned 64-bit number as C writes it (42, 0x2a, 052). 0, or -1. */
int opts_u64(const char *s, uint64_t *out);
/* The unsigned number in `base` (0: as C writes it) that `s` starts with;
 * *rest is what follows it. 0, or -1 (not starting with a digit: a sign or
 * a space; or too large). */
int opts_u64_head(const char *s, int base, uint64_t *out, const char **rest);

/* Apply one -o "NAME=VALUE" like opts_knob_set. Returns 0, or -1 with the
 * one-line reason in `err` ("-o KV: unknown knob 'NAME' (...)", ...). */
int opts_knob_apply(synack_config *cfg, const char *kv, char *err, size_t errlen);

/* One line "synack CMD: ARG: WHY (see synack CMD --help)" on stderr;
 * returns 2, the exit status of bad usage. */
int opts_usage_error(const char *cmd, const char *arg, const char *why);

/* `a` is --version. */
int opts_is_version(const char *a);
/* "synack VERSION" on stdout (the one version, version.h). Returns 0. */
int opts_print_version(void);

/* Close `f` (stdout is only flushed): 0, or -1 when a write failed at any
 * time, with "write error: REASON" in `why`. NULL is ignored. */
int opts_close_file(FILE *f, char *why, size_t whylen);
/* Close `f` (a file the command wrote; stdout is only flushed) and report a
 * write error that happened at any time: "synack CMD: WHAT: write error:
 * REASON" on stderr, with WHAT e.g. "--pcap out.pcap" or "standard output"
 * (CMD "" for the top level). Returns 0, or -1. NULL is ignored. */
int opts_close_output(FILE *f, const char *cmd, const char *what);

#endif
