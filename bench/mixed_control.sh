#!/usr/bin/env bash
# The control for the mixed scenario (issue 8): GET /v1/sources/1 with 16 connections alone, beside 32 writer
# connections POSTing to us (as `run.sh mixed`), beside the same 32 writers POSTing to a second server process on the
# same database file (so the readers' event loops handle no write at all), and beside 32 connections loading a local
# nginx instead. If the reads suffer as much or more in the last two, their p99 under writes is the share of the two
# cores the load generators and the write work take, not our writes holding reads up in our loops or our writer.
# Needs the release build, wrk and nginx; everything on 127.0.0.1.
#
#   bash bench/mixed_control.sh
set -u
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BENCH_BINARY:-$ROOT/.build/release/trade-tracker}"
[ -x "$BIN" ] || { echo "no $BIN: run swift build -c release" >&2; exit 1; }
W=$(mktemp -d); port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(port); NPORT=$(port)
TOKEN=bench-writer-token-0123456789
TRADE_TRACKER_TOKENS="bench:write:$TOKEN" $BIN serve --host 127.0.0.1 --port $PORT --database $W/b.sqlite --migrations $ROOT/migrations --openapi $ROOT/openapi.yaml --access-log off --rate-limit 0 2>$W/log &
PID=$!
PORT2=$(port)
TRADE_TRACKER_TOKENS="bench:write:$TOKEN" $BIN serve --host 127.0.0.1 --port $PORT2 --database $W/b.sqlite --migrations $ROOT/migrations --openapi $ROOT/openapi.yaml --access-log off --rate-limit 0 2>$W/log2 &
PID2=$!
mkdir -p $W/html; echo '{"status":"ok"}' > $W/html/x.json
cat > $W/nginx.conf <<NG
worker_processes 2; pid $W/nginx.pid; error_log $W/nginx.err; daemon on;
events { worker_connections 1024; }
http { access_log off; sendfile on; tcp_nopush on; open_file_cache max=100; server { listen 127.0.0.1:$NPORT reuseport; root $W/html; } }
NG
nginx -c $W/nginx.conf -p $W
for i in $(seq 50); do curl -sf -o /dev/null localhost:$PORT/healthz && break; sleep 0.2; done
curl -s -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"title":"x"}' localhost:$PORT/v1/sources
reads() { timeout 20 wrk -t2 -c16 -d8s --latency http://127.0.0.1:$PORT/v1/sources/1 | awk -v tag="$1" '/Requests\/sec/ {r=$2} /^ +99%/ {p=$2} /^ +50%/ {m=$2} END {print tag, "reads/s", r, "p50", m, "p99", p}'; }
timeout 20 wrk -t2 -c16 -d2s http://127.0.0.1:$PORT/v1/sources/1 >/dev/null
reads alone
BENCH_TOKEN=$TOKEN BENCH_TAG=m timeout 30 wrk -t2 -c32 -d11s -s $ROOT/bench/post_source.lua http://127.0.0.1:$PORT > $W/writers.txt &
WP=$!; sleep 1.5; reads "beside-32-writers"; wait $WP
echo "  writers: $(grep -o 'created=[0-9]*' $W/writers.txt) in 11 s"
for i in $(seq 50); do curl -sf -o /dev/null localhost:$PORT2/healthz && break; sleep 0.2; done
BENCH_TOKEN=$TOKEN BENCH_TAG=m2 timeout 30 wrk -t2 -c32 -d11s -s $ROOT/bench/post_source.lua http://127.0.0.1:$PORT2 > $W/writers2.txt &
WP=$!; sleep 1.5; reads "beside-32-writers-on-another-process"; wait $WP
echo "  writers: $(grep -o 'created=[0-9]*' $W/writers2.txt) in 11 s"
timeout 30 wrk -t2 -c32 -d11s http://127.0.0.1:$NPORT/x.json > $W/ng.txt &
NP=$!; sleep 1.5; reads "beside-32-conns-on-nginx"; wait $NP
echo "  nginx load: $(grep Requests/sec $W/ng.txt)"
kill $PID $PID2; kill "$(cat $W/nginx.pid)"; wait $PID $PID2 2>/dev/null; rm -rf "$W"
