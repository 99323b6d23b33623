// Package remote is the routing core shared by xorc's cross-process
// transports (shared memory, named pipes): everything about carrying
// proto.actor messages to another process except how the bytes move.
//
// A transport gives the core a Dial function that returns a Link per peer
// process (the transport-specific part: a ring write, a socket write) and
// feeds it the batches that arrive (Receive). The core does the rest:
//
//   - Resolve is a proto.actor AddressResolver for the transport's addresses.
//     It returns one pactor.Process per peer, so plain proto.actor code
//     (Send, Request, RequestFuture, Watch, Stop, replies to futures) crosses
//     processes unchanged.
//   - Outbound, a peer encodes each message into an envelope (package proto)
//     and batches envelopes per destination: when nothing is queued for the
//     peer the sender writes its envelope at once itself (no hand-off, no
//     added delay); while a write is in flight, later envelopes queue and the
//     peer's writer goroutine sends everything queued as one Batch, so batches
//     grow with the load.
//   - Deliver is the reporting send behind the facade's Transport seam: it
//     returns the outcome of the write (a full inbox past the deadline, a dead
//     peer wrapping registry.ErrProcessDied, a message without a wire form or
//     too large). Plain proto.actor sends cannot return errors; theirs are
//     reported as dead letters (the proto.actor DeadLetter process: requests
//     get a DeadLetterResponse at once) and counted. Nothing is dropped
//     silently.
//   - Inbound, Receive decodes a Batch (untrusted bytes) and delivers each
//     envelope to its local process with its sender, system messages
//     (Watch, Unwatch, Terminated, Stop) included. An envelope that does not
//     decode, or is addressed to an earlier process in the same place (a
//     stale generation), goes to dead letters and is counted; the others in
//     the batch are still delivered.
//   - Watch across processes: a local watcher of a remote actor gets
//     Terminated when that actor stops (its process sends it back) and, when
//     the peer process dies (the transport calls PeerDown, e.g. from the
//     registry's OnProcessDown), Terminated with reason AddressTerminated from
//     the core, which keeps the local watchers of each peer's actors.
//   - Failures after Send: a link whose Send only queues (a socket) hands
//     batches its connection could not deliver back to Undelivered, which
//     reports their envelopes as dead letters, and counts batches written
//     but never confirmed (Unconfirmed).
//
// Counters (Stats) cover every path; CopyCounters publishes them, e.g. into
// shared memory for `xorc inspect`.
//
// Delivery is at most once: a message written into a peer's inbox before
// that peer's death is known is lost with the peer (as with any socket).
package remote
