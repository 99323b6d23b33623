//go:build unix

package registry

import (
	"fmt"
	"testing"
)

func benchShm(b *testing.B, machines int) *Shm {
	o := testOpts(b)
	o.MaxMachines = 256
	s := open(b, o)
	for i := 0; i < machines; i++ {
		if err := s.Register(fmt.Sprintf("machine-%d", i), fmt.Sprintf("$%d", i)); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkLookup: a lock-free lookup of a registered machine in a table
// holding 200 of the 256 allowed.
func BenchmarkLookup(b *testing.B) {
	s := benchShm(b, 200)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Lookup("machine-77"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLookupParallel: lookups from every core at once.
func BenchmarkLookupParallel(b *testing.B) {
	s := benchShm(b, 200)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Lookup("machine-123"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkLookupUnknown: a miss walks the probe chain to a free entry.
func BenchmarkLookupUnknown(b *testing.B) {
	s := benchShm(b, 200)
	for b.Loop() {
		if _, err := s.Lookup("not-there"); err == nil {
			b.Fatal("found")
		}
	}
}

// BenchmarkRegisterUnregister: two mutations under the file lock.
func BenchmarkRegisterUnregister(b *testing.B) {
	s := benchShm(b, 100)
	for b.Loop() {
		if err := s.Register("churn", "c"); err != nil {
			b.Fatal(err)
		}
		if err := s.Unregister("churn"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIsAlive: the check a sender makes before writing to an inbox.
func BenchmarkIsAlive(b *testing.B) {
	s := benchShm(b, 0)
	self := s.Self()
	for b.Loop() {
		if !s.IsAlive(self.Slot, self.Generation) {
			b.Fatal("not alive")
		}
	}
}

// BenchmarkTouch: bump a machine's last activity.
func BenchmarkTouch(b *testing.B) {
	s := benchShm(b, 200)
	for b.Loop() {
		if err := s.Touch("machine-5"); err != nil {
			b.Fatal(err)
		}
	}
}
