#!/usr/bin/env bash
# fuzz.sh — build the libFuzzer target and fuzz synack_input for a bounded
# time (FUZZ_TIME seconds, 60 by default) from a copy of tests/fuzz/corpus.
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

mkdir -p "$tmp/corpus" build/fuzz/artifacts
cp tests/fuzz/corpus/* "$tmp/corpus/"
build/fuzz/fuzz_input -max_total_time="$FUZZ_TIME" -timeout=10 -rss_limit_mb=2048 \
    -max_len=4096 -print_final_stats=1 -artifact_prefix=build/fuzz/artifacts/ "$tmp/corpus"
rc=$?
[ $rc -eq 0 ] || echo "fuzz.sh: the fuzzer found a problem (exit $rc); inputs in build/fuzz/artifacts/"
exit $rc
