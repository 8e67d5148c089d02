package clock

import (
	"sync"
	"time"
)

// Sandbox is the time a platform sandbox lives in. Frozen, it moves only
// when set or advanced (tests); running, it also follows real time from the
// last setting (the local stack, benchmarks).
type Sandbox struct {
	mu      sync.Mutex
	base    time.Time // reading at setAt
	setAt   time.Time // real time of the last setting
	running bool
	real    func() time.Time
}

// NewSandbox starts a sandbox clock at start; real is the wall clock it
// follows while running (time.Now outside tests).
func NewSandbox(start time.Time, running bool, real func() time.Time) *Sandbox {
	return &Sandbox{base: start, setAt: real(), running: running, real: real}
}

// Now is the sandbox's current time.
func (c *Sandbox) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *Sandbox) nowLocked() time.Time {
	if !c.running {
		return c.base
	}
	return c.base.Add(c.real().Sub(c.setAt))
}

// Set moves the clock to t.
func (c *Sandbox) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.base, c.setAt = t, c.real()
}

// Advance moves the clock forward by d.
func (c *Sandbox) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.base, c.setAt = c.nowLocked().Add(d), c.real()
}

// SetRunning freezes the clock or lets it follow real time.
func (c *Sandbox) SetRunning(running bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.base, c.setAt, c.running = c.nowLocked(), c.real(), running
}

// Running reports whether the clock follows real time.
func (c *Sandbox) Running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.running
}
