#!/usr/bin/env bash
# Fuzzes the request parser and the JSON parser with libFuzzer + AddressSanitizer for FUZZ_SECONDS each.
#
#   scripts/fuzz.sh                       # 15 s per target
#   FUZZ_SECONDS=300 scripts/fuzz.sh      # longer
#   FUZZ_TARGETS=FuzzJSONParser scripts/fuzz.sh
#
# The targets live in Fuzz/Sources and are declared in Package.swift only when TRADE_TRACKER_FUZZ is set; they are
# built in their own scratch path (.build-fuzz) so the normal .build is never touched. Each run starts from a copy
# of Fuzz/corpus/<kind> in a temporary folder (the repository's corpus does not grow). One summary line per target;
# the exit status is non-zero when any target crashed, broke an invariant, hung or ran out of memory, and the
# input that did it is named in the output (kept under the temporary folder).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

seconds="${FUZZ_SECONDS:-15}"
targets="${FUZZ_TARGETS:-FuzzRequestParser FuzzJSONParser}"
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "FUZZ_SECONDS must be a positive whole number of seconds" >&2; exit 2; }

# libFuzzer and ASan come with the Swift toolchain (compiler-rt); nothing is needed from apt.
runtime=$(ls /opt/swift/usr/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null | head -1 || true)
if [ -z "$runtime" ]; then
  echo "libFuzzer's runtime (libclang_rt.fuzzer) is missing from the Swift toolchain in /opt/swift" >&2
  exit 2
fi

for target in $targets; do
  build_log="/tmp/fuzz-build-$target.log"
  if ! TRADE_TRACKER_FUZZ=1 swift build -c release --scratch-path .build-fuzz --product "$target" >"$build_log" 2>&1; then
    cat "$build_log" >&2; echo "building $target failed" >&2; exit 2
  fi
  grep -E "warning:|error:" "$build_log" || true
done
bin="$(TRADE_TRACKER_FUZZ=1 swift build -c release --scratch-path .build-fuzz --show-bin-path)"

work="$(mktemp -d /tmp/trade-tracker-fuzz.XXXXXX)"
status=0
summaries=()

# Inputs the fuzzer found before (Fuzz/findings/<kind>/, see its README) run first, once each: they fail until the
# bug they show is fixed, and stay as regression inputs after that.
for findings in Fuzz/findings/request:FuzzRequestParser Fuzz/findings/json:FuzzJSONParser; do
  dir="${findings%%:*}"; target="${findings##*:}"
  [[ " $targets " == *" $target "* ]] && [ -d "$dir" ] || continue
  for input in "$dir"/*; do
    [ -f "$input" ] || continue
    if SWIFT_BACKTRACE=enable=no timeout 60 "$bin/$target" "$input" >"$work/replay.log" 2>&1; then
      summaries+=("$target: finding $input passes now")
    else
      status=1
      summaries+=("$target: finding $input still fails: $(grep -m1 -o 'invariant violated.*' "$work/replay.log" | cut -c1-160)")
    fi
  done
done
for target in $targets; do
  case "$target" in
    FuzzRequestParser) kind=request; dict=Fuzz/http.dict; max_len=6000 ;;
    FuzzJSONParser) kind=json; dict=Fuzz/json.dict; max_len=4096 ;;
    *) echo "unknown fuzz target $target" >&2; exit 2 ;;
  esac
  corpus="$work/$kind-corpus"
  artifacts="$work/$kind-artifacts"
  mkdir -p "$corpus" "$artifacts"
  cp Fuzz/corpus/"$kind"/* "$corpus"/
  seeds=$(ls "$corpus" | wc -l)
  log="$work/$target.log"
  echo "==> $target for ${seconds}s (log $log)"
  started=$(date +%s)
  # The Swift runtime's backtracer would race libFuzzer's own crash handler; libFuzzer prints the stack.
  # `timeout` is the outer bound should libFuzzer itself wedge; -timeout is per input (a hang is a finding).
  set +e
  SWIFT_BACKTRACE=enable=no timeout --kill-after=10 $((seconds + 120)) \
    "$bin/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
    -dict="$dict" -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1
  code=$?
  set -e
  elapsed=$(( $(date +%s) - started ))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 | awk '{print $1, $2, $3, $4, $5, $6}' || true)
  units=$(ls "$corpus" | wc -l)
  artifact=$(ls "$artifacts" 2>/dev/null | head -1 || true)
  if [ "$code" -eq 0 ] && [ -z "$artifact" ]; then
    line="$target: ok, ${runs:-?} runs in ${elapsed}s (${rate:-?} exec/s; ${done_line:-no DONE line}), corpus $seeds -> $units inputs"
  else
    status=1
    reason=$(grep -m1 -E 'invariant violated|ERROR: (AddressSanitizer|libFuzzer)|Fatal error' "$log" || echo "libFuzzer exited with $code")
    line="$target: FAILED (exit $code) after ${runs:-?} runs in ${elapsed}s: $reason"
    [ -n "$artifact" ] && line="$line; input: $artifacts/$artifact (replay: $bin/$target $artifacts/$artifact)"
    # The lines after an invariant message say which events differed.
    grep -A2 -m1 'invariant violated' "$log" | tail -n +2 | cut -c1-300 || true
  fi
  summaries+=("$line")
  rm -rf "$corpus"
done

echo
printf '%s\n' "${summaries[@]}"
if [ "$status" -eq 0 ]; then rm -rf "$work"; else echo "logs and failing inputs kept in $work"; fi
exit "$status"
