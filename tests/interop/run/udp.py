#!/usr/bin/env python3
"""udp.py — UDP between a kernel echo server and a program over synack run.

  udp.py echo-server HOST PORT     (kernel) echo each datagram to its sender,
                                   printing "from ADDR:PORT LEN"
  udp.py client HOST PORT CLOSED   (over synack) unconnected sendto and
                                   recvfrom with the sender checked, a
                                   connected socket, boundaries of mixed
                                   sizes (one in fragments), recvmsg with
                                   MSG_TRUNC, then a connected socket to the
                                   port CLOSED: ECONNREFUSED. Prints "ok ..."
                                   per check; exits 1 at the first failure.
"""
import errno
import socket
import sys

mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])


def echo_server():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, port))
    print("listening", flush=True)
    while True:
        data, peer = s.recvfrom(65535)
        print("from %s:%d %d" % (peer[0], peer[1], len(data)), flush=True)
        s.sendto(data, peer)


def check(cond, what):
    if not cond:
        print("FAIL:", what, flush=True)
        sys.exit(1)
    print("ok", what, flush=True)


def client(closed):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(5)
    check(u.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) == socket.SOCK_DGRAM, "SO_TYPE")
    u.bind(("0.0.0.0", 0))
    me = u.getsockname()
    check(me[1] != 0, "ephemeral port %d" % me[1])
    u.sendto(b"hello", (host, port))
    data, peer = u.recvfrom(100)
    check(data == b"hello" and peer == (host, port), "sendto/recvfrom, sender %s:%d" % peer)

    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.settimeout(5)
    c.connect((host, port))
    check(c.getpeername() == (host, port), "getpeername")
    sizes = [1, 1000, 30000, 0, 7]
    for n in sizes:
        c.send(bytes([n % 251]) * n)
    got = [len(c.recv(65535)) for _ in sizes]
    check(got == sizes, "boundaries %s" % got)
    c.send(b"0123456789")
    data, _, flags, _ = c.recvmsg(4)
    check(data == b"0123" and flags & socket.MSG_TRUNC, "recvmsg MSG_TRUNC")

    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.settimeout(5)
    r.connect((host, closed))
    r.send(b"anyone?")
    try:
        r.recv(100)
        check(False, "a closed port answered")
    except ConnectionRefusedError:
        check(True, "closed port: ECONNREFUSED")


if mode == "echo-server":
    echo_server()
else:
    client(int(sys.argv[4]))
