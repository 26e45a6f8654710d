#!/usr/bin/env bash
# Instructions per request of the release build, counted by valgrind's callgrind.
#
#   bash bench/callgrind.sh [PATH ...]     (default: /healthz /v1/rounds/500 '/v1/rounds?limit=50')
#
# 1. The native server seeds a fresh database through the API as bench/run.sh's rounds scenario does
#    (one negotiation, 1,000 rounds), then stops.
# 2. The same binary starts under callgrind on that database (--access-log off).
# 3. Per path: WARMUP requests (not counted), then two measured windows of N and 2N requests on one
#    keep-alive connection (bench/keepalive_get.py), each between `callgrind_control -z` (zero the
#    counters) and `callgrind_control -d` (dump them). Instructions per request =
#    (Ir of the 2N window - Ir of the N window) / N, so what every window pays once (the connection's
#    accept and set-up, callgrind_control's own interruption) cancels. Start-up and seeding are
#    outside every window anyway.
#
# Environment:
#   CALLGRIND_REQUESTS=2000         N
#   CALLGRIND_WARMUP_REQUESTS=200   requests before the first window of each path
#   BENCH_BINARY, BENCH_APP_ROOT, BENCH_SKIP_BUILD   as for bench/run.sh
#   BENCH_RESULTS=DIR               where the dumps go (default bench/results/callgrind-TIMESTAMP)
#
# callgrind runs the server ~50x slower; every step is bounded by `timeout`. Dumps stay in the results
# folder for callgrind_annotate (see bench/README.md).
set -euo pipefail

CALLER_PWD="$PWD"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

N="${CALLGRIND_REQUESTS:-2000}"
WARM="${CALLGRIND_WARMUP_REQUESTS:-200}"
RESULTS="${BENCH_RESULTS:-$ROOT/bench/results/callgrind-$(date -u +%Y%m%dT%H%M%SZ)}"
TOKEN="bench-writer-token-0123456789"
PATHS=("$@")
[ ${#PATHS[@]} -gt 0 ] || PATHS=(/healthz /v1/rounds/500 "/v1/rounds?limit=50")

WORK=""
SERVER_PID=""
DUMPS=0            # callgrind numbers its dumps PREFIX.PID.1, .2, ...

ensure_tools() {
    local sudo="" missing=() tool
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    for tool in valgrind curl python3; do command -v "$tool" >/dev/null || missing+=("$tool"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# start CMD...: start a server command on PORT and wait (bounded) for /healthz -> SERVER_PID
start() {
    local wait_s="$1"
    shift
    "$@" >>"$RESULTS/server.log" 2>&1 &
    SERVER_PID=$!
    local i
    for i in $(seq 1 $((wait_s * 5))); do
        curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/healthz" && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$RESULTS/server.log" >&2; SERVER_PID=""; die "server exited at start"; }
        sleep 0.2
    done
    die "server did not answer /healthz within $wait_s s"
}

stop() {
    [ -n "$SERVER_PID" ] || return 0
    local pid="$SERVER_PID" i
    SERVER_PID=""
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done   # 60 s: callgrind writes its last dump
    kill -0 "$pid" 2>/dev/null && { log "server did not stop within 60 s; killed"; kill -KILL "$pid" 2>/dev/null || true; }
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop || true
    [ -z "$WORK" ] || rm -rf "$WORK"
    exit "$rc"
}

# window LABEL PATH COUNT -> IR: instructions callgrind counted while COUNT requests were answered
window() {
    local label="$1" path="$2" count="$3"
    timeout 60 callgrind_control -z "$SERVER_PID" >>"$RESULTS/callgrind_control.log" 2>&1 || die "callgrind_control -z failed"
    timeout $((60 + count / 10)) python3 "$ROOT/bench/keepalive_get.py" 127.0.0.1 "$PORT" "$path" "$count" >&2 \
        || die "client failed on $path"
    timeout 60 callgrind_control -d "$label" "$SERVER_PID" >>"$RESULTS/callgrind_control.log" 2>&1 || die "callgrind_control -d failed"
    DUMPS=$((DUMPS + 1))
    local dump="$RESULTS/callgrind.out.$SERVER_PID.$DUMPS"
    grep -qxF "desc: Trigger: dump $label" "$dump" 2>/dev/null || die "$dump is not the dump for $label"
    IR="$(awk '/^summary:/ { print $2; exit }' "$dump")"
    [ -n "$IR" ] || die "no summary line in $dump"
    mv "$dump" "$RESULTS/callgrind.$label.out"
}

main() {
    mkdir -p "$RESULTS"
    WORK="$(mktemp -d "${TMPDIR:-/tmp}/trade-tracker-callgrind.XXXXXX")"
    trap cleanup EXIT INT TERM
    ensure_tools
    build_release "$RESULTS/build.log"
    PORT="$(free_port)"
    local serve=("$BINARY" serve --host 127.0.0.1 --port "$PORT" --database "$WORK/bench.sqlite"
        --migrations "$APP_ROOT/migrations" --openapi "$APP_ROOT/openapi.yaml" --access-log off --rate-limit 0)
    {
        echo "date: $(date -u +%FT%TZ)"
        echo "binary: $(binary_info)"
        echo "valgrind: $(valgrind --version)"
        echo "requests per window: $N and $((2 * N)), warm-up $WARM"
    } >"$RESULTS/env.txt"

    log "seeding 1,000 rounds with the native server"
    TRADE_TRACKER_TOKENS="bench:write:$TOKEN" start 30 "${serve[@]}"
    timeout 300 python3 "$ROOT/bench/seed_rounds.py" "http://127.0.0.1:$PORT" "$TOKEN" 1000 >/dev/null \
        || die "seeding rounds failed"
    stop

    log "starting the server under callgrind"
    # --compress-strings=no: each dump names its own functions, so callgrind_annotate can read any one alone.
    start 180 valgrind --tool=callgrind --compress-strings=no --callgrind-out-file="$RESULTS/callgrind.out.%p" \
        "${serve[@]}"

    local rows=() path slug ir1 ir2 per single
    for path in "${PATHS[@]}"; do
        slug="$(tr -c 'a-zA-Z0-9\n' '_' <<<"${path#/}")"
        log "$path: $WARM warm-up requests, then windows of $N and $((2 * N))"
        timeout $((60 + WARM / 10)) python3 "$ROOT/bench/keepalive_get.py" 127.0.0.1 "$PORT" "$path" "$WARM" >&2 \
            || die "warm-up failed on $path"
        window "$slug-$N" "$path" "$N"; ir1="$IR"
        window "$slug-$((2 * N))" "$path" $((2 * N)); ir2="$IR"
        per="$(awk -v a="$ir1" -v b="$ir2" -v n="$N" 'BEGIN { printf "%.0f", (b - a) / n }')"
        single="$(awk -v a="$ir1" -v n="$N" 'BEGIN { printf "%.0f", a / n }')"
        rows+=("$(printf '%-24s %8s %22s %16s %16s %16s' "$path" "$N" "$per" "$single" "$ir1" "$ir2")")
    done
    local pid="$SERVER_PID"
    stop
    rm -f "$RESULTS/callgrind.out.$pid"   # the exit dump: shutdown and the gaps between windows only

    {
        printf '%-24s %8s %22s %16s %16s %16s\n' path requests instructions/request "Ir(N)/N" "Ir(N)" "Ir(2N)"
        printf '%s\n' "${rows[@]}"
        printf 'instructions/request = (Ir(2N) - Ir(N)) / N, all threads, %s under callgrind; Ir(N)/N also counts what a window pays once\n' \
            "$(basename "$BINARY")"
        printf 'dumps: %s (callgrind_annotate FILE)\n' "${RESULTS#"$ROOT"/}"
    } | tee "$RESULTS/summary.txt"
}

main
