package xorc

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xorc-dev/xorc/actor"
	"github.com/xorc-dev/xorc/proto"
)

// An event without data sent to another process is carried by a message
// shared by its type (no allocation per send); one with data is the event
// itself; types whose cache slots collide never mix.
func TestWireMessage(t *testing.T) {
	o := &Orchestrator{}
	m := o.wireMessage(actor.Event{Type: "GO"})
	p, ok := m.(*bareEvent)
	require.True(t, ok, "%T", m)
	assert.Equal(t, actor.Event{Type: "GO"}, p.ev)
	assert.Implements(t, (*proto.Frozen)(nil), m)
	typ, payload, err := p.WireEvent()
	require.NoError(t, err)
	assert.Equal(t, "GO", typ)
	assert.Empty(t, payload)
	pm, err := p.WireMessage()
	require.NoError(t, err)
	assert.Equal(t, "GO", pm.(*proto.Event).GetType())
	assert.Same(t, p, o.wireMessage(actor.Event{Type: "GO"}))
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = o.wireMessage(actor.Event{Type: "GO"}) }))

	withData := actor.Event{Type: "GO", Data: map[string]any{"n": 1.0}}
	assert.Equal(t, withData, o.wireMessage(withData))

	for round := range 2 {
		for i := range 200 {
			typ := fmt.Sprintf("E%d", i)
			p, ok := o.wireMessage(actor.Event{Type: typ}).(*bareEvent)
			require.True(t, ok)
			require.Equal(t, actor.Event{Type: typ}, p.ev, "round %d", round)
		}
	}
}
