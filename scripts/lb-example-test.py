#!/usr/bin/env python3
"""The load-balanced example end to end: scripts/lb-example.sh starts two instances on one temporary SQLite
file behind nginx (deploy/nginx-lb.conf); this writes through nginx, reads the record back through each
instance directly, follows two event streams through nginx, holds a long poll, stops one instance and keeps
reading and writing through nginx, and stops everything.

usage: scripts/lb-example-test.py        (TRADE_TRACKER_BIN picks the binary, as for lb-example.sh;
                                         LB_TEST_DATABASE=postgres://… runs it on that empty database instead)

Prints one `ok N - ...` line per check; exits 1 at the first failure, with the tail of the run's logs.
Everything listens on 127.0.0.1 and every wait is bounded.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "lb-example.sh")
TOKEN = "lb-example-test-writer-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def request(base, method, path, body=None, headers=None, timeout=10):
    """One request on its own connection: (status, headers with lower-case names, body bytes)."""
    url = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    try:
        conn.request(method, path, None if body is None else json.dumps(body), headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def create_negotiation(base, slug, request_id=None):
    headers = dict(AUTH)
    if request_id:
        headers["X-Request-ID"] = request_id
    status, head, body = request(base, "POST", "/v1/negotiations",
                                 {"slug": slug, "title": f"Load-balanced {slug}", "parties": ["USA", "CHN"]}, headers)
    check(status == 201, f"POST /v1/negotiations through {base}: {status} {body[:300]!r}")
    return head, json.loads(body)


class EventStream:
    """GET /v1/changes with Accept: text/event-stream on a raw socket, read as it arrives."""

    def __init__(self, base):
        url = urllib.parse.urlparse(base)
        self.sock = socket.create_connection((url.hostname, url.port), timeout=5)
        self.sock.sendall(f"GET /v1/changes HTTP/1.1\r\nHost: {url.hostname}:{url.port}\r\n"
                          "Accept: text/event-stream\r\n\r\n".encode())
        self.received = b""

    def wait_for(self, needle, seconds):
        deadline = time.monotonic() + seconds
        while needle not in self.received:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(min(left, 0.5))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                return needle in self.received
            self.received += chunk
        return True

    def close(self):
        self.sock.close()


def start(database):
    env = dict(os.environ, DATABASE=database, TRADE_TRACKER_TOKENS=f"lbtest:write:{TOKEN}")
    out = subprocess.run([SCRIPT, "start"], env=env, stdout=subprocess.PIPE, timeout=120, check=True, text=True).stdout
    run = {}
    for line in out.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        run[name] = value
    for name in ("LB_URL", "LB_INSTANCE_A", "LB_INSTANCE_B", "LB_DIR"):
        check(name in run, f"lb-example.sh start printed no {name}: {out!r}")
    return run


def recorded_pids(run_dir):
    with open(os.path.join(run_dir, "pids")) as f:
        return {name: int(pid) for name, pid, _port in (line.split() for line in f if line.strip())}


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def wait_gone(pid, seconds):
    deadline = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not alive(pid)


def show_logs(run_dir):
    logs = os.path.join(run_dir, "logs")
    for name in sorted(os.listdir(logs)) if os.path.isdir(logs) else []:
        with open(os.path.join(logs, name), errors="replace") as f:
            tail = f.readlines()[-15:]
        print(f"--- {name} (last {len(tail)} lines)", file=sys.stderr)
        sys.stderr.writelines(tail)


def checks(run):
    lb, a, b = run["LB_URL"], run["LB_INSTANCE_A"], run["LB_INSTANCE_B"]
    number = 0

    def ok(message):
        nonlocal number
        number += 1
        print(f"ok {number} - {message}", flush=True)

    request_id = "lbtest-" + uuid.uuid4().hex[:12]
    head, created = create_negotiation(lb, "geneva-lb", request_id)
    check(head.get("x-request-id") == request_id, f"X-Request-ID {request_id} sent, {head.get('x-request-id')} answered")
    path = f"/v1/negotiations/{created['id']}"
    answers = {}
    for name, base in (("a", a), ("b", b)):
        status, head, body = request(base, "GET", path)
        check(status == 200, f"GET {path} on instance {name}: {status} {body[:200]!r}")
        check(json.loads(body)["slug"] == "geneva-lb", f"instance {name} answered {body[:200]!r}")
        answers[name] = (head.get("etag"), body)
    check(answers["a"] == answers["b"], f"the instances disagree: {answers}")
    ok("a write through nginx (its X-Request-ID passed and echoed) reads back the same, ETag too, on each instance")

    # least_conn puts the second stream on the instance the first did not take, so one of them is on the
    # instance the write does not go through: its event comes from the other process's commit.
    streams = [EventStream(lb), EventStream(lb)]
    try:
        for stream in streams:
            check(stream.wait_for(b"retry: 3000", 5), f"no stream opening through nginx: {stream.received[:300]!r}")
        _, second = create_negotiation(lb, "busan-lb")
        status, _, body = request(lb, "GET", "/v1/changes?since=0&resource=negotiations")
        check(status == 200, f"GET /v1/changes through nginx: {status}")
        seq = json.loads(body)["data"][-1]["seq"]
        for index, stream in enumerate(streams):
            check(stream.wait_for(f"id: {seq}\n".encode(), 5),
                  f"stream {index + 1} got no event {seq} within 5 s: {stream.received[-400:]!r}")
            check(f'"id":{second["id"]}'.encode() in stream.received, f"stream {index + 1}: {stream.received[-400:]!r}")
    finally:
        for stream in streams:
            stream.close()
    ok("two event streams through nginx (unbuffered) each deliver the next change within 5 s")

    started = time.monotonic()
    status, _, body = request(lb, "GET", "/v1/changes?since=now&wait=2")
    waited = time.monotonic() - started
    check(status == 200 and json.loads(body)["data"] == [], f"long poll: {status} {body[:200]!r}")
    check(1.5 <= waited < 10, f"the long poll was answered after {waited:.1f} s, not held for its 2 s")
    ok(f"a long poll through nginx is held for its wait ({waited:.1f} s) and answered")

    pid_a = recorded_pids(run["LB_DIR"])["a"]
    os.kill(pid_a, signal.SIGTERM)
    check(wait_gone(pid_a, 15), "instance a did not stop within 15 s of SIGTERM")
    for n in range(6):
        status, _, body = request(lb, "GET", path)
        check(status == 200, f"GET {n + 1} through nginx with instance a down: {status} {body[:200]!r}")
    slugs = [f"after-a-{n}" for n in range(3)]
    for slug in slugs:
        create_negotiation(lb, slug)  # refused by a, so never sent to it: nginx passes even a POST on to b
    status, _, body = request(b, "GET", "/v1/negotiations?limit=100")
    check(status == 200, f"list on instance b: {status}")
    stored = [record["slug"] for record in json.loads(body)["data"]]
    check(all(stored.count(slug) == 1 for slug in slugs), f"each write once: {stored}")
    ok("with instance a stopped, 6 reads and 3 writes through nginx all succeed on instance b, each write once")
    return number


def main():
    with tempfile.TemporaryDirectory(prefix="tt-lb-test.") as temp:
        os.chmod(temp, 0o755)
        run = start(os.environ.get("LB_TEST_DATABASE") or os.path.join(temp, "lb.sqlite"))
        pids = recorded_pids(run["LB_DIR"])
        failed = None
        try:
            count = checks(run)
        except (Failure, OSError, ValueError, KeyError) as error:
            failed = error
            show_logs(run["LB_DIR"])
        finally:
            subprocess.run([SCRIPT, "stop", run["LB_DIR"]], timeout=60, check=False)
        if failed is not None:
            print(f"not ok - {failed}", flush=True)
            sys.exit(1)
        lingering = [f"{name} (pid {pid})" for name, pid in pids.items() if not wait_gone(pid, 5)]
        if lingering:
            print(f"not ok - still running after stop: {', '.join(lingering)}", flush=True)
            sys.exit(1)
        print(f"ok {count + 1} - lb-example.sh stop ended nginx and both instances", flush=True)


if __name__ == "__main__":
    main()
