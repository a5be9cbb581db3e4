#!/usr/bin/env bash
# netns_ports.sh — `synack netns` when the namespace opens connections faster
# than host ports free up. The relay's host sockets live in the namespace
# synack runs in, so synack runs inside one this test makes, with its own
# sysctls: 10 ephemeral ports (40000-40009) and tcp_tw_reuse=0 (Linux's
# default 2 would reuse TIME-WAIT towards loopback at once). The server
# there, on 127.0.0.1, answers only after the client's FIN, so the relay's
# host socket closes first and keeps each TIME-WAIT (60 s). The client in
# synack's namespace opens 14 short connections one after another to
# 10.0.2.2: the first 10 take the 10 ports; the 11th finds none
# (EADDRNOTAVAIL), which synack reports (a log line, RelayOutPortExhausted)
# without refusing it: the client's SYN retries, its connect still waits
# 3 s later, no RST; then tcp_tw_reuse=1 (what docs/cli.md suggests) lets
# the next retry reuse a TIME-WAIT port, and all 14 succeed. Nothing
# outside the test's namespace is changed.
source "$(dirname "$0")/lib.sh"
interop_require sysctl ss timeout
PY="python3 $ROOT/tests/interop/netns_peer.py"
PORT=8000 N=14

NS=synack-ports-$$ # lib.sh's cleanup deletes it
ip netns add "$NS" || { echo "FAIL: cannot create network namespace $NS"; exit 1; }
nsx ip link set lo up
nsx sysctl -qw net.ipv4.ip_local_port_range="40000 40009" net.ipv4.tcp_tw_reuse=0 ||
    skip "cannot set the namespace's port range or tcp_tw_reuse"

bg "$TMP/server.log" $PY sink-reply $PORT 0
waitfor "$TMP/server.log" listening 20 || exit 1
: >"$TMP/client.out"
bg "$TMP/netns.log" timeout 120 "$BIN" netns -- sh -c "$PY short-conns 10.0.2.2 $PORT $N 60 >$TMP/client.out 2>&1"
NPID=$BGPID

# Ten connections, then none: the 11th's SYN is dropped
waitfor "$TMP/netns.log" "no free host port" 30 || { cat "$TMP/client.out"; exit 1; }
grep -q "^relay 10.0.2.100:[0-9]* -> 10.0.2.2:$PORT held back: no free host port (EADDRNOTAVAIL)" \
    "$TMP/netns.log" && ok "log: $(grep -m1 "no free host port" "$TMP/netns.log")" ||
    bad "no 'held back: no free host port (EADDRNOTAVAIL)' line"
tw=$(nsx ss -Htan state time-wait "( sport >= :40000 and sport <= :40009 and dport = :$PORT )" | wc -l)
[ "$tw" -eq 10 ] && ok "the relay's 10 host sockets hold TIME-WAIT" || bad "$tw host sockets in TIME-WAIT, want 10"

# 3 s on, the 11th connect still waits: no RST, no error
sleep 3
nok=$(grep -c "ok" "$TMP/client.out")
if [ "$nok" -eq 10 ] && ! grep -q failed "$TMP/client.out" && kill -0 "$NPID" 2>/dev/null; then
    ok "3 s after the ports ran out: 10 connections done, the 11th still waiting (no RST)"
else
    bad "3 s after the ports ran out: $nok done, want 10 and the 11th waiting"; cat "$TMP/client.out"
fi

# The host's remedy: TIME-WAIT reuse (timestamps on, the TIME-WAIT >= 1 s old)
nsx sysctl -qw net.ipv4.tcp_tw_reuse=1
for _ in $(seq 400); do kill -0 "$NPID" 2>/dev/null || break; sleep 0.1; done
stop "$NPID"
rc=$?
[ "$rc" -eq 0 ] && [ "$(grep -c " ok " "$TMP/client.out")" -eq $N ] &&
    ok "tcp_tw_reuse=1: all $N connections done, the 11th after $(sed -n 's/^conn 11 ok //p' "$TMP/client.out") s" ||
    { bad "after tcp_tw_reuse=1: exit status $rc"; cat "$TMP/client.out"; }
waited=$(sed -n 's/^conn 11 ok \([0-9]*\).*/\1/p' "$TMP/client.out")
[ "${waited:-0}" -ge 3 ] || bad "the 11th connection took ${waited:-?} s: it did not wait for a port"

n=$(sed -n 's/^RelayOutPortExhausted  *//p' "$TMP/netns.log")
[ "${n:-0}" -gt 0 ] && ok "RelayOutPortExhausted $n" || bad "RelayOutPortExhausted '${n:-}', want > 0"
for c in "RelayOutOpened  *$N" "RelayOutRefused  *0" "RelayOutUnreachable  *0" "RelayClosed  *$N"; do
    grep -q "^$c$" "$TMP/netns.log" || bad "counters: no '$c'"
done
[ "$fail" -eq 0 ] || tail -40 "$TMP/netns.log" | sed 's/^/    /'
finish
