package sandbox

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// tokenStore holds issued access tokens. Lifetimes are on the sandbox clock.
type tokenStore struct {
	mu    sync.Mutex
	byTok map[string]*grant
	byKey map[string]*grant // one token per (type, account_id), smartstore.md §1
	// appRevoked refuses new tokens: the application was deleted or its
	// secret reissued in the API Center.
	appRevoked bool
}

type grant struct {
	token, key, seller string
	expires            time.Time
}

func newTokenStore() *tokenStore {
	return &tokenStore{byTok: map[string]*grant{}, byKey: map[string]*grant{}}
}

func (ts *tokenStore) lookup(token string, now time.Time) (*grant, bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	g, ok := ts.byTok[token]
	if token == "" || !ok || !now.Before(g.expires) {
		return nil, false
	}
	return g, true
}

// issue returns the live token of key when it has at least TokenReuseMin
// left, else a new one; the old one stays valid until it expires
// (smartstore.md §1).
func (ts *tokenStore) issue(key, seller string, now time.Time, ttl time.Duration) *grant {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if g, ok := ts.byKey[key]; ok && g.expires.Sub(now) >= TokenReuseMin {
		return g
	}
	b := make([]byte, 18)
	rand.Read(b)
	g := &grant{token: base64.RawURLEncoding.EncodeToString(b), key: key, seller: seller, expires: now.Add(ttl)}
	ts.byTok[g.token] = g
	ts.byKey[key] = g
	return g
}

// revokeAll kills every issued token, as an operator revoking the
// application's tokens would.
func (ts *tokenStore) revokeAll() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.byTok = map[string]*grant{}
	ts.byKey = map[string]*grant{}
}

func (ts *tokenStore) setAppRevoked(v bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.appRevoked = v
	if v {
		ts.byTok = map[string]*grant{}
		ts.byKey = map[string]*grant{}
	}
}

func (ts *tokenStore) revoked() bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.appRevoked
}

// token answers POST /v1/oauth2/token (smartstore.md §1). Parameters come
// from a form body or the query string: the docs use the form, the 2022 spec
// and many clients the query, and both work.
func (s *Sandbox) token(c *call) {
	if err := c.r.ParseForm(); err != nil {
		c.tokenError(http.StatusBadRequest, "BAD_REQUEST", "요청 본문을 읽을 수 없습니다. "+err.Error())
		return
	}
	p := c.r.Form
	var missing []invalidInput
	for _, name := range []string{"client_id", "timestamp", "client_secret_sign", "grant_type", "type"} {
		if p.Get(name) == "" {
			missing = append(missing, invalidInput{Name: name, Type: "NotBlank", Message: name + " 값이 필요합니다."})
		}
	}
	if len(missing) > 0 {
		c.tokenError(http.StatusBadRequest, "BAD_REQUEST", "필수 파라미터가 없습니다.", missing...)
		return
	}
	if p.Get("grant_type") != "client_credentials" {
		c.tokenError(http.StatusBadRequest, "BAD_REQUEST", "grant_type은 client_credentials 이어야 합니다.", invalidInput{Name: "grant_type", Type: "Pattern", Message: "client_credentials only"})
		return
	}
	if s.tokens.revoked() {
		c.tokenError(http.StatusForbidden, "FORBIDDEN", "애플리케이션을 사용할 수 없습니다. (application revoked or deleted)")
		return
	}
	if p.Get("client_id") != s.cfg.ClientID {
		c.tokenError(http.StatusBadRequest, "BAD_REQUEST", "등록되지 않은 애플리케이션입니다. (unknown client_id)", invalidInput{Name: "client_id", Type: "Invalid", Message: "unknown client_id"})
		return
	}
	ms, err := strconv.ParseInt(p.Get("timestamp"), 10, 64)
	now := s.Now()
	if err != nil || now.Sub(time.UnixMilli(ms)).Abs() > SignatureValidity {
		c.tokenError(http.StatusBadRequest, "BAD_REQUEST", "timestamp가 유효하지 않습니다. (must be Unix milliseconds within 5 minutes)", invalidInput{Name: "timestamp", Type: "Invalid", Message: "expired or malformed timestamp"})
		return
	}
	if !s.validSign(p.Get("client_id"), p.Get("timestamp"), p.Get("client_secret_sign")) {
		c.tokenError(http.StatusBadRequest, "BAD_REQUEST", "client_secret_sign이 유효하지 않습니다.", invalidInput{Name: "client_secret_sign", Type: "Invalid", Message: "signature mismatch"})
		return
	}
	var sellerID string
	switch p.Get("type") {
	case "SELF":
		sellerID = s.order[0]
	case "SELLER":
		sellerID = p.Get("account_id")
		if _, ok := s.sellers[sellerID]; !ok {
			c.tokenError(http.StatusBadRequest, "BAD_REQUEST", "판매자 계정을 찾을 수 없거나 권한이 없습니다. (account_id)", invalidInput{Name: "account_id", Type: "Invalid", Message: fmt.Sprintf("no seller %q authorised this application", sellerID)})
			return
		}
	default:
		c.tokenError(http.StatusBadRequest, "BAD_REQUEST", "type은 SELF 또는 SELLER 입니다.", invalidInput{Name: "type", Type: "Pattern", Message: "SELF or SELLER"})
		return
	}
	g := s.tokens.issue(p.Get("type")+":"+sellerID, sellerID, now, s.cfg.TokenTTL)
	// expires_in: the remaining seconds of the token returned, which is the
	// full 10800 for a new one (smartstore.md §1 leaves reuse undocumented, L).
	c.json(http.StatusOK, map[string]any{"access_token": g.token, "expires_in": int64(g.expires.Sub(now).Seconds()), "token_type": "Bearer"})
}

// validSign checks client_secret_sign = base64(bcrypt(client_id+"_"+timestamp,
// salt = client secret)). bcrypt normalises the salt's last character, so
// only the first 21 salt characters are compared (smartstore.md §1).
func (s *Sandbox) validSign(clientID, timestamp, sign string) bool {
	raw, err := base64.StdEncoding.DecodeString(sign)
	if err != nil {
		if raw, err = base64.URLEncoding.DecodeString(sign); err != nil {
			return false
		}
	}
	hash := string(raw)
	prefix := s.cfg.ClientSecret[:len(s.cfg.ClientSecret)-1] // "$2a$04$" + 21 salt characters
	if len(hash) != 60 || !strings.HasPrefix(hash, prefix) {
		return false
	}
	return bcrypt.CompareHashAndPassword(raw, []byte(clientID+"_"+timestamp)) == nil
}
