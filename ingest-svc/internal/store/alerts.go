package store

import (
	"context"
	"fmt"
)

// BeginIncident marks that the account's current incident was alerted. It
// is a compare-and-set: true for the one caller (of any replica) that set
// it, false while the incident is already alerted.
func (s *Store) BeginIncident(ctx context.Context, sellerID, accountID uint64) (bool, error) {
	res, err := s.db.ExecContext(ctx,
		`UPDATE platform_accounts SET alerted_at = ? WHERE seller_id = ? AND account_id = ? AND alerted_at IS NULL`,
		s.Now(), sellerID, accountID)
	if err != nil {
		return false, fmt.Errorf("marking the incident of account %d: %w", accountID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// EndIncident clears the mark: the account works again, and its next
// failure is a new incident.
func (s *Store) EndIncident(ctx context.Context, sellerID, accountID uint64) error {
	if _, err := s.db.ExecContext(ctx,
		`UPDATE platform_accounts SET alerted_at = NULL WHERE seller_id = ? AND account_id = ? AND alerted_at IS NOT NULL`,
		sellerID, accountID); err != nil {
		return fmt.Errorf("ending the incident of account %d: %w", accountID, err)
	}
	return nil
}

// ReconnectAccount stores new sealed credentials and makes the account
// active again, ending its incident, in one statement.
func (s *Store) ReconnectAccount(ctx context.Context, sellerID, accountID uint64, sealed Sealed) error {
	res, err := s.db.ExecContext(ctx,
		`UPDATE platform_accounts SET credentials_ciphertext = ?, credentials_key_id = ?, credentials_updated_at = ?,
		   status = ?, status_message = '', alerted_at = NULL
		 WHERE seller_id = ? AND account_id = ?`,
		sealed.Ciphertext, sealed.KeyID, s.Now(), AccountActive, sellerID, accountID)
	if err != nil {
		return fmt.Errorf("reconnecting account %d: %w", accountID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return accountNotFound(accountID)
	}
	return nil
}
