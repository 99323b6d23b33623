package actor

import "math/bits"

// bitset is a set of state indices. States are numbered in document order
// (pre-order), so the descendants of state s are exactly the indices in
// (s, end[s]) and range queries answer "is any descendant of s in the set".
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) has(i int32) bool { return b[i>>6]&(1<<(uint(i)&63)) != 0 }
func (b bitset) set(i int32)      { b[i>>6] |= 1 << (uint(i) & 63) }
func (b bitset) unset(i int32)    { b[i>>6] &^= 1 << (uint(i) & 63) }

func (b bitset) clear() {
	for i := range b {
		b[i] = 0
	}
}

// anyIn reports whether some index in [lo, hi) is in the set.
func (b bitset) anyIn(lo, hi int32) bool {
	if lo >= hi {
		return false
	}
	wl, wh := lo>>6, (hi-1)>>6
	maskLo := ^uint64(0) << (uint(lo) & 63)
	maskHi := ^uint64(0) >> (63 - (uint(hi-1) & 63))
	if wl == wh {
		return b[wl]&maskLo&maskHi != 0
	}
	if b[wl]&maskLo != 0 || b[wh]&maskHi != 0 {
		return true
	}
	for w := wl + 1; w < wh; w++ {
		if b[w] != 0 {
			return true
		}
	}
	return false
}

// next returns the smallest index >= i in the set, or -1.
func (b bitset) next(i int32) int32 {
	w := i >> 6
	if int(w) >= len(b) {
		return -1
	}
	word := b[w] & (^uint64(0) << (uint(i) & 63))
	for {
		if word != 0 {
			return w<<6 + int32(bits.TrailingZeros64(word))
		}
		w++
		if int(w) >= len(b) {
			return -1
		}
		word = b[w]
	}
}

// prev returns the largest index <= i in the set, or -1.
func (b bitset) prev(i int32) int32 {
	if i < 0 {
		return -1
	}
	w := i >> 6
	word := b[w] & (^uint64(0) >> (63 - (uint(i) & 63)))
	for {
		if word != 0 {
			return w<<6 + 63 - int32(bits.LeadingZeros64(word))
		}
		w--
		if w < 0 {
			return -1
		}
		word = b[w]
	}
}

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}
