package actor

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseJSONKeepsJSPropertyOrder(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"b": 1, "a": 2}`, `{"b":1,"a":2}`},
		// integer-like keys first, ascending; the rest in document order
		{`{"b": 1, "10": 2, "a": 3, "2": 4, "01": 5, "4294967295": 6, "4294967294": 7}`,
			`{"2":4,"10":2,"4294967294":7,"b":1,"a":3,"01":5,"4294967295":6}`},
		// duplicate keys: first position, last value (JSON.parse)
		{`{"a": 1, "b": 2, "a": 3}`, `{"a":3,"b":2}`},
		{`[{"x": [1, {"y": null}]}, true, false, "s"]`, `[{"x":[1,{"y":null}]},true,false,"s"]`},
		{`"\u00e9\ud83d\ude00\n\"\\\/"`, `"é😀\n\"\\/"`},
		{`"\ud800x"`, `"` + "\ufffd" + `x"`},
		{`1e999`, `null`}, // Infinity, written as null like JSON.stringify
		{`-0`, `0`},
		{`[1.5e-7, 1e21, 123456789012345680000, 0.1]`, `[1.5e-7,1e+21,123456789012345680000,0.1]`},
	} {
		v, err := parseJSON([]byte(tc.in))
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, jsStringify(v), tc.in)
	}
}

func TestParseJSONErrors(t *testing.T) {
	for _, in := range []string{``, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`, `01`, `1.`, `.5`, `1e`, `tru`,
		`"abc`, "\"a\x01\"", `"\x"`, `"\u12"`, `{} {}`, `{1: 2}`, `nul`, `-`, `+1`} {
		_, err := parseJSON([]byte(in))
		assert.ErrorIs(t, err, ErrJSONSyntax, "%q", in)
	}
	deep := make([]byte, 0, 2*maxJSONDepth+2)
	for i := 0; i <= maxJSONDepth; i++ {
		deep = append(deep, '[')
	}
	_, err := parseJSON(deep)
	assert.ErrorIs(t, err, ErrJSONSyntax)
}

func TestJSStringify(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{"<a&b>\u2028\x01\t", `"<a&b>` + "\u2028" + `\u0001\t"`},
		{map[string]any{"b": 1, "a": []any{nil, true}}, `{"a":[null,true],"b":1}`},
		{math.Inf(-1), "null"},
		{3, "3"},
		{int64(1) << 60, "1152921504606847000"}, // as a JS number
		{[]string{"x"}, `["x"]`},
		{string([]byte{0xff}), `"` + "\ufffd" + `"`},
		{1e-7, "1e-7"},
		{123.456, "123.456"},
	} {
		assert.Equal(t, tc.want, jsStringify(tc.in))
	}
}

func TestJSToNumber(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"100", 100, true}, {" 100 ", 100, true}, {"", 0, true}, {"1e3", 1000, true}, {"1.50", 1.5, true},
		{".5", 0.5, true}, {"5.", 5, true}, {"0x10", 16, true}, {"0b101", 5, true}, {"0o17", 15, true},
		{"-5", -5, true}, {"+5", 5, true}, {"Infinity", math.Inf(1), true}, {"-Infinity", math.Inf(-1), true},
		{"short", 0, false}, {"1_000", 0, false}, {"0x", 0, false}, {"1e", 0, false}, {"Inf", 0, false},
		{"NaN", 0, false}, {"-0x10", 0, false}, {"0x1g", 0, false}, {"1 2", 0, false},
	} {
		got, ok := jsToNumber(tc.in)
		assert.Equal(t, tc.ok, ok, tc.in)
		if ok {
			assert.Equal(t, tc.want, got, tc.in)
		}
	}
}

// FuzzParseJSON: no input panics the decoder, it accepts exactly what
// encoding/json accepts, and both decode to the same data.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{"a": [1, 2.5e3, "x\u00e9", true, null, {"10": {}, "2": []}]}`, `"\ud83d\ude00"`,
		`{"a":1,"a":2}`, `[[[[]]]]`, `-0.0e-0`, "\"\xff\"", `{"id":"m","initial":"a","states":{"a":{}}}`} {
		f.Add([]byte(s))
	}
	var reused jsonParser // one parser for every input, like the pooled ones
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := parseJSON(data)
		v2, err2 := reused.parse(data)
		if (err == nil) != (err2 == nil) || !reflect.DeepEqual(plainJSON(v), plainJSON(v2)) {
			t.Fatalf("a reused parser decodes differently: %v %#v vs %v %#v", err, plainJSON(v), err2, plainJSON(v2))
		}
		var std any
		stdErr := json.Unmarshal(data, &std)
		if stdErr != nil {
			// encoding/json also rejects out-of-range numbers, which JSON.parse
			// (and this decoder) turn into ±Inf.
			var rangeErr *json.UnmarshalTypeError
			if err == nil && !errors.As(stdErr, &rangeErr) {
				t.Fatalf("accepted what encoding/json rejects (%v): %q", stdErr, data)
			}
			return
		}
		if err != nil {
			t.Fatalf("rejected valid JSON (%v): %q", err, data)
		}
		if !reflect.DeepEqual(plainJSON(v), std) {
			t.Fatalf("decoded differently: %#v vs %#v", plainJSON(v), std)
		}
		// Re-encoding gives valid JSON that decodes to the same data (when
		// no number is out of float64's range).
		out := jsStringify(v)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out: %q", out)
		}
		var back any
		require.NoError(t, json.Unmarshal([]byte(out), &back))
		if !reflect.DeepEqual(back, std) {
			t.Fatalf("round trip differs: %q -> %q", data, out)
		}
	})
}

// TestParserReuse: a parser reused for many documents (as the pooled ones
// of RunCase are), some of them failing half way, decodes each like a new
// parser, with a string table that outgrows its first size.
func TestParserReuse(t *testing.T) {
	var big strings.Builder
	big.WriteString(`{`)
	for i := range 300 {
		fmt.Fprintf(&big, `"k%d": ["v%d", "k%d", "shared"],`, i, i%7, i)
	}
	big.WriteString(`"last": {"type": "x", "10": 1, "2": 2}}`)
	docs := []string{
		`{"id": "m", "states": {"a": {"on": {"GO": "b"}}, "b": {}}}`,
		big.String(),
		`{"a": "GO", "GO": {"b": ["GO", "a\u00e9", "b"]`, // truncated: an error half way
		`["GO", "a", {"GO": "b", "b": "GO", "b": "a"}]`,
		`{"type": "type", "params": {"params": "type"}, "x": "0123456789012345678901234567890123456789"}`,
		`[]`,
		big.String(),
		`{"id": "m", "states": {"a": {"on": {"GO": "b"}}, "b": {}}}`,
	}
	var p jsonParser
	for round := range 3 {
		for i, doc := range docs {
			want, wantErr := parseJSON([]byte(doc))
			got, err := p.parse([]byte(doc))
			require.Equal(t, wantErr == nil, err == nil, "round %d doc %d: %v / %v", round, i, wantErr, err)
			require.Equal(t, plainJSON(want), plainJSON(got), "round %d doc %d", round, i)
		}
	}
}
