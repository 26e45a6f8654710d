#!/usr/bin/env python3
"""Seeds one negotiation and N rounds through the API (keep-alive, bounded), for bench/run.sh's rounds scenario.

usage: seed_rounds.py BASE_URL TOKEN COUNT
"""
import http.client
import json
import sys
import urllib.parse


def main() -> None:
    base, token, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    url = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def post(path: str, body: dict) -> dict:
        conn.request("POST", path, json.dumps(body), headers)
        response = conn.getresponse()
        data = response.read()
        if response.status != 201:
            sys.exit(f"POST {path} -> {response.status}: {data[:300]!r}")
        return json.loads(data)

    negotiation = post("/v1/negotiations", {"slug": "bench", "title": "Benchmark negotiation", "parties": ["USA", "CHN"]})
    for i in range(count):
        day = 1 + i % 28
        month = 1 + (i // 28) % 12
        post("/v1/rounds", {
            "negotiation_id": negotiation["id"], "title": f"Round {i + 1}", "city": "Geneva", "country": "CHE",
            "starts_on": f"2025-{month:02d}-{day:02d}", "ends_on": f"2025-{month:02d}-{day:02d}", "status": "concluded",
            "summary": "Delegations met to discuss tariffs, export controls and fentanyl precursors.",
            "outcome": "Both sides agreed to keep talking and to meet again within a month.",
        })
    print(negotiation["id"])


if __name__ == "__main__":
    main()
