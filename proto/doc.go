// Package proto holds xorc's wire types (xorc.proto, package xorc.v1) and the
// codec that turns messages into envelopes and back.
//
// Every transport that crosses a process boundary carries Envelopes, usually
// several at a time in a Batch. An envelope names its target and sender PIDs,
// the protobuf full name of its payload and the payload bytes. Any protobuf
// message linked into the receiving process can travel (proto.actor's own
// actor.Watch, actor.Unwatch and actor.Terminated included, flagged as system
// messages); Go messages that are not protobuf messages travel when they
// implement Wirer (actor.Event becomes an Event, a machine's reply a Snapshot).
//
// Decoding treats the bytes as untrusted: a malformed envelope or batch, an
// unknown type name or a payload that does not decode gives an error wrapping
// ErrMalformed or ErrUnknownType, never a panic.
//
// The package is named proto like its folder; import Google's protobuf runtime
// under another name (this package uses gproto).
package proto
