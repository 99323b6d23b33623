#!/usr/bin/env bash
# Regenerates the XState oracle golden files under actor/testdata/oracle/.
#
#   scripts/oracle-golden.sh              # seed 1, 4000 generated cases
#   SEED=2 N=500 scripts/oracle-golden.sh
#
# It copies the oracle (XSTATE_ORACLE_DIR, default /work/shared/tools/xstate-oracle)
# to a temporary directory, installs its pinned dependencies there with `npm ci`
# (xstate 5.33.3 from package-lock.json) and runs it on
#   - actor/testdata/oracle/hand.cases.json  (hand-written cases, a JSON array)
#   - the generated cases (go run ./actor/internal/casegen/cmd/gencases)
#   - actor/testdata/bench/{flat,parallel,history}.json
# The Go tests (actor/oracle_test.go) replay these files and need no Node.
set -euo pipefail

cd "$(dirname "$0")/.."
src=${XSTATE_ORACLE_DIR:-/work/shared/tools/xstate-oracle}
seed=${SEED:-1}
n=${N:-4000}
out=actor/testdata/oracle

command -v node >/dev/null || { echo "oracle-golden: node is required" >&2; exit 1; }
command -v npm >/dev/null || { echo "oracle-golden: npm is required" >&2; exit 1; }
[ -f "$src/oracle.mjs" ] || { echo "oracle-golden: no oracle.mjs in $src" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/oracle-golden.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/oracle"
cp "$src/oracle.mjs" "$src/package.json" "$src/package-lock.json" "$tmp/oracle/"
(cd "$tmp/oracle" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
oracle="$tmp/oracle/oracle.mjs"
xver=$(node -p "require('$tmp/oracle/node_modules/xstate/package.json').version")

# Batch mode prints one JSON array; keep one result per line so that a
# regenerated golden diffs line by line.
to_lines='let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const r of JSON.parse(s))process.stdout.write(JSON.stringify(r)+"\n")})'

echo "oracle-golden: xstate $xver, hand-written cases" >&2
node "$oracle" < "$out/hand.cases.json" | node -e "$to_lines" > "$tmp/hand.golden.jsonl"

echo "oracle-golden: $n generated cases, seed $seed" >&2
go run ./actor/internal/casegen/cmd/gencases -seed "$seed" -n "$n" > "$tmp/gen.cases.jsonl"
node "$oracle" --jsonl < "$tmp/gen.cases.jsonl" > "$tmp/gen.golden.jsonl"

echo "oracle-golden: bench cases" >&2
for b in flat parallel history; do
  node -e 'process.stdout.write(JSON.stringify(JSON.parse(require("fs").readFileSync(0,"utf8"))))' \
    < "actor/testdata/bench/$b.json"
  echo
done > "$tmp/bench.cases.jsonl"
node "$oracle" --jsonl < "$tmp/bench.cases.jsonl" > "$tmp/bench.golden.jsonl"

[ "$(wc -l < "$tmp/gen.golden.jsonl")" -eq "$n" ] || { echo "oracle-golden: result count mismatch" >&2; exit 1; }

cp "$tmp/hand.golden.jsonl" "$out/hand.golden.jsonl"
cp "$tmp/bench.golden.jsonl" "$out/bench.golden.jsonl"
gzip -9n < "$tmp/gen.cases.jsonl" > "$out/gen.cases.jsonl.gz"
gzip -9n < "$tmp/gen.golden.jsonl" > "$out/gen.golden.jsonl.gz"
printf 'xstate %s\nseed %s\ncases %s\n' "$xver" "$seed" "$n" > "$out/gen.meta"
echo "oracle-golden: wrote $out (hand $(wc -l < "$out/hand.golden.jsonl"), generated $n, bench 3)" >&2
