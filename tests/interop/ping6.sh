#!/usr/bin/env bash
# ping6.sh — IPv6 on a real link (issue 10): synack checks its
# addresses are unique (duplicate address detection, RFC 4862: a probe from
# :: for each, then a second's wait), the kernel, with fd77::1/64 on tap0,
# resolves synack's fd77::2 by neighbour discovery and pings it (with 3000
# bytes too: both ways in fragments, and the same over IPv4), and pings
# synack's link-local address (made from its MAC). Then the kernel pings
# from 2001:db8:1::1, outside synack's prefix: synack's replies go through
# its --gw, the kernel's fe80::1, which synack resolves first. A tshark
# reading of synack's capture shows the probes, the advertisement and the
# solicitation for the router. Last, a TCP echo over IPv6. Everything in
# the test's own namespace.
source "$(dirname "$0")/lib.sh"
interop_require ping tshark
setup_ns ping6
nsx sysctl -qw net.ipv6.conf.tap0.accept_dad=0 2>/dev/null
ip -n "$NS" addr add fd77::1/64 dev tap0 nodad
ip -n "$NS" addr add fe80::1/64 dev tap0 nodad
ip -n "$NS" addr add 2001:db8:1::1/64 dev tap0 nodad
serve --port 7 --app echo --ip fd77::2/64 --gw fe80::1 --pcap "$TMP/p.pcap"
# synack's addresses are tentative for a second (DAD): wait it out rather
# than lean on the kernel's neighbour solicitation retries.
sleep 1.2
out=$(nsx ping -6 -c 3 -i 0.2 -W 2 fd77::2 2>&1)
echo "$out" | tail -2
echo "$out" | grep -q " 0% packet loss" && ok "the kernel pinged synack's fd77::2" ||
    bad "ping -6 fd77::2 failed"
# A 3000-byte ping: the request comes in fragments, and synack's reply,
# over the MTU, goes back in fragments too (RFC 4443 §4.2, RFC 8200 §4.5);
# the same over IPv4 on the same link (RFC 792, RFC 791 §3.2).
out=$(nsx ping -6 -c 2 -i 0.2 -W 2 -s 3000 fd77::2 2>&1)
echo "$out" | tail -1
echo "$out" | grep -q " 0% packet loss" && ok "ping -6 -s 3000 fd77::2: the reply came back in fragments" ||
    bad "ping -6 -s 3000 fd77::2 failed"
out=$(nsx ping -4 -c 2 -i 0.2 -W 2 -s 3000 $SIP 2>&1)
echo "$out" | tail -1
echo "$out" | grep -q " 0% packet loss" && ok "ping -4 -s 3000 $SIP: the reply came back in fragments" ||
    bad "ping -4 -s 3000 $SIP failed"
LL=fe80::aff:fe4d:2 # modified EUI-64 of 02:00:0a:4d:00:02: 0000:0aff:fe4d:0002
out=$(nsx ping -6 -c 2 -i 0.2 -W 2 -I tap0 $LL 2>&1)
echo "$out" | tail -1
echo "$out" | grep -q " 0% packet loss" && ok "the kernel pinged synack's link-local $LL" ||
    bad "ping -6 $LL failed"
out=$(nsx ping -6 -c 2 -i 0.2 -W 3 -I 2001:db8:1::1 fd77::2 2>&1)
echo "$out" | tail -1
echo "$out" | grep -q " 0% packet loss" &&
    ok "synack answered 2001:db8:1::1 (off its prefix) through --gw fe80::1" ||
    bad "ping -6 -I 2001:db8:1::1 fd77::2 failed"
# TCP over IPv6 on the same link: synack's SYN-ACK waits for nothing (the
# kernel's solicitation taught synack its MAC), the echo comes back.
got=$(nsx timeout 10 python3 -c '
import socket
s = socket.create_connection(("fd77::2", 7), timeout=5)
s.sendall(b"hello over IPv6")
data = b""
while len(data) < 15:
    chunk = s.recv(100)
    if not chunk:
        break
    data += chunk
print(data.decode())' 2>&1)
[ "$got" = "hello over IPv6" ] && ok "the kernel echoed over TCP to [fd77::2]:7" ||
    bad "TCP over IPv6 to [fd77::2]:7: '$got'"
nsx ip -6 neigh show dev tap0
kill -USR1 "$SERVE_PID"
sleep 0.3
grep -E "Icmp6|Ip6|Nd|IpFrag|IcmpOutEcho" "$SERVE_LOG"
grep -q Ip6DadFailures "$SERVE_LOG" && bad "synack counted a duplicate address"
counter() { awk -v n="$1" '$1 == n { print $2 }' "$SERVE_LOG" | tail -1; }
[ "$(counter Ip6FragOKs)" = 2 ] && [ "$(counter Ip6FragCreates)" = 6 ] &&
    ok "synack cut 2 IPv6 echo replies into 6 fragments (Ip6FragOKs, Ip6FragCreates)" ||
    bad "Ip6FragOKs '$(counter Ip6FragOKs)', Ip6FragCreates '$(counter Ip6FragCreates)': want 2, 6"
[ "$(counter IpFragOKs)" = 2 ] && [ "$(counter IpFragCreates)" = 6 ] &&
    ok "synack cut 2 IPv4 echo replies into 6 fragments (IpFragOKs, IpFragCreates)" ||
    bad "IpFragOKs '$(counter IpFragOKs)', IpFragCreates '$(counter IpFragCreates)': want 2, 6"
stop "$SERVE_PID"
fields() { tshark -r "$TMP/p.pcap" -Y "$1" -T fields -e "$2" 2>/dev/null | sort -u | tr '\n' ' '; }
dad=$(fields "icmpv6.type == 135 && ipv6.src == ::" icmpv6.nd.ns.target_address)
[ "$dad" = "fd77::2 $LL " ] && ok "synack probed fd77::2 and $LL from :: (DAD, tshark)" ||
    bad "DAD probes in the capture: '$dad', want fd77::2 and $LL"
na=$(fields "icmpv6.type == 136 && ipv6.src == fd77::2" icmpv6.nd.na.target_address)
[ "$na" = "fd77::2 " ] && ok "synack advertised fd77::2 (tshark)" || bad "no neighbour advertisement for fd77::2 in the capture"
ns=$(fields "icmpv6.type == 135 && ipv6.src == $LL" icmpv6.nd.ns.target_address)
[[ "$ns" == *"fe80::1 "* ]] && ok "synack solicited its router fe80::1 (tshark)" ||
    bad "no solicitation for fe80::1 from $LL in the capture: '$ns'"
finish
