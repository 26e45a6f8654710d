# Shared by bench/run.sh and bench/callgrind.sh (source it; it sets no shell options).
#
# Needs ROOT (this checkout) and CALLER_PWD (where the user ran the script) set.
# Sets BINARY (absolute) and APP_ROOT (the checkout whose migrations/ and openapi.yaml match BINARY).
#
#   BENCH_BINARY=/path     use that binary instead of ROOT/.build/release/trade-tracker (no build)
#   BENCH_APP_ROOT=/dir    migrations/ and openapi.yaml from there (default: the checkout the binary
#                          sits in, found by walking up from it, else ROOT)
#   BENCH_SKIP_BUILD=1     use the existing ROOT/.build/release/trade-tracker

log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [ -n "${BENCH_BINARY:-}" ]; then
    case "$BENCH_BINARY" in
        /*) BINARY="$BENCH_BINARY" ;;
        *) BINARY="$CALLER_PWD/$BENCH_BINARY" ;;
    esac
else
    BINARY="$ROOT/.build/release/trade-tracker"
fi

# A newer binary may need newer migrations than this checkout has, so take them from its own checkout.
find_app_root() {
    if [ -n "${BENCH_APP_ROOT:-}" ]; then
        (cd "$CALLER_PWD" && cd "$BENCH_APP_ROOT" && pwd) || die "BENCH_APP_ROOT=$BENCH_APP_ROOT is not a directory"
        return
    fi
    local d
    d="$(cd "$(dirname "$BINARY")" 2>/dev/null && pwd -P)" || { echo "$ROOT"; return; }
    while [ "$d" != / ]; do
        if [ -d "$d/migrations" ] && [ -f "$d/openapi.yaml" ]; then echo "$d"; return; fi
        d="$(dirname "$d")"
    done
    echo "$ROOT"
}
APP_ROOT="$(find_app_root)"

# build_release LOGFILE: build ROOT's release binary, unless BENCH_BINARY or BENCH_SKIP_BUILD=1 says not to.
build_release() {
    if [ -n "${BENCH_BINARY:-}" ] || [ "${BENCH_SKIP_BUILD:-0}" = 1 ]; then
        [ -x "$BINARY" ] || die "$BINARY does not exist or is not executable"
        log "using $BINARY (no build), migrations and openapi.yaml from $APP_ROOT"
        return 0
    fi
    log "swift build -c release"
    timeout 1200 swift build -c release >"$1" 2>&1 \
        || { tail -20 "$1" >&2; die "release build failed (see $1)"; }
}

# binary_info: one line naming the binary, its build time and the commit of APP_ROOT
binary_info() {
    printf '%s (built %s), app root %s at %s\n' "$BINARY" \
        "$(date -u -r "$BINARY" +%FT%TZ 2>/dev/null || echo '?')" "$APP_ROOT" \
        "$(git -C "$APP_ROOT" rev-parse --short HEAD 2>/dev/null || echo n/a)"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
