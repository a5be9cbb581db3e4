#!/usr/bin/env bash
# netns_outbound.sh — `synack netns --outbound-addr` / `--outbound-addr6`
# (slirp4netns's options of the same names): which of the host's addresses
# the namespace's connections and UDP flows leave from. The "host" is a
# namespace this test makes, with two interfaces (TAPs): d0 holds the
# servers' networks (198.51.100.1/24, 2001:db8:1::1/64), d1 a second
# address (192.0.2.1/24, 2001:db8:2::1/64). Servers on d0 answer each TCP
# connection and UDP datagram with the peer's address. Without the option
# the kernel picks d0's own address; with it, TCP and UDP leave from d1's,
# given as an address or as the interface's name; the gateway (the host's
# loopback) is not bound; and with two ephemeral ports, two connections to
# each of two servers all open (the bound address leaves the port to
# connect, per destination, as without the option). And --disable-dns: with the host's resolver
# given as the who-udp server, a datagram to 10.0.2.3:53 reaches it, and
# with --disable-dns it is refused at once (port unreachable). Nothing
# outside the test's namespace is changed. And --loopback-cc: the
# congestion control of the host sockets to loopback addresses.
source "$(dirname "$0")/lib.sh"
interop_require timeout
PY="python3 $ROOT/tests/interop/netns_peer.py"
PORT=8000

NS=synack-obnd-$$ # lib.sh's cleanup deletes it
ip netns add "$NS" || { echo "FAIL: cannot create network namespace $NS"; exit 1; }
nsx ip link set lo up
for d in d0 d1; do # TAPs nobody reads: only their addresses matter, local ones
    nsx ip tuntap add dev $d mode tap || { echo "FAIL: cannot create $d"; exit 1; }
    nsx ip link set $d up
done
nsx ip addr add 198.51.100.1/24 dev d0
nsx ip addr add 192.0.2.1/24 dev d1
nsx ip -6 addr add 2001:db8:1::1/64 dev d0 nodad
nsx ip -6 addr add 2001:db8:2::1/64 dev d1 nodad

bg "$TMP/who4.log" $PY who-tcp $PORT 0.0.0.0
bg "$TMP/who6.log" $PY who-tcp $PORT ::
bg "$TMP/whou.log" $PY who-udp $PORT 198.51.100.1 # answers from that address, as a connected flow wants
bg "$TMP/dns.log" $PY who-udp 53 198.51.100.1 # a stand-in for the host's resolver
for f in who4 who6 whou dns; do waitfor "$TMP/$f.log" listening 20 || exit 1; done

# seen OPTIONS...: what the servers saw of a TCP connection to each of
# 198.51.100.1, [2001:db8:1::1] and 10.0.2.2 (the host's loopback), and of
# a UDP datagram to 198.51.100.1, from inside `synack netns --ipv6 OPTIONS`.
seen() {
    nsx timeout 60 "$BIN" netns -q --ipv6 "$@" -- sh -c "
        $PY who-ask tcp 198.51.100.1 $PORT; $PY who-ask tcp 2001:db8:1::1 $PORT
        $PY who-ask tcp 10.0.2.2 $PORT; $PY who-ask udp 198.51.100.1 $PORT" 2>&1 | tr '\n' ' '
}

got=$(seen)
[ "$got" = "198.51.100.1 2001:db8:1::1 127.0.0.1 198.51.100.1 " ] &&
    ok "no --outbound-addr: the kernel's choice, d0's own addresses: $got" || bad "no --outbound-addr: $got"
got=$(seen --outbound-addr 192.0.2.1 --outbound-addr6 2001:db8:2::1)
[ "$got" = "192.0.2.1 2001:db8:2::1 127.0.0.1 192.0.2.1 " ] &&
    ok "--outbound-addr 192.0.2.1 --outbound-addr6 2001:db8:2::1: $got (the gateway not bound)" ||
    bad "--outbound-addr by address: $got"
got=$(seen --outbound-addr d1 --outbound-addr6 d1)
[ "$got" = "192.0.2.1 2001:db8:2::1 127.0.0.1 192.0.2.1 " ] &&
    ok "--outbound-addr d1 --outbound-addr6 d1: $got" || bad "--outbound-addr by interface: $got"
nsx "$BIN" netns --outbound-addr nosuch0 -- true 2>"$TMP/err"
rc=$?
[ $rc -eq 2 ] && grep -q "not an IPv4 address or an interface with one" "$TMP/err" &&
    ok "an interface without an address: $(cat "$TMP/err")" || bad "--outbound-addr nosuch0: exit $rc"
# Congestion control of the host sockets: to the host's loopback and to its
# other own addresses (198.51.100.1 here, carried over loopback too) reno,
# no pacing timer per segment; elsewhere (198.51.100.7, nobody answers: the
# socket stays in SYN-SENT) the system's default; --loopback-cc default
# leaves the first two to the default too. The namespace's default is
# made one that is not reno: the first other one allowed (a namespace's
# default must be one of net.ipv4.tcp_allowed_congestion_control).
DEF=$(nsx sysctl -n net.ipv4.tcp_allowed_congestion_control | tr ' ' '\n' | grep -vx reno | head -1)
# cc_of FILTER...: the congestion control ss shows for the namespace's
# socket that FILTER selects, once it is reno (at most 2 s)
cc_of() {
    local cc="" i
    for ((i = 0; i < 20; i++)); do
        cc=$(nsx ss -Htin "$@" | grep -owE "reno|$DEF" | head -1)
        [ "$cc" = reno ] && break
        sleep 0.1
    done
    echo "$cc"
}
# cc_seen OPTIONS...: the congestion control of synack's host sockets to
# 127.0.0.1:8003, 198.51.100.1:8003 and 198.51.100.7:8003 while the
# namespace holds one to each (the last still connecting)
cc_seen() {
    ip netns exec "$NS" timeout 30 "$BIN" netns -q "$@" -- python3 "$TMP/hold.py" >"$TMP/hold.log" 2>&1 &
    local pid=$!
    waitfor "$TMP/hold.log" held 20 >/dev/null &&
        echo "$(cc_of state established dst 127.0.0.1:8003) $(cc_of state established dst 198.51.100.1:8003)" \
            "$(cc_of state syn-sent dst 198.51.100.7:8003)"
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}
if [ -z "$DEF" ] || ! nsx sysctl -qw net.ipv4.tcp_congestion_control="$DEF"; then
    ok "the loopback congestion control: not checked (no default but reno allowed here)"
else
    # a neighbour entry that never fails: SYNs to .7 leave into d0, unanswered
    nsx ip neigh add 198.51.100.7 lladdr 02:00:00:00:00:07 dev d0 nud permanent
    bg "$TMP/hold0.log" $PY sink-reply 8003 0
    waitfor "$TMP/hold0.log" listening 20 || exit 1
    cat >"$TMP/hold.py" <<'EOFH'
import socket, time
held = [socket.create_connection((h, 8003), timeout=5) for h in ("10.0.2.2", "198.51.100.1")]
far = socket.socket()
far.setblocking(False)
far.connect_ex(("198.51.100.7", 8003))
print("held", flush=True)
time.sleep(20)
EOFH
    got=$(cc_seen)
    [ "$got" = "reno reno $DEF" ] && ok "host sockets: to loopback and the host's own address reno, elsewhere the default: $got" ||
        bad "the loopback congestion control: $got"
    got=$(cc_seen --loopback-cc default)
    [ "$got" = "$DEF $DEF $DEF" ] && ok "--loopback-cc default: the default for all: $got" ||
        bad "--loopback-cc default: $got"
    # The same for a -p forward's host sockets, accepted from the host's
    # loopback and from its own address 198.51.100.1.
    ip netns exec "$NS" timeout 30 "$BIN" netns -q -p 8004:80 -- $PY sink-reply 80 0 \
        >"$TMP/fwd.log" 2>&1 &
    fpid=$!
    if ! waitfor "$TMP/fwd.log" listening 20; then
        bad "the forward's server in the namespace did not start"
    else
        bg "$TMP/fwdc.log" python3 -c 'import socket, time
held = [socket.create_connection((h, 8004), timeout=5) for h in ("127.0.0.1", "198.51.100.1")]
print("held", flush=True)
time.sleep(20)'
        if waitfor "$TMP/fwdc.log" held 20; then
            got="$(cc_of state established src 127.0.0.1:8004) $(cc_of state established src 198.51.100.1:8004)"
            [ "$got" = "reno reno" ] && ok "a forward's host sockets from loopback and the host's own address: $got" ||
                bad "a forward's host sockets: $got"
        else
            bad "the client of the forward did not connect"
        fi
        kill "$BGPID"
    fi
    kill "$fpid" 2>/dev/null
    wait "$fpid" 2>/dev/null
fi

# Two ports for the host's connections: each destination has its own two.
bg "$TMP/hold1.log" $PY sink-reply 8001 0
bg "$TMP/hold2.log" $PY sink-reply 8002 0
for f in hold1 hold2; do waitfor "$TMP/$f.log" listening 20 || exit 1; done
nsx sysctl -qw net.ipv4.ip_local_port_range="40000 40001" || skip "cannot set the namespace's port range"
cat >"$TMP/four.py" <<'EOF4'
import socket
held = []
for port in (8001, 8001, 8002, 8002):
    s = socket.create_connection(("198.51.100.1", port), timeout=5)
    held.append(s)
print("4 open")
EOF4
got=$(nsx timeout 60 "$BIN" netns -q --outbound-addr 192.0.2.1 -- python3 "$TMP/four.py" 2>&1 | tail -1)
[ "$got" = "4 open" ] && ok "--outbound-addr with 2 host ports: 2 connections to each of 2 servers open" ||
    bad "--outbound-addr with 2 host ports: $got"

got=$(nsx timeout 60 "$BIN" netns -q --dns-upstream 198.51.100.1 -- $PY who-ask udp 10.0.2.3 53 2>&1)
[ "$got" = "198.51.100.1" ] && ok "10.0.2.3:53 reaches the upstream resolver (it saw $got)" ||
    bad "DNS to the upstream: $got"
got=$(nsx timeout 60 "$BIN" netns -q --dns-upstream 198.51.100.1 --disable-dns -- \
    $PY udp-expect-refused 10.0.2.3 53 2>&1)
[ "$got" = "udp refused ok" ] && ok "--disable-dns: 10.0.2.3:53 is refused" || bad "--disable-dns: $got"
finish
