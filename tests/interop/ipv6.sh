#!/usr/bin/env bash
# ipv6.sh — TCP over IPv6 with the kernel on a TAP (issue 10), everything in
# the test's own namespaces:
#  - curl -g fetches a page from `synack serve --app http` at [fd77::2];
#  - 20 MB to `--app echo` and back, SHA-256 checked (both directions);
#  - the four-way close both ways, checked with ss: the kernel closing
#    first holds TIME-WAIT for the IPv6 4-tuple, synack closing first
#    leaves the kernel none;
#  - `synack connect --to [fd77::1]:PORT` sends 2 MB to a kernel listener;
#  - a kernel router with a 1280-byte hop to a second namespace: a client
#    there fetches 2 MB from synack, which must learn the path MTU from
#    the router's ICMPv6 "packet too big" (RFC 8201) to get it across.
source "$(dirname "$0")/lib.sh"
interop_require curl ss sha256sum
setup_ns ipv6
KIP6=fd77::1
SIP6=fd77::2
nsx sysctl -qw net.ipv6.conf.tap0.accept_dad=0 2>/dev/null
ip -n "$NS" addr add $KIP6/64 dev tap0 nodad
# serve6 ARGS...: serve with the IPv6 address as well, once duplicate
# address detection (1 s) has made it usable.
serve6() { serve --ip $SIP6/64 "$@" && sleep 1.2; }

# --- curl over IPv6
serve6 --port 80 --app http --trace
body=$(nsx curl -sS -g --max-time 10 "http://[$SIP6]/")
echo "curl: $body" | head -3
[ -n "$body" ] && ok "curl -g fetched http://[$SIP6]/" || bad "curl over IPv6 got nothing"
stop "$SERVE_PID"
grep -q " \[$SIP6\]:80 \[$KIP6\]:[0-9]* STATE SYN-RECEIVED -> ESTABLISHED" "$SERVE_LOG" &&
    ok "synack traced the IPv6 connection" || bad "no IPv6 connection in synack's trace"

# --- 20 MB both ways, SHA-256 checked
serve6 --port 7 --app echo
nsx $PEER --timeout 60 echo-client $SIP6 7 $((20 * 1024 * 1024)) && ok "20 MB echoed over IPv6" ||
    bad "20 MB echo over IPv6"
stop "$SERVE_PID"
grep -q "^conn \[$KIP6\]:[0-9]* .*end=peer-closed" "$SERVE_LOG" ||
    bad "the IPv6 echo connection did not end by the peer closing"

# --- the four-way close, both ways
serve6 --port 7 --app echo --trace
nsx $PEER --timeout 10 close-first $SIP6 7 || bad "kernel client (close-first)"
sleep 0.3
tw=$(nsx ss -tanH state time-wait "( dport = :7 )")
echo "kernel TIME-WAIT: $tw"
echo "$tw" | grep -q "\[$KIP6\]:[0-9]* *\[$SIP6\]:7" && ok "the kernel holds TIME-WAIT for the IPv6 4-tuple" ||
    bad "the kernel closed first but holds no IPv6 TIME-WAIT"
stop "$SERVE_PID"
grep -q ' STATE CLOSE-WAIT -> LAST-ACK' "$SERVE_LOG" && grep -q ' STATE LAST-ACK -> CLOSED' "$SERVE_LOG" ||
    bad "synack did not go CLOSE-WAIT -> LAST-ACK -> CLOSED"
serve6 --port 13 --app greet --trace
nsx $PEER --timeout 10 read-until-eof $SIP6 13 >/dev/null || bad "kernel client (read-until-eof)"
sleep 0.3
tw=$(nsx ss -tanH state time-wait "( dport = :13 )")
[ -z "$tw" ] && ok "the kernel holds no TIME-WAIT when synack closes first" ||
    bad "the kernel holds TIME-WAIT though synack closed first: $tw"
stop "$SERVE_PID"
grep -q ' STATE FIN-WAIT-1 -> ' "$SERVE_LOG" && grep -q ' -> TIME-WAIT' "$SERVE_LOG" &&
    ok "synack holds TIME-WAIT" || bad "synack did not go FIN-WAIT-1 ... TIME-WAIT"

# --- synack as the client
bg "$TMP/sink.log" env PEER_IPV6=1 $PEER --timeout 30 sink-server 7070
waitfor "$TMP/sink.log" "listening" 10 || exit 1
head -c $((2 * 1024 * 1024)) /dev/urandom >"$TMP/data"
nsx "$BIN" connect --tap tap0 --ip $SIP/24 --ip $SIP6/64 --to "[$KIP6]:7070" --send "$TMP/data" \
    --timeout 30 --quiet 2>&1 || bad "synack connect --to [$KIP6]:7070"
sleep 0.3
want=$(sha256sum <"$TMP/data" | cut -c1-64)
grep -q "$want" "$TMP/sink.log" && ok "synack sent 2 MB to the kernel over IPv6" ||
    { bad "the kernel did not receive synack's 2 MB intact"; cat "$TMP/sink.log"; }

# --- a 1280-byte hop: path MTU from ICMPv6 packet too big
NS2=synack-ipv6b-$$
ip netns add "$NS2" || { echo "FAIL: cannot create $NS2"; exit 1; }
trap 'ip netns del "$NS2" 2>/dev/null; cleanup' EXIT
ip -n "$NS" link add veth0 type veth peer name veth1 netns "$NS2"
ip -n "$NS" addr add fd88::1/64 dev veth0 nodad
ip -n "$NS" link set veth0 mtu 1280 up
ip -n "$NS2" addr add fd88::2/64 dev veth1 nodad
ip -n "$NS2" link set veth1 up
ip -n "$NS2" link set lo up
ip -n "$NS2" -6 route add default via fd88::1
nsx sysctl -qw net.ipv6.conf.all.forwarding=1
serve6 --port 80 --app source=2000000 --gw $KIP6
out=$(ip netns exec "$NS2" $PEER --timeout 30 read-until-eof $SIP6 80)
echo "$out"
echo "$out" | grep -q "read-until-eof: 2000000 bytes" && ok "2 MB crossed the 1280-byte IPv6 hop" ||
    bad "the transfer across the 1280-byte IPv6 hop did not complete"
kill -USR1 "$SERVE_PID"
sleep 0.3
grep -E "Icmp6InPktTooBigs|TcpExtSynackPMTUReduced" "$SERVE_LOG"
grep -q "Icmp6InPktTooBigs" "$SERVE_LOG" && grep -q "TcpExtSynackPMTUReduced" "$SERVE_LOG" &&
    ok "synack learnt the path MTU from ICMPv6 packet too big" ||
    bad "synack never lowered its path MTU from ICMPv6"
stop "$SERVE_PID"
finish
