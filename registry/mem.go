package registry

// Word-wise access to shared memory. Every shared word is read and written
// with sync/atomic through a pointer into the mapping: other processes write
// the same memory concurrently, and the Go memory model only orders atomic
// accesses. Callers pass slices whose base is 8-byte aligned (the mapping is
// page aligned and every table and entry offset is a multiple of 8) and whose
// lengths are multiples of 8; the slice indexing bounds-checks every access.

import (
	"sync/atomic"
	"unsafe"
)

// u64 returns a pointer to the 8-byte word at b[off:].
func u64(b []byte, off int) *uint64 {
	_ = b[off+7]
	return (*uint64)(unsafe.Pointer(&b[off]))
}

// u32 returns a pointer to the 4-byte word at b[off:].
func u32(b []byte, off int) *uint32 {
	_ = b[off+3]
	return (*uint32)(unsafe.Pointer(&b[off]))
}

// loadWords copies src into dst one atomic 64-bit load at a time.
func loadWords(dst, src []byte) {
	n := min(len(dst), len(src)) &^ 7
	for i := 0; i < n; i += 8 {
		ne.PutUint64(dst[i:], atomic.LoadUint64(u64(src, i)))
	}
}

// storeWords copies src[from:to] into dst[from:to] one atomic 64-bit store at
// a time. from and to must be multiples of 8.
func storeWords(dst, src []byte, from, to int) {
	for i := from; i < to; i += 8 {
		atomic.StoreUint64(u64(dst, i), ne.Uint64(src[i:]))
	}
}

// zeroWords clears b with atomic stores.
func zeroWords(b []byte) {
	for i := 0; i+8 <= len(b); i += 8 {
		atomic.StoreUint64(u64(b, i), 0)
	}
}
