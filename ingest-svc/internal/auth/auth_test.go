package auth

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	identityv1 "hlog.dev/proto/gen/hlog/identity/v1"
	ingestv1 "hlog.dev/proto/gen/hlog/ingest/v1"
	salesv1 "hlog.dev/proto/gen/hlog/sales/v1"
	"hlog.dev/proto/kit"
	"hlog.dev/proto/kit/mysqltest"

	"hlog.dev/ingest-svc/internal/identity"
	"hlog.dev/ingest-svc/internal/store"
)

func TestMain(m *testing.M) { mysqltest.Main(m) }

const serviceToken = "test-service-token-0123456789abcdef"

// seen records the seller each handler ran for: the interceptor's decision
// as the API would see it.
type seen struct {
	mu      sync.Mutex
	sellers []string
}

func (s *seen) note(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sellers = append(s.sellers, kit.SellerFromIncoming(ctx))
}

func (s *seen) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sellers) == 0 {
		return ""
	}
	return s.sellers[len(s.sellers)-1]
}

type salesAPI struct {
	salesv1.UnimplementedSalesServiceServer
	s *seen
}

func (a salesAPI) GetSummary(ctx context.Context, _ *salesv1.GetSummaryRequest) (*salesv1.GetSummaryResponse, error) {
	a.s.note(ctx)
	return &salesv1.GetSummaryResponse{}, nil
}

type syncAPI struct {
	ingestv1.UnimplementedSyncServiceServer
	s *seen
}

func (a syncAPI) ListSyncRuns(ctx context.Context, _ *ingestv1.ListSyncRunsRequest) (*ingestv1.ListSyncRunsResponse, error) {
	a.s.note(ctx)
	return &ingestv1.ListSyncRunsResponse{}, nil
}

func (a syncAPI) TriggerSync(ctx context.Context, _ *ingestv1.TriggerSyncRequest) (*ingestv1.TriggerSyncResponse, error) {
	a.s.note(ctx)
	return &ingestv1.TriggerSyncResponse{}, nil
}

func (a syncAPI) WatchSyncRun(_ *ingestv1.WatchSyncRunRequest, st grpc.ServerStreamingServer[ingestv1.WatchSyncRunResponse]) error {
	a.s.note(st.Context())
	return st.Send(&ingestv1.WatchSyncRunResponse{Run: &ingestv1.SyncRun{RunId: "1"}})
}

type env struct {
	conn          *grpc.ClientConn
	seen          *seen
	sellerKey     string
	allKey        string
	revokedKey    string
	sellerOfKey   string
	anotherSeller string
}

func start(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	d := mysqltest.Start(t)
	st, err := store.Open(ctx, d.DSN, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ids, err := identity.New(st.DB(), identity.Config{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	sellers := &identity.Sellers{Service: ids}
	mk := func(email string) string {
		r, err := sellers.SignUp(ctx, &identityv1.SignUpRequest{Email: email, Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		return r.GetSession().GetSeller().GetSellerId()
	}
	e := &env{seen: &seen{}, sellerOfKey: mk("one@example.com"), anotherSeller: mk("two@example.com")}
	keys := &identity.ApiKeys{Service: ids}
	for _, k := range []struct {
		out   *string
		scope identityv1.ApiKeyScope
	}{{&e.sellerKey, identityv1.ApiKeyScope_API_KEY_SCOPE_SELLER}, {&e.allKey, identityv1.ApiKeyScope_API_KEY_SCOPE_ALL}, {&e.revokedKey, identityv1.ApiKeyScope_API_KEY_SCOPE_SELLER}} {
		r, err := keys.CreateApiKey(ctx, &identityv1.CreateApiKeyRequest{Name: "test", Scope: k.scope, SellerId: e.sellerOfKey})
		if err != nil {
			t.Fatal(err)
		}
		*k.out = r.GetSecret()
		if k.out == &e.revokedKey {
			if _, err := ids.RevokeKey(ctx, r.GetApiKey().GetKeyId(), 0); err != nil {
				t.Fatal(err)
			}
		}
	}

	interceptor, err := New(serviceToken, ids)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.UnaryInterceptor(interceptor.Unary), grpc.StreamInterceptor(interceptor.Stream))
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	salesv1.RegisterSalesServiceServer(srv, salesAPI{s: e.seen})
	ingestv1.RegisterSyncServiceServer(srv, syncAPI{s: e.seen})
	identityv1.RegisterApiKeyServiceServer(srv, keys)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	e.conn, err = kit.Dial(lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.conn.Close() })
	return e
}

func with(pairs ...string) context.Context {
	return metadata.NewOutgoingContext(context.Background(), metadata.Pairs(pairs...))
}

func TestInterceptor(t *testing.T) {
	e := start(t)
	sales := salesv1.NewSalesServiceClient(e.conn)
	syncs := ingestv1.NewSyncServiceClient(e.conn)
	keys := identityv1.NewApiKeyServiceClient(e.conn)
	bearer := func(tok string) string { return "Bearer " + tok }

	cases := []struct {
		name       string
		ctx        context.Context
		call       string
		wantCode   codes.Code
		wantSeller string
	}{
		{"no credentials", with(kit.SellerHeader, e.sellerOfKey), "summary", codes.Unauthenticated, ""},
		{"seller header alone is not trusted", with(kit.SellerHeader, "1"), "summary", codes.Unauthenticated, ""},
		{"wrong service token", with("authorization", bearer(serviceToken+"x"), kit.SellerHeader, "1"), "summary", codes.Unauthenticated, ""},
		{"basic scheme", with("authorization", "Basic "+serviceToken), "summary", codes.Unauthenticated, ""},
		{"service token acts for the header", with("authorization", bearer(serviceToken), kit.SellerHeader, e.anotherSeller), "summary", codes.OK, e.anotherSeller},
		{"service token may write", with("authorization", bearer(serviceToken), kit.SellerHeader, e.anotherSeller), "trigger", codes.OK, e.anotherSeller},
		{"seller key pins its seller", with("authorization", bearer(e.sellerKey)), "summary", codes.OK, e.sellerOfKey},
		{"seller key with its own seller", with("authorization", bearer(e.sellerKey), kit.SellerHeader, e.sellerOfKey), "summary", codes.OK, e.sellerOfKey},
		{"seller key swapped to another seller", with("authorization", bearer(e.sellerKey), kit.SellerHeader, e.anotherSeller), "summary", codes.PermissionDenied, ""},
		{"seller key reads sync runs", with("authorization", bearer(e.sellerKey)), "runs", codes.OK, e.sellerOfKey},
		{"seller key watches", with("authorization", bearer(e.sellerKey)), "watch", codes.OK, e.sellerOfKey},
		{"seller key may not trigger", with("authorization", bearer(e.sellerKey)), "trigger", codes.PermissionDenied, ""},
		{"seller key may not manage keys", with("authorization", bearer(e.sellerKey)), "keys", codes.PermissionDenied, ""},
		{"all key names the seller", with("authorization", bearer(e.allKey), kit.SellerHeader, e.anotherSeller), "summary", codes.OK, e.anotherSeller},
		{"all key without a seller", with("authorization", bearer(e.allKey)), "summary", codes.PermissionDenied, ""},
		{"all key may not trigger", with("authorization", bearer(e.allKey), kit.SellerHeader, e.anotherSeller), "trigger", codes.PermissionDenied, ""},
		{"revoked key", with("authorization", bearer(e.revokedKey)), "summary", codes.Unauthenticated, ""},
		{"forged key", with("authorization", bearer(e.sellerKey[:len(e.sellerKey)-2]+"AA")), "summary", codes.Unauthenticated, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(e.seen.sellers)
			var err error
			switch c.call {
			case "summary":
				_, err = sales.GetSummary(c.ctx, &salesv1.GetSummaryRequest{})
			case "runs":
				_, err = syncs.ListSyncRuns(c.ctx, &ingestv1.ListSyncRunsRequest{})
			case "trigger":
				_, err = syncs.TriggerSync(c.ctx, &ingestv1.TriggerSyncRequest{})
			case "keys":
				_, err = keys.ListApiKeys(c.ctx, &identityv1.ListApiKeysRequest{})
			case "watch":
				var st grpc.ServerStreamingClient[ingestv1.WatchSyncRunResponse]
				st, err = syncs.WatchSyncRun(c.ctx, &ingestv1.WatchSyncRunRequest{RunId: "1"})
				if err == nil {
					_, err = st.Recv()
				}
			}
			if status.Code(err) != c.wantCode {
				t.Fatalf("got %v, want %s", err, c.wantCode)
			}
			e.seen.mu.Lock()
			ran := len(e.seen.sellers) > before
			e.seen.mu.Unlock()
			if c.wantCode != codes.OK {
				if ran {
					t.Error("the handler ran for a refused call")
				}
				if err != nil && strings.Contains(err.Error(), "hlk_") && strings.Contains(err.Error(), e.sellerKey[10:]) {
					t.Error("the error echoes the key")
				}
				return
			}
			if got := e.seen.last(); got != c.wantSeller {
				t.Errorf("handler acted for seller %q, want %q", got, c.wantSeller)
			}
		})
	}

	// Probes and reflection need nothing.
	if _, err := healthpb.NewHealthClient(e.conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("health: %v", err)
	}
}

func TestServiceTokenMustBeLong(t *testing.T) {
	if _, err := New("short", nil); err == nil {
		t.Error("a short service token was accepted")
	}
}
