package actor

// Test-only access to internals for the package's external tests.

// RunCaseStepCache runs a case (RunCase's input) twice on one compiled
// machine, each time with a new interpreter that uses the machine's step
// cache from its first step: the first run fills the cache, the second one
// mostly replays it. Both must give RunCase's result.
func RunCaseStepCache(data []byte) (first, second CaseResult) { return runCaseTwice(data, false) }

// RunCaseInPlace is RunCaseStepCache with the machine actor's way of
// stepping (stepInPlace): the first run mostly takes the uncached path, the
// second one the cached one.
func RunCaseInPlace(data []byte) (first, second CaseResult) { return runCaseTwice(data, true) }

func runCaseTwice(data []byte, inPlace bool) (first, second CaseResult) {
	v, err := parseJSON(data)
	if err != nil {
		r := CaseResult{Steps: []CaseStep{}, Error: "config: " + err.Error()}
		return r, r
	}
	run1 := &caseRun{inPlace: inPlace}
	m, events := run1.load(v, nil)
	if run1.err != "" {
		return run1.result(), run1.result()
	}
	for _, run := range []*caseRun{run1, {inPlace: inPlace}} {
		it := m.NewInterpreter()
		it.cacheAfter = 0
		run.play(it, events)
		if run != run1 {
			second = run.result()
		}
	}
	return run1.result(), second
}

// StepCacheStats reports how many configurations m has interned (0 when
// its step cache is off).
func StepCacheStats(m *Machine) (configs int) {
	sc := m.steps.Load()
	if sc == nil {
		return 0
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.n
}

// DisableStepCache makes it ignore its machine's step cache: every step runs
// the interpreter (benchmarks of the uncached path).
func DisableStepCache(it *Interpreter) { it.cacheAfter = -1 }
