package gateway

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	identityv1 "hlog.dev/proto/gen/hlog/identity/v1"
	"hlog.dev/proto/kit"
)

// sessionCookie holds the session token: HttpOnly (no script reads it),
// SameSite=Lax (sent on top-level navigations back from Cafe24's consent
// page, never on cross-site subrequests or posts).
const sessionCookie = "hlog_session"

// csrfHeader carries the session's CSRF token on every write.
const csrfHeader = "X-CSRF-Token"

// caller is who an API request acts for, decided here and nowhere else.
type caller struct {
	// sellerID of a signed-in session.
	sellerID string
	// apiKey, for internal teams calling REST with their key: it goes to
	// ingest as is, which checks it, and so does apiKeySeller
	// (x-hlog-seller-id, needed by all-sellers keys).
	apiKey       string
	apiKeySeller string
}

type callerKey struct{}

func callerFrom(ctx context.Context) (caller, bool) {
	c, ok := ctx.Value(callerKey{}).(caller)
	return c, ok
}

// outgoing is the metadata a call to ingest carries for c.
func (s *sessions) outgoing(c caller) metadata.MD {
	if c.apiKey != "" {
		md := metadata.Pairs("authorization", "Bearer "+c.apiKey)
		if c.apiKeySeller != "" {
			md.Set(kit.SellerHeader, c.apiKeySeller)
		}
		return md
	}
	return metadata.Pairs("authorization", "Bearer "+s.serviceToken, kit.SellerHeader, c.sellerID)
}

// serviceContext is an outgoing context for calls the gateway makes as
// itself (resolving sessions, signing in).
func (s *sessions) serviceContext(ctx context.Context) context.Context {
	return metadata.NewOutgoingContext(ctx, metadata.Pairs("authorization", "Bearer "+s.serviceToken))
}

// sessions resolves session cookies through ingest's SellerService, with a
// short cache: the dashboard makes several calls per view, and each would
// otherwise cost a database read.
type sessions struct {
	client       identityv1.SellerServiceClient
	serviceToken string
	ttl          time.Duration
	now          func() time.Time

	mu    sync.Mutex
	cache map[[32]byte]cachedSession
}

type cachedSession struct {
	resp    *identityv1.ResolveSessionResponse
	fetched time.Time
}

func newSessions(client identityv1.SellerServiceClient, token string, ttl time.Duration) *sessions {
	return &sessions{client: client, serviceToken: token, ttl: ttl, now: time.Now, cache: map[[32]byte]cachedSession{}}
}

// resolve returns the live session of token, or an UNAUTHENTICATED status.
func (s *sessions) resolve(ctx context.Context, token string) (*identityv1.ResolveSessionResponse, error) {
	if token == "" {
		return nil, status.Error(codes.Unauthenticated, "not signed in")
	}
	key := sha256.Sum256([]byte(token))
	now := s.now()
	if s.ttl > 0 {
		s.mu.Lock()
		c, ok := s.cache[key]
		s.mu.Unlock()
		if ok && now.Sub(c.fetched) < s.ttl && now.Before(c.resp.GetExpiresAt().AsTime()) {
			return c.resp, nil
		}
	}
	resp, err := s.client.ResolveSession(s.serviceContext(ctx), &identityv1.ResolveSessionRequest{SessionToken: token})
	if err != nil {
		return nil, err
	}
	if s.ttl > 0 {
		s.mu.Lock()
		if len(s.cache) > 100_000 { // bound memory; entries are cheap to refetch
			clear(s.cache)
		}
		s.cache[key] = cachedSession{resp: resp, fetched: now}
		s.mu.Unlock()
	}
	return resp, nil
}

// forget drops a session from the cache (sign-out, password change).
func (s *sessions) forget(token string) {
	s.mu.Lock()
	delete(s.cache, sha256.Sum256([]byte(token)))
	s.mu.Unlock()
}

func sessionToken(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

func isWrite(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// authenticate decides who a request acts for and puts it in the context,
// or answers 401/403 itself. A seller's id comes from their session only;
// a client-sent x-hlog-seller-id counts only next to an API key, which
// ingest checks against it.
func (s *sessions) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "bearer") {
			c := caller{apiKey: strings.TrimSpace(tok), apiKeySeller: strings.TrimSpace(r.Header.Get(kit.SellerHeader))}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
			return
		}
		sess, err := s.resolve(r.Context(), sessionToken(r))
		if err != nil {
			writeStatus(w, err)
			return
		}
		if isWrite(r.Method) && !sameToken(r.Header.Get(csrfHeader), sess.GetCsrfToken()) {
			writeStatus(w, status.Errorf(codes.PermissionDenied, "missing or wrong %s header: reload the page and try again", csrfHeader))
			return
		}
		c := caller{sellerID: sess.GetSeller().GetSellerId()}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
	})
}

func sameToken(sent, want string) bool {
	if sent == "" || want == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(sent)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}
