#!/usr/bin/env bash
# fuzz.sh — build the libFuzzer targets and fuzz each for a bounded time:
# synack_input with arbitrary frames (FUZZ_TIME seconds, 60 by default, from
# tests/fuzz/corpus) and the ACK path against its semantic oracle
# (FUZZ_ACK_TIME, 45, from tests/fuzz/corpus_ack), the IPv6 parser and
# extension-header walk (FUZZ_IPV6_TIME, 30, from tests/fuzz/corpus_ipv6),
# the ICMPv6 and Neighbour Discovery parsers (FUZZ_ICMPV6_TIME, 30, from
# tests/fuzz/corpus_icmpv6), IPv4 and IPv6 fragment reassembly through a
# stack (FUZZ_REASM_TIME, 30, from tests/fuzz/corpus_reasm), the UDP
# parser (FUZZ_UDP_TIME, 15, from tests/fuzz/corpus_udp), steering in
# a group of stacks (FUZZ_STEER_TIME, 15, from tests/fuzz/corpus_steer), and
# the JSON requests of synack netns's API socket (FUZZ_API_TIME, 15, from
# tests/fuzz/corpus_api). Logs:
# build/fuzz/*.log.
# Exit 77 (skipped) when clang or its fuzzer runtime is missing.
set -u
cd "$(dirname "$0")/../.." || exit 1
FUZZ_TIME=${FUZZ_TIME:-60}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! command -v clang >/dev/null 2>&1; then
    echo "skipped: clang is not installed"
    exit 77
fi
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\n%s\n' \
    'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' \
    >"$tmp/probe.c"
if ! clang -fsanitize=fuzzer,address,undefined -o "$tmp/probe" "$tmp/probe.c" >/dev/null 2>&1; then
    echo "skipped: clang's libFuzzer runtime (-fsanitize=fuzzer) is missing"
    exit 77
fi

make --no-print-directory fuzz || { echo "fuzz.sh: make fuzz failed"; exit 1; }

# run TARGET CORPUS SECONDS: fuzz from a copy of CORPUS; the log goes to
# build/fuzz/TARGET.log, its last lines here only when something was found.
run() {
    local target=$1 corpus=$2 secs=$3
    mkdir -p "$tmp/$target" build/fuzz/artifacts
    cp "$corpus"/* "$tmp/$target/"
    build/fuzz/"$target" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -max_len=4096 -print_final_stats=1 -artifact_prefix=build/fuzz/artifacts/"$target"- \
        "$tmp/$target" >build/fuzz/"$target".log 2>&1
    local rc=$?
    if [ $rc -ne 0 ]; then
        tail -n 30 build/fuzz/"$target".log
        echo "fuzz.sh: $target found a problem (exit $rc); inputs in build/fuzz/artifacts/, log in build/fuzz/$target.log"
        return 1
    fi
    echo "ok: $target, $secs s: $(grep -o 'Done [0-9]* runs' build/fuzz/"$target".log)"
}

rc=0
run fuzz_input tests/fuzz/corpus "$FUZZ_TIME" || rc=1
# The ACK path with a semantic oracle (fuzz_ack.c): no ACK of sent data is
# refused; a truthful peer then gets every byte.
run fuzz_ack tests/fuzz/corpus_ack "${FUZZ_ACK_TIME:-45}" || rc=1
# The IPv6 header and extension-header walk against their consistency
# checks (fuzz_ipv6.c).
run fuzz_ipv6 tests/fuzz/corpus_ipv6 "${FUZZ_IPV6_TIME:-30}" || rc=1
# The ICMPv6 and ND wire parsers, with their invariants (fuzz_icmpv6.c).
run fuzz_icmpv6 tests/fuzz/corpus_icmpv6 "${FUZZ_ICMPV6_TIME:-30}" || rc=1
# Fragments of both families cut from echo requests, with limits, timeouts
# and an oracle on every reply (fuzz_reasm.c).
run fuzz_reasm tests/fuzz/corpus_reasm "${FUZZ_REASM_TIME:-30}" || rc=1
# The UDP parser, both families, with a round trip (fuzz_udp.c).
run fuzz_udp tests/fuzz/corpus_udp "${FUZZ_UDP_TIME:-15}" || rc=1
# Steering in a group of stacks: owners in range, both directions of a
# TCP flow alike (fuzz_steer.c).
run fuzz_steer tests/fuzz/corpus_steer "${FUZZ_STEER_TIME:-15}" || rc=1
# The API socket's JSON requests: fields bounded and terminated, numbers
# in range, the same answer twice (fuzz_api_req.c).
run fuzz_api_req tests/fuzz/corpus_api "${FUZZ_API_TIME:-15}" || rc=1
exit $rc
