package clock

import (
	"context"
	"flag"
	"testing"
	"time"
)

func TestFakeMovesOnlyWhenToldOrSleptOn(t *testing.T) {
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	f := NewFake(start)
	if !f.Now().Equal(start) {
		t.Fatalf("Now = %v, want %v", f.Now(), start)
	}
	if err := f.Sleep(context.Background(), 90*time.Second); err != nil {
		t.Fatal(err)
	}
	f.Advance(time.Hour)
	if want := start.Add(time.Hour + 90*time.Second); !f.Now().Equal(want) {
		t.Fatalf("Now = %v, want %v", f.Now(), want)
	}
	if f.Slept() != 90*time.Second {
		t.Fatalf("Slept = %v, want 90s", f.Slept())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.Sleep(ctx, time.Minute); err == nil {
		t.Fatal("Sleep on a cancelled context returned nil")
	}
}

func TestSandboxFrozenOrFollowingRealTime(t *testing.T) {
	real := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	wall := func() time.Time { return real }
	start := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	c := NewSandbox(start, false, wall)
	real = real.Add(time.Hour)
	if !c.Now().Equal(start) {
		t.Fatalf("frozen clock moved: %v", c.Now())
	}
	c.Advance(24 * time.Hour)
	c.SetRunning(true)
	real = real.Add(30 * time.Minute)
	if want := start.Add(24*time.Hour + 30*time.Minute); !c.Now().Equal(want) {
		t.Fatalf("running clock = %v, want %v", c.Now(), want)
	}
	c.Set(start)
	if !c.Now().Equal(start) || !c.Running() {
		t.Fatalf("after Set: %v running=%v", c.Now(), c.Running())
	}
}

func TestChangeChecksBeforeItMoves(t *testing.T) {
	wall := func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	start := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	running := true
	for _, tc := range []struct {
		name   string
		change Change
		want   time.Time
		run    bool
		bad    bool
	}{
		{"set", Change{Now: "2025-07-01T09:00:00+09:00"}, time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC), false, false},
		{"advance and run", Change{Advance: "36h", Running: &running}, start.Add(36 * time.Hour), true, false},
		{"both", Change{Now: "2025-07-01T09:00:00Z", Advance: "1h"}, start, false, true},
		{"bad time", Change{Now: "yesterday"}, start, false, true},
		{"negative", Change{Advance: "-1h"}, start, false, true},
		{"nothing", Change{}, start, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewSandbox(start, false, wall)
			err := tc.change.Apply(c, c.Set, c.Advance)
			if (err != nil) != tc.bad {
				t.Fatalf("Apply error = %v, want error %v", err, tc.bad)
			}
			if !c.Now().Equal(tc.want) || c.Running() != tc.run {
				t.Fatalf("clock = %v running=%v, want %v running=%v", c.Now(), c.Running(), tc.want, tc.run)
			}
		})
	}
}

func TestPlatformFlagChoosesTheWallClockOrAShiftedOne(t *testing.T) {
	parse := func(args ...string) (Clock, error) {
		fs := flag.NewFlagSet("collector", flag.ContinueOnError)
		get := PlatformFlag(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return get()
	}
	if c, err := parse(); err != nil || c != (Real{}) {
		t.Fatalf("no flag: %#v, %v; want the wall clock", c, err)
	}
	if _, err := parse("--platform-clock", "2026-06-15 12:00"); err == nil {
		t.Fatal("a time that is not RFC 3339 was accepted")
	}
	start := time.Date(2026, 6, 15, 12, 0, 0, 0, time.FixedZone("KST", 9*3600))
	made := time.Now()
	c, err := parse("--platform-clock", start.Format(time.RFC3339))
	if err != nil {
		t.Fatal(err)
	}
	// Whenever this runs, the shifted clock reads start plus the real time
	// since it was made, no more.
	got := c.Now()
	if got.Before(start) || got.After(start.Add(time.Since(made))) {
		t.Fatalf("shifted clock reads %v, want %v plus at most %v", got, start, time.Since(made))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sleep(ctx, time.Hour); err == nil {
		t.Fatal("Sleep on a cancelled context returned nil")
	}
}
