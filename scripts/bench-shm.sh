#!/usr/bin/env bash
# Two-process transport benchmark: runs `xorc bench --transport shm --json`
# (TRANSPORT=pipe: the named-pipe suite)
# RUNS times (default 5) and prints, per row, the median and the min-max of
# one-way events/s, RTT p50/p99/p999 and the peer's idle CPU, plus the ratios
# the goals of issue 4 are about (xorc-shm vs protoactor-grpc one-way, xorc-shm
# vs xorc-inproc RTT p50).
#
#   scripts/bench-shm.sh                         # 5 runs, 1M events, 100k requests
#   RUNS=3 ARGS="--spin-sweep -1ns,1us,10us,50us --rows xorc-shm" scripts/bench-shm.sh
#   TRANSPORT=pipe scripts/bench-shm.sh          # xorc-pipe, protoactor-grpc, xorc-inproc
#
# Other processes on the machine move these figures a lot: the script prints
# the load average first.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
transport=${TRANSPORT:-shm}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-$transport.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/xorc" ./cmd/xorc
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "command: xorc bench --transport $transport --json ${ARGS:-}   (x$runs)"
for i in $(seq "$runs"); do
	# shellcheck disable=SC2086
	"$tmp/xorc" bench --transport "$transport" --json ${ARGS:-} > "$tmp/run$i.json"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$tmp"/run*.json <<'PY'
import json, statistics, sys
runs = [json.load(open(p)) for p in sys.argv[1:]]
rows = {}
for r in runs:
    for row in r["rows"]:
        rows.setdefault(row["name"], []).append(row)
    for c in r.get("comparisons") or []:
        rows.setdefault("ratio " + c["row"] + " vs " + c["baseline"], []).append(
            {"oneway_per_sec": c["oneway_ratio"], "rtt_p50_us": c["rtt_p50_ratio"]})
def fmt(vals, f):
    vals = sorted(vals)
    return "%s (%s-%s)" % (f(statistics.median(vals)), f(vals[0]), f(vals[-1]))
num = lambda x: "%.0f" % x if x >= 100 else "%.2f" % x
print("%-26s %-34s %-28s %-10s %-10s %s" % ("row", "one-way/s", "RTT p50 us", "p99", "p999", "idle CPU %"))
for name, rs in rows.items():
    get = lambda k: [x.get(k, 0) for x in rs]
    idle = get("idle_cpu_pct")
    print("%-26s %-34s %-28s %-10s %-10s %s" % (name, fmt(get("oneway_per_sec"), num), fmt(get("rtt_p50_us"), num),
          num(statistics.median(get("rtt_p99_us"))) if "rtt_p99_us" in rs[0] else "-",
          num(statistics.median(get("rtt_p999_us"))) if "rtt_p999_us" in rs[0] else "-",
          fmt(idle, lambda x: "%.3f" % x) if any(idle) else "-"))
    for k in ("oneway_vs_baseline", "rtt_p50_vs_baseline"):
        if any(get(k)):
            print("%-26s   %s vs baseline: %s" % ("", k.split("_vs")[0], fmt(get(k), lambda x: "%.2fx" % x)))
PY
