package actor

// The reference oracle's runner in Go: one case (machine, events with $wait,
// delays) on a simulated clock, in the oracle's output format
// (../shared/tools/xstate-oracle/README.md, "Output format").

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"time"
)

// maxTimerRounds bounds one $wait like the oracle's MAX_TIMER_FIRINGS.
const maxTimerRounds = 10000

var errTimerRounds = fmt.Errorf("more than %d timer rounds in one $wait (0ms timer loop?)", maxTimerRounds)

// RunCase runs one case in the oracle's input format (machine, events with
// $wait, delays) on a simulated clock and returns the oracle's output.
func RunCase(data json.RawMessage) CaseResult {
	p := parserPool.Get().(*jsonParser)
	defer p.release() // the result holds no part of the parse tree
	v, err := p.parse(data)
	if err != nil {
		return CaseResult{Steps: []CaseStep{}, Error: "config: " + err.Error()}
	}
	return runCaseValue(v).result()
}

// RunCases runs a JSON array of cases (the oracle's batch input).
func RunCases(data []byte) ([]CaseResult, error) {
	p := parserPool.Get().(*jsonParser)
	defer p.release()
	v, err := p.parse(data)
	if err != nil {
		return nil, err
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: want a JSON array of cases, got %s", ErrJSONSyntax, jsonKind(v))
	}
	out := make([]CaseResult, len(arr))
	for i, c := range arr {
		out[i] = runCaseValue(c).result()
	}
	return out, nil
}

// RunOracleInput does what the oracle's main() does: one case object in ->
// one JSON line per step out (or {"error": "config: ..."}); a JSON array of
// cases in -> one JSON array of {"steps": [...], "error"?: ...} out.
func RunOracleInput(r io.Reader, w io.Writer) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	v, err := parseJSON(data)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if arr, ok := v.([]any); ok {
		var b []byte
		b = append(b, '[')
		for i, c := range arr {
			if i > 0 {
				b = append(b, ',')
			}
			b = runCaseValue(c).appendResult(b)
			if len(b) > 1<<20 {
				if _, err := bw.Write(b); err != nil {
					return err
				}
				b = b[:0]
			}
		}
		b = append(b, ']', '\n')
		if _, err := bw.Write(b); err != nil {
			return err
		}
		return bw.Flush()
	}
	run := runCaseValue(v)
	var b []byte
	for i := range run.steps {
		b = run.appendStep(b[:0], i)
		b = append(b, '\n')
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	if run.err != "" {
		b = append(b[:0], `{"error":`...)
		b = appendJSString(b, run.err)
		b = append(b, '}', '\n')
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// RunOracleJSONL is the oracle's --jsonl mode: one case per input line, one
// result object per output line.
func RunOracleJSONL(r io.Reader, w io.Writer) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<30)
	bw := bufio.NewWriter(w)
	var b []byte
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		p := parserPool.Get().(*jsonParser)
		v, err := p.parse(line)
		if err != nil {
			p.release()
			return err
		}
		b = runCaseValue(v).appendResult(b[:0])
		p.release()
		b = append(b, '\n')
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return bw.Flush()
}

// caseRun is a case's result with the exact clock values (ms, float64).
type caseRun struct {
	steps   []CaseStep
	nows    []float64
	err     string
	inPlace bool // step with stepInPlace, as the machine actor does (tests)
}

func (r *caseRun) result() CaseResult {
	if r.steps == nil {
		r.steps = []CaseStep{}
	}
	return CaseResult{Steps: r.steps, Error: r.err}
}

func (r *caseRun) appendResult(b []byte) []byte {
	b = append(b, `{"steps":[`...)
	for i := range r.steps {
		if i > 0 {
			b = append(b, ',')
		}
		b = r.appendStep(b, i)
	}
	b = append(b, ']')
	if r.err != "" {
		b = append(b, `,"error":`...)
		b = appendJSString(b, r.err)
	}
	return append(b, '}')
}

func (r *caseRun) appendStep(b []byte, i int) []byte {
	s := &r.steps[i]
	b = append(b, `{"step":`...)
	b = appendJSNumber(b, float64(s.Step))
	b = append(b, `,"event":`...)
	if s.Event == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, s.Event...)
	}
	b = append(b, `,"value":`...)
	b = appendJS(b, s.Value)
	b = append(b, `,"context":`...)
	b = appendJS(b, map[string]any(s.Context))
	b = append(b, `,"status":`...)
	b = appendJSString(b, s.Status)
	if s.Done {
		b = append(b, `,"done":true`...)
	} else {
		b = append(b, `,"done":false`...)
	}
	b = append(b, `,"now":`...)
	b = appendJSNumber(b, r.nows[i])
	if s.Error != "" {
		b = append(b, `,"error":`...)
		b = appendJSString(b, s.Error)
	}
	return append(b, '}')
}

// simTimer is a pending timeout of the simulated clock.
type simTimer struct {
	seq   int
	start float64
	delay float64
	ev    Event
	id    string
}

// caseRunner is the simulated actor + SimulatedClock of the oracle.
type caseRunner struct {
	it        *Interpreter
	inPlace   bool
	snap      Snapshot
	now       float64
	timers    []simTimer     // by deadline, then scheduling order (seq)
	timerMap  map[string]int // timer id -> seq of its latest timeout
	seq       int
	firings   int
	values    []caseValue // the values of recent configurations
	nextValue int         // the entry of values replaced next
	valuePos  []int32     // scratch of Snapshot.value
	valueLink []int32
}

// caseValue is the state value of a configuration (active list, in order).
type caseValue struct {
	active []int32
	hash   uint64
	value  any
}

// maxCaseValues bounds the configurations whose values a case run keeps:
// a case's steps mostly move between a few configurations, and a value is
// shared data in the result.
const maxCaseValues = 16

// value returns the state value of s, reusing the value of an earlier step
// with the same configuration.
func (r *caseRunner) value(s *Snapshot) any {
	h := cfgHash(s.active, nil)
	for i := range r.values {
		if v := &r.values[i]; v.hash == h && equalInt32s(v.active, s.active) {
			return v.value
		}
	}
	if r.valuePos == nil {
		n := len(s.m.states)
		buf := make([]int32, 3*n)
		r.valuePos, r.valueLink = buf[:n], buf[n:]
	}
	v := caseValue{active: s.active, hash: h, value: s.value(r.valuePos, r.valueLink)}
	if len(r.values) < maxCaseValues {
		if r.values == nil {
			r.values = make([]caseValue, 0, maxCaseValues)
		}
		r.values = append(r.values, v)
	} else {
		r.values[r.nextValue] = v
		r.nextValue = (r.nextValue + 1) % maxCaseValues
	}
	return v.value
}

func runCaseValue(v any) *caseRun {
	run := &caseRun{}
	a := arenaPool.Get().(*loadArena)
	m, events := run.load(v, a)
	if run.err == "" {
		run.play(m.NewInterpreter(), events)
	}
	a.release() // the result holds nothing of the machine
	return run
}

// load compiles the case's machine (its slabs from a, nil: new ones) and
// returns it with the case's events; a bad case sets r.err.
func (run *caseRun) load(v any, a *loadArena) (*Machine, []any) {
	c, ok := v.(*jsonObject)
	if !ok {
		run.err = "config: case must be an object"
		return nil, nil
	}
	mv, _ := c.get("machine")
	def, err := definitionIn(mv, a)
	if err != nil {
		run.err = "config: " + err.Error()
		return nil, nil
	}
	impl := &Implementations{}
	if dv, ok := c.get("delays"); ok && dv != nil {
		do, ok := dv.(*jsonObject)
		if !ok {
			run.err = "config: delays must be an object of ms numbers"
			return nil, nil
		}
		impl.Delays = make(map[string]time.Duration, len(do.keys))
		for i, k := range do.keys {
			f, ok := do.vals[i].(float64)
			if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
				run.err = fmt.Sprintf("config: delays.%s must be a finite number of ms, got %s", k, jsonShort(do.vals[i]))
				return nil, nil
			}
			impl.Delays[k] = msToDuration(f)
		}
	}
	m, err := compileIn(def, impl, a)
	if err != nil {
		run.err = "config: " + err.Error()
		return nil, nil
	}
	var events []any
	if ev, ok := c.get("events"); ok && ev != nil {
		events, ok = ev.([]any)
		if !ok {
			run.err = "config: events must be an array"
			return nil, nil
		}
	}
	return m, events
}

// play runs the events on a new actor of the interpreter's machine.
func (run *caseRun) play(it *Interpreter, events []any) {
	r := &caseRunner{it: it, inPlace: run.inPlace, timerMap: map[string]int{}}
	snap, effects := r.it.Start()
	r.snap = snap
	r.apply(effects)
	run.steps = make([]CaseStep, 0, len(events)+1)
	run.nows = make([]float64, 0, len(events)+1)
	r.record(run, nil, "")
	var rawBuf []byte
	for _, e := range events {
		// The events' JSON shares one buffer (earlier slices stay valid when
		// it grows).
		start := len(rawBuf)
		rawBuf = appendJS(rawBuf, e)
		raw := rawBuf[start:len(rawBuf):len(rawBuf)]
		var stepErr error
		if o, ok := e.(*jsonObject); ok && isWait(o) {
			stepErr = r.wait(o)
		} else {
			ev, err := eventFromJSON(e)
			if err != nil {
				stepErr = err
			} else {
				r.send(ev)
			}
		}
		msg := ""
		if stepErr != nil {
			msg = stepErr.Error()
		}
		r.record(run, raw, msg)
	}
}

func isWait(o *jsonObject) bool {
	t, _ := o.get("type")
	return t == "$wait"
}

func (r *caseRunner) record(run *caseRun, event []byte, extraErr string) {
	s := r.snap
	step := CaseStep{
		Step:    len(run.steps),
		Value:   r.value(&s),
		Context: s.Context,
		Status:  s.Status.String(),
		Done:    s.Status == StatusDone,
		Now:     int64(r.now),
	}
	if event != nil {
		step.Event = json.RawMessage(event)
	}
	if s.Status == StatusError {
		step.Error = s.Error
	}
	if extraErr != "" {
		step.Error = extraErr
	}
	run.steps = append(run.steps, step)
	run.nows = append(run.nows, r.now)
}

// send delivers an event to the machine (ignored once it stopped).
func (r *caseRunner) send(ev Event) {
	if r.snap.Status != StatusActive {
		return
	}
	if r.inPlace {
		r.apply(r.it.stepInPlace(&r.snap, ev, r.it.eventID(ev.Type)))
		return
	}
	snap, effects := r.it.Step(r.snap, ev)
	r.snap = snap
	r.apply(effects)
}

func (r *caseRunner) apply(effects []Effect) {
	for _, e := range effects {
		switch e.Kind {
		case EffectStartTimer:
			r.seq++
			r.addTimer(simTimer{seq: r.seq, start: r.now, delay: float64(e.Delay) / 1e6, ev: e.Event, id: e.TimerID})
			r.timerMap[e.TimerID] = r.seq
		case EffectCancelTimer:
			seq, ok := r.timerMap[e.TimerID]
			delete(r.timerMap, e.TimerID)
			if ok {
				r.removeTimer(seq)
			}
		}
	}
	if r.snap.Status != StatusActive && len(r.timers) > 0 {
		// XState's stop procedure cancels every scheduled event.
		r.timers = r.timers[:0]
		clear(r.timerMap)
	}
}

// addTimer inserts t (the latest scheduled) after the timers due before or
// with it: the order of the oracle's stable sort by deadline.
func (r *caseRunner) addTimer(t simTimer) {
	d := t.start + t.delay
	i := sort.Search(len(r.timers), func(i int) bool { return r.timers[i].start+r.timers[i].delay > d })
	r.timers = slices.Insert(r.timers, i, t)
}

func (r *caseRunner) removeTimer(seq int) {
	for i, t := range r.timers {
		if t.seq == seq {
			r.timers = append(r.timers[:i], r.timers[i+1:]...)
			return
		}
	}
}

var errTimeTravel = errors.New("Unable to travel back in time")

// wait is the oracle's advance(clock, ms).
func (r *caseRunner) wait(o *jsonObject) error {
	ms := 0.0
	if v, ok := o.get("ms"); ok && v != nil {
		f, ok := v.(float64)
		if !ok {
			return fmt.Errorf("$wait: ms must be a number, got %s", jsonShort(v))
		}
		ms = f
	}
	target := r.now + ms
	r.firings = 0
	for n := 0; n < maxTimerRounds; n++ {
		next := math.Inf(1)
		for _, t := range r.timers {
			next = math.Min(next, t.start+t.delay)
		}
		if next > target {
			return r.set(target)
		}
		if err := r.set(math.Max(next, r.now)); err != nil {
			return err
		}
	}
	return errTimerRounds
}

// set is SimulatedClock.set: move the clock and fire every due timeout.
func (r *caseRunner) set(t float64) error {
	if r.now > t {
		return errTimeTravel
	}
	r.now = t
	return r.flush()
}

// flush is SimulatedClock.flushTimeouts: timeouts fire in deadline order
// (scheduling order for equal deadlines); when one schedules or cancels a
// timeout, the clock sorts the remaining ones again and starts over from the
// first. Either way the next to fire is the first due timeout in that
// order, which the sorted r.timers gives without sorting again (a timer
// storm would otherwise cost a sort per firing).
func (r *caseRunner) flush() error {
	for {
		i := slices.IndexFunc(r.timers, func(t simTimer) bool { return r.now-t.start >= t.delay })
		if i < 0 {
			return nil
		}
		r.firings++
		if r.firings > maxTimerRounds {
			return errTimerRounds
		}
		t := r.timers[i]
		r.timers = slices.Delete(r.timers, i, i+1)
		delete(r.timerMap, t.id)
		r.send(t.ev)
	}
}
