#!/usr/bin/env bash
# run_threads.sh — `synack run --threads 2` (issue 13, every core): the
# preload library's runtime as a steered group of two stacks on a
# multi-queue TAP. Unmodified Python opens 120 echo connections out to the
# kernel and serves 120 from it through one listening socket; curl
# downloads 20 MB. Every byte comes back, both stacks carry connections
# (the JSON's connection ids: member i's are i modulo 2), none is dropped
# as the other stack's, and the counters are the sums of both.
source "$(dirname "$0")/lib.sh"
interop_require curl
setup_ns runthr multi_queue
RUN=("$BIN" run --tap tap0 --ip $SIP/24 --threads 2)
N=120

# ids J: the members (conn id modulo 2) that carried connections in JSON J
members() { grep -o '"conn":[1-9][0-9]*' "$1" | cut -d: -f2 | awk '{print $1 % 2}' | sort -u | tr -d '\n'; }

# out: Python's clients over synack, the kernel echoes
bg "$TMP/kecho.log" $PEER echo-server 7100 $N
waitfor "$TMP/kecho.log" listening || bad "kernel echo server"
nsx "${RUN[@]}" --json "$TMP/out.json" -- $PEER --timeout 60 many-clients $KIP 7100 $N 20000 \
    >"$TMP/out.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { bad "$N clients over synack run --threads 2 exited $rc"; tail -20 "$TMP/out.log"; }
m=$(members "$TMP/out.json")
[ "$m" = 01 ] && ok "$N outgoing connections, every echo whole, on both stacks" ||
    bad "outgoing connections on stacks '$m', not both"
grep -q "^TcpActiveOpens  *$N$" "$TMP/out.log" || bad "TcpActiveOpens is not the sum, $N"
grep -q "SynackDropSteerForeign" "$TMP/out.log" && bad "outgoing: frames dropped as the other stack's"

# in: a Python server over synack, one listening socket; kernel clients
bg "$TMP/secho.log" "${RUN[@]}" --json "$TMP/in.json" -- $PEER echo-server 7200 $N
SRV=$BGPID
waitfor "$TMP/secho.log" listening || bad "echo server over synack"
nsx $PEER --timeout 60 many-clients $SIP 7200 $N 20000 || bad "$N kernel clients of the synack server"
wait "$SRV"
rc=$?
[ "$rc" -eq 0 ] || { bad "the server over synack exited $rc"; tail -20 "$TMP/secho.log"; }
m=$(members "$TMP/in.json")
[ "$m" = 01 ] && ok "$N connections accepted through one descriptor from both stacks" ||
    bad "accepted connections on stacks '$m', not both"
grep -q "^TcpPassiveOpens  *$N$" "$TMP/secho.log" || bad "TcpPassiveOpens is not the sum, $N"
grep -q "SynackDropSteerForeign" "$TMP/secho.log" && bad "incoming: frames dropped as the other stack's"

# bulk: curl, 20 MB from the kernel's HTTP server
mkdir -p "$TMP/www"
head -c 20000000 /dev/urandom >"$TMP/www/big"
want=$(sha256sum <"$TMP/www/big" | cut -d' ' -f1)
bg "$TMP/http.log" python3 -m http.server 8000 --bind $KIP --directory "$TMP/www"
for _ in $(seq 50); do nsx curl -s -o /dev/null http://$KIP:8000/ && break; sleep 0.1; done
nsx "${RUN[@]}" -q -- curl -sS --max-time 60 -o "$TMP/curl.out" http://$KIP:8000/big
rc=$?
[ "$rc" -eq 0 ] && [ "$(sha256sum <"$TMP/curl.out" | cut -d' ' -f1)" = "$want" ] &&
    ok "curl: 20 MB over --threads 2, SHA-256 matches" || bad "curl over --threads 2: exit $rc or the download differs"
finish
