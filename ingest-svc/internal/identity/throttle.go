package identity

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Throttle says how failed sign-ins slow down. The count lives in MySQL, so
// every replica sees the same failures.
type Throttle struct {
	// Window: failures older than this are forgotten.
	Window time.Duration
	// FreeFailures per e-mail before each further failure blocks it for
	// BaseDelay, doubling each time, up to MaxDelay.
	FreeFailures int
	// ClientFreeFailures is the same for one client (IP), higher because
	// several sellers may share an office address.
	ClientFreeFailures int
	BaseDelay          time.Duration
	MaxDelay           time.Duration
}

// DefaultThrottle: five free tries per e-mail in 15 minutes, then 1 s, 2 s,
// 4 s ... up to 15 minutes between tries.
var DefaultThrottle = Throttle{
	Window: 15 * time.Minute, FreeFailures: 5, ClientFreeFailures: 20,
	BaseDelay: time.Second, MaxDelay: 15 * time.Minute,
}

type throttleKey struct {
	key  string
	free int
}

// throttleKeys: the e-mail first, then the client when known. Both are
// hashed: the table is no list of addresses.
func throttleKeys(email, client string) []throttleKey {
	keys := []throttleKey{{key: "email:" + hashHex(email)}}
	if client != "" {
		keys = append(keys, throttleKey{key: "client:" + hashHex(client)})
	}
	return keys
}

func hashHex(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}

func (s *Service) freeFor(k throttleKey) int {
	if k.key[:6] == "client" {
		return s.cfg.Throttle.ClientFreeFailures
	}
	return s.cfg.Throttle.FreeFailures
}

// checkThrottle refuses the attempt while any key is blocked, before the
// password is even looked at.
func (s *Service) checkThrottle(ctx context.Context, keys []throttleKey) error {
	now := s.now()
	var wait time.Duration
	for _, k := range keys {
		var until sql.NullTime
		err := s.db.QueryRowContext(ctx, `SELECT blocked_until FROM sign_in_throttle WHERE throttle_key = ?`, k.key).Scan(&until)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return statusOf(fmt.Errorf("reading sign-in throttle: %w", err))
		}
		if until.Valid && until.Time.After(now) {
			wait = max(wait, until.Time.Sub(now))
		}
	}
	if wait == 0 {
		return nil
	}
	secs := int64(math.Ceil(wait.Seconds()))
	st := status.Newf(codes.ResourceExhausted, "too many failed sign-ins; try again in %d seconds", secs)
	if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(time.Duration(secs) * time.Second)}); err == nil {
		st = d
	}
	return st.Err()
}

// recordFailure counts a failure against every key and blocks those past
// their free failures. One statement per key: concurrent failures on other
// replicas add up instead of overwriting each other.
func (s *Service) recordFailure(ctx context.Context, keys []throttleKey) error {
	now := s.now()
	windowStart := now.Add(-s.cfg.Throttle.Window)
	for _, k := range keys {
		if _, err := s.db.ExecContext(ctx,
			`INSERT INTO sign_in_throttle (throttle_key, failures, first_failure_at, blocked_until) VALUES (?, 1, ?, NULL)
			 ON DUPLICATE KEY UPDATE
			   failures = IF(first_failure_at < ?, 1, failures + 1),
			   first_failure_at = IF(first_failure_at < ?, VALUES(first_failure_at), first_failure_at)`,
			k.key, now, windowStart, windowStart); err != nil {
			return fmt.Errorf("counting a failed sign-in: %w", err)
		}
		var failures int
		if err := s.db.QueryRowContext(ctx, `SELECT failures FROM sign_in_throttle WHERE throttle_key = ?`, k.key).Scan(&failures); err != nil {
			return fmt.Errorf("reading sign-in throttle: %w", err)
		}
		over := failures - s.freeFor(k)
		if over <= 0 {
			continue
		}
		delay := s.cfg.Throttle.MaxDelay
		if over <= 30 {
			delay = min(s.cfg.Throttle.BaseDelay<<(over-1), s.cfg.Throttle.MaxDelay)
		}
		if _, err := s.db.ExecContext(ctx, `UPDATE sign_in_throttle SET blocked_until = ? WHERE throttle_key = ?`, now.Add(delay), k.key); err != nil {
			return fmt.Errorf("blocking sign-ins: %w", err)
		}
	}
	return nil
}

func (s *Service) clearFailures(ctx context.Context, keys []throttleKey) error {
	for _, k := range keys {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM sign_in_throttle WHERE throttle_key = ?`, k.key); err != nil {
			return fmt.Errorf("clearing sign-in throttle: %w", err)
		}
	}
	return nil
}
