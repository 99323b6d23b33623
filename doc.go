// Package xorc runs statechart machines (XState v5 semantics, package actor)
// as proto.actor actors and routes events between them by machine ID.
//
// An Orchestrator is attached to a proto.actor ActorSystem with a Config that
// chooses the transport:
//
//	system := pactor.NewActorSystem()
//	orc, err := xorc.New(system, xorc.Config{Transport: xorc.InProcess})
//	orc.Spawn(ctx, "robot", robotMachine)
//	orc.Send(ctx, "robot", actor.Event{Type: "PICK"})
//	snap, err := orc.Request(ctx, "robot", actor.Event{Type: "STATUS"})
//
// Machines send to each other by ID with the xorc.send action (or
// ActionArgs.Send); the orchestrator is their router. A machine in the same
// process receives the Go value directly; a machine in another process is
// reached through the transport (see Transport, the seam every transport
// implements). ConfigFromEnv and LoadConfig read the configuration from
// XORC_* variables or a JSON file.
//
// Errors are values matched with errors.Is: ErrUnknownMachine,
// ErrMachineExists, ErrInvalidMachineID, ErrEmptyEventType,
// ErrTransportUnavailable, ErrClosed, ...; deadlines come from the context.
package xorc
