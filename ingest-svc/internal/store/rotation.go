package store

import (
	"context"
	"fmt"
)

// SealedAccount is an account's envelope, for key rotation.
type SealedAccount struct {
	SellerID, AccountID uint64
	Sealed              Sealed
}

// SealedNotUnder lists up to limit envelopes not sealed by keyID, after the
// given account (keyset paging).
func (s *Store) SealedNotUnder(ctx context.Context, keyID string, after SealedAccount, limit int) ([]SealedAccount, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT seller_id, account_id, credentials_ciphertext, credentials_key_id FROM platform_accounts
		 WHERE credentials_key_id <> ? AND (seller_id, account_id) > (?, ?)
		 ORDER BY seller_id, account_id LIMIT ?`, keyID, after.SellerID, after.AccountID, limit)
	if err != nil {
		return nil, fmt.Errorf("listing envelopes to rotate: %w", err)
	}
	defer rows.Close()
	var out []SealedAccount
	for rows.Next() {
		var a SealedAccount
		if err := rows.Scan(&a.SellerID, &a.AccountID, &a.Sealed.Ciphertext, &a.Sealed.KeyID); err != nil {
			return nil, fmt.Errorf("listing envelopes to rotate: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ReplaceSealed swaps an envelope for its re-encryption, only if it is still
// the one that was read: a sync storing rotated tokens meanwhile wins, and
// its envelope (sealed under the current key already) is left alone.
func (s *Store) ReplaceSealed(ctx context.Context, a SealedAccount, next Sealed) (bool, error) {
	res, err := s.db.ExecContext(ctx,
		`UPDATE platform_accounts SET credentials_ciphertext = ?, credentials_key_id = ?
		 WHERE seller_id = ? AND account_id = ? AND credentials_key_id = ? AND credentials_ciphertext = ?`,
		next.Ciphertext, next.KeyID, a.SellerID, a.AccountID, a.Sealed.KeyID, a.Sealed.Ciphertext)
	if err != nil {
		return false, fmt.Errorf("re-sealing credentials of account %d: %w", a.AccountID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
