package actor

import "sync"

// loadArena is the memory of the slabs of one definition and one machine
// (definition reader and compiler) that RunCase reuses from case to case.
// Nothing of a case's definition or machine outlives the case (its result
// holds values, contexts and strings, none of them in these slabs), so
// RunCase clears the slabs and hands them to the next case instead of
// leaving them to the garbage collector. Everything else passes a
// throwaway arena: the slabs then belong to the definition or machine.
type loadArena struct {
	// definition reader
	states []stateDef
	sptrs  []*stateDef
	evs    []eventDef
	trans  []transDef
	strs   []string
	refs   []ref
	frames []pathFrame
	// compiler
	nodes   []stateNode
	defs    []*stateDef
	pathIDs []string
	evNames []string
	tslab   []transition
	islab   []int32
	pslab   []*transition
	dslab   []descList
	cslab   [][]*transition
}

var arenaPool = sync.Pool{New: func() any { return new(loadArena) }}

// carve returns n elements of the slab *s, with exactly that capacity (an
// append to them never writes into the next ones). A slab that is out of
// room is replaced by a new one of twice its size, between minChunk and
// maxChunk elements (or n, if more); the old one stays with what was carved
// from it.
func carve[T any](s *[]T, n, maxChunk, minChunk int) []T {
	if len(*s)+n > cap(*s) {
		*s = make([]T, 0, max(min(2*cap(*s), maxChunk), n, minChunk))
	}
	l := len(*s)
	*s = (*s)[:l+n]
	return (*s)[l : l+n : l+n]
}

// take returns s[:0] when s can hold n elements (released slabs are zero),
// else a new slice.
func take[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:0]
	}
	return make([]T, 0, n)
}

func clearSlab[T any](s []T) []T {
	clear(s)
	return s[:0]
}

// release clears the slabs (their length is what the last case used) and
// puts the arena back in the pool. Nothing may use the definition or the
// machine made with it afterwards.
func (a *loadArena) release() {
	a.states = clearSlab(a.states)
	a.sptrs = clearSlab(a.sptrs)
	a.evs = clearSlab(a.evs)
	a.trans = clearSlab(a.trans)
	a.strs = clearSlab(a.strs)
	a.refs = clearSlab(a.refs)
	a.frames = clearSlab(a.frames)
	a.nodes = clearSlab(a.nodes)
	a.defs = clearSlab(a.defs)
	a.pathIDs = clearSlab(a.pathIDs)
	a.evNames = clearSlab(a.evNames)
	a.tslab = clearSlab(a.tslab)
	a.islab = clearSlab(a.islab)
	a.pslab = clearSlab(a.pslab)
	a.dslab = clearSlab(a.dslab)
	a.cslab = clearSlab(a.cslab)
	arenaPool.Put(a)
}
