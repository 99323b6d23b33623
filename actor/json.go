package actor

// An order-keeping JSON decoder and a JSON.stringify-compatible encoder.
//
// XState configs are JavaScript objects: their key order is JS property order
// (integer-like keys first, ascending, then the other keys in document order),
// and that order decides document order of states, `on` descriptors and
// `after` delays. encoding/json's maps lose it, so definitions are decoded
// with this small recursive-descent parser into *jsonObject values.

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// maxJSONDepth bounds nesting like encoding/json does, so that untrusted
// input cannot exhaust the stack.
const maxJSONDepth = 10000

// ErrJSONSyntax is wrapped by every JSON syntax error of the decoder.
var ErrJSONSyntax = errors.New("invalid JSON")

// jsonObject is a JSON object in JS property order. Duplicate keys keep the
// position of their first occurrence and the value of the last one, as
// JSON.parse does.
type jsonObject struct {
	keys []string
	vals []any
}

func (o *jsonObject) get(k string) (any, bool) {
	for i, key := range o.keys {
		if key == k {
			return o.vals[i], true
		}
	}
	return nil, false
}

func (o *jsonObject) has(k string) bool {
	_, ok := o.get(k)
	return ok
}

// parseJSON decodes data into nil, bool, float64, string, []any and
// *jsonObject values. Numbers that overflow become ±Inf, like JSON.parse.
func parseJSON(data []byte) (any, error) {
	p := jsonParser{}
	return p.parse(data)
}

// parserPool recycles parsers (and their slabs) for callers that drop the
// parse tree before releasing the parser: the case runner.
var parserPool = sync.Pool{New: func() any { return new(jsonParser) }}

// release returns p to the pool. Nothing may use the trees it returned
// afterwards: their objects are reused.
func (p *jsonParser) release() {
	clear(p.objSlab)
	clear(p.valSlab)
	clear(p.vstack[:cap(p.vstack)])
	p.objSlab, p.keySlab, p.valSlab = p.objSlab[:0], p.keySlab[:0], p.valSlab[:0]
	p.data = nil
	parserPool.Put(p)
}

func (p *jsonParser) parse(data []byte) (any, error) {
	p.data, p.pos = data, 0
	p.kstack, p.vstack = p.kstack[:0], p.vstack[:0]
	// A new generation empties the string table.
	p.gen++
	p.nIntern = 0
	if p.gen == 0 {
		clear(p.itab)
		p.gen = 1
	}
	p.skipWS()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipWS()
	if p.pos != len(p.data) {
		return nil, p.errorf("unexpected %s after the top-level value", p.what())
	}
	return v, nil
}

type jsonParser struct {
	data   []byte
	pos    int
	buf    []byte
	kstack []string
	vstack []any
	// The string table (internSlot), open addressing; gen is the current
	// parse's generation.
	itab    []internSlot
	nIntern int
	gen     uint32
	// Slabs the parse tree is carved from (a parse tree is short-lived and
	// read-only, so exactly-sized pieces of shared chunks are safe).
	objSlab []jsonObject
	keySlab []string
	valSlab []any
}

func (p *jsonParser) newObject() *jsonObject {
	if len(p.objSlab) == cap(p.objSlab) {
		p.objSlab = make([]jsonObject, 0, min(max(32, 2*cap(p.objSlab)), 1024))
	}
	p.objSlab = p.objSlab[:len(p.objSlab)+1]
	o := &p.objSlab[len(p.objSlab)-1]
	*o = jsonObject{}
	return o
}

func (p *jsonParser) keys(src []string) []string {
	out := carve(&p.keySlab, len(src), 8192, 128)
	copy(out, src)
	return out
}

func (p *jsonParser) vals(src []any) []any {
	out := carve(&p.valSlab, len(src), 8192, 128)
	copy(out, src)
	return out
}

func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s at offset %d", ErrJSONSyntax, fmt.Sprintf(format, args...), p.pos)
}

func (p *jsonParser) what() string {
	if p.pos >= len(p.data) {
		return "end of input"
	}
	c := p.data[p.pos]
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// isWS marks the JSON whitespace bytes.
var isWS = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}

func (p *jsonParser) skipWS() {
	data, i := p.data, p.pos
	for i < len(data) && isWS[data[i]] {
		i++
	}
	p.pos = i
}

func (p *jsonParser) value(depth int) (any, error) {
	if p.pos >= len(p.data) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		if depth >= maxJSONDepth {
			return nil, p.errorf("nesting deeper than %d", maxJSONDepth)
		}
		return p.object(depth + 1)
	case c == '[':
		if depth >= maxJSONDepth {
			return nil, p.errorf("nesting deeper than %d", maxJSONDepth)
		}
		return p.array(depth + 1)
	case c == '"':
		return p.strValue()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	default:
		return nil, p.errorf("unexpected %s", p.what())
	}
}

func (p *jsonParser) literal(lit string) error {
	if len(p.data)-p.pos < len(lit) || string(p.data[p.pos:p.pos+len(lit)]) != lit {
		return p.errorf("invalid literal, want %s", lit)
	}
	p.pos += len(lit)
	return nil
}

func (p *jsonParser) object(depth int) (any, error) {
	p.pos++ // {
	// Members are collected on shared stacks and copied out exactly sized.
	// (parse empties the stacks: an error ends the parse.)
	base, vbase := len(p.kstack), len(p.vstack)
	var index map[string]int // for large objects: key -> position
	indexKeys := false       // some key may be an array index (jsOrder)
	p.skipWS()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return p.newObject(), nil
	}
	for {
		p.skipWS()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.errorf("expected a string key, got %s", p.what())
		}
		k, err := p.key()
		if err != nil {
			return nil, err
		}
		if k != "" && k[0]-'0' < 10 {
			indexKeys = true
		}
		p.skipWS()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.errorf("expected ':' after an object key, got %s", p.what())
		}
		p.pos++
		p.skipWS()
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		dup := -1
		if index != nil {
			if i, ok := index[k]; ok {
				dup = base + i
			}
		} else {
			for i := base; i < len(p.kstack); i++ {
				if p.kstack[i] == k {
					dup = i
					break
				}
			}
		}
		if dup >= 0 {
			p.vstack[vbase+dup-base] = v
		} else {
			p.kstack = append(p.kstack, k)
			p.vstack = append(p.vstack, v)
			if n := len(p.kstack) - base; index != nil {
				index[k] = n - 1
			} else if n > 16 {
				index = make(map[string]int, 32)
				for i, key := range p.kstack[base:] {
					index[key] = i
				}
			}
		}
		p.skipWS()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of input in an object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			o := p.newObject()
			o.keys = p.keys(p.kstack[base:])
			o.vals = p.vals(p.vstack[vbase:])
			p.kstack, p.vstack = p.kstack[:base], p.vstack[:vbase]
			if indexKeys {
				jsOrder(o)
			}
			return o, nil
		default:
			return nil, p.errorf("expected ',' or '}' in an object, got %s", p.what())
		}
	}
}

// commonKey returns the interned copy of a frequent object key, or "".
func commonKey(b []byte) string {
	switch string(b) {
	case "type":
		return "type"
	case "params":
		return "params"
	case "target":
		return "target"
	case "guard":
		return "guard"
	case "actions":
		return "actions"
	case "on":
		return "on"
	case "states":
		return "states"
	case "initial":
		return "initial"
	case "entry":
		return "entry"
	case "exit":
		return "exit"
	case "always":
		return "always"
	case "after":
		return "after"
	case "onDone":
		return "onDone"
	case "id":
		return "id"
	case "context":
		return "context"
	case "key":
		return "key"
	case "value":
		return "value"
	case "field":
		return "field"
	case "event":
		return "event"
	case "by":
		return "by"
	case "state":
		return "state"
	case "guards":
		return "guards"
	case "reenter":
		return "reenter"
	case "history":
		return "history"
	case "machine":
		return "machine"
	case "events":
		return "events"
	case "delays":
		return "delays"
	case "ms":
		return "ms"
	case "message":
		return "message"
	case "log":
		return "log"
	case "count":
		return "count"
	case "name":
		return "name"
	case "description":
		return "description"
	case "tags":
		return "tags"
	case "meta":
		return "meta"
	}
	return ""
}

// maxIntern is the longest string the parser interns.
const maxIntern = 32

// internSlot is an entry of the parser's string table: short strings (keys
// and values) that repeat in a document (event types, targets, state names)
// share one string and one boxed value. Entries of earlier parses (gen) are
// empty.
type internSlot struct {
	s   string
	box any
	h   uint32
	gen uint32
}

// scanShort scans the string token at p.pos (its opening quote) and returns
// the index of its closing quote and a hash of its bytes when it is short,
// ASCII and without escapes; end < 0 otherwise.
func (p *jsonParser) scanShort() (end int, h uint32) {
	data := p.data
	start := p.pos + 1
	h = 2166136261
	for i := start; i < len(data) && i-start <= maxIntern; i++ {
		c := data[i]
		if c == '"' {
			return i, h
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			return -1, 0
		}
		h = (h ^ uint32(c)) * 16777619
	}
	return -1, 0
}

// intern returns the table entry of the string b (hash h), adding it.
func (p *jsonParser) intern(b []byte, h uint32) *internSlot {
	if 4*(p.nIntern+1) > 3*len(p.itab) {
		p.growIntern()
	}
	mask := uint32(len(p.itab) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		sl := &p.itab[i]
		if sl.gen != p.gen {
			s := commonKey(b)
			if s == "" {
				s = string(b)
			}
			*sl = internSlot{s: s, h: h, gen: p.gen}
			p.nIntern++
			return sl
		}
		if sl.h == h && sl.s == string(b) {
			return sl
		}
	}
}

func (p *jsonParser) growIntern() {
	old := p.itab
	p.itab = make([]internSlot, max(32, 2*len(old)))
	mask := uint32(len(p.itab) - 1)
	for _, sl := range old {
		if sl.gen != p.gen {
			continue
		}
		i := sl.h & mask
		for p.itab[i].gen == p.gen {
			i = (i + 1) & mask
		}
		p.itab[i] = sl
	}
}

// strValue reads a string value (interned when short).
func (p *jsonParser) strValue() (any, error) {
	if end, h := p.scanShort(); end >= 0 {
		sl := p.intern(p.data[p.pos+1:end], h)
		p.pos = end + 1
		if sl.box == nil {
			sl.box = sl.s
		}
		return sl.box, nil
	}
	s, err := p.str()
	if err != nil {
		return nil, err
	}
	return s, nil
}

// key reads an object key (interned when short).
func (p *jsonParser) key() (string, error) {
	if end, h := p.scanShort(); end >= 0 {
		sl := p.intern(p.data[p.pos+1:end], h)
		p.pos = end + 1
		return sl.s, nil
	}
	return p.str()
}

func (p *jsonParser) array(depth int) (any, error) {
	p.pos++               // [
	base := len(p.vstack) // (parse empties the stack: an error ends the parse.)
	p.skipWS()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return []any{}, nil
	}
	for {
		p.skipWS()
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		p.vstack = append(p.vstack, v)
		p.skipWS()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of input in an array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			out := p.vals(p.vstack[base:])
			p.vstack = p.vstack[:base]
			return out, nil
		default:
			return nil, p.errorf("expected ',' or ']' in an array, got %s", p.what())
		}
	}
}

func (p *jsonParser) str() (string, error) {
	p.pos++ // opening quote
	start := p.pos
	// Fast path: plain ASCII without escapes.
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if c == '"' {
			s := string(p.data[start:p.pos])
			p.pos++
			return s, nil
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			break
		}
		p.pos++
	}
	buf := append(p.buf[:0], p.data[start:p.pos]...)
	for {
		if p.pos >= len(p.data) {
			return "", p.errorf("unterminated string")
		}
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			p.buf = buf
			return string(buf), nil
		case c < 0x20:
			return "", p.errorf("control character 0x%02x in a string", c)
		case c == '\\':
			if p.pos+1 >= len(p.data) {
				return "", p.errorf("unterminated escape")
			}
			e := p.data[p.pos+1]
			p.pos += 2
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", p.errorf("invalid \\u escape")
				}
				if utf16.IsSurrogate(r) {
					// A valid pair becomes one rune; a lone surrogate becomes
					// U+FFFD (as encoding/json does).
					if p.pos+1 < len(p.data) && p.data[p.pos] == '\\' && p.data[p.pos+1] == 'u' {
						save := p.pos
						p.pos += 2
						r2, ok2 := p.hex4()
						if ok2 {
							if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
								buf = utf8.AppendRune(buf, dec)
								continue
							}
						}
						p.pos = save
					}
					r = utf8.RuneError
				}
				buf = utf8.AppendRune(buf, r)
			default:
				p.pos--
				return "", p.errorf("invalid escape character %s", p.what())
			}
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			p.pos++
		default:
			r, size := utf8.DecodeRune(p.data[p.pos:])
			if r == utf8.RuneError && size == 1 {
				buf = utf8.AppendRune(buf, utf8.RuneError)
			} else {
				buf = append(buf, p.data[p.pos:p.pos+size]...)
			}
			p.pos += size
		}
	}
}

func (p *jsonParser) hex4() (rune, bool) {
	if len(p.data)-p.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range p.data[p.pos : p.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	p.pos += 4
	return r, true
}

func (p *jsonParser) number() (any, error) {
	start := p.pos
	if p.data[p.pos] == '-' {
		p.pos++
	}
	digits := func() int {
		n := 0
		for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.pos < len(p.data) && p.data[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		return nil, p.errorf("invalid number")
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return nil, p.errorf("invalid number: no digits after '.'")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return nil, p.errorf("invalid number: no digits in the exponent")
		}
	}
	f, err := strconv.ParseFloat(string(p.data[start:p.pos]), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, p.errorf("invalid number")
	}
	return f, nil // out of range: ±Inf or 0, like JSON.parse
}

// isArrayIndex reports whether k is a canonical array index ("0", "7",
// "10", up to 2^32-2): JS puts such keys first, in ascending order.
func isArrayIndex(k string) bool {
	if k == "" || len(k) > 10 || (k[0] == '0' && len(k) > 1) {
		return false
	}
	var n uint64
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + uint64(c-'0')
	}
	return n <= 1<<32-2
}

// jsOrder reorders o into JS property order.
func jsOrder(o *jsonObject) {
	nIdx := 0
	for _, k := range o.keys {
		if isArrayIndex(k) {
			nIdx++
		}
	}
	if nIdx == 0 {
		return
	}
	type kv struct {
		k string
		v any
		n uint64
	}
	idx := make([]kv, 0, nIdx)
	rest := make([]kv, 0, len(o.keys)-nIdx)
	for i, k := range o.keys {
		if isArrayIndex(k) {
			n, _ := strconv.ParseUint(k, 10, 64)
			idx = append(idx, kv{k, o.vals[i], n})
		} else {
			rest = append(rest, kv{k: k, v: o.vals[i]})
		}
	}
	sort.Slice(idx, func(i, j int) bool { return idx[i].n < idx[j].n })
	o.keys = o.keys[:0]
	o.vals = o.vals[:0]
	for _, e := range append(idx, rest...) {
		o.keys = append(o.keys, e.k)
		o.vals = append(o.vals, e.v)
	}
}

// plainJSON turns a parsed value into plain Go JSON values (map[string]any
// for objects).
func plainJSON(v any) any {
	switch x := v.(type) {
	case *jsonObject:
		m := make(map[string]any, len(x.keys))
		for i, k := range x.keys {
			m[k] = plainJSON(x.vals[i])
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainJSON(e)
		}
		return out
	default:
		return v
	}
}

// jsStringify formats v like JavaScript's JSON.stringify (compact, no HTML
// escaping, JS number formatting). Go maps are written with sorted keys.
func jsStringify(v any) string {
	return string(appendJS(nil, v))
}

// appendJS appends the JSON.stringify form of v to b. Besides the JSON value
// types it accepts other Go numbers, []string, map[string]string, Event and
// falls back to encoding/json for anything else (null when that fails).
func appendJS(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		if x {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case float64:
		return appendJSNumber(b, x)
	case float32:
		return appendJSNumber(b, float64(x))
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int8:
		return strconv.AppendInt(b, int64(x), 10)
	case int16:
		return strconv.AppendInt(b, int64(x), 10)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return appendJSNumber(b, float64(x))
	case uint:
		return appendJSNumber(b, float64(x))
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint64:
		return appendJSNumber(b, float64(x))
	case string:
		return appendJSString(b, x)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJS(b, e)
		}
		return append(b, ']')
	case []string:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSString(b, e)
		}
		return append(b, ']')
	case map[string]any:
		keys := sortedKeys(x)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSString(b, k)
			b = append(b, ':')
			b = appendJS(b, x[k])
		}
		return append(b, '}')
	case map[string]string:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSString(b, k)
			b = append(b, ':')
			b = appendJSString(b, x[k])
		}
		return append(b, '}')
	case *jsonObject:
		b = append(b, '{')
		for i, k := range x.keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSString(b, k)
			b = append(b, ':')
			b = appendJS(b, x.vals[i])
		}
		return append(b, '}')
	case StateValue:
		return x.appendJSON(b)
	case Event:
		return x.appendJSON(b)
	case json.Number:
		if f, err := strconv.ParseFloat(string(x), 64); err == nil {
			return appendJSNumber(b, f)
		}
		return append(b, "null"...)
	default:
		raw, err := json.Marshal(x)
		if err != nil {
			return append(b, "null"...)
		}
		return append(b, raw...)
	}
}

// sortedKeys returns m's keys sorted (Go maps have no order).
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// appendJSNumber formats f like JS Number.prototype.toString inside
// JSON.stringify: non-finite numbers are null, -0 is 0.
func appendJSNumber(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	if f == 0 {
		return append(b, '0')
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		if math.Abs(f) < 1<<53 {
			return strconv.AppendInt(b, int64(f), 10)
		}
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs < 1e-6 || abs >= 1e21 {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// Go writes e-07 / e+07; JS writes e-7 / e+7.
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// jsNumberString is appendJSNumber as a string.
func jsNumberString(f float64) string {
	if math.IsNaN(f) {
		return "NaN"
	}
	if math.IsInf(f, 1) {
		return "Infinity"
	}
	if math.IsInf(f, -1) {
		return "-Infinity"
	}
	return string(appendJSNumber(nil, f))
}

const hexDigits = "0123456789abcdef"

// appendJSString quotes s like JSON.stringify: only '"', '\\' and control
// characters are escaped. Invalid UTF-8 is written as U+FFFD.
// jsPlain marks the bytes JSON.stringify copies as they are: printable
// ASCII except '"' and '\\'.
var jsPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func appendJSString(b []byte, s string) []byte {
	b = append(b, '"')
	i := 0
	for i < len(s) && jsPlain[s[i]] {
		i++
	}
	if i == len(s) {
		b = append(b, s...)
		return append(b, '"')
	}
	start := 0
	for i < len(s) {
		c := s[i]
		if jsPlain[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, "\ufffd"...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// jsToNumber converts a string like JavaScript's Number(s) (used for `after`
// keys): surrounding whitespace is ignored, "" is 0, 0x/0o/0b integers and
// [+-]Infinity are accepted. ok is false for NaN.
func jsToNumber(s string) (f float64, ok bool) {
	s = strings.TrimFunc(s, isJSWhitespace)
	if s == "" {
		return 0, true
	}
	if len(s) > 2 && s[0] == '0' {
		base := 0
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			var v float64
			for _, c := range s[2:] {
				d := -1
				switch {
				case c >= '0' && c <= '9':
					d = int(c - '0')
				case c >= 'a' && c <= 'f':
					d = int(c-'a') + 10
				case c >= 'A' && c <= 'F':
					d = int(c-'A') + 10
				}
				if d < 0 || d >= base {
					return 0, false
				}
				v = v*float64(base) + float64(d)
			}
			return v, true
		}
	}
	body := s
	neg := false
	if body[0] == '+' || body[0] == '-' {
		neg = body[0] == '-'
		body = body[1:]
	}
	if body == "Infinity" {
		if neg {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	// StrDecimalLiteral: digits [. digits] [e [+-] digits], or . digits ...
	i, intDigits, fracDigits := 0, 0, 0
	for i < len(body) && body[i] >= '0' && body[i] <= '9' {
		i++
		intDigits++
	}
	if i < len(body) && body[i] == '.' {
		i++
		for i < len(body) && body[i] >= '0' && body[i] <= '9' {
			i++
			fracDigits++
		}
	}
	if intDigits+fracDigits == 0 {
		return 0, false
	}
	if i < len(body) && (body[i] == 'e' || body[i] == 'E') {
		i++
		if i < len(body) && (body[i] == '+' || body[i] == '-') {
			i++
		}
		expDigits := 0
		for i < len(body) && body[i] >= '0' && body[i] <= '9' {
			i++
			expDigits++
		}
		if expDigits == 0 {
			return 0, false
		}
	}
	if i != len(body) {
		return 0, false
	}
	v, err := strconv.ParseFloat(body, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

func isJSWhitespace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// jsonEqual is strict JSON equality: no coercion, arrays element-wise,
// objects by key set and values. Absent (missing) never equals anything.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !jsonEqual(v, w) {
				return false
			}
		}
		return true
	default:
		fa, ok := toFloat(a)
		if !ok {
			return false
		}
		fb, ok := toFloat(b)
		return ok && fa == fb
	}
}

// toFloat converts Go numbers (JSON numbers are float64) to float64.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case float32:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint64:
		return float64(x), true
	case uint32:
		return float64(x), true
	case int16:
		return float64(x), true
	case int8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint8:
		return float64(x), true
	}
	return 0, false
}

// truthy is JavaScript truthiness restricted to JSON values.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	default:
		if f, ok := toFloat(v); ok {
			return f != 0 && !math.IsNaN(f)
		}
		return true
	}
}
