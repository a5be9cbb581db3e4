#!/usr/bin/env bash
# ping6.sh — IPv6 on a real link (issue 10, first steps): the kernel, with
# fd77::1/64 on tap0, resolves synack's fd77::2 by neighbour discovery and
# pings it, and pings synack's link-local address (made from its MAC); a
# tshark reading of synack's capture shows the neighbour advertisement.
# TCP stays IPv4 here. Everything in the test's own namespace.
source "$(dirname "$0")/lib.sh"
interop_require ping tshark
setup_ns ping6
nsx sysctl -qw net.ipv6.conf.tap0.accept_dad=0 2>/dev/null
ip -n "$NS" addr add fd77::1/64 dev tap0 nodad
serve --port 7 --app echo --ip fd77::2/64 --pcap "$TMP/p.pcap"
out=$(nsx ping -6 -c 3 -i 0.2 -W 2 fd77::2 2>&1)
echo "$out" | tail -2
echo "$out" | grep -q " 0% packet loss" && ok "the kernel pinged synack's fd77::2" ||
    bad "ping -6 fd77::2 failed"
LL=fe80::aff:fe4d:2 # modified EUI-64 of 02:00:0a:4d:00:02: 0000:0aff:fe4d:0002
out=$(nsx ping -6 -c 2 -i 0.2 -W 2 -I tap0 $LL 2>&1)
echo "$out" | tail -1
echo "$out" | grep -q " 0% packet loss" && ok "the kernel pinged synack's link-local $LL" ||
    bad "ping -6 $LL failed"
nsx ip -6 neigh show dev tap0
kill -USR1 "$SERVE_PID"
sleep 0.3
grep -E "Icmp6|Ip6" "$SERVE_LOG"
stop "$SERVE_PID"
na=$(tshark -r "$TMP/p.pcap" -Y "icmpv6.type == 136 && ipv6.src == fd77::2" -T fields -e icmpv6.nd.na.target_address 2>/dev/null | head -1)
[ "$na" = "fd77::2" ] && ok "synack advertised fd77::2 (tshark)" || bad "no neighbour advertisement for fd77::2 in the capture"
finish
