package sandbox

import (
	"sync"
	"time"
)

// sandboxClock is the time the site lives in. Frozen, it moves only when set
// or advanced (tests); running, it also follows real time from the last
// setting (the local stack).
type sandboxClock struct {
	mu      sync.Mutex
	base    time.Time
	setAt   time.Time
	running bool
	real    func() time.Time
}

func newSandboxClock(start time.Time, running bool, real func() time.Time) *sandboxClock {
	return &sandboxClock{base: start, setAt: real(), running: running, real: real}
}

func (c *sandboxClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *sandboxClock) nowLocked() time.Time {
	if !c.running {
		return c.base
	}
	return c.base.Add(c.real().Sub(c.setAt))
}

func (c *sandboxClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.base, c.setAt = t, c.real()
}

func (c *sandboxClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.base, c.setAt = c.nowLocked().Add(d), c.real()
}

func (c *sandboxClock) SetRunning(running bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.base, c.setAt, c.running = c.nowLocked(), c.real(), running
}

func (c *sandboxClock) Running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.running
}
