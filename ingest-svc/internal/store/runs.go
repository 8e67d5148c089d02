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

// Run states and triggers as stored.
const (
	RunQueued    = "QUEUED"
	RunRunning   = "RUNNING"
	RunSucceeded = "SUCCEEDED"
	RunRetrying  = "RETRYING"
	RunFailed    = "FAILED"

	TriggerManual    = "MANUAL"
	TriggerScheduled = "SCHEDULED"
	TriggerBackfill  = "BACKFILL"
)

// ErrLeaseLost means the run is no longer this worker's to execute (its lease
// expired and another took it over, or the account was removed).
var ErrLeaseLost = errors.New("run lease lost")

// Run is one collection run of one account.
type Run struct {
	SellerID      uint64
	RunID         uint64
	AccountID     uint64
	Platform      commercev1.Platform
	State         string
	Trigger       string
	Attempt       int
	Streams       []string // asked for; empty means all
	ErrorCode     string
	ErrorMessage  string
	NeedsSeller   bool
	QueuedAt      time.Time
	StartedAt     *time.Time
	FinishedAt    *time.Time
	NextAttemptAt *time.Time
	MaxAttempts   int
	Progress      []StreamProgress
}

// Final reports whether the run will not change any more.
func (r Run) Final() bool { return r.State == RunSucceeded || r.State == RunFailed }

// StreamProgress is how far a run is in one stream.
type StreamProgress struct {
	Stream    string
	Loaded    int64
	Estimated int64
	Message   string
}

func (s *Store) insertRun(ctx context.Context, tx *sql.Tx, sellerID, accountID uint64, trigger string, streams []string, now time.Time) (Run, error) {
	return s.insertSlotRun(ctx, tx, sellerID, accountID, trigger, streams, "", now)
}

// insertSlotRun queues a run; slot, when not empty, names the schedule slot
// (unique per account). The platform is copied from the account in the same
// statement; no account means ErrNotFound.
func (s *Store) insertSlotRun(ctx context.Context, tx *sql.Tx, sellerID, accountID uint64, trigger string, streams []string, slot string, now time.Time) (Run, error) {
	r := Run{
		SellerID:  sellerID,
		RunID:     s.ids.next(now),
		AccountID: accountID,
		State:     RunQueued,
		Trigger:   trigger,
		Attempt:   1,
		Streams:   streams,
		QueuedAt:  now,
	}
	var slotArg any
	if slot != "" {
		slotArg = slot
	}
	res, err := tx.ExecContext(ctx,
		`INSERT INTO sync_runs (seller_id, run_id, account_id, state, run_trigger, attempt, streams, active_account_id, queued_at,
		   platform, due_at, slot, max_attempts)
		 SELECT ?, ?, ?, ?, ?, 1, ?, ?, ?, a.platform, ?, ?, ?
		 FROM platform_accounts a WHERE a.seller_id = ? AND a.account_id = ?`,
		sellerID, r.RunID, accountID, RunQueued, trigger, strings.Join(streams, ","), accountID, now,
		now, slotArg, s.maxAttempts, sellerID, accountID)
	if err != nil {
		return Run{}, fmt.Errorf("queueing run of account %d: %w", accountID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Run{}, accountNotFound(accountID)
	}
	return r, nil
}

// EnqueueRun queues a run of the account. If a run of it is already queued or
// running, that run is returned with created false: one run per account at a
// time, enforced by a unique key so it holds across replicas.
func (s *Store) EnqueueRun(ctx context.Context, sellerID, accountID uint64, trigger string, streams []string) (Run, bool, error) {
	for range 3 {
		var run Run
		err := s.InTx(ctx, func(tx *sql.Tx) error {
			if err := LockAccountTx(ctx, tx, sellerID, accountID); err != nil {
				return err
			}
			var err error
			run, err = s.insertRun(ctx, tx, sellerID, accountID, trigger, streams, s.Now())
			return err
		})
		if err == nil {
			full, err := s.GetRun(ctx, sellerID, run.RunID)
			return full, true, err
		}
		if !isDuplicateKey(err) {
			return Run{}, false, err
		}
		active, found, err := s.activeRun(ctx, sellerID, accountID)
		if err != nil {
			return Run{}, false, err
		}
		if found {
			return active, false, nil
		}
		// The active run finished between our insert and our read: try again.
	}
	return Run{}, false, fmt.Errorf("queueing run of account %d: the account's active run kept changing", accountID)
}

func (s *Store) activeRun(ctx context.Context, sellerID, accountID uint64) (Run, bool, error) {
	var runID uint64
	err := s.db.QueryRowContext(ctx, `SELECT run_id FROM sync_runs WHERE seller_id = ? AND active_account_id = ?`, sellerID, accountID).Scan(&runID)
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, false, nil
	}
	if err != nil {
		return Run{}, false, fmt.Errorf("reading active run of account %d: %w", accountID, err)
	}
	r, err := s.GetRun(ctx, sellerID, runID)
	if errors.Is(err, ErrNotFound) {
		return Run{}, false, nil
	}
	return r, err == nil, err
}

const runColumns = `r.seller_id, r.run_id, r.account_id, a.platform, r.state, r.run_trigger, r.attempt, r.streams,
  r.error_code, r.error_message, r.needs_seller, r.queued_at, r.started_at, r.finished_at, r.next_attempt_at, r.max_attempts`

const runFrom = ` FROM sync_runs r JOIN platform_accounts a ON a.seller_id = r.seller_id AND a.account_id = r.account_id `

func scanRun(sc interface{ Scan(...any) error }) (Run, error) {
	var r Run
	var platform, streams string
	var started, finished, next sql.NullTime
	if err := sc.Scan(&r.SellerID, &r.RunID, &r.AccountID, &platform, &r.State, &r.Trigger, &r.Attempt, &streams,
		&r.ErrorCode, &r.ErrorMessage, &r.NeedsSeller, &r.QueuedAt, &started, &finished, &next, &r.MaxAttempts); err != nil {
		return Run{}, err
	}
	r.Platform = ParsePlatform(platform)
	if streams != "" {
		r.Streams = strings.Split(streams, ",")
	}
	r.QueuedAt = r.QueuedAt.UTC()
	r.StartedAt, r.FinishedAt, r.NextAttemptAt = timePtr(started), timePtr(finished), timePtr(next)
	return r, nil
}

// GetRun returns one run of the seller with its progress, or ErrNotFound.
func (s *Store) GetRun(ctx context.Context, sellerID, runID uint64) (Run, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, `SELECT `+runColumns+runFrom+`WHERE r.seller_id = ? AND r.run_id = ?`, sellerID, runID))
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, fmt.Errorf("run %d: %w", runID, ErrNotFound)
	}
	if err != nil {
		return Run{}, fmt.Errorf("reading run %d: %w", runID, err)
	}
	if err := s.attachProgress(ctx, sellerID, []*Run{&r}); err != nil {
		return Run{}, err
	}
	return r, nil
}

// ListRuns returns up to limit runs of the seller (of one account when
// accountID is not 0), newest first, older than beforeRunID when it is not 0.
func (s *Store) ListRuns(ctx context.Context, sellerID, accountID, beforeRunID uint64, limit int) ([]Run, error) {
	q := `SELECT ` + runColumns + runFrom + `WHERE r.seller_id = ?`
	args := []any{sellerID}
	if accountID != 0 {
		q += ` AND r.account_id = ?`
		args = append(args, accountID)
	}
	if beforeRunID != 0 {
		q += ` AND r.run_id < ?`
		args = append(args, beforeRunID)
	}
	q += ` ORDER BY r.run_id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	defer rows.Close()
	var runs []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("listing runs: %w", err)
		}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	ptrs := make([]*Run, len(runs))
	for i := range runs {
		ptrs[i] = &runs[i]
	}
	if err := s.attachProgress(ctx, sellerID, ptrs); err != nil {
		return nil, err
	}
	return runs, nil
}

func (s *Store) attachProgress(ctx context.Context, sellerID uint64, runs []*Run) error {
	if len(runs) == 0 {
		return nil
	}
	byID := map[uint64]*Run{}
	args := []any{sellerID}
	for _, r := range runs {
		byID[r.RunID] = r
		args = append(args, r.RunID)
	}
	rows, err := s.db.QueryContext(ctx,
		`SELECT run_id, stream, records_loaded, records_estimated, message FROM sync_run_streams
		 WHERE seller_id = ? AND run_id IN (`+placeholders(len(runs))+`) ORDER BY run_id, stream`, args...)
	if err != nil {
		return fmt.Errorf("reading run progress: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id uint64
		var p StreamProgress
		if err := rows.Scan(&id, &p.Stream, &p.Loaded, &p.Estimated, &p.Message); err != nil {
			return fmt.Errorf("reading run progress: %w", err)
		}
		byID[id].Progress = append(byID[id].Progress, p)
	}
	return rows.Err()
}

// LockRunTx checks, inside a loading transaction, that owner still executes
// the run, and locks the run row until the transaction ends.
func LockRunTx(ctx context.Context, tx *sql.Tx, sellerID, runID uint64, owner string) error {
	var state, leaseOwner string
	err := tx.QueryRowContext(ctx,
		`SELECT state, lease_owner FROM sync_runs WHERE seller_id = ? AND run_id = ? FOR UPDATE`, sellerID, runID).Scan(&state, &leaseOwner)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (state != RunRunning || leaseOwner != owner)) {
		return ErrLeaseLost
	}
	if err != nil {
		return fmt.Errorf("locking run %d: %w", runID, err)
	}
	return nil
}

// StartProgress creates the progress rows of the streams a run collects, so
// watchers see them from the start. Rows of a resumed run are kept.
func (s *Store) StartProgress(ctx context.Context, sellerID, runID uint64, streams []string) error {
	if len(streams) == 0 {
		return nil
	}
	args := make([]any, 0, 3*len(streams))
	for _, st := range streams {
		args = append(args, sellerID, runID, st)
	}
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO sync_run_streams (seller_id, run_id, stream) VALUES `+tuples(len(streams), 3)+`
		 ON DUPLICATE KEY UPDATE stream = stream`, args...)
	if err != nil {
		return fmt.Errorf("starting progress of run %d: %w", runID, err)
	}
	return nil
}

// AddLoadedTx adds records loaded per stream to a run's progress, inside the
// transaction that loaded them, so progress never runs ahead of the data.
func AddLoadedTx(ctx context.Context, tx *sql.Tx, sellerID, runID uint64, loaded map[string]int64) error {
	for stream, n := range loaded {
		if n == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO sync_run_streams (seller_id, run_id, stream, records_loaded) VALUES (?, ?, ?, ?)
			 ON DUPLICATE KEY UPDATE records_loaded = records_loaded + VALUES(records_loaded)`,
			sellerID, runID, truncate(stream, 64), n); err != nil {
			return fmt.Errorf("counting records of run %d: %w", runID, err)
		}
	}
	return nil
}

// SetEstimate records the collector's own view of a stream's progress.
func (s *Store) SetEstimate(ctx context.Context, sellerID, runID uint64, stream string, estimated int64, message string) error {
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO sync_run_streams (seller_id, run_id, stream, records_estimated, message) VALUES (?, ?, ?, ?, ?)
		 ON DUPLICATE KEY UPDATE records_estimated = VALUES(records_estimated), message = VALUES(message)`,
		sellerID, runID, truncate(stream, 64), estimated, truncate(message, 500))
	if err != nil {
		return fmt.Errorf("recording progress of run %d: %w", runID, err)
	}
	return nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// tuples returns n comma-separated groups of width placeholders: (?,?),(?,?).
func tuples(n, width int) string {
	one := "(" + placeholders(width) + ")"
	return strings.TrimSuffix(strings.Repeat(one+",", n), ",")
}
