package remote

import (
	"log/slog"
)

// Failures after Link.Send returned.
//
// A link whose Send only queues (a socket link: Send returns once the frame
// is queued on a live connection) can learn later that a batch never
// reached the peer: the connection broke before it was written. The
// transport hands such batches back to the core with Undelivered, which
// reports their envelopes like any other failed send (dead letters: a
// pending request's sender gets a DeadLetterResponse, a Watch its
// Terminated), and counts them. Batches that were written but whose
// delivery the peer never confirmed are only counted (Unconfirmed): they
// may or may not have been delivered, and reporting them as failed could
// be a lie. Nothing is dropped silently.

// Undelivered reports the envelopes of batch, a batch this core handed to
// the link of the peer at address and that the link could not deliver
// (cause: why; it should name the peer and, for a dead peer, wrap
// registry.ErrProcessDied). Each envelope goes to dead letters and is
// counted (Stats.Undelivered, Stats.DeadLettersOut). It returns the number
// of envelopes reported. The core encoded batch itself, but it is decoded
// defensively: a part that does not decode is counted and logged.
func (c *Core) Undelivered(address string, batch []byte, cause error) int {
	return c.deadLetterBatch(address, batch, 0, nil, cause)
}

// undecodable counts and logs a part of an undelivered batch that cannot be
// reported as a dead letter.
func (c *Core) undecodable(address string, cause, err error) {
	c.ctr.add(CEncodeErrors, 1)
	c.log.Warn("remote: undelivered envelope that does not decode", slog.String("peer", address), slog.Any("cause", cause), slog.Any("error", err))
}

// Unconfirmed records that batches link writes (a socket's frames) to the
// peer at address were written but never confirmed as delivered before the
// connection ended (cause): they may or may not have reached the peer.
// They are counted (Stats.Unconfirmed) and logged.
func (c *Core) Unconfirmed(address string, batches uint64, cause error) {
	if batches == 0 {
		return
	}
	c.ctr.add(CUnconfirmed, batches)
	c.log.Warn("remote: batches written to a peer whose delivery is unconfirmed", slog.String("peer", address), slog.Uint64("batches", batches), slog.Any("cause", cause))
}
