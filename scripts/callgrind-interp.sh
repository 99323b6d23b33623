#!/usr/bin/env bash
# Instructions per op of the interpreter benchmarks, counted by valgrind's
# callgrind: deterministic, so usable on a loaded machine where times are not.
# Each figure is (I(N2 ops) - I(N1 ops)) / (N2 - N1), which cancels the setup.
#
#   scripts/callgrind-interp.sh                 # the bench-interp.sh figures
#   scripts/callgrind-interp.sh '^BenchmarkStepNoCache$/^flat$' 20000 120000
#   GOGC=off scripts/callgrind-interp.sh ...    # without the GC's share
#
# Needs valgrind. The GC's share varies a little between runs (GOGC=off does
# not); everything else is exact.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d "${TMPDIR:-/tmp}/callgrind-interp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/actor.test" ./actor/

count() { # regexp ops -> total instructions
	(cd actor && GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind \
		--callgrind-out-file="$tmp/cg.out" "$tmp/actor.test" -test.run '^$' \
		-test.bench "$1" -test.benchtime "${2}x" -test.count 1 >/dev/null 2>"$tmp/cg.err") ||
		{ cat "$tmp/cg.err" >&2; exit 1; }
	awk '/^(summary|totals):/ {print $2; exit}' "$tmp/cg.out"
}

figure() { # regexp n1 n2
	local a b
	a=$(count "$1" "$2")
	b=$(count "$1" "$3")
	printf '%-40s %10d instructions/op\n' "$1" $(((b - a) / ($3 - $2)))
}

if [ $# -ge 3 ]; then
	figure "$1" "$2" "$3"
	exit 0
fi
echo "GOGC=${GOGC:-100}"
for c in flat parallel history; do figure "^BenchmarkStep\$/^$c\$" 20000 120000; done
for c in flat parallel history; do figure "^BenchmarkStepNoCache\$/^$c\$" 20000 120000; done
for c in flat parallel history; do figure "^BenchmarkCase\$/^$c\$" 500 3000; done
