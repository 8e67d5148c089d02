package clock

import (
	"errors"
	"fmt"
	"time"
)

// Change is what a sandbox control API's POST /_sandbox/clock asks for:
// {"now":RFC3339} or {"advance":"36h"}, each with an optional "running".
type Change struct {
	Now     string `json:"now"`
	Advance string `json:"advance"`
	Running *bool  `json:"running"`
}

// ErrNoChange is returned by Apply when the change names nothing to do.
var ErrNoChange = errors.New("give now, advance or running")

// Apply checks the change and carries it out: set and advance go through the
// given functions, so a sandbox can do its own work when its time moves;
// running goes to c. Its errors are the caller's fault, worded for a 400
// answer; nothing is changed when it returns one.
func (ch Change) Apply(c *Sandbox, set func(time.Time), advance func(time.Duration)) error {
	var move func()
	switch {
	case ch.Now != "" && ch.Advance != "":
		return errors.New("give now or advance, not both")
	case ch.Now != "":
		t, err := time.Parse(time.RFC3339, ch.Now)
		if err != nil {
			return fmt.Errorf("now must be RFC 3339, e.g. 2026-03-01T09:00:00+09:00")
		}
		move = func() { set(t) }
	case ch.Advance != "":
		d, err := time.ParseDuration(ch.Advance)
		if err != nil || d < 0 {
			return fmt.Errorf("advance must be a non-negative duration, e.g. 36h")
		}
		move = func() { advance(d) }
	case ch.Running == nil:
		return ErrNoChange
	}
	if move != nil {
		move()
	}
	if ch.Running != nil {
		c.SetRunning(*ch.Running)
	}
	return nil
}
