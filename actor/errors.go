package actor

import (
	"errors"
	"strings"
)

// Errors of definitions, matched with errors.Is. Every load-time error is a
// *DefinitionError that wraps ErrInvalidDefinition and, where one applies,
// one of the more specific sentinels below.
var (
	// ErrInvalidDefinition is wrapped by every error of ParseJSON, Build and
	// Compile.
	ErrInvalidDefinition = errors.New("invalid machine definition")
	ErrUnknownTarget     = errors.New("unknown target")
	ErrMissingInitial    = errors.New("compound state without initial")
	ErrDuplicateID       = errors.New("duplicate state id")
	ErrUnknownAction     = errors.New("unknown action")
	ErrUnknownGuard      = errors.New("unknown guard")
	ErrUnknownDelay      = errors.New("unknown delay")
	ErrBadParams         = errors.New("invalid params")
	ErrUnsupported       = errors.New("unsupported feature")
	// ErrReservedName: user implementations may not use the "xorc." prefix.
	ErrReservedName = errors.New("reserved name")
)

// DefinitionError is a load-time error. Path is the JSON path of the offending
// value in the machine config ("states.busy.on.GO[1].target"; empty for the
// root object itself).
type DefinitionError struct {
	Path string
	Msg  string
	Kind error // a specific sentinel, or nil
}

func (e *DefinitionError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Unwrap returns ErrInvalidDefinition and the specific sentinel.
func (e *DefinitionError) Unwrap() []error {
	if e.Kind == nil {
		return []error{ErrInvalidDefinition}
	}
	return []error{ErrInvalidDefinition, e.Kind}
}

func defErr(path string, kind error, msg string) *DefinitionError {
	return &DefinitionError{Path: path, Msg: msg, Kind: kind}
}

// joinPath appends an object key to a JSON path. Keys that are not plain
// identifiers are written as ["key"].
func joinPath(base, key string) string {
	if !plainPathKey(key) {
		var b strings.Builder
		b.WriteString(base)
		b.WriteByte('[')
		b.Write(appendJSString(nil, key))
		b.WriteByte(']')
		return b.String()
	}
	if base == "" {
		return key
	}
	return base + "." + key
}

// plainPathKey reports whether a key is written .key in a path (else
// ["key"]).
func plainPathKey(key string) bool {
	plain := key != ""
	for i := 0; i < len(key) && plain; i++ {
		c := key[i]
		plain = c == '_' || c == '$' || c == '-' || c == '*' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
	}
	return plain
}

func indexPath(base string, i int) string {
	return base + "[" + itoa(i) + "]"
}

func itoa(i int) string {
	if i >= 0 && i < 10 {
		return string(rune('0' + i))
	}
	return string(appendJSNumber(nil, float64(i)))
}
