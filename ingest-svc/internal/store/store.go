// Package store owns ingest-svc's MySQL schema: versioned migrations applied
// at start, and the rows of sellers, platform accounts, sync runs and stream
// cursors. Collected records are written by package loader and read by
// package sales, inside this schema.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"
)

// ErrNotFound and ErrAlreadyExists are wrapped by errors that callers turn
// into NOT_FOUND and ALREADY_EXISTS.
var (
	ErrNotFound      = errors.New("not found")
	ErrAlreadyExists = errors.New("already exists")
)

// kindError is an error with its own message that still matches a sentinel
// (errors.Is), so callers can show the message as it is.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// Store is the MySQL database of ingest-svc.
type Store struct {
	db          *sql.DB
	now         func() time.Time
	ids         *idGenerator
	maxAttempts int
}

// Options tune a Store.
type Options struct {
	// Now is the clock stamped on rows; nil means time.Now. Tests pass a
	// fixed clock so nothing depends on the wall clock.
	Now func() time.Time
	// MaxAttempts is how many times a queued run is tried before it is
	// dead; 0 means 5.
	MaxAttempts int
}

// Open connects to the database named by dsn (go-sql-driver/mysql format),
// applies pending migrations and returns the store.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := ConnConfig(dsn)
	if err != nil {
		return nil, err
	}
	if err := Migrate(ctx, cfg); err != nil {
		return nil, err
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("configuring mysql connection: %w", err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(8)
	db.SetConnMaxLifetime(30 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to mysql at %s: %w", cfg.Addr, err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	maxAttempts := opts.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = 5
	}
	return &Store{db: db, now: now, ids: newIDGenerator(), maxAttempts: maxAttempts}, nil
}

// ConnConfig parses dsn and sets what the store relies on, whatever the
// operator wrote: DATETIME scanned as UTC time.Time, the session in UTC (no
// named zones needed), and UPDATE reporting matched rather than changed rows
// so compare-and-set updates can tell "not mine" from "no change".
func ConnConfig(dsn string) (*mysql.Config, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		// The DSN may hold a password: do not echo it.
		return nil, errors.New("parsing the mysql dsn: malformed (expected user:password@tcp(host:port)/database)")
	}
	if cfg.DBName == "" {
		return nil, errors.New("the mysql dsn names no database")
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.ClientFoundRows = true
	cfg.MultiStatements = false
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	return cfg, nil
}

// DB is the connection pool, for the loader and sales queries.
func (s *Store) DB() *sql.DB { return s.db }

// Now is the store's clock, truncated to what DATETIME(6) keeps.
func (s *Store) Now() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Close closes the connection pool.
func (s *Store) Close() error { return s.db.Close() }

// InTx runs fn in a transaction, committing when it returns nil.
func (s *Store) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// InTxReadCommitted runs fn in a READ COMMITTED transaction, trying again
// (up to 5 times) when the server rolls it back as a deadlock victim or
// after a lock wait timeout; fn must be safe to run again. READ COMMITTED
// takes no gap locks, so loads of different accounts of one seller, which
// touch neighbouring index ranges, rarely wait on each other.
func (s *Store) InTxReadCommitted(ctx context.Context, fn func(tx *sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.inTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted}, fn)
		if err == nil || attempt == 5 || !IsLockConflict(err) || ctx.Err() != nil {
			return err
		}
	}
}

func (s *Store) inTx(ctx context.Context, opts *sql.TxOptions, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// IsLockConflict reports a deadlock (ER_LOCK_DEADLOCK) or a lock wait
// timeout (ER_LOCK_WAIT_TIMEOUT): the transaction may simply be run again.
func IsLockConflict(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1213 || me.Number == 1205)
}

// isDuplicateKey reports whether err is MySQL's ER_DUP_ENTRY.
func isDuplicateKey(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1062
}

func nullTime(t *time.Time) sql.NullTime {
	if t == nil {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: *t, Valid: true}
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}
