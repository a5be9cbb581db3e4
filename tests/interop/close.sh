#!/usr/bin/env bash
# close.sh — the four-way close seen from both sides, checked on a tshark
# reading of synack's capture:
#  - the kernel closes first: the kernel holds TIME-WAIT (ss -tan state
#    time-wait), synack goes CLOSE-WAIT -> LAST-ACK -> CLOSED;
#  - synack closes first (--app greet): synack holds TIME-WAIT (its trace),
#    the kernel holds none.
source "$(dirname "$0")/lib.sh"
interop_require tshark ss
setup_ns close

fins() { # fins PCAP PORT: "SRC FLAGS" of every FIN and the last ACK, in order
    tshark -r "$1" -Y "tcp.port == $2 && (tcp.flags.fin == 1 || tcp.flags.reset == 1)" \
        -T fields -e ip.src -e tcp.flags.str 2>/dev/null
}

# --- the kernel closes first
serve --port 7 --app echo --pcap "$TMP/a.pcap" --trace
nsx $PEER --timeout 10 close-first $SIP 7 || bad "kernel client"
sleep 0.3
tw=$(nsx ss -tanH state time-wait "( dport = :7 )")
echo "kernel TIME-WAIT: $tw"
echo "$tw" | grep -q "$KIP:[0-9]* *$SIP:7" && ok "the kernel holds TIME-WAIT" ||
    bad "the kernel closed first but holds no TIME-WAIT"
stop "$SERVE_PID"
grep ' STATE ' "$SERVE_LOG" | grep -v LISTEN
grep -q ' STATE CLOSE-WAIT -> LAST-ACK' "$SERVE_LOG" && grep -q ' STATE LAST-ACK -> CLOSED' "$SERVE_LOG" ||
    bad "synack did not go CLOSE-WAIT -> LAST-ACK -> CLOSED"
grep -q 'TIME-WAIT' "$SERVE_LOG" && bad "synack entered TIME-WAIT though the kernel closed first"
f=$(fins "$TMP/a.pcap" 7)
echo "FINs on the wire: $(echo $f)"
[ "$(echo "$f" | head -1 | cut -f1)" = "$KIP" ] || bad "the first FIN is not the kernel's"
[ "$(echo "$f" | sed -n 2p | cut -f1)" = "$SIP" ] || bad "the second FIN is not synack's"
[ "$(echo "$f" | wc -l)" -eq 2 ] || bad "expected exactly two FINs and no RST"
last=$(tshark -r "$TMP/a.pcap" -Y "tcp.port == 7" -T fields -e ip.src -e tcp.flags.str 2>/dev/null | tail -1)
echo "$last" | grep -q "^$KIP.*A" && ! echo "$last" | grep -q F ||
    bad "the exchange does not end with the kernel's ACK of synack's FIN: $last"

# --- synack closes first
serve --port 13 --app greet --pcap "$TMP/b.pcap" --trace
nsx $PEER --timeout 10 read-until-eof $SIP 13 | tee "$TMP/greet" || bad "kernel client"
grep -q "6 bytes b'hello\\\\n'" "$TMP/greet" || bad "greet did not send hello"
sleep 0.3
tw=$(nsx ss -tanH state time-wait "( dport = :13 )")
[ -z "$tw" ] && ok "the kernel holds no TIME-WAIT" || bad "the kernel holds TIME-WAIT though synack closed first: $tw"
stop "$SERVE_PID"
grep ' STATE ' "$SERVE_LOG" | grep -v LISTEN
grep -q ' STATE FIN-WAIT-1 -> ' "$SERVE_LOG" && grep -q ' -> TIME-WAIT' "$SERVE_LOG" &&
    ok "synack holds TIME-WAIT" || bad "synack did not go FIN-WAIT-1 ... TIME-WAIT"
f=$(fins "$TMP/b.pcap" 13)
echo "FINs on the wire: $(echo $f)"
[ "$(echo "$f" | head -1 | cut -f1)" = "$SIP" ] || bad "the first FIN is not synack's"
[ "$(echo "$f" | sed -n 2p | cut -f1)" = "$KIP" ] || bad "the second FIN is not the kernel's"
[ "$(echo "$f" | wc -l)" -eq 2 ] || bad "expected exactly two FINs and no RST"
finish
