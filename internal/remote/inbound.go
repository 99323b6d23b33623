package remote

import (
	"bytes"
	"errors"
	"fmt"

	pactor "github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/xorc-dev/xorc/proto"
)

// Undeliverable is the Message of the DeadLetterEvent published for an
// inbound envelope that could not be delivered: it did not decode, or it was
// addressed to another process.
type Undeliverable struct {
	Reason   string // "undecodable batch", "undecodable envelope", "stale address"
	TypeName string // the envelope's payload type, when known
	Err      error
}

func (u *Undeliverable) String() string {
	if u.TypeName != "" {
		return fmt.Sprintf("%s (%s): %v", u.Reason, u.TypeName, u.Err)
	}
	return fmt.Sprintf("%s: %v", u.Reason, u.Err)
}

// ErrStale: an inbound envelope was addressed to another process (usually an
// earlier process that had the same place, e.g. registry slot).
var ErrStale = errors.New("envelope addressed to another process")

// Receive decodes one batch from untrusted bytes and delivers its envelopes
// to their local processes, in order. Envelopes that do not decode or are
// addressed to another process go to dead letters and are counted, and the
// others are still delivered; a batch whose framing is broken is delivered
// up to the break. The error (nil if everything was delivered) says what was
// dropped.
//
// Consecutive common envelopes for one target are delivered as a run (see
// inRun): in one step to a mailbox that takes runs, message by message to
// any other process; anything else first delivers the run before it.
func (c *Core) Receive(batch []byte) error {
	c.ctr.add(CReceivedBatches, 1)
	var (
		first error
		run   inRun
	)
	n := 0
	for len(batch) > 0 {
		if le := c.fast.lastEnv.Load(); le != nil && bytes.HasPrefix(batch, le.field) {
			// A run of the envelope the decoder last recognised (see
			// fastIn.lastEnv): what the loop below would find, field by
			// field, without parsing it.
			k := 0
			if block := le.blockOf(0); block != nil {
				for n+blockFields <= c.cfg.MaxEnvelopes && bytes.HasPrefix(batch, block) {
					batch = batch[len(block):]
					k += blockFields
					n += blockFields
				}
			}
			for n < c.cfg.MaxEnvelopes && bytes.HasPrefix(batch, le.field) {
				batch = batch[len(le.field):]
				k++
				n++
			}
			le.blockOf(k)
			c.queueN(&run, le.pid, le.ev, k)
			if n < c.cfg.MaxEnvelopes || len(batch) == 0 {
				continue
			}
			// At the limit: what follows is refused below.
		}
		num, typ, tl := protowire.ConsumeTag(batch)
		if tl < 0 {
			c.done(&run)
			return c.badBatch(first, fmt.Errorf("%w: batch: field tag: %v", proto.ErrMalformed, protowire.ParseError(tl)))
		}
		batch = batch[tl:]
		if num == 1 && typ == protowire.BytesType {
			v, vl := protowire.ConsumeBytes(batch)
			if vl < 0 {
				c.done(&run)
				return c.badBatch(first, fmt.Errorf("%w: batch: envelope %d: %v", proto.ErrMalformed, n, protowire.ParseError(vl)))
			}
			batch = batch[vl:]
			if n++; n > c.cfg.MaxEnvelopes {
				c.done(&run)
				return c.badBatch(first, fmt.Errorf("%w: batch of more than %d envelopes", proto.ErrTooLarge, c.cfg.MaxEnvelopes))
			}
			if pid, out, ok := c.fastDecode(v); ok {
				if me, ok := out.(*pactor.MessageEnvelope); ok && me.Sender.Address != c.addr {
					c.owe(me.Sender.Address)
				}
				c.queue(&run, pid, out)
				continue
			}
			c.flush(&run)
			if err := c.receiveEnvelope(v); err != nil && first == nil {
				first = err
			}
			continue
		}
		fl := protowire.ConsumeFieldValue(num, typ, batch) // an unknown field: skip it
		if fl < 0 {
			c.done(&run)
			return c.badBatch(first, fmt.Errorf("%w: batch: field %d: %v", proto.ErrMalformed, num, protowire.ParseError(fl)))
		}
		batch = batch[fl:]
	}
	c.done(&run)
	return first
}

func (c *Core) badBatch(first, err error) error {
	c.ctr.add(CDecodeErrors, 1)
	c.deadLetterIn(nil, nil, &Undeliverable{Reason: "undecodable batch", Err: err})
	if first != nil {
		return errors.Join(first, err)
	}
	return err
}

func (c *Core) receiveEnvelope(data []byte) error {
	env, err := proto.UnmarshalEnvelope(data)
	if err != nil {
		c.ctr.add(CDecodeErrors, 1)
		var target *pactor.PID
		if env != nil {
			target = env.Target.ToPID()
		}
		c.deadLetterIn(target, nil, &Undeliverable{Reason: "undecodable envelope", Err: err})
		return err
	}
	if env.Target.Address != c.addr {
		c.ctr.add(CStale, 1)
		err := fmt.Errorf("%w: %s/%s arrived at %s", ErrStale, env.Target.Address, env.Target.Id, c.addr)
		c.deadLetterIn(env.Target.ToPID(), env.Sender.ToPID(), &Undeliverable{Reason: "stale address", TypeName: env.TypeName, Err: err})
		return err
	}
	d, err := proto.Decode(env)
	if err != nil {
		c.ctr.add(CDecodeErrors, 1)
		c.deadLetterIn(env.Target.ToPID(), env.Sender.ToPID(), &Undeliverable{Reason: "undecodable envelope", TypeName: env.TypeName, Err: err})
		return err
	}
	if d.System {
		if err := checkSystem(d.Message); err != nil {
			c.ctr.add(CDecodeErrors, 1)
			err = fmt.Errorf("%w: %s for %s/%s: %v", proto.ErrMalformed, env.TypeName, d.Target.Address, d.Target.Id, err)
			c.deadLetterIn(d.Target, nil, &Undeliverable{Reason: "undecodable envelope", TypeName: env.TypeName, Err: err})
			return err
		}
	}
	proc := c.localProcess(d.Target) // the DeadLetter process when there is none
	if d.System {
		if t, ok := d.Message.(*pactor.Terminated); ok && t.Who != nil {
			if p, ok := c.peers.Load(t.Who.Address); ok {
				p.unwatched(t.Who, d.Target)
			}
		}
		proc.SendSystemMessage(d.Target, d.Message)
	} else {
		if d.Sender != nil && d.Sender.Address != c.addr {
			c.owe(d.Sender.Address)
		}
		proc.SendUserMessage(d.Target, d.UserMessage())
	}
	c.ctr.add(CReceived, 1)
	return nil
}

// deadLetterIn reports an inbound envelope that could not be delivered. With
// a sender, proto.actor's dead-letter handling answers it with a
// DeadLetterResponse, so a request fails at once instead of timing out.
func (c *Core) deadLetterIn(target, sender *pactor.PID, u *Undeliverable) {
	c.ctr.add(CDeadLettersIn, 1)
	c.sys.EventStream.Publish(&pactor.DeadLetterEvent{PID: target, Message: u, Sender: sender})
}

// checkSystem refuses system messages that proto.actor would act on with a
// nil PID (a Watch without watcher reaching the dead-letter process makes it
// send Terminated to nil, which panics).
func checkSystem(m any) error {
	switch m := m.(type) {
	case *pactor.Watch:
		if m.Watcher == nil {
			return errors.New("watch without watcher")
		}
	case *pactor.Unwatch:
		if m.Watcher == nil {
			return errors.New("unwatch without watcher")
		}
	case *pactor.Terminated:
		if m.Who == nil {
			return errors.New("terminated without who")
		}
	}
	return nil
}
