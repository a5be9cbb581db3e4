#!/usr/bin/env bash
# netns_out.sh — connections out of a `synack netns` namespace to servers
# on the host's loopback, reached as the gateway 10.0.2.2: curl and wget
# download 6 MB (SHA-256 checked); iperf3 both ways; a half-close each way
# (the side that shut its write side first still receives all); a reset on
# the host is a reset inside; a host port nothing listens on is
# ECONNREFUSED at connect (the SYN refused, never a handshake then reset);
# 1,000 connections open at once; --disable-host-loopback refuses the
# gateway; the relay's counters; over IPv6 (--ipv6) a download, UDP, a
# refused connection and a UDP flow to a closed port; a curl download with synack run as nobody
# (user namespace), skipped with the reason where the kernel forbids that. The test makes no namespace of its own:
# synack's are gone when their last process is.
source "$(dirname "$0")/lib.sh"
interop_require curl wget iperf3 sha256sum
PY="python3 $ROOT/tests/interop/netns_peer.py"
BASE=$((10000 + $$ % 20000)) # below the ephemeral ports (32768-)
HTTP=$BASE HALF=$((BASE + 1)) FIRST=$((BASE + 2)) RST=$((BASE + 3)) NONE=$((BASE + 4))
MANY=$((BASE + 5)) IPERF=$((BASE + 6)) DNS=$((BASE + 7)) UECHO=$((BASE + 8))
GW=10.0.2.2

head -c 6000000 /dev/urandom >"$TMP/big"
want=$(sha256sum <"$TMP/big" | cut -d' ' -f1)

# The host's servers, on 127.0.0.1 only (no namespace: `bg` is not used).
hostbg() { local log=$1; shift; : >"$log"; "$@" >"$log" 2>&1 & PIDS="$PIDS $!"; }
hostbg "$TMP/http.log" $PY http $HTTP "$TMP"
hostbg "$TMP/half.log" $PY sink-reply $HALF 2000000
hostbg "$TMP/first.log" $PY first-shut $FIRST 1500000
hostbg "$TMP/reset.log" $PY reset $RST
hostbg "$TMP/many.log" $PY sink-reply $MANY 0
hostbg "$TMP/iperf.log" iperf3 -s -B 127.0.0.1 -p $IPERF
hostbg "$TMP/dns.log" $PY dns-server $DNS synack.test 192.0.2.77
hostbg "$TMP/uecho.log" $PY udp-echo $UECHO
for f in http half first reset many dns uecho; do waitfor "$TMP/$f.log" listening 20 || exit 1; done
for _ in $(seq 100); do ss -Hltn "sport = :$IPERF" | grep -q . && break; sleep 0.1; done

# Every client runs inside one namespace, one after another; each writes
# its verdict line to its own file.
cat >"$TMP/clients.sh" <<CLIENTS
cd $TMP
curl -sS --max-time 60 -o curl.out http://$GW:$HTTP/big; echo "curl \$?" >curl.rc
wget -q -T 60 -O wget.out http://$GW:$HTTP/big; echo "wget \$?" >wget.rc
iperf3 -c $GW -p $IPERF -t 2 -J >iperf.json; echo "iperf \$?" >iperf.rc
iperf3 -c $GW -p $IPERF -t 2 -R -J >iperf_r.json; echo "iperf \$?" >iperf_r.rc
$PY half-close $GW $HALF 3000000 2000000 >hc.out 2>&1; echo "\$?" >hc.rc
$PY shut-after $GW $FIRST 1500000 1000000 >sa.out 2>&1; echo "\$?" >sa.rc
$PY expect-reset $GW $RST >rst.out 2>&1; echo "\$?" >rst.rc
$PY expect-connrefused $GW $NONE >ref.out 2>&1; echo "\$?" >ref.rc
$PY udp-ask $GW $UECHO 1,1000,1472,30000,65000 >udp.out 2>&1; echo "\$?" >udp.rc
$PY udp-expect-refused $GW $NONE >uref.out 2>&1; echo "\$?" >uref.rc
$PY dns-query 10.0.2.3 synack.test >dns.out 2>&1; echo "\$?" >dns.rc
$PY dns-query 10.0.2.3 synack.test tcp >dnst.out 2>&1; echo "\$?" >dnst.rc
ulimit -n 4096
$PY many $GW $MANY 1000 >many.out 2>&1; echo "\$?" >many.rc
CLIENTS
timeout 300 "$BIN" netns ${NETNS_ARGS:-} --dns-upstream 127.0.0.1:$DNS -- sh "$TMP/clients.sh" >"$TMP/netns.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || bad "synack netns exited $rc"

for t in curl wget; do
    [ "$(cat "$TMP/$t.rc")" = "$t 0" ] && [ "$(sha256sum <"$TMP/$t.out" | cut -d' ' -f1)" = "$want" ] &&
        ok "$t: 6 MB from the host's loopback via $GW, SHA-256 matches" ||
        bad "$t: $(cat "$TMP/$t.rc" 2>/dev/null) or the download differs"
done
for j in iperf iperf_r; do
    way="namespace to host"; [ "$j" = iperf_r ] && way="host to namespace (-R)"
    python3 "$ROOT/tests/interop/run/iperf_check.py" "$TMP/$j.json" 10000000 >"$TMP/$j.check" 2>&1 &&
        ok "iperf3, $way: $(cat "$TMP/$j.check")" || { bad "iperf3 $j"; cat "$TMP/$j.check"; }
done
[ "$(cat "$TMP/hc.rc")" = 0 ] && ok "half-close (namespace first to shut): $(cat "$TMP/hc.out")" ||
    { bad "half-close (namespace first)"; cat "$TMP/hc.out"; }
sent=$(sed -n 's/^sent //p' "$TMP/sa.out")
for _ in $(seq 50); do grep -q "^got" "$TMP/first.log" && break; sleep 0.1; done
got=$(sed -n 's/^got //p' "$TMP/first.log")
[ -n "$sent" ] && [ "$sent" = "$got" ] && ok "half-close (host first to shut): it received $got" ||
    bad "half-close (host first): sent '$sent', the host got '$got'"
[ "$(cat "$TMP/rst.rc")" = 0 ] && ok "$(cat "$TMP/rst.out")" || { bad "reset"; cat "$TMP/rst.out"; }
[ "$(cat "$TMP/ref.rc")" = 0 ] && ok "no host listener: $(cat "$TMP/ref.out")" ||
    { bad "refused"; cat "$TMP/ref.out"; }
[ "$(cat "$TMP/udp.rc")" = 0 ] && ok "$(cat "$TMP/udp.out")" || { bad "udp"; cat "$TMP/udp.out"; }
[ "$(cat "$TMP/uref.rc")" = 0 ] && ok "UDP to a closed host port: $(cat "$TMP/uref.out") (ECONNREFUSED inside too)" ||
    { bad "udp refused"; cat "$TMP/uref.out"; }
for d in dns dnst; do
    over=UDP; [ "$d" = dnst ] && over=TCP
    [ "$(cat "$TMP/$d.rc")" = 0 ] && grep -q "synack.test is 192.0.2.77" "$TMP/$d.out" &&
        ok "DNS over $over: $(cat "$TMP/$d.out") (10.0.2.3 -> the test's server on 127.0.0.1:$DNS)" ||
        { bad "$d"; cat "$TMP/$d.out"; }
done
[ "$(cat "$TMP/many.rc")" = 0 ] && ok "$(cat "$TMP/many.out") connections open at once" ||
    { bad "1000 connections"; cat "$TMP/many.out"; }
for c in "RelayOutOpened  *10[01][0-9]" "UdpFlowsOpened  *3" "UdpRelayUnreachable  *1" "UdpRelayDropped  *0" "RelayOutRefused  *1" "RelayOutPending  *0" \
         "RelayActive  *0"; do
    grep -q "^$c$" "$TMP/netns.log" || bad "counters: no '$c'"
done
# the 1,000 clients sent their FIN first: each relay's host socket holds
# its port in TIME-WAIT, counted and logged with its ends
tw=$(sed -n 's/^RelayHostTimeWait  *//p' "$TMP/netns.log")
[ "${tw:-0}" -ge 1000 ] && grep -qE "^relay 10.0.2.100:[0-9]+ -> $GW:$MANY closed: .*, host TIME-WAIT 127.0.0.1:[0-9]+-127.0.0.1:$MANY$" "$TMP/netns.log" &&
    ok "RelayHostTimeWait $tw: the relay's host ports in TIME-WAIT are counted and logged" ||
    bad "RelayHostTimeWait '$tw', or no TIME-WAIT log line"
grep -q "^relay 10.0.2.100:[0-9]* -> $GW:$NONE refused: Connection refused$" "$TMP/netns.log" ||
    bad "no log line for the refused connection"
[ "$fail" -eq 0 ] || tail -40 "$TMP/netns.log" | sed 's/^/    /'

# Unprivileged: curl's download with synack run as nobody, in a user
# namespace of its own (as netns.sh does: a private mount namespace gets a
# 0666 node of /dev/net/tun, nothing else changes). synack stays in the
# host's network namespace, so its host sockets reach the server above on
# 127.0.0.1.
if nobody_ok; then
    chmod 755 "$TMP"
    mkdir -p "$TMP/nobody"
    chmod 777 "$TMP/nobody"
    printf '%s\n' "curl -sS --max-time 60 -o $TMP/nobody/curl.out http://$GW:$HTTP/big" \
        "echo \$? >$TMP/nobody/curl.rc" >"$TMP/nobody.sh"
    chmod 644 "$TMP/nobody.sh"
    (netns_as_nobody -- sh "$TMP/nobody.sh") >"$TMP/nobody.log" 2>&1
    rc=$?
    [ "$rc" -eq 0 ] && [ "$(cat "$TMP/nobody/curl.rc" 2>/dev/null)" = 0 ] &&
        [ "$(sha256sum <"$TMP/nobody/curl.out" | cut -d' ' -f1)" = "$want" ] &&
        grep -q "^RelayOutOpened  *1$" "$TMP/nobody.log" &&
        ok "unprivileged: curl, 6 MB from the host's loopback via $GW with synack as nobody, SHA-256 matches" ||
        { bad "unprivileged: synack exited $rc, curl $(cat "$TMP/nobody/curl.rc" 2>/dev/null), or the download differs"
          tail -30 "$TMP/nobody.log"; }
fi

# --ipv6: the same through fd00::2, the host's ::1 (skipped without IPv6 on lo)
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
    HTTP6=$((BASE + 9)) UECHO6=$((BASE + 10))
    hostbg "$TMP/http6.log" python3 -m http.server $HTTP6 --bind ::1 --directory "$TMP"
    hostbg "$TMP/uecho6.log" $PY udp-echo $UECHO6 ::1
    waitfor "$TMP/uecho6.log" listening 10 || exit 1
    for _ in $(seq 100); do ss -Hltn "sport = :$HTTP6" | grep -q . && break; sleep 0.1; done
    timeout 60 "$BIN" netns ${NETNS_ARGS:-} --ipv6 -- sh -c "curl -sS -g --max-time 30 -o $TMP/curl6.out http://[fd00::2]:$HTTP6/big && $PY udp-ask fd00::2 $UECHO6 1,1400,30000 && $PY expect-connrefused fd00::2 $NONE && $PY udp-expect-refused fd00::2 $NONE" >"$TMP/netns6.log" 2>&1
    rc=$?
    [ "$rc" -eq 0 ] && [ "$(sha256sum <"$TMP/curl6.out" | cut -d' ' -f1)" = "$want" ] &&
        ok "--ipv6: curl 6 MB from [fd00::2] (the host's ::1), UDP, refused: $(grep '^udp ok' "$TMP/netns6.log")" ||
        { bad "--ipv6 (exit $rc)"; tail -20 "$TMP/netns6.log"; }
    # the host's ICMPv6 port unreachable came back in as one (ECONNREFUSED
    # inside), through the flow's host socket
    grep -q "^udp refused ok" "$TMP/netns6.log" && grep -q "^UdpRelayUnreachable  *1$" "$TMP/netns6.log" &&
        grep -q "^Icmp6OutDestUnreachs  *1$" "$TMP/netns6.log" &&
        ok "--ipv6: UDP to a closed host port: ECONNREFUSED inside too (ICMPv6 port unreachable)" ||
        bad "--ipv6: UDP to a closed host port was not refused inside"
    grep -qE "^relay \[fd00::100\]:[0-9]+ -> \[fd00::2\]:$HTTP6 closed" "$TMP/netns6.log" ||
        bad "--ipv6: no relay line for the download"
else
    echo "skip: --ipv6 (no IPv6 on the host's loopback)"
fi

# Offloads: on by default (the TAP carries virtio-net headers, so neither
# side computes a TCP checksum); --no-offload gives plain frames, and the
# same download arrives whole both ways
for mode in "" --no-offload; do
    timeout 60 "$BIN" netns -q $mode -- sh -c "ip -d link show tap0 | grep -o 'vnet_hdr [a-z]*'; curl -sS --max-time 30 -o $TMP/off$mode.out http://$GW:$HTTP/big" >"$TMP/off$mode.log" 2>&1
    rc=$?
    vh=$([ -z "$mode" ] && echo "vnet_hdr on" || echo "vnet_hdr off")
    [ "$rc" -eq 0 ] && grep -q "^$vh$" "$TMP/off$mode.log" &&
        [ "$(sha256sum <"$TMP/off$mode.out" | cut -d' ' -f1)" = "$want" ] &&
        ok "offloads${mode:+ ($mode)}: $vh, 6 MB SHA-256 matches" ||
        { bad "offloads${mode:+ ($mode)}: rc=$rc"; cat "$TMP/off$mode.log"; }
done

# --busy-poll 0 (sleep at once) and a large one: the same download, whole
for bp in 0 100000; do
    timeout 60 "$BIN" netns -q --busy-poll $bp -- curl -sS --max-time 30 -o "$TMP/bp$bp.out" http://$GW:$HTTP/big &&
        [ "$(sha256sum <"$TMP/bp$bp.out" | cut -d' ' -f1)" = "$want" ] &&
        ok "--busy-poll $bp: 6 MB SHA-256 matches" || bad "--busy-poll $bp: the download failed"
done

# --disable-host-loopback: the gateway is nobody's, so refused
"$BIN" netns -q --disable-host-loopback -- $PY expect-connrefused $GW $HTTP >"$TMP/nolo.out" 2>&1 &&
    ok "--disable-host-loopback: $(head -1 "$TMP/nolo.out")" ||
    { bad "--disable-host-loopback"; cat "$TMP/nolo.out"; }
finish
