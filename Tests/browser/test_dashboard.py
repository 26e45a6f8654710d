#!/usr/bin/env python3
"""Browser test of the dashboard page and of CORS, with headless Chromium via selenium.

    python3 Tests/browser/test_dashboard.py

Starts everything itself, on 127.0.0.1 only, and stops it at the end (also on
failure or timeout; the whole run is bounded to about 85 s):
  * the server: $TT_BINARY (default .build/debug/trade-tracker, relative to the
    repository root, which is also its working directory) with
    `serve --demo --port 0 --database <tmp>/db.sqlite --cors-origin http://127.0.0.1:<A>`
    and a write token in TRADE_TRACKER_TOKENS; its port is read from its log
    ("listening on http://127.0.0.1:PORT");
  * static server A (allowed origin) and static server B (not allowed), each
    serving a small probe page that calls the API from its own origin;
  * Chromium (/usr/bin/chromium, or $CHROMIUM_BINARY) through chromedriver
    (/usr/bin/chromedriver, or $CHROMEDRIVER) with --headless=new --no-sandbox --disable-gpu.

Checks (one line each, then "N passed, M failed"; exit code 0 only if all pass):
  (a) GET / serves the page (text/html, Content-Security-Policy default-src 'self')
      and it renders the demo: two .rate-line (USA-CHN, CHN-USA), step labels with
      "145 %" and "30 %", a section.negotiation, timeline items, the stream "Live",
      and no CSP violation or uncaught error in the console;
  (b) a round created through the API appears on the open page within 3 s, no reload;
  (c) a page from the allowed origin reads /v1/status with fetch (ETag exposed, a
      conditional re-read with If-None-Match answers 304 — a preflighted request),
      opens an EventSource on /v1/changes and receives the event of a write;
  (d) a page from an origin that is not allowed cannot read /v1/status (fetch
      rejects with TypeError), and the server sends it no Access-Control-Allow-Origin;
  (e) screenshots at 1280×800 and at 375 px wide (viewport and full length) are
      saved (paths printed; folder $TT_SCREENSHOT_DIR or a new temp folder), and
      the page does not scroll sideways at 375 px.

Development only: TT_DEV_PROXY=1 puts Tests/browser/devproxy.py in front of the
server (it serves public/ at / and emulates CORS for origin A) and does not pass
--cors-origin to the server, so the checks can run against a server that neither
serves the page nor does CORS yet (e.g. TT_BINARY=/work/tools/trade-tracker-baseline).
The default path tests the real server.
"""

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
TIME_LIMIT = 85.0  # seconds for the whole run
T0 = time.monotonic()

PROBE_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CORS probe</title>
<script src="probe.js" defer></script></head>
<body><h1>CORS probe</h1><pre id="results">pending</pre></body></html>
"""

# Runs in the probe page, on the other origin. Reports into window.results and #results.
PROBE_JS = r"""
'use strict';
window.results = { origin: location.origin, fetch: null, fetchError: null, revalidate: null,
                   revalidateError: null, esOpen: false, esErrors: 0, events: [] };
const R = window.results;
const api = new URLSearchParams(location.search).get('api');
const show = () => { document.getElementById('results').textContent = JSON.stringify(R, null, 1); };
fetch(api + '/v1/status', { cache: 'no-store' })
  .then(async (r) => {
    const body = await r.json();
    const etag = r.headers.get('ETag');
    R.fetch = { status: r.status, etag, negotiations: (body.negotiations || []).length,
                last_change_seq: body.last_change_seq };
    show();
    if (etag) {
      // If-None-Match is not a CORS-safelisted header: this needs a preflight, and the 304 needs the CORS headers.
      try {
        const r2 = await fetch(api + '/v1/status', { cache: 'no-store', headers: { 'If-None-Match': etag } });
        R.revalidate = { status: r2.status, etag: r2.headers.get('ETag') };
      } catch (e) { R.revalidateError = e.name + ': ' + e.message; }
      show();
    }
  })
  .catch((e) => { R.fetchError = e.name + ': ' + e.message; show(); });
const es = new EventSource(api + '/v1/changes');
es.onopen = () => { R.esOpen = true; show(); };
es.onerror = () => { R.esErrors += 1; show(); };
for (const t of ['created', 'updated', 'deleted']) {
  es.addEventListener(t, (ev) => {
    let data = null;
    try { data = JSON.parse(ev.data); } catch (_) { data = ev.data; }
    R.events.push({ type: t, lastEventId: ev.lastEventId, data });
    show();
  });
}
show();
"""


class CheckFailed(Exception):
    pass


def elapsed():
    return time.monotonic() - T0


def remaining():
    return TIME_LIMIT - elapsed()


def log(msg):
    print(f"  [{elapsed():5.1f}s] {msg}", flush=True)


def wait_for(pred, timeout, interval=0.1, what="condition"):
    """Poll pred() until it returns a truthy value; raise CheckFailed after timeout."""
    end = time.monotonic() + min(timeout, max(0.5, remaining() - 3))
    last_exc = None
    while True:
        try:
            v = pred()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - keep polling through transient errors
            last_exc = e
        if time.monotonic() >= end:
            raise CheckFailed(f"timed out waiting for {what}" + (f" (last error: {last_exc})" if last_exc else ""))
        time.sleep(interval)


def http(method, url, body=None, headers=None, timeout=10):
    """Returns (status, headers, body_bytes); HTTP errors are answers, not exceptions."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


def start_static(directory):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=directory))
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, srv.server_address[1]


class Server:
    """The trade-tracker process; its log is drained in threads and kept for diagnostics."""

    def __init__(self, argv, env, cwd):
        self.lines = []
        self.port = None
        self._found = threading.Event()
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True)
        for stream in (self.proc.stdout, self.proc.stderr):
            threading.Thread(target=self._drain, args=(stream,), daemon=True).start()

    def _drain(self, stream):
        pat = re.compile(r"listening on https?://(?:127\.0\.0\.1|localhost):(\d+)")
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            self.lines.append(line)
            if len(self.lines) > 400:
                del self.lines[:100]
            m = pat.search(line)
            if m and self.port is None:
                self.port = int(m.group(1))
                self._found.set()

    def wait_port(self, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self._found.wait(0.1):
                return self.port
            if self.proc.poll() is not None:
                break
        tail = "\n    ".join(self.lines[-15:])
        raise RuntimeError(f"server did not report its port (exit code {self.proc.poll()}); last log lines:\n    {tail}")

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(5)
            except (subprocess.TimeoutExpired, ProcessLookupError, PermissionError):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                self.proc.wait(5)


def make_driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--no-first-run", "--no-default-browser-check", "--window-size=1280,800"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"),
                      popen_kw={"start_new_session": True})
    drv = webdriver.Chrome(service=service, options=opts)
    drv.set_page_load_timeout(20)
    drv.set_script_timeout(15)
    return drv


def set_viewport(drv, width, height):
    drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def full_page_png(drv, width, path):
    import base64
    metrics = drv.execute_cdp_cmd("Page.getLayoutMetrics", {})
    height = int(metrics.get("cssContentSize", metrics.get("contentSize"))["height"])
    shot = drv.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))


def main():
    dev_proxy = os.environ.get("TT_DEV_PROXY") == "1"
    binary = os.environ.get("TT_BINARY", ".build/debug/trade-tracker")
    binary_path = binary if os.path.isabs(binary) else os.path.join(ROOT, binary)
    tmp = tempfile.mkdtemp(prefix="tt-browser-")
    shots_dir = os.environ.get("TT_SCREENSHOT_DIR") or tempfile.mkdtemp(prefix="tt-screenshots-")
    os.makedirs(shots_dir, exist_ok=True)
    token = "bt-" + secrets.token_hex(16)
    results = []  # (letter, name, ok, detail)

    server = None
    driver = None
    statics = []
    proxy = None

    def cleanup():
        nonlocal driver, server, proxy
        if driver is not None:
            d, driver = driver, None
            try:
                d.quit()
            except Exception:  # noqa: BLE001
                pass
            try:  # chromedriver and chromium run in their own session: make sure nothing stays
                os.killpg(d.service.process.pid, signal.SIGKILL)
            except Exception:  # noqa: BLE001
                pass
        if server is not None:
            s, server = server, None
            s.stop()
        if proxy is not None:
            p, proxy = proxy, None
            p.shutdown()
        while statics:
            statics.pop().shutdown()
        shutil.rmtree(tmp, ignore_errors=True)

    def on_timeout():
        print(f"TIMEOUT: the run passed {TIME_LIMIT:.0f} s; stopping everything", flush=True)
        try:
            cleanup()
        finally:
            passed = sum(1 for r in results if r[2])
            print(f"{passed} passed, {5 - passed} failed", flush=True)
            os._exit(1)

    watchdog = threading.Timer(TIME_LIMIT + 3, on_timeout)
    watchdog.daemon = True
    watchdog.start()

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)

    def check(letter, name, fn):
        try:
            detail = fn() or ""
            results.append((letter, name, True, detail))
            print(f"PASS ({letter}) {name}" + (f" — {detail}" if detail else ""), flush=True)
        except Exception as e:  # noqa: BLE001 - a failed check is reported, the run goes on
            msg = str(e) or e.__class__.__name__
            results.append((letter, name, False, msg))
            print(f"FAIL ({letter}) {name} — {msg}", flush=True)

    names = {
        "a": "the page at / renders the demo (chart lines, 145 % and 30 % labels, status, timeline)",
        "b": "a round created through the API appears within 3 s without reload",
        "c": "the allowed origin reads /v1/status and receives a change over EventSource",
        "d": "an origin that is not allowed cannot read /v1/status",
        "e": "screenshots at 1280x800 and 375 px wide",
    }

    try:
        # ---- static servers for the probe pages
        probe_dir = os.path.join(tmp, "probe")
        os.makedirs(probe_dir)
        with open(os.path.join(probe_dir, "probe.html"), "w") as f:
            f.write(PROBE_HTML)
        with open(os.path.join(probe_dir, "probe.js"), "w") as f:
            f.write(PROBE_JS)
        srv_a, port_a = start_static(probe_dir)
        statics.append(srv_a)
        srv_b, port_b = start_static(probe_dir)
        statics.append(srv_b)
        origin_a = f"http://127.0.0.1:{port_a}"
        origin_b = f"http://127.0.0.1:{port_b}"

        # ---- the server
        if not os.path.exists(binary_path):
            raise RuntimeError(f"server binary not found: {binary_path} (build it, or set TT_BINARY)")
        argv = [binary_path, "serve", "--demo", "--port", "0", "--host", "127.0.0.1",
                "--database", os.path.join(tmp, "db.sqlite")]
        if not dev_proxy:
            argv += ["--cors-origin", origin_a]
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRADE_TRACKER_")}
        env["TRADE_TRACKER_TOKENS"] = f"browser-test:write:{token}"
        log("starting " + " ".join(os.path.relpath(a, ROOT) if a.startswith(ROOT) else a for a in argv))
        server = Server(argv, env, ROOT)
        port = server.wait_port(timeout=min(30, remaining() - 40))
        api = f"http://127.0.0.1:{port}"
        if dev_proxy:
            sys.path.insert(0, HERE)
            import devproxy  # noqa: E402 - development helper next to this file
            proxy, proxy_port = devproxy.start(api, cors_origins=[origin_a])
            log(f"TT_DEV_PROXY=1: devproxy on 127.0.0.1:{proxy_port} in front of the server on {port}")
            api = f"http://127.0.0.1:{proxy_port}"
        log(f"server on {api}, allowed origin {origin_a}, other origin {origin_b}")
        wait_for(lambda: http("GET", api + "/readyz", timeout=2)[0] == 200, 15, 0.2, "/readyz")

        driver = make_driver()
        log("chromium started")
        state = {}

        # ---- (a)
        def check_a():
            status, headers, body = http("GET", api + "/")
            if status != 200:
                raise CheckFailed(f"GET / answered {status}")
            ctype = headers.get("Content-Type", "")
            if not ctype.startswith("text/html"):
                raise CheckFailed(f"GET / Content-Type is {ctype!r}, want text/html")
            csp = headers.get("Content-Security-Policy", "")
            if "default-src 'self'" not in csp:
                raise CheckFailed(f"GET / Content-Security-Policy is {csp!r}, want default-src 'self'")
            for asset, want in (("/app.js", "javascript"), ("/style.css", "text/css")):
                s2, h2, _ = http("GET", api + asset)
                if s2 != 200 or want not in h2.get("Content-Type", ""):
                    raise CheckFailed(f"GET {asset} answered {s2} {h2.get('Content-Type')!r}")
            set_viewport(driver, 1280, 800)
            driver.get(api + "/")

            def rendered():
                return driver.execute_script("""
                    const lines = [...document.querySelectorAll('#rate-chart .rate-line')].map(e => e.dataset.direction);
                    const labels = [...document.querySelectorAll('#rate-chart .step-label')].map(e => e.textContent);
                    return { lines, labels,
                      negotiations: document.querySelectorAll('section.negotiation[data-negotiation-id]').length,
                      timeline: document.querySelectorAll('#timeline > li[data-kind]').length,
                      live: document.getElementById('status-indicator').textContent.trim(),
                      exportControls: !!document.getElementById('export-controls') };""")

            def ok():
                r = rendered()
                state["render"] = r
                return (len(r["lines"]) == 2 and any("145 %" in t for t in r["labels"])
                        and any("30 %" in t for t in r["labels"]) and r["negotiations"] >= 1
                        and r["timeline"] >= 1 and r["live"] == "Live")
            try:
                wait_for(ok, 12, 0.2, "the rendered demo")
            except CheckFailed as e:
                raise CheckFailed(f"{e}; page state: {json.dumps(state.get('render'))}") from None
            r = state["render"]
            if sorted(r["lines"]) != ["CHN-USA", "USA-CHN"]:
                raise CheckFailed(f".rate-line data-direction values are {r['lines']}")
            if not r["exportControls"]:
                raise CheckFailed("#export-controls is missing")
            problems = [e["message"] for e in driver.get_log("browser")
                        if "Content Security Policy" in e["message"] or "Uncaught" in e["message"]]
            if problems:
                raise CheckFailed("console: " + " | ".join(p[:200] for p in problems[:3]))
            return (f"{len(r['labels'])} step labels, {r['timeline']} timeline items, "
                    f"{r['negotiations']} negotiation(s), stream {r['live']}")

        check("a", names["a"], check_a)

        # ---- (b)
        def check_b():
            if "render" not in state:
                driver.get(api + "/")
            wait_for(lambda: driver.execute_script(
                "return document.getElementById('status-indicator').textContent.trim() === 'Live'"), 8, 0.1, "Live")
            s, _, body = http("GET", api + "/v1/status")
            st = json.loads(body)
            neg = st["negotiations"][0]["id"]
            today = date.fromisoformat(str(st.get("generated_at", ""))[:10] or date.today().isoformat())
            title = f"Browser check round {secrets.token_hex(3)}"
            driver.execute_script("window.__notReloaded = true;")
            s, _, body = http("POST", api + "/v1/rounds", {
                "negotiation_id": neg, "title": title, "city": "Geneva", "country": "CHE",
                "starts_on": (today + timedelta(days=20)).isoformat(),
                "ends_on": (today + timedelta(days=21)).isoformat()},
                headers={"Authorization": f"Bearer {token}"})
            if s != 201:
                raise CheckFailed(f"POST /v1/rounds answered {s}: {body[:200]!r}")
            t_write = time.monotonic()

            def where():
                return driver.execute_script("""
                    const t = arguments[0];
                    if (!window.__notReloaded) return 'reloaded';
                    const inTimeline = [...document.querySelectorAll('#timeline > li')].some(li => li.textContent.includes(t));
                    const inCards = [...document.querySelectorAll('section.negotiation')].some(s => s.textContent.includes(t));
                    return inTimeline || inCards ? [inTimeline, inCards] : null;""", title)
            found = wait_for(where, 3.0, 0.05, f"{title!r} on the page")
            if found == "reloaded":
                raise CheckFailed("the page reloaded")
            took = time.monotonic() - t_write
            while not all(found) and time.monotonic() - t_write < 3.0:  # report both places when both show it
                time.sleep(0.05)
                found = where() or found
            places = [p for p, yes in zip(("timeline", "negotiation card"), found) if yes]
            return f"{title!r} shown in {' and '.join(places)} after {took:.2f} s"

        check("b", names["b"], check_b)

        # ---- (e) while the dashboard is open
        def check_e():
            paths = []
            set_viewport(driver, 1280, 800)
            time.sleep(0.6)
            driver.execute_script("window.scrollTo(0, 0)")
            p = os.path.join(shots_dir, "dashboard-1280x800.png")
            driver.save_screenshot(p)
            paths.append(p)
            set_viewport(driver, 375, 800)
            time.sleep(0.8)  # the chart re-lays itself out for the new width
            driver.execute_script("window.scrollTo(0, 0)")
            p = os.path.join(shots_dir, "dashboard-375x800.png")
            driver.save_screenshot(p)
            paths.append(p)
            p = os.path.join(shots_dir, "dashboard-375-full.png")
            full_page_png(driver, 375, p)
            paths.append(p)
            overflow = driver.execute_script("return document.documentElement.scrollWidth")
            set_viewport(driver, 1280, 800)
            for p in paths:
                if not os.path.exists(p) or os.path.getsize(p) < 1000:
                    raise CheckFailed(f"screenshot missing or empty: {p}")
            if overflow > 375:
                raise CheckFailed(f"at 375 px the page is {overflow} px wide (scrolls sideways); screenshots: "
                                  + ", ".join(paths))
            return "saved " + ", ".join(paths)

        # ---- (c)
        def probe(origin, done, timeout):
            driver.get(f"{origin}/probe.html?api={urllib.parse.quote(api, safe='')}")
            last = {}

            def ready():
                last["r"] = driver.execute_script("return window.results || null")
                return last["r"] if last["r"] and done(last["r"]) else None
            try:
                return wait_for(ready, timeout, 0.1, f"the probe on {origin}")
            except CheckFailed as e:
                raise CheckFailed(f"{e}; probe results: {json.dumps(last.get('r'))}") from None

        def check_c():
            r = probe(origin_a, lambda r: (r["fetch"] or r["fetchError"]) and (r["revalidate"] or r["revalidateError"]
                                                                                  or r["fetchError"])
                      and (r["esOpen"] or r["esErrors"] > 0), 10)
            if r["fetchError"] or not r["fetch"]:
                raise CheckFailed(f"fetch from {origin_a} failed: {r['fetchError']}")
            if not r["esOpen"]:
                raise CheckFailed(f"EventSource from {origin_a} on /v1/changes did not open ({r['esErrors']} error events)")
            if r["fetch"]["status"] != 200 or r["fetch"]["negotiations"] < 1:
                raise CheckFailed(f"fetch read {r['fetch']}")
            if not r["fetch"]["etag"]:
                raise CheckFailed("the ETag header is not readable from the other origin (Access-Control-Expose-Headers)")
            if not r["revalidate"] or r["revalidate"]["status"] != 304:
                raise CheckFailed(f"conditional re-read with If-None-Match: {r['revalidate'] or r['revalidateError']}")
            s, _, body = http("POST", api + "/v1/sources", {"title": f"Browser check source {secrets.token_hex(3)}"},
                              headers={"Authorization": f"Bearer {token}"})
            if s != 201:
                raise CheckFailed(f"POST /v1/sources answered {s}: {body[:200]!r}")
            sid = json.loads(body)["id"]

            def got():
                res = driver.execute_script("return window.results")
                return [e for e in res["events"] if isinstance(e["data"], dict)
                        and e["data"].get("resource") == "sources" and e["data"].get("id") == sid]
            ev = wait_for(got, 5, 0.1, "the SSE event of the write")[0]
            s, h, _ = http("GET", api + "/v1/status", headers={"Origin": origin_a})
            if h.get("Access-Control-Allow-Origin") != origin_a:
                raise CheckFailed(f"GET /v1/status with Origin {origin_a}: Access-Control-Allow-Origin is "
                                  f"{h.get('Access-Control-Allow-Origin')!r}")
            return (f"status read ({r['fetch']['negotiations']} negotiation(s), ETag exposed, 304 on revalidation); "
                    f"event {ev['type']} seq {ev['lastEventId']} for sources/{sid}")

        # ---- (d)
        def check_d():
            r = probe(origin_b, lambda r: r["fetch"] or r["fetchError"], 8)
            if r["fetch"]:
                raise CheckFailed(f"the page on {origin_b} read /v1/status: {r['fetch']}")
            if not str(r["fetchError"]).startswith("TypeError"):
                raise CheckFailed(f"fetch failed, but not with TypeError: {r['fetchError']}")
            s, h, _ = http("GET", api + "/v1/status", headers={"Origin": origin_b})
            if s != 200:
                raise CheckFailed(f"GET /v1/status answered {s}: the rejection may not be CORS")
            leaked = [k for k in h.keys() if k.lower().startswith("access-control-")]
            if leaked:
                raise CheckFailed(f"the server sent {leaked} to an origin that is not allowed")
            return f"fetch rejected with {r['fetchError']}"

        check("e", names["e"], check_e)
        check("c", names["c"], check_c)
        check("d", names["d"], check_d)
    except KeyboardInterrupt as e:
        print(f"interrupted ({e})", flush=True)
    except Exception as e:  # noqa: BLE001 - setup failed: every check that did not run fails
        print(f"SETUP FAILED: {e}", flush=True)
        if server is not None and server.lines:
            print("  server log tail:\n    " + "\n    ".join(server.lines[-10:]), flush=True)
    finally:
        cleanup()
        watchdog.cancel()

    done = {r[0] for r in results}
    for letter in "abcde":
        if letter not in done:
            results.append((letter, names[letter], False, "not run"))
            print(f"FAIL ({letter}) {names[letter]} — not run", flush=True)
    passed = sum(1 for r in results if r[2])
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
