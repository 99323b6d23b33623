package remote_pipe

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/xorc-dev/xorc/internal/remote"
)

// Addresses. A process of the named-pipe transport is reached at its
// socket's path, and that path is its address everywhere: the address it
// records in the registry, the address of its actor system, and so the
// Address of every PID of its actors. The socket's file name is
// "<slot>.<generation>.sock" (its registry slot and the slot's generation),
// so an address says which registry entry it belongs to, and a restarted
// process (a new generation) never has its predecessor's address.

// AddressFor is the address of the process with registry slot and
// generation gen whose socket lives in dir.
func AddressFor(dir string, slot int, gen uint32) string {
	return filepath.Join(dir, strconv.Itoa(slot)+"."+strconv.FormatUint(uint64(gen), 10)+sockSuffix)
}

// ParseAddress splits an address of the named-pipe transport into its
// socket directory, registry slot and generation. Anything else (not an
// absolute clean path, another file name) fails with an error wrapping
// remote.ErrNotRemote.
func ParseAddress(address string) (dir string, slot int, gen uint32, err error) {
	bad := func() (string, int, uint32, error) {
		return "", 0, 0, fmt.Errorf("%w: %q: want /<dir>/<slot>.<generation>%s", remote.ErrNotRemote, address, sockSuffix)
	}
	if !filepath.IsAbs(address) || filepath.Clean(address) != address {
		return bad()
	}
	dir, base := filepath.Split(address)
	base, ok := strings.CutSuffix(base, sockSuffix)
	if !ok {
		return bad()
	}
	s, g, ok := strings.Cut(base, ".")
	sl, err1 := strconv.ParseUint(s, 10, 31)
	gn, err2 := strconv.ParseUint(g, 10, 32)
	if !ok || err1 != nil || err2 != nil || s != strconv.FormatUint(sl, 10) || g != strconv.FormatUint(gn, 10) {
		return bad()
	}
	return filepath.Clean(dir), int(sl), uint32(gn), nil
}
