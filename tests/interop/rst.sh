#!/usr/bin/env bash
# rst.sh — resets both ways:
#  - the kernel connecting to a port synack does not listen on gets RST
#    (ECONNREFUSED), seen on a tshark reading of synack's capture;
#  - synack connecting to a closed kernel port reports the refusal;
#  - a kernel RST ends a synack connection with ECONNRESET, both for
#    `synack connect` and for a `synack serve` connection.
source "$(dirname "$0")/lib.sh"
interop_require tshark
setup_ns rst

serve --port 7 --app echo --pcap "$TMP/a.pcap"
nsx $PEER --timeout 10 refused $SIP 9 || bad "connecting to a closed synack port was not refused"
nsx $PEER --timeout 10 rst-client $SIP 7 || bad "kernel rst-client"
sleep 0.3
stop "$SERVE_PID"
cat "$SERVE_LOG"
grep -q '^conn .*end=reset' "$SERVE_LOG" && ok "synack serve saw ECONNRESET" ||
    bad "the serve connection did not end with a reset"
rst=$(tshark -r "$TMP/a.pcap" -Y "tcp.srcport == 9 && tcp.flags.reset == 1" -T fields -e ip.src 2>/dev/null)
[ "$rst" = "$SIP" ] && ok "RST from synack for port 9" || bad "no RST from synack for port 9 in the capture"

out=$(nsx "$BIN" connect --tap tap0 --ip $SIP/24 --to $KIP:9 --timeout 10 2>&1)
rc=$?
echo "$out"
[ "$rc" -eq 1 ] && echo "$out" | grep -q 'refused' && ok "synack connect reports the refusal" ||
    bad "synack connect to a closed kernel port: status $rc"

bg "$TMP/rst.log" $PEER --timeout 10 rst-server 5004
waitfor "$TMP/rst.log" listening 10 || exit 1
out=$(nsx "$BIN" connect --tap tap0 --ip $SIP/24 --to $KIP:5004 --bytes 4MiB --timeout 10 2>&1)
rc=$?
echo "$out"
[ "$rc" -eq 1 ] && echo "$out" | grep -q 'reset by peer' && ok "synack connect saw ECONNRESET" ||
    bad "synack connect reset by the kernel: status $rc"
finish
