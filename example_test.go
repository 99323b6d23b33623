package xorc_test

import (
	"context"
	"fmt"

	pactor "github.com/asynkron/protoactor-go/actor"

	"github.com/xorc-dev/xorc"
	"github.com/xorc-dev/xorc/actor"
)

// The README's example: two machines, an event sent by ID, a snapshot requested.
func Example() {
	system := pactor.NewActorSystem()
	defer system.Shutdown()
	orc, _ := xorc.New(system, xorc.Config{Transport: xorc.InProcess})
	defer orc.Close()
	ctx := context.Background()

	light, _ := actor.LoadJSON([]byte(`{"id": "light", "initial": "red", "states": {
	  "red": {"on": {"NEXT": "green"}}, "green": {"on": {"NEXT": "red"}}}}`), nil)
	button, _ := actor.LoadJSON([]byte(`{"id": "button", "initial": "up", "states": {
	  "up": {"on": {"PRESS": {"actions": [
	    {"type": "xorc.send", "params": {"to": "light", "event": "NEXT"}}]}}}}}`), nil)
	orc.Spawn(ctx, "light", light)
	orc.Spawn(ctx, "button", button)

	orc.Request(ctx, "button", actor.Event{Type: "PRESS"}) // answered once its send to "light" is out
	snap, _ := orc.Snapshot(ctx, "light")
	fmt.Println(snap.Value)
	// Output: green
}
