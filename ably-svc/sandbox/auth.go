package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"
)

// authority issues and checks session JWTs. The site keeps the token in the
// cookie ably-seller-admin-jwt-token and sends it as "Authorization: JWT
// <token>" (ably.md "Site, login, session").
type authority struct {
	key []byte
	ttl time.Duration

	mu       sync.Mutex
	next     int64
	sessions map[int64]*session
}

type session struct {
	email   string
	expires time.Time
	revoked bool
}

type claims struct {
	Sub string `json:"sub"`
	Sid int64  `json:"sid"`
	Iat int64  `json:"iat"`
	Exp int64  `json:"exp"`
}

func newAuthority(key []byte, ttl time.Duration) *authority {
	return &authority{key: key, ttl: ttl, sessions: map[int64]*session{}}
}

var b64 = base64.RawURLEncoding

// issue starts a session for email at now and returns its JWT.
func (a *authority) issue(email string, now time.Time) (string, time.Time) {
	a.mu.Lock()
	a.next++
	sid := a.next
	exp := now.Add(a.ttl).Truncate(time.Second)
	a.sessions[sid] = &session{email: email, expires: exp}
	a.mu.Unlock()
	header := b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	payload, _ := json.Marshal(claims{Sub: email, Sid: sid, Iat: now.Unix(), Exp: exp.Unix()})
	body := header + "." + b64.EncodeToString(payload)
	return body + "." + b64.EncodeToString(a.sign(body)), exp
}

func (a *authority) sign(body string) []byte {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(body))
	return m.Sum(nil)
}

var errSession = errors.New("session expired")

// check returns the seller e-mail of a live session token.
func (a *authority) check(token string, now time.Time) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errSession
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || subtle.ConstantTimeCompare(sig, a.sign(parts[0]+"."+parts[1])) != 1 {
		return "", errSession
	}
	raw, err := b64.DecodeString(parts[1])
	if err != nil {
		return "", errSession
	}
	var c claims
	if err := json.Unmarshal(raw, &c); err != nil {
		return "", errSession
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.sessions[c.Sid]
	if !ok || s.revoked || !now.Before(s.expires) {
		return "", errSession
	}
	return s.email, nil
}

// revokeAll ends every session of email, as an expiry on the platform's side.
func (a *authority) revokeAll(email string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, s := range a.sessions {
		if s.email == email && !s.revoked {
			s.revoked = true
			n++
		}
	}
	return n
}

// tokenOf reads the session token: the Authorization header the site's
// pages send, else the cookie (the Excel link and the event stream).
func tokenOf(h string, cookie string) string {
	if len(h) > 4 && strings.EqualFold(h[:4], "JWT ") {
		return strings.TrimSpace(h[4:])
	}
	return cookie
}

// CookieName is where the site keeps the session JWT (ably.md).
const CookieName = "ably-seller-admin-jwt-token"

// passwordOK compares in constant time.
func passwordOK(want, got string) bool {
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}
