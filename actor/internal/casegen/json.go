package casegen

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// Field is one key/value pair of an Obj.
type Field struct {
	Key string
	Val any
}

// Obj is a JSON object that keeps its key order when encoded. Statechart
// configs depend on key order (document order decides conflicts), so the
// generator never puts configs in a Go map.
type Obj []Field

// Get returns the value of key and whether it is present.
func (o Obj) Get(key string) (any, bool) {
	for _, f := range o {
		if f.Key == key {
			return f.Val, true
		}
	}
	return nil, false
}

// MarshalJSON encodes o with its keys in order.
func (o Obj) MarshalJSON() ([]byte, error) { return AppendJSON(nil, o), nil }

// AppendJSON appends the compact JSON encoding of v to buf. v is built from
// Obj, []any, []Obj, string, bool, nil, int, int64, uint64 and finite float64
// values; anything else is a bug in the generator and panics.
func AppendJSON(buf []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(buf, "null"...)
	case bool:
		return strconv.AppendBool(buf, x)
	case int:
		return strconv.AppendInt(buf, int64(x), 10)
	case int64:
		return strconv.AppendInt(buf, x, 10)
	case uint64:
		return strconv.AppendUint(buf, x, 10)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			panic("casegen: non-finite number")
		}
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.AppendInt(buf, int64(x), 10)
		}
		return strconv.AppendFloat(buf, x, 'g', -1, 64)
	case string:
		return appendString(buf, x)
	case Obj:
		buf = append(buf, '{')
		for i, f := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendString(buf, f.Key)
			buf = append(buf, ':')
			buf = AppendJSON(buf, f.Val)
		}
		return append(buf, '}')
	case []any:
		buf = append(buf, '[')
		for i, e := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = AppendJSON(buf, e)
		}
		return append(buf, ']')
	case []Obj:
		buf = append(buf, '[')
		for i, e := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = AppendJSON(buf, e)
		}
		return append(buf, ']')
	default:
		panic(fmt.Sprintf("casegen: cannot encode %T", v))
	}
}

// appendString writes s as a JSON string the way JSON.stringify does: only
// '"', '\\' and control characters are escaped.
func appendString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			buf = append(buf, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			case '\b':
				buf = append(buf, '\\', 'b')
			case '\f':
				buf = append(buf, '\\', 'f')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, `\ufffd`...)
		} else {
			buf = append(buf, s[i:i+size]...)
		}
		i += size
	}
	return append(buf, '"')
}
