package actor

// strTable maps strings to int32 ids: open addressing over a power-of-two
// table (at most half full), with a hash of every byte of the string. The
// interpreter looks event types up in one on every step (faster than a Go
// map for short strings, and allocation free); the compiler also keeps the
// state ids in one.
type strTable struct {
	mask  uint32
	n     int
	slots []evSlot
}

// evSlot is an entry; w0 and w1 are the key's words (strWords), which
// compare keys of up to 16 bytes without a call.
type evSlot struct {
	key    string
	w0, w1 uint64
	id     int32 // -1: empty
}

// load64 and load32 read 8 and 4 bytes of s at i, little endian (the
// compiler makes each one load).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func load32(s string, i int) uint64 {
	s = s[i : i+4]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24
}

// strWords packs s into two words: for strings of at most 16 bytes, two
// strings of the same length are equal exactly when their words are (the
// loads cover every byte); longer strings give their first and last 8
// bytes.
func strWords(s string) (w0, w1 uint64) {
	n := len(s)
	switch {
	case n >= 8:
		return load64(s, 0), load64(s, n-8)
	case n >= 4:
		return load32(s, 0), load32(s, n-4)
	case n > 0:
		return uint64(s[0])<<16 | uint64(s[n>>1])<<8 | uint64(s[n-1]), 0
	}
	return 0, 0
}

// strHash hashes every byte of s: short strings (event types) from their
// words, with two multiplications.
func strHash(s string) uint32 {
	w0, w1 := strWords(s)
	return wordsHash(s, w0, w1)
}

func wordsHash(s string, w0, w1 uint64) uint32 {
	const prime = 0x9E3779B97F4A7C15
	n := len(s)
	h := (w0 ^ uint64(n)) * prime
	for i := 8; i+8 < n; i += 8 { // the middle of strings longer than 16 bytes
		h = (h ^ load64(s, i)) * prime
	}
	h = (h ^ w1) * prime
	return uint32(h >> 32)
}

func newStrTable(n int) strTable {
	size := 8
	for size < 2*n {
		size *= 2
	}
	t := strTable{mask: uint32(size - 1), slots: make([]evSlot, size)}
	for i := range t.slots {
		t.slots[i].id = -1
	}
	return t
}

// lookup returns the id of s, or -1.
func (t *strTable) lookup(s string) int32 {
	w0, w1 := strWords(s)
	for h := wordsHash(s, w0, w1) & t.mask; ; h = (h + 1) & t.mask {
		sl := &t.slots[h]
		if sl.id < 0 {
			return -1
		}
		if len(sl.key) == len(s) && sl.w0 == w0 && sl.w1 == w1 && (len(s) <= 16 || sl.key == s) {
			return sl.id
		}
	}
}

// add maps s to id unless s is already there; it returns the id s had, or
// -1.
func (t *strTable) add(s string, id int32) int32 {
	if t.slots == nil || 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	w0, w1 := strWords(s)
	for h := wordsHash(s, w0, w1) & t.mask; ; h = (h + 1) & t.mask {
		sl := &t.slots[h]
		if sl.id < 0 {
			*sl = evSlot{key: s, w0: w0, w1: w1, id: id}
			t.n++
			return -1
		}
		if sl.key == s {
			return sl.id
		}
	}
}

func (t *strTable) grow() {
	old := t.slots
	*t = newStrTable(max(4, 2*t.n))
	for _, sl := range old {
		if sl.id >= 0 {
			t.add(sl.key, sl.id)
		}
	}
}
