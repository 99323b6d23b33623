package remote

import (
	"fmt"
	"log/slog"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/xorc-dev/xorc/proto"
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
	n := 0
	for len(batch) > 0 {
		num, typ, tl := protowire.ConsumeTag(batch)
		if tl < 0 {
			c.undecodable(address, cause, fmt.Errorf("%w: batch: field tag: %v", proto.ErrMalformed, protowire.ParseError(tl)))
			return n
		}
		batch = batch[tl:]
		if num != 1 || typ != protowire.BytesType {
			fl := protowire.ConsumeFieldValue(num, typ, batch)
			if fl < 0 {
				c.undecodable(address, cause, fmt.Errorf("%w: batch: field %d: %v", proto.ErrMalformed, num, protowire.ParseError(fl)))
				return n
			}
			batch = batch[fl:]
			continue
		}
		v, vl := protowire.ConsumeBytes(batch)
		if vl < 0 {
			c.undecodable(address, cause, fmt.Errorf("%w: batch: envelope %d: %v", proto.ErrMalformed, n, protowire.ParseError(vl)))
			return n
		}
		batch = batch[vl:]
		n++
		c.ctr.add(CUndelivered, 1)
		env, err := proto.UnmarshalEnvelope(v)
		if err != nil {
			c.undecodable(address, cause, err)
			continue
		}
		d, err := proto.Decode(env)
		if err != nil {
			c.undecodable(address, cause, err)
			continue
		}
		if d.System {
			c.deadLetterOut(d.Target, d.Message, true, cause)
		} else {
			c.deadLetterOut(d.Target, d.UserMessage(), false, cause)
		}
	}
	return n
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
