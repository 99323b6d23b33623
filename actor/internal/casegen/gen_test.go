package casegen

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func marshal(t *testing.T, c Case) string {
	t.Helper()
	b, err := c.MarshalJSON()
	require.NoError(t, err)
	return string(b)
}

func TestDeterministic(t *testing.T) {
	a := Generate(7, 40)
	b := Generate(7, 40)
	require.Len(t, a, 40)
	for i := range a {
		require.Equal(t, marshal(t, a[i]), marshal(t, b[i]), "case %d", i)
		require.Equal(t, marshal(t, a[i]), marshal(t, One(7, i)), "case %d alone", i)
		assert.Equal(t, fmt.Sprintf("gen-7-%d", i), a[i].Name)
	}
	other := Generate(8, 40)
	same := 0
	for i := range a {
		if marshal(t, a[i])[len("gen-7-0"):] == marshal(t, other[i])[len("gen-8-0"):] {
			same++
		}
	}
	assert.Less(t, same, 2, "different seeds should give different cases")
}

func TestAppendJSON(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"null", nil, `null`},
		{"bools", []any{true, false}, `[true,false]`},
		{"ints", []any{0, -3, int64(7), uint64(9)}, `[0,-3,7,9]`},
		{"floats", []any{1.5, -0.25, 2.0, 1e21}, `[1.5,-0.25,2,1e+21]`},
		{"string escapes", "a\"b\\c\nd\te\x01<&>", `"a\"b\\c\nd\te\u0001<&>"`},
		{"unicode kept", "héllo→", `"héllo→"`},
		{"invalid utf8", "a\xffb", `"a\ufffdb"`},
		{"key order kept", Obj{{"z", 1}, {"a", Obj{{"y", []any{}}, {"b", Obj{}}}}}, `{"z":1,"a":{"y":[],"b":{}}}`},
		{"obj slice", []Obj{{{"type", "A"}}, {}}, `[{"type":"A"},{}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(AppendJSON(nil, tt.in))
			assert.Equal(t, tt.want, got)
			assert.True(t, json.Valid([]byte(got)))
		})
	}
	assert.Panics(t, func() { AppendJSON(nil, map[string]any{"a": 1}) }, "maps have no order")
}

// TestCoverage checks that a corpus of the size we commit uses every feature
// of issue 2 that the oracle covers, each more than a few times.
func TestCoverage(t *testing.T) {
	count := map[string]int{}
	errs := 0
	for _, c := range Generate(1, 1500) {
		for _, f := range c.Features {
			count[f]++
		}
		if c.ConfigError {
			errs++
		}
	}
	required := []string{
		"parallel_root", "depth_1", "depth_2", "depth_3", "depth_4", "final", "explicit_id",
		"history_deep", "history_shallow", "history_omitted", "history_default_target", "history_in_parallel",
		"on_string", "on_object", "on_array", "wildcard", "targetless", "self_transition",
		"reenter_true", "reenter_false",
		"target_sibling", "target_sib_child", "target_dot_child", "target_id", "target_id_path", "target_history", "target_root",
		"entry", "exit", "always", "always_counter", "always_target", "always_log_once", "always_loop",
		"after_numeric", "after_named", "after_multi", "after_zero", "onDone", "initial_final",
		"action_assign", "action_increment", "action_append", "action_copy", "action_raise", "action_log", "action_runtime_error",
		"guard_eq", "guard_ne", "guard_gt", "guard_gte", "guard_lt", "guard_lte", "guard_event", "guard_event_value",
		"guard_in", "guard_in_id", "guard_in_path", "guard_in_rootpath", "guard_in_root",
		"guard_not", "guard_and", "guard_or", "guard_and_empty", "guard_or_empty", "guard_nested",
		"wait", "payload", "no_context", "description",
		"big", "odd_state_key", "always_array", "external_internal_event", "max_iterations",
	}
	for _, f := range required {
		assert.GreaterOrEqual(t, count[f], 5, "feature %s", f)
	}
	assert.Greater(t, errs, 5, "some config errors are injected")
	assert.Less(t, errs, 100, "config errors stay rare")
}

// ---------------------------------------------------------------------------
// An independent check of the rules the generator must follow, on the JSON it
// prints: it resolves every target the way XState does and rejects the
// patterns the oracle README lists as not comparable.
// ---------------------------------------------------------------------------

type tnode struct {
	key    string
	path   string // from the root, "" for the root
	parent *tnode
	kids   map[string]*tnode
	cfg    map[string]any
}

func (n *tnode) typ() string { s, _ := n.cfg["type"].(string); return s }

func (n *tnode) contains(d *tnode) bool { // proper ancestor
	for p := d.parent; p != nil; p = p.parent {
		if p == n {
			return true
		}
	}
	return false
}

type checker struct {
	t      *testing.T
	name   string
	rootID string
	ids    map[string]*tnode
	all    []*tnode
}

var integerLike = regexp.MustCompile(`^(0|[1-9][0-9]*)$`)

func (c *checker) build(key string, parent *tnode, cfg map[string]any) *tnode {
	n := &tnode{key: key, parent: parent, cfg: cfg, kids: map[string]*tnode{}}
	if parent != nil {
		n.path = strings.TrimPrefix(parent.path+"."+key, ".")
		require.False(c.t, integerLike.MatchString(key), "%s: integer-like state name %q", c.name, key)
	}
	c.all = append(c.all, n)
	if id, ok := cfg["id"].(string); ok && parent != nil {
		c.ids[id] = n
	}
	states, _ := cfg["states"].(map[string]any)
	for k, v := range states {
		n.kids[k] = c.build(k, n, v.(map[string]any))
	}
	return n
}

func (c *checker) walk(root, n *tnode, path string) *tnode {
	for _, k := range strings.Split(path, ".") {
		if k == "" {
			break
		}
		n = n.kids[k]
		if n == nil {
			return nil
		}
	}
	return n
}

func (c *checker) resolve(root, src *tnode, target string) *tnode {
	switch {
	case strings.HasPrefix(target, "#"):
		id, path, _ := strings.Cut(target[1:], ".")
		base := c.ids[id]
		if id == c.rootID {
			base = root
		}
		if base == nil {
			return nil
		}
		return c.walk(root, base, path)
	case strings.HasPrefix(target, "."):
		return c.walk(root, src, target[1:])
	case src.parent == nil:
		return nil
	default:
		return c.walk(root, src.parent, target)
	}
}

func transitionsOf(cfg map[string]any) []any {
	var out []any
	add := func(v any) {
		switch x := v.(type) {
		case nil:
		case []any:
			out = append(out, x...)
		default:
			out = append(out, x)
		}
	}
	for _, k := range []string{"on", "after"} {
		if m, ok := cfg[k].(map[string]any); ok {
			for _, v := range m {
				add(v)
			}
		}
	}
	add(cfg["always"])
	add(cfg["onDone"])
	return out
}

func TestGeneratedCasesAreComparable(t *testing.T) {
	historyTargets := 0
	for _, gc := range Generate(3, 800) {
		if gc.ConfigError {
			continue
		}
		raw := marshal(t, gc)
		require.NotContains(t, raw, "xorc.send", gc.Name)
		for _, k := range []string{`"invoke"`, `"spawn"`, `"output"`, `"input"`} {
			require.NotContains(t, raw, k, gc.Name)
		}
		var c struct {
			Machine map[string]any   `json:"machine"`
			Events  []map[string]any `json:"events"`
		}
		require.NoError(t, json.Unmarshal([]byte(raw), &c), gc.Name)
		ck := &checker{t: t, name: gc.Name, ids: map[string]*tnode{}}
		ck.rootID = c.Machine["id"].(string)
		root := ck.build("", nil, c.Machine)
		for _, h := range root.kids {
			require.NotEqual(t, "history", h.typ(), "%s: history state directly under the root", gc.Name)
		}
		for _, n := range ck.all {
			if n.typ() == "history" {
				if tg, ok := n.cfg["target"].(string); ok {
					require.NotNil(t, ck.walk(root, n.parent, tg), "%s: history default target %q", gc.Name, tg)
				}
				continue
			}
			for _, tr := range transitionsOf(n.cfg) {
				var target any = tr
				if m, ok := tr.(map[string]any); ok {
					target = m["target"]
				}
				if target == nil {
					continue
				}
				ts, ok := target.(string)
				require.True(t, ok, "%s: target %v is not one string", gc.Name, target)
				dst := ck.resolve(root, n, ts)
				require.NotNil(t, dst, "%s: target %q of #%s does not resolve", gc.Name, ts, n.path)
				if dst.typ() == "history" {
					historyTargets++
					p := dst.parent
					require.False(t, p.contains(n), "%s: #%s -> history %q from inside its parent", gc.Name, n.path, ts)
					require.False(t, p == n && p.typ() == "parallel", "%s: parallel #%s -> its own history", gc.Name, n.path)
				}
			}
		}
		for _, ev := range c.Events {
			typ, _ := ev["type"].(string)
			require.NotEmpty(t, typ, gc.Name)
			if typ == "$wait" {
				ms, ok := ev["ms"].(float64)
				require.True(t, ok && ms >= 0, "%s: $wait ms", gc.Name)
			}
		}
	}
	assert.Greater(t, historyTargets, 20, "transitions to history states (from outside) are generated")
}
