package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

// Account statuses as stored.
const (
	AccountActive      = "ACTIVE"
	AccountNeedsSeller = "NEEDS_SELLER"
)

// PlatformName is how a platform is stored: "CAFE24", "SMARTSTORE", "ABLY".
func PlatformName(p commercev1.Platform) string {
	return strings.TrimPrefix(p.String(), "PLATFORM_")
}

// ParsePlatform is the inverse of PlatformName.
func ParsePlatform(name string) commercev1.Platform {
	return commercev1.Platform(commercev1.Platform_value["PLATFORM_"+name])
}

// Account is a connected platform account, without its credentials.
type Account struct {
	SellerID          uint64
	AccountID         uint64
	Platform          commercev1.Platform
	ExternalAccountID string
	DisplayName       string
	Status            string
	StatusMessage     string
	CreatedAt         time.Time
	LastSuccessAt     *time.Time
}

// Sealed is an encrypted credentials envelope and the id of its key.
type Sealed struct {
	Ciphertext []byte
	KeyID      string
}

// NewAccount is what AddAccount stores.
type NewAccount struct {
	SellerID          uint64
	Platform          commercev1.Platform
	ExternalAccountID string
	DisplayName       string
	// SealCredentials encrypts the credentials for the account id chosen by
	// the store (the id is bound into the envelope).
	SealCredentials func(accountID uint64) (Sealed, error)
	// TimeZone of a seller created on the way (sellers sign up later).
	DefaultTimeZone string
}

// AddAccount stores a new account, creating its seller if needed, and queues
// the account's first (backfill) run, all in one transaction. An account with
// the same platform and external id returns ErrAlreadyExists.
func (s *Store) AddAccount(ctx context.Context, n NewAccount) (Account, Run, error) {
	now := s.Now()
	a := Account{
		SellerID:          n.SellerID,
		AccountID:         s.ids.next(now),
		Platform:          n.Platform,
		ExternalAccountID: n.ExternalAccountID,
		DisplayName:       n.DisplayName,
		Status:            AccountActive,
		CreatedAt:         now,
	}
	sealed, err := n.SealCredentials(a.AccountID)
	if err != nil {
		return Account{}, Run{}, err
	}
	var run Run
	err = s.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO sellers (seller_id, time_zone, created_at) VALUES (?, ?, ?)
			 ON DUPLICATE KEY UPDATE seller_id = seller_id`,
			n.SellerID, n.DefaultTimeZone, now); err != nil {
			return fmt.Errorf("creating seller %d: %w", n.SellerID, err)
		}
		_, err := tx.ExecContext(ctx,
			`INSERT INTO platform_accounts (seller_id, account_id, platform, external_account_id, display_name,
			   status, status_message, credentials_ciphertext, credentials_key_id, credentials_updated_at, created_at)
			 VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?)`,
			a.SellerID, a.AccountID, PlatformName(a.Platform), a.ExternalAccountID, a.DisplayName,
			a.Status, sealed.Ciphertext, sealed.KeyID, now, now)
		if isDuplicateKey(err) {
			return &kindError{kind: ErrAlreadyExists,
				msg: fmt.Sprintf("%s account %q is already connected", strings.ToLower(PlatformName(a.Platform)), a.ExternalAccountID)}
		}
		if err != nil {
			return fmt.Errorf("inserting account: %w", err)
		}
		run, err = s.insertRun(ctx, tx, a.SellerID, a.AccountID, TriggerBackfill, nil, now)
		return err
	})
	if err != nil {
		return Account{}, Run{}, err
	}
	run.Platform = a.Platform
	return a, run, nil
}

const accountColumns = `seller_id, account_id, platform, external_account_id, display_name, status, status_message, created_at, last_success_at`

func scanAccount(sc interface{ Scan(...any) error }) (Account, error) {
	var a Account
	var platform string
	var last sql.NullTime
	if err := sc.Scan(&a.SellerID, &a.AccountID, &platform, &a.ExternalAccountID, &a.DisplayName,
		&a.Status, &a.StatusMessage, &a.CreatedAt, &last); err != nil {
		return Account{}, err
	}
	a.Platform = ParsePlatform(platform)
	a.CreatedAt = a.CreatedAt.UTC()
	a.LastSuccessAt = timePtr(last)
	return a, nil
}

// ListAccounts returns the seller's accounts, oldest first.
func (s *Store) ListAccounts(ctx context.Context, sellerID uint64) ([]Account, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+accountColumns+` FROM platform_accounts WHERE seller_id = ? ORDER BY account_id`, sellerID)
	if err != nil {
		return nil, fmt.Errorf("listing accounts: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("listing accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// GetAccount returns one account of the seller, or ErrNotFound.
func (s *Store) GetAccount(ctx context.Context, sellerID, accountID uint64) (Account, error) {
	a, err := scanAccount(s.db.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM platform_accounts WHERE seller_id = ? AND account_id = ?`, sellerID, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, accountNotFound(accountID)
	}
	if err != nil {
		return Account{}, fmt.Errorf("reading account %d: %w", accountID, err)
	}
	return a, nil
}

func accountNotFound(accountID uint64) error {
	return fmt.Errorf("account %d: %w", accountID, ErrNotFound)
}

// RunContext is what a run needs to call the collector: the account, its
// sealed credentials and the seller's time zone.
type RunContext struct {
	Account  Account
	Sealed   Sealed
	TimeZone string
}

// LoadRunContext reads an account with its credentials and its seller's time zone.
func (s *Store) LoadRunContext(ctx context.Context, sellerID, accountID uint64) (RunContext, error) {
	var rc RunContext
	var platform string
	var last sql.NullTime
	err := s.db.QueryRowContext(ctx,
		`SELECT a.seller_id, a.account_id, a.platform, a.external_account_id, a.display_name, a.status, a.status_message,
		   a.created_at, a.last_success_at, a.credentials_ciphertext, a.credentials_key_id, s.time_zone
		 FROM platform_accounts a JOIN sellers s ON s.seller_id = a.seller_id
		 WHERE a.seller_id = ? AND a.account_id = ?`, sellerID, accountID).Scan(
		&rc.Account.SellerID, &rc.Account.AccountID, &platform, &rc.Account.ExternalAccountID, &rc.Account.DisplayName,
		&rc.Account.Status, &rc.Account.StatusMessage, &rc.Account.CreatedAt, &last,
		&rc.Sealed.Ciphertext, &rc.Sealed.KeyID, &rc.TimeZone)
	if errors.Is(err, sql.ErrNoRows) {
		return RunContext{}, accountNotFound(accountID)
	}
	if err != nil {
		return RunContext{}, fmt.Errorf("reading account %d: %w", accountID, err)
	}
	rc.Account.Platform = ParsePlatform(platform)
	rc.Account.LastSuccessAt = timePtr(last)
	return rc, nil
}

// UpdateCredentials replaces an account's sealed credentials at once, in its
// own transaction: rotated tokens must be durable before anything after them.
func (s *Store) UpdateCredentials(ctx context.Context, sellerID, accountID uint64, sealed Sealed) error {
	res, err := s.db.ExecContext(ctx,
		`UPDATE platform_accounts SET credentials_ciphertext = ?, credentials_key_id = ?, credentials_updated_at = ?
		 WHERE seller_id = ? AND account_id = ?`,
		sealed.Ciphertext, sealed.KeyID, s.Now(), sellerID, accountID)
	if err != nil {
		return fmt.Errorf("storing credentials of account %d: %w", accountID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return accountNotFound(accountID)
	}
	return nil
}

// MarkAccountSucceeded records a successful run: the account is active again.
func (s *Store) MarkAccountSucceeded(ctx context.Context, sellerID, accountID uint64, at time.Time) error {
	_, err := s.db.ExecContext(ctx,
		`UPDATE platform_accounts SET status = ?, status_message = '', last_success_at = ? WHERE seller_id = ? AND account_id = ?`,
		AccountActive, at, sellerID, accountID)
	if err != nil {
		return fmt.Errorf("marking account %d succeeded: %w", accountID, err)
	}
	return nil
}

// MarkAccountNeedsSeller records why only the seller can make collection work again.
func (s *Store) MarkAccountNeedsSeller(ctx context.Context, sellerID, accountID uint64, message string) error {
	_, err := s.db.ExecContext(ctx,
		`UPDATE platform_accounts SET status = ?, status_message = ? WHERE seller_id = ? AND account_id = ?`,
		AccountNeedsSeller, truncate(message, 1000), sellerID, accountID)
	if err != nil {
		return fmt.Errorf("marking account %d as needing the seller: %w", accountID, err)
	}
	return nil
}

// accountDataTables hold rows of one account, deleted with it.
var accountDataTables = []string{
	"order_line_claims", "order_lines", "orders", "product_categories", "product_options",
	"products", "categories", "coupons", "stream_cursors",
	"sales_daily", "sales_daily_accounts", "buyer_days",
}

// RemoveAccount deletes an account, its credentials, its runs and every row
// collected from it, in one transaction. The account row goes first: a run
// loading into the account holds a shared lock on it, so removal waits for
// the batch in flight, and later batches find the account gone.
func (s *Store) RemoveAccount(ctx context.Context, sellerID, accountID uint64) error {
	return s.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM platform_accounts WHERE seller_id = ? AND account_id = ?`, sellerID, accountID)
		if err != nil {
			return fmt.Errorf("deleting account %d: %w", accountID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return accountNotFound(accountID)
		}
		for _, table := range accountDataTables {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE seller_id = ? AND account_id = ?`, sellerID, accountID); err != nil {
				return fmt.Errorf("deleting %s of account %d: %w", table, accountID, err)
			}
		}
		if _, err := tx.ExecContext(ctx,
			`DELETE p FROM sync_run_streams p JOIN sync_runs r ON r.seller_id = p.seller_id AND r.run_id = p.run_id
			 WHERE r.seller_id = ? AND r.account_id = ?`, sellerID, accountID); err != nil {
			return fmt.Errorf("deleting run progress of account %d: %w", accountID, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sync_runs WHERE seller_id = ? AND account_id = ?`, sellerID, accountID); err != nil {
			return fmt.Errorf("deleting runs of account %d: %w", accountID, err)
		}
		// The account's rollup rows went: readers caching rollups reload.
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO rollup_versions (seller_id, version) VALUES (?, 1) ON DUPLICATE KEY UPDATE version = version + 1`, sellerID); err != nil {
			return fmt.Errorf("bumping the rollup version of seller %d: %w", sellerID, err)
		}
		return nil
	})
}

// LockAccountTx takes a shared lock on the account row for the rest of tx, so
// a concurrent RemoveAccount cannot interleave with a batch being loaded.
func LockAccountTx(ctx context.Context, tx *sql.Tx, sellerID, accountID uint64) error {
	var one int
	err := tx.QueryRowContext(ctx,
		`SELECT 1 FROM platform_accounts WHERE seller_id = ? AND account_id = ? LOCK IN SHARE MODE`, sellerID, accountID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return accountNotFound(accountID)
	}
	if err != nil {
		return fmt.Errorf("locking account %d: %w", accountID, err)
	}
	return nil
}

// SellerTimeZone returns the seller's time zone, or "" when the seller has
// no row yet (no account connected).
func (s *Store) SellerTimeZone(ctx context.Context, sellerID uint64) (string, error) {
	var tz string
	err := s.db.QueryRowContext(ctx, `SELECT time_zone FROM sellers WHERE seller_id = ?`, sellerID).Scan(&tz)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading seller %d: %w", sellerID, err)
	}
	return tz, nil
}

// truncate cuts s to at most n runes, for messages stored in bounded columns.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
