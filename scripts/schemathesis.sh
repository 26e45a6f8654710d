#!/usr/bin/env bash
# Runs schemathesis 4 against openapi.yaml and a fresh debug server on 127.0.0.1: every check, every phase
# (examples, coverage, fuzzing, stateful), a fixed seed, an admin (write) token. Prints the findings, schemathesis's
# summary line and the gate's verdict, and exits 0 only when the gate passed: the run completed without error and
# every failing check is one of the documented cross-field rules in schemathesis_allowed.txt (see that file).
#
#   scripts/schemathesis.sh
#   ST_MAX_EXAMPLES=100 ST_SEED=7 scripts/schemathesis.sh   # longer, another seed
#
# The server gets a temporary database with the demo data, a random admin token and no access log. What the checks
# accept beyond their defaults, and the values adjusted before sending (each to another value the schema allows), are
# explained in schemathesis.toml and schemathesis_hooks.py beside this script. Reports (JUnit, and NDJSON with every
# request) and the list of distinct findings (schemathesis_findings.py) go to a temporary folder named at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

# 30 examples per operation: about 110 s on the 2-core CI machine (the coverage phase alone takes ~70 s
# whatever the number; each 10 more examples add ~20 s), inside the 3-minute budget with room for a busy machine.
max_examples="${ST_MAX_EXAMPLES:-30}"
seed="${ST_SEED:-20250512}"
request_timeout="${ST_REQUEST_TIMEOUT:-10}"
# An outer bound only (a run past it fails): schemathesis's own --max-time would keep fuzzing until it is spent.
deadline="${ST_DEADLINE:-300}"

if ! python3 -c 'import schemathesis, sys; sys.exit(0 if schemathesis.__version__.startswith("4.") else 1)' 2>/dev/null; then
  python3 -m pip install -q 'schemathesis>=4,<5'
fi
command -v schemathesis >/dev/null || { echo "schemathesis is not on PATH after installing it" >&2; exit 2; }

swift build --product trade-tracker >/tmp/schemathesis-build.log 2>&1 || { cat /tmp/schemathesis-build.log >&2; exit 2; }
server="$(swift build --show-bin-path)/trade-tracker"

work="$(mktemp -d /tmp/trade-tracker-schemathesis.XXXXXX)"
token="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"   # 48 hex characters
server_pid=""
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
}
trap stop_server EXIT

# Port 0: the server takes a free port and names it in its first log lines, so no port can be raced for.
TRADE_TRACKER_TOKENS="ci:admin:$token" "$server" serve --host 127.0.0.1 --port 0 --database "$work/db.sqlite" \
  --demo --access-log off --rate-limit 0 --migrations migrations --openapi openapi.yaml \
  >"$work/server.log" 2>&1 &
server_pid=$!

port=""
for _ in $(seq 100); do
  port=$(sed -n 's#.*listening on http://127\.0\.0\.1:\([0-9]*\).*#\1#p' "$work/server.log" | head -1)
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; echo "the server did not start" >&2; exit 2; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/server.log" >&2; echo "the server named no port within 10 s" >&2; exit 2; }
base="http://127.0.0.1:$port"
ready=no
for _ in $(seq 100); do
  if curl -fsS -o /dev/null --max-time 2 "$base/readyz"; then ready=yes; break; fi
  sleep 0.1
done
[ "$ready" = yes ] || { cat "$work/server.log" >&2; echo "$base/readyz did not answer 200 within 10 s" >&2; exit 2; }
echo "server on $base (log $work/server.log)"

started=$(date +%s)
set +e
TRADE_TRACKER_ST_TOKEN="$token" TRADE_TRACKER_ST_BASE="$base" PYTHONPATH="$PWD/scripts${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=schemathesis_hooks \
  timeout --kill-after=15 "$deadline" schemathesis --config-file scripts/schemathesis.toml run openapi.yaml \
  --url "$base" \
  --checks all \
  --phases examples,coverage,fuzzing,stateful \
  --seed "$seed" \
  --max-examples "$max_examples" \
  --request-timeout "$request_timeout" \
  --continue-on-failure \
  --generation-database none \
  --report junit,ndjson --report-dir "$work" \
  --output-sanitize true \
  --no-color \
  >"$work/schemathesis.txt" 2>&1
status=$?
set -e
elapsed=$(( $(date +%s) - started ))

# One line per distinct failure with a curl command that shows it, each marked allowed or not by the gate, then
# schemathesis's closing summary and the gate's verdict.
report=$(ls "$work"/*.ndjson 2>/dev/null | head -1 || true)
gate=1
if [ -n "$report" ]; then
  set +e
  python3 scripts/schemathesis_findings.py --gate scripts/schemathesis_allowed.txt "$report" >"$work/findings.txt"
  gate=$?
  set -e
  grep -v '^gate: ' "$work/findings.txt" || true
fi
summary=$(grep -E '^=+ .* in [0-9.]+s =+$' "$work/schemathesis.txt" | tail -1 || true)
[ -n "$summary" ] || { tail -n 40 "$work/schemathesis.txt"; summary="(no summary line; exit $status)"; }
echo
echo "schemathesis: $summary  [exit $status, ${elapsed}s wall; seed $seed, max-examples $max_examples]"
if [ -z "$report" ]; then echo "gate: FAILED: no NDJSON report"
else grep '^gate: ' "$work/findings.txt" || echo "gate: FAILED: schemathesis_findings.py gave no verdict (exit $gate)"; fi
echo "full output: $work/schemathesis.txt; findings: $work/findings.txt; reports: $(ls "$work"/*.xml "$work"/*.ndjson 2>/dev/null | tr '\n' ' ')"
# schemathesis exits 1 when a check failed (the gate then decides) and otherwise non-zero for an error, an
# interrupted run or the outer timeout (124), which fail whatever the report says.
if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then echo "schemathesis did not finish normally (exit $status)" >&2; exit 1; fi
exit "$gate"
