package actor

// evTable maps event types to interned ids: open addressing over a
// power-of-two table with a cheap hash of the length and a few bytes
// (collisions are resolved by comparing the strings). It is
// faster than a Go map for the short strings event types are, and
// allocation free.
type evTable struct {
	mask  uint32
	slots []evSlot
}

type evSlot struct {
	key string
	id  int32 // -1: empty
}

func evHash(s string) uint32 {
	n := len(s)
	if n == 0 {
		return 0
	}
	// The length and three sampled bytes: cheap, and collisions only cost a
	// string comparison.
	return uint32(n)*0x9E3779B1 ^ uint32(s[0])*0x85EBCA77 ^ uint32(s[n-1])*0xC2B2AE3D ^ uint32(s[n/2])*0x27D4EB2F ^ uint32(s[n-1-n/4])*0x165667B1
}

func newEvTable(names []string) evTable {
	size := 8
	for size < 4*len(names) {
		size *= 2
	}
	t := evTable{mask: uint32(size - 1), slots: make([]evSlot, size)}
	for i := range t.slots {
		t.slots[i].id = -1
	}
	for id, name := range names {
		for h := evHash(name) & t.mask; ; h = (h + 1) & t.mask {
			if t.slots[h].id < 0 {
				t.slots[h] = evSlot{key: name, id: int32(id)}
				break
			}
		}
	}
	return t
}

// lookup returns the id of s, or -1.
func (t *evTable) lookup(s string) int32 {
	for h := evHash(s) & t.mask; ; h = (h + 1) & t.mask {
		sl := &t.slots[h]
		if sl.id < 0 || sl.key == s {
			return sl.id
		}
	}
}
