// Package casegen generates random statechart test cases in the input format of
// the XState oracle (../shared/tools/xstate-oracle/README.md): an XState v5
// machine config in JSON, an event sequence with payloads and $wait steps, and
// named delays.
//
// The cases exist to compare xorc's interpreter with XState step by step, so the
// generator uses every feature of issue 2 that the oracle covers (compound,
// parallel (also at the root), final and history states, explicit ids, every
// target form, string/object/array transitions, the * wildcard, guards incl.
// nested xorc.not/and/or and xorc.in, always, after, onDone, raise chains, every
// built-in action incl. runtime errors) and avoids what the README says is not
// comparable: transitions to a history state from inside its parent, history
// states directly under the root, integer-like state names, several targets, and
// xorc.send.
//
// Generation is deterministic: case i of seed s is the same on every run and on
// every platform (math/rand/v2's PCG seeded with (s, i)), so a failing case can
// be regenerated alone with One(s, i).
package casegen
