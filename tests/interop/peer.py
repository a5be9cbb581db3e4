#!/usr/bin/env python3
"""peer.py — the kernel's side of the interop tests (plain sockets).

Modes (every one bounded by --timeout, default 60 s):
  echo-client HOST PORT BYTES     send BYTES random bytes, read the echo,
                                  check its SHA-256; print throughput
  many-clients HOST PORT N BYTES  N concurrent echo clients of BYTES each
  sink-server PORT                accept one connection, read to EOF,
                                  print "sha256 BYTES HEX", close
  source-server PORT BYTES        accept one connection, send BYTES of
                                  the pattern file given by --data (or the
                                  pattern 0123456789), close
  echo-server PORT N              echo N connections (at once), then exit
  rst-server PORT                 accept one connection, read a little,
                                  then close with SO_LINGER 0 (RST)
  rst-client HOST PORT            connect, send 1000 bytes, reset (SO_LINGER 0)
  refused HOST PORT               connect; succeed if refused by RST
  close-first HOST PORT           connect, send a line, read the echo,
                                  close first (the kernel holds TIME-WAIT)
  read-until-eof HOST PORT        connect, read to EOF, print it, close
  hold HOST PORT N                open N connections (200 handshakes at a
                                  time), print "holding N", keep them idle
                                  until stdin closes or the timeout, close
  syn-flood IF DSTMAC DSTIP PORT N SECONDS
                                  write N TCP SYNs from random sources in
                                  198.18.0.0/15 (RFC 2544's benchmark
                                  range) through an AF_PACKET socket on IF,
                                  paced over SECONDS; print "flooded N"
A server prints "listening" once it listens; with PEER_IPV6=1 in the
environment it listens on [::] (IPv6 and IPv4) instead of 0.0.0.0.
"""
import hashlib
import os
import selectors
import socket
import struct
import sys
import threading
import time

args = sys.argv[1:]
timeout = 60.0
data_file = None
if "--timeout" in args:
    i = args.index("--timeout")
    timeout = float(args[i + 1])
    del args[i:i + 2]
if "--data" in args:
    i = args.index("--data")
    data_file = args[i + 1]
    del args[i:i + 2]
mode = args[0]
deadline = time.time() + timeout


def say(*a):
    print(*a, flush=True)


def listen(port):
    six = os.environ.get("PEER_IPV6") == "1"
    s = socket.socket(socket.AF_INET6 if six else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if six:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::" if six else "0.0.0.0", port))
    s.listen(1024)
    s.settimeout(timeout)
    say("listening")
    return s


def echo_client(host, port, data):
    s = socket.create_connection((host, port), timeout=timeout)
    got = hashlib.sha256()
    n = [0]

    def reader():
        while True:
            b = s.recv(1 << 16)
            if not b:
                break
            got.update(b)
            n[0] += len(b)

    t = threading.Thread(target=reader)
    t.start()
    t0 = time.time()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join(max(1.0, deadline - time.time()))
    dt = time.time() - t0
    s.close()
    return n[0], got.hexdigest(), dt


if mode == "echo-client":
    host, port, nbytes = args[1], int(args[2]), int(args[3])
    data = os.urandom(nbytes)
    n, h, dt = echo_client(host, port, data)
    good = n == nbytes and h == hashlib.sha256(data).hexdigest()
    say("echo-client: %d of %d bytes back in %.2f s (%.0f Mbit/s), sha256 %s" %
        (n, nbytes, dt, n * 8 / dt / 1e6, "matches" if good else "DIFFERS"))
    sys.exit(0 if good else 1)

elif mode == "many-clients":
    host, port, count, nbytes = args[1], int(args[2]), int(args[3]), int(args[4])
    sel = selectors.DefaultSelector()
    conns = {}
    t0 = time.time()
    for i in range(count):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex((host, port))
        payload = os.urandom(nbytes)
        conns[s] = {"out": payload, "off": 0, "in": bytearray(), "want": payload}
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    done = ok = 0
    while done < count and time.time() < deadline:
        for key, ev in sel.select(timeout=0.5):
            s, c = key.fileobj, conns[key.fileobj]
            if ev & selectors.EVENT_WRITE:
                if c["off"] < len(c["out"]):
                    try:
                        c["off"] += s.send(c["out"][c["off"]:c["off"] + 65536])
                    except (BlockingIOError, InterruptedError):
                        pass
                if c["off"] == len(c["out"]):
                    s.shutdown(socket.SHUT_WR)
                    sel.modify(s, selectors.EVENT_READ)
            if ev & selectors.EVENT_READ:
                try:
                    b = s.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError as e:
                    say("many-clients: error", e)
                    b = b""
                if b:
                    c["in"] += b
                else:
                    sel.unregister(s)
                    s.close()
                    done += 1
                    ok += bytes(c["in"]) == c["want"]
    dt = time.time() - t0
    say("many-clients: %d of %d connections done, %d with the right data, %.2f s" %
        (done, count, ok, dt))
    sys.exit(0 if ok == count else 1)

elif mode == "sink-server":
    l = listen(int(args[1]))
    c, _ = l.accept()
    c.settimeout(timeout)
    h = hashlib.sha256()
    n = 0
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        h.update(b)
        n += len(b)
    c.close()
    say("sha256 %d %s" % (n, h.hexdigest()))

elif mode == "source-server":
    port, nbytes = int(args[1]), int(args[2])
    l = listen(port)
    c, _ = l.accept()
    c.settimeout(timeout)
    if data_file:
        with open(data_file, "rb") as f:
            c.sendall(f.read())
    else:
        pat = b"0123456789" * 6554
        left = nbytes
        off = 0
        while left > 0:
            chunk = pat[off % 10:off % 10 + min(left, 65530)]
            c.sendall(chunk)
            off += len(chunk)
            left -= len(chunk)
    c.shutdown(socket.SHUT_WR)
    while c.recv(65536):
        pass
    c.close()
    say("source-server: sent")

elif mode == "echo-server":
    port, count = int(args[1]), int(args[2])
    l = listen(port)
    l.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(l, selectors.EVENT_READ)
    accepted = closed = 0
    conns = {}  # socket -> [pending bytearray, eof seen]
    while closed < count and time.time() < deadline:
        for key, ev in sel.select(timeout=0.5):
            s = key.fileobj
            if s is l:
                try:
                    c, _ = l.accept()
                except BlockingIOError:
                    continue
                c.setblocking(False)
                conns[c] = [bytearray(), False]
                sel.register(c, selectors.EVENT_READ)
                accepted += 1
                continue
            st = conns[s]
            if ev & selectors.EVENT_READ and not st[1]:
                try:
                    b = s.recv(65536)
                    if b:
                        st[0] += b
                    else:
                        st[1] = True
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    st[0].clear()
                    st[1] = True
            if st[0]:
                try:
                    del st[0][:s.send(st[0])]
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    st[0].clear()
            if st[1] and not st[0]:
                sel.unregister(s)
                s.close()
                del conns[s]
                closed += 1
                continue
            want = (selectors.EVENT_WRITE if st[0] else 0) | (0 if st[1] else selectors.EVENT_READ)
            sel.modify(s, want)
    say("echo-server: %d accepted, %d finished" % (accepted, closed))
    sys.exit(0 if closed == count else 1)

elif mode == "rst-server":
    l = listen(int(args[1]))
    c, _ = l.accept()
    c.settimeout(timeout)
    c.recv(100)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    say("rst-server: reset sent")

elif mode == "rst-client":
    s = socket.create_connection((args[1], int(args[2])), timeout=timeout)
    s.sendall(b"x" * 1000)
    time.sleep(0.3)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    say("rst-client: reset sent")

elif mode == "refused":
    try:
        socket.create_connection((args[1], int(args[2])), timeout=timeout)
    except ConnectionRefusedError:
        say("refused: ECONNREFUSED")
        sys.exit(0)
    except OSError as e:
        say("refused: unexpected", e)
        sys.exit(1)
    say("refused: the connection was accepted")
    sys.exit(1)

elif mode == "close-first":
    s = socket.create_connection((args[1], int(args[2])), timeout=timeout)
    s.sendall(b"ping\n")
    got = b""
    while len(got) < 5:
        b = s.recv(100)
        if not b:
            break
        got += b
    s.close()
    say("close-first: got %r" % got)
    sys.exit(0 if got == b"ping\n" else 1)

elif mode == "read-until-eof":
    s = socket.create_connection((args[1], int(args[2])), timeout=timeout)
    got = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    s.close()
    say("read-until-eof: %d bytes %r" % (len(got), got[:40]))

elif mode == "hold":
    import resource
    host, port, count = args[1], int(args[2]), int(args[3])
    resource.setrlimit(resource.RLIMIT_NOFILE, (count + 256, count + 256))
    held, pending = [], []
    sel = selectors.DefaultSelector()
    while len(held) < count and time.time() < deadline:
        while len(pending) < 200 and len(held) + len(pending) < count:
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex((host, port))
            sel.register(s, selectors.EVENT_WRITE)
            pending.append(s)
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            sel.unregister(s)
            pending.remove(s)
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                say("hold: connect failed:", os.strerror(err))
                sys.exit(1)
            held.append(s)
    if len(held) < count:
        say("hold: only %d of %d connections opened" % (len(held), count))
        sys.exit(1)
    say("holding %d" % count)
    sel.register(sys.stdin, selectors.EVENT_READ)
    while time.time() < deadline:
        if sel.select(timeout=0.5) and not sys.stdin.read(1):
            break
    for s in held:
        s.close()
    say("hold: closed %d" % count)

elif mode == "syn-flood":
    ifname, dmac, dip, port = args[1], bytes.fromhex(args[2].replace(":", "")), args[3], int(args[4])
    count, seconds = int(args[5]), float(args[6])
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    raw.bind((ifname, 0))
    smac = raw.getsockname()[4]
    dst = socket.inet_aton(dip)

    def csum(b):
        if len(b) & 1:
            b += b"\0"
        v = sum(struct.unpack("!%dH" % (len(b) // 2), b))
        while v >> 16:
            v = (v & 0xffff) + (v >> 16)
        return ~v & 0xffff

    def syn(src, sport, seq):
        opts = struct.pack("!BBH", 2, 4, 1460)
        tcp = struct.pack("!HHIIBBHHH", sport, port, seq, 0, (5 + 1) << 4, 0x02, 65535, 0, 0) + opts
        c = csum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        return dmac + smac + b"\x08\x00" + ip + tcp

    rnd = os.urandom
    t0 = time.time()
    batch = max(1, int(count / (seconds * 1000)))  # one batch per millisecond
    sent = 0
    while sent < count and time.time() < deadline:
        for _ in range(min(batch, count - sent)):
            r = rnd(8)
            src = bytes([198, 18 | (r[0] & 1), r[1], r[2] or 1])
            raw.send(syn(src, 1024 + (r[3] << 8 | r[4]) % 60000, int.from_bytes(r[4:8], "big")))
            sent += 1
        ahead = t0 + sent / count * seconds - time.time()
        if ahead > 0:
            time.sleep(ahead)
    say("flooded %d in %.1f s" % (sent, time.time() - t0))
    sys.exit(0 if sent == count else 1)

else:
    say("unknown mode", mode)
    sys.exit(2)
