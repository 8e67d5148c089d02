package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// This file is the job queue: claiming runs under per-platform caps, leases
// renewed by heartbeat, and the ends of a run (success, retry, death,
// hand-back). A run row is claimable when due_at <= now; see
// migrations/0002_queue_rollups.sql.

// Caps are the most runs of each platform (stored name, "ABLY") that may
// execute at once across every replica. A platform without a positive cap
// is unlimited.
type Caps map[string]int

// EnsureSlots creates the slot rows the caps need. Rows beyond a lowered cap
// stay but are never claimed.
func (s *Store) EnsureSlots(ctx context.Context, caps Caps) error {
	for platform, n := range caps {
		for i := 1; i <= n; i++ {
			if _, err := s.db.ExecContext(ctx,
				`INSERT INTO platform_run_slots (platform, slot) VALUES (?, ?) ON DUPLICATE KEY UPDATE slot = slot`, platform, i); err != nil {
				return fmt.Errorf("creating %s run slots: %w", platform, err)
			}
		}
	}
	return nil
}

// Platforms with runs that can be claimed (stored names), in the order a
// claim tries them; the caller rotates the start for fairness.
var claimOrder = []string{"CAFE24", "SMARTSTORE", "ABLY"}

// ClaimRun claims a run without platform caps; see Claim.
func (s *Store) ClaimRun(ctx context.Context, owner string, lease time.Duration) (Run, bool, error) {
	return s.Claim(ctx, owner, lease, nil, 0)
}

// Claim leases to owner the run that has been due the longest on some
// platform with a free slot: a queued run, one whose retry is due, or a
// running one whose lease expired (its worker died; the next attempt
// resumes from the saved cursors). found is false when there is nothing to
// do. SKIP LOCKED lets replicas claim at once without waiting on each other;
// a claim takes the platform's slot row in the same transaction, so caps
// hold across replicas. start rotates which platform is tried first.
func (s *Store) Claim(ctx context.Context, owner string, lease time.Duration, caps Caps, start int) (Run, bool, error) {
	for i := range claimOrder {
		platform := claimOrder[(start+i)%len(claimOrder)]
		sellerID, runID, found, err := s.claimOn(ctx, platform, owner, lease, caps[platform])
		if err != nil {
			return Run{}, false, err
		}
		if found {
			run, err := s.GetRun(ctx, sellerID, runID)
			if errors.Is(err, ErrNotFound) {
				continue // removed with its account in the meantime
			}
			return run, err == nil, err
		}
	}
	return Run{}, false, nil
}

func (s *Store) claimOn(ctx context.Context, platform, owner string, lease time.Duration, limit int) (sellerID, runID uint64, found bool, err error) {
	for {
		now := s.Now()
		var dead bool
		err = s.InTx(ctx, func(tx *sql.Tx) error {
			slot := 0
			if limit > 0 {
				err := tx.QueryRowContext(ctx,
					`SELECT slot FROM platform_run_slots
					 WHERE platform = ? AND slot <= ? AND (run_id = 0 OR lease_until IS NULL OR lease_until < ?)
					 ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED`, platform, limit, now).Scan(&slot)
				if errors.Is(err, sql.ErrNoRows) {
					return nil // the platform is at its cap
				}
				if err != nil {
					return fmt.Errorf("finding a free %s slot: %w", platform, err)
				}
			}
			var state string
			var attempt, maxAttempts int
			err := tx.QueryRowContext(ctx,
				`SELECT seller_id, run_id, state, attempt, max_attempts FROM sync_runs
				 WHERE platform = ? AND due_at <= ?
				 ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED`, platform, now).Scan(&sellerID, &runID, &state, &attempt, &maxAttempts)
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("finding a %s run to claim: %w", platform, err)
			}
			if state == RunRunning {
				// Its worker stopped renewing the lease: that was an attempt.
				if attempt >= maxAttempts {
					dead = true
					_, err := tx.ExecContext(ctx,
						`UPDATE sync_runs SET state = ?, error_code = 'ABORTED', error_message = ?, finished_at = ?,
						   active_account_id = NULL, lease_owner = '', lease_until = NULL, due_at = NULL
						 WHERE seller_id = ? AND run_id = ?`,
						RunFailed, fmt.Sprintf("the run stopped without finishing %d times (its worker died or lost the database)", attempt),
						now, sellerID, runID)
					return err
				}
				attempt++
			}
			until := now.Add(lease)
			if _, err := tx.ExecContext(ctx,
				`UPDATE sync_runs SET state = ?, attempt = ?, lease_owner = ?, lease_until = ?, due_at = ?,
				   started_at = COALESCE(started_at, ?), next_attempt_at = NULL
				 WHERE seller_id = ? AND run_id = ?`,
				RunRunning, attempt, owner, until, until, now, sellerID, runID); err != nil {
				return fmt.Errorf("claiming run %d: %w", runID, err)
			}
			if limit > 0 {
				if _, err := tx.ExecContext(ctx,
					`UPDATE platform_run_slots SET seller_id = ?, run_id = ?, lease_until = ? WHERE platform = ? AND slot = ?`,
					sellerID, runID, until, platform, slot); err != nil {
					return fmt.Errorf("taking a %s slot: %w", platform, err)
				}
			}
			found = true
			return nil
		})
		if err != nil || !dead {
			return sellerID, runID, found && err == nil, err
		}
		// A run was declared dead instead of claimed: look again.
		found = false
	}
}

// RenewLease extends owner's lease on a run (and on its platform slot);
// ErrLeaseLost when the run is not owner's any more.
func (s *Store) RenewLease(ctx context.Context, sellerID, runID uint64, owner string, lease time.Duration) error {
	until := s.Now().Add(lease)
	res, err := s.db.ExecContext(ctx,
		`UPDATE sync_runs SET lease_until = ?, due_at = ? WHERE seller_id = ? AND run_id = ? AND state = ? AND lease_owner = ?`,
		until, until, sellerID, runID, RunRunning, owner)
	if err != nil {
		return fmt.Errorf("renewing lease of run %d: %w", runID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrLeaseLost
	}
	if _, err := s.db.ExecContext(ctx,
		`UPDATE platform_run_slots SET lease_until = ? WHERE seller_id = ? AND run_id = ?`, until, sellerID, runID); err != nil {
		return fmt.Errorf("renewing slot of run %d: %w", runID, err)
	}
	return nil
}

// RunFailure says why a run failed.
type RunFailure struct {
	Code        string // gRPC code name, e.g. "FAILED_PRECONDITION"
	Message     string
	NeedsSeller bool
	// RetryAt, when set, queues another attempt at that time (the run is
	// RETRYING); otherwise the run is FAILED for good.
	RetryAt *time.Time
}

// FinishRun ends owner's attempt: SUCCEEDED when failure is nil, RETRYING
// when the failure asks for a retry, FAILED otherwise. A final run frees the
// account for a new run.
func (s *Store) FinishRun(ctx context.Context, sellerID, runID uint64, owner string, failure *RunFailure) error {
	now := s.Now()
	var res sql.Result
	var err error
	switch {
	case failure == nil:
		res, err = s.db.ExecContext(ctx,
			`UPDATE sync_runs SET state = ?, error_code = '', error_message = '', needs_seller = FALSE, finished_at = ?,
			   active_account_id = NULL, lease_owner = '', lease_until = NULL, due_at = NULL, next_attempt_at = NULL
			 WHERE seller_id = ? AND run_id = ? AND state = ? AND lease_owner = ?`,
			RunSucceeded, now, sellerID, runID, RunRunning, owner)
	case failure.RetryAt != nil:
		res, err = s.db.ExecContext(ctx,
			`UPDATE sync_runs SET state = ?, error_code = ?, error_message = ?, needs_seller = ?, attempt = attempt + 1,
			   lease_owner = '', lease_until = NULL, due_at = ?, next_attempt_at = ?
			 WHERE seller_id = ? AND run_id = ? AND state = ? AND lease_owner = ?`,
			RunRetrying, failure.Code, truncate(failure.Message, 2000), failure.NeedsSeller, *failure.RetryAt, *failure.RetryAt,
			sellerID, runID, RunRunning, owner)
	default:
		res, err = s.db.ExecContext(ctx,
			`UPDATE sync_runs SET state = ?, error_code = ?, error_message = ?, needs_seller = ?, finished_at = ?,
			   active_account_id = NULL, lease_owner = '', lease_until = NULL, due_at = NULL, next_attempt_at = NULL
			 WHERE seller_id = ? AND run_id = ? AND state = ? AND lease_owner = ?`,
			RunFailed, failure.Code, truncate(failure.Message, 2000), failure.NeedsSeller, now, sellerID, runID, RunRunning, owner)
	}
	if err != nil {
		return fmt.Errorf("finishing run %d: %w", runID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrLeaseLost
	}
	return s.freeSlot(ctx, sellerID, runID)
}

// ReleaseRun puts owner's run back in the queue (the process is shutting
// down), so the next worker resumes it from its cursors without waiting for
// the lease to expire. It is not counted as an attempt.
func (s *Store) ReleaseRun(ctx context.Context, sellerID, runID uint64, owner string) error {
	_, err := s.db.ExecContext(ctx,
		`UPDATE sync_runs SET state = ?, lease_owner = '', lease_until = NULL, due_at = ?
		 WHERE seller_id = ? AND run_id = ? AND state = ? AND lease_owner = ?`,
		RunQueued, s.Now(), sellerID, runID, RunRunning, owner)
	if err != nil {
		return fmt.Errorf("releasing run %d: %w", runID, err)
	}
	return s.freeSlot(ctx, sellerID, runID)
}

func (s *Store) freeSlot(ctx context.Context, sellerID, runID uint64) error {
	if _, err := s.db.ExecContext(ctx,
		`UPDATE platform_run_slots SET seller_id = 0, run_id = 0, lease_until = NULL WHERE seller_id = ? AND run_id = ?`,
		sellerID, runID); err != nil {
		return fmt.Errorf("freeing the slot of run %d: %w", runID, err)
	}
	return nil
}

// EnqueueSlot queues a scheduled run of the account for a schedule slot.
// It is idempotent: a second call for the same slot, from any replica, does
// nothing, and neither does a call while the account has a run queued or
// running (that run collects the same data). created reports a new run.
func (s *Store) EnqueueSlot(ctx context.Context, sellerID, accountID uint64, slot string) (created bool, err error) {
	// Replicas firing the same slot insert the same rows at once; the
	// loser of a deadlock tries again and then finds the run queued.
	for attempt := 1; ; attempt++ {
		err = s.InTx(ctx, func(tx *sql.Tx) error {
			_, err := s.insertSlotRun(ctx, tx, sellerID, accountID, TriggerScheduled, nil, slot, s.Now())
			return err
		})
		if !IsLockConflict(err) || attempt == 5 {
			break
		}
	}
	switch {
	case err == nil:
		return true, nil
	case isDuplicateKey(err), errors.Is(err, ErrNotFound):
		return false, nil
	}
	return false, err
}

// ScheduledAccount is an active account the scheduler queues runs for.
type ScheduledAccount struct {
	SellerID, AccountID uint64
}

// ActiveAccountsIn lists the active accounts of sellers in a time zone,
// after the given key (keyset paging), up to limit.
func (s *Store) ActiveAccountsIn(ctx context.Context, timeZone string, after ScheduledAccount, limit int) ([]ScheduledAccount, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT a.seller_id, a.account_id FROM platform_accounts a JOIN sellers s ON s.seller_id = a.seller_id
		 WHERE s.time_zone = ? AND a.status = ? AND (a.seller_id, a.account_id) > (?, ?)
		 ORDER BY a.seller_id, a.account_id LIMIT ?`, timeZone, AccountActive, after.SellerID, after.AccountID, limit)
	if err != nil {
		return nil, fmt.Errorf("listing accounts to schedule: %w", err)
	}
	defer rows.Close()
	var out []ScheduledAccount
	for rows.Next() {
		var a ScheduledAccount
		if err := rows.Scan(&a.SellerID, &a.AccountID); err != nil {
			return nil, fmt.Errorf("listing accounts to schedule: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// TimeZones lists the time zones of sellers with accounts.
func (s *Store) TimeZones(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT DISTINCT s.time_zone FROM sellers s JOIN platform_accounts a ON a.seller_id = s.seller_id ORDER BY s.time_zone`)
	if err != nil {
		return nil, fmt.Errorf("listing time zones: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var tz string
		if err := rows.Scan(&tz); err != nil {
			return nil, fmt.Errorf("listing time zones: %w", err)
		}
		out = append(out, tz)
	}
	return out, rows.Err()
}
