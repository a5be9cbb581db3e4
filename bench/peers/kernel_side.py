#!/usr/bin/env python3
"""kernel_side.py — the kernel's side of the TAP benchmarks (plain sockets).
  send HOST PORT BYTES        send BYTES, shut down, wait for EOF; print Mbit/s
  recv HOST PORT              read to EOF; print Mbit/s
  rate HOST PORT SECONDS      connect / read to EOF / close, one after another
                              (2 threads); print connections/s. Each
                              connection binds the next local port of its
                              thread's own half of 10000-65535 in turn, so no
                              4-tuple repeats within a run: the server holds
                              TIME-WAIT, and lwIP 2.1 does not take a new SYN
                              on a 4-tuple in TIME-WAIT (it answers with an
                              ACK, gets a RST, and the connect stalls), while
                              Linux would pick such a port again within a
                              couple of thousand connections.
"""
import socket, sys, threading, time

mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "send":
    n = int(sys.argv[4])
    s = socket.create_connection((host, port), timeout=30)
    buf = memoryview(b"x" * (1 << 20))  # slices without copies
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
    # One buffer for every read: a fresh 1 MiB object per recv() costs
    # Python an mmap, page faults and a munmap each time, and made this
    # reader, not the stack it measures, the limit (100% CPU at 2-3 Gbit/s).
    buf = bytearray(1 << 20)
    while True:
        got = s.recv_into(buf)
        if not got:
            break
        n += got
    print("%.1f" % (n * 8 / (time.time() - t0) / 1e6))
elif mode == "rate":
    secs = float(sys.argv[4])
    count = [0, 0]
    end = time.time() + secs

    def worker(i):
        lport = 10000 + i
        while time.time() < end:
            six = ":" in host
            s = socket.socket(socket.AF_INET6 if six else socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.settimeout(5)
            s.bind(("::" if six else "0.0.0.0", lport))
            lport = lport + 2 if lport + 2 <= 65535 else 10000 + i
            s.connect((host, port))
            while s.recv(4096):
                pass
            s.close()
            count[i] += 1
    ts = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    t0 = time.time()
    [t.start() for t in ts]
    [t.join() for t in ts]
    print("%.0f" % (sum(count) / (time.time() - t0)))
