#!/usr/bin/env bash
# run_iperf.sh — iperf3 over `synack run`, the kernel's iperf3 on the other
# side: as client sending and receiving (-R), and as server both ways. Each
# run is checked by exit status and by its JSON report (no error, at least
# 10 MB received in 2 s). Not by content: iperf3 sends a buffer of its own,
# and its file mode (-F) corrupts the file whenever a non-blocking write is
# partial, as it is on a busy socket (seen kernel to kernel through a
# 100 Mbit/s qdisc too); curl, wget, socat and nginx check content instead.
source "$(dirname "$0")/lib.sh"
interop_require iperf3
setup_ns runiperf
RUN=("$BIN" run --tap tap0 --ip $SIP/24 -q)
CHECK="python3 $ROOT/tests/interop/run/iperf_check.py"
MIN=10000000

# check NAME JSON: the report's verdict
check() {
    local line
    line=$($CHECK "$2" $MIN) && ok "$1: $line" || { bad "$1: $line"; sed 's/^/    /' "$2" | tail -20; }
}

# iperf3 as client over synack, the kernel's server (-1: one test, then exit)
port=5201
for dir in "" -R; do
    bg "$TMP/server$port.log" iperf3 -s -1 --forceflush -B $KIP -p $port
    waitfor "$TMP/server$port.log" "listening" || exit 1
    nsx timeout 60 "${RUN[@]}" -- iperf3 -c $KIP -p $port -t 2 -J $dir >"$TMP/c$port.json" 2>"$TMP/c$port.err"
    rc=$?
    [ "$rc" -eq 0 ] || { bad "client$dir: exit status $rc"; cat "$TMP/c$port.err"; }
    check "iperf3 client over synack${dir:+ ($dir, the kernel sends)}" "$TMP/c$port.json"
    port=$((port + 1))
done

# iperf3 as server over synack, the kernel's client
for dir in "" -R; do
    bg "$TMP/server$port.log" "${RUN[@]}" -- iperf3 -s -1 --forceflush -B $SIP -p $port
    SERVER=$BGPID
    waitfor "$TMP/server$port.log" "listening" 20 || exit 1
    nsx timeout 60 iperf3 -c $SIP -p $port -t 2 -J $dir >"$TMP/c$port.json" 2>"$TMP/c$port.err"
    rc=$?
    [ "$rc" -eq 0 ] || { bad "kernel client$dir: exit status $rc"; cat "$TMP/c$port.err"; }
    check "iperf3 server over synack${dir:+ ($dir, synack sends)}" "$TMP/c$port.json"
    wait "$SERVER"
    rc=$?
    [ "$rc" -eq 0 ] || { bad "server$dir over synack: exit status $rc"; cat "$TMP/server$port.log"; }
    port=$((port + 1))
done

finish
