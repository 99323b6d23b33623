// Package actor is xorc's statechart core: XState v5 machine definitions
// (JSON or a Go Builder), a compiler into indexed tables, and a pure
// interpreter that behaves like XState 5.33.3 step for step.
package actor
