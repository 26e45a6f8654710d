#!/usr/bin/env python3
"""Opens N Server-Sent-Event streams to /v1/changes and holds them for SECONDS (bounded), counting the events read.

usage: hold_streams.py HOST PORT N SECONDS   -> prints "streams_open=<n> events=<total>"
"""
import selectors
import socket
import sys
import time


def main() -> None:
    host, port, count, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    selector = selectors.DefaultSelector()
    opened = 0
    for _ in range(count):
        sock = socket.create_connection((host, port), timeout=5)
        sock.sendall(f"GET /v1/changes HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode())
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
        opened += 1
    events = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.5):
            data = key.fileobj.recv(65536)
            if not data:
                selector.unregister(key.fileobj)
                key.fileobj.close()
                opened -= 1
                continue
            events += data.count(b"\nevent: ")
    print(f"streams_open={opened} events={events}", flush=True)


if __name__ == "__main__":
    main()
