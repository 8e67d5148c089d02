package cafe24api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Token is a token pair from POST /api/v2/oauth/token (cafe24.md §1).
type Token struct {
	AccessToken      string
	AccessExpiresAt  time.Time
	RefreshToken     string
	RefreshExpiresAt time.Time
	MallID           string
	Scopes           []string
}

type tokenBody struct {
	AccessToken           string   `json:"access_token"`
	ExpiresAt             string   `json:"expires_at"`
	RefreshToken          string   `json:"refresh_token"`
	RefreshTokenExpiresAt string   `json:"refresh_token_expires_at"`
	MallID                string   `json:"mall_id"`
	Scopes                []string `json:"scopes"`
}

// RefreshToken spends refreshToken for a new pair. Cafe24 rotates refresh
// tokens: once this returns, the old one is dead (cafe24.md §1).
func (m *Mall) RefreshToken(ctx context.Context, clientID, clientSecret, refreshToken string) (*Token, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	return m.token(ctx, clientID, clientSecret, form)
}

// ExchangeCode redeems an authorization code for a pair.
func (m *Mall) ExchangeCode(ctx context.Context, clientID, clientSecret, code, redirectURI string) (*Token, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}
	return m.token(ctx, clientID, clientSecret, form)
}

func (m *Mall) token(ctx context.Context, clientID, clientSecret string, form url.Values) (*Token, error) {
	var body tokenBody
	encoded := form.Encode()
	err := m.do(ctx, "oauth/token", &body, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.base+"/api/v2/oauth/token", strings.NewReader(encoded))
		if err != nil {
			return nil, err
		}
		req.SetBasicAuth(clientID, clientSecret)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req, nil
	})
	if err != nil {
		return nil, fmt.Errorf("obtaining a token for mall %s: %w", m.id, err)
	}
	t, err := body.token()
	if err != nil {
		return nil, fmt.Errorf("obtaining a token for mall %s: %w", m.id, err)
	}
	return t, nil
}

func (b tokenBody) token() (*Token, error) {
	if b.AccessToken == "" || b.RefreshToken == "" {
		return nil, &APIError{Endpoint: "oauth/token", Status: 200, Message: "answer lacks a token"}
	}
	access, err := ParseTokenTime(b.ExpiresAt)
	if err != nil {
		return nil, fmt.Errorf("expires_at: %w", err)
	}
	refresh, err := ParseTokenTime(b.RefreshTokenExpiresAt)
	if err != nil {
		return nil, fmt.Errorf("refresh_token_expires_at: %w", err)
	}
	return &Token{AccessToken: b.AccessToken, AccessExpiresAt: access, RefreshToken: b.RefreshToken, RefreshExpiresAt: refresh, MallID: b.MallID, Scopes: b.Scopes}, nil
}

// ParseTokenTime reads a token time. Cafe24 sends "2021-03-01T14:00:00.000"
// with no offset, meaning KST (cafe24.md §1); a time with an offset is read
// as such.
func ParseTokenTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05.000", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, KST); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("token time %q is not like 2021-03-01T14:00:00.000", s)
}
