package translate

import (
	"testing"
	"time"
)

// FuzzParseTime holds the date parser to Cafe24's shapes: whatever it
// accepts is in UTC and is the instant the string names, a time without an
// offset being KST wall-clock time; nothing else is accepted.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2024-01-15T10:02:11+09:00", "2024-01-15 10:02:11", "2024-01-15T10:02:11", "2024-01-15T01:02:11Z",
		"2024-01-15T10:02:11.000", "2024-02-30 10:00:00", "0000-01-01 00:00:00", "2024-01-15T10:02:11-99:00", "", "2024-01-15"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s)
		if err != nil {
			if !got.IsZero() {
				t.Fatalf("ParseTime(%q) failed but returned %v", s, got)
			}
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("ParseTime(%q) = %v, not in UTC", s, got)
		}
		// Without an offset the string is the KST wall clock.
		for _, layout := range []string{time.DateTime, "2006-01-02T15:04:05", "2006-01-02T15:04:05.000"} {
			if want, err := time.ParseInLocation(layout, s, kst); err == nil {
				if !got.Equal(want) {
					t.Fatalf("ParseTime(%q) = %v, want the KST reading %v", s, got, want)
				}
				return
			}
		}
		// Otherwise it carried its own offset.
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || !got.Equal(want) {
			t.Fatalf("ParseTime(%q) = %v, but RFC 3339 reads %v, %v", s, got, want, err)
		}
	})
}
