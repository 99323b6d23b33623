package remote_pipe

import "sync/atomic"

// Stats are a node's counters since Listen (inbound and outbound).
type Stats struct {
	// Inbound.
	Accepted          uint64 // connections that completed the handshake
	Refused           uint64 // connections closed because of the peer's uid
	HandshakeFailures uint64 // connections that sent no valid hello in time
	BadFrames         uint64 // connections closed for a corrupt, oversized or unexpected frame
	InboundLost       uint64 // accepted connections that ended without a goodbye
	FramesIn          uint64 // data frames handed to the Handler
	BytesIn           uint64 // their payload bytes
	OpenIn            uint64 // inbound connections open now
	// Outbound.
	Dials        uint64 // connection attempts
	DialFailures uint64 // attempts that failed (Send got ErrUnreachable)
	FramesOut    uint64 // data frames completely written
	BytesOut     uint64 // their payload bytes
	Writes       uint64 // write calls: a batch, a direct frame, or the rest of one
	ConnsLost    uint64 // outbound connections that ended other than by our own orderly close
	Undelivered  uint64 // frames reported in Undelivered.Payloads
	Unconfirmed  uint64 // frames reported in Undelivered.Unconfirmed
	OpenOut      uint64 // outbound connections open now
}

// LinkStats are one link's counters.
type LinkStats struct {
	FramesOut, BytesOut, Writes uint64
	Dials, DialFailures         uint64
	ConnsLost                   uint64
	Undelivered, Unconfirmed    uint64
	QueuedFrames                int // waiting in the queue now
	QueuedBytes                 int // their size on the wire (headers included)
}

// counters are the atomics behind Stats. Hot paths add per batch or per
// read, not per frame, where they can.
type counters struct {
	accepted, refused, handshakeFailures, badFrames, inboundLost atomic.Uint64
	framesIn, bytesIn                                            atomic.Uint64
	dials, dialFailures, framesOut, bytesOut, writes             atomic.Uint64
	connsLost, undelivered, unconfirmed                          atomic.Uint64
	openIn, openOut                                              atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Accepted:          c.accepted.Load(),
		Refused:           c.refused.Load(),
		HandshakeFailures: c.handshakeFailures.Load(),
		BadFrames:         c.badFrames.Load(),
		InboundLost:       c.inboundLost.Load(),
		FramesIn:          c.framesIn.Load(),
		BytesIn:           c.bytesIn.Load(),
		OpenIn:            uint64(max(c.openIn.Load(), 0)),
		Dials:             c.dials.Load(),
		DialFailures:      c.dialFailures.Load(),
		FramesOut:         c.framesOut.Load(),
		BytesOut:          c.bytesOut.Load(),
		Writes:            c.writes.Load(),
		ConnsLost:         c.connsLost.Load(),
		Undelivered:       c.undelivered.Load(),
		Unconfirmed:       c.unconfirmed.Load(),
		OpenOut:           uint64(max(c.openOut.Load(), 0)),
	}
}
