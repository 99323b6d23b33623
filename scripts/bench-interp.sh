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
      if ($(i+1) == "allocs/op") allocs[kind, name] = $i
    }
    next
  }
  { xs[$1, $2] = $3 }              # bench.mjs output: kind name rate
  END {
    n = split("flat parallel history", names, " ")
    printf "%-9s | %14s %14s %8s %6s | %9s | %11s %11s %8s %6s\n", "machine", "xorc ev/s", "XState ev/s", "ratio", "goal", "allocs/ev", "xorc case/s", "XState c/s", "ratio", "goal"
    for (i = 1; i <= n; i++) {
      m = names[i]
      gs = go["step", m]; xsS = xs["step", m]; gc = go["case", m]; xsC = xs["case", m]
      rs = (gs && xsS) ? sprintf("%.1fx", gs / xsS) : "n/a"
      rc = (gc && xsC) ? sprintf("%.1fx", gc / xsC) : "n/a"
      okS = (gs && xsS) ? ((gs / xsS >= 100) ? "ok" : "MISS") : "n/a"
      okC = (gc && xsC) ? ((gc / xsC >= 10) ? "ok" : "MISS") : "n/a"
      al = (("step", m) in allocs) ? allocs["step", m] : "n/a"
      if (m == "flat" && al != "n/a" && al > 1) al = al " MISS"
      printf "%-9s | %14s %14s %8s %6s | %9s | %11s %11s %8s %6s\n", m, gs ? sprintf("%.0f", gs) : "n/a", xsS ? xsS : "n/a", rs, okS, al, gc ? sprintf("%.1f", gc) : "n/a", xsC ? xsC : "n/a", rc, okC
    }
    print "goals: events/s ratio >= 100x (created machines), cases/s ratio >= 10x, flat allocs/event <= 1"
  }
' "$tmp/go.txt" "$tmp/xs.txt"
