#!/usr/bin/env bash
# tap.sh — synack and lwIP 2.1 on a real TAP interface, the Linux kernel as
# the peer of both, in a network namespace of its own (root only):
#   bulk throughput kernel -> stack and stack -> kernel, connection rate
#   kernel -> stack (synack and lwIP alternate run by run on the same TAP);
#   and the TAP ceiling: how many full-size frames a TAP moves each way with
#   no stack at all (bench/peers/tap_ceiling.c; see bench/README.md).
#   Each figure for synack with --no-offload (plain frames), and again with
#   its default --offload (virtio-net header: 64 KiB segments each way,
#   checksums left to the kernel and the device), NAME_offload, and
#   for synack over IPv6 (fd77::2, no offload), NAME_ipv6, with the IPv6 /
#   IPv4 ratio as NAME_ipv6_vs4.
# Prints "bench NAME synack=... PEER=... unit=... ratio=..." lines: PEER is
# lwip for the three figures, tap_ceiling for the two bulk figures again.
# Knobs: BENCH_RUNS (5), BENCH_QUICK=1 (allow fewer), TAP_BENCH_BYTES
# (300000000 per bulk run), TAP_BENCH_RATE_SECONDS (3), TAP_BENCH_CEIL_SECONDS (2).
set -u
cd "$(dirname "$0")/.." || exit 1
source bench/lib.sh
[ "$(id -u)" = 0 ] && [ -c /dev/net/tun ] || { echo "tap.sh: needs root and /dev/net/tun; skipped"; exit 0; }
BYTES=${TAP_BENCH_BYTES:-300000000}
RATE_S=${TAP_BENCH_RATE_SECONDS:-3}
CEIL_S=${TAP_BENCH_CEIL_SECONDS:-2}
BIN=build/synack
make -s "$BIN" >/dev/null || exit 1

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

# lwIP: Debian's liblwip-dev (installed here when missing; we are root)
LWIP=1
if ! dpkg-query -W -f='${Status}' liblwip-dev 2>/dev/null | grep -q "install ok installed"; then
    echo "tap.sh: installing Debian's liblwip-dev for the lwIP peer"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq liblwip-dev >/dev/null 2>&1; then
        apt-get update -qq >/dev/null 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq liblwip-dev >/dev/null 2>&1 ||
            { echo "tap.sh: cannot install liblwip-dev; the lwIP column is na"; LWIP=0; }
    fi
fi
if [ "$LWIP" = 1 ]; then
    # shellcheck disable=SC2046
    cc -O2 -o "$TMP/lwip_peer" bench/peers/lwip_peer.c $(pkg-config --cflags --libs lwip) ||
        { echo "tap.sh: lwip_peer does not build; the lwIP column is na"; LWIP=0; }
fi
cc -O2 -o "$TMP/tap_ceiling" bench/peers/tap_ceiling.c -lpthread || exit 1

ip netns add "$NS" || exit 1
ip -n "$NS" link set lo up
ip -n "$NS" tuntap add dev tap0 mode tap
ip -n "$NS" addr add 10.77.0.1/24 dev tap0
ip -n "$NS" addr add fd77::1/64 dev tap0 nodad
ip -n "$NS" link set tap0 up
NSX="ip netns exec $NS"
K="timeout 120 $NSX python3 bench/peers/kernel_side.py"
SYN_IP=10.77.0.2
SYN_IP6=fd77::2
LW_IP=10.77.0.3

start() { # start synack|synack_off|synack6|lwip APP: a server in the background until `stop`
    if [ "$1" = synack ] || [ "$1" = synack_off ] || [ "$1" = synack6 ]; then
        # Offloads are serve's default on a TAP: the plain figures ask for
        # plain frames.
        local off=--no-offload
        [ "$1" = synack_off ] && off=--offload
        [ "$1" = synack6 ] && off="--ip $SYN_IP6/64 -o dad_transmits=0 --no-offload"
        # shellcheck disable=SC2086
        $NSX "$BIN" serve --tap tap0 --ip $SYN_IP/24 --port 5000 --app "$2" --quiet $off >"$TMP/serve.log" 2>&1 &
    else
        $NSX "$TMP/lwip_peer" tap0 $LW_IP/24 5000 "$2" 300 >"$TMP/serve.log" 2>&1 &
    fi
    SPID=$!
    PIDS="$PIDS $SPID"
    for _ in $(seq 1 50); do grep -q listening "$TMP/serve.log" && break; sleep 0.1; done
}
stop() { kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; }

# measure STACK FIGURE: one run, prints the number (0 when it failed)
measure() {
    local ip=$SYN_IP v
    [ "$1" = lwip ] && ip=$LW_IP
    [ "$1" = synack6 ] && ip=$SYN_IP6
    case $2 in
    k2s) start "$1" discard; v=$($K send $ip 5000 "$BYTES" 2>/dev/null) ;;
    s2k) start "$1" "source=$BYTES"; v=$($K recv $ip 5000 2>/dev/null) ;;
    rate) start "$1" greet; v=$($K rate $ip 5000 "$RATE_S" 2>/dev/null) ;;
    esac
    stop
    echo "${v:-0}"
}


# The ceiling, each way (the kernel's side of rx needs a neighbour that
# nobody answers for: a static entry).
$NSX ip neigh replace 10.77.0.9 lladdr 02:00:0a:4d:00:09 dev tap0
crx="" ctx="" frx="" ftx=""
for _ in $(seq 1 "$RUNS"); do
    l=$(timeout 30 $NSX "$TMP/tap_ceiling" rx tap0 "$CEIL_S" 10.77.0.9)
    crx="$crx $(echo "$l" | sed -n 's/.*tcp_mbit=\([0-9.]*\).*/\1/p')"
    frx="$frx $(echo "$l" | sed -n 's/.*fps=\([0-9.]*\).*/\1/p')"
    l=$(timeout 30 $NSX "$TMP/tap_ceiling" tx tap0 "$CEIL_S")
    ctx="$ctx $(echo "$l" | sed -n 's/.*tcp_mbit=\([0-9.]*\).*/\1/p')"
    ftx="$ftx $(echo "$l" | sed -n 's/.*fps=\([0-9.]*\).*/\1/p')"
done
$NSX ip neigh del 10.77.0.9 dev tap0
read -r crx_m crx_lo crx_hi <<<"$(stats $crx)"
read -r ctx_m ctx_lo ctx_hi <<<"$(stats $ctx)"
read -r frx_m _ _ <<<"$(stats $frx)"
read -r ftx_m _ _ <<<"$(stats $ftx)"
echo "TAP ceiling, kernel -> TAP reader: $frx_m frames/s of 1514 bytes = $crx_m Mbit/s of TCP payload ($crx_lo-$crx_hi, n=$RUNS)"
echo "TAP ceiling, TAP writer -> kernel: $ftx_m frames/s of 1514 bytes = $ctx_m Mbit/s of TCP payload ($ctx_lo-$ctx_hi, n=$RUNS)"

declare -A MED
declare -A OMED
for fig in k2s s2k rate; do
    sv="" ov="" lv="" v6=""
    for _ in $(seq 1 "$RUNS"); do
        sv="$sv $(measure synack $fig)"
        ov="$ov $(measure synack_off $fig)"
        v6="$v6 $(measure synack6 $fig)"
        [ "$LWIP" = 1 ] && lv="$lv $(measure lwip $fig)"
    done
    read -r sm slo shi <<<"$(stats $sv)"
    read -r om olo ohi <<<"$(stats $ov)"
    read -r m6 lo6 hi6 <<<"$(stats $v6)"
    if [ "$LWIP" = 1 ]; then read -r lm llo lhi <<<"$(stats $lv)"; else lm=na; llo=na; lhi=na; fi
    case $fig in
    k2s) name=tap_bulk_kernel_to_stack unit=Mbit/s what="bulk kernel -> stack" ;;
    s2k) name=tap_bulk_stack_to_kernel unit=Mbit/s what="bulk stack -> kernel" ;;
    rate) name=tap_connrate_kernel_to_stack unit=conn/s what="connections kernel -> stack" ;;
    esac
    echo "$what: synack $sm ($slo-$shi, n=$RUNS)  lwip $lm ($llo-$lhi, n=$RUNS)  $unit  [runs: synack$sv | lwip$lv]"
    echo "bench $name synack=$sm lwip=$lm unit=$unit ratio=$(ratio "$sm" "$lm")"
    echo "$what, synack --offload: $om ($olo-$ohi, n=$RUNS)  $unit  [runs:$ov]"
    echo "bench ${name}_offload synack=$om lwip=$lm unit=$unit ratio=$(ratio "$om" "$lm")"
    echo "$what, synack over IPv6: $m6 ($lo6-$hi6, n=$RUNS)  $unit  [runs:$v6]"
    echo "bench ${name}_ipv6 synack=$m6 lwip=$lm unit=$unit ratio=$(ratio "$m6" "$lm")"
    echo "bench ${name}_ipv6_vs4 synack=$m6 ipv4=$sm unit=$unit ratio=$(ratio "$m6" "$sm")"
    MED[$fig]=$sm
    OMED[$fig]=$om
done
echo "bench tap_ceiling_kernel_to_stack synack=${MED[k2s]} tap_ceiling=$crx_m unit=Mbit/s ratio=$(ratio "${MED[k2s]}" "$crx_m")"
echo "bench tap_ceiling_stack_to_kernel synack=${MED[s2k]} tap_ceiling=$ctx_m unit=Mbit/s ratio=$(ratio "${MED[s2k]}" "$ctx_m")"
echo "bench tap_ceiling_kernel_to_stack_offload synack=${OMED[k2s]} tap_ceiling=$crx_m unit=Mbit/s ratio=$(ratio "${OMED[k2s]}" "$crx_m")"
echo "bench tap_ceiling_stack_to_kernel_offload synack=${OMED[s2k]} tap_ceiling=$ctx_m unit=Mbit/s ratio=$(ratio "${OMED[s2k]}" "$ctx_m")"
