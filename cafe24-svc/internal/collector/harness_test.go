package collector_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
	"hlog.dev/cafe24-svc/cafe24ids"
	"hlog.dev/cafe24-svc/internal/cafe24api"
	"hlog.dev/cafe24-svc/internal/collector"
	"hlog.dev/cafe24-svc/sandbox"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	"hlog.dev/proto/kit"
	"hlog.dev/proto/kit/clock"
	"hlog.dev/proto/synth"
)

var (
	kst   = time.FixedZone("KST", 9*60*60)
	start = time.Date(2026, 3, 1, 9, 0, 0, 0, kst)
)

const (
	mallID       = "demo"
	clientID     = "hlog-test-app"
	clientSecret = "test-secret"
)

// harness is the collector behind real gRPC on loopback, talking HTTP to a
// sandbox on loopback. Real time is a fake clock shared by the collector
// (pacing, backoff, token expiry) and the sandbox's rate limiter; the sandbox
// clock is frozen and moves only with advance.
type harness struct {
	t      *testing.T
	sb     *sandbox.Sandbox
	mall   sandbox.MallConfig
	url    string
	real   *clock.Fake
	client collectorv1.CollectorServiceClient
	// first is the credentials a test connected with, when it keeps them.
	first *collectorv1.Credentials
	// calls counts the sandbox's requests by path.
	mu    sync.Mutex
	calls map[string]int
}

// called is how many requests reached path (below /malls/{mall}).
func (h *harness) called(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls["/malls/"+h.mall.ID+path]
}

type options struct {
	mall           sandbox.MallConfig
	collector      func(*collector.Config)
	apiVersion     string
	requestTimeout time.Duration
}

func newHarness(t *testing.T, opt options) *harness {
	t.Helper()
	if opt.mall.ID == "" {
		opt.mall = sandbox.MallConfig{ID: mallID, Seed: 42, OrdersPerDay: 12}
	}
	real := clock.NewFake(start)
	sb, err := sandbox.New(sandbox.Config{
		Malls: []sandbox.MallConfig{opt.mall}, Clock: start, TimeSource: real.Now,
		HistoryDays: 120, FutureDays: 60, ClientID: clientID, ClientSecret: clientSecret,
	})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, sb: sb, mall: opt.mall, real: real, calls: map[string]int{}}
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.calls[r.URL.Path]++
		h.mu.Unlock()
		sb.ServeHTTP(w, r)
	}))
	t.Cleanup(web.Close)
	h.url = web.URL
	h.client = h.startCollector(opt.apiVersion, opt.requestTimeout, opt.collector)
	return h
}

// startCollector serves another collector, against the same sandbox, on
// its own gRPC port. An empty apiVersion means 2025-12-01.
func (h *harness) startCollector(apiVersion string, timeout time.Duration, tune func(*collector.Config)) collectorv1.CollectorServiceClient {
	t := h.t
	t.Helper()
	if apiVersion == "" {
		apiVersion = "2025-12-01"
	}
	log := slog.New(slog.DiscardHandler)
	api, err := cafe24api.New(cafe24api.Config{BaseURLTemplate: h.url + "/malls/{mall_id}", APIVersion: apiVersion, Clock: h.real, Logger: log, RequestTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	cfg := collector.Config{API: api, Clock: h.real, Logger: log}
	if tune != nil {
		tune(&cfg)
	}
	svc, err := collector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := kit.New(kit.Config{Name: "cafe24-svc", GRPCAddr: "127.0.0.1:0", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	collectorv1.RegisterCollectorServiceServer(srv.GRPC(), svc)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("grpc server: %v", err)
		}
	})
	cc, err := kit.Dial(srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return collectorv1.NewCollectorServiceClient(cc)
}

// advance moves the sandbox clock, and real time with it.
func (h *harness) advance(d time.Duration) {
	h.sb.Advance(d)
	h.real.Advance(d)
}

// truth is the ground truth at the sandbox clock, generated on its own from
// the mall's configuration with Cafe24's id formats.
func (h *harness) truth() *synth.Store {
	h.t.Helper()
	cfg := synth.Config{
		Seed: h.mall.Seed, Start: start.Add(-120 * 24 * time.Hour), End: start.Add(60 * 24 * time.Hour),
		Location: kst, Currency: "KRW", OrdersPerDay: h.mall.OrdersPerDay, Products: h.mall.Products, IDs: cafe24ids.Format{},
	}
	s, err := synth.Generate(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	return s.AsOf(h.sb.Now())
}

// backfillFrom reaches the first order of the store.
func (h *harness) backfillFrom() time.Time { return start.Add(-121 * 24 * time.Hour) }

// credentials connects the mall: a fresh token pair for the app.
func (h *harness) credentials() *collectorv1.Credentials {
	h.t.Helper()
	p, err := h.sb.MintTokens(h.mall.ID, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return &collectorv1.Credentials{Platform: &collectorv1.Credentials_Cafe24{Cafe24: &collectorv1.Cafe24Credentials{
		MallId: h.mall.ID, ClientId: clientID, ClientSecret: clientSecret,
		AccessToken: p.AccessToken, AccessTokenExpiresAt: timestamppb.New(p.AccessExpiresAt),
		RefreshToken: p.RefreshToken, RefreshTokenExpiresAt: timestamppb.New(p.RefreshExpiresAt),
		Scopes: p.Scopes,
	}}}
}

// collect runs one Collect and returns every message and the final error.
func (h *harness) collect(creds *collectorv1.Credentials, cursor []byte, backfill time.Time) ([]*collectorv1.CollectResponse, error) {
	h.t.Helper()
	sr := &collectorv1.StreamRequest{Name: "orders", Cursor: cursor}
	if !backfill.IsZero() {
		sr.BackfillFrom = timestamppb.New(backfill)
	}
	stream, err := h.client.Collect(context.Background(), &collectorv1.CollectRequest{Credentials: creds, Streams: []*collectorv1.StreamRequest{sr}, TimeZone: "Asia/Seoul"})
	if err != nil {
		return nil, err
	}
	var out []*collectorv1.CollectResponse
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
}
