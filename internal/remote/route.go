package remote

import (
	"context"
	"sync/atomic"

	pactor "github.com/asynkron/protoactor-go/actor"

	"github.com/xorc-dev/xorc/proto"
)

// Route is a handle for one-way sends of frozen messages (proto.Frozen,
// without a reply address) to one actor of a peer process, for a caller that
// sends to the same actor again and again and keeps the encoded envelope of
// each message it sends (the facade keeps a Route per machine, and an
// envelope per event type): a send is then a lock, one copy into the peer's
// queue and, when the writer goroutine sleeps, a kick. Deliver also finds
// the peer by address, reads the context's deadline and looks the envelope
// up by target.
//
// Whatever a send through Deliver would report goes through Deliver: a peer
// that is down, closing, has undelivered messages to report, owes a reply
// (the message may be that reply, written at once) or has no room in its
// queue. When its peer is replaced (a link that broke and was dialed again)
// the Route follows. A Route is safe for concurrent use.
type Route struct {
	c      *Core
	p      atomic.Pointer[peer]
	target *pactor.PID
}

// Route returns a Route to target, or nil when target is not an actor of a
// peer this core has dialed (then Deliver is the way: it dials, or says why
// it cannot).
func (c *Core) Route(target *pactor.PID) *Route {
	if target == nil || target.Id == "" {
		return nil
	}
	p, ok := c.peers.Load(target.Address)
	if !ok {
		return nil
	}
	r := &Route{c: c, target: target}
	r.p.Store(p)
	return r
}

// Send sends msg to the route's target: the same as
// Deliver(ctx, target, nil, msg), errors included. It encodes msg each
// time; a caller that sends it again keeps Envelope(msg) for SendEnvelope.
func (r *Route) Send(ctx context.Context, msg proto.Frozen) error {
	return r.SendEnvelope(ctx, msg, r.Envelope(msg))
}

// Envelope returns the encoded envelope of msg to the route's target, for
// SendEnvelope, or nil when there is none to keep (msg does not encode, or
// is larger than the link takes: Deliver then says so).
func (r *Route) Envelope(msg proto.Frozen) []byte {
	env, err := appendEnvelopeCached(nil, nil, nil, r.target, nil, msg)
	if err != nil || len(env) > r.p.Load().link.MaxBatch() {
		return nil
	}
	return env
}

// SendEnvelope is Send for a caller that keeps env = Envelope(msg) (nil:
// none, msg goes through Deliver); env must not be changed.
func (r *Route) SendEnvelope(ctx context.Context, msg proto.Frozen, env []byte) error {
	p := r.p.Load()
	if env == nil || p.replies.Load() > 0 || ctx.Err() != nil {
		return r.deliver(ctx, p, msg)
	}
	if p.connect != nil {
		dl, _ := ctx.Deadline()
		if p.connect(dl) != nil {
			return r.deliver(ctx, p, msg)
		}
	}
	if len(env) > p.link.MaxBatch() || !p.queueEncoded(ctx, env) {
		return r.deliver(ctx, p, msg)
	}
	return nil
}

// deliver sends msg the general way, and moves the Route to the peer that
// now has the target's address if p is down (the core dialed it again).
func (r *Route) deliver(ctx context.Context, p *peer, msg proto.Frozen) error {
	err := r.c.Deliver(ctx, r.target, nil, msg)
	p.mu.Lock()
	down := p.err != nil
	p.mu.Unlock()
	if down {
		if np, ok := r.c.peers.Load(r.target.Address); ok && np != p {
			r.p.CompareAndSwap(p, np)
		}
	}
	return err
}
