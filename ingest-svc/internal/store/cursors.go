package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Cursors returns the last saved cursor of each stream of an account.
func (s *Store) Cursors(ctx context.Context, sellerID, accountID uint64) (map[string][]byte, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT stream, cursor_value FROM stream_cursors WHERE seller_id = ? AND account_id = ?`, sellerID, accountID)
	if err != nil {
		return nil, fmt.Errorf("reading cursors of account %d: %w", accountID, err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var stream string
		var cursor []byte
		if err := rows.Scan(&stream, &cursor); err != nil {
			return nil, fmt.Errorf("reading cursors of account %d: %w", accountID, err)
		}
		out[stream] = cursor
	}
	return out, rows.Err()
}

// SaveCursorTx saves a stream's checkpoint inside the transaction that
// loaded the records before it. saved_at moves only when the cursor does,
// so a replayed run leaves the row untouched.
func SaveCursorTx(ctx context.Context, tx *sql.Tx, sellerID, accountID uint64, stream string, cursor []byte, now time.Time) error {
	if cursor == nil {
		cursor = []byte{}
	}
	// MySQL applies ON DUPLICATE KEY assignments left to right, so saved_at
	// must compare against the old cursor_value before it is replaced.
	_, err := tx.ExecContext(ctx,
		`INSERT INTO stream_cursors (seller_id, account_id, stream, cursor_value, saved_at) VALUES (?, ?, ?, ?, ?)
		 ON DUPLICATE KEY UPDATE
		   saved_at = IF(cursor_value = VALUES(cursor_value), saved_at, VALUES(saved_at)),
		   cursor_value = VALUES(cursor_value)`,
		sellerID, accountID, stream, cursor, now)
	if err != nil {
		return fmt.Errorf("saving %s cursor of account %d: %w", stream, accountID, err)
	}
	return nil
}

// AccountHasLines reports whether any order line of the account is stored.
func (s *Store) AccountHasLines(ctx context.Context, sellerID, accountID uint64) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM order_lines WHERE seller_id = ? AND account_id = ? LIMIT 1`, sellerID, accountID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking for lines of account %d: %w", accountID, err)
	}
	return true, nil
}
