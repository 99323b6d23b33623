package registry

import (
	"fmt"
	"unicode/utf8"
)

func validateID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty", ErrInvalidID)
	case len(id) > MaxMachineIDLen:
		return fmt.Errorf("%w: %q is %d bytes, the limit is %d", ErrInvalidID, id, len(id), MaxMachineIDLen)
	case !utf8.ValidString(id):
		return fmt.Errorf("%w: %q is not valid UTF-8", ErrInvalidID, id)
	}
	return nil
}
