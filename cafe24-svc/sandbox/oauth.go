package sandbox

import (
	"crypto/rand"
	"errors"
	"mime"
	"net/http"
	"slices"
	"sync"
	"time"
)

// codeTTL is how long an authorization code lives (cafe24.md §1: 1 minute).
const codeTTL = time.Minute

// tokenStore holds the OAuth grants of every mall. Lifetimes are measured on
// the sandbox clock.
type tokenStore struct {
	mu      sync.Mutex
	access  map[string]*accessGrant
	refresh map[string]*refreshGrant
	codes   map[string]*codeGrant
	// path is the state file grants are saved to; empty keeps them in memory.
	path string
	log  func(msg string, args ...any)
}

type accessGrant struct {
	mall    string
	scopes  []string
	expires time.Time
}

func (g *accessGrant) has(scope string) bool { return slices.Contains(g.scopes, scope) }

type refreshGrant struct {
	mall, clientID string
	scopes         []string
	expires        time.Time
}

type codeGrant struct {
	mall, clientID, redirectURI string
	scopes                      []string
	expires                     time.Time
}

func newTokenStore() *tokenStore {
	return &tokenStore{access: map[string]*accessGrant{}, refresh: map[string]*refreshGrant{}, codes: map[string]*codeGrant{}}
}

var (
	errInvalidAccessToken = errors.New("Invalid access_token")
	errExpiredAccessToken = errors.New("access_token time expired.")
)

// accessFor checks a bearer token for a mall.
func (ts *tokenStore) accessFor(token, mall string, now time.Time) (*accessGrant, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	g, ok := ts.access[token]
	if token == "" || !ok || g.mall != mall {
		return nil, errInvalidAccessToken
	}
	if !now.Before(g.expires) {
		return nil, errExpiredAccessToken
	}
	return g, nil
}

// tokenJSON is the token endpoint's answer (cafe24.md §1). Times carry no
// offset and mean KST; there is no expires_in.
type tokenJSON struct {
	AccessToken           string   `json:"access_token"`
	ExpiresAt             string   `json:"expires_at"`
	RefreshToken          string   `json:"refresh_token"`
	RefreshTokenExpiresAt string   `json:"refresh_token_expires_at"`
	ClientID              string   `json:"client_id"`
	MallID                string   `json:"mall_id"`
	UserID                string   `json:"user_id"`
	Scopes                []string `json:"scopes"`
	IssuedAt              string   `json:"issued_at"`
	ShopNo                string   `json:"shop_no"`
}

func (ts *tokenStore) issue(mall, clientID string, scopes []string, now time.Time, accessTTL, refreshTTL time.Duration) tokenJSON {
	access, refresh := rand.Text(), rand.Text()
	// Cafe24 times have millisecond precision; cut to it so that what the
	// answer says is exactly when the token dies.
	now = now.Truncate(time.Millisecond)
	ts.mu.Lock()
	ts.access[access] = &accessGrant{mall: mall, scopes: scopes, expires: now.Add(accessTTL)}
	ts.refresh[refresh] = &refreshGrant{mall: mall, clientID: clientID, scopes: scopes, expires: now.Add(refreshTTL)}
	ts.saveOrLogLocked()
	ts.mu.Unlock()
	return tokenJSON{
		AccessToken:           access,
		ExpiresAt:             tokenTime(now.Add(accessTTL)),
		RefreshToken:          refresh,
		RefreshTokenExpiresAt: tokenTime(now.Add(refreshTTL)),
		ClientID:              clientID,
		MallID:                mall,
		UserID:                mall,
		Scopes:                scopes,
		IssuedAt:              tokenTime(now),
		ShopNo:                "1",
	}
}

// redeemRefresh spends a refresh token: Cafe24 rotates them, so the old one
// dies on use (cafe24.md §1).
func (ts *tokenStore) redeemRefresh(token, mall, clientID string, now time.Time) (*refreshGrant, string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	g, ok := ts.refresh[token]
	if !ok || g.mall != mall || g.clientID != clientID {
		return nil, "Invalid refresh_token"
	}
	delete(ts.refresh, token)
	ts.saveOrLogLocked()
	if !now.Before(g.expires) {
		return nil, "refresh_token time expired"
	}
	return g, ""
}

func (ts *tokenStore) newCode(mall, clientID, redirectURI string, scopes []string, now time.Time) (string, time.Time) {
	code := rand.Text()
	exp := now.Add(codeTTL)
	ts.mu.Lock()
	ts.codes[code] = &codeGrant{mall: mall, clientID: clientID, redirectURI: redirectURI, scopes: scopes, expires: exp}
	ts.mu.Unlock()
	return code, exp
}

// redeemCode spends an authorization code: single use, 1 minute (cafe24.md §1).
func (ts *tokenStore) redeemCode(code, mall, clientID, redirectURI string, now time.Time) (*codeGrant, string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	g, ok := ts.codes[code]
	if !ok || g.mall != mall || g.clientID != clientID {
		return nil, "Invalid authorization code"
	}
	delete(ts.codes, code)
	if !now.Before(g.expires) {
		return nil, "Authorization code expired"
	}
	if g.redirectURI != redirectURI {
		return nil, "redirect_uri does not match"
	}
	return g, ""
}

// expireAccess ends every access token of mall at now.
func (ts *tokenStore) expireAccess(mall string, now time.Time) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, g := range ts.access {
		if g.mall == mall && g.expires.After(now) {
			g.expires = now
		}
	}
	ts.saveOrLogLocked()
}

// revokeRefresh kills every refresh token of mall.
func (ts *tokenStore) revokeRefresh(mall string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for tok, g := range ts.refresh {
		if g.mall == mall {
			delete(ts.refresh, tok)
		}
	}
	ts.saveOrLogLocked()
}

func (ts *tokenStore) revoke(token string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	delete(ts.access, token)
	delete(ts.refresh, token)
	ts.saveOrLogLocked()
}

// saveOrLogLocked saves the grants; a failure is logged, not fatal: the
// sandbox goes on serving from memory.
func (ts *tokenStore) saveOrLogLocked() {
	if err := ts.saveLocked(); err != nil && ts.log != nil {
		ts.log("saving sandbox state", "err", err.Error())
	}
}

// clientAuth checks the app's HTTP Basic credentials (cafe24.md §1) and
// returns its client id.
func (s *Sandbox) clientAuth(w http.ResponseWriter, r *http.Request) (string, bool) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "Invalid client_id")
		return "", false
	}
	good, known := s.apps.authenticate(id, secret)
	switch {
	case !known:
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "Invalid client_id")
		return "", false
	case !good:
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "Invalid client_secret")
		return "", false
	}
	return id, true
}

func formRequest(w http.ResponseWriter, r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Malformed form body")
		return false
	}
	return true
}

// token serves POST /api/v2/oauth/token.
func (s *Sandbox) token(w http.ResponseWriter, r *http.Request, m *mall) {
	if !formRequest(w, r) {
		return
	}
	clientID, ok := s.clientAuth(w, r)
	if !ok {
		return
	}
	now := s.Now()
	var scopes []string
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		code := r.PostForm.Get("code")
		if code == "" {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "code is required")
			return
		}
		g, problem := s.tokens.redeemCode(code, m.cfg.ID, clientID, r.PostForm.Get("redirect_uri"), now)
		if g == nil {
			writeOAuthError(w, http.StatusBadRequest, "invalid_grant", problem)
			return
		}
		scopes = g.scopes
	case "refresh_token":
		token := r.PostForm.Get("refresh_token")
		if token == "" {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "refresh_token is required")
			return
		}
		g, problem := s.tokens.redeemRefresh(token, m.cfg.ID, clientID, now)
		if g == nil {
			writeOAuthError(w, http.StatusBadRequest, "invalid_grant", problem)
			return
		}
		scopes = g.scopes
	default:
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
		return
	}
	writeJSON(w, http.StatusOK, s.tokens.issue(m.cfg.ID, clientID, scopes, now, s.cfg.AccessTokenTTL, s.cfg.RefreshTokenTTL))
}

// revoke serves POST /api/v2/oauth/revoke.
func (s *Sandbox) revoke(w http.ResponseWriter, r *http.Request, _ *mall) {
	if !formRequest(w, r) {
		return
	}
	if _, ok := s.clientAuth(w, r); !ok {
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "token is required")
		return
	}
	s.tokens.revoke(token)
	writeJSON(w, http.StatusOK, struct{}{})
}

// MintTokens issues a token pair for the registered app on a mall, as if the
// seller had gone through the consent screen; nil scopes mean AppScopes.
func (s *Sandbox) MintTokens(mallID string, scopes []string) (TokenPair, error) {
	if _, ok := s.malls[mallID]; !ok {
		return TokenPair{}, errors.New("sandbox: no mall " + mallID)
	}
	if scopes == nil {
		scopes = AppScopes
	}
	now := s.Now()
	tj := s.tokens.issue(mallID, s.cfg.ClientID, scopes, now, s.cfg.AccessTokenTTL, s.cfg.RefreshTokenTTL)
	now = now.Truncate(time.Millisecond)
	return TokenPair{
		AccessToken: tj.AccessToken, AccessExpiresAt: now.Add(s.cfg.AccessTokenTTL),
		RefreshToken: tj.RefreshToken, RefreshExpiresAt: now.Add(s.cfg.RefreshTokenTTL),
		Scopes: scopes,
	}, nil
}

// TokenPair is a minted access and refresh token.
type TokenPair struct {
	AccessToken      string
	AccessExpiresAt  time.Time
	RefreshToken     string
	RefreshExpiresAt time.Time
	Scopes           []string
}
