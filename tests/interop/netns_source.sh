#!/usr/bin/env bash
# netns_source.sh — the address a `synack netns -p` connection comes from
# in the namespace: the host client's own, as slirp4netns and pasta give
# it (a server there logs and limits its real clients), and the gateway's
# (10.0.2.2, fd00::2) for a client on the host's loopback or inside the
# namespace's subnet. The "host" is a namespace this test makes, joined by
# a veth pair to a second one, the "client" (192.168.77.2/24,
# 2001:db8:77::2/64, and 10.0.2.50/24: inside synack's 10.0.2.0/24). A
# who-tcp server in synack's namespace answers each connection with the
# peer's address and port. A client that opens a second connection from
# the same address and port to another forward of the same server, its
# first still open, keeps its address on a port of synack's choosing (that
# 4-tuple is taken in the namespace). Nothing outside the test's
# namespaces is changed.
source "$(dirname "$0")/lib.sh"
interop_require timeout
PY="python3 $ROOT/tests/interop/netns_peer.py"
P4=8001 P4B=8002 P6=8003 U4=8004 U6=8005 SPORT=45678

NS=synack-srch-$$ # the host; lib.sh's cleanup deletes it
NSC=synack-srcc-$$ # the client
trap 'ip netns del "$NSC" 2>/dev/null; cleanup' EXIT
ip netns add "$NS" || { echo "FAIL: cannot create network namespace $NS"; exit 1; }
ip netns add "$NSC" || { echo "FAIL: cannot create network namespace $NSC"; exit 1; }
nsx ip link set lo up
ip -n "$NSC" link set lo up
nsx ip link add v0 type veth peer name v1 netns "$NSC" || { echo "FAIL: cannot create a veth pair"; exit 1; }
nsx ip addr add 192.168.77.1/24 dev v0
nsx ip addr add 10.0.2.1/24 dev v0
nsx ip -6 addr add 2001:db8:77::1/64 dev v0 nodad
nsx ip link set v0 up
ip -n "$NSC" addr add 192.168.77.2/24 dev v1
ip -n "$NSC" addr add 10.0.2.50/24 dev v1
ip -n "$NSC" -6 addr add 2001:db8:77::2/64 dev v1 nodad
ip -n "$NSC" link set v1 up
cx() { ip netns exec "$NSC" "$@"; }

cat >"$TMP/servers.sh" <<EOF
$PY who-tcp 8080 0.0.0.0 port & a=\$!
$PY who-tcp 8080 :: port & b=\$!
$PY who-udp 8080 0.0.0.0 & c=\$!
$PY who-udp 8080 :: & d=\$!
trap 'kill \$a \$b \$c \$d; exit 0' TERM
wait
EOF
bg "$TMP/netns.log" timeout 120 "$BIN" netns ${NETNS_ARGS:-} --ipv6 -p $P4:8080 -p $P4B:8080 -p "[::]:$P6:8080" \
    -p $U4:8080/udp -p "[::]:$U6:8080/udp" -- sh "$TMP/servers.sh"
NPID=$BGPID
for _ in $(seq 100); do [ "$(grep -c listening "$TMP/netns.log")" -ge 4 ] && break; sleep 0.1; done
waitfor "$TMP/netns.log" listening 1 || exit 1

# seen FROM HOST PORT [udp]: the address (not the port) the server saw
seen() {
    local run=nsx
    [ "$1" = client ] && run=cx
    $run $PY who-ask "${4:-tcp}" "$2" "$3" 2>&1 | awk '{ print $1 }'
}

got=$(seen client 192.168.77.1 $P4)
[ "$got" = 192.168.77.2 ] && ok "a client at 192.168.77.2 comes from 192.168.77.2 (IPv4 -p)" ||
    bad "the client's IPv4 address: the server saw '$got'"
got=$(seen client 2001:db8:77::1 $P6)
[ "$got" = 2001:db8:77::2 ] && ok "a client at 2001:db8:77::2 comes from 2001:db8:77::2 (IPv6 -p)" ||
    bad "the client's IPv6 address: the server saw '$got'"
got=$(seen host 127.0.0.1 $P4)
[ "$got" = 10.0.2.2 ] && ok "a client on the host's 127.0.0.1 comes from the gateway, 10.0.2.2" ||
    bad "a loopback client: the server saw '$got'"
got=$(seen host ::1 $P6)
[ "$got" = fd00::2 ] && ok "a client on the host's ::1 comes from the gateway, fd00::2" ||
    bad "an IPv6 loopback client: the server saw '$got'"
got=$(seen client 10.0.2.1 $P4)
[ "$got" = 10.0.2.2 ] &&
    ok "a client at 10.0.2.50, inside the namespace's subnet, comes from the gateway" ||
    bad "a client inside the namespace's subnet: the server saw '$got'"

# UDP is steered by addresses alone: with threads, every client of a UDP
# forward comes from the gateway (one rule, not a coin toss per client).
want4=192.168.77.2 want6=2001:db8:77::2
case "${NETNS_ARGS:-}" in *--threads*) want4=10.0.2.2 want6=fd00::2 ;; esac
got=$(seen client 192.168.77.1 $U4 udp)
[ "$got" = $want4 ] && ok "UDP: a client at 192.168.77.2 comes from $want4 (-p .../udp)" ||
    bad "UDP, a client at 192.168.77.2: the server saw '$got', not $want4"
got=$(seen client 2001:db8:77::1 $U6 udp)
[ "$got" = $want6 ] && ok "UDP: a client at 2001:db8:77::2 comes from $want6" ||
    bad "UDP, a client at 2001:db8:77::2: the server saw '$got', not $want6"
got=$(seen host 127.0.0.1 $U4 udp)
[ "$got" = 10.0.2.2 ] && ok "UDP: a client on the host's 127.0.0.1 comes from the gateway, 10.0.2.2" ||
    bad "UDP, a loopback client: the server saw '$got'"
got=$(seen client 10.0.2.1 $U4 udp)
[ "$got" = 10.0.2.2 ] && ok "UDP: a client inside the namespace's subnet comes from the gateway" ||
    bad "UDP, a client inside the namespace's subnet: the server saw '$got'"

# A UDP client's flow takes only the namespace server's answers: the
# namespace's own datagrams to that client's address and port (a program
# inside talking to it, or a forged client that named some server's address
# and port) still go out through the NAT, both ways.
if [ -z "${NETNS_ARGS:-}" ]; then
    cx $PY udp-hold 47001 192.168.77.1 $U4 10 >"$TMP/hold.out" 2>&1 &
    hp=$!
    PIDS="$PIDS $hp"
    waitfor "$TMP/hold.out" 192.168.77.2 10 || exit 1
    inside=$(pgrep -x -f "sh $TMP/servers.sh" | head -1) # COMMAND itself, in synack's namespace
    got=$(nsenter -t "$inside" -n $PY who-ask udp 192.168.77.2 47001 2>&1)
    wait $hp
    [ "$got" = seen ] && grep -q "^seen 192.168.77.1" "$TMP/hold.out" &&
        ok "UDP from inside to the forward's client 192.168.77.2:47001 goes out through the NAT and back" ||
        bad "UDP from inside to 192.168.77.2:47001: '$got'; the client: $(tr '\n' ' ' <"$TMP/hold.out")"
fi

# The same address and port to two forwards of one server, the first still
# open: the second 4-tuple is taken in the namespace, so synack picks
# another port there and keeps the address.
cx $PY who-ask-from $SPORT 192.168.77.1 $P4 $P4B >"$TMP/twice.out" 2>&1
first=$(sed -n 1p "$TMP/twice.out") second=$(sed -n 2p "$TMP/twice.out")
case "$first ${NETNS_ARGS:-}" in
"192.168.77.2 $SPORT"*) ok "from port $SPORT: the server saw '$first'" ;;
"192.168.77.2 "*--threads*) ok "from port $SPORT: '$first' (another thread's flow: a port of synack's)" ;;
*) bad "the client's address and port: the server saw '$first'" ;;
esac
case $second in
"192.168.77.2 $SPORT") bad "the second connection from port $SPORT: its 4-tuple was in use, yet '$second'" ;;
"192.168.77.2 "*) ok "again from port $SPORT, the first still open: '$second' (a port of synack's, the address kept)" ;;
*) bad "the second connection from port $SPORT: '$second'" ;;
esac

# Twenty connections in a row from the client: each from its address.
n=0
for _ in $(seq 20); do [ "$(seen client 192.168.77.1 $P4)" = 192.168.77.2 ] && n=$((n + 1)); done
[ $n = 20 ] && ok "20 connections in a row from 192.168.77.2, each seen from it" ||
    bad "20 connections in a row: $n seen from the client's address"

stop "$NPID"
# The UDP forwards' counters at exit: a client each of the checks above
# (the hold's second exchange went through the NAT, not the forward).
n=5
[ -n "${NETNS_ARGS:-}" ] && n=4 # no hold check with threads
for c in "UdpFwdClients  *$n" "UdpFwdIn  *$n" "UdpFwdOut  *$n" "UdpFwdDropped  *0"; do
    grep -q "^$c\$" "$TMP/netns.log" || bad "counters at exit: no '$c'"
done
[ "$fail" -eq 0 ] && ok "UDP forward counters at exit: $n clients, $n datagrams each way, none dropped"
# Each relay line names the client, and what the server saw where that
# differs: the gateway for a loopback client, another port for a taken one.
grep -qE "^relay 192.168.77.2:$SPORT -> 10.0.2.100:8080 (closed|\(seen as 192.168.77.2:[0-9]+\) closed)" "$TMP/netns.log" &&
    ok "the relay's line names the client: 192.168.77.2:$SPORT -> 10.0.2.100:8080" ||
    bad "no relay line for 192.168.77.2:$SPORT"
port2=${second##* }
[ "$port2" != "$SPORT" ] && grep -q "^relay 192.168.77.2:$SPORT -> 10.0.2.100:8080 (seen as 192.168.77.2:$port2) closed" "$TMP/netns.log" &&
    ok "the taken port's line says what the server saw: (seen as 192.168.77.2:$port2)" ||
    bad "no relay line says (seen as 192.168.77.2:$port2)"
grep -qE "^relay 127.0.0.1:[0-9]+ -> 10.0.2.100:8080 \(seen as 10.0.2.2:[0-9]+\) closed" "$TMP/netns.log" &&
    ok "a loopback client's line says the server saw the gateway" ||
    bad "no relay line with (seen as 10.0.2.2:...) for a loopback client"
if [ "$fail" -ne 0 ]; then sed 's/^/    /' "$TMP/netns.log" | tail -30; fi
finish
