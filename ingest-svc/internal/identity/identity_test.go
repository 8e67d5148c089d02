package identity

import (
	"bytes"
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	identityv1 "hlog.dev/proto/gen/hlog/identity/v1"
	"hlog.dev/proto/kit"
	"hlog.dev/proto/kit/mysqltest"

	"hlog.dev/ingest-svc/internal/store"
)

func TestMain(m *testing.M) { mysqltest.Main(m) }

// clock is a test clock that only moves when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type env struct {
	db    *sql.DB
	clock *clock
	// Two services on one database stand for two ingest replicas.
	a, b *Service
}

func start(t *testing.T) *env {
	t.Helper()
	d := mysqltest.Start(t)
	st, err := store.Open(context.Background(), d.DSN, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{now: time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC)}
	mk := func() *Service {
		s, err := New(st.DB(), Config{Now: c.Now, BcryptCost: 4})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return &env{db: st.DB(), clock: c, a: mk(), b: mk()}
}

func code(err error) codes.Code { return status.Code(err) }

func signUp(t *testing.T, s *Service, email, password string) *identityv1.Session {
	t.Helper()
	resp, err := (&Sellers{Service: s}).SignUp(context.Background(), &identityv1.SignUpRequest{Email: email, Password: password, DisplayName: "상점"})
	if err != nil {
		t.Fatalf("sign up %s: %v", email, err)
	}
	return resp.GetSession()
}

func TestSignUpSignInAndSessions(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	a := &Sellers{Service: e.a}
	sess := signUp(t, e.a, " Shop@Example.com ", "correct horse battery")
	if sess.GetToken() == "" || sess.GetCsrfToken() == "" || sess.GetSeller().GetEmail() != "shop@example.com" || sess.GetSeller().GetTimeZone() != "Asia/Seoul" {
		t.Fatalf("session %+v", sess)
	}

	for _, bad := range []*identityv1.SignUpRequest{
		{Email: "shop@example.com", Password: "another long password"},
		{Email: "not an address", Password: "correct horse battery"},
		{Email: "x@example.com", Password: "short"},
		{Email: "y@example.com", Password: "correct horse battery", TimeZone: "Mars/Olympus"},
	} {
		_, err := a.SignUp(ctx, bad)
		want := codes.InvalidArgument
		if bad.GetEmail() == "shop@example.com" {
			want = codes.AlreadyExists
		}
		if code(err) != want {
			t.Errorf("sign up %+v: %v, want %s", bad, err, want)
		}
	}

	// The other replica resolves the session: it lives in MySQL.
	got, err := (&Sellers{Service: e.b}).ResolveSession(ctx, &identityv1.ResolveSessionRequest{SessionToken: sess.GetToken()})
	if err != nil || got.GetSeller().GetSellerId() != sess.GetSeller().GetSellerId() || got.GetCsrfToken() != sess.GetCsrfToken() {
		t.Fatalf("resolve: %+v, %v", got, err)
	}
	if _, err := a.ResolveSession(ctx, &identityv1.ResolveSessionRequest{SessionToken: sess.GetToken() + "x"}); code(err) != codes.Unauthenticated {
		t.Errorf("forged token: %v", err)
	}

	in, err := a.SignIn(ctx, &identityv1.SignInRequest{Email: "SHOP@example.com", Password: "correct horse battery"})
	if err != nil || in.GetSession().GetSeller().GetSellerId() != sess.GetSeller().GetSellerId() {
		t.Fatalf("sign in: %+v %v", in, err)
	}
	if _, err := a.SignOut(ctx, &identityv1.SignOutRequest{SessionToken: in.GetSession().GetToken()}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ResolveSession(ctx, &identityv1.ResolveSessionRequest{SessionToken: in.GetSession().GetToken()}); code(err) != codes.Unauthenticated {
		t.Errorf("signed-out session still resolves: %v", err)
	}

	// Sessions end by themselves.
	e.clock.Advance(15 * 24 * time.Hour)
	if _, err := a.ResolveSession(ctx, &identityv1.ResolveSessionRequest{SessionToken: sess.GetToken()}); code(err) != codes.Unauthenticated {
		t.Errorf("expired session resolves: %v", err)
	}

	// Nothing secret is stored as sent.
	var hash []byte
	if err := e.db.QueryRow(`SELECT password_hash FROM seller_logins`).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(hash, []byte("$2a$")) || bytes.Contains(hash, []byte("correct horse")) {
		t.Errorf("password stored as %q", hash)
	}
	var n int
	if err := e.db.QueryRow(`SELECT COUNT(*) FROM seller_sessions WHERE token_hash = ?`, sess.GetToken()).Scan(&n); err != nil || n != 0 {
		t.Errorf("a session token is stored as sent (%d, %v)", n, err)
	}
}

func TestRepeatedWrongPasswordsAreSlowedOnEveryReplica(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	signUp(t, e.a, "shop@example.com", "correct horse battery")
	replicas := []*Sellers{{Service: e.a}, {Service: e.b}}
	wrong := &identityv1.SignInRequest{Email: "shop@example.com", Password: "wrong password!", ClientKey: "203.0.113.9"}
	right := &identityv1.SignInRequest{Email: "shop@example.com", Password: "correct horse battery", ClientKey: "203.0.113.9"}

	// Five failures, alternating replicas, are answered plainly.
	for i := range DefaultThrottle.FreeFailures {
		if _, err := replicas[i%2].SignIn(ctx, wrong); code(err) != codes.Unauthenticated {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	// The sixth blocks the e-mail for a second, then two, then four...
	if _, err := replicas[1].SignIn(ctx, wrong); code(err) != codes.Unauthenticated {
		t.Fatalf("sixth failure: %v", err)
	}
	for _, r := range replicas {
		_, err := r.SignIn(ctx, right)
		if code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "try again in 1 seconds") {
			t.Fatalf("blocked sign-in with the right password: %v", err)
		}
	}
	e.clock.Advance(time.Second)
	if _, err := replicas[0].SignIn(ctx, wrong); code(err) != codes.Unauthenticated {
		t.Fatalf("seventh failure: %v", err)
	}
	if _, err := replicas[1].SignIn(ctx, right); code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "2 seconds") {
		t.Fatalf("after the seventh failure: %v", err)
	}
	e.clock.Advance(2 * time.Second)
	if _, err := replicas[1].SignIn(ctx, right); err != nil {
		t.Fatalf("right password once the block ends: %v", err)
	}
	// Success clears the e-mail's count.
	if _, err := replicas[0].SignIn(ctx, wrong); code(err) != codes.Unauthenticated {
		t.Fatalf("failure after success: %v", err)
	}
	if _, err := replicas[0].SignIn(ctx, right); err != nil {
		t.Fatalf("one failure after a success blocks: %v", err)
	}

	// Unknown e-mails count too, so guessing addresses is slowed as well.
	ghost := &identityv1.SignInRequest{Email: "ghost@example.com", Password: "whatever it is", ClientKey: "198.51.100.7"}
	for range DefaultThrottle.FreeFailures + 1 {
		if _, err := replicas[0].SignIn(ctx, ghost); code(err) != codes.Unauthenticated {
			t.Fatal(err)
		}
	}
	if _, err := replicas[1].SignIn(ctx, ghost); code(err) != codes.ResourceExhausted {
		t.Fatalf("unknown e-mail not slowed: %v", err)
	}
}

func TestChangePasswordEndsOtherSessions(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	s := &Sellers{Service: e.a}
	first := signUp(t, e.a, "shop@example.com", "correct horse battery")
	second, err := s.SignIn(ctx, &identityv1.SignInRequest{Email: "shop@example.com", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChangePassword(ctx, &identityv1.ChangePasswordRequest{SessionToken: first.GetToken(), CurrentPassword: "not it at all", NewPassword: "a brand new password"}); code(err) != codes.InvalidArgument {
		t.Fatalf("wrong current password: %v", err)
	}
	if _, err := s.ChangePassword(ctx, &identityv1.ChangePasswordRequest{SessionToken: first.GetToken(), CurrentPassword: "correct horse battery", NewPassword: "short"}); code(err) != codes.InvalidArgument {
		t.Fatalf("short new password: %v", err)
	}
	changed, err := s.ChangePassword(ctx, &identityv1.ChangePasswordRequest{SessionToken: first.GetToken(), CurrentPassword: "correct horse battery", NewPassword: "a brand new password"})
	if err != nil {
		t.Fatal(err)
	}
	for _, old := range []string{first.GetToken(), second.GetSession().GetToken()} {
		if _, err := s.ResolveSession(ctx, &identityv1.ResolveSessionRequest{SessionToken: old}); code(err) != codes.Unauthenticated {
			t.Errorf("old session still live: %v", err)
		}
	}
	if _, err := s.ResolveSession(ctx, &identityv1.ResolveSessionRequest{SessionToken: changed.GetSession().GetToken()}); err != nil {
		t.Errorf("new session: %v", err)
	}
	if _, err := s.SignIn(ctx, &identityv1.SignInRequest{Email: "shop@example.com", Password: "correct horse battery"}); code(err) != codes.Unauthenticated {
		t.Errorf("old password still works: %v", err)
	}
	if _, err := s.SignIn(ctx, &identityv1.SignInRequest{Email: "shop@example.com", Password: "a brand new password"}); err != nil {
		t.Errorf("new password: %v", err)
	}
}

func asSeller(id string) context.Context {
	return metadata.NewIncomingContext(context.Background(), metadata.Pairs(kit.SellerHeader, id))
}

func TestAPIKeys(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	keys := &ApiKeys{Service: e.a}
	one := signUp(t, e.a, "one@example.com", "correct horse battery").GetSeller().GetSellerId()
	two := signUp(t, e.a, "two@example.com", "correct horse battery").GetSeller().GetSellerId()

	mine, err := keys.CreateApiKey(asSeller(one), &identityv1.CreateApiKeyRequest{Name: "reports", Scope: identityv1.ApiKeyScope_API_KEY_SCOPE_ALL})
	if code(err) != codes.PermissionDenied {
		t.Fatalf("a seller made an all-sellers key: %v %v", mine, err)
	}
	mine, err = keys.CreateApiKey(asSeller(one), &identityv1.CreateApiKeyRequest{Name: "reports", SellerId: two})
	if err != nil {
		t.Fatal(err)
	}
	if mine.GetApiKey().GetSellerId() != one || !strings.HasPrefix(mine.GetSecret(), KeyPrefix) {
		t.Fatalf("seller key %+v: the caller's seller must win over seller_id", mine.GetApiKey())
	}
	all, err := keys.CreateApiKey(ctx, &identityv1.CreateApiKeyRequest{Name: "finance", Scope: identityv1.ApiKeyScope_API_KEY_SCOPE_ALL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.CreateApiKey(ctx, &identityv1.CreateApiKeyRequest{Name: "x", SellerId: "999"}); code(err) != codes.NotFound {
		t.Errorf("key for an unknown seller: %v", err)
	}

	k, err := e.b.Authenticate(ctx, mine.GetSecret())
	if err != nil || k.Scope != ScopeSeller || k.SellerID == 0 {
		t.Fatalf("authenticate: %+v %v", k, err)
	}
	if k, err := e.b.Authenticate(ctx, all.GetSecret()); err != nil || k.Scope != ScopeAll {
		t.Fatalf("authenticate all: %+v %v", k, err)
	}
	for _, forged := range []string{"", "hlk_", mine.GetSecret() + "x", strings.Replace(mine.GetSecret(), mine.GetApiKey().GetKeyId(), all.GetApiKey().GetKeyId(), 1), "Bearer " + mine.GetSecret()} {
		if _, err := e.a.Authenticate(ctx, forged); code(err) != codes.Unauthenticated {
			t.Errorf("forged key %q: %v", forged, err)
		}
	}

	listed, err := keys.ListApiKeys(asSeller(two), &identityv1.ListApiKeysRequest{})
	if err != nil || len(listed.GetApiKeys()) != 0 {
		t.Errorf("seller two sees keys %v (%v)", listed, err)
	}
	if _, err := keys.RevokeApiKey(asSeller(two), &identityv1.RevokeApiKeyRequest{KeyId: mine.GetApiKey().GetKeyId()}); code(err) != codes.NotFound {
		t.Errorf("seller two revoked seller one's key: %v", err)
	}
	if _, err := keys.RevokeApiKey(asSeller(one), &identityv1.RevokeApiKeyRequest{KeyId: all.GetApiKey().GetKeyId()}); code(err) != codes.NotFound {
		t.Errorf("a seller revoked an all-sellers key: %v", err)
	}
	revoked, err := keys.RevokeApiKey(asSeller(one), &identityv1.RevokeApiKeyRequest{KeyId: mine.GetApiKey().GetKeyId()})
	if err != nil || revoked.GetApiKey().GetRevokedAt() == nil {
		t.Fatalf("revoke: %v %v", revoked, err)
	}
	if _, err := e.b.Authenticate(ctx, mine.GetSecret()); code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("revoked key: %v", err)
	}
	every, err := e.a.ListKeys(ctx)
	if err != nil || len(every) != 2 {
		t.Errorf("operator list: %v %v", every, err)
	}
}
