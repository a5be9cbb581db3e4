# lib.sh — shared by the benchmark scripts: sourced, never run.

# stats "v1 v2 ...": "median min max"
stats() { echo "$@" | tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END {
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f %.1f %.1f", m, v[1], v[NR] }'; }

# ratio A B: A / B with two decimals ("na" when B is 0)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "na" }'; }

# Runs per side: BENCH_RUNS (5), at least 5 unless BENCH_QUICK=1.
RUNS=${BENCH_RUNS:-5}
if [ "$RUNS" -lt 5 ] && [ -z "${BENCH_QUICK:-}" ]; then RUNS=5; fi

# isnum V: true when V is a number
isnum() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; }

# bench_line NAME UNIT SYNACK PEER=VALUE...: the machine-readable line for
# a figure measured against several peers:
#   bench NAME synack=S PEER1=V1 PEER2=V2 unit=UNIT ratio_PEER1=S/V1 ratio_PEER2=S/V2
# No ratios when synack's figure is not a number (for example "skipped").
bench_line() {
    local name=$1 unit=$2 s=$3 line r kv
    shift 3
    line="bench $name synack=$s"
    for kv in "$@"; do line="$line $kv"; done
    line="$line unit=$unit"
    if isnum "$s"; then
        for kv in "$@"; do
            r=na
            isnum "${kv#*=}" && r=$(ratio "$s" "${kv#*=}")
            line="$line ratio_${kv%%=*}=$r"
        done
    fi
    echo "$line"
}
