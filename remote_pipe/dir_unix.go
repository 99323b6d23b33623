//go:build linux || darwin

package remote_pipe

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// socketDir makes (if needed) and checks the directory o's socket lives in.
func socketDir(o Options) (string, error) {
	if o.Dir != "" {
		dir := filepath.Clean(o.Dir)
		return dir, ensureDir(dir, o.DirMode)
	}
	dir, err := DefaultDir(o.Name)
	if err != nil {
		return "", err
	}
	// Two levels are ours: .../xorc (or /tmp/xorc-<uid>) and .../<name>.
	if err := ensureDir(filepath.Dir(dir), o.DirMode); err != nil {
		return "", err
	}
	return dir, ensureDir(dir, o.DirMode)
}

// ensureDir creates dir with mode if it is missing, then checks it: a real
// directory (not a symlink), owned by our effective uid, with no permission
// bits outside mode. A directory someone else prepared (in /tmp, say) is
// refused rather than trusted.
func ensureDir(dir string, mode fs.FileMode) error {
	err := unix.Mkdir(dir, uint32(mode))
	switch {
	case err == nil:
		// The umask may have narrowed it; set what was asked (it is ours:
		// a directory we just created under a checked or system parent).
		if err := unix.Chmod(dir, uint32(mode)); err != nil {
			return fmt.Errorf("socket directory %s: %w", dir, err)
		}
	case errors.Is(err, unix.EEXIST):
	default:
		return fmt.Errorf("socket directory %s: %w", dir, err)
	}
	return checkDir(dir, mode)
}

func checkDir(dir string, mode fs.FileMode) error {
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return fmt.Errorf("socket directory %s: %w", dir, err)
	}
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		return fmt.Errorf("%w: %s is a symlink", ErrUnsafeDir, dir)
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return fmt.Errorf("%w: %s is not a directory", ErrUnsafeDir, dir)
	case int(st.Uid) != os.Geteuid():
		return fmt.Errorf("%w: %s is owned by uid %d, not by us (uid %d)", ErrUnsafeDir, dir, st.Uid, os.Geteuid())
	case fs.FileMode(st.Mode)&fs.ModePerm&^mode != 0:
		return fmt.Errorf("%w: %s has mode %#o, wider than %#o", ErrUnsafeDir, dir, st.Mode&0o777, uint32(mode))
	}
	return nil
}

// A listener holds an exclusive flock on "<socket>.lock" for as long as it
// listens (the kernel drops it when the process dies). Whoever holds the
// lock owns the socket path: a socket file found there is stale and is
// removed before binding; a lock someone else holds means a live listener.
type sockLock struct {
	f    *os.File
	path string
}

var errLocked = errors.New("locked by a live process")

// lockPath takes the lock file at path. create: make it if missing (a
// listener); otherwise a missing file is fs.ErrNotExist (the sweep).
func lockPath(path string, create bool) (*sockLock, error) {
	flags := unix.O_RDWR | unix.O_CLOEXEC | unix.O_NOFOLLOW
	if create {
		flags |= unix.O_CREAT
	}
	for range 8 {
		fd, err := unix.Open(path, flags, 0o600)
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				return nil, fs.ErrNotExist
			}
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		f := os.NewFile(uintptr(fd), path)
		if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
			_ = f.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, errLocked
			}
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		// The holder unlinks the file before it lets go: if we locked an
		// inode that is no longer at path, the lock means nothing; retry.
		var a, b unix.Stat_t
		if unix.Fstat(fd, &a) == nil && unix.Lstat(path, &b) == nil && a.Dev == b.Dev && a.Ino == b.Ino {
			return &sockLock{f: f, path: path}, nil
		}
		_ = f.Close()
		if !create {
			return nil, fs.ErrNotExist
		}
	}
	return nil, fmt.Errorf("lock %s: keeps being replaced", path)
}

// release unlinks the lock file, then drops the lock.
func (l *sockLock) release() {
	_ = os.Remove(l.path)
	_ = l.f.Close()
}

// sweepStale removes the sockets of listeners that died without cleaning
// up: "<x>.sock" whose "<x>.sock.lock" nobody holds. Files without a lock
// file are not ours to judge and are left alone.
func sweepStale(dir, except string) (removed int) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, sockSuffix+lockSuffix) || name == except+lockSuffix {
			continue
		}
		lk, err := lockPath(filepath.Join(dir, name), false)
		if err != nil {
			continue // held (alive), vanished, or unreadable
		}
		sock := filepath.Join(dir, strings.TrimSuffix(name, lockSuffix))
		if err := os.Remove(sock); err == nil {
			removed++
		}
		lk.release()
	}
	return removed
}
