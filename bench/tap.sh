#!/usr/bin/env bash
# tap.sh — synack on a real TAP interface against the Linux kernel as the
# peer, in a namespace of its own (root only): bulk throughput both ways,
# connection rate kernel -> synack, and the raw TAP ceiling (a reflector
# with no stack). Prints "bench NAME synack=... PEER=... unit=... ratio=..."
# lines; the peer column is the TAP ceiling for throughput.
# lwIP 2.1 beside it is not done yet (see bench/README.md).
set -u
cd "$(dirname "$0")/.." || exit 1
[ "$(id -u)" = 0 ] && [ -c /dev/net/tun ] || { echo "tap.sh: needs root and /dev/net/tun; skipped"; exit 0; }
BIN=build/synack
make -s "$BIN" >/dev/null || exit 1
BYTES=${TAP_BENCH_BYTES:-300000000}
NS=synack-bench-$$
TMP=$(mktemp -d)
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    ip netns del "$NS" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" tuntap add dev tap0 mode tap
ip -n "$NS" addr add 10.77.0.1/24 dev tap0
ip -n "$NS" link set tap0 up
K="ip netns exec $NS python3 bench/peers/kernel_side.py"

serve() { # serve APP: synack serve in the background until `unserve`
    ip netns exec "$NS" "$BIN" serve --tap tap0 --ip 10.77.0.2/24 --port 5000 --app "$1" --quiet \
        >"$TMP/serve.log" 2>&1 &
    SPID=$!
    PIDS="$PIDS $SPID"
    for _ in $(seq 1 50); do grep -q listening "$TMP/serve.log" && break; sleep 0.1; done
}
unserve() { kill "$SPID"; wait "$SPID" 2>/dev/null; }

# the ceiling: UDP through a reflector that has no stack
cc -O2 -o "$TMP/tap_reflect" bench/peers/tap_reflect.c || exit 1
cc -O2 -o "$TMP/udp_blast" bench/peers/udp_blast.c -lpthread || exit 1
ip -n "$NS" neigh replace 10.77.0.2 lladdr 02:00:0a:4d:00:02 dev tap0
ip netns exec "$NS" "$TMP/tap_reflect" tap0 6 >"$TMP/refl.out" 2>"$TMP/refl.log" &
RP=$!
PIDS="$PIDS $RP"
sleep 0.3
back=$(ip netns exec "$NS" "$TMP/udp_blast" 10.77.0.2 9 4)
wait "$RP"
ceiling=$(cat "$TMP/refl.out")
ip -n "$NS" neigh del 10.77.0.2 dev tap0
echo "TAP ceiling: a reader with no stack takes $ceiling Mbit/s of 1472-byte UDP from the kernel; $back Mbit/s came back reflected ($(tail -1 "$TMP/refl.log"))"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

serve discard
k2s=$($K send 10.77.0.2 5000 "$BYTES")
unserve
serve "source=$BYTES"
s2k=$($K recv 10.77.0.2 5000)
unserve
serve greet
rate=$($K rate 10.77.0.2 5000 3)
unserve
echo "bench tap_bulk_kernel_to_synack synack=$k2s tap_ceiling=$ceiling unit=Mbit/s ratio=$(ratio "$k2s" "$ceiling")"
echo "bench tap_bulk_synack_to_kernel synack=$s2k tap_ceiling=$ceiling unit=Mbit/s ratio=$(ratio "$s2k" "$ceiling")"
echo "bench tap_connrate_kernel_to_synack synack=$rate unit=conn/s"
