package collector

import (
	"encoding/json"
	"fmt"
	"time"
)

// ordersCursor is the orders stream's cursor, opaque to ingest:
//
//	{"v":1,"changed_from":"2026-03-01T00:00:00Z"}
//	{"v":1,"changed_from":"...","backfill_next":"...","backfill_until":"..."}
//
// changed_from is the last-changed-statuses high-water mark: every product
// order whose latest change came before it has been sent in its state at or
// after that change. While a first run's backfill is under way,
// backfill_next is the start of the next order-date window not yet sent and
// backfill_until where the backfill stops (and changed_from starts).
type ordersCursor struct {
	V             int       `json:"v"`
	ChangedFrom   time.Time `json:"changed_from"`
	BackfillNext  time.Time `json:"backfill_next,omitzero"`
	BackfillUntil time.Time `json:"backfill_until,omitzero"`
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
	if c.ChangedFrom.IsZero() {
		return nil, fmt.Errorf("orders cursor has no changed_from")
	}
	if c.BackfillNext.IsZero() != c.BackfillUntil.IsZero() || c.BackfillUntil.After(c.ChangedFrom) {
		return nil, fmt.Errorf("orders cursor has an inconsistent backfill")
	}
	return &c, nil
}

func (c ordersCursor) backfilling() bool {
	return !c.BackfillNext.IsZero() && c.BackfillNext.Before(c.BackfillUntil)
}

func (c ordersCursor) encode() ([]byte, error) {
	c.V = cursorVersion
	c.ChangedFrom = c.ChangedFrom.UTC()
	if !c.backfilling() {
		c.BackfillNext, c.BackfillUntil = time.Time{}, time.Time{}
	}
	c.BackfillNext, c.BackfillUntil = c.BackfillNext.UTC(), c.BackfillUntil.UTC()
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encoding the orders cursor: %w", err)
	}
	return b, nil
}

// catalogueCursor is the products and categories streams' cursor. Both are
// full refreshes: the cursor only records when the last one finished.
type catalogueCursor struct {
	V           int       `json:"v"`
	RefreshedAt time.Time `json:"refreshed_at"`
}
