package api_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	ingestv1 "hlog.dev/proto/gen/hlog/ingest/v1"
	salesv1 "hlog.dev/proto/gen/hlog/sales/v1"
	"hlog.dev/proto/kit"
	"hlog.dev/proto/kit/mysqltest"
	"hlog.dev/proto/synth"

	"hlog.dev/ingest-svc/internal/app"
	"hlog.dev/ingest-svc/internal/credentials"
	"hlog.dev/ingest-svc/internal/replay"
	"hlog.dev/ingest-svc/internal/store"
	"hlog.dev/ingest-svc/internal/syncrun"
	"hlog.dev/ingest-svc/internal/vault"
)

func TestMain(m *testing.M) { mysqltest.Main(m) }

var seoul = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		panic(err)
	}
	return loc
}()

// stepClock is a deterministic clock: every reading is one millisecond
// after the previous one, so "changed" timestamps are observable without
// depending on the wall clock.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Millisecond)
	return c.now
}

// env is a running ingest-svc with a replay collector for each platform,
// all over loopback gRPC, on a private MariaDB.
type env struct {
	st         *store.Store
	box        *credentials.Box
	collectors map[commercev1.Platform]*replay.Collector
	accounts   ingestv1.AccountServiceClient
	sync       ingestv1.SyncServiceClient
	sales      salesv1.SalesServiceClient
	truth      *synth.Store
}

// start runs ingest's services against a private database; opts adjust
// the dependencies before they are wired.
func start(t *testing.T, opts ...func(*app.Deps)) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	clock := &stepClock{now: time.Date(2024, 4, 21, 0, 0, 0, 0, time.UTC)}
	st, err := store.Open(ctx, mysqltest.Start(t).DSN, store.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := vault.NewKeyring("test-1", map[string][]byte{"test-1": bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	truth, err := synth.Generate(synth.Config{
		Seed: 21, OrdersPerDay: 10,
		Start: time.Date(2024, 1, 1, 0, 0, 0, 0, seoul),
		End:   time.Date(2024, 4, 1, 0, 0, 0, 0, seoul),
	})
	if err != nil {
		t.Fatal(err)
	}
	truth = truth.AsOf(time.Date(2024, 4, 20, 0, 0, 0, 0, seoul))

	e := &env{st: st, box: credentials.NewBox(keys), collectors: map[commercev1.Platform]*replay.Collector{}, truth: truth}
	clients := syncrun.Collectors{}
	// Each platform's replay listens on its own port, as the three
	// collector processes do.
	var servers []*grpc.Server
	for _, p := range []commercev1.Platform{commercev1.Platform_PLATFORM_CAFE24, commercev1.Platform_PLATFORM_SMARTSTORE, commercev1.Platform_PLATFORM_ABLY} {
		c := &replay.Collector{Platform: p, ExternalAccountID: "shop-" + p.String(), BatchSize: 25, Lookback: 2}
		c.SetStore(truth)
		e.collectors[p] = c
		srv := grpc.NewServer()
		collectorv1.RegisterCollectorServiceServer(srv, c)
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go srv.Serve(lis)
		servers = append(servers, srv)
		cc, err := kit.Dial(lis.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cc.Close() })
		clients[p] = collectorv1.NewCollectorServiceClient(cc)
	}

	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	srv, err := kit.New(kit.Config{Name: "ingest-svc", GRPCAddr: "127.0.0.1:0", Logger: log, ShutdownGrace: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	deps := app.Deps{
		Store: st, Keyring: keys, BuyerKey: bytes.Repeat([]byte{9}, 32), Collectors: clients,
		DefaultTimeZone: "Asia/Seoul", SyncWorkers: 2, Log: log, Stopping: ctx.Done(),
	}
	for _, o := range opts {
		o(&deps)
	}
	svc, err := app.Build(deps)
	if err != nil {
		t.Fatal(err)
	}
	svc.Register(srv.GRPC())
	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.Run(ctx) })
	wg.Go(func() { _ = svc.Runner.Run(ctx) })
	cc, err := kit.Dial(srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cc.Close()
		cancel()
		wg.Wait()
		for _, s := range servers {
			s.Stop()
		}
		st.Close()
	})
	e.accounts = ingestv1.NewAccountServiceClient(cc)
	e.sync = ingestv1.NewSyncServiceClient(cc)
	e.sales = salesv1.NewSalesServiceClient(cc)
	return e
}

// as returns a context acting for seller, bounded so a broken test fails
// instead of hanging.
func as(t *testing.T, seller string) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return kit.WithSeller(ctx, seller)
}

func cafe24Creds(refresh string) *collectorv1.Credentials {
	return &collectorv1.Credentials{Platform: &collectorv1.Credentials_Cafe24{Cafe24: &collectorv1.Cafe24Credentials{
		MallId: "synthmall", ClientId: "client", ClientSecret: "client-secret", AccessToken: "access-" + refresh, RefreshToken: refresh,
	}}}
}

func (e *env) addCafe24(t *testing.T, seller string) *ingestv1.Account {
	t.Helper()
	resp, err := e.accounts.AddAccount(as(t, seller), &ingestv1.AddAccountRequest{
		Platform: commercev1.Platform_PLATFORM_CAFE24, Credentials: cafe24Creds("refresh-0"),
	})
	if err != nil {
		t.Fatalf("AddAccount: %v", err)
	}
	return resp.Account
}

// latestRun is the account's newest run.
func (e *env) latestRun(t *testing.T, seller, accountID string) *ingestv1.SyncRun {
	t.Helper()
	resp, err := e.sync.ListSyncRuns(as(t, seller), &ingestv1.ListSyncRunsRequest{AccountId: accountID, PageSize: 1})
	if err != nil || len(resp.Runs) == 0 {
		t.Fatalf("ListSyncRuns: %v, %d runs", err, len(resp.GetRuns()))
	}
	return resp.Runs[0]
}

// watch follows a run until it is final and returns every state streamed.
func (e *env) watch(t *testing.T, seller, runID string) []*ingestv1.SyncRun {
	t.Helper()
	stream, err := e.sync.WatchSyncRun(as(t, seller), &ingestv1.WatchSyncRunRequest{RunId: runID})
	if err != nil {
		t.Fatal(err)
	}
	var seen []*ingestv1.SyncRun
	for {
		resp, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("watching run %s: %v", runID, err)
		}
		seen = append(seen, resp.Run)
	}
	if len(seen) == 0 {
		t.Fatalf("watch of run %s sent nothing", runID)
	}
	return seen
}

func (e *env) final(t *testing.T, seller, runID string) *ingestv1.SyncRun {
	t.Helper()
	seen := e.watch(t, seller, runID)
	return seen[len(seen)-1]
}
