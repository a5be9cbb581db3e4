#!/usr/bin/env bash
# run.sh — run every benchmark, then print one summary table of the
# machine-readable lines they print:
#     bench NAME synack=VALUE PEER=VALUE unit=UNIT ratio=SYNACK/PEER
# Add a benchmark by adding its command to BENCHES (a program or a script;
# it may print anything, only the "bench ..." lines are collected).
# Environment: BENCH_RUNS (runs per side, >= 5), BENCH_QUICK=1 (allow fewer),
# BENCH_NO_PEER=1 (skip the Linux side), and each program's own knobs
# (see bench/README.md).
set -u
cd "$(dirname "$0")/.." || exit 1
B=${BENCH_BUILD:-build/bench}

BENCHES=(
    "$B/bench_bulk 1500 9000"
    "$B/bench_connrate"
    "$B/bench_memory"
    "$B/bench_loss"
    "bash bench/tap.sh"
    "bash bench/programs.sh"
)

# Target for a benchmark name: "ratio>=X", "ratio<=X", "synack<X" or "" (none).
target() {
    case $1 in
    bulk_mtu1500) echo "ratio>=2" ;;
    connrate) echo "ratio>=10" ;;
    mem_established) echo "ratio<=0.5" ;;
    mem_timewait) echo "synack<64" ;;
    loss_*) echo "ratio>=1" ;;
    tap_bulk_*|tap_connrate_*) echo "ratio>=1.5" ;;
    tap_ceiling_*) echo "ratio>=0.8" ;;
    bulk6_vs4_*|connrate6_vs4|tap_*_ipv6_vs4) echo "ratio>=0.9" ;;
    run_iperf3_*) echo "ratio>=0.8" ;;
    *) echo "" ;;
    esac
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
for cmd in "${BENCHES[@]}"; do
    echo "=== $cmd"
    # shellcheck disable=SC2086
    timeout "${BENCH_TIMEOUT:-1800}" $cmd 2>&1 | tee -a "$log"
    rc=${PIPESTATUS[0]}
    if [ "$rc" -ne 0 ]; then
        echo "--- $cmd: exit status $rc"
        status=1
    fi
    echo
done

echo "=== summary (median of the runs; ratio = synack / peer)"
grep '^bench ' "$log" | awk -v tfile=<(for n in $(grep '^bench ' "$log" | awk '{print $2}'); do
    echo "$n $(target "$n")"; done) '
BEGIN {
    while ((getline line < tfile) > 0) { split(line, f, " "); tgt[f[1]] = f[2] }
    printf "%-22s %12s %-6s %12s %-8s %8s  %-12s %s\n", "benchmark", "synack", "peer", "peer value", "unit", "ratio", "target", "met"
}
{
    name = $2; syn = ""; peer = ""; pv = ""; unit = ""; ratio = ""
    for (i = 3; i <= NF; i++) {
        split($i, kv, "=")
        if (kv[1] == "synack") syn = kv[2]
        else if (kv[1] == "unit") unit = kv[2]
        else if (kv[1] == "ratio") ratio = kv[2]
        else { peer = kv[1]; pv = kv[2] }
    }
    t = tgt[name]; met = "-"
    if (t ~ /^ratio>=/ && ratio != "na") { v = substr(t, 8); met = (ratio + 0 >= v + 0) ? "yes" : "NO" }
    else if (t ~ /^ratio<=/ && ratio != "na") { v = substr(t, 8); met = (ratio + 0 <= v + 0) ? "yes" : "NO" }
    else if (t ~ /^synack</) { v = substr(t, 8); met = (syn + 0 < v + 0) ? "yes" : "NO" }
    else if (t != "") met = "n/a"
    printf "%-22s %12s %-6s %12s %-8s %8s  %-12s %s\n", name, syn, peer, pv, unit, ratio, (t == "" ? "-" : t), met
}'
exit $status
