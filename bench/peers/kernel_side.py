#!/usr/bin/env python3
"""kernel_side.py — the kernel's side of the TAP benchmarks (plain sockets).
  send HOST PORT BYTES        send BYTES, shut down, wait for EOF; print Mbit/s
  recv HOST PORT              read to EOF; print Mbit/s
  rate HOST PORT SECONDS      connect / read to EOF / close, one after another
                              (2 threads); print connections/s
"""
import socket, sys, threading, time

mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "send":
    n = int(sys.argv[4])
    s = socket.create_connection((host, port), timeout=30)
    buf = b"x" * (1 << 20)
    t0 = time.time()
    left = n
    while left > 0:
        left -= s.send(buf[:min(left, len(buf))])
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    print("%.1f" % (n * 8 / (time.time() - t0) / 1e6))
elif mode == "recv":
    s = socket.create_connection((host, port), timeout=30)
    s.shutdown(socket.SHUT_WR)
    t0 = time.time()
    n = 0
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        n += len(b)
    print("%.1f" % (n * 8 / (time.time() - t0) / 1e6))
elif mode == "rate":
    secs = float(sys.argv[4])
    count = [0, 0]
    end = time.time() + secs

    def worker(i):
        while time.time() < end:
            s = socket.create_connection((host, port), timeout=5)
            while s.recv(4096):
                pass
            s.close()
            count[i] += 1
    ts = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    t0 = time.time()
    [t.start() for t in ts]
    [t.join() for t in ts]
    print("%.0f" % (sum(count) / (time.time() - t0)))
