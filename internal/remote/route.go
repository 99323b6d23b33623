package remote

import (
	"context"
	"reflect"
	"sync/atomic"

	pactor "github.com/asynkron/protoactor-go/actor"

	"github.com/xorc-dev/xorc/proto"
)

// Route is a handle for one-way sends of frozen messages (proto.Frozen,
// without a reply address) to one actor of a peer process, for a caller that
// sends to the same actor again and again (the facade keeps one per machine
// it sends to). It holds the peer and the encoded envelopes of the last few
// messages, so that a send is a lock, one copy into the peer's queue and,
// when the writer goroutine sleeps, a kick: Deliver also finds the peer by
// address, reads the context's deadline and looks the envelope up by target.
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
	envs   [routeEnvs]atomic.Pointer[routeEnv]
	next   atomic.Uint32 // the entry the next miss replaces
}

// routeEnvs is how many encoded envelopes a Route keeps (one per message:
// a machine is usually sent a handful of event types).
const routeEnvs = 4

type routeEnv struct {
	msg proto.Frozen
	env []byte // one Batch field
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
// Deliver(ctx, target, nil, msg), errors included.
func (r *Route) Send(ctx context.Context, msg proto.Frozen) error {
	return r.send(ctx, msg, nil)
}

// Envelope returns the encoded envelope of msg to the route's target, for
// SendEnvelope (a caller that keeps it skips the Route's lookup), or nil
// when it cannot be kept (see Send).
func (r *Route) Envelope(msg proto.Frozen) []byte {
	return r.envelope(r.p.Load(), msg)
}

// SendEnvelope is Send for a caller that keeps env = Envelope(msg) (nil:
// none); the envelope must not be changed.
func (r *Route) SendEnvelope(ctx context.Context, msg proto.Frozen, env []byte) error {
	if env == nil {
		return r.deliver(ctx, r.p.Load(), msg)
	}
	return r.send(ctx, msg, env)
}

func (r *Route) send(ctx context.Context, msg proto.Frozen, env []byte) error {
	p := r.p.Load()
	if p.replies.Load() > 0 || ctx.Err() != nil {
		return r.deliver(ctx, p, msg)
	}
	if p.connect != nil {
		dl, _ := ctx.Deadline()
		if p.connect(dl) != nil {
			return r.deliver(ctx, p, msg)
		}
	}
	if env == nil {
		env = r.envelope(p, msg)
	}
	if env == nil || len(env) > p.link.MaxBatch() || !p.queueEncoded(ctx, env) {
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

// envelope returns the encoded envelope of msg to the target, or nil when
// it cannot be kept (it does not encode, is too large for the link, or its
// type is not comparable): Deliver then says what is wrong, or encodes it
// each time.
func (r *Route) envelope(p *peer, msg proto.Frozen) []byte {
	for i := range r.envs {
		if e := r.envs[i].Load(); e != nil && e.msg == msg {
			return e.env
		}
	}
	if !reflect.TypeOf(msg).Comparable() {
		return nil
	}
	env, err := appendEnvelopeCached(nil, nil, nil, r.target, nil, msg)
	if err != nil || len(env) > p.link.MaxBatch() {
		return nil
	}
	r.envs[r.next.Add(1)%routeEnvs].Store(&routeEnv{msg: msg, env: env})
	return env
}
