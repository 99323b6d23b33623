//go:build unix

package registry

import (
	"fmt"
	"runtime/debug"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// View is a read-only mapping of a segment that does not join it: for
// `xorc inspect` and for reading inboxes' statistics. It maps the file
// copy-on-write (MAP_PRIVATE), so even a stray write through it never reaches
// the segment.
type View struct {
	segment
	path string
}

// OpenView maps the named segment in DefaultDir without joining it.
func OpenView(name string) (*View, error) {
	path, err := SegmentPath(name)
	if err != nil {
		return nil, err
	}
	return OpenViewFile(path)
}

// OpenViewFile maps the segment file at path without joining it. The header
// is validated like OpenShm does; the tables are read (and checked) by Dump.
func OpenViewFile(path string) (*View, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open segment %s: %w", path, err)
	}
	defer func() { _ = unix.Close(fd) }() // the mapping outlives the descriptor
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("stat segment %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("segment %s: %w", path, badf("not a regular file (mode %#o)", st.Mode))
	}
	var hb [headerFieldBytes]byte
	n, err := unix.Pread(fd, hb[:], 0)
	if err != nil {
		return nil, fmt.Errorf("read segment header %s: %w", path, err)
	}
	if n < len(hb) {
		return nil, fmt.Errorf("segment %s: %w", path, badf("file is %d bytes: too short for a header", st.Size))
	}
	h, err := decodeHeader(hb[:], st.Size)
	if err != nil {
		return nil, fmt.Errorf("segment %s: %w", path, err)
	}
	mem, err := unix.Mmap(fd, 0, int(h.TotalBytes), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("map segment %s: %w", path, err)
	}
	return &View{segment: segment{mem: mem, h: h, pcache: make([]atomic.Pointer[cachedProc], h.MaxProcesses)}, path: path}, nil
}

// Layout describes the segment's capacities and offsets.
func (v *View) Layout() Layout { return v.layout() }

// Dump reads the header and both tables. Entries that cannot be read are
// listed in Dump.Problems. If the file shrank under the mapping, the fault is
// turned into an error.
func (v *View) Dump() (d *Dump, err error) {
	if v.mem == nil {
		return nil, ErrClosed
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(interface{ Addr() uintptr }); !ok {
				panic(r)
			}
			d, err = nil, fmt.Errorf("segment %s: %w", v.path, badf("memory fault reading the segment (file truncated?): %v", r))
		}
	}()
	return v.dump(v.path), nil
}

// InboxRegion returns slot's inbox region (a private copy-on-write view).
func (v *View) InboxRegion(slot int) ([]byte, error) {
	if slot < 0 || slot >= int(v.h.MaxProcesses) {
		return nil, fmt.Errorf("inbox of process slot %d: outside [0, %d)", slot, v.h.MaxProcesses)
	}
	return v.inbox(slot), nil
}

// Close unmaps the view.
func (v *View) Close() error {
	if v.mem == nil {
		return nil
	}
	err := unix.Munmap(v.mem)
	v.mem = nil
	return err
}

// Inspect reads the named segment in DefaultDir without joining it.
func Inspect(name string) (*Dump, error) {
	path, err := SegmentPath(name)
	if err != nil {
		return nil, err
	}
	return InspectFile(path)
}

// InspectFile reads the segment file at path without joining it.
func InspectFile(path string) (*Dump, error) {
	v, err := OpenViewFile(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = v.Close() }()
	return v.Dump()
}
