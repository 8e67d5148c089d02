package clock

import (
	"context"
	"flag"
	"fmt"
	"time"
)

// Shifted is the wall clock moved to read a chosen time at the moment it is
// made; from then on it runs with real time, and Sleep really waits. A
// collector talking to a sandbox that was started at the same time (its
// --clock) uses it, so the two agree on the date whatever day it is: the
// sandboxes of the end-to-end tests live on fixed dates.
type Shifted struct{ running *Sandbox }

// NewShifted returns a clock that reads start now.
func NewShifted(start time.Time) Shifted { return Shifted{NewSandbox(start, true, time.Now)} }

// Now is start plus the real time since the clock was made.
func (s Shifted) Now() time.Time { return s.running.Now() }

// Sleep waits for real.
func (Shifted) Sleep(ctx context.Context, d time.Duration) error { return Real{}.Sleep(ctx, d) }

// PlatformFlag registers a collector's --platform-clock flag on fs. The
// returned function, called after parsing, gives the clock the flag asks
// for: the wall clock when it is empty (production), Shifted otherwise.
func PlatformFlag(fs *flag.FlagSet) func() (Clock, error) {
	v := fs.String("platform-clock", "", "RFC 3339 time the platform's clock reads at start, running from there: for a sandbox started with the same --clock (tests, demos); empty is the wall clock")
	return func() (Clock, error) {
		if *v == "" {
			return Real{}, nil
		}
		t, err := time.Parse(time.RFC3339, *v)
		if err != nil {
			return nil, fmt.Errorf("--platform-clock %q: %w", *v, err)
		}
		return NewShifted(t), nil
	}
}
