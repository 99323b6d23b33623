// Command inproc is the smallest xorc program: two machines in one process,
// one sending to the other by machine ID, and a snapshot requested from
// outside. Run it with `go run ./examples/inproc`.
package main

import (
	"context"
	"fmt"
	"log"

	pactor "github.com/asynkron/protoactor-go/actor"

	"github.com/xorc-dev/xorc"
	"github.com/xorc-dev/xorc/actor"
)

const lightChart = `{"id": "light", "initial": "red", "context": {"changes": 0}, "states": {
  "red":   {"on": {"NEXT": {"target": "green", "actions": [{"type": "xorc.increment", "params": {"key": "changes"}}]}}},
  "green": {"on": {"NEXT": {"target": "red",   "actions": [{"type": "xorc.increment", "params": {"key": "changes"}}]}}}}}`

const buttonChart = `{"id": "button", "initial": "up", "states": {
  "up": {"on": {"PRESS": {"actions": [{"type": "xorc.send", "params": {"to": "light", "event": "NEXT"}}]}}}}}`

func main() {
	cfg, err := xorc.ConfigFromEnv() // XORC_TRANSPORT, XORC_NAME, ...
	if err != nil {
		log.Fatal(err)
	}
	system := pactor.NewActorSystem()
	defer system.Shutdown()
	orc, err := xorc.New(system, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer orc.Close()
	ctx := context.Background()

	for id, chart := range map[string]string{"light": lightChart, "button": buttonChart} {
		m, err := actor.LoadJSON([]byte(chart), nil)
		if err != nil {
			log.Fatalf("%s: %v", id, err)
		}
		if _, err := orc.Spawn(ctx, id, m); err != nil {
			log.Fatal(err)
		}
	}
	for range 3 {
		// A request is answered after the event is processed and its sends are out.
		if _, err := orc.Request(ctx, "button", actor.Event{Type: "PRESS"}); err != nil {
			log.Fatal(err)
		}
	}
	snap, err := orc.Snapshot(ctx, "light")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("light is %v after %v changes\n", snap.Value, snap.Context["changes"])
}
