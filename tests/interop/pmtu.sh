#!/usr/bin/env bash
# pmtu.sh — path MTU discovery against a real router (RFC 1191): the kernel
# routes between synack's TAP and a second namespace over a veth link whose
# MTU is 1280. A kernel client in that namespace (its own interface at MTU
# 1500, so it offers MSS 1460) fetches 2 MB from `synack serve --app source`.
# synack's full-size segments cannot cross the 1280 hop; the router answers
# each with ICMP "fragmentation needed" and synack must resend at the
# path's size for the transfer to complete. Everything stays in the two
# namespaces this test makes.
source "$(dirname "$0")/lib.sh"
interop_require
setup_ns pmtu
NS2=synack-pmtu2-$$
ip netns add "$NS2" || { echo "FAIL: cannot create $NS2"; exit 1; }
trap 'ip netns del "$NS2" 2>/dev/null; cleanup' EXIT
ip -n "$NS" link add veth0 type veth peer name veth1 netns "$NS2"
ip -n "$NS" addr add 10.88.0.1/24 dev veth0
ip -n "$NS" link set veth0 mtu 1280 up
ip -n "$NS2" addr add 10.88.0.2/24 dev veth1
ip -n "$NS2" link set veth1 up
ip -n "$NS2" link set lo up
ip -n "$NS2" route add default via 10.88.0.1
nsx sysctl -qw net.ipv4.ip_forward=1

serve --port 80 --app source=2000000 --gw $KIP
out=$(ip netns exec "$NS2" $PEER --timeout 30 read-until-eof $SIP 80)
echo "$out"
echo "$out" | grep -q "read-until-eof: 2000000 bytes" && ok "2 MB crossed the 1280-byte hop" ||
    bad "the transfer across the 1280-byte hop did not complete"
kill -USR1 "$SERVE_PID"
sleep 0.3
grep -E "IcmpInDestUnreachs|TcpExtSynackPMTUReduced|TcpRetransSegs" "$SERVE_LOG"
grep -q "TcpExtSynackPMTUReduced" "$SERVE_LOG" && ok "synack learnt the path MTU from the router" ||
    bad "synack never lowered its path MTU"
stop "$SERVE_PID"
finish
