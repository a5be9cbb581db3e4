#!/usr/bin/env bash
# run_nginx.sh — nginx (one process: master_process off) over `synack run`,
# the kernel's clients on the other side: curl downloads 20 MB (SHA-256
# checked) and a small page, wrk keeps 10 connections busy for 2 s (no
# socket error, no non-2xx answer), and nginx stops cleanly on SIGQUIT with
# nothing above [warn] in its error log. nginx uses epoll, accept4,
# sendfile, writev and TCP_NOPUSH (TCP_CORK) on synack's descriptors.
source "$(dirname "$0")/lib.sh"
interop_require nginx curl wrk
setup_ns runnginx
RUN=("$BIN" run --tap tap0 --ip $SIP/24)
NG=$TMP/nginx

mkdir -p "$NG/www"
head -c 20000000 /dev/urandom >"$NG/www/big"
echo "a small page" >"$NG/www/small"
cat >"$NG/nginx.conf" <<EOC
daemon off;
master_process off;
worker_processes 1;
error_log $NG/error.log info;
pid $NG/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path $NG;
    proxy_temp_path $NG;
    fastcgi_temp_path $NG;
    uwsgi_temp_path $NG;
    scgi_temp_path $NG;
    server { listen $SIP:8080; root $NG/www; }
}
EOC
bg "$TMP/nginx.log" "${RUN[@]}" -- nginx -p "$NG" -e "$NG/error.log" -c "$NG/nginx.conf"
NGINX=$BGPID
for _ in $(seq 100); do nsx curl -s -o /dev/null http://$SIP:8080/small && break; sleep 0.1; done

nsx curl -sS --max-time 60 -o "$TMP/big" http://$SIP:8080/big
rc=$?
[ "$rc" -eq 0 ] || bad "curl from nginx over synack exited $rc"
[ "$(sha256sum <"$TMP/big")" = "$(sha256sum <"$NG/www/big")" ] &&
    ok "curl <- nginx over synack: 20 MB, SHA-256 matches" || bad "curl: the download differs"
[ "$(nsx curl -sS http://$SIP:8080/small)" = "a small page" ] && ok "curl: the small page" ||
    bad "curl: not the small page"

nsx timeout 30 wrk -t1 -c10 -d2s http://$SIP:8080/small >"$TMP/wrk.txt" 2>&1
rc=$?
reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$TMP/wrk.txt")
if [ "$rc" -eq 0 ] && [ "${reqs:-0}" -ge 1000 ] && ! grep -q "Socket errors\|Non-2xx" "$TMP/wrk.txt"; then
    ok "wrk -> nginx over synack: $reqs requests in 2 s, $(grep Requests/sec "$TMP/wrk.txt")"
else
    bad "wrk: exit status $rc"; cat "$TMP/wrk.txt"
fi

kill -QUIT "$NGINX"
for _ in $(seq 100); do kill -0 "$NGINX" 2>/dev/null || break; sleep 0.1; done
wait "$NGINX"
rc=$?
[ "$rc" -eq 0 ] && ok "nginx stopped cleanly" || { bad "nginx exited $rc"; tail -20 "$TMP/nginx.log"; }
grep -q "^TcpPassiveOpens" "$TMP/nginx.log" || bad "nginx: no counters at exit"
if grep -E "\[(error|crit|alert|emerg)\]" "$NG/error.log"; then bad "nginx logged errors"; fi
finish
