#!/usr/bin/env python3
"""Issue 8's targets, checked against one run's summary (bench/run.sh writes it to RESULTS/summary.txt).

usage: targets.py SUMMARY.txt   -> one line per target, then "targets: all met in this run" or the misses;
                                   exit 0 when all were met, 1 when one was missed, 2 when the run lacks a scenario

The run must hold the healthz, rounds, writes and mixed scenarios (bench/run.sh healthz rounds writes mixed):
  writes   32 writers commit >= 5x one writer's rate (synchronous=FULL)
  mixed    reads under 32 writers keep >= 0.5 of their idle req/s, with p99 <= 3x idle
  healthz  >= 0.8 of nginx's req/s at 64 and at 256 connections
  rounds   /v1/rounds/500 >= 0.5 of nginx's, /v1/rounds?limit=50 >= 0.35
  p99      ours <= nginx's on every row measured against nginx
  memory   the server's peak RSS in the rounds scenario <= 30 MiB (the HWM column is kB / 1024)
"""
import re
import sys

ROW = re.compile(r"^(\w+)\s+(.+?)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+([\d.]+) MB\s*$")


def main() -> int:
    text = open(sys.argv[1], encoding="utf-8").read()
    rows = {}
    for line in text.splitlines():
        m = ROW.match(line)
        if m:
            rows[(m.group(1), m.group(2).strip(), int(m.group(3)))] = m.groups()
    writes = re.search(r"ratio 32 ÷ 1 ([\d.]+)", text)
    mixed = re.search(r"reads under 32 writers ÷ reads alone: req/s ([\d.]+), p99 ([\d.]+)", text)
    against_nginx = [("healthz", "/healthz", 64, 0.8), ("healthz", "/healthz", 256, 0.8),
                     ("rounds", "/v1/rounds/500", 64, 0.5), ("rounds", "/v1/rounds?limit=50", 64, 0.35),
                     ("mixed", "/v1/sources/1", 16, None)]
    missing = [f"{s} {p} {c}" for s, p, c, _ in against_nginx if (s, p, c) not in rows]
    if missing or not writes or not mixed:
        print("targets: this run lacks " + ", ".join(missing + ([] if writes else ["the writes ratio"])
                                                   + ([] if mixed else ["the mixed ratios"])))
        return 2
    checks = [("writes: 32 writers ÷ 1 writer", float(writes.group(1)), ">=", 5.0),
              ("mixed: reads under writes, req/s ÷ idle", float(mixed.group(1)), ">=", 0.5),
              ("mixed: reads under writes, p99 ÷ idle", float(mixed.group(2)), "<=", 3.0)]
    for scenario, path, conns, least in against_nginx:
        row = rows[(scenario, path, conns)]
        name = f"{scenario} {path} c{conns}"
        if least is not None:
            checks.append((f"{name}: req/s ÷ nginx", float(row[9]), ">=", least))
        checks.append((f"{name}: p99 ms, ours vs nginx's", float(row[5]), "<=", float(row[8])))
    checks.append(("rounds: peak RSS MiB", float(rows[("rounds", "/v1/rounds?limit=50", 64)][10]), "<=", 30.0))
    missed = []
    for name, value, op, bound in checks:
        ok = value >= bound if op == ">=" else value <= bound
        print(f"{'met   ' if ok else 'MISSED'} {name}: {value:g} {op} {bound:g}")
        if not ok:
            missed.append(name)
    print("targets: all met in this run" if not missed else f"targets: {len(missed)} missed in this run: " + "; ".join(missed))
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())
