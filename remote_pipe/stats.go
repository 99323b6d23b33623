package remote_pipe

import "sync/atomic"

// Stats are a node's counters since Listen (inbound and outbound).
type Stats struct {
	// Inbound.
	Accepted          uint64 `json:"accepted"`           // connections that completed the handshake
	Refused           uint64 `json:"refused"`            // connections closed because of the peer's uid
	HandshakeFailures uint64 `json:"handshake_failures"` // connections that sent no valid hello in time
	BadFrames         uint64 `json:"bad_frames"`         // connections closed for a corrupt, oversized or unexpected frame
	InboundLost       uint64 `json:"inbound_lost"`       // accepted connections that ended without a goodbye
	FramesIn          uint64 `json:"frames_in"`          // data frames handed to the Handler
	BytesIn           uint64 `json:"bytes_in"`           // their payload bytes
	OpenIn            uint64 `json:"open_in"`            // inbound connections open now
	// Outbound.
	Dials        uint64 `json:"dials"`         // connection attempts
	DialFailures uint64 `json:"dial_failures"` // attempts that failed (Send got ErrUnreachable)
	FramesOut    uint64 `json:"frames_out"`    // data frames completely written
	BytesOut     uint64 `json:"bytes_out"`     // their payload bytes
	Writes       uint64 `json:"writes"`        // write calls: a batch, a direct frame, or the rest of one
	ConnsLost    uint64 `json:"conns_lost"`    // outbound connections that ended other than by our own orderly close
	Undelivered  uint64 `json:"undelivered"`   // frames reported in Undelivered.Payloads
	Unconfirmed  uint64 `json:"unconfirmed"`   // frames reported in Undelivered.Unconfirmed
	OpenOut      uint64 `json:"open_out"`      // outbound connections open now
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
