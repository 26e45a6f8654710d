#!/usr/bin/env bash
# The load-balanced example: two trade-tracker instances sharing one database, with nginx in front
# (deploy/nginx-lb.conf), all on free 127.0.0.1 ports.
#
#   eval "$(DATABASE=/tmp/tt/lb.sqlite scripts/lb-example.sh start)"
#   curl -s "$LB_URL/v1/rounds"                 # through nginx; $LB_INSTANCE_A / $LB_INSTANCE_B directly
#   scripts/lb-example.sh stop                  # nginx, then both instances; removes the run's folder
#
# start prints export lines for LB_URL, LB_INSTANCE_A, LB_INSTANCE_B and LB_DIR (the run's folder:
# nginx.conf, logs/, pids) on stdout, and what it does on stderr. stop and status find the run from
# their argument, else $LB_DIR, else the one start recorded last.
#
# DATABASE (required): a SQLite file path (both processes share the file in WAL mode; each sees the
# other's commits on its change feed within half a second), or a postgres:// URL where the binary
# takes one (API.md §5b). The first instance migrates it; the second starts when the first answers.
#
# Environment:
#   TRADE_TRACKER_BIN   the server binary (default .build/release/trade-tracker, else .build/debug/...)
#   TRADE_TRACKER_APP_ROOT  the checkout whose migrations/, openapi.yaml and public/ the instances use
#                       (default this one; bench/run.sh passes the one that matches its binary)
#   LB_SERVE_FLAGS      more `serve` flags for both instances, e.g. "--access-log off --rate-limit 0"
#   TRADE_TRACKER_TOKENS and the other TRADE_TRACKER_* variables reach both instances as they are.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly ROOT
APP_ROOT="${TRADE_TRACKER_APP_ROOT:-$ROOT}"
readonly APP_ROOT
readonly RECORD="${TMPDIR:-/tmp}/trade-tracker-lb.current"

say() { printf 'lb-example: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

binary() {
    if [[ -n "${TRADE_TRACKER_BIN:-}" ]]; then echo "$TRADE_TRACKER_BIN"; return; fi
    local candidate
    for candidate in "$ROOT/.build/release/trade-tracker" "$ROOT/.build/debug/trade-tracker"; do
        if [[ -x "$candidate" ]]; then echo "$candidate"; return; fi
    done
    die "no trade-tracker binary: run \`swift build -c release\` or set TRADE_TRACKER_BIN"
}

nginx_bin() { command -v nginx 2>/dev/null || echo /usr/sbin/nginx; }

# wait_for URL PID NAME LOG: until URL/healthz answers (30 s), or PID exits.
wait_for() {
    local url=$1 pid=$2 name=$3 log=$4 i
    for i in $(seq 1 150); do
        if curl -sf -o /dev/null --max-time 1 "$url/healthz"; then return 0; fi
        kill -0 "$pid" 2>/dev/null || { tail -5 "$log" >&2; die "$name exited at start (log: $log)"; }
        sleep 0.2
    done
    die "$name did not answer $url/healthz within 30 s (log: $log)"
}

# start_instance DIR NAME PORT: one `trade-tracker serve`, its pid recorded in DIR/pids.
start_instance() {
    local dir=$1 name=$2 port=$3 log="$2.log"
    local -a extra=()
    read -r -a extra <<<"${LB_SERVE_FLAGS:-}"
    # stdin and stdout away from the caller's: `eval "$(… start)"` waits for stdout to close.
    "$(binary)" serve --host 127.0.0.1 --port "$port" --database "$DATABASE" \
        --migrations "$APP_ROOT/migrations" --openapi "$APP_ROOT/openapi.yaml" --public-dir "$APP_ROOT/public" \
        --trust-proxy "${extra[@]}" </dev/null >>"$dir/logs/$log" 2>&1 &
    echo "$name $! $port" >>"$dir/pids"
    wait_for "http://127.0.0.1:$port" "$!" "instance $name" "$dir/logs/$log"
    say "instance $name (pid $!) on http://127.0.0.1:$port"
}

start_nginx() {
    local dir=$1 port=$2 a=$3 b=$4
    sed -e "s/@LISTEN_PORT@/$port/" -e "s/@INSTANCE_A_PORT@/$a/" -e "s/@INSTANCE_B_PORT@/$b/" \
        "$ROOT/deploy/nginx-lb.conf" >"$dir/nginx.conf"
    ! grep -q '@[A-Z_]*@' "$dir/nginx.conf" || die "deploy/nginx-lb.conf has a placeholder this script does not fill"
    "$(nginx_bin)" -p "$dir/" -c "$dir/nginx.conf" -e "$dir/logs/error.log" -g 'daemon off;' \
        </dev/null >>"$dir/logs/nginx.out" 2>&1 &
    echo "nginx $! $port" >>"$dir/pids"
    wait_for "http://127.0.0.1:$port" "$!" nginx "$dir/logs/error.log"
    say "nginx (pid $!) on http://127.0.0.1:$port"
}

cmd_start() {
    [[ -n "${DATABASE:-}" ]] || die "set DATABASE to a SQLite file path or a postgres:// URL"
    case "$DATABASE" in
        postgres://* | postgresql://*) ;;
        *) mkdir -p "$(dirname "$DATABASE")"; DATABASE="$(cd "$(dirname "$DATABASE")" && pwd)/$(basename "$DATABASE")" ;;
    esac
    local dir a b lb
    dir="$(mktemp -d "${TMPDIR:-/tmp}/tt-lb.XXXXXX")"
    chmod 0755 "$dir"   # nginx's workers run as nobody when we are root
    mkdir -p "$dir/logs" "$dir/tmp"
    : >"$dir/pids"
    # Whatever started is stopped again if a later step fails.
    trap 'stop_run "$dir" >&2' ERR
    trap 'stop_run "$dir" >&2; exit 1' INT TERM
    a=$(free_port); b=$(free_port); lb=$(free_port)
    while [[ $b == "$a" ]]; do b=$(free_port); done
    while [[ $lb == "$a" || $lb == "$b" ]]; do lb=$(free_port); done
    start_instance "$dir" a "$a"
    start_instance "$dir" b "$b"
    start_nginx "$dir" "$lb" "$a" "$b"
    trap - ERR INT TERM
    echo "$dir" >"$RECORD"
    say "http://127.0.0.1:$lb (nginx) -> instances :$a and :$b, database $DATABASE"
    echo "export LB_URL=http://127.0.0.1:$lb"
    echo "export LB_INSTANCE_A=http://127.0.0.1:$a"
    echo "export LB_INSTANCE_B=http://127.0.0.1:$b"
    echo "export LB_DIR=$dir"
}

run_dir() {
    local dir="${1:-${LB_DIR:-}}"
    if [[ -z "$dir" && -f "$RECORD" ]]; then dir=$(cat "$RECORD"); fi
    [[ -n "$dir" ]] || die "no run given, LB_DIR unset and nothing recorded in $RECORD"
    [[ -f "$dir/pids" ]] || die "$dir is not a run made by this script"
    echo "$dir"
}

# is_ours PID PORT: the process is still the one start recorded (its command line names the port).
is_ours() {
    [[ -r /proc/$1/cmdline ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q -- "$2"
}

# stop_process NAME PID PORT: SIGTERM (graceful: an instance drains its requests), SIGKILL after 15 s.
stop_process() {
    local name=$1 pid=$2 port=$3 i
    is_ours "$pid" "$port" || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 75); do
        is_ours "$pid" "$port" || { say "stopped $name (pid $pid)"; return 0; }
        sleep 0.2
    done
    say "$name (pid $pid) did not exit within 15 s of SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
}

# stop_run DIR: nginx first (no new requests), then the instances.
stop_run() {
    local dir=$1 name pid port
    while read -r name pid port; do
        [[ $name == nginx ]] && stop_process "$name" "$pid" "$dir"
    done <"$dir/pids"
    while read -r name pid port; do
        [[ $name == nginx ]] || stop_process "instance $name" "$pid" "--port $port "
    done <"$dir/pids"
    rm -rf "$dir"
    if [[ -f "$RECORD" && $(cat "$RECORD") == "$dir" ]]; then rm -f "$RECORD"; fi
}

cmd_status() {
    local dir name pid port
    dir=$(run_dir "${1:-}")
    while read -r name pid port; do
        local match="--port $port "
        [[ $name == nginx ]] && match=$dir
        if is_ours "$pid" "$match"; then echo "$name pid $pid on 127.0.0.1:$port: running"; else echo "$name pid $pid: gone"; fi
    done <"$dir/pids"
}

case "${1:-}" in
    start) cmd_start ;;
    stop) stop_run "$(run_dir "${2:-}")" ;;
    status) cmd_status "${2:-}" ;;
    *) echo "usage: $0 start | stop [DIR] | status [DIR]   (start needs DATABASE=FILE|postgres://…)" >&2; exit 2 ;;
esac
