#!/usr/bin/env python3
"""fail.py — the kernel's side and the program's side of failure paths.

  fail.py reset-server PORT BYTES   (kernel) accept, send BYTES then reset
  fail.py sigpipe HOST PORT         (over synack) connect, write after the
                                    peer's reset: the first write fails
                                    ECONNRESET (no signal), as Linux's; the
                                    next one kills us with SIGPIPE
  fail.py drop-server PORT          (kernel) accept, read a little, reset
  fail.py stall-server PORT         (kernel) accept, read the request, send
                                    part of a reply, then stay silent
  fail.py timeout-writer HOST PORT MS  (over synack) connect, set
                                    TCP_USER_TIMEOUT MS, print "connected",
                                    write until a write fails; print its errno
"""
import errno
import signal
import socket
import struct
import sys
import time

mode = sys.argv[1]


def listener(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(1)
    print("listening", flush=True)
    c, _ = s.accept()
    return c


def reset(c):
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()


if mode == "reset-server":
    c = listener(int(sys.argv[2]))
    c.recv(4096)
    n = int(sys.argv[3])
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (n * 4))
    c.sendall(b"x" * n)
    time.sleep(0.3)
    reset(c)
elif mode == "drop-server":
    c = listener(int(sys.argv[2]))
    c.recv(100)
    reset(c)
elif mode == "sigpipe":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    s = socket.create_connection((sys.argv[2], int(sys.argv[3])))
    s.sendall(b"hello\n")
    time.sleep(0.5)  # the reset has come by now
    try:
        s.send(b"x" * 1000)
        print("first write after the reset: no error", flush=True)
    except OSError as e:
        print("first write after the reset:", errno.errorcode.get(e.errno, e.errno), flush=True)
    for _ in range(100):
        s.send(b"x" * 1000)
        time.sleep(0.05)
    print("still alive", flush=True)
    sys.exit(3)
elif mode == "stall-server":
    c = listener(int(sys.argv[2]))
    c.recv(4096)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nthe start")
    print("stalled", flush=True)
    time.sleep(60)
elif mode == "timeout-writer":
    s = socket.create_connection((sys.argv[2], int(sys.argv[3])))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, int(sys.argv[4]))
    print("connected", flush=True)
    time.sleep(1)  # the peer vanishes meanwhile
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < 30:
            s.send(b"x" * 1000)
            time.sleep(0.01)
        print("no error in 30 s", flush=True)
        sys.exit(3)
    except OSError as e:
        print("write failed: %s after %.1f s" % (errno.errorcode.get(e.errno, e.errno),
                                                  time.monotonic() - t0), flush=True)
