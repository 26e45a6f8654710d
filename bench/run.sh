#!/usr/bin/env bash
# Benchmark harness: our server beside nginx serving the same bytes, in the same run.
#
#   bash bench/run.sh [scenario ...]      (no scenario: run them all)
#
# Scenarios are the functions named scenario_NAME below; `bash bench/run.sh`
# with no argument runs every one. Adding a scenario is one function:
#
#   scenario_NAME() {
#       start_server [serve flags...]              # fresh database, SERVER_URL
#       ...seed through the API with curl...
#       fetch_body "$SERVER_URL/some/path" "$WORK/x.body"
#       start_nginx "$WORK/x.body"                 # same bytes at every path
#       measure_pair NAME /some/path 64 [wrk args...]   # one table row
#       # or run_wrk URL CONNECTIONS NAME DURATION [wrk args...] and
#       # ratio A B for rows of your own (add them with add_row / NOTES+=)
#       # start_lb DATABASE: nginx over two instances (LB_URL); measure_sides TAG PATH CONNS ours lb
#   }                                              # main stops what is left
#
# Background helpers (e.g. a writer loop) started with start_background are
# killed on exit, like the server and nginx.
#
# Environment:
#   BENCH_BINARY=/path   measure that binary (no build); migrations and openapi.yaml come from the
#                        checkout it sits in (or BENCH_APP_ROOT=DIR)
#   BENCH_SKIP_BUILD=1   use the existing .build/release/trade-tracker
#   BENCH_DURATION=10    seconds per measured wrk run
#   BENCH_WARMUP=3       seconds per warm-up wrk run
#   BENCH_THREADS=2      wrk threads
#   BENCH_RESULTS=DIR    where raw wrk outputs go (default bench/results/TIMESTAMP)
#   BENCH_LB_DATABASE=…  the database the lb scenario's two instances share (default a SQLite file)
#
# A run with healthz, rounds, writes and mixed ends with issue 8's targets checked against it (bench/targets.py,
# also RESULTS/targets.txt): "met" or "MISSED" per target, then whether all held in this run.
set -euo pipefail

CALLER_PWD="$PWD"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"          # log, die, BINARY, APP_ROOT, build_release, binary_info, free_port

DURATION="${BENCH_DURATION:-10}"
WARMUP="${BENCH_WARMUP:-3}"
THREADS="${BENCH_THREADS:-2}"
RESULTS="${BENCH_RESULTS:-$ROOT/bench/results/$(date -u +%Y%m%dT%H%M%SZ)}"

WORK=""            # temp dir: database, nginx prefix and root
SERVER_PID=""      # set by start_server
SERVER_PORT=""
SERVER_URL=""      # http://127.0.0.1:PORT
SERVER_DB=""       # its database file
NGINX_PID=""       # set by start_nginx
NGINX_URL=""
NGINX_DIR=""
NGINX_USED=0       # 1 once start_nginx ran: print which config the ratios are against
ROWS=()            # table rows, printed at the end
NOTES=()           # anything odd seen on the way (socket errors, non-2xx, ...)
FOOTER=()          # lines printed under the table (e.g. peak RSS at stop)
BG_PIDS=()         # set by start_background, killed on exit
PAIR_COUNT=0       # alternates which side is measured first
CURRENT_SCENARIO=""  # name of the scenario running
LAST_BG_PID=""     # set by start_background
PAIR_RPS="" PAIR_P50="" PAIR_P99=""   # our side of the last measure_pair
FIRST_RPS="" FIRST_P50="" FIRST_P99="" SECOND_RPS="" SECOND_P50="" SECOND_P99=""   # set by measure_sides
LB_URL=""          # set by start_lb: nginx in front of two instances (scripts/lb-example.sh)
LB_DIR=""          # the example's run folder (pids, logs)
ACKNOWLEDGED=0     # 201s seen by the writers of the current scenario (check_stored)
IN_FLIGHT=0        # their requests left unanswered when wrk stopped

# ---------------------------------------------------------------- tools

ensure_tools() {
    local sudo="" missing=()
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    command -v wrk >/dev/null || missing+=(wrk)
    command -v curl >/dev/null || missing+=(curl)
    command -v python3 >/dev/null || missing+=(python3)
    command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
    command -v sqlite3 >/dev/null || missing+=(sqlite3)   # counts stored rows (python3's sqlite3 if this fails)
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    local pkg
    for pkg in "${missing[@]}"; do
        if [ "$pkg" = nginx ]; then
            # nginx-light on Debian 12; Debian 13 only has nginx.
            $sudo apt-get install -y -qq nginx-light >/dev/null \
                || $sudo apt-get install -y -qq nginx >/dev/null
        elif [ "$pkg" = sqlite3 ]; then
            $sudo apt-get install -y -qq sqlite3 >/dev/null || log "no sqlite3 CLI; counting with python3"
        else
            $sudo apt-get install -y -qq "$pkg" >/dev/null
        fi
    done
}

nginx_bin() { command -v nginx 2>/dev/null || echo /usr/sbin/nginx; }

# ---------------------------------------------------------------- our server

# start_server [extra serve flags...]  -> SERVER_PID, SERVER_PORT, SERVER_URL
# A fresh database in the temp dir each time.
start_server() {
    stop_server
    SERVER_PORT="$(free_port)"
    SERVER_URL="http://127.0.0.1:$SERVER_PORT"
    mkdir -p "$WORK/db-$SERVER_PORT"
    SERVER_DB="$WORK/db-$SERVER_PORT/bench.sqlite"
    "$BINARY" serve --host 127.0.0.1 --port "$SERVER_PORT" \
        --database "$SERVER_DB" --migrations "$APP_ROOT/migrations" --openapi "$APP_ROOT/openapi.yaml" \
        --access-log off --rate-limit 0 "$@" 2>>"$RESULTS/server.log" &
    SERVER_PID=$!
    local i
    for i in $(seq 1 150); do       # 150 x 0.2 s = 30 s
        if curl -sf -o /dev/null --max-time 1 "$SERVER_URL/healthz"; then
            log "server pid $SERVER_PID on $SERVER_URL"
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || { tail -5 "$RESULTS/server.log" >&2; SERVER_PID=""; die "server exited at start"; }
        sleep 0.2
    done
    die "server did not answer /healthz within 30 s"
}

# server_hwm  -> peak RSS of the server so far, e.g. "14.2 MB"
server_hwm() {
    [ -n "$SERVER_PID" ] && [ -r "/proc/$SERVER_PID/status" ] || { echo "n/a"; return; }
    awk '/^VmHWM:/ { printf "%.1f MB", $2 / 1024 }' "/proc/$SERVER_PID/status"
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    local pid="$SERVER_PID" i
    SERVER_PID=""
    if kill -0 "$pid" 2>/dev/null; then
        local hwm
        hwm="$(SERVER_PID=$pid server_hwm)"
        log "server peak RSS (VmHWM) before stop: $hwm"
        FOOTER+=("${CURRENT_SCENARIO:-server}: server peak RSS (VmHWM) just before stop: $hwm")
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 1 75); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        if kill -0 "$pid" 2>/dev/null; then
            NOTES+=("server did not exit within 15 s of SIGTERM; killed")
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    local rc=0
    wait "$pid" 2>/dev/null || rc=$?
    [ "$rc" -eq 0 ] || [ "$rc" -eq 137 ] || NOTES+=("server exited with status $rc after SIGTERM")
}

# fetch_body URL FILE: save the exact response body, failing on non-2xx, its Content-Type in
# FILE.type (start_nginx serves the body with it) and its head in FILE.head.
fetch_body() {
    curl -sf --max-time 5 -D "$2.head" -o "$2" -w '%{content_type}' "$1" >"$2.type" || die "could not fetch $1"
}

# count_rows SQL: run a counting query on the server's database (WAL: safe while it runs).
count_rows() {
    if command -v sqlite3 >/dev/null; then
        sqlite3 -readonly -cmd '.timeout 5000' "$SERVER_DB" "$1" && return 0
    fi
    python3 -c 'import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True, timeout=5)
print(db.execute(sys.argv[2]).fetchone()[0])' "$SERVER_DB" "$1"
}

# ---------------------------------------------------------------- nginx

# start_nginx FILE  -> NGINX_PID, NGINX_URL
# nginx tuned as people run it in production (NGINX_SUMMARY) answers every path with the bytes of
# FILE, with the Content-Type fetch_body saved in FILE.type (application/json without one), so the
# same path and query work on both servers. One nginx at a time: calling it again replaces the
# previous one.
#
# etag and if_modified_since stay at their defaults (on): wrk sends no If-None-Match or
# If-Modified-Since, so nginx answers every request with a full 200 and the body, as our server
# does; ETag and Last-Modified only add ~70 bytes to nginx's head.
NGINX_SUMMARY='2 workers, listen reuseport, sendfile, tcp_nopush, tcp_nodelay, open_file_cache max=1000 inactive=60s (valid 60s, min_uses 1), access_log off, keepalive_requests 1000000, keepalive_timeout 65s, etag and if_modified_since at their defaults'
start_nginx() {
    local file="$1" type="application/json"
    [ -s "$file.type" ] && type="$(cat "$file.type")"
    case "$type" in *[\"\\{}]*) die "a Content-Type nginx.conf cannot quote: $type" ;; esac
    stop_nginx
    local port
    port="$(free_port)"
    NGINX_DIR="$(mktemp -d "$WORK/nginx.XXXXXX")"
    chmod 755 "$NGINX_DIR"          # workers run as nobody when we are root
    mkdir -p "$NGINX_DIR/root" "$NGINX_DIR/tmp"
    cp "$file" "$NGINX_DIR/root/body"
    chmod 755 "$NGINX_DIR/root"; chmod 644 "$NGINX_DIR/root/body"
    cat >"$NGINX_DIR/nginx.conf" <<NGINX_CONF
worker_processes 2;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    open_file_cache max=1000 inactive=60s;
    open_file_cache_valid 60s;
    open_file_cache_min_uses 1;
    keepalive_requests 1000000;
    keepalive_timeout 65;
    types { }
    default_type "$type";
    client_body_temp_path $NGINX_DIR/tmp/body;
    proxy_temp_path $NGINX_DIR/tmp/proxy;
    fastcgi_temp_path $NGINX_DIR/tmp/fastcgi;
    uwsgi_temp_path $NGINX_DIR/tmp/uwsgi;
    scgi_temp_path $NGINX_DIR/tmp/scgi;
    server {
        listen 127.0.0.1:$port reuseport;
        root $NGINX_DIR/root;
        location / { try_files /body =404; }
    }
}
NGINX_CONF
    cp "$NGINX_DIR/nginx.conf" "$RESULTS/nginx.conf"   # the last one; they differ in port and type only
    "$(nginx_bin)" -p "$NGINX_DIR" -e "$NGINX_DIR/error.log" -c "$NGINX_DIR/nginx.conf" \
        -g 'daemon off;' 2>>"$RESULTS/nginx.log" &
    NGINX_PID=$!
    NGINX_URL="http://127.0.0.1:$port"
    NGINX_USED=1
    local i
    for i in $(seq 1 50); do        # 10 s
        if curl -sf -o /dev/null --max-time 1 "$NGINX_URL/"; then
            cmp -s "$file" <(curl -sf --max-time 2 "$NGINX_URL/x?y=1") || die "nginx does not serve the expected bytes"
            [ "$(curl -sf --max-time 2 -D "$NGINX_DIR/head" -o /dev/null -w '%{content_type}' "$NGINX_URL/x")" = "$type" ] \
                || die "nginx does not serve Content-Type $type"
            # Both heads, to see what else differs between the two answers.
            cp "$NGINX_DIR/head" "$RESULTS/$(basename "$file").nginx.head"
            [ ! -f "$file.head" ] || cp "$file.head" "$RESULTS/$(basename "$file").ours.head"
            log "nginx pid $NGINX_PID on $NGINX_URL ($type)"
            return 0
        fi
        kill -0 "$NGINX_PID" 2>/dev/null || { cat "$NGINX_DIR/error.log" >&2 || true; NGINX_PID=""; die "nginx exited at start"; }
        sleep 0.2
    done
    die "nginx did not answer within 10 s"
}

stop_nginx() {
    [ -n "$NGINX_PID" ] || return 0
    local pid="$NGINX_PID" i line
    NGINX_PID=""
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    # A warning (e.g. a directive nginx ignored) makes its figures suspect too: into the notes,
    # without the timestamp, each distinct one once.
    while IFS= read -r line; do NOTES+=("nginx: $line"); done \
        < <(grep -E '\[(warn|error|crit|alert|emerg)\]' "$NGINX_DIR/error.log" 2>/dev/null \
            | cut -d' ' -f3- | sed 's/^[0-9#]*: //' | sort | uniq -c | sed 's/^ *//' || true)
    cat "$NGINX_DIR/error.log" >>"$RESULTS/nginx.log" 2>/dev/null || true
}

# start_background CMD [ARGS...]: run a helper (e.g. a writer loop) that is
# killed on exit. Its pid is in LAST_BG_PID.
start_background() {
    "$@" &
    LAST_BG_PID=$!
    BG_PIDS+=("$LAST_BG_PID")
}

stop_background() {
    local pid
    for pid in "${BG_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${BG_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    BG_PIDS=()
}

# ---------------------------------------------------------------- the load-balanced example

# start_lb DATABASE [more serve flags...]  -> LB_URL, LB_DIR
# scripts/lb-example.sh: two instances of BINARY on DATABASE (a SQLite file, or a postgres:// URL), with
# nginx (deploy/nginx-lb.conf, as shipped) in front. The instances get the flags start_server gives ours.
start_lb() {
    local database="$1" out
    shift
    stop_lb
    out="$(DATABASE="$database" TRADE_TRACKER_BIN="$BINARY" TRADE_TRACKER_APP_ROOT="$APP_ROOT" \
        LB_SERVE_FLAGS="--access-log off --rate-limit 0 $*" timeout 120 bash "$ROOT/scripts/lb-example.sh" start \
        2>>"$RESULTS/lb-example.log")" || { tail -5 "$RESULTS/lb-example.log" >&2; die "scripts/lb-example.sh start failed"; }
    LB_URL="$(sed -n 's/^export LB_URL=//p' <<<"$out")"
    LB_DIR="$(sed -n 's/^export LB_DIR=//p' <<<"$out")"
    [ -n "$LB_URL" ] && [ -n "$LB_DIR" ] || die "scripts/lb-example.sh start printed no LB_URL/LB_DIR: $out"
    cp "$LB_DIR/nginx.conf" "$RESULTS/nginx-lb.conf"
    log "load-balanced example on $LB_URL ($LB_DIR)"
}

# lb_hwm: peak RSS of each of the example's instances so far, e.g. "a 14.2 MB, b 13.9 MB"
lb_hwm() {
    local name pid port out=()
    while read -r name pid port; do
        [ "$name" = nginx ] || out+=("$name $(SERVER_PID=$pid server_hwm)")
    done <"$LB_DIR/pids"
    local joined
    joined="$(printf '%s, ' "${out[@]}")"
    echo "${joined%, }"
}

stop_lb() {
    [ -n "$LB_DIR" ] || return 0
    local dir="$LB_DIR" line
    LB_DIR="" LB_URL=""
    [ -d "$dir" ] || return 0
    FOOTER+=("${CURRENT_SCENARIO:-lb}: load-balanced instances' peak RSS (VmHWM) just before stop: $(LB_DIR=$dir lb_hwm)")
    mkdir -p "$RESULTS/lb-logs"
    # nginx's access log holds a line per request of the run (hundreds of MB): its last 1,000 lines only.
    find "$dir/logs" -maxdepth 1 -type f ! -name access.log -exec cp {} "$RESULTS/lb-logs/" \; 2>/dev/null || true
    tail -n 1000 "$dir/logs/access.log" >"$RESULTS/lb-logs/access.log.tail" 2>/dev/null || true
    while IFS= read -r line; do NOTES+=("lb nginx: $line"); done \
        < <(grep -E '\[(warn|error|crit|alert|emerg)\]' "$dir/logs/error.log" 2>/dev/null \
            | cut -d' ' -f3- | sed 's/^[0-9#]*: //' | sort | uniq -c | sed 's/^ *//' || true)
    timeout 60 bash "$ROOT/scripts/lb-example.sh" stop "$dir" 2>>"$RESULTS/lb-example.log" \
        || NOTES+=("scripts/lb-example.sh stop failed (see $RESULTS/lb-example.log)")
}

# ---------------------------------------------------------------- wrk

# to_ms VALUE: wrk's "512.00us" / "1.23ms" / "2.00s" / "1.00m" -> milliseconds
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v == "") { print "n/a"; exit }
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000
        else if (u == "m") n *= 60000; else if (u == "h") n *= 3600000
        printf "%.2f", n }'
}

# run_wrk URL CONNECTIONS [NAME [DURATION [extra wrk args...]]]
#   -> WRK_RPS, WRK_P50, WRK_P99 (ms), WRK_SECONDS, WRK_FILE; raw output in $RESULTS/NAME.txt
# Socket errors and non-2xx/3xx responses are added to NOTES.
run_wrk() {
    local url="$1" conns="$2" name="${3:-wrk-c$2}" dur="${4:-$DURATION}"
    shift $(( $# < 4 ? $# : 4 ))
    local rc=0
    wrk_bounded "$url" "$conns" "$dur" "$@" >"$RESULTS/$name.txt" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || NOTES+=("$name: wrk exited with status $rc")
    parse_wrk "$name"
}

# wrk_bounded URL CONNECTIONS DURATION [extra wrk args...]: one wrk run, killed if it overruns by 30 s.
wrk_bounded() {
    local url="$1" conns="$2" dur="$3"
    shift 3
    timeout $((dur + 30)) wrk -t"$(wrk_threads "$conns")" -c"$conns" -d"${dur}s" --latency "$@" "$url"
}

# wrk_threads CONNECTIONS: BENCH_THREADS, but no more than the connections (wrk refuses that)
wrk_threads() { echo $(( $1 < THREADS ? $1 : THREADS )); }

# parse_wrk NAME: read $RESULTS/NAME.txt -> WRK_RPS, WRK_P50, WRK_P99 (ms), WRK_SECONDS, WRK_FILE;
# socket errors and non-2xx/3xx responses are added to NOTES.
parse_wrk() {
    local name="$1"
    WRK_FILE="$RESULTS/$name.txt"
    WRK_RPS="$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$WRK_FILE")"
    WRK_SECONDS="$(awk '/ requests in / { v = $4; sub(/,$/, "", v); print v; exit }' "$WRK_FILE")"
    WRK_SECONDS="$(to_ms "$WRK_SECONDS")"
    [ "$WRK_SECONDS" = n/a ] || WRK_SECONDS="$(awk -v m="$WRK_SECONDS" 'BEGIN { printf "%.3f", m / 1000 }')"
    WRK_P50="$(to_ms "$(awk '$1 == "50%" { print $2 }' "$WRK_FILE")")"
    WRK_P99="$(to_ms "$(awk '$1 == "99%" { print $2 }' "$WRK_FILE")")"
    [ -n "$WRK_RPS" ] || { WRK_RPS=0; NOTES+=("$name: no Requests/sec in wrk output"); }
    local line
    while IFS= read -r line; do NOTES+=("$name: ${line#"${line%%[![:space:]]*}"}"); done \
        < <(grep -E 'Socket errors|Non-2xx' "$WRK_FILE" || true)
}

# ratio A B -> A/B with two decimals
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'
}

# measure_pair SCENARIO PATH CONNECTIONS [extra wrk args...]
# Warms up both servers, then measures both on PATH (the side measured first
# alternates from one call to the next) and adds one row to the table.
# Needs start_server and start_nginx done. Our side's figures stay in PAIR_RPS, PAIR_P50, PAIR_P99.
measure_pair() {
    local scen="$1" path="$2" conns="$3"
    shift 3
    measure_sides "$scen-c$conns" "$path" "$conns" ours nginx "$@"
    kill -0 "$SERVER_PID" 2>/dev/null || die "server died during $scen-c$conns (see $RESULTS/server.log)"
    PAIR_RPS=$FIRST_RPS PAIR_P50=$FIRST_P50 PAIR_P99=$FIRST_P99
    add_row "$scen" "$path" "$conns" "$FIRST_RPS" "$FIRST_P50" "$FIRST_P99" "$SECOND_RPS" "$SECOND_P50" "$SECOND_P99" \
        "$(ratio "$FIRST_RPS" "$SECOND_RPS")" "$(server_hwm)"
}

# measure_sides TAG PATH CONNECTIONS FIRST SECOND [extra wrk args...]
# A warm-up of each side, then a measured run of each on PATH, the side that goes first alternating from one
# call to the next. Sides are names side_url knows. -> FIRST_RPS/P50/P99 and SECOND_RPS/P50/P99 (ms)
measure_sides() {
    local tag="$1" path="$2" conns="$3" first="$4" second="$5"
    shift 5
    local sides=("$first" "$second") side
    [ $((PAIR_COUNT % 2)) -eq 0 ] || sides=("$second" "$first")
    PAIR_COUNT=$((PAIR_COUNT + 1))
    for side in "${sides[@]}"; do
        log "$tag: warm-up $side ${WARMUP}s"
        run_wrk "$(side_url "$side")$path" "$conns" "$tag-$side-warmup" "$WARMUP" "$@"
    done
    for side in "${sides[@]}"; do
        log "$tag: measure $side ${DURATION}s"
        run_wrk "$(side_url "$side")$path" "$conns" "$tag-$side" "$DURATION" "$@"
        if [ "$side" = "$first" ]; then FIRST_RPS=$WRK_RPS FIRST_P50=$WRK_P50 FIRST_P99=$WRK_P99
        else SECOND_RPS=$WRK_RPS SECOND_P50=$WRK_P50 SECOND_P99=$WRK_P99; fi
    done
}

ROW_FORMAT='%-10s %-24s %5s  %9s %7s %7s  %9s %7s %7s  %5s  %9s'
# add_row SCENARIO PATH CONNS OURS_RPS P50 P99 NGINX_RPS P50 P99 RATIO HWM
add_row() {
    # shellcheck disable=SC2059
    ROWS+=("$(printf "$ROW_FORMAT" "$@")")
}

# side_url SIDE: ours (start_server), nginx (start_nginx) or lb (start_lb)
side_url() {
    case "$1" in
        ours) echo "$SERVER_URL" ;;
        nginx) echo "$NGINX_URL" ;;
        lb) echo "$LB_URL" ;;
        *) die "unknown side $1" ;;
    esac
}

# ---------------------------------------------------------------- scenarios

# healthz (issue 2): the whole middleware chain on the cheapest route,
# against nginx serving the same bytes as a static file.
scenario_healthz() {
    start_server
    fetch_body "$SERVER_URL/healthz" "$WORK/healthz.body"
    start_nginx "$WORK/healthz.body"
    measure_pair healthz /healthz 64
    measure_pair healthz /healthz 256
}

# Issue 3: one row read from SQLite and a 50-row list, over 1,000 rounds seeded through the API.
scenario_rounds() {
    local token="bench-writer-token-0123456789"
    TRADE_TRACKER_TOKENS="bench:write:$token" start_server
    log "seeding 1,000 rounds through the API"
    timeout 300 python3 "$ROOT/bench/seed_rounds.py" "$SERVER_URL" "$token" 1000 >/dev/null \
        || die "seeding rounds failed"
    fetch_body "$SERVER_URL/v1/rounds/500" "$WORK/round.body"
    start_nginx "$WORK/round.body"
    measure_pair rounds /v1/rounds/500 64
    fetch_body "$SERVER_URL/v1/rounds?limit=50" "$WORK/rounds-list.body"
    start_nginx "$WORK/rounds-list.body"
    measure_pair rounds "/v1/rounds?limit=50" 64
}

# Issue 4: a wall of dashboards polling /v1/status with If-None-Match (mostly 304s) while one client
# writes a change per second; then GET /v1/rounds/1 with and without 500 open SSE streams.
scenario_dashboard() {
    local token="bench-writer-token-0123456789" streams=500
    TRADE_TRACKER_TOKENS="bench:write:$token" start_server --demo --demo-file "$APP_ROOT/demo/us-china-2025.json"
    local writer_seconds=$((3 * (WARMUP + DURATION) + 20))
    start_background timeout $((writer_seconds + 10)) python3 "$ROOT/bench/writer.py" "$SERVER_URL" "$token" "$writer_seconds"
    log "dashboard: 64 pollers on /v1/status with If-None-Match, one write a second"
    run_wrk "$SERVER_URL/v1/status" 64 dashboard-status-warmup "$WARMUP" -s "$ROOT/bench/status.lua"
    run_wrk "$SERVER_URL/v1/status" 64 dashboard-status "$DURATION" -s "$ROOT/bench/status.lua"
    add_row dashboard "/v1/status (304s)" 64 "$WRK_RPS" "$WRK_P50" "$WRK_P99" - - - - "$(server_hwm)"

    log "dashboard: GET /v1/rounds/1 without streams"
    run_wrk "$SERVER_URL/v1/rounds/1" 64 dashboard-round-warmup "$WARMUP"
    run_wrk "$SERVER_URL/v1/rounds/1" 64 dashboard-round-no-streams "$DURATION"
    add_row dashboard "/v1/rounds/1 0 SSE" 64 "$WRK_RPS" "$WRK_P50" "$WRK_P99" - - - - "$(server_hwm)"
    log "dashboard: opening $streams SSE streams"
    local held="$WORK/streams.txt"
    start_background timeout $((DURATION + 30)) python3 "$ROOT/bench/hold_streams.py" 127.0.0.1 "$SERVER_PORT" "$streams" $((DURATION + 8)) >"$held"
    sleep 3
    run_wrk "$SERVER_URL/v1/rounds/1" 64 dashboard-round-with-streams "$DURATION"
    add_row dashboard "/v1/rounds/1 ${streams} SSE" 64 "$WRK_RPS" "$WRK_P50" "$WRK_P99" - - - - "$(server_hwm)"
    wait "$LAST_BG_PID" 2>/dev/null || true
    FOOTER+=("dashboard: SSE holder after the run: $(cat "$held" 2>/dev/null || echo 'no report') (one write a second, each event sent to every stream)")
}

# parse_posts NAME: read post_source.lua's done() line from $RESULTS/NAME.txt (parse_wrk NAME first)
#   -> POST_CREATED, POST_OTHER, POST_SENT, POST_RATE (201s per second of the run);
# adds the run's 201s to ACKNOWLEDGED and its unanswered requests to IN_FLIGHT.
parse_posts() {
    local name="$1" line
    line="$(grep '^post_source:' "$RESULTS/$name.txt" || true)"
    [ -n "$line" ] || { NOTES+=("$name: no post_source line in wrk output"); line="created=0 other=0 sent=0"; }
    POST_CREATED="$(sed -n 's/.*created=\([0-9]*\).*/\1/p' <<<"$line")"
    POST_OTHER="$(sed -n 's/.*other=\([0-9]*\).*/\1/p' <<<"$line")"
    POST_SENT="$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' <<<"$line")"
    POST_RATE="$(awk -v n="$POST_CREATED" -v s="$WRK_SECONDS" 'BEGIN { if (s + 0 == 0) print 0; else printf "%.0f", n / s }')"
    [ "$POST_OTHER" -eq 0 ] || NOTES+=("$name: $POST_OTHER answers other than 201 (${line#*statuses: })")
    ACKNOWLEDGED=$((ACKNOWLEDGED + POST_CREATED))
    IN_FLIGHT=$((IN_FLIGHT + POST_SENT - POST_CREATED - POST_OTHER))
}

# run_posts CONNECTIONS NAME DURATION [URL]: POST /v1/sources in a loop (needs BENCH_TOKEN) to URL (default
# SERVER_URL) -> see parse_posts
run_posts() {
    BENCH_TAG="$2" run_wrk "${4:-$SERVER_URL}" "$1" "$2" "$3" -s "$ROOT/bench/post_source.lua"
    parse_posts "$2"
}

# check_stored SCENARIO: count the sources and their change-log rows in the database and compare
# them with the 201s the clients saw.
check_stored() {
    local stored logged
    stored="$(count_rows 'SELECT count(*) FROM sources')"
    logged="$(count_rows "SELECT count(*) FROM change_log WHERE resource = 'sources' AND action = 'created'")"
    FOOTER+=("$1: acknowledged $ACKNOWLEDGED, stored $stored (SELECT count(*) FROM sources; $logged in the change log; $IN_FLIGHT requests were unanswered when wrk stopped)")
    [ "$stored" -ge "$ACKNOWLEDGED" ] || NOTES+=("$1: LOST WRITES: $ACKNOWLEDGED acknowledged but only $stored stored")
    [ "$stored" -le $((ACKNOWLEDGED + IN_FLIGHT)) ] || NOTES+=("$1: $stored stored is more than $ACKNOWLEDGED acknowledged + $IN_FLIGHT in flight")
    [ "$logged" -eq "$stored" ] || NOTES+=("$1: $stored sources but $logged 'created' rows in the change log")
}

# Commits per second of POST /v1/sources at --synchronous full (the default), with one writer
# connection and with 32; then the rows in the database against the 201s the clients saw.
scenario_writes() {
    local token="bench-writer-token-0123456789" c rate1=0 rate32=0
    TRADE_TRACKER_TOKENS="bench:write:$token" start_server --synchronous full
    ACKNOWLEDGED=0 IN_FLIGHT=0
    export BENCH_TOKEN="$token"
    for c in 1 32; do
        log "writes: POST /v1/sources, $c connection(s), warm-up ${WARMUP}s, measure ${DURATION}s"
        run_posts "$c" "writes-c$c-warmup" "$WARMUP"
        run_posts "$c" "writes-c$c" "$DURATION"
        add_row writes "POST /v1/sources (201/s)" "$c" "$POST_RATE" "$WRK_P50" "$WRK_P99" - - - - "$(server_hwm)"
        if [ "$c" = 1 ]; then rate1="$POST_RATE"; else rate32="$POST_RATE"; fi
    done
    unset BENCH_TOKEN
    kill -0 "$SERVER_PID" 2>/dev/null || die "server died during writes (see $RESULTS/server.log)"
    FOOTER+=("writes: commits/s at --synchronous full: 1 connection $rate1, 32 connections $rate32, ratio 32 ÷ 1 $(ratio "$rate32" "$rate1")")
    check_stored writes
    FOOTER+=("writes: this disk: $(fsync_rate "$(dirname "$SERVER_DB")") (one writer commits at most about this often without group commit)")
}

# fsync_rate DIR: how many 4 KiB write + fdatasync pairs one thread gets through in a second in DIR
fsync_rate() {
    timeout 10 python3 -c 'import os, sys, time
path = os.path.join(sys.argv[1], "fsync-probe")
fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
n, end = 0, time.monotonic() + 1
while time.monotonic() < end:
    os.pwrite(fd, b"x" * 4096, 4096 * (n % 16)); os.fdatasync(fd); n += 1
os.close(fd); os.unlink(path)
print(f"{n} fdatasync/s of a 4 KiB write")' "$1" || echo "fsync probe failed"
}

# GET /v1/sources/1 with 16 connections alone (beside nginx), then the same read load while 32
# writer connections POST /v1/sources (a second wrk, same duration, started just before).
scenario_mixed() {
    local token="bench-writer-token-0123456789"
    TRADE_TRACKER_TOKENS="bench:write:$token" start_server
    curl -sf --max-time 5 -o /dev/null -X POST "$SERVER_URL/v1/sources" -H "Authorization: Bearer $token" \
        -H 'Content-Type: application/json' -d '{"title":"mixed benchmark: the source every reader reads"}' \
        || die "could not create the source to read"
    ACKNOWLEDGED=1 IN_FLIGHT=0
    fetch_body "$SERVER_URL/v1/sources/1" "$WORK/source.body"
    start_nginx "$WORK/source.body"
    measure_pair mixed /v1/sources/1 16
    local alone_rps="$PAIR_RPS" alone_p99="$PAIR_P99"
    stop_nginx

    export BENCH_TOKEN="$token"
    log "mixed: writers warm-up ${WARMUP}s"
    run_posts 32 mixed-writers-warmup "$WARMUP"
    log "mixed: 16 readers on /v1/sources/1 while 32 writers POST /v1/sources, ${DURATION}s"
    local writers_rc=0
    # timeout wrk itself, not a function, so the pid start_background keeps is the one to signal.
    BENCH_TAG=mixed-writers start_background timeout $((DURATION + 30)) \
        wrk -t"$(wrk_threads 32)" -c32 -d"${DURATION}s" --latency -s "$ROOT/bench/post_source.lua" "$SERVER_URL" \
        >"$RESULTS/mixed-writers.txt" 2>&1
    local writers="$LAST_BG_PID"
    run_wrk "$SERVER_URL/v1/sources/1" 16 mixed-reads-under-writes "$DURATION"
    local under_rps="$WRK_RPS" under_p50="$WRK_P50" under_p99="$WRK_P99"
    wait "$writers" || writers_rc=$?
    [ "$writers_rc" -eq 0 ] || NOTES+=("mixed-writers: wrk exited with status $writers_rc")
    unset BENCH_TOKEN
    parse_wrk mixed-writers
    parse_posts mixed-writers
    kill -0 "$SERVER_PID" 2>/dev/null || die "server died during mixed (see $RESULTS/server.log)"
    add_row mixed "/v1/sources/1 +32 writers" 16 "$under_rps" "$under_p50" "$under_p99" - - - - "$(server_hwm)"
    add_row mixed "POST /v1/sources (201/s)" 32 "$POST_RATE" "$WRK_P50" "$WRK_P99" - - - - "$(server_hwm)"
    FOOTER+=("mixed: reads under 32 writers ÷ reads alone: req/s $(ratio "$under_rps" "$alone_rps"), p99 $(ratio "$under_p99" "$alone_p99") (alone $alone_rps req/s p99 $alone_p99 ms, under writes $under_rps req/s p99 $under_p99 ms); writers committed $POST_RATE/s meanwhile")
    check_stored mixed
}

# Issue 13: the rounds and writes loads through nginx over two instances sharing one database
# (scripts/lb-example.sh with deploy/nginx-lb.conf as shipped) beside the same loads on one instance, in the
# same run. The reads alternate which side goes first; the writes run on one instance, then through nginx.
# BENCH_LB_DATABASE=postgres://… puts the two instances on PostgreSQL; by default they share a SQLite file.
scenario_lb() {
    local token="bench-writer-token-0123456789" database="${BENCH_LB_DATABASE:-}" engine side path c
    if [ -n "$database" ]; then engine="PostgreSQL"; else mkdir -p "$WORK/lb"; database="$WORK/lb/bench.sqlite"; engine="one SQLite file"; fi
    TRADE_TRACKER_TOKENS="bench:write:$token" start_server
    TRADE_TRACKER_TOKENS="bench:write:$token" start_lb "$database"
    for side in ours lb; do
        log "lb: seeding 1,000 rounds through $side"
        timeout 300 python3 "$ROOT/bench/seed_rounds.py" "$(side_url "$side")" "$token" 1000 >/dev/null \
            || die "seeding rounds through $side failed"
    done
    local summary=()
    for path in /v1/rounds/500 "/v1/rounds?limit=50"; do
        measure_sides "lb-$( [ "$path" = /v1/rounds/500 ] && echo round || echo list )-c64" "$path" 64 ours lb
        add_row "lb 1 inst" "$path" 64 "$FIRST_RPS" "$FIRST_P50" "$FIRST_P99" - - - - "$(server_hwm)"
        add_row "lb nginx+2" "$path" 64 "$SECOND_RPS" "$SECOND_P50" "$SECOND_P99" - - - "$(ratio "$SECOND_RPS" "$FIRST_RPS")" -
        summary+=("GET $path $(ratio "$SECOND_RPS" "$FIRST_RPS")")
    done
    export BENCH_TOKEN="$token"
    local -A rate=() p50=() p99=()
    for side in ours lb; do
        ACKNOWLEDGED=0 IN_FLIGHT=0
        for c in 1 32; do
            log "lb: POST /v1/sources through $side, $c connection(s), warm-up ${WARMUP}s, measure ${DURATION}s"
            run_posts "$c" "lb-writes-$side-c$c-warmup" "$WARMUP" "$(side_url "$side")"
            run_posts "$c" "lb-writes-$side-c$c" "$DURATION" "$(side_url "$side")"
            rate[$side$c]=$POST_RATE p50[$side$c]=$WRK_P50 p99[$side$c]=$WRK_P99
        done
        if [ "$side" = ours ]; then check_stored "lb (one instance)"
        elif [ -f "$database" ]; then SERVER_DB="$database" check_stored "lb (nginx + 2 instances)"
        else FOOTER+=("lb: acknowledged $ACKNOWLEDGED through nginx (rows on PostgreSQL are not counted here)"); fi
    done
    unset BENCH_TOKEN
    for c in 1 32; do
        add_row "lb 1 inst" "POST /v1/sources (201/s)" "$c" "${rate[ours$c]}" "${p50[ours$c]}" "${p99[ours$c]}" - - - - "$(server_hwm)"
        add_row "lb nginx+2" "POST /v1/sources (201/s)" "$c" "${rate[lb$c]}" "${p50[lb$c]}" "${p99[lb$c]}" - - - \
            "$(ratio "${rate[lb$c]}" "${rate[ours$c]}")" -
        summary+=("POST c$c $(ratio "${rate[lb$c]}" "${rate[ours$c]}")")
    done
    kill -0 "$SERVER_PID" 2>/dev/null || die "server died during lb (see $RESULTS/server.log)"
    local IFS=';'
    FOOTER+=("lb: nginx over 2 instances on $engine ÷ 1 instance on its own SQLite file (ratio column of the 'lb nginx+2' rows):${summary[*]/#/ }")
}

# ---------------------------------------------------------------- main

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_background || true
    stop_nginx || true
    stop_lb || true
    stop_server || true
    [ -z "$WORK" ] || rm -rf "$WORK"
    exit "$rc"
}

print_table() {
    # shellcheck disable=SC2059
    printf "$ROW_FORMAT\n" \
        scenario path conns "ours r/s" "p50 ms" "p99 ms" "nginx r/s" "p50 ms" "p99 ms" ratio "ours HWM"
    local row
    for row in "${ROWS[@]}"; do printf '%s\n' "$row"; done
    printf 'ratio = ours req/s / nginx req/s in the same run; HWM = server peak RSS (VmHWM) so far\n'
    [ "$NGINX_USED" = 0 ] || printf 'nginx config: tuned (%s); %s\n' "$NGINX_SUMMARY" "${RESULTS#"$ROOT"/}/nginx.conf"
    for row in "${FOOTER[@]}"; do printf '%s\n' "$row"; done
    printf 'wrk -t%s -d%ss --latency after %ss warm-up; raw output: %s\n' "$THREADS" "$DURATION" "$WARMUP" "${RESULTS#"$ROOT"/}"
    if [ ${#NOTES[@]} -gt 0 ]; then
        printf 'notes:\n'
        for row in "${NOTES[@]}"; do printf '  %s\n' "$row"; done
    fi
}

main() {
    local all=() s
    mapfile -t all < <(compgen -A function scenario_ | sed 's/^scenario_//')
    local want=("$@")
    [ ${#want[@]} -gt 0 ] || want=("${all[@]}")
    for s in "${want[@]}"; do
        declare -F "scenario_$s" >/dev/null || die "unknown scenario '$s' (have: ${all[*]})"
    done

    mkdir -p "$RESULTS"
    WORK="$(mktemp -d "${TMPDIR:-/tmp}/trade-tracker-bench.XXXXXX")"
    chmod 755 "$WORK"
    trap cleanup EXIT INT TERM
    ulimit -n 65536 2>/dev/null || ulimit -n 8192 2>/dev/null || true

    ensure_tools
    build_release "$RESULTS/build.log"
    {
        echo "date: $(date -u +%FT%TZ)"
        echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo n/a)"
        echo "binary: $(binary_info)"
        echo "cores: $(nproc)"
        echo "wrk: $(wrk -v 2>&1 | head -1)"
        echo "nginx: $("$(nginx_bin)" -v 2>&1)"
    } >"$RESULTS/env.txt"

    for s in "${want[@]}"; do
        log "scenario $s"
        CURRENT_SCENARIO="$s"
        "scenario_$s"
        stop_background; stop_nginx; stop_lb; stop_server   # whatever the scenario left running
    done
    print_table | tee "$RESULTS/summary.txt"
    # With the four scenarios issue 8 sets targets for, say which held in this run (bench/targets.py).
    local has=" ${want[*]} "
    if [[ "$has" == *" healthz "* && "$has" == *" rounds "* && "$has" == *" writes "* && "$has" == *" mixed "* ]]; then
        python3 "$ROOT/bench/targets.py" "$RESULTS/summary.txt" | tee "$RESULTS/targets.txt" || true
    fi
}

main "$@"
