#!/usr/bin/env bash
# netns.sh — `synack netns`: servers in a namespace that synack networks,
# reached from the host through its port forwards (-p) on 127.0.0.1: curl
# downloads 6 MB (SHA-256 checked); a half-close each way goes through the
# relay (the side that shut its write side first still receives all); a
# reset inside becomes ECONNRESET outside; a port nothing listens on in the
# namespace resets the host's connection at once; the relay's log lines and
# counters; with --ipv6, forwards from [::1] (TCP and UDP) into the
# namespace over IPv6; COMMAND's exit status is synack's (128 + N for signal N); the
# same download with synack run as nobody (user namespace), skipped with the
# reason when the kernel forbids that. The test makes no namespace of its
# own: synack's are gone when their last process is.
source "$(dirname "$0")/lib.sh"
interop_require curl sha256sum
PY="python3 $ROOT/tests/interop/netns_peer.py"
chmod 755 "$TMP"
BASE=$((10000 + $$ % 20000)) # below the ephemeral ports (32768-)
HTTP=$BASE HALF=$((BASE + 1)) FIRST=$((BASE + 2)) RST=$((BASE + 3)) NONE=$((BASE + 4))
UDP=$((BASE + 5))

head -c 6000000 /dev/urandom >"$TMP/big"
want=$(sha256sum <"$TMP/big" | cut -d' ' -f1)

# The namespace's servers: one shell that starts them and, on SIGTERM (which
# synack passes on), stops them by PID and exits 0.
cat >"$TMP/servers.sh" <<EOF
$PY http 8080 $TMP >$TMP/http.log 2>&1 & P1=\$!
$PY sink-reply 8081 2000000 >$TMP/half.log 2>&1 & P2=\$!
$PY first-shut 8082 1500000 >$TMP/first.log 2>&1 & P3=\$!
$PY reset 8083 >$TMP/reset.log 2>&1 & P4=\$!
$PY udp-echo 8084 0.0.0.0 >$TMP/udp.log 2>&1 & P5=\$!
trap 'kill \$P1 \$P2 \$P3 \$P4 \$P5; exit 0' TERM INT
wait
EOF
: >"$TMP/netns.log"
"$BIN" netns ${NETNS_ARGS:-} -p 127.0.0.1:$HTTP:8080 -p 127.0.0.1:$HALF:8081 -p 127.0.0.1:$FIRST:8082 \
    -p 127.0.0.1:$RST:8083 -p 127.0.0.1:$NONE:8090/tcp -p 127.0.0.1:$UDP:8084/udp \
    -- sh "$TMP/servers.sh" \
    >"$TMP/netns.log" 2>&1 &
NPID=$!
PIDS="$PIDS $NPID"
for f in http half first reset udp; do waitfor "$TMP/$f.log" listening 20 || { cat "$TMP/netns.log"; exit 1; }; done
waitfor "$TMP/netns.log" "forwarding" 5 || exit 1

# curl: 6 MB through the forward, by content
curl -sS --max-time 60 -o "$TMP/out" http://127.0.0.1:$HTTP/big
rc=$?
[ "$rc" -eq 0 ] && [ "$(sha256sum <"$TMP/out" | cut -d' ' -f1)" = "$want" ] &&
    ok "curl: 6 MB through -p, SHA-256 matches" || bad "curl exited $rc or the download differs"

# UDP through -p .../udp: each datagram's answer is its SHA-256, from the forward
$PY udp-ask 127.0.0.1 $UDP 1,1400,30000,65000 >"$TMP/udp.out" 2>&1 && ok "$(cat "$TMP/udp.out") (-p .../udp)" ||
    { bad "UDP forward"; cat "$TMP/udp.out"; }

# half-close, the host first: 3 MB in, FIN, then the whole answer back
$PY half-close 127.0.0.1 $HALF 3000000 2000000 >"$TMP/hc.out" 2>&1 &&
    ok "half-close (host first): $(cat "$TMP/hc.out")" || { bad "half-close (host first)"; cat "$TMP/hc.out"; }

# half-close, the namespace first: its FIN, then it still receives 1 MB
$PY shut-after 127.0.0.1 $FIRST 1500000 1000000 >"$TMP/sa.out" 2>&1 || { bad "shut-after"; cat "$TMP/sa.out"; }
sent=$(sed -n 's/^sent //p' "$TMP/sa.out")
for _ in $(seq 50); do grep -q "^got" "$TMP/first.log" && break; sleep 0.1; done
got=$(sed -n 's/^got //p' "$TMP/first.log")
[ -n "$sent" ] && [ "$sent" = "$got" ] && ok "half-close (namespace first): it received $got" ||
    bad "half-close (namespace first): sent '$sent', the server got '$got'"

# a reset inside (SO_LINGER 0) is a reset outside
$PY expect-reset 127.0.0.1 $RST >"$TMP/rst.out" 2>&1 && ok "$(cat "$TMP/rst.out")" ||
    { bad "reset propagation"; cat "$TMP/rst.out"; }

# nothing listens on the namespace's port: the host connection is reset, soon
t0=$(date +%s%N)
$PY expect-refused 127.0.0.1 $NONE >"$TMP/ref.out" 2>&1 && ok "$(cat "$TMP/ref.out")" ||
    { bad "refused"; cat "$TMP/ref.out"; }
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -lt 3000 ] || bad "refused: took $ms ms"

# SIGUSR1: counters; SIGTERM goes to COMMAND, whose exit status is synack's
kill -USR1 "$NPID"
waitfor "$TMP/netns.log" "counters (SIGUSR1)" 5 || bad "SIGUSR1: no counters"
stop "$NPID"
rc=$?
[ "$rc" -eq 0 ] && ok "SIGTERM: passed to COMMAND, exit status 0" || bad "SIGTERM: exit status $rc"
log=$TMP/netns.log
# the server closes first, but curl may close as soon as it has the whole
# body: when our FIN reached curl first, the host keeps the forward's end
# in TIME-WAIT and the line says so (netns_out.sh checks that case surely)
grep -qE "^relay 127.0.0.1:[0-9]+ -> 10.0.2.100:8080 \(seen as 10.0.2.2:[0-9]+\) closed: [0-9]+ B in, 6000[0-9]+ B out, .* ns fin, host fin(, host TIME-WAIT 127.0.0.1:$HTTP-127.0.0.1:[0-9]+)?$" "$log" &&
    ok "relay log: the download closed fin/fin, and the server saw it from 10.0.2.2" ||
    bad "relay log: no fin/fin line for the download"
grep -qE "^relay .* -> 10.0.2.100:8083( \(seen as [^)]*\))? reset: .* ns rst, host reset by us$" "$log" || bad "relay log: no reset line"
grep -qE "^relay .* -> 10.0.2.100:8090( \(seen as [^)]*\))? refused: .* ns refused, host reset by us$" "$log" || bad "relay log: no refused line"
for c in "RelayClosed  *3" "RelayNsReset  *1" "RelayRefused  *1" "TcpActiveOpens  *5"; do
    grep -q "^$c$" "$log" || bad "counters: no '$c'"
done
[ "$fail" -eq 0 ] || sed 's/^/    /' "$log" | tail -40

# IPv6 forwards (with --ipv6): host listeners on [::1] reach the namespace
# over IPv6, at fd00::100, where the servers listen on that address only;
# skipped without IPv6 on the host's loopback
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
    HTTP6=$((BASE + 6)) UDP6=$((BASE + 7))
    cat >"$TMP/servers6.sh" <<EOF
$PY http 8080 $TMP fd00::100 >$TMP/http6.log 2>&1 & P1=\$!
$PY udp-echo 8084 fd00::100 >$TMP/udp6.log 2>&1 & P2=\$!
trap 'kill \$P1 \$P2; exit 0' TERM INT
wait
EOF
    "$BIN" netns ${NETNS_ARGS:-} --ipv6 -p "[::1]:$HTTP6:8080" -p "[::1]:$UDP6:8084/udp" -- sh "$TMP/servers6.sh" \
        >"$TMP/netns6.log" 2>&1 &
    N6=$!
    PIDS="$PIDS $N6"
    for f in http6 udp6; do waitfor "$TMP/$f.log" listening 20 || { cat "$TMP/netns6.log"; exit 1; }; done
    waitfor "$TMP/netns6.log" "forwarding" 5 || exit 1
    curl -sS -g --max-time 60 -o "$TMP/out6" "http://[::1]:$HTTP6/big"
    rc=$?
    [ "$rc" -eq 0 ] && [ "$(sha256sum <"$TMP/out6" | cut -d' ' -f1)" = "$want" ] &&
        ok "--ipv6: curl 6 MB through -p [::1]:$HTTP6:8080 to [fd00::100]:8080, SHA-256 matches" ||
        bad "--ipv6: curl exited $rc or the download differs"
    $PY udp-ask ::1 $UDP6 1,1400,30000,65000 >"$TMP/udp6.out" 2>&1 &&
        ok "--ipv6: $(cat "$TMP/udp6.out") (-p [::1]:$UDP6:8084/udp to [fd00::100]:8084)" ||
        { bad "--ipv6: UDP forward"; cat "$TMP/udp6.out"; }
    stop "$N6"
    rc=$?
    [ "$rc" -eq 0 ] || bad "--ipv6: exit status $rc"
    grep -qE "^relay \[::1\]:[0-9]+ -> \[fd00::100\]:8080 \(seen as \[fd00::2\]:[0-9]+\) closed: [0-9]+ B in, 6000[0-9]+ B out" "$TMP/netns6.log" ||
        bad "--ipv6: no relay line for the download"
    [ "$fail" -eq 0 ] || tail -30 "$TMP/netns6.log" | sed 's/^/    /'
else
    echo "skip: --ipv6 forwards (no IPv6 on the host's loopback)"
fi

# COMMAND's exit status, 128 + N when signal N killed it, 127 when missing
"$BIN" netns -q -- sh -c 'exit 7'
rc=$?
[ "$rc" -eq 7 ] && ok "exit status: 7" || bad "exit status: $rc, want 7"
"$BIN" netns -q -- sh -c 'kill -KILL $$'
rc=$?
[ "$rc" -eq 137 ] && ok "exit status: 137 (SIGKILL)" || bad "exit status: $rc, want 137"
"$BIN" netns -q -- /nonexistent/command 2>"$TMP/enoent.err"
rc=$?
[ "$rc" -eq 127 ] && grep -q "No such file" "$TMP/enoent.err" && ok "missing COMMAND: 127" ||
    bad "missing COMMAND: exit status $rc"

# COMMAND's last connection ends as it did, not "stopped": the FIN its exit
# sent is still on the TAP when synack learns of the exit, and is read
# (synack goes on up to 100 ms while relays are open); the counters at
# exit come after every relay line and count it. Twenty downloads from a
# server on the host's 127.0.0.1 through the gateway, curl's exit each
# run's end.
GRACE=$((BASE + 8))
$PY http $GRACE "$TMP" 127.0.0.1 >"$TMP/grace.log" 2>&1 &
GPID=$!
PIDS="$PIDS $GPID"
waitfor "$TMP/grace.log" listening 20 || exit 1
closed=0
for i in $(seq 20); do
    "$BIN" netns -- curl -sS -o /dev/null http://10.0.2.2:$GRACE/big >"$TMP/grace.$i" 2>&1
    awk '/counters at exit/ { c = NR } /^relay .* closed: .*ns fin, host fin/ { f = NR }
         /^RelayActive +0$/ { a = 1 } /^RelayClosed +1$/ { k = 1 }
         END { exit !(f && c && f < c && a && k) }' "$TMP/grace.$i" && closed=$((closed + 1))
done
[ "$closed" -eq 20 ] && ok "COMMAND's exit: 20 of 20 last connections closed fin/fin, counted before the counters" ||
    { bad "COMMAND's exit: $closed of 20 closed as they did"; cat "$TMP/grace.1"; }
kill "$GPID"

# The namespace's default congestion control: reno in one synack creates
# (its connections end at synack, one TAP hop away, so pacing there only
# costs), NAME with --ns-cc NAME, the kernel's choice (the host's default)
# with --ns-cc default; a namespace synack joins keeps its own (below).
CCFILE=/proc/sys/net/ipv4/tcp_congestion_control
HOSTCC=$(unshare -n cat $CCFILE) # a new namespace's default: the first namespace's
got=$("$BIN" netns -- cat $CCFILE 2>"$TMP/cc.err")
[ "$got" = reno ] && ok "a namespace synack creates: reno" || bad "the new namespace's default: '$got'"
grep -q "; TCP inside on reno (--ns-cc)$" "$TMP/cc.err" && ok "the start line says so" ||
    { bad "the start line does not name reno"; head -1 "$TMP/cc.err"; }
got=$("$BIN" netns --ns-cc default -- cat $CCFILE 2>"$TMP/cc.err")
[ "$got" = "$HOSTCC" ] && ! grep -q "TCP inside" "$TMP/cc.err" &&
    ok "--ns-cc default: the kernel's choice, $got, not in the start line" || bad "--ns-cc default: '$got'"
OTHERCC=$(tr ' ' '\n' </proc/sys/net/ipv4/tcp_allowed_congestion_control | grep -vx reno | head -1)
if [ -n "$OTHERCC" ]; then
    got=$("$BIN" netns -q --ns-cc "$OTHERCC" -- cat $CCFILE)
    [ "$got" = "$OTHERCC" ] && ok "--ns-cc $OTHERCC: $got" || bad "--ns-cc $OTHERCC: '$got'"
else
    echo "skip: --ns-cc NAME other than reno (none other allowed here)"
fi
# one the kernel has but not in the allowed list: no namespace's default
NOTCC=$(tr ' ' '\n' </proc/sys/net/ipv4/tcp_available_congestion_control |
    grep -vxF -f <(tr ' ' '\n' </proc/sys/net/ipv4/tcp_allowed_congestion_control) | head -1)
if [ -n "$NOTCC" ]; then
    "$BIN" netns -q --ns-cc "$NOTCC" -- true 2>"$TMP/notcc.err"
    rc=$?
    [ "$rc" -eq 2 ] && grep -q "a namespace's default must be one of" "$TMP/notcc.err" &&
        ok "--ns-cc $NOTCC (not allowed): exit 2, $(cat "$TMP/notcc.err")" ||
        { bad "--ns-cc $NOTCC: exit status $rc"; cat "$TMP/notcc.err"; }
else
    echo "skip: --ns-cc of a name available but not allowed (every available one is allowed)"
fi

# Joining a namespace: --netns NAME (ip netns add), then --pid PID; synack
# runs until SIGTERM and exits 0
NS=synack-netns-$$
ip netns add "$NS" || { echo "FAIL: cannot create network namespace $NS"; exit 1; }
for how in "--netns $NS" pid; do
    if [ "$how" = pid ]; then
        bg "$TMP/holder.log" sh -c 'echo inside; exec sleep 60'
        waitfor "$TMP/holder.log" inside 10 || exit 1  # in $NS by now
        how="--pid $BGPID"
    fi
    "$BIN" netns $how --ladder -p 127.0.0.1:$HTTP:8080 >"$TMP/attach.log" 2>&1 &
    APID=$!
    PIDS="$PIDS $APID"
    bg "$TMP/attach.http.log" $PY http 8080 "$TMP"
    waitfor "$TMP/attach.http.log" listening 20 || exit 1
    for _ in $(seq 50); do nsx ip -br addr show tap0 2>/dev/null | grep -q 10.0.2.100 && break; sleep 0.1; done
    curl -sS --max-time 60 -o "$TMP/out3" http://127.0.0.1:$HTTP/big
    rc=$?
    [ "$rc" -eq 0 ] && [ "$(sha256sum <"$TMP/out3" | cut -d' ' -f1)" = "$want" ] &&
        ok "$how: 6 MB through -p, SHA-256 matches" ||
        { bad "$how: curl exited $rc or the download differs"; cat "$TMP/attach.log"; }
    stop "$BGPID" >/dev/null 2>&1
    stop "$APID"
    rc=$?
    [ "$rc" -eq 0 ] && ok "$how: SIGTERM stops it, exit status 0" || bad "$how: exit status $rc"
    got=$(nsx cat $CCFILE)
    [ "$got" = "$HOSTCC" ] && ok "$how: the namespace keeps its congestion control, $got" ||
        bad "$how: the joined namespace's default became '$got'"
    # The connection ends CLOSED when the server's FIN reaches synack first,
    # TIME-WAIT when curl, having the whole body, closed first and our FIN
    # went first (the race the relay log check above allows for too).
    lad=0
    for pat in "synack 10.0.2.2:[0-9]* .*kernel 10.0.2.100:8080" "SYN-SENT *──SYN seq=0" \
               "◀──SYN,ACK seq=0 ack=1" "ESTABLISHED" "FIN" "CLOSED\|TIME-WAIT"; do
        grep -q -- "$pat" "$TMP/attach.log" || { bad "$how --ladder: no '$pat'"; lad=1; }
    done
    [ "$lad" = 0 ] || cat "$TMP/attach.log"
done

# never its own namespace: that would change the host's network
"$BIN" netns --pid $$ 2>"$TMP/own.err"
rc=$?
[ "$rc" -eq 1 ] && grep -q "synack's own network namespace" "$TMP/own.err" &&
    ok "--pid of a process in synack's own namespace: refused" || { bad "--pid \$\$: exit status $rc"; cat "$TMP/own.err"; }

# Unprivileged: synack as nobody, in a user namespace of its own (lib.sh).
if nobody_ok; then
    : >"$TMP/nobody.http.log"
    chmod 644 "$TMP/big"; chmod 666 "$TMP/nobody.http.log"
    netns_as_nobody -p 127.0.0.1:$HTTP:8080 -- $PY http 8080 "$TMP" >"$TMP/nobody.log" 2>&1 &
    UPID=$!
    PIDS="$PIDS $UPID"
    waitfor "$TMP/nobody.log" listening 20 || exit 1
    curl -sS --max-time 60 -o "$TMP/out2" http://127.0.0.1:$HTTP/big
    rc=$?
    [ "$rc" -eq 0 ] && [ "$(sha256sum <"$TMP/out2" | cut -d' ' -f1)" = "$want" ] &&
        ok "unprivileged: 6 MB through -p as nobody, SHA-256 matches" ||
        { bad "unprivileged: curl exited $rc or the download differs"; cat "$TMP/nobody.log"; }
    stop "$UPID"
    rc=$?
    [ "$rc" -eq 143 ] && ok "unprivileged: SIGTERM killed COMMAND: 143" || bad "unprivileged: exit status $rc"
    got=$(netns_as_nobody -q -- cat $CCFILE)
    [ "$got" = reno ] && ok "unprivileged: the new namespace's default is reno" ||
        bad "unprivileged: the new namespace's default: '$got'"
fi
finish
