package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	identityv1 "hlog.dev/proto/gen/hlog/identity/v1"
)

// Password rules: long enough to resist guessing, short enough for bcrypt,
// which reads only the first 72 bytes.
const (
	minPasswordChars = 10
	maxPasswordBytes = 72
)

// Sellers serves SellerService.
type Sellers struct {
	identityv1.UnimplementedSellerServiceServer
	*Service
}

type sellerRow struct {
	id          uint64
	email       string
	displayName string
	timeZone    string
	createdAt   time.Time
}

func (r sellerRow) proto() *identityv1.Seller {
	return &identityv1.Seller{
		SellerId: strconv.FormatUint(r.id, 10), Email: r.email, DisplayName: r.displayName,
		TimeZone: r.timeZone, CreatedAt: timestamppb.New(r.createdAt),
	}
}

func normalEmail(v string) (string, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	addr, err := mail.ParseAddress(v)
	if err != nil || addr.Address != v || len(v) > 191 {
		return "", status.Error(codes.InvalidArgument, "email: enter an e-mail address like name@example.com")
	}
	return v, nil
}

func checkNewPassword(field, p string) error {
	if utf8.RuneCountInString(p) < minPasswordChars {
		return status.Errorf(codes.InvalidArgument, "%s: use at least %d characters", field, minPasswordChars)
	}
	if len(p) > maxPasswordBytes {
		return status.Errorf(codes.InvalidArgument, "%s: use at most %d bytes", field, maxPasswordBytes)
	}
	return nil
}

// SignUp creates the seller (sellers row for the data, seller_logins row for
// the sign-in) and a first session, in one transaction.
func (s *Sellers) SignUp(ctx context.Context, req *identityv1.SignUpRequest) (*identityv1.SignUpResponse, error) {
	email, err := normalEmail(req.GetEmail())
	if err != nil {
		return nil, err
	}
	if err := checkNewPassword("password", req.GetPassword()); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(req.GetDisplayName())
	if name == "" {
		name = email
	}
	if utf8.RuneCountInString(name) > 100 {
		return nil, status.Error(codes.InvalidArgument, "display_name: use at most 100 characters")
	}
	tz := req.GetTimeZone()
	if tz == "" {
		tz = s.cfg.DefaultTimeZone
	}
	if _, err := time.LoadLocation(tz); err != nil || strings.EqualFold(tz, "local") {
		return nil, status.Errorf(codes.InvalidArgument, "time_zone %q is not an IANA time zone", tz)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(req.GetPassword()), s.cfg.BcryptCost)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "hashing password: %v", err)
	}
	now := s.now()
	seller := sellerRow{id: s.newID(), email: email, displayName: name, timeZone: tz, createdAt: now}
	var sess *identityv1.Session
	err = inTx(ctx, s.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sellers (seller_id, time_zone, created_at) VALUES (?, ?, ?)`,
			seller.id, tz, now); err != nil {
			return fmt.Errorf("inserting seller: %w", err)
		}
		_, err := tx.ExecContext(ctx,
			`INSERT INTO seller_logins (seller_id, email, display_name, password_hash, password_changed_at, created_at)
			 VALUES (?, ?, ?, ?, ?, ?)`, seller.id, email, name, hash, now, now)
		if isDuplicateKey(err) {
			return status.Error(codes.AlreadyExists, "email: a seller with this e-mail address exists; sign in instead")
		}
		if err != nil {
			return fmt.Errorf("inserting login: %w", err)
		}
		sess, err = s.openSession(ctx, tx, seller)
		return err
	})
	if err != nil {
		return nil, statusOf(err)
	}
	return &identityv1.SignUpResponse{Session: sess}, nil
}

// SignIn checks the password, unless the e-mail or the client is held back
// by too many recent failures.
func (s *Sellers) SignIn(ctx context.Context, req *identityv1.SignInRequest) (*identityv1.SignInResponse, error) {
	email := strings.ToLower(strings.TrimSpace(req.GetEmail()))
	if email == "" || req.GetPassword() == "" {
		return nil, status.Error(codes.InvalidArgument, "email and password are required")
	}
	keys := throttleKeys(email, req.GetClientKey())
	if err := s.checkThrottle(ctx, keys); err != nil {
		return nil, err
	}
	var seller sellerRow
	var hash []byte
	err := s.db.QueryRowContext(ctx,
		`SELECT l.seller_id, l.email, l.display_name, s.time_zone, l.created_at, l.password_hash
		 FROM seller_logins l JOIN sellers s ON s.seller_id = l.seller_id WHERE l.email = ?`, email).Scan(
		&seller.id, &seller.email, &seller.displayName, &seller.timeZone, &seller.createdAt, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		hash = s.dummyHash
	} else if err != nil {
		return nil, statusOf(fmt.Errorf("reading login: %w", err))
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(req.GetPassword())) != nil || seller.id == 0 {
		if err := s.recordFailure(ctx, keys); err != nil {
			return nil, statusOf(err)
		}
		return nil, status.Error(codes.Unauthenticated, "wrong e-mail or password")
	}
	if err := s.clearFailures(ctx, keys[:1]); err != nil {
		return nil, statusOf(err)
	}
	var sess *identityv1.Session
	err = inTx(ctx, s.db, func(tx *sql.Tx) error {
		var err error
		sess, err = s.openSession(ctx, tx, seller)
		return err
	})
	if err != nil {
		return nil, statusOf(err)
	}
	return &identityv1.SignInResponse{Session: sess}, nil
}

func (s *Service) openSession(ctx context.Context, tx *sql.Tx, seller sellerRow) (*identityv1.Session, error) {
	token, csrf := randomToken(), randomToken()
	now := s.now()
	expires := now.Add(s.cfg.SessionTTL)
	// Expired sessions of this seller go as new ones come, so the table
	// does not grow without bound.
	if _, err := tx.ExecContext(ctx, `DELETE FROM seller_sessions WHERE seller_id = ? AND expires_at <= ?`, seller.id, now); err != nil {
		return nil, fmt.Errorf("deleting expired sessions: %w", err)
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO seller_sessions (seller_id, token_hash, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		seller.id, tokenHash(token), csrf, now, expires); err != nil {
		return nil, fmt.Errorf("inserting session: %w", err)
	}
	return &identityv1.Session{Token: token, CsrfToken: csrf, ExpiresAt: timestamppb.New(expires), Seller: seller.proto()}, nil
}

// ResolveSession finds a live session by its token.
func (s *Sellers) ResolveSession(ctx context.Context, req *identityv1.ResolveSessionRequest) (*identityv1.ResolveSessionResponse, error) {
	seller, csrf, expires, err := s.resolve(ctx, req.GetSessionToken())
	if err != nil {
		return nil, err
	}
	return &identityv1.ResolveSessionResponse{Seller: seller.proto(), CsrfToken: csrf, ExpiresAt: timestamppb.New(expires)}, nil
}

var errNoSession = status.Error(codes.Unauthenticated, "not signed in, or the session has ended; sign in again")

func (s *Service) resolve(ctx context.Context, token string) (sellerRow, string, time.Time, error) {
	if token == "" {
		return sellerRow{}, "", time.Time{}, errNoSession
	}
	var r sellerRow
	var csrf string
	var expires time.Time
	err := s.db.QueryRowContext(ctx,
		`SELECT l.seller_id, l.email, l.display_name, s.time_zone, l.created_at, x.csrf_token, x.expires_at
		 FROM seller_sessions x
		 JOIN seller_logins l ON l.seller_id = x.seller_id
		 JOIN sellers s ON s.seller_id = x.seller_id
		 WHERE x.token_hash = ? AND x.expires_at > ?`, tokenHash(token), s.now()).Scan(
		&r.id, &r.email, &r.displayName, &r.timeZone, &r.createdAt, &csrf, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return sellerRow{}, "", time.Time{}, errNoSession
	}
	if err != nil {
		return sellerRow{}, "", time.Time{}, statusOf(fmt.Errorf("reading session: %w", err))
	}
	return r, csrf, expires, nil
}

// SignOut deletes the session.
func (s *Sellers) SignOut(ctx context.Context, req *identityv1.SignOutRequest) (*identityv1.SignOutResponse, error) {
	if req.GetSessionToken() == "" {
		return &identityv1.SignOutResponse{}, nil
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM seller_sessions WHERE token_hash = ?`, tokenHash(req.GetSessionToken())); err != nil {
		return nil, statusOf(fmt.Errorf("deleting session: %w", err))
	}
	return &identityv1.SignOutResponse{}, nil
}

// ChangePassword checks the current password (failures count towards the
// throttle like a sign-in), stores the new hash, ends every session of the
// seller and opens a new one for the caller.
func (s *Sellers) ChangePassword(ctx context.Context, req *identityv1.ChangePasswordRequest) (*identityv1.ChangePasswordResponse, error) {
	seller, _, _, err := s.resolve(ctx, req.GetSessionToken())
	if err != nil {
		return nil, err
	}
	if err := checkNewPassword("new_password", req.GetNewPassword()); err != nil {
		return nil, err
	}
	keys := throttleKeys(seller.email, "")[:1]
	if err := s.checkThrottle(ctx, keys); err != nil {
		return nil, err
	}
	var hash []byte
	if err := s.db.QueryRowContext(ctx, `SELECT password_hash FROM seller_logins WHERE seller_id = ?`, seller.id).Scan(&hash); err != nil {
		return nil, statusOf(fmt.Errorf("reading login: %w", err))
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(req.GetCurrentPassword())) != nil {
		if err := s.recordFailure(ctx, keys); err != nil {
			return nil, statusOf(err)
		}
		return nil, status.Error(codes.InvalidArgument, "current_password: this is not your current password")
	}
	newHash, err := bcrypt.GenerateFromPassword([]byte(req.GetNewPassword()), s.cfg.BcryptCost)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "hashing password: %v", err)
	}
	var sess *identityv1.Session
	err = inTx(ctx, s.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE seller_logins SET password_hash = ?, password_changed_at = ? WHERE seller_id = ?`,
			newHash, s.now(), seller.id); err != nil {
			return fmt.Errorf("updating password: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM seller_sessions WHERE seller_id = ?`, seller.id); err != nil {
			return fmt.Errorf("ending sessions: %w", err)
		}
		sess, err = s.openSession(ctx, tx, seller)
		return err
	})
	if err != nil {
		return nil, statusOf(err)
	}
	return &identityv1.ChangePasswordResponse{Session: sess}, nil
}

func inTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
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

// statusOf keeps statuses and turns anything else into INTERNAL (logged by
// the server harness; the text names no secret).
func statusOf(err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "request cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "request timed out")
	}
	return status.Errorf(codes.Internal, "identity: %v", err)
}
