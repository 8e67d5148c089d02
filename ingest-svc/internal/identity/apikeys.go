package identity

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	identityv1 "hlog.dev/proto/gen/hlog/identity/v1"
	"hlog.dev/proto/kit"
)

// KeyPrefix starts every API key secret, so a leaked one is recognisable
// (secret scanners) and never mistaken for a session token.
const KeyPrefix = "hlk_"

// Scope names as stored.
const (
	ScopeSeller = "SELLER"
	ScopeAll    = "ALL"
)

// Key is a checked API key.
type Key struct {
	ID       uint64
	Scope    string
	SellerID uint64 // 0 for ScopeAll
	Name     string
}

// ApiKeys serves ApiKeyService. The auth interceptor lets only the service
// token reach it; a call carrying a seller (the gateway acting for a signed
// in seller) manages that seller's keys only.
type ApiKeys struct {
	identityv1.UnimplementedApiKeyServiceServer
	*Service
}

type keyRow struct {
	Key
	createdAt time.Time
	lastUsed  sql.NullTime
	revoked   sql.NullTime
}

func (r keyRow) proto() *identityv1.ApiKey {
	k := &identityv1.ApiKey{
		KeyId: strconv.FormatUint(r.ID, 10), Name: r.Name, Scope: identityv1.ApiKeyScope_API_KEY_SCOPE_SELLER,
		CreatedAt: timestamppb.New(r.createdAt),
	}
	if r.Scope == ScopeAll {
		k.Scope = identityv1.ApiKeyScope_API_KEY_SCOPE_ALL
	} else {
		k.SellerId = strconv.FormatUint(r.SellerID, 10)
	}
	if t := nullTime(r.lastUsed); t != nil {
		k.LastUsedAt = timestamppb.New(*t)
	}
	if t := nullTime(r.revoked); t != nil {
		k.RevokedAt = timestamppb.New(*t)
	}
	return k
}

// callerSeller is the seller a call acts for, 0 for an operator call.
func callerSeller(ctx context.Context) (uint64, error) {
	v := kit.SellerFromIncoming(ctx)
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseUint(v, 10, 64)
	if err != nil || id == 0 {
		return 0, status.Errorf(codes.Unauthenticated, "%s must be a positive decimal seller id", kit.SellerHeader)
	}
	return id, nil
}

// CreateApiKey makes a key; the secret is returned once.
func (a *ApiKeys) CreateApiKey(ctx context.Context, req *identityv1.CreateApiKeyRequest) (*identityv1.CreateApiKeyResponse, error) {
	caller, err := callerSeller(ctx)
	if err != nil {
		return nil, err
	}
	scope, seller := ScopeSeller, caller
	switch req.GetScope() {
	case identityv1.ApiKeyScope_API_KEY_SCOPE_ALL:
		if caller != 0 {
			return nil, status.Error(codes.PermissionDenied, "scope: a seller can make keys for their own data only (API_KEY_SCOPE_SELLER)")
		}
		scope, seller = ScopeAll, 0
	case identityv1.ApiKeyScope_API_KEY_SCOPE_SELLER, identityv1.ApiKeyScope_API_KEY_SCOPE_UNSPECIFIED:
		if caller == 0 {
			seller, err = strconv.ParseUint(req.GetSellerId(), 10, 64)
			if err != nil || seller == 0 {
				return nil, status.Error(codes.InvalidArgument, "seller_id: a seller-scoped key needs the seller's id")
			}
		}
	default:
		return nil, status.Errorf(codes.InvalidArgument, "scope %v is not a scope", req.GetScope())
	}
	key, secret, err := a.CreateKey(ctx, req.GetName(), scope, seller)
	if err != nil {
		return nil, err
	}
	return &identityv1.CreateApiKeyResponse{ApiKey: key.proto(), Secret: secret}, nil
}

// CreateKey makes a key for the operator command and the API.
func (s *Service) CreateKey(ctx context.Context, name, scope string, sellerID uint64) (keyRow, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return keyRow{}, "", status.Error(codes.InvalidArgument, "name: say what the key is for, in 1 to 100 characters")
	}
	if scope == ScopeSeller {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sellers WHERE seller_id = ?`, sellerID).Scan(&n); err != nil {
			return keyRow{}, "", statusOf(fmt.Errorf("reading seller: %w", err))
		}
		if n == 0 {
			return keyRow{}, "", status.Errorf(codes.NotFound, "seller %d not found", sellerID)
		}
	}
	now := s.now()
	r := keyRow{Key: Key{ID: s.newID(), Scope: scope, SellerID: sellerID, Name: name}, createdAt: now}
	raw := randomToken()
	if _, err := s.db.ExecContext(ctx,
		`INSERT INTO api_keys (key_id, scope, seller_id, name, secret_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		r.ID, scope, sellerID, name, tokenHash(raw), now); err != nil {
		return keyRow{}, "", statusOf(fmt.Errorf("inserting api key: %w", err))
	}
	return r, KeyPrefix + strconv.FormatUint(r.ID, 10) + "_" + raw, nil
}

// ListApiKeys lists the caller's keys (all keys for an operator).
func (a *ApiKeys) ListApiKeys(ctx context.Context, _ *identityv1.ListApiKeysRequest) (*identityv1.ListApiKeysResponse, error) {
	caller, err := callerSeller(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := a.listKeys(ctx, caller)
	if err != nil {
		return nil, err
	}
	out := &identityv1.ListApiKeysResponse{}
	for _, r := range rows {
		out.ApiKeys = append(out.ApiKeys, r.proto())
	}
	return out, nil
}

const keyColumns = `key_id, scope, seller_id, name, created_at, last_used_at, revoked_at`

func scanKey(sc interface{ Scan(...any) error }) (keyRow, error) {
	var r keyRow
	err := sc.Scan(&r.ID, &r.Scope, &r.SellerID, &r.Name, &r.createdAt, &r.lastUsed, &r.revoked)
	return r, err
}

// listKeys lists one seller's keys, or every key when seller is 0.
func (s *Service) listKeys(ctx context.Context, seller uint64) ([]keyRow, error) {
	q := `SELECT ` + keyColumns + ` FROM api_keys ORDER BY key_id DESC`
	args := []any{}
	if seller != 0 {
		q = `SELECT ` + keyColumns + ` FROM api_keys WHERE seller_id = ? AND scope = 'SELLER' ORDER BY key_id DESC`
		args = append(args, seller)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, statusOf(fmt.Errorf("listing api keys: %w", err))
	}
	defer rows.Close()
	var out []keyRow
	for rows.Next() {
		r, err := scanKey(rows)
		if err != nil {
			return nil, statusOf(fmt.Errorf("listing api keys: %w", err))
		}
		out = append(out, r)
	}
	return out, statusOrNil(rows.Err())
}

func statusOrNil(err error) error {
	if err == nil {
		return nil
	}
	return statusOf(err)
}

// RevokeApiKey revokes one of the caller's keys. Another seller's key is
// simply not found.
func (a *ApiKeys) RevokeApiKey(ctx context.Context, req *identityv1.RevokeApiKeyRequest) (*identityv1.RevokeApiKeyResponse, error) {
	caller, err := callerSeller(ctx)
	if err != nil {
		return nil, err
	}
	r, err := a.RevokeKey(ctx, req.GetKeyId(), caller)
	if err != nil {
		return nil, err
	}
	return &identityv1.RevokeApiKeyResponse{ApiKey: r.proto()}, nil
}

// RevokeKey revokes a key of seller (any key when seller is 0).
func (s *Service) RevokeKey(ctx context.Context, keyID string, seller uint64) (keyRow, error) {
	notFound := status.Errorf(codes.NotFound, "api key %q not found", keyID)
	id, err := strconv.ParseUint(keyID, 10, 64)
	if err != nil || id == 0 {
		return keyRow{}, notFound
	}
	r, err := scanKey(s.db.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE key_id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && seller != 0 && (r.Scope != ScopeSeller || r.SellerID != seller)) {
		return keyRow{}, notFound
	}
	if err != nil {
		return keyRow{}, statusOf(fmt.Errorf("reading api key: %w", err))
	}
	if !r.revoked.Valid {
		now := s.now()
		if _, err := s.db.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL`, now, id); err != nil {
			return keyRow{}, statusOf(fmt.Errorf("revoking api key: %w", err))
		}
		r.revoked = sql.NullTime{Time: now, Valid: true}
	}
	return r, nil
}

var errBadKey = status.Error(codes.Unauthenticated, "invalid API key")

// Authenticate checks an API key secret. Unknown, malformed and wrong keys
// get the same answer; a revoked key says so, since its owner needs a new one.
func (s *Service) Authenticate(ctx context.Context, secret string) (Key, error) {
	rest, ok := strings.CutPrefix(secret, KeyPrefix)
	if !ok {
		return Key{}, errBadKey
	}
	idText, raw, ok := strings.Cut(rest, "_")
	id, err := strconv.ParseUint(idText, 10, 64)
	if !ok || err != nil || raw == "" {
		return Key{}, errBadKey
	}
	var hash []byte
	var k Key
	var revoked, lastUsed sql.NullTime
	err = s.db.QueryRowContext(ctx, `SELECT key_id, scope, seller_id, name, secret_hash, revoked_at, last_used_at FROM api_keys WHERE key_id = ?`, id).
		Scan(&k.ID, &k.Scope, &k.SellerID, &k.Name, &hash, &revoked, &lastUsed)
	if errors.Is(err, sql.ErrNoRows) {
		return Key{}, errBadKey
	}
	if err != nil {
		return Key{}, statusOf(fmt.Errorf("reading api key: %w", err))
	}
	if subtle.ConstantTimeCompare(hash, tokenHash(raw)) != 1 {
		return Key{}, errBadKey
	}
	if revoked.Valid {
		return Key{}, status.Error(codes.Unauthenticated, "this API key was revoked; ask for a new one")
	}
	// last_used_at at minute resolution: one write per key per minute, not
	// one per call.
	now := s.now()
	if !lastUsed.Valid || now.Sub(lastUsed.Time) > time.Minute {
		if _, err := s.db.ExecContext(ctx, `UPDATE api_keys SET last_used_at = ? WHERE key_id = ?`, now, id); err != nil {
			return Key{}, statusOf(fmt.Errorf("noting api key use: %w", err))
		}
	}
	return k, nil
}

// KeyInfo is a key as the operator command lists it.
type KeyInfo struct {
	Key
	CreatedAt time.Time
	RevokedAt *time.Time
}

// ListKeys lists every key, newest first.
func (s *Service) ListKeys(ctx context.Context) ([]KeyInfo, error) {
	rows, err := s.listKeys(ctx, 0)
	if err != nil {
		return nil, err
	}
	out := make([]KeyInfo, 0, len(rows))
	for _, r := range rows {
		out = append(out, KeyInfo{Key: r.Key, CreatedAt: r.createdAt, RevokedAt: nullTime(r.revoked)})
	}
	return out, nil
}
