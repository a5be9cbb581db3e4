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
    # Linux under bench_loss's loss (root and /dev/net/tun, else linux=na):
    # real time, so 12 s runs here (~6 min for the 30 runs) unless
    # BENCH_LOSS_SECONDS says otherwise; README has the 30 s figures.
    "env BENCH_LOSS_SECONDS=${BENCH_LOSS_SECONDS:-12} $B/loss_kernel"
    "$B/bench_threads"
    "$B/bench_million"
    "bash bench/tap.sh"
    "bash bench/programs.sh"
    "bash bench/netns.sh"
)

# Target for a benchmark name: "ratio>=X", "ratio<=X", "synack<X" or "" (none).
# A line with several peers (ratio_PEER=...) is one row per peer, and its
# target is looked up as NAME@PEER.
target() {
    case $1 in
    netns_bulk_*_reno@*) echo "" ;;   # the namespace's sender unpaced: reported
    netns_bulk_*_nscc_default@*) echo "" ;;  # synack's namespace left on BBR: reported
    netns_bulk_*@pasta) echo "ratio>=1" ;;
    netns_bulk_*@slirp4netns) echo "ratio>=3" ;;
    netns_connrate_*@pasta) echo "ratio>=1.5" ;;
    netns_latency_*@pasta) echo "ratio<=1" ;;
    netns_mem_idle_conns@slirp4netns) echo "ratio<=1" ;;
    *@*) echo "" ;;
    bulk_mtu1500) echo "ratio>=2" ;;
    bulk_offload_mtu1500) echo "ratio>=3" ;;
    connrate|connrate_offload) echo "ratio>=15" ;;
    threads_*) echo "ratio>=1.8" ;;
    million_*) echo "ratio<=1" ;;
    mem_established) echo "ratio<=0.5" ;;
    mem_timewait) echo "synack<64" ;;
    loss_linux_*) echo "ratio>=1" ;;  # as good as Linux on the same path
    loss_reorder_*) echo "" ;;        # reordered against in order: reported
    loss_*) echo "ratio>=1" ;;
    bulk6_vs4_*|connrate6_vs4|tap_*_ipv6_vs4) echo "ratio>=0.9" ;;
    tap_bulk_*|tap_connrate_*) echo "ratio>=1.5" ;;
    tap_ceiling_kernel_to_stack) echo "ratio>=0.9" ;;
    tap_ceiling_*) echo "ratio>=0.8" ;;
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
grep '^bench ' "$log" | awk -v tfile=<(grep '^bench ' "$log" | awk '{ print $2
    for (i = 3; i <= NF; i++) { split($i, kv, "=")
        if (kv[1] !~ /^(synack|unit|ratio.*)$/) print $2 "@" kv[1] } }' |
    while read -r n; do echo "$n $(target "$n")"; done) '
BEGIN {
    while ((getline line < tfile) > 0) { split(line, f, " "); tgt[f[1]] = f[2] }
    printf "%-26s %12s %-11s %12s %-8s %8s  %-12s %s\n", "benchmark", "synack", "peer", "peer value", "unit", "ratio", "target", "met"
}
function row(name, syn, peer, pv, unit, ratio, t,    met, v) {
    if (ratio == "") ratio = "na"
    met = "-"
    if (t ~ /^ratio>=/ && ratio != "na") { v = substr(t, 8); met = (ratio + 0 >= v + 0) ? "yes" : "NO" }
    else if (t ~ /^ratio<=/ && ratio != "na") { v = substr(t, 8); met = (ratio + 0 <= v + 0) ? "yes" : "NO" }
    else if (t ~ /^synack</ && syn ~ /^[0-9]/) { v = substr(t, 8); met = (syn + 0 < v + 0) ? "yes" : "NO" }
    else if (t != "") met = "n/a"
    printf "%-26s %12s %-11s %12s %-8s %8s  %-12s %s\n", name, syn, peer, pv, unit, ratio, (t == "" ? "-" : t), met
}
{
    name = $2; syn = ""; peer = ""; pv = ""; unit = ""; ratio = ""; np = 0
    delete pval; delete pratio
    for (i = 3; i <= NF; i++) {
        split($i, kv, "=")
        if (kv[1] == "synack") syn = kv[2]
        else if (kv[1] == "unit") unit = kv[2]
        else if (kv[1] == "ratio") ratio = kv[2]
        else if (kv[1] ~ /^ratio_/) pratio[substr(kv[1], 7)] = kv[2]
        else { peer = kv[1]; pv = kv[2]; peers[++np] = kv[1]; pval[kv[1]] = kv[2] }
    }
    if (np <= 1) { row(name, syn, peer, pv, unit, ratio, tgt[name]); next }
    for (k = 1; k <= np; k++)   # several peers: one row each, target NAME@PEER
        row(name, syn, peers[k], pval[peers[k]], unit, pratio[peers[k]], tgt[name "@" peers[k]])
}'
exit $status
