#!/usr/bin/env python3
"""Sends COUNT GET requests for PATH over one keep-alive connection, one at a time, for bench/callgrind.sh.

usage: keepalive_get.py HOST PORT PATH COUNT   -> prints "COUNT requests in S s"

Every answer must be a 200 that keeps the connection open: a reconnect would add an accept and a
connection set-up to the instructions being counted, so it is an error here.
"""
import http.client
import sys
import time


def main() -> None:
    host, port, path, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    conn = http.client.HTTPConnection(host, port, timeout=60)
    conn.connect()
    started = time.monotonic()
    for i in range(count):
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            sys.exit(f"GET {path} #{i + 1} -> {response.status}")
        if response.will_close:
            sys.exit(f"GET {path} #{i + 1}: the server closed the keep-alive connection")
    conn.close()
    print(f"{count} requests in {time.monotonic() - started:.2f} s", flush=True)


if __name__ == "__main__":
    main()
