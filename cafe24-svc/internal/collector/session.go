package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"hlog.dev/cafe24-svc/internal/cafe24api"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	"hlog.dev/proto/kit/clock"
)

// session holds one run's token pair and renews it. Cafe24 rotates refresh
// tokens (cafe24.md §1): a refresh kills the old refresh token, so every new
// pair is handed to onRotate, which must deliver it to ingest before anything
// else is sent.
type session struct {
	mall     *cafe24api.Mall
	creds    *collectorv1.Cafe24Credentials
	clock    clock.Clock
	skew     time.Duration
	log      *slog.Logger
	onRotate func(*collectorv1.Cafe24Credentials) error
	rotated  bool
	guard    *refreshGuard
}

func newSession(mall *cafe24api.Mall, creds *collectorv1.Cafe24Credentials, c clock.Clock, skew time.Duration, log *slog.Logger, guard *refreshGuard, onRotate func(*collectorv1.Cafe24Credentials) error) *session {
	return &session{mall: mall, creds: proto.Clone(creds).(*collectorv1.Cafe24Credentials), clock: c, skew: skew, log: log, guard: guard, onRotate: onRotate}
}

// accessToken returns a token that will live at least skew longer,
// refreshing first when the current one will not.
func (s *session) accessToken(ctx context.Context) (string, error) {
	exp := s.creds.GetAccessTokenExpiresAt()
	if s.creds.AccessToken == "" || (exp != nil && !s.clock.Now().Add(s.skew).Before(exp.AsTime())) {
		if err := s.refresh(ctx); err != nil {
			return "", err
		}
	}
	return s.creds.AccessToken, nil
}

// refresh trades the refresh token for a new pair and hands it on.
func (s *session) refresh(ctx context.Context) error {
	if s.creds.RefreshToken == "" {
		return errReconnect
	}
	if exp := s.creds.GetRefreshTokenExpiresAt(); exp != nil && !s.clock.Now().Before(exp.AsTime()) {
		return errReconnect
	}
	tok, err := s.guard.refresh(ctx, s.mall.ID()+"\x00"+s.creds.ClientId+"\x00"+s.creds.ClientSecret, s.creds.RefreshToken, func() (*cafe24api.Token, error) {
		return s.mall.RefreshToken(ctx, s.creds.ClientId, s.creds.ClientSecret, s.creds.RefreshToken)
	})
	if err != nil {
		var api *cafe24api.APIError
		if errors.As(err, &api) && (api.Status == http.StatusBadRequest || api.Status == http.StatusUnauthorized) {
			if api.OAuthError == "invalid_client" {
				return status.Error(codes.FailedPrecondition, fmt.Sprintf("Cafe24 rejected the app's client credentials (%s): check the Cafe24 app's client id and secret", api.Message))
			}
			s.log.Warn("cafe24 refresh token rejected", "mall", s.mall.ID(), "oauth_error", api.OAuthError)
			return errReconnect
		}
		return err
	}
	return s.adopt(proto.Clone(s.creds).(*collectorv1.Cafe24Credentials), tok)
}

// adopt makes tok the session's token pair and hands it on.
func (s *session) adopt(next *collectorv1.Cafe24Credentials, tok *cafe24api.Token) error {
	next.AccessToken = tok.AccessToken
	next.AccessTokenExpiresAt = timestamppb.New(tok.AccessExpiresAt)
	next.RefreshToken = tok.RefreshToken
	next.RefreshTokenExpiresAt = timestamppb.New(tok.RefreshExpiresAt)
	if len(tok.Scopes) > 0 {
		next.Scopes = tok.Scopes
	}
	s.creds = next
	s.rotated = true
	s.log.Info("cafe24 token pair renewed", "mall", s.mall.ID(), "access_expires_at", tok.AccessExpiresAt.UTC().Format(time.RFC3339))
	if s.onRotate != nil {
		if err := s.onRotate(proto.Clone(next).(*collectorv1.Cafe24Credentials)); err != nil {
			return fmt.Errorf("handing on renewed credentials: %w", err)
		}
	}
	return nil
}

// exchange trades the credentials' authorization code for a token pair.
func (s *session) exchange(ctx context.Context) error {
	tok, err := s.mall.ExchangeCode(ctx, s.creds.ClientId, s.creds.ClientSecret, s.creds.AuthorizationCode, s.creds.RedirectUri)
	if err != nil {
		var api *cafe24api.APIError
		if errors.As(err, &api) && (api.Status == http.StatusBadRequest || api.Status == http.StatusUnauthorized) {
			if api.OAuthError == "invalid_client" {
				return status.Error(codes.Unauthenticated, fmt.Sprintf("Cafe24 rejected the app's client credentials (%s): check the Cafe24 app's client id and secret", api.Message))
			}
			return status.Error(codes.Unauthenticated, fmt.Sprintf("Cafe24 did not accept the authorization code (%s): connect Cafe24 again", api.Message))
		}
		return err
	}
	if tok.MallID != "" && tok.MallID != s.creds.MallId {
		return status.Errorf(codes.Unauthenticated, "the authorization code was issued for mall %q, not %q: connect Cafe24 again", tok.MallID, s.creds.MallId)
	}
	next := proto.Clone(s.creds).(*collectorv1.Cafe24Credentials)
	next.AuthorizationCode, next.RedirectUri = "", ""
	return s.adopt(next, tok)
}

// call runs fn with a live access token. A 401 means the token died early
// (revoked, or expired by the platform's clock): refresh once and retry.
func (s *session) call(ctx context.Context, fn func(token string) error) error {
	tok, err := s.accessToken(ctx)
	if err != nil {
		return err
	}
	err = fn(tok)
	if !cafe24api.IsUnauthorized(err) {
		return err
	}
	s.log.Info("cafe24 access token rejected, refreshing", "mall", s.mall.ID())
	if err := s.refresh(ctx); err != nil {
		return err
	}
	err = fn(s.creds.AccessToken)
	if cafe24api.IsUnauthorized(err) {
		return status.Error(codes.Unauthenticated, msgTokenRejected)
	}
	return err
}
