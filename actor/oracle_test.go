package actor_test

// Differential tests against XState v5 (the oracle in
// ../shared/tools/xstate-oracle): every case of actor/testdata/oracle/ runs
// through actor.RunCase and is compared, step by step, with the output XState
// gave for it (the golden files, made by scripts/oracle-golden.sh). These tests
// need no Node. TestOracleLive (opt-in) runs fresh random cases through the
// oracle and the Go interpreter side by side.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/actor"
	"github.com/xorc-dev/xorc/actor/internal/casegen"
)

const oracleDir = "testdata/oracle"

// goldenStep is one step of the oracle's output, with the fields the Go
// CaseStep does not have (anomaly).
type goldenStep struct {
	Step    int             `json:"step"`
	Event   json.RawMessage `json:"event"`
	Value   json.RawMessage `json:"value"`
	Context json.RawMessage `json:"context"`
	Status  string          `json:"status"`
	Done    bool            `json:"done"`
	Now     float64         `json:"now"`
	Error   string          `json:"error,omitempty"`
	Anomaly string          `json:"anomaly,omitempty"`
}

type goldenResult struct {
	Steps []goldenStep `json:"steps"`
	Error string       `json:"error"`
}

// xorcOverride is the optional "xorc" field of a hand-written case (ignored by
// the oracle): where xorc deliberately differs from XState (issue 2: load-time
// errors XState does not raise, the XState history bugs, xorc.send), it says
// what xorc must do instead of what the golden says.
type xorcOverride struct {
	Why         string        `json:"why"`
	ConfigError *bool         `json:"configError"`
	Expect      *goldenResult `json:"expect"`
}

type oracleCase struct {
	Name string          `json:"name"`
	Xorc *xorcOverride   `json:"xorc"`
	Raw  json.RawMessage `json:"-"`
}

// ---------------------------------------------------------------------------
// Loading the corpus.
// ---------------------------------------------------------------------------

func parseCase(t testing.TB, raw []byte, fallbackName string) oracleCase {
	t.Helper()
	var c oracleCase
	require.NoError(t, json.Unmarshal(raw, &c), "case %s", fallbackName)
	c.Raw = append(json.RawMessage(nil), raw...)
	if c.Name == "" {
		c.Name = fallbackName
	}
	return c
}

func readLines(t testing.TB, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var r interface{ Read([]byte) (int, error) } = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		require.NoError(t, err, path)
		defer gz.Close()
		r = gz
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	var out [][]byte
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			out = append(out, append([]byte(nil), line...))
		}
	}
	require.NoError(t, sc.Err(), path)
	return out
}

func readGoldens(t testing.TB, path string) []goldenResult {
	t.Helper()
	var out []goldenResult
	for i, line := range readLines(t, path) {
		var r goldenResult
		require.NoError(t, json.Unmarshal(line, &r), "%s line %d", path, i+1)
		out = append(out, r)
	}
	return out
}

type corpus struct {
	name    string
	cases   []oracleCase
	goldens []goldenResult
}

func loadHand(t testing.TB) corpus {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(oracleDir, "hand.cases.json"))
	require.NoError(t, err)
	var raws []json.RawMessage
	require.NoError(t, json.Unmarshal(data, &raws))
	c := corpus{name: "hand", goldens: readGoldens(t, filepath.Join(oracleDir, "hand.golden.jsonl"))}
	for i, raw := range raws {
		c.cases = append(c.cases, parseCase(t, raw, fmt.Sprintf("hand-%d", i)))
	}
	return c
}

func loadGenerated(t testing.TB) corpus {
	t.Helper()
	c := corpus{name: "generated", goldens: readGoldens(t, filepath.Join(oracleDir, "gen.golden.jsonl.gz"))}
	for i, line := range readLines(t, filepath.Join(oracleDir, "gen.cases.jsonl.gz")) {
		c.cases = append(c.cases, parseCase(t, line, fmt.Sprintf("gen-%d", i)))
	}
	return c
}

var benchNames = []string{"flat", "parallel", "history"}

func loadBenchCorpus(t testing.TB) corpus {
	t.Helper()
	c := corpus{name: "bench", goldens: readGoldens(t, filepath.Join(oracleDir, "bench.golden.jsonl"))}
	for _, b := range benchNames {
		data, err := os.ReadFile(filepath.Join("testdata", "bench", b+".json"))
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, json.Compact(&buf, data))
		c.cases = append(c.cases, parseCase(t, buf.Bytes(), "bench/"+b))
	}
	return c
}

// ---------------------------------------------------------------------------
// Comparison.
// ---------------------------------------------------------------------------

// jsonData decodes JSON into plain Go values (maps are unordered, numbers
// float64), so that reflect.DeepEqual compares JSON data, not bytes.
func jsonData(raw []byte) (any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	var v any
	err := json.Unmarshal(raw, &v)
	return v, err
}

// goData normalises a Go value (a state value, a context) the same way.
func goData(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonData(b)
}

func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}

func isConfigError(msg string) bool { return strings.HasPrefix(msg, "config: ") }

// exactErrorMessage reports whether xorc must reproduce the oracle's error
// message exactly: the xorc.* runtime errors and XState's infinite-loop error.
func exactErrorMessage(msg string) bool {
	return strings.HasPrefix(msg, "xorc.") || strings.HasPrefix(msg, "Infinite loop detected")
}

// diff describes the first difference between a golden result and xorc's.
type diff struct {
	step  int // -1: the whole case (config error)
	event json.RawMessage
	what  string
}

// stats counts what a comparison could and could not compare.
type stats struct {
	cases, configErrors, overridden, anomalyCases int
	steps, skippedSteps                           int
}

// compareResult compares xorc's result with the oracle's. Steps from the first
// one flagged as an XState anomaly on are not comparable and only counted.
func compareResult(want goldenResult, got actor.CaseResult, st *stats) *diff {
	st.cases++
	if isConfigError(want.Error) {
		st.configErrors++
		if !isConfigError(got.Error) {
			return &diff{step: -1, what: fmt.Sprintf("want a config error (%s), got error %q and %d steps", want.Error, got.Error, len(got.Steps))}
		}
		return nil
	}
	if want.Error != "" { // "start: ..." (the actor could not start)
		if got.Error == "" {
			return &diff{step: -1, what: fmt.Sprintf("want error %q, got none", want.Error)}
		}
		return nil
	}
	if got.Error != "" {
		return &diff{step: -1, what: fmt.Sprintf("want %d steps, got error %q", len(want.Steps), got.Error)}
	}
	var cmp stepComparer
	for i, w := range want.Steps {
		if w.Anomaly != "" {
			st.anomalyCases++
			st.skippedSteps += len(want.Steps) - i
			return nil
		}
		if i >= len(got.Steps) {
			return &diff{step: i, event: w.Event, what: fmt.Sprintf("missing step (got %d steps, want %d)", len(got.Steps), len(want.Steps))}
		}
		st.steps++
		if d := cmp.compare(w, got.Steps[i]); d != "" {
			return &diff{step: i, event: w.Event, what: d}
		}
	}
	if len(got.Steps) > len(want.Steps) {
		return &diff{step: len(want.Steps), what: fmt.Sprintf("extra steps (got %d, want %d)", len(got.Steps), len(want.Steps))}
	}
	return nil
}

// sameData compares a golden JSON text with a Go value as JSON data. It
// remembers the last pair it saw: consecutive steps mostly repeat the value and
// the context, and decoding dominates the replay time under -race.
type sameData struct {
	want, got []byte
	equal     bool
	wantData  any
	gotData   any
}

func (c *sameData) check(want json.RawMessage, got any) (equal bool, wantData, gotData any) {
	gotJSON, err := json.Marshal(got)
	if err != nil {
		return false, nil, fmt.Sprintf("<cannot marshal: %v>", err)
	}
	if c.want != nil && bytes.Equal(want, c.want) && bytes.Equal(gotJSON, c.got) {
		return c.equal, c.wantData, c.gotData
	}
	c.want, c.got = want, gotJSON
	c.wantData, err = jsonData(want)
	if err != nil {
		c.wantData = fmt.Sprintf("<golden unreadable: %v>", err)
	}
	c.gotData, _ = jsonData(gotJSON)
	c.equal = err == nil && reflect.DeepEqual(c.wantData, c.gotData)
	return c.equal, c.wantData, c.gotData
}

type stepComparer struct{ value, context sameData }

func (c *stepComparer) compare(w goldenStep, g actor.CaseStep) string {
	var problems []string
	add := func(field string, want, got any) {
		problems = append(problems, fmt.Sprintf("%s:\n      want %s\n      got  %s", field, compact(want), compact(got)))
	}
	if g.Step != w.Step {
		add("step", w.Step, g.Step)
	}
	if !bytes.Equal(w.Event, g.Event) {
		we, err1 := jsonData(w.Event)
		ge, err2 := jsonData(g.Event)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(we, ge) {
			add("event", json.RawMessage(w.Event), string(g.Event))
		}
	}
	if ok, wv, gv := c.value.check(w.Value, g.Value); !ok {
		add("value", wv, gv)
	}
	if ok, wc, gc := c.context.check(w.Context, g.Context); !ok {
		add("context", wc, gc)
	}
	if g.Status != w.Status {
		add("status", w.Status, g.Status)
	}
	if g.Done != w.Done {
		add("done", w.Done, g.Done)
	}
	if float64(g.Now) != w.Now {
		add("now", w.Now, g.Now)
	}
	switch {
	case w.Error == "" && g.Error != "":
		add("error", nil, g.Error)
	case w.Error != "" && g.Error == "":
		add("error", w.Error, nil)
	case exactErrorMessage(w.Error) && g.Error != w.Error:
		add("error", w.Error, g.Error)
	}
	return strings.Join(problems, "\n    ")
}

// checkOverride applies a hand-written case's "xorc" field.
func checkOverride(o *xorcOverride, golden goldenResult, got actor.CaseResult, st *stats) *diff {
	st.overridden++
	if o.Expect != nil {
		return compareResult(*o.Expect, got, st)
	}
	if o.ConfigError != nil {
		st.cases++
		switch {
		case *o.ConfigError && !isConfigError(got.Error):
			return &diff{step: -1, what: fmt.Sprintf("xorc must refuse this config (%s); got error %q and %d steps", o.Why, got.Error, len(got.Steps))}
		case !*o.ConfigError && isConfigError(got.Error):
			return &diff{step: -1, what: fmt.Sprintf("xorc must accept this config (%s); got %q", o.Why, got.Error)}
		}
		return nil
	}
	return compareResult(golden, got, st)
}

// runCase runs one case through the interpreter, turning a panic into a
// reported difference so that one bad case does not hide the others.
func runCase(raw json.RawMessage) (res []actor.CaseResult, panicked string) {
	defer func() {
		if r := recover(); r != nil {
			panicked = fmt.Sprint(r)
		}
	}()
	return []actor.CaseResult{actor.RunCase(raw)}, ""
}

// runCaseStepCache runs one case twice on one machine with the step cache on
// from the first step (the second run replays what the first one cached).
func runCaseStepCache(raw json.RawMessage) (res []actor.CaseResult, panicked string) {
	defer func() {
		if r := recover(); r != nil {
			panicked = fmt.Sprint(r)
		}
	}()
	first, second := actor.RunCaseStepCache(raw)
	return []actor.CaseResult{first, second}, ""
}

// reporter prints full details for the first few failures of a run and one
// line for the rest, so that a broken interpreter does not flood the log.
type reporter struct {
	failures atomic.Int64
	detailed int64
}

func (r *reporter) report(t *testing.T, c oracleCase, idx int, d *diff, golden goldenResult, got actor.CaseResult) {
	t.Helper()
	n := r.failures.Add(1)
	where := "case level"
	if d.step >= 0 {
		where = fmt.Sprintf("step %d (event %s)", d.step, strings.TrimSpace(string(d.event)))
	}
	if n > r.detailed {
		t.Errorf("case %d %s: %s: %s", idx, c.Name, where, firstLine(d.what))
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "case %d %s differs from XState at %s\n    %s\n", idx, c.Name, where, d.what)
	if c.Xorc != nil {
		fmt.Fprintf(&b, "  xorc override: %s\n", c.Xorc.Why)
	}
	if d.step >= 0 && d.step < len(golden.Steps) && d.step < len(got.Steps) {
		fmt.Fprintf(&b, "  XState step: %s\n  xorc step:   %s\n", compact(golden.Steps[d.step]), compact(got.Steps[d.step]))
	}
	fmt.Fprintf(&b, "  rerun in the oracle: node oracle.mjs <<'EOF'\n%s\nEOF", c.Raw)
	t.Error(b.String())
}

func firstLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

func replay(t *testing.T, c corpus, rep *reporter, run func(json.RawMessage) ([]actor.CaseResult, string)) stats {
	require.Len(t, c.goldens, len(c.cases), "%s: one golden result per case; rerun scripts/oracle-golden.sh", c.name)
	var st stats
	for i, oc := range c.cases {
		t.Run(oc.Name, func(t *testing.T) {
			results, panicked := run(oc.Raw)
			if panicked != "" {
				rep.report(t, oc, i, &diff{step: -1, what: "RunCase panicked: " + panicked}, c.goldens[i], actor.CaseResult{})
				return
			}
			for k, got := range results {
				var d *diff
				if oc.Xorc != nil {
					d = checkOverride(oc.Xorc, c.goldens[i], got, &st)
				} else {
					d = compareResult(c.goldens[i], got, &st)
				}
				if d != nil {
					if len(results) > 1 {
						d.what = fmt.Sprintf("run %d of %d: %s", k+1, len(results), d.what)
					}
					rep.report(t, oc, i, d, c.goldens[i], got)
					return
				}
			}
		})
	}
	return st
}

// TestOracleGolden replays the committed corpus: the hand-written cases (one per
// feature and pitfall of the oracle README), the generated ones and the bench
// cases. Run one case with e.g.
//
//	go test ./actor -run 'TestOracleGolden/hand/pitfall09' -v
func TestOracleGolden(t *testing.T) {
	rep := &reporter{detailed: 15}
	for _, load := range []func(testing.TB) corpus{loadHand, loadGenerated, loadBenchCorpus} {
		c := load(t)
		t.Run(c.name, func(t *testing.T) {
			st := replay(t, c, rep, runCase)
			t.Logf("%s: %d cases (%d config errors, %d xorc overrides), %d steps compared, %d cases cut at an XState anomaly (%d steps not comparable)",
				c.name, len(c.cases), st.configErrors, st.overridden, st.steps, st.anomalyCases, st.skippedSteps)
		})
	}
	if n := rep.failures.Load(); n > 0 {
		t.Errorf("%d cases differ from XState", n)
	}
}

// TestOracleGoldenStepCache replays the corpus with the step cache on from
// the first step: each case runs twice on one machine, the second run
// replaying the macrosteps the first one cached, and both must match XState.
func TestOracleGoldenStepCache(t *testing.T) {
	rep := &reporter{detailed: 15}
	for _, load := range []func(testing.TB) corpus{loadHand, loadGenerated, loadBenchCorpus} {
		c := load(t)
		t.Run(c.name, func(t *testing.T) {
			st := replay(t, c, rep, runCaseStepCache)
			t.Logf("%s: %d runs, %d steps compared", c.name, st.cases, st.steps)
		})
	}
	if n := rep.failures.Load(); n > 0 {
		t.Errorf("%d cases differ from XState with the step cache", n)
	}
}

// TestOracleGoldenInPlace replays the corpus as the machine actor steps
// (Interpreter.stepInPlace, the snapshot updated where it is kept): twice
// on one machine with the step cache on, like TestOracleGoldenStepCache.
func TestOracleGoldenInPlace(t *testing.T) {
	rep := &reporter{detailed: 15}
	for _, load := range []func(testing.TB) corpus{loadHand, loadGenerated, loadBenchCorpus} {
		c := load(t)
		t.Run(c.name, func(t *testing.T) {
			st := replay(t, c, rep, func(raw json.RawMessage) (res []actor.CaseResult, panicked string) {
				defer func() {
					if r := recover(); r != nil {
						panicked = fmt.Sprint(r)
					}
				}()
				first, second := actor.RunCaseInPlace(raw)
				return []actor.CaseResult{first, second}, ""
			})
			t.Logf("%s: %d runs, %d steps compared", c.name, st.cases, st.steps)
		})
	}
	if n := rep.failures.Load(); n > 0 {
		t.Errorf("%d cases differ from XState when stepped in place", n)
	}
}

// TestOracleCorpus checks the corpus itself: consistent files, unique names,
// overrides that say why, and generated cases that are exactly what the
// committed generator produces for the recorded seed (otherwise the goldens
// are stale: rerun scripts/oracle-golden.sh).
func TestOracleCorpus(t *testing.T) {
	hand := loadHand(t)
	require.Len(t, hand.goldens, len(hand.cases))
	names := map[string]bool{}
	prefixes := map[string]int{}
	for i, c := range hand.cases {
		require.NotEmpty(t, c.Name, "hand case %d has no name", i)
		require.False(t, names[c.Name], "duplicate hand case name %s", c.Name)
		names[c.Name] = true
		prefixes[strings.SplitN(c.Name, "/", 2)[0]]++
		if c.Xorc != nil {
			assert.NotEmpty(t, c.Xorc.Why, "%s: an xorc override must say why", c.Name)
			assert.True(t, c.Xorc.Expect != nil || c.Xorc.ConfigError != nil, "%s: an xorc override needs expect or configError", c.Name)
		}
	}
	for i := 1; i <= 13; i++ {
		assert.Positive(t, prefixes[fmt.Sprintf("pitfall%02d", i)], "a hand case for pitfall %d", i)
	}
	for _, p := range []string{"feature", "action", "guard", "events", "error", "loop", "config", "xstate-bug"} {
		assert.Positive(t, prefixes[p], "hand cases for %s", p)
	}

	meta, err := os.ReadFile(filepath.Join(oracleDir, "gen.meta"))
	require.NoError(t, err)
	var seed uint64
	var n int
	for _, line := range strings.Split(string(meta), "\n") {
		k, v, _ := strings.Cut(line, " ")
		switch k {
		case "seed":
			seed, err = strconv.ParseUint(v, 10, 64)
			require.NoError(t, err)
		case "cases":
			n, err = strconv.Atoi(v)
			require.NoError(t, err)
		}
	}
	gen := loadGenerated(t)
	require.Len(t, gen.cases, n)
	require.Len(t, gen.goldens, n)
	for i, c := range gen.cases {
		want, err := casegen.One(seed, i).MarshalJSON()
		require.NoError(t, err)
		require.Equal(t, string(want), string(c.Raw), "generated case %d is not casegen.One(%d, %d): regenerate the goldens", i, seed, i)
	}
}

// ---------------------------------------------------------------------------
// Live differential test (opt-in).
// ---------------------------------------------------------------------------

// TestOracleLive generates fresh random cases, runs them through the real
// XState oracle and through xorc, and compares the results.
//
//	XORC_ORACLE_DIR=/work/scratch/oracle [XORC_ORACLE_SEED=42] [XORC_ORACLE_N=500] \
//	    go test ./actor -run TestOracleLive -v
//
// XORC_ORACLE_DIR is an oracle directory where `npm ci` has been run.
func TestOracleLive(t *testing.T) {
	dir := os.Getenv("XORC_ORACLE_DIR")
	if dir == "" {
		t.Skip("live differential test: set XORC_ORACLE_DIR to an xstate-oracle directory with node_modules installed (npm ci) to run it")
	}
	node, err := exec.LookPath("node")
	require.NoError(t, err, "XORC_ORACLE_DIR is set but node is not on PATH")
	script := filepath.Join(dir, "oracle.mjs")
	require.FileExists(t, script)
	require.DirExists(t, filepath.Join(dir, "node_modules", "xstate"), "run npm ci in %s", dir)

	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("XORC_ORACLE_SEED"); s != "" {
		seed, err = strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "XORC_ORACLE_SEED")
	}
	n := 300
	if s := os.Getenv("XORC_ORACLE_N"); s != "" {
		n, err = strconv.Atoi(s)
		require.NoError(t, err, "XORC_ORACLE_N")
	}
	t.Logf("live oracle: %d cases, seed %d (XORC_ORACLE_SEED=%d reproduces this run)", n, seed, seed)

	raws := make([][]byte, n)
	for i := range raws {
		raw, err := casegen.One(seed, i).MarshalJSON()
		require.NoError(t, err)
		raws[i] = raw
	}
	// XState itself can fail on a generated case (e.g. a timer storm that
	// runs the oracle out of memory before its MAX_TIMER_FIRINGS): the oracle
	// runs on chunks of cases, a chunk that fails runs again case by case,
	// and the cases XState cannot finish are left out of the comparison and
	// named (reproduce one with `gencases -seed S -first I -n 1`).
	runOracle := func(raws [][]byte) ([]goldenResult, error) {
		var in bytes.Buffer
		for _, raw := range raws {
			in.Write(raw)
			in.WriteByte('\n')
		}
		ctx, cancel := context.WithTimeout(context.Background(), liveOracleTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, "--max-old-space-size=2048", script, "--jsonl")
		cmd.Stdin = &in
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("%w: %s", err, firstLine(strings.TrimSpace(stderr.String())))
		}
		var goldens []goldenResult
		for i, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
			var r goldenResult
			if err := json.Unmarshal(line, &r); err != nil {
				return nil, fmt.Errorf("oracle output line %d: %w", i+1, err)
			}
			goldens = append(goldens, r)
		}
		if len(goldens) != len(raws) {
			return nil, fmt.Errorf("oracle answered %d of %d cases", len(goldens), len(raws))
		}
		return goldens, nil
	}
	var cases []oracleCase
	var goldens []goldenResult
	var xstateFailed []string
	for lo := 0; lo < n; lo += liveOracleChunk {
		chunk := raws[lo:min(lo+liveOracleChunk, n)]
		g, err := runOracle(chunk)
		if err != nil {
			g = nil
			for k, raw := range chunk {
				one, err := runOracle([][]byte{raw})
				if err != nil {
					xstateFailed = append(xstateFailed, fmt.Sprintf("case %d: %v", lo+k, err))
					continue
				}
				cases = append(cases, parseCase(t, raw, ""))
				goldens = append(goldens, one[0])
			}
			continue
		}
		for _, raw := range chunk {
			cases = append(cases, parseCase(t, raw, ""))
		}
		goldens = append(goldens, g...)
	}
	for _, f := range xstateFailed {
		t.Logf("XState failed, left out: %s (XORC_ORACLE_SEED=%d)", f, seed)
	}
	require.Less(t, len(xstateFailed), max(n/100, 1), "XState failed on too many cases: is the oracle broken?")
	c := corpus{name: "live", cases: cases, goldens: goldens}
	rep := &reporter{detailed: 10}
	st := replay(t, c, rep, runCase)
	t.Logf("live: %d cases (%d config errors, %d left out: XState failed), %d steps compared, %d cases cut at an XState anomaly (%d steps not comparable)",
		len(cases), st.configErrors, len(xstateFailed), st.steps, st.anomalyCases, st.skippedSteps)
	if f := rep.failures.Load(); f > 0 {
		t.Errorf("%d of %d cases differ from XState (XORC_ORACLE_SEED=%d)", f, n, seed)
	}
	t.Run("stepcache", func(t *testing.T) {
		rep := &reporter{detailed: 10}
		st := replay(t, c, rep, runCaseStepCache)
		t.Logf("live with the step cache: %d runs, %d steps compared", st.cases, st.steps)
		if f := rep.failures.Load(); f > 0 {
			t.Errorf("%d of %d cases differ from XState with the step cache (XORC_ORACLE_SEED=%d)", f, n, seed)
		}
	})
}

// The live oracle runs on chunks of this many cases, each with this timeout.
const (
	liveOracleChunk   = 250
	liveOracleTimeout = 2 * time.Minute
)

// TestCompareResult checks the comparison rules themselves.
func TestCompareResult(t *testing.T) {
	step := func(i int, value, context, status, errMsg, anomaly string) goldenStep {
		ev := json.RawMessage(`null`)
		if i > 0 {
			ev = json.RawMessage(`{"type":"E"}`)
		}
		return goldenStep{Step: i, Event: ev, Value: json.RawMessage(value), Context: json.RawMessage(context),
			Status: status, Done: status == "done", Error: errMsg, Anomaly: anomaly}
	}
	gostep := func(i int, value any, context actor.Context, status, errMsg string) actor.CaseStep {
		ev := json.RawMessage(`null`)
		if i > 0 {
			ev = json.RawMessage(`{"type":"E"}`)
		}
		return actor.CaseStep{Step: i, Event: ev, Value: value, Context: context, Status: status, Done: status == "done", Error: errMsg}
	}
	loop := "Infinite loop detected: the machine has processed more than 1000 microsteps"
	tests := []struct {
		name    string
		want    goldenResult
		got     actor.CaseResult
		ok      bool
		skipped int
	}{
		{"config error on both sides, different messages",
			goldenResult{Error: "config: Child state 'x' does not exist"}, actor.CaseResult{Error: "config: states.a.on.E: unknown target"}, true, 0},
		{"config error missed",
			goldenResult{Error: "config: unknown action"}, actor.CaseResult{Steps: []actor.CaseStep{gostep(0, "a", actor.Context{}, "active", "")}}, false, 0},
		{"unexpected config error",
			goldenResult{Steps: []goldenStep{step(0, `"a"`, `{}`, "active", "", "")}}, actor.CaseResult{Error: "config: nope"}, false, 0},
		{"value and context compared as unordered data",
			goldenResult{Steps: []goldenStep{step(0, `{"p":{"r2":{},"r1":"a"}}`, `{"b":[1,{"y":2,"x":1}],"a":1.0}`, "active", "", "")}},
			actor.CaseResult{Steps: []actor.CaseStep{gostep(0, map[string]any{"p": map[string]any{"r1": "a", "r2": map[string]any{}}}, actor.Context{"a": 1, "b": []any{1, map[string]any{"x": 1, "y": 2}}}, "active", "")}},
			true, 0},
		{"different context",
			goldenResult{Steps: []goldenStep{step(0, `"a"`, `{"n":1}`, "active", "", "")}},
			actor.CaseResult{Steps: []actor.CaseStep{gostep(0, "a", actor.Context{"n": "1"}, "active", "")}}, false, 0},
		{"exact infinite-loop message",
			goldenResult{Steps: []goldenStep{step(0, `"a"`, `{}`, "error", loop, "")}},
			actor.CaseResult{Steps: []actor.CaseStep{gostep(0, "a", actor.Context{}, "error", loop+".")}}, false, 0},
		{"other errors only need to be present",
			goldenResult{Steps: []goldenStep{step(0, `"a"`, `{}`, "error", "boom", "")}},
			actor.CaseResult{Steps: []actor.CaseStep{gostep(0, "a", actor.Context{}, "error", "user action failed")}}, true, 0},
		{"missing step",
			goldenResult{Steps: []goldenStep{step(0, `"a"`, `{}`, "active", "", ""), step(1, `"b"`, `{}`, "active", "", "")}},
			actor.CaseResult{Steps: []actor.CaseStep{gostep(0, "a", actor.Context{}, "active", "")}}, false, 0},
		{"steps from an anomaly on are not compared",
			goldenResult{Steps: []goldenStep{step(0, `"a"`, `{}`, "active", "", ""), step(1, `"b"`, `{}`, "active", "", "bad"), step(2, `"c"`, `{}`, "active", "", "")}},
			actor.CaseResult{Steps: []actor.CaseStep{gostep(0, "a", actor.Context{}, "active", ""), gostep(1, "x", actor.Context{}, "active", "")}}, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st stats
			d := compareResult(tt.want, tt.got, &st)
			if tt.ok {
				assert.Nil(t, d)
			} else {
				assert.NotNil(t, d)
			}
			assert.Equal(t, tt.skipped, st.skippedSteps)
		})
	}
}

// TestRunCaseResultsOutliveTheArena: RunCase reuses the memory of a case's
// definition and machine for the next case; no result may depend on it. The
// results of the whole hand corpus and of the bench cases, taken one after
// the other, are the same once every case has run (after other cases have
// reused the memory) and after a GC.
func TestRunCaseResultsOutliveTheArena(t *testing.T) {
	var cases []oracleCase
	for _, load := range []func(testing.TB) corpus{loadHand, loadBenchCorpus} {
		cases = append(cases, load(t).cases...)
	}
	results := make([]actor.CaseResult, len(cases))
	first := make([]string, len(cases))
	for i, c := range cases {
		results[i] = actor.RunCase(c.Raw)
		first[i] = compact(results[i])
	}
	runtime.GC()
	for i, c := range cases {
		require.Equal(t, first[i], compact(results[i]), "case %s changed after later cases ran", c.Name)
	}
}
