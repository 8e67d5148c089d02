package cafe24api_test

import (
	"testing"
	"time"

	"hlog.dev/cafe24-svc/internal/cafe24api"
)

// FuzzParseTokenTime: a token time without an offset is KST to the
// millisecond, and nothing the parser accepts lies outside what the layouts
// and RFC 3339 accept.
func FuzzParseTokenTime(f *testing.F) {
	for _, s := range []string{"2021-03-01T14:00:00.000", "2021-03-01T14:00:00", "2021-03-01T14:00:00+09:00", "2021-03-01T05:00:00Z", "2021-03-01 14:00:00", "", "tomorrow", "2021-02-29T00:00:00.000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := cafe24api.ParseTokenTime(s)
		if err != nil {
			return
		}
		for _, layout := range []string{"2006-01-02T15:04:05.000", "2006-01-02T15:04:05"} {
			if want, err := time.ParseInLocation(layout, s, cafe24api.KST); err == nil {
				if !got.Equal(want) {
					t.Fatalf("ParseTokenTime(%q) = %v, want the KST reading %v", s, got, want)
				}
				return
			}
		}
		if want, err := time.Parse(time.RFC3339Nano, s); err != nil || !got.Equal(want) {
			t.Fatalf("ParseTokenTime(%q) = %v accepted what no layout reads (%v)", s, got, err)
		}
	})
}
