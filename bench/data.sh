#!/usr/bin/env bash
# Data in and out (issue 12), against the release build:
#
#   bash bench/data.sh
#
# 1. seeds BENCH_ROWS (100,000) sources into a fresh database with `trade-tracker import` (synchronous=normal:
#    seeding is not what is measured);
# 2. serves it (`--rate-limit 0`) and exports all of them over HTTP as CSV and as NDJSON (`?format=`), each
#    BENCH_EXPORT_RUNS (3) times after a warm-up: rows/s of the median run, and the server's RSS growth during the
#    export — its peak RSS is reset first (`5 > /proc/PID/clear_refs`), so growth = VmHWM after − VmRSS before
#    (goals: ≥ 100,000 rows/s, < 10 MiB);
# 3. imports that NDJSON export into an empty database with `trade-tracker import --resource sources` at
#    synchronous=FULL, the default batch size (the server idle meanwhile): rows/s as the command reports it (goal
#    ≥ 20,000 rows/s), and checks the imported rows equal the served ones;
# 4. sends BENCH_BATCH_RUNS (50) `POST /v1/batch` of 100 operations each (creates of sources, one keep-alive
#    connection, after 5 warm-ups): median and p99 latency.
#
# Prints one line per figure (also in bench/results/<stamp>/data.txt). BENCH_SKIP_BUILD / BENCH_BINARY as in
# bench/run.sh (bench/lib.sh).
set -euo pipefail

CALLER_PWD="$PWD"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

ROWS="${BENCH_ROWS:-100000}"
EXPORT_RUNS="${BENCH_EXPORT_RUNS:-3}"
BATCH_RUNS="${BENCH_BATCH_RUNS:-50}"
RESULTS="${BENCH_RESULTS:-$ROOT/bench/results/$(date -u +%Y%m%dT%H%M%SZ)-data}"
TOKEN="bench-writer-token-0123456789"
WORK=""
SERVER_PID=""

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    [ -z "$WORK" ] || rm -rf "$WORK"
    exit "$rc"
}

# status_kib PID FIELD: a /proc/PID/status field (VmRSS, VmHWM) in KiB
status_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

report() { printf '%s\n' "$*" | tee -a "$RESULTS/data.txt"; }

mkdir -p "$RESULTS"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/trade-tracker-bench-data.XXXXXX")"
trap cleanup EXIT INT TERM
command -v curl >/dev/null || die "curl is needed"
command -v python3 >/dev/null || die "python3 is needed"
build_release "$RESULTS/build.log"
common=(--migrations "$APP_ROOT/migrations")
report "binary: $(binary_info); $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

log "writing $ROWS sources as NDJSON"
python3 - "$ROWS" >"$WORK/seed.ndjson" <<'PY'
import json, sys
for i in range(1, int(sys.argv[1]) + 1):
    print(json.dumps({"url": f"https://example.org/news/{i}", "title": f"Report {i} on the Geneva talks",
                      "publisher": "Example Wire", "published_on": f"2025-05-{i % 28 + 1:02d}"}))
PY
log "seeding with trade-tracker import (synchronous=normal)"
"$BINARY" import "$WORK/seed.ndjson" --resource sources --database "$WORK/served.sqlite" --synchronous normal "${common[@]}" \
    >"$RESULTS/seed.txt" 2>&1 || { cat "$RESULTS/seed.txt" >&2; die "seeding failed"; }
report "seed: $(tail -1 "$RESULTS/seed.txt")"

port="$(free_port)"
url="http://127.0.0.1:$port"
TRADE_TRACKER_TOKENS="bench:write:$TOKEN" "$BINARY" serve --host 127.0.0.1 --port "$port" --database "$WORK/served.sqlite" \
    --openapi "$APP_ROOT/openapi.yaml" --access-log off --rate-limit 0 "${common[@]}" 2>>"$RESULTS/server.log" &
SERVER_PID=$!
for _ in $(seq 1 150); do
    curl -sf -o /dev/null --max-time 1 "$url/healthz" && break
    kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited at start (see $RESULTS/server.log)"
    sleep 0.2
done
log "server pid $SERVER_PID on $url"

for format in csv ndjson; do
    curl -sf --max-time 120 -o "$WORK/warm.$format" "$url/v1/sources?format=$format" || die "export $format failed"
    times=() growth=0 before_kib=0 peak_kib=0
    for run in $(seq 1 "$EXPORT_RUNS"); do
        echo 5 >"/proc/$SERVER_PID/clear_refs" 2>/dev/null || log "cannot reset the peak RSS: growth is since start"
        before="$(status_kib "$SERVER_PID" VmRSS)"
        seconds="$(curl -sf --max-time 120 -o "$WORK/export.$format" -w '%{time_total}' "$url/v1/sources?format=$format")" \
            || die "export $format failed"
        peak="$(status_kib "$SERVER_PID" VmHWM)"
        times+=("$seconds")
        if [ $((peak - before)) -gt "$growth" ] || [ "$run" = 1 ]; then growth=$((peak - before)) before_kib=$before peak_kib=$peak; fi
    done
    lines="$(wc -l <"$WORK/export.$format")"
    if [ "$format" = csv ]; then rows=$((lines - 1)); else rows=$lines; fi
    [ "$rows" = "$ROWS" ] || report "note: the $format export has $rows rows, not $ROWS"
    median="$(printf '%s\n' "${times[@]}" | sort -n | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }')"
    report "$(printf 'export %-6s %d rows  median %.3f s of %d  %d rows/s  %.1f MiB  RSS growth %s MiB (VmRSS %s MiB -> peak %s MiB)  goals: >= 100000 rows/s, < 10 MiB' \
        "$format" "$rows" "$median" "$EXPORT_RUNS" "$(awk -v r="$rows" -v t="$median" 'BEGIN { printf "%d", r / t }')" \
        "$(mib $(( $(stat -c %s "$WORK/export.$format") / 1024 )))" "$(mib "$growth")" "$(mib "$before_kib")" "$(mib "$peak_kib")")"
done

log "importing the NDJSON export into an empty database (synchronous=full)"
"$BINARY" import "$WORK/export.ndjson" --resource sources --database "$WORK/imported.sqlite" --synchronous full "${common[@]}" \
    >"$RESULTS/import.txt" 2>"$RESULTS/import.err" || { cat "$RESULTS/import.err" >&2; die "the import failed"; }
report "import (synchronous=full, batch 500): $(cat "$RESULTS/import.txt")  goal: >= 20000 rows/s"
cmp -s <(sqlite3 -readonly "$WORK/served.sqlite" 'SELECT * FROM sources ORDER BY id' 2>/dev/null) \
       <(sqlite3 -readonly "$WORK/imported.sqlite" 'SELECT * FROM sources ORDER BY id' 2>/dev/null) \
    && report "import: the imported sources equal the exported ones, row for row" \
    || report "note: the imported sources differ from the served ones (or sqlite3 is missing)"

log "batch: $BATCH_RUNS runs of 100 operations"
python3 - "$port" "$TOKEN" "$BATCH_RUNS" >"$RESULTS/batch.txt" <<'PY'
import http.client, json, math, sys, time
port, token, runs = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
headers = {"Content-Type": "application/json", "Authorization": "Bearer " + token}
def body(run):
    return json.dumps({"operations": [{"method": "POST", "path": "/v1/sources",
                                        "body": {"title": f"batch {run} op {k}", "publisher": "Bench"}} for k in range(100)]})
samples = []
for run in range(-5, runs):
    payload = body(run)
    started = time.perf_counter()
    conn.request("POST", "/v1/batch", payload, headers)
    response = conn.getresponse()
    data = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200:
        sys.exit(f"batch answered {response.status}: {data[:300]!r}")
    if run >= 0:
        samples.append(elapsed)
samples.sort()
p99 = samples[math.ceil(0.99 * len(samples)) - 1]  # nearest rank
print(f"batch 100 ops  {len(samples)} runs  median {samples[(len(samples) - 1) // 2]:.1f} ms  p99 {p99:.1f} ms  "
      f"min {samples[0]:.1f} ms  max {samples[-1]:.1f} ms")
PY
report "$(cat "$RESULTS/batch.txt")"

kill -TERM "$SERVER_PID" 2>/dev/null || true
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
report "machine shared with other work: figures vary from run to run; raw output in ${RESULTS#"$ROOT"/}"
