#!/usr/bin/env bash
# Interpreter benchmark: xorc (actor/bench_test.go) and XState (bench/xstate/bench.mjs)
# on the same cases (actor/testdata/bench/{flat,parallel,history}.json), in one run,
# with the ratios against the goals of issue 2:
#   >= 100x XState's events/s on created machines, >= 10x on whole cases,
#   <= 1 allocation per transition on the flat machine.
#
#   scripts/bench-interp.sh                       # 1 s per figure
#   BENCHTIME=3s BENCH_SECONDS=3 scripts/bench-interp.sh
#
# XSTATE_ORACLE_DIR (default /work/scratch/oracle) must be an oracle installation
# with node_modules (npm ci).
set -uo pipefail
cd "$(dirname "$0")/.."

benchtime=${BENCHTIME:-1s}
export BENCH_SECONDS=${BENCH_SECONDS:-1}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-interp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (figures are noisy under load)"
echo "go test -run '^\$' -bench '^Benchmark(Step|Case)\$' -benchmem -benchtime $benchtime ./actor/"
go test -run '^$' -bench '^Benchmark(Step|Case)$' -benchmem -benchtime "$benchtime" -count 1 ./actor/ > "$tmp/go.txt" 2>&1
gostatus=$?
grep -E '^Benchmark' "$tmp/go.txt" || true
if [ $gostatus -ne 0 ]; then
  echo "go benchmarks FAILED:"
  grep -vE '^(Benchmark|goos|goarch|pkg|cpu)' "$tmp/go.txt" | head -20
fi
echo "node bench/xstate/bench.mjs (BENCH_SECONDS=$BENCH_SECONDS)"
if ! node bench/xstate/bench.mjs > "$tmp/xs.txt"; then
  echo "xstate benchmark FAILED"
fi
cat "$tmp/xs.txt"
echo

awk '
  FNR == NR {                      # go test output
    if ($1 !~ /^Benchmark(Step|Case)\//) next
    split($1, p, "/"); kind = (p[1] == "BenchmarkStep") ? "step" : "case"
    name = p[2]; sub(/-[0-9]+$/, "", name)
    for (i = 3; i < NF; i++) {
      if ($(i+1) == "ns/op") go[kind, name] = 1e9 / $i
      if ($(i+1) == "cpu-ns/op" && $i > 0) gocpu[kind, name] = 1e9 / $i
      if ($(i+1) == "allocs/op") allocs[kind, name] = $i
    }
    next
  }
  { xs[$1, $2] = $3; xscpu[$1, $2] = $4 }   # bench.mjs: kind name rate cpu-rate
  function ratio(a, b) { return (a && b) ? sprintf("%.1fx", a / b) : "n/a" }
  function goal(a, b, want) { return (a && b) ? ((a / b >= want) ? "ok" : "MISS") : "n/a" }
  function num(x, f) { return x ? sprintf(f, x) : "n/a" }
  END {
    n = split("flat parallel history", names, " ")
    print "created machines (events/s; ratio = xorc / XState, by wall time and by process CPU time)"
    printf "  %-9s %12s %12s %8s %8s %6s %10s\n", "machine", "xorc", "XState", "wall", "cpu", "goal", "allocs/ev"
    for (i = 1; i <= n; i++) {
      m = names[i]
      al = (("step", m) in allocs) ? allocs["step", m] : "n/a"
      if (m == "flat" && al != "n/a" && al > 1) al = al " MISS"
      printf "  %-9s %12s %12s %8s %8s %6s %10s\n", m, num(go["step", m], "%.0f"), num(xs["step", m], "%.0f"),
        ratio(go["step", m], xs["step", m]), ratio(gocpu["step", m], xscpu["step", m]), goal(gocpu["step", m], xscpu["step", m], 100), al
    }
    print "whole cases (cases/s: load + run, RunCase vs JSON.parse + the oracle runCase)"
    printf "  %-9s %12s %12s %8s %8s %6s\n", "machine", "xorc", "XState", "wall", "cpu", "goal"
    for (i = 1; i <= n; i++) {
      m = names[i]
      printf "  %-9s %12s %12s %8s %8s %6s\n", m, num(go["case", m], "%.1f"), num(xs["case", m], "%.1f"),
        ratio(go["case", m], xs["case", m]), ratio(gocpu["case", m], xscpu["case", m]), goal(gocpu["case", m], xscpu["case", m], 10)
    }
    print "goals (judged on the CPU ratio): created machines >= 100x, whole cases >= 10x, flat <= 1 alloc per transition"
  }
' "$tmp/go.txt" "$tmp/xs.txt"
