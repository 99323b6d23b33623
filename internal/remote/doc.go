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
//   - Outbound, the sending goroutine encodes each message into an envelope
//     (package proto) straight into the peer's queue (one buffer of Batch
//     fields) and returns; the peer's writer goroutine takes the whole queue
//     at once and writes it in as few link writes as the link's MaxBatch
//     allows, so batches grow with the load even from a single sender.
//     Urgent messages skip the hand-off when the peer is idle (nothing
//     queued, no write in flight): a request (it carries a reply address)
//     and a reply to a request that came from that peer are written by the
//     sending goroutine itself, so a round trip wakes no writer.
//   - Back-pressure: the queue per peer is bounded (Config.MaxQueueBytes).
//     While the peer's inbox is full the writer waits for room, the queue
//     fills, and senders wait for room in it until their deadline, then fail
//     with ErrFull naming the peer.
//   - Deliver is the reporting send behind the facade's Transport seam. The
//     contract: a one-way Deliver returns nil once its message is accepted
//     (queued); a request's Deliver returns the outcome of its write (nil:
//     in the peer's inbox). A Deliver that fails did not send its message:
//     ErrFull (no room before the deadline), a dead peer (wrapping
//     registry.ErrProcessDied), a peer the link cannot connect to (the
//     link's error), ErrTooLarge (over the peer's limit) or
//     proto.ErrUnknownType (no wire form), ErrClosed. What fails after it was accepted (a write that ran
//     out of time, a peer that died with messages queued) is never silent:
//     each message goes to dead letters (the proto.actor DeadLetter process:
//     a request gets a DeadLetterResponse at once), the Undelivered and
//     SendErrors counters count it, and the next Deliver to that peer fails
//     with an error wrapping ErrUndelivered and the cause (for a dead peer,
//     that and every later Deliver fails with its death). Plain proto.actor
//     sends cannot return errors: theirs are reported as dead letters and
//     counted.
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
//   - Links that connect lazily (a socket: Connector) are connected before
//     a message is accepted, so a peer that cannot be reached fails the
//     send that finds it, and MaxBatch is the connected peer's limit (it
//     may take smaller batches than we do) when the message is checked.
//   - Close stops taking messages (ErrClosed) and lets the writers write
//     what was accepted, up to Config.CloseTimeout; what is still queued
//     then is reported like any accepted message that was not delivered.
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
