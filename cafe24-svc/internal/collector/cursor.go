package collector

import (
	"encoding/json"
	"fmt"
	"time"
)

// ordersCursor is the orders stream's cursor, opaque to ingest:
//
//	{"v":1,"order_date_from":"2026-03-01T00:00:00Z","floor":"2025-03-01T00:00:00Z","changes_from":"2026-03-01T00:00:00Z"}
//
// order_date_from is a high-water mark: every order placed before it has been
// sent at least once. Cafe24 has no updated-since filter (cafe24.md §8), so
// the next run starts a lookback before it, to see late payments, status
// changes and claims. floor is where the first run began; re-reads never go
// below it. changes_from is when the last search for changed orders (claims,
// refunds, deliveries of orders older than the lookback) reached; absent in
// cursors of earlier versions, it is order_date_from.
type ordersCursor struct {
	V             int       `json:"v"`
	OrderDateFrom time.Time `json:"order_date_from"`
	Floor         time.Time `json:"floor"`
	ChangesFrom   time.Time `json:"changes_from,omitzero"`
}

const cursorVersion = 1

func decodeOrdersCursor(b []byte) (*ordersCursor, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var c ordersCursor
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("orders cursor is not this collector's: %w", err)
	}
	if c.V != cursorVersion {
		return nil, fmt.Errorf("orders cursor version %d is not %d", c.V, cursorVersion)
	}
	if c.OrderDateFrom.IsZero() {
		return nil, fmt.Errorf("orders cursor has no order_date_from")
	}
	return &c, nil
}

func (c ordersCursor) encode() ([]byte, error) {
	c.V = cursorVersion
	c.OrderDateFrom = c.OrderDateFrom.UTC()
	c.Floor = c.Floor.UTC()
	c.ChangesFrom = c.ChangesFrom.UTC()
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encoding the orders cursor: %w", err)
	}
	return b, nil
}
