#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the PostgreSQLTests target.
#
#   eval "$(scripts/pg-test-cluster.sh start)"   # prints the two export lines
#   swift test --filter PostgreSQLTests
#   scripts/pg-test-cluster.sh stop              # stops the server and deletes the cluster
#
#   scripts/pg-test-cluster.sh stop-server       # stops the server, keeps the cluster (reconnect test)
#   scripts/pg-test-cluster.sh start-server      # starts it again on the same port
#   scripts/pg-test-cluster.sh status
#
# The cluster lives in a fresh temporary directory: data directory, unix socket,
# server log. Trust authentication, 127.0.0.1 only, fsync off: never use it for data
# you want to keep. stop / stop-server / start-server / status find the cluster from
# their argument, else $TT_POSTGRES_CLUSTER, else the one start recorded last.
# PostgreSQL refuses to run as root, so as root every server command runs as the
# `postgres` system user (created by Debian's postgresql package).
set -euo pipefail

readonly DATABASE=trade_tracker_test
readonly ROLE=trade_tracker
readonly RECORD="${TMPDIR:-/tmp}/trade-tracker-pg-test.current"

die() { echo "pg-test-cluster: $*" >&2; exit 1; }

bin_dir() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then echo "$dir"; return; fi
    done
    if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        dirname "$(command -v initdb)"; return
    fi
    die "initdb not found (apt-get install -y postgresql)"
}

# Runs a server-side command as the cluster's owner.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || die "running as root needs the postgres system user (apt-get install -y postgresql)"
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

cluster_dir() {
    local dir="${1:-${TT_POSTGRES_CLUSTER:-}}"
    if [[ -z "$dir" && -f "$RECORD" ]]; then dir=$(cat "$RECORD"); fi
    [[ -n "$dir" ]] || die "no cluster given, TT_POSTGRES_CLUSTER unset and nothing recorded in $RECORD"
    [[ -f "$dir/port" && -d "$dir/data" ]] || die "$dir is not a cluster made by this script"
    echo "$dir"
}

start_server() {
    local dir=$1 bin
    bin=$(bin_dir)
    # -w waits until the server accepts connections; -t bounds that wait.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start >/dev/null \
        || { tail -20 "$dir/server.log" >&2; die "server did not start (log: $dir/server.log)"; }
}

stop_server() {
    local dir=$1 bin
    bin=$(bin_dir)
    if as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        # fast: disconnect clients (they get 57P01 admin_shutdown) without waiting for them.
        as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null
    fi
}

cmd_start() {
    local bin dir port
    bin=$(bin_dir)
    dir=$(mktemp -d "${TMPDIR:-/tmp}/tt-pg.XXXXXX")
    chmod 0755 "$dir"
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; fi
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    port=$(free_port)
    as_owner tee -a "$dir/data/postgresql.conf" >/dev/null <<EOF

# pg-test-cluster.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
EOF
    as_owner tee "$dir/data/pg_hba.conf" >/dev/null <<EOF
local all all              trust
host  all all 127.0.0.1/32 trust
EOF
    echo "$port" >"$dir/port"
    start_server "$dir"
    as_owner "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
        -c "CREATE ROLE $ROLE LOGIN" -c "CREATE DATABASE $DATABASE OWNER $ROLE" >/dev/null
    echo "$dir" >"$RECORD"
    echo "export TT_POSTGRES_URL=postgres://$ROLE@127.0.0.1:$port/$DATABASE"
    echo "export TT_POSTGRES_CLUSTER=$dir"
}

cmd_stop() {
    local dir
    dir=$(cluster_dir "${1:-}")
    stop_server "$dir"
    rm -rf "$dir"
    if [[ -f "$RECORD" && $(cat "$RECORD") == "$dir" ]]; then rm -f "$RECORD"; fi
    echo "stopped and removed $dir" >&2
}

cmd_status() {
    local dir bin
    dir=$(cluster_dir "${1:-}")
    bin=$(bin_dir)
    as_owner "$bin/pg_ctl" -D "$dir/data" status
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop "${2:-}" ;;
    stop-server) stop_server "$(cluster_dir "${2:-}")" ;;
    start-server) start_server "$(cluster_dir "${2:-}")" ;;
    status) cmd_status "${2:-}" ;;
    *) echo "usage: $0 start | stop [DIR] | stop-server [DIR] | start-server [DIR] | status [DIR]" >&2; exit 2 ;;
esac
