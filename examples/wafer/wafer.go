// Package wafer holds the charts of the wafer tool that `xorc demo` and the
// examples run: a load port hands wafers one by one to a robot, the robot
// carries each into a process chamber and back. Every machine is a chart
// that sends events to the others by machine ID (xorc.send); the robot's
// moves and the chamber's process time are `after` timers; the chamber asks
// for the robot with a delayed send, and its watchdog timer is cancelled
// each time processing ends in time. The charts are plain XState JSON with
// xorc's built-in actions and guards, so they need no Go code.
package wafer

import (
	"fmt"

	"github.com/xorc-dev/xorc/actor"
)

// Wafers is how many wafers the load port hands out before it is done.
const Wafers = 3

// The charts, by machine ID.
const (
	LoadPortChart = `{"id": "loadport", "initial": "idle", "context": {"sent": 0},
  "states": {
    "idle": {"on": {"START": "running"}},
    "running": {
      "entry": [{"type": "xorc.increment", "params": {"key": "sent"}},
                {"type": "xorc.send", "params": {"to": "robot", "event": "PICK"}}],
      "on": {"WAFER_DONE": [
        {"target": "running", "reenter": true, "guard": {"type": "xorc.lt", "params": {"key": "sent", "value": 3}}},
        {"target": "unloaded"}]}},
    "unloaded": {"type": "final"}}}`

	RobotChart = `{"id": "robot", "initial": "idle", "context": {"moves": 0},
  "states": {
    "idle": {"on": {"PICK": "loading", "UNLOAD": "unloading"}},
    "loading": {"after": {"20": {"target": "idle", "actions": [
      {"type": "xorc.increment", "params": {"key": "moves"}},
      {"type": "xorc.send", "params": {"to": "chamber", "event": "LOAD"}}]}}},
    "unloading": {"after": {"20": {"target": "idle", "actions": [
      {"type": "xorc.increment", "params": {"key": "moves"}},
      {"type": "xorc.send", "params": {"to": "loadport", "event": "WAFER_DONE"}}]}}}}}`

	ChamberChart = `{"id": "chamber", "initial": "idle", "context": {"processed": 0},
  "states": {
    "idle": {"on": {"LOAD": "processing"}},
    "processing": {
      "after": {
        "40": {"target": "idle", "actions": [
          {"type": "xorc.increment", "params": {"key": "processed"}},
          {"type": "xorc.send", "params": {"to": "robot", "event": "UNLOAD", "delay": 10}}]},
        "5000": "fault"}},
    "fault": {"type": "final"}}}`
)

// IDs are the machine IDs in the order the tool starts them (the load port
// first: it is the one that gets START).
var IDs = []string{"loadport", "robot", "chamber"}

var charts = map[string]string{"loadport": LoadPortChart, "robot": RobotChart, "chamber": ChamberChart}

// Chart returns the JSON chart of machine id, or false for an unknown id.
func Chart(id string) (string, bool) {
	c, ok := charts[id]
	return c, ok
}

// Load compiles the chart of machine id.
func Load(id string) (*actor.Machine, error) {
	c, ok := charts[id]
	if !ok {
		return nil, fmt.Errorf("wafer: no machine %q (the tool has %v)", id, IDs)
	}
	m, err := actor.LoadJSON([]byte(c), nil)
	if err != nil {
		return nil, fmt.Errorf("wafer: chart %s: %w", id, err)
	}
	return m, nil
}
