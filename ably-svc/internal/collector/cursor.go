package collector

import (
	"encoding/json"
	"fmt"
	"time"
)

// ordersCursor is the orders stream's cursor, opaque to ingest:
//
//	{"v":1,"next_day":"2026-03-01","floor_day":"2025-09-01"}
//
// Every order placed on a KST day before next_day has been sent. The site
// filters by day, not by update time (ably.md "Fields"), so the next run
// starts a lookback before next_day to see late payments, status changes and
// claims; re-reads never go below floor_day, where the first run began.
type ordersCursor struct {
	V        int    `json:"v"`
	NextDay  string `json:"next_day"`
	FloorDay string `json:"floor_day"`
}

const cursorVersion = 1

func decodeOrdersCursor(b []byte) (next, floor time.Time, ok bool, err error) {
	if len(b) == 0 {
		return time.Time{}, time.Time{}, false, nil
	}
	var c ordersCursor
	if err := json.Unmarshal(b, &c); err != nil {
		return time.Time{}, time.Time{}, false, fmt.Errorf("orders cursor is not this collector's: %w", err)
	}
	if c.V != cursorVersion {
		return time.Time{}, time.Time{}, false, fmt.Errorf("orders cursor version %d is not %d", c.V, cursorVersion)
	}
	next, err = time.ParseInLocation(time.DateOnly, c.NextDay, kst)
	if err != nil {
		return time.Time{}, time.Time{}, false, fmt.Errorf("orders cursor next_day: %w", err)
	}
	floor, err = time.ParseInLocation(time.DateOnly, c.FloorDay, kst)
	if err != nil {
		return time.Time{}, time.Time{}, false, fmt.Errorf("orders cursor floor_day: %w", err)
	}
	return next, floor, true, nil
}

func encodeOrdersCursor(next, floor time.Time) ([]byte, error) {
	b, err := json.Marshal(ordersCursor{V: cursorVersion, NextDay: next.Format(time.DateOnly), FloorDay: floor.Format(time.DateOnly)})
	if err != nil {
		return nil, fmt.Errorf("encoding the orders cursor: %w", err)
	}
	return b, nil
}
