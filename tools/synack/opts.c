/* opts.c — command-line pieces the subcommands share (see opts.h). */
#include "opts.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "version.h"

int opts_is_help(const char *a) { return opts_is(a, "-h", "--help"); }

int opts_is(const char *a, const char *name, const char *alias)
{
    return !strcmp(a, name) || (alias && !strcmp(a, alias));
}

int opts_is_one_of(const char *a, const char *const *names)
{
    for (; *names; names++)
        if (!strcmp(a, *names))
            return 1;
    return 0;
}

const char *opts_value(const char *cmd, int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "synack %s: %s needs a value\n", cmd, argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

int opts_knob(const char *cmd, int argc, char **argv, int *i, const char **kv)
{
    const char *a = argv[*i];
    if (strncmp(a, "-o", 2))
        return 0;
    *kv = a[2] ? a + 2 : opts_value(cmd, argc, argv, i);
    return *kv ? 1 : -1;
}

int opts_knob_set(synack_config *cfg, const char *kv, char *name, size_t namesz)
{
    const char *eq = strchr(kv, '=');
    if (!eq)
        return OPTS_KNOB_NOT_KV;
    size_t n = (size_t)(eq - kv);
    int fits = n < namesz;
    if (!fits)
        n = namesz - 1;
    memcpy(name, kv, n);
    name[n] = '\0';
    return fits ? synack_config_set(cfg, name, eq + 1) : OPTS_KNOB_LONG;
}

int opts_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int opts_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int opts_u64(const char *s, uint64_t *out)
{
    const char *rest;
    uint64_t v;
    if (opts_u64_head(s, 0, &v, &rest) < 0 || *rest)
        return -1;
    *out = v;
    return 0;
}

int opts_u64_head(const char *s, int base, uint64_t *out, const char **rest)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, base);
    if (errno || end == s || !isdigit((unsigned char)s[0]))
        return -1;
    *out = v;
    *rest = end;
    return 0;
}

int opts_knob_apply(synack_config *cfg, const char *kv, char *err, size_t errlen)
{
    char name[128];
    int rc = kv[0] == '=' ? OPTS_KNOB_NOT_KV : opts_knob_set(cfg, kv, name, sizeof name);
    if (rc == OPTS_KNOB_NOT_KV)
        snprintf(err, errlen, "-o %s: expected NAME=VALUE", kv);
    else if (rc == -ENOENT || rc == OPTS_KNOB_LONG) /* no knob's name is that long */
        snprintf(err, errlen, "-o %s: unknown knob '%s' (try net.ipv4.tcp_msl, "
                 "net.ipv4.tcp_timestamps, ...)", kv, name);
    else if (rc < 0)
        snprintf(err, errlen, "-o %s: bad value '%s' for %s", kv, strchr(kv, '=') + 1, name);
    return rc ? -1 : 0;
}

int opts_usage_error(const char *cmd, const char *arg, const char *why)
{
    fprintf(stderr, "synack %s: %s: %s (see synack %s --help)\n", cmd, arg, why, cmd);
    return 2;
}

int opts_is_version(const char *a) { return !strcmp(a, "--version"); }

int opts_print_version(void)
{
    printf("synack %s\n", SYNACK_VERSION);
    return 0;
}

int opts_close_file(FILE *f, char *why, size_t whylen)
{
    if (!f)
        return 0;
    errno = 0;
    int bad = fflush(f) != 0;
    int err = errno;
    bad |= ferror(f) != 0;
    if (f != stdout && fclose(f) != 0 && !bad) {
        bad = 1;
        err = errno;
    }
    if (bad)
        snprintf(why, whylen, "write error: %s", err ? strerror(err) : "an earlier write failed");
    return bad ? -1 : 0;
}

int opts_close_output(FILE *f, const char *cmd, const char *what)
{
    char why[128];
    if (opts_close_file(f, why, sizeof why) == 0)
        return 0;
    fprintf(stderr, "synack%s%s: %s: %s\n", *cmd ? " " : "", cmd, what, why);
    return -1;
}
