// Package remote_pipe is xorc's named-pipe transport: processes on one host
// exchange frames over Unix domain sockets (what .NET and gRPC call named
// pipes on Linux and macOS). It has two layers.
//
// The Transport (New, Start, Deliver, Close) is what the facade uses for
// Config{Transport: NamedPipe}: it joins the shared-memory registry
// (package registry: which process owns which machine, which processes
// live), listens on a socket whose path is its address (ParseAddress,
// AddressFor), and plugs the routing core (internal/remote) into a
// proto.actor actor system. The core encodes envelope batches and hands
// each one to a Link as a frame; on the other side the Node's Handler gives
// it back to the core. Peer deaths come from the registry and from broken
// connections; frames a connection could not deliver are handed back to
// the core (Core.Undelivered), which reports them as dead letters.
//
// The Transport follows the core's send contract (see internal/remote): a
// one-way Deliver returns once the message is queued in the core (the
// core's writer hands queued envelopes to the Link in batches), a request's
// Deliver once its frame is written or queued on a live connection. The
// Link is connected before a message is accepted (remote.Connector): a
// peer that cannot be connected to fails that Deliver with ErrUnreachable
// (registry.ErrProcessDied if it is dead), and a message larger than the
// connected peer's frame limit fails with remote.ErrTooLarge. A peer that
// does not read fills the socket, the Link's queue, then the core's queue:
// Deliver then fails with remote.ErrFull at its deadline. What fails after
// it was accepted is reported by the core (dead letters, Undelivered, the
// next Deliver fails with remote.ErrUndelivered). Close lets the core flush
// what it accepted into the Links (a second), then each Link flushes its
// queue and says goodbye (Options.CloseTimeout).
//
// The socket layer (Listen, Node, Link) below it knows nothing of
// envelopes, actors or machine IDs: it moves opaque frames.
//
// # Shape of the socket layer
//
//	node, err := remote_pipe.Listen(remote_pipe.Options{
//		Name: cfg.Name, Slot: self.Slot, Generation: self.Generation,
//	}, func(from remote_pipe.PeerInfo, batch []byte) { /* decode, deliver; batch is reused after return */ })
//	reg.SetAddress(node.Path())                          // peers find us in the registry
//	link, err := node.Link(remote_pipe.TargetFor(peer))  // peer is a registry.Process
//	err = link.Send(ctx, batch)                          // copied; written now or by the link's writer
//	link.Close(err)                                      // e.g. on the registry's OnProcessDown
//	node.Close()                                         // flush, goodbye, unlink the socket
//
// # Sockets and directory
//
// Every process listens on its own socket, <slot>.<generation>.sock (the
// registry slot and its generation, so a restarted process never reuses
// its predecessor's path; "p<pid>.sock" without a registry; or
// Options.SocketName), in $XDG_RUNTIME_DIR/xorc/<Name>, else
// /tmp/xorc-<uid>/<Name>. Both directory levels are created 0700 and
// checked on every start: a directory, not a symlink, owned by our uid,
// with no permission bits beyond DirMode; anything else is ErrUnsafeDir.
// The socket is 0600.
//
// Next to the socket, <socket>.lock holds an flock for as long as the
// listener lives (the kernel drops it when the process dies). Whoever
// holds the lock owns the path: Listen removes a socket file left at its
// path (its owner is dead) before binding, and fails with
// ErrAddressInUse if a live process holds the lock. At start a node also
// sweeps the directory: sockets whose lock nobody holds belonged to dead
// processes and are removed. Probing by connecting is not used: it would
// misjudge a socket between bind and listen.
//
// # Frames
//
// Every frame is a 4-byte big-endian payload length, a 1-byte kind and the
// payload:
//
//	kind        direction            payload
//	1 hello     dialer -> acceptor   24 bytes: 'XPIP', version u16, flags u16, slot i32, generation u32, pid u32, max frame u32
//	2 welcome   acceptor -> dialer   24 bytes, the same layout: who the acceptor is and what it accepts
//	3 data      dialer -> acceptor   0..MaxFrame bytes: opaque (an encoded batch)
//	4 ack       acceptor -> dialer   8 bytes: data frames delivered to the Handler so far (u64)
//	5 goodbye   either way           1..256 bytes: reason code (1 closing, 2 refused, 3 bad frame, 4 version) + text
//
// Lengths are checked against the kind's limits before any payload byte is
// read. A receiver closes a connection that sends an unknown kind, a
// length out of range (a data frame over its MaxFrame), a truncated
// frame, a malformed control frame or a frame out of protocol order: it
// counts it (Stats.BadFrames), logs it, tells the peer in a goodbye and
// goes on serving every other connection. A sender never sends a frame
// over the smaller of its own MaxFrame and the limit the peer announced:
// Send refuses it with ErrFrameTooLarge and the connection is unaffected.
//
// # Connections: one per direction
//
// A process sends only on connections it dialed and receives only on
// connections it accepted. Between two processes there are then two
// connections, one each way, and nothing to deduplicate: when both dial
// at once each simply gets its own, no tie-break, no connection handed
// from one role to the other, and no lock shared by the sending and
// receiving paths (so no deadlock between them). Per-direction order is
// the connection's order. The price is a second socket per pair of
// processes that talk both ways. The acceptor's direction carries only
// the welcome, acknowledgements and a goodbye.
//
// A Link dials on its first Send, does the handshake (the listener's uid is
// checked too; a welcome from another slot or generation than the target
// names is ErrWrongPeer) and keeps the connection. After the connection
// breaks, the next Send redials; a failed dial makes Sends fail at once
// with that error (ErrUnreachable) until a backoff has passed (BackoffMin,
// doubling up to BackoffMax, reset by a success).
//
// # Writes coalesce
//
// Send copies the payload (the caller may reuse its buffer at once). A
// Send that finds the link busy appends the frame to the link's queue, one
// contiguous buffer laid out as on the wire, and wakes the writer
// goroutine if the queue was empty; the writer takes the whole queue and
// writes it with one write(2) (a single buffer needs no writev). Under
// load, frames queue while the previous write is in flight and go out
// together: Stats.Writes against Stats.FramesOut shows it (hundreds to
// thousands of small frames per write in the throughput benchmark).
//
// An idle link adds no delay: a Send that finds nothing queued, nothing
// being written and no other such Send in the last 20µs writes its frame itself
// with one non-blocking write, saving the wake-up of the writer goroutine
// (in a ping-pong that hand-off cost more than the write). If the socket
// takes only part of the frame, the writer goroutine finishes it; the Send
// never blocks on a slow peer. Sends that follow each other more closely
// than 20µs take the queue, where they coalesce.
//
// The queue is bounded (QueueBytes): a Send that finds it full waits for
// the writer, up to its context's deadline (SendDeadline: its deadline),
// then fails with ErrQueueFull.
//
// # Readers poll while a reply is due
//
// An inbound connection's reader normally parks in the Go poller. After
// this process wrote a request (ReplySpin) or received one (RequestSpin),
// Node.ExpectTraffic makes the readers poll their sockets with
// non-blocking reads for that long instead (yielding to this process's
// goroutines between polls, and to other threads every 50µs): a parked
// reader pays a thread wake-up from epoll and an idle runtime thread's
// futex wake-up per message, which on a 2-vCPU VM made a round trip ~140µs
// instead of ~21µs. An idle process does not poll, nor does one limited
// to one CPU. Deadlines, closes and bad frames end a polling read as they
// end a parked one.
//
// # Never a silent drop
//
// The acceptor acknowledges the data frames it has handed to its Handler
// (an ack at most every AckDelay while frames arrive; none when idle).
// When a connection ends, every frame Send accepted on it is accounted
// for: acknowledged, or reported through Options.OnUndelivered — payloads
// never completely written are handed back (copies: the report's receiver
// owns them), frames written but not acknowledged are counted as
// Unconfirmed (they may or may not have been delivered). An orderly close (Link shutdown in Node.Close) flushes the
// queue, sends a goodbye, and the peer acknowledges everything before it
// closes, so nothing is left unconfirmed.
//
// A peer that dies (kill -9) closes its end: the link's reader sees the
// end of stream at once, the connection's frames are reported with
// ErrConnLost, and the next Send's dial fails with ErrUnreachable
// (connection refused: the socket file is still there, nobody listens).
// The routing core, told by the registry, closes the link with the
// registry's error (Link.Close(cause)); Sends then fail with ErrClosed
// wrapping that cause.
//
// # Security
//
// The acceptor reads the peer's credentials from the kernel (SO_PEERCRED on
// Linux, LOCAL_PEERCRED, as getpeereid does, on macOS) and accepts only its
// own uid and Options.AllowUIDs; others get a goodbye (ErrRefused on their
// side), are logged and counted (Stats.Refused). The dialer applies the
// same rule to the listener. The 0700 directory already keeps other users
// out; peers of another uid need a DirMode and SocketMode that let them in.
//
// # Platforms
//
// Linux and macOS. Elsewhere (Windows) the package builds and Listen
// returns ErrUnsupportedPlatform.
package remote_pipe
