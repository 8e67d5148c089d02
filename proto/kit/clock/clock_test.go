package clock

import (
	"context"
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
