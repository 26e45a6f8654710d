#!/usr/bin/env python3
"""Writes one change a second for SECONDS (PATCH of a round's summary), for the dashboard scenario.

usage: writer.py BASE_URL TOKEN SECONDS
"""
import http.client
import json
import sys
import time
import urllib.parse


def main() -> None:
    base, token, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    url = urllib.parse.urlparse(base)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for i in range(seconds):
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        conn.request("PATCH", "/v1/rounds/1", json.dumps({"summary": f"dashboard benchmark write {i}"}), headers)
        conn.getresponse().read()
        conn.close()
        time.sleep(1)


if __name__ == "__main__":
    main()
