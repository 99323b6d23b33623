// Package bench measures xorc against plain proto.actor: one-way events per
// second from a sender to a machine that takes one transition per event, and
// request round-trip latency (p50/p99/p999), each transport in the same run as
// its baseline. `xorc bench --transport inproc [--json]` prints a Report.
//
// A transport adds its rows by registering a Suite (Register); a two-process
// runner re-executes the xorc binary as its peer. The JSON shape is stable:
//
//	{"transport": "inproc", "baseline": "protoactor-local",
//	 "rows": [{"name": "xorc-inproc", "oneway_per_sec": N, "rtt_p50_us": N,
//	           "rtt_p99_us": N, "rtt_p999_us": N,
//	           "oneway_vs_baseline": R, "rtt_p50_vs_baseline": R}, ...]}
//
// The ratio fields compare a row with the baseline row (one-way: row /
// baseline, higher is better; p50: row / baseline, lower is better) and are
// left out of the baseline row itself.
package bench
