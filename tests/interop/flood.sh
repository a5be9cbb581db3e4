#!/usr/bin/env bash
# flood.sh — issue 9's load over a real TAP, the kernel as the other end:
#  - 100,000 spoofed SYNs in 10 s (from 198.18.0.0/15, written with an
#    AF_PACKET socket on tap0) at `synack serve --backlog 128`, while the
#    kernel connects and echoes 1 MB during the flood and again right after
#    it: both transfers complete (SHA-256), SYN cookies take the overflow,
#    and serve's peak resident memory grows by less than 10 MiB;
#  - 10,000 idle kernel connections held open to `synack serve` cost less
#    than 4 KiB resident each (bytes of RSS growth per connection).
# Memory is read from /proc/PID/status of the optimised build (build/synack):
# ASan's shadow memory and quarantine would measure ASan, not synack.
source "$(dirname "$0")/lib.sh"
interop_require
BIN=$ROOT/build/synack
[ -x "$BIN" ] || { echo "FAIL: $BIN is missing (run make test-build)"; exit 1; }
setup_ns flood
SMAC=02:00:0a:4d:00:02 # serve's default MAC: 02:00 and the four bytes of 10.77.0.2

kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }

# ---- the flood. SYN,ACKs to the spoofed sources go to the kernel (--gw),
# which does not forward them.
serve --port 7 --app echo --backlog 128 --gw $KIP --quiet
nsx $PEER --timeout 10 echo-client $SIP 7 1000 >/dev/null || bad "warm-up echo failed"
rss0=$(kib "$SERVE_PID" VmRSS)
bg "$TMP/flood.log" $PEER --timeout 60 syn-flood tap0 $SMAC $SIP 7 100000 10
FLOOD_PID=$BGPID
sleep 3
nsx $PEER --timeout 30 echo-client $SIP 7 1000000 && ok "1 MB echoed during the flood" ||
    bad "the echo during the flood failed"
wait "$FLOOD_PID"
cat "$TMP/flood.log"
grep -q "^flooded 100000" "$TMP/flood.log" || bad "the flood did not complete"
nsx $PEER --timeout 30 echo-client $SIP 7 1000000 && ok "1 MB echoed right after the flood" ||
    bad "the echo right after the flood failed"
hwm=$(kib "$SERVE_PID" VmHWM)
growth=$((hwm - rss0))
echo "serve: resident $rss0 KiB before, peak $hwm KiB: +$growth KiB"
[ "$growth" -lt 10240 ] && ok "peak memory grew by $growth KiB (< 10 MiB)" ||
    bad "peak memory grew by $growth KiB (limit 10 MiB)"
kill -USR1 "$SERVE_PID"
sleep 0.3
grep -E "TcpExtSyncookiesSent|TcpExtListenOverflows|TcpExtListenDrops" "$SERVE_LOG"
grep -q "TcpExtSyncookiesSent" "$SERVE_LOG" && ok "SYN cookies answered the overflow" ||
    bad "no SYN cookies were sent"
stop "$SERVE_PID" || bad "serve did not exit cleanly after the flood"

# ---- 10,000 idle connections.
N=10000
serve --port 9 --app discard --quiet
nsx $PEER --timeout 10 echo-client $SIP 9 0 >/dev/null 2>&1 # warm-up (discard: no echo)
rss0=$(kib "$SERVE_PID" VmRSS)
bg "$TMP/hold.log" $PEER --timeout 120 hold $SIP 9 $N
HOLD_PID=$BGPID
waitfor "$TMP/hold.log" "holding $N" 90 || exit 1
sleep 1
rss1=$(kib "$SERVE_PID" VmRSS)
per=$(( (rss1 - rss0) * 1024 / N ))
echo "serve: resident $rss0 KiB before, $rss1 KiB with $N idle connections: $per B each"
[ "$per" -lt 4096 ] && ok "$per B resident per idle connection (< 4 KiB)" ||
    bad "$per B resident per idle connection (limit 4 KiB)"
stop "$HOLD_PID"
sleep 1
kill -USR1 "$SERVE_PID"
sleep 0.3
stop "$SERVE_PID" || bad "serve did not exit cleanly after the idle connections"
finish
