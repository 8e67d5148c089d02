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
