#!/usr/bin/env bash
# programs.sh — unmodified programs over `synack run`, each beside its
# baseline, in a network namespace of its own (root only):
#   run_iperf3_stack_to_kernel, run_iperf3_kernel_to_stack: iperf3 over
#     `synack run` against the kernel's iperf3 on a TAP (client, and -R),
#     beside synack's native API on the same TAP path (`synack serve --app
#     source|discard` against bench/peers/kernel_side.py, as tap.sh does):
#     what the socketpair runtime and the preloaded calls cost a program.
#   run_nginx_rps, run_nginx_p99: wrk (1 thread, 10 connections) against
#     nginx (one process) over `synack run` on the TAP, beside the same nginx
#     on the kernel across a veth pair: requests/s and the 99th percentile
#     latency (ratio = synack / kernel; below 1 is better for p99).
# Prints "bench NAME synack=... PEER=... unit=... ratio=..." lines (medians).
# Knobs: BENCH_RUNS (5), BENCH_QUICK=1 (allow fewer), PROG_BENCH_SECONDS (3),
# PROG_BENCH_BYTES (300000000, per native bulk run).
set -u
cd "$(dirname "$0")/.." || exit 1
source bench/lib.sh
[ "$(id -u)" = 0 ] && [ -c /dev/net/tun ] || { echo "programs.sh: needs root and /dev/net/tun; skipped"; exit 0; }
SECS=${PROG_BENCH_SECONDS:-3}
BYTES=${PROG_BENCH_BYTES:-300000000}
BIN=build/synack
make -s "$BIN" build/libsynack-preload.so >/dev/null || exit 1
missing=""
for t in iperf3:iperf3 nginx:nginx wrk:wrk; do
    command -v "${t%%:*}" >/dev/null 2>&1 || missing="$missing ${t#*:}"
done
if [ -n "$missing" ]; then
    echo "programs.sh: installing Debian's$missing"
    apt-get update -qq >/dev/null 2>&1
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null 2>&1 ||
        { echo "programs.sh: cannot install$missing; skipped"; exit 0; }
fi

NS=synack-progbench-$$
NS2=synack-progbench-k-$$
TMP=$(mktemp -d)
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    ip netns del "$NS" 2>/dev/null
    ip netns del "$NS2" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

# NS: the kernel's side of tap0 (10.77.0.1; synack is 10.77.0.2) and one
# end of a veth pair (10.78.0.1) whose other end is NS2's (10.78.0.2).
ip netns add "$NS" || exit 1
ip netns add "$NS2" || exit 1
ip -n "$NS" link set lo up
ip -n "$NS2" link set lo up
ip -n "$NS" tuntap add dev tap0 mode tap
ip -n "$NS" addr add 10.77.0.1/24 dev tap0
ip -n "$NS" link set tap0 up
ip -n "$NS" link add vk0 type veth peer name vk1 netns "$NS2"
ip -n "$NS" addr add 10.78.0.1/24 dev vk0
ip -n "$NS2" addr add 10.78.0.2/24 dev vk1
ip -n "$NS" link set vk0 up
ip -n "$NS2" link set vk1 up
NSX="ip netns exec $NS"
RUN="$BIN run --tap tap0 --ip 10.77.0.2/24 -q"
K="timeout 120 $NSX python3 bench/peers/kernel_side.py"

# iperf3 over `synack run`, one run: Mbit/s received (0 when it failed)
iperf_run() { # iperf_run ""|-R
    $NSX iperf3 -s -1 -B 10.77.0.1 -p 5201 >/dev/null 2>&1 &
    local srv=$!
    for _ in $(seq 50); do $NSX ss -ltn | grep -q ":5201 " && break; sleep 0.1; done
    timeout 120 $NSX $RUN -- iperf3 -c 10.77.0.1 -p 5201 -t "$SECS" -J $1 >"$TMP/iperf.json" 2>/dev/null
    wait "$srv" 2>/dev/null
    python3 -c 'import json,sys
t=open(sys.argv[1]).read()
try: print("%.1f" % (json.loads(t[t.index("{"):])["end"]["sum_received"]["bits_per_second"] / 1e6))
except Exception: print(0)' "$TMP/iperf.json"
}

# synack's native API on the same TAP, one run: Mbit/s
native_run() { # native_run s2k|k2s
    local app="source=$BYTES" v
    [ "$1" = k2s ] && app=discard
    $NSX "$BIN" serve --tap tap0 --ip 10.77.0.2/24 --port 5000 --app "$app" --quiet >"$TMP/serve.log" 2>&1 &
    local srv=$!
    for _ in $(seq 50); do grep -q listening "$TMP/serve.log" && break; sleep 0.1; done
    if [ "$1" = k2s ]; then v=$($K send 10.77.0.2 5000 "$BYTES" 2>/dev/null); else v=$($K recv 10.77.0.2 5000 2>/dev/null); fi
    kill "$srv" 2>/dev/null
    wait "$srv" 2>/dev/null
    echo "${v:-0}"
}

for dir in s2k k2s; do
    flag=""
    [ "$dir" = k2s ] && flag=-R
    iv="" nv=""
    for _ in $(seq 1 "$RUNS"); do
        iv="$iv $(iperf_run "$flag")"
        nv="$nv $(native_run $dir)"
    done
    read -r im ilo ihi <<<"$(stats $iv)"
    read -r nm nlo nhi <<<"$(stats $nv)"
    name=run_iperf3_stack_to_kernel what="stack -> kernel"
    [ "$dir" = k2s ] && name=run_iperf3_kernel_to_stack what="kernel -> stack"
    echo "bulk $what: iperf3 over synack run $im ($ilo-$ihi, n=$RUNS)  native API $nm ($nlo-$nhi, n=$RUNS)  Mbit/s  [runs: run$iv | native$nv]"
    echo "bench $name synack=$im native=$nm unit=Mbit/s ratio=$(ratio "$im" "$nm")"
done

# nginx: the same configuration, over synack on the TAP and on the kernel
# across the veth pair; wrk in NS against each in turn.
nginx_conf() { # nginx_conf DIR ADDR
    mkdir -p "$1/www"
    head -c 1024 /dev/urandom >"$1/www/page"
    cat >"$1/nginx.conf" <<EOC
daemon off;
master_process off;
worker_processes 1;
error_log $1/error.log warn;
pid $1/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path $1;
    proxy_temp_path $1;
    fastcgi_temp_path $1;
    uwsgi_temp_path $1;
    scgi_temp_path $1;
    server { listen $2:8080; root $1/www; }
}
EOC
}
nginx_conf "$TMP/ns" 10.77.0.2
nginx_conf "$TMP/nk" 10.78.0.2
$NSX $RUN -- nginx -p "$TMP/ns" -e "$TMP/ns/error.log" -c "$TMP/ns/nginx.conf" >/dev/null 2>&1 &
PIDS="$PIDS $!"
ip netns exec "$NS2" nginx -p "$TMP/nk" -e "$TMP/nk/error.log" -c "$TMP/nk/nginx.conf" >/dev/null 2>&1 &
PIDS="$PIDS $!"
for ip in 10.77.0.2 10.78.0.2; do
    for _ in $(seq 100); do $NSX curl -s -o /dev/null "http://$ip:8080/page" && break; sleep 0.1; done
done

# wrk_run ADDR: "requests/s p99_us" of one run
wrk_run() {
    timeout 60 $NSX wrk -t1 -c10 -d"${SECS}s" --latency "http://$1:8080/page" 2>/dev/null | awk '
        /^Requests\/sec:/ { rps = $2 }
        $1 == "99%" { v = $2; m = 1
            if (v ~ /us$/) m = 1; else if (v ~ /ms$/) m = 1000; else if (v ~ /s$/) m = 1000000
            sub(/[a-z]+$/, "", v); p99 = v * m }
        END { printf "%.1f %.1f\n", rps + 0, p99 + 0 }'
}
sr="" sp="" kr="" kp=""
for _ in $(seq 1 "$RUNS"); do
    read -r r p <<<"$(wrk_run 10.77.0.2)"
    sr="$sr $r" sp="$sp $p"
    read -r r p <<<"$(wrk_run 10.78.0.2)"
    kr="$kr $r" kp="$kp $p"
done
read -r srm srlo srhi <<<"$(stats $sr)"
read -r spm splo sphi <<<"$(stats $sp)"
read -r krm krlo krhi <<<"$(stats $kr)"
read -r kpm kplo kphi <<<"$(stats $kp)"
echo "wrk -> nginx: over synack run $srm req/s ($srlo-$srhi), p99 $spm us ($splo-$sphi); on the kernel (veth) $krm req/s ($krlo-$krhi), p99 $kpm us ($kplo-$kphi); n=$RUNS  [runs: synack$sr | kernel$kr]"
echo "bench run_nginx_rps synack=$srm kernel=$krm unit=req/s ratio=$(ratio "$srm" "$krm")"
echo "bench run_nginx_p99 synack=$spm kernel=$kpm unit=us ratio=$(ratio "$spm" "$kpm")"
