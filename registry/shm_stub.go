//go:build !unix

package registry

import (
	"errors"
	"fmt"
)

// errNoShm: the shared-memory registry needs mmap, flock and pids (Unix).
var errNoShm = fmt.Errorf("shared-memory registry: %w on this OS", errors.ErrUnsupported)

// Shm is the shared-memory Registry; it is only built on Unix.
type Shm struct{ segment }

// OpenShm fails: the shared-memory registry is only built on Unix.
func OpenShm(ShmOptions) (*Shm, error) { return nil, errNoShm }

// View is a read-only mapping of a segment; it is only built on Unix.
type View struct{ segment }

// OpenView fails: the shared-memory registry is only built on Unix.
func OpenView(string) (*View, error) { return nil, errNoShm }

// OpenViewFile fails: the shared-memory registry is only built on Unix.
func OpenViewFile(string) (*View, error) { return nil, errNoShm }

// Inspect fails: the shared-memory registry is only built on Unix.
func Inspect(string) (*Dump, error) { return nil, errNoShm }

// InspectFile fails: the shared-memory registry is only built on Unix.
func InspectFile(string) (*Dump, error) { return nil, errNoShm }

func clockMonotonic() int64 { return 0 }
