#!/usr/bin/env python3
"""netns_peer.py — both ends of tests/interop/netns.sh (plain sockets; no
name lookups, which hang in a namespace without DNS).

Servers (print "listening" once they listen; serve until killed):
  http PORT DIR [ADDR]      answer each GET /NAME with DIR/NAME (HTTP/1.0,
                            Content-Length, then close); on ADDR only (an
                            IPv6 one too; default 0.0.0.0)
  sink-reply PORT N         per connection: read to EOF, then send the
                            SHA-256 of what came and N pattern bytes, close
                            (the client half-closed first)
  first-shut PORT N         per connection: send N pattern bytes, shut the
                            write side, read to EOF, send nothing more and
                            print "got BYTES SHA256" of what came
  reset PORT                per connection: read a little, then close with
                            SO_LINGER 0 (a RST)

Clients (exit 0 on success, 1 with a reason):
  half-close HOST PORT N M  send N random bytes, shut the write side, read
                            to EOF: expect their SHA-256 and M pattern bytes
  shut-after HOST PORT N M  read to EOF (expect N pattern bytes), then send
                            M random bytes and close; print "sent M SHA256"
  expect-reset HOST PORT    send a request, expect ECONNRESET on read
  expect-refused HOST PORT  connect and read: expect a reset or EOF within
                            5 s, nothing else
  short-conns HOST PORT N T one connection after another, N in all, each:
                            connect (giving up after T s), a byte, FIN, read
                            the answer of sink-reply PORT 0, close; prints
                            "conn I ok SECONDS" (connect to answer) for each,
                            or "conn I failed: ERROR" and exits 1
  who-tcp PORT ADDR [port]  answer each connection with the peer's address
                            (and port, given "port"; IPv6 ADDR: IPv6 only),
                            then close
  who-udp PORT ADDR         answer each datagram with its sender's address
  who-ask tcp|udp HOST PORT print what a who-tcp / who-udp server answers
  udp-hold SPORT HOST PORT SECS
                            from local port SPORT ask HOST:PORT's who-udp and
                            print the answer; then answer the next datagram
                            that comes to SPORT (within SECS) with "seen",
                            and print "seen FROM"
  who-ask-from SPORT HOST PORT1 PORT2
                            from local port SPORT (SO_REUSEADDR), ask
                            HOST:PORT1's who-tcp and keep that connection
                            open, then from SPORT again ask HOST:PORT2's;
                            print both answers, one a line
  api SOCKET REQUEST        slirp4netns's API: write REQUEST (text) to the
                            Unix socket SOCKET, shut the write side, print
                            the answer
"""
import hashlib
import os
import socket
import struct
import sys
import threading
import time

args = sys.argv[1:]
mode = args[0]


def say(*a):
    print(*a, flush=True)


def pattern(n):
    return (b"0123456789" * (n // 10 + 1))[:n]


def read_all(s):
    parts = []
    while True:
        b = s.recv(1 << 16)
        if not b:
            return b"".join(parts)
        parts.append(b)


def serve(port, handler, addr="0.0.0.0"):
    ls = socket.socket(family(addr))
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1024)
    say("listening")
    while True:
        c, _ = ls.accept()
        threading.Thread(target=guarded, args=(handler, c), daemon=True).start()


def guarded(handler, c):
    try:
        handler(c)
    except OSError as e:
        say("server:", e)
    finally:
        c.close()


def http(c, root):
    req = b""
    while b"\r\n\r\n" not in req:
        b = c.recv(4096)
        if not b:
            return
        req += b
    name = req.split(b" ")[1].decode().lstrip("/")
    path = os.path.join(root, os.path.basename(name))
    if not os.path.isfile(path):
        c.sendall(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        return
    with open(path, "rb") as f:
        body = f.read()
    c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)


def sink_reply(c, n):
    got = read_all(c)
    c.sendall(hashlib.sha256(got).hexdigest().encode() + b"\n" + pattern(n))


def first_shut(c, n):
    c.sendall(pattern(n))
    c.shutdown(socket.SHUT_WR)
    got = read_all(c)
    say("got", len(got), hashlib.sha256(got).hexdigest())


def reset(c):
    c.recv(100)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def connect(host, port):
    s = socket.create_connection((host, int(port)), timeout=20)
    return s


def half_close(host, port, n, m):
    s = connect(host, port)
    data = os.urandom(n)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    got = read_all(s)
    want = hashlib.sha256(data).hexdigest().encode() + b"\n" + pattern(m)
    if got != want:
        say("half-close: got %d bytes, want %d" % (len(got), len(want)))
        return 1
    say("half-close ok: sent %d, then received %d after our FIN" % (n, len(got)))
    return 0


def shut_after(host, port, n, m):
    s = connect(host, port)
    got = read_all(s)
    if got != pattern(n):
        say("shut-after: got %d bytes, want %d of the pattern" % (len(got), n))
        return 1
    data = os.urandom(m)
    s.sendall(data)
    s.close()
    say("sent", m, hashlib.sha256(data).hexdigest())
    return 0


def expect_reset(host, port):
    s = connect(host, port)
    s.sendall(b"hello\n")
    try:
        got = read_all(s)
    except ConnectionResetError:
        say("reset ok: ECONNRESET")
        return 0
    say("expect-reset: no reset, read %d bytes then EOF" % len(got))
    return 1


def expect_refused(host, port):
    try:
        s = socket.create_connection((host, int(port)), timeout=5)
        s.settimeout(5)
        got = s.recv(100)
    except (ConnectionResetError, ConnectionRefusedError) as e:
        say("refused ok:", e.__class__.__name__)
        return 0
    except socket.timeout:
        say("expect-refused: nothing within 5 s")
        return 1
    if got:
        say("expect-refused: got data")
        return 1
    say("refused ok: EOF")
    return 0


def expect_connrefused(host, port):
    try:
        socket.create_connection((host, int(port)), timeout=5)
    except ConnectionRefusedError:
        say("connect refused ok")
        return 0
    except OSError as e:
        say("expect-connrefused:", e)
        return 1
    say("expect-connrefused: it connected")
    return 1


def many(host, port, n):
    """n connections open at once; each sends a byte, its FIN, and reads the
    server's answer (sink-reply 0: the SHA-256 of that byte) to the end."""
    conns = [connect(host, port) for _ in range(n)]
    for s in conns:
        s.sendall(b"x")
        s.shutdown(socket.SHUT_WR)
    want = hashlib.sha256(b"x").hexdigest().encode() + b"\n"
    bad = sum(read_all(s) != want for s in conns)
    for s in conns:
        s.close()
    if bad:
        say("many:", bad, "of", n, "answers wrong")
        return 1
    say("many ok", n)
    return 0


def dns_name(q, i):
    """The name at offset i of a DNS message (no compression in queries)."""
    labels = []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode())
        i += 1 + q[i]
    return ".".join(labels), i + 1


def dns_server(port, name, addr):
    """A DNS server on 127.0.0.1 (UDP and TCP) that knows one A record."""
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", port))

    def answer(q):
        qname, end = dns_name(q, 12)
        found = qname.rstrip(".").lower() == name
        head = q[:2] + struct.pack("!HHHHH", 0x8180 if found else 0x8183, 1, int(found), 0, 0)
        body = q[12:end + 4]
        if found:
            body += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(addr)
        say("asked", qname, "found" if found else "nxdomain")
        return head + body

    def tcp():
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", port))
        ls.listen(16)
        while True:
            c, _ = ls.accept()
            q = read_all_n(c, struct.unpack("!H", read_all_n(c, 2))[0])
            a = answer(q)
            c.sendall(struct.pack("!H", len(a)) + a)
            c.close()

    threading.Thread(target=tcp, daemon=True).start()
    say("listening")
    while True:
        q, who = u.recvfrom(512)
        u.sendto(answer(q), who)


def read_all_n(s, n):
    b = b""
    while len(b) < n:
        part = s.recv(n - len(b))
        if not part:
            raise OSError("short read")
        b += part
    return b


def dns_query(server, name, tcp=False):
    """Ask server:53 for name's A record; print the address."""
    q = struct.pack("!HHHHHH", 0x5a5a, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    q += struct.pack("!HH", 1, 1)
    if tcp:
        s = socket.create_connection((server, 53), timeout=5)
        s.sendall(struct.pack("!H", len(q)) + q)
        a = read_all_n(s, struct.unpack("!H", read_all_n(s, 2))[0])
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        s.sendto(q, (server, 53))
        a, _ = s.recvfrom(512)
    if a[:2] != q[:2] or struct.unpack("!H", a[6:8])[0] < 1:
        say("no answer")
        return 1
    say(name, "is", socket.inet_ntoa(a[-4:]))
    return 0


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def udp_echo(port, addr="127.0.0.1"):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.bind((addr, port))
    say("listening")
    while True:
        d, who = s.recvfrom(65535)
        s.sendto(hashlib.sha256(d).digest(), who)


def udp_ask(host, port, sizes):
    """Datagrams of these sizes; each answer must be its SHA-256."""
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.settimeout(5)
    for n in sizes:
        d = os.urandom(n)
        s.sendto(d, (host, int(port)))
        a, who = s.recvfrom(100)
        if a != hashlib.sha256(d).digest() or who[:2] != (host, int(port)):
            say("udp: wrong answer to", n, "bytes from", who)
            return 1
    say("udp ok:", len(sizes), "datagrams up to", max(sizes), "bytes, answered from", host)
    return 0


def short_conns(host, port, n, limit):
    want = hashlib.sha256(b"x").hexdigest().encode() + b"\n"
    for i in range(1, n + 1):
        t0 = time.monotonic()
        try:
            s = socket.create_connection((host, int(port)), timeout=limit)
            s.sendall(b"x")
            s.shutdown(socket.SHUT_WR)
            got = read_all(s)
            s.close()
        except OSError as e:
            say("conn", i, "failed:", type(e).__name__, e)
            return 1
        if got != want:
            say("conn", i, "failed: wrong answer", got[:80])
            return 1
        say("conn", i, "ok", "%.2f" % (time.monotonic() - t0))
    return 0


def udp_expect_refused(host, port):
    """A connected UDP socket to a closed port: ECONNREFUSED from the ICMP."""
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.settimeout(5)
    s.connect((host, int(port)))
    s.send(b"anyone?")
    try:
        s.recv(100)
    except ConnectionRefusedError:
        say("udp refused ok")
        return 0
    except OSError as e:
        say("udp-expect-refused:", e)
        return 1
    say("udp-expect-refused: got an answer")
    return 1


def who_listener(port, addr, kind):
    s = socket.socket(family(addr), kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family(addr) == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, port))
    return s


def who_tcp(port, addr, with_port=False):
    ls = who_listener(port, addr, socket.SOCK_STREAM)
    ls.listen(64)
    say("listening")
    while True:
        c, peer = ls.accept()
        c.sendall((f"{peer[0]} {peer[1]}" if with_port else peer[0]).encode())
        c.close()


def who_udp(port, addr):
    s = who_listener(port, addr, socket.SOCK_DGRAM)
    say("listening")
    while True:
        _, peer = s.recvfrom(2048)
        s.sendto(peer[0].encode(), peer)


def who_ask(kind, host, port):
    s = socket.socket(family(host), socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
    s.settimeout(5)
    s.connect((host, int(port)))
    if kind == "tcp":
        say(read_all(s).decode())
    else:
        s.send(b"who?")
        say(s.recv(2048).decode())
    return 0


def who_ask_from(sport, host, port1, port2):
    held = []
    for port in (port1, port2):
        s = socket.socket(family(host), socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.settimeout(5)
        s.bind(("", int(sport)))
        s.connect((host, int(port)))
        say(read_all(s).decode())
        held.append(s)  # open: the first still holds its 4-tuple
    return 0


def udp_hold(sport, host, port, secs):
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.bind(("", int(sport)))
    s.settimeout(5)
    s.sendto(b"who?", (host, int(port)))
    say(s.recv(2048).decode())
    s.settimeout(float(secs))
    _, peer = s.recvfrom(2048)
    s.sendto(b"seen", peer)
    say("seen", peer[0])
    return 0


def api(path, request):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    s.sendall(request.encode())
    s.shutdown(socket.SHUT_WR)
    sys.stdout.write(read_all(s).decode())
    return 0


if mode == "http":
    serve(int(args[1]), lambda c: http(c, args[2]), *args[3:4])
elif mode == "sink-reply":
    serve(int(args[1]), lambda c: sink_reply(c, int(args[2])))
elif mode == "first-shut":
    serve(int(args[1]), lambda c: first_shut(c, int(args[2])))
elif mode == "reset":
    serve(int(args[1]), reset)
elif mode == "half-close":
    sys.exit(half_close(args[1], args[2], int(args[3]), int(args[4])))
elif mode == "shut-after":
    sys.exit(shut_after(args[1], args[2], int(args[3]), int(args[4])))
elif mode == "expect-reset":
    sys.exit(expect_reset(args[1], args[2]))
elif mode == "expect-connrefused":
    sys.exit(expect_connrefused(args[1], args[2]))
elif mode == "many":
    sys.exit(many(args[1], args[2], int(args[3])))
elif mode == "dns-server":
    dns_server(int(args[1]), args[2], args[3])
elif mode == "dns-query":
    sys.exit(dns_query(args[1], args[2], len(args) > 3 and args[3] == "tcp"))
elif mode == "udp-echo":
    udp_echo(int(args[1]), *args[2:3])
elif mode == "udp-ask":
    sys.exit(udp_ask(args[1], args[2], [int(x) for x in args[3].split(",")]))
elif mode == "short-conns":
    sys.exit(short_conns(args[1], args[2], int(args[3]), float(args[4])))
elif mode == "udp-expect-refused":
    sys.exit(udp_expect_refused(args[1], args[2]))
elif mode == "who-tcp":
    who_tcp(int(args[1]), args[2], len(args) > 3 and args[3] == "port")
elif mode == "who-udp":
    who_udp(int(args[1]), args[2])
elif mode == "who-ask":
    sys.exit(who_ask(args[1], args[2], args[3]))
elif mode == "udp-hold":
    sys.exit(udp_hold(args[1], args[2], args[3], args[4]))
elif mode == "who-ask-from":
    sys.exit(who_ask_from(args[1], args[2], args[3], args[4]))
elif mode == "api":
    sys.exit(api(args[1], args[2]))
elif mode == "expect-refused":
    sys.exit(expect_refused(args[1], args[2]))
else:
    say("unknown mode", mode)
    sys.exit(2)
