package translate

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
)

// kst is Korea Standard Time (UTC+9, no daylight saving since 1988).
var kst = time.FixedZone("KST", 9*60*60)

// ParseTime reads a Cafe24 date. Order dates are ISO 8601 with an offset
// ("2024-01-15T10:02:11+09:00"), but the doc's item examples show
// "2017-07-10 15:55:51" with no offset (cafe24.md §4), so both are read, and
// a time without an offset is KST.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{time.DateTime, "2006-01-02T15:04:05", "2006-01-02T15:04:05.000"} {
		if t, err := time.ParseInLocation(layout, s, kst); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q is neither ISO 8601 nor YYYY-MM-DD HH:MM:SS", s)
}

// optionalTime parses a nullable date; null or "" is the zero time.
func optionalTime(p *string) (time.Time, error) {
	if p == nil || *p == "" {
		return time.Time{}, nil
	}
	return ParseTime(*p)
}

// stamp is t as a timestamp; the zero time is unset.
func stamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}
