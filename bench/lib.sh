# lib.sh — shared by the benchmark scripts: sourced, never run.

# stats "v1 v2 ...": "median min max"
stats() { echo "$@" | tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END {
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f %.1f %.1f", m, v[1], v[NR] }'; }

# ratio A B: A / B with two decimals ("na" when B is 0)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "na" }'; }

# Runs per side: BENCH_RUNS (5), at least 5 unless BENCH_QUICK=1.
RUNS=${BENCH_RUNS:-5}
if [ "$RUNS" -lt 5 ] && [ -z "${BENCH_QUICK:-}" ]; then RUNS=5; fi
