package schedule

import (
	"testing"
	"time"
)

func TestNextSyncIsInTheSellersTimeZone(t *testing.T) {
	s, err := New(Config{Daily: "0 8 * * *", Intraday: "0 11-23/3 * * *"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		tz, now, want string
	}{
		// 09:30 in Seoul: the next intraday slot, 11:00 Seoul.
		{"Asia/Seoul", "2024-03-01T00:30:00Z", "2024-03-01T02:00:00Z"},
		// 23:30 in Seoul: tomorrow's daily run at 08:00 Seoul.
		{"Asia/Seoul", "2024-03-01T14:30:00Z", "2024-03-01T23:00:00Z"},
		// The same instant is 06:30 in Los Angeles (PST): 08:00 there.
		{"America/Los_Angeles", "2024-03-01T14:30:00Z", "2024-03-01T16:00:00Z"},
	} {
		now, _ := time.Parse(time.RFC3339, c.now)
		got := s.NextSync(c.tz, now)
		if got == nil || got.Format(time.RFC3339) != c.want {
			t.Errorf("%s at %s: next %v, want %s", c.tz, c.now, got, c.want)
		}
	}
	off, _ := New(Config{})
	if off.NextSync("Asia/Seoul", time.Now()) != nil {
		t.Error("no schedule, yet a next sync")
	}
	if _, err := New(Config{Daily: "every morning"}); err == nil {
		t.Error("a malformed spec was accepted")
	}
}

func TestSlotKeysNameTheLocalMinute(t *testing.T) {
	seoul, _ := time.LoadLocation("Asia/Seoul")
	at := time.Date(2026, 11, 21, 8, 0, 0, 0, seoul)
	if got := SlotKey(Daily, at); got != "daily@2026-11-21T08:00+09:00" {
		t.Fatalf("slot key %q", got)
	}
}
