#!/usr/bin/env python3
"""aecho.py — asyncio echo server and client, run unmodified over `synack run`.

  aecho.py server HOST PORT      echo one connection, then exit
  aecho.py client HOST PORT N    send N random bytes, read the echo, check it
"""
import asyncio
import hashlib
import os
import sys


async def server(host, port):
    done = asyncio.Event()

    async def handle(reader, writer):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()
        await writer.wait_closed()
        done.set()

    srv = await asyncio.start_server(handle, host, port)
    print("listening", flush=True)
    async with srv:
        await done.wait()


async def client(host, port, n):
    reader, writer = await asyncio.open_connection(host, port)
    data = os.urandom(n)

    async def send():
        writer.write(data)
        await writer.drain()
        writer.write_eof()

    task = asyncio.create_task(send())
    got = await reader.readexactly(n)
    await task
    writer.close()
    await writer.wait_closed()
    same = hashlib.sha256(got).hexdigest() == hashlib.sha256(data).hexdigest()
    print("echo ok" if same else "echo MISMATCH", flush=True)
    return 0 if same else 1


mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "server":
    asyncio.run(server(host, port))
else:
    sys.exit(asyncio.run(client(host, port, int(sys.argv[4]))))
