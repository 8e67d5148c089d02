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
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	"hlog.dev/proto/kit"
	"hlog.dev/proto/kit/clock"
	"hlog.dev/proto/synth"
	"hlog.dev/smartstore-svc/internal/collector"
	"hlog.dev/smartstore-svc/internal/naverapi"
	"hlog.dev/smartstore-svc/naverids"
	"hlog.dev/smartstore-svc/sandbox"
)

var (
	kst   = time.FixedZone("KST", 9*60*60)
	start = time.Date(2026, 3, 1, 9, 0, 0, 0, kst)
)

const (
	sellerID     = "demo"
	clientID     = "hlogTestApp"
	clientSecret = "$2a$04$hlogtestapplicationsal"
)

// harness is the collector behind real gRPC on loopback, talking HTTP to a
// sandbox on loopback. Real time is a fake clock shared by the API client
// (pacing, backoff) and the sandbox's rate limiter; the sandbox clock is
// frozen, moves only with advance, and is the platform time the collector
// reads (windows, token signatures).
type harness struct {
	t      *testing.T
	sb     *sandbox.Sandbox
	seller sandbox.SellerConfig
	url    string
	real   *clock.Fake
	client collectorv1.CollectorServiceClient

	mu    sync.Mutex
	calls map[string]int // requests by path
}

// callsTo counts the requests the sandbox got for a platform path.
func (h *harness) callsTo(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[sandbox.BasePath+path]
}

type options struct {
	seller    sandbox.SellerConfig
	sandbox   func(*sandbox.Config)
	collector func(*collector.Config)
}

// platformClock is the sandbox clock as the collector's platform time.
type platformClock struct {
	sb   *sandbox.Sandbox
	real *clock.Fake
}

func (p platformClock) Now() time.Time { return p.sb.Now() }
func (p platformClock) Sleep(ctx context.Context, d time.Duration) error {
	return p.real.Sleep(ctx, d)
}

func newHarness(t *testing.T, opt options) *harness {
	t.Helper()
	if opt.seller.ID == "" {
		opt.seller = sandbox.SellerConfig{ID: sellerID, Seed: 42, OrdersPerDay: 12}
	}
	real := clock.NewFake(start)
	cfg := sandbox.Config{
		Sellers: []sandbox.SellerConfig{opt.seller, {ID: "other", Seed: 7, OrdersPerDay: 3}}, Clock: start, TimeSource: real.Now,
		HistoryDays: 120, FutureDays: 60, ClientID: clientID, ClientSecret: clientSecret,
	}
	if opt.sandbox != nil {
		opt.sandbox(&cfg)
	}
	sb, err := sandbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, sb: sb, seller: opt.seller, real: real, calls: map[string]int{}}
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.calls[r.URL.Path]++
		h.mu.Unlock()
		sb.ServeHTTP(w, r)
	}))
	t.Cleanup(web.Close)
	h.url = web.URL

	log := slog.New(slog.DiscardHandler)
	api, err := naverapi.New(naverapi.Config{BaseURL: web.URL + sandbox.BasePath, Clock: real, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ccfg := collector.Config{API: api, Clock: platformClock{sb, real}, Logger: log, SafetyMargin: -1}
	if opt.collector != nil {
		opt.collector(&ccfg)
	}
	svc, err := collector.New(ccfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := kit.New(kit.Config{Name: "smartstore-svc", GRPCAddr: "127.0.0.1:0", Logger: log})
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
	h.client = collectorv1.NewCollectorServiceClient(cc)
	return h
}

// advance moves the sandbox clock, and real time with it.
func (h *harness) advance(d time.Duration) {
	h.sb.Advance(d)
	h.real.Advance(d)
}

// truth is the ground truth at the sandbox clock, generated on its own from
// the seller's configuration with Naver's id formats.
func (h *harness) truth() *synth.Store {
	h.t.Helper()
	cfg := synth.Config{
		Seed: h.seller.Seed, Start: start.Add(-120 * 24 * time.Hour), End: start.Add(60 * 24 * time.Hour),
		Location: kst, Currency: "KRW", OrdersPerDay: h.seller.OrdersPerDay, Products: h.seller.Products, IDs: naverids.Format{},
	}
	s, err := synth.Generate(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	return s.AsOf(h.sb.Now())
}

// backfillFrom reaches the first order of the store.
func (h *harness) backfillFrom() time.Time { return start.Add(-121 * 24 * time.Hour) }

// credentials are the application's, for the seller by account id.
func (h *harness) credentials() *collectorv1.Credentials {
	return &collectorv1.Credentials{Platform: &collectorv1.Credentials_Smartstore{Smartstore: &collectorv1.SmartstoreCredentials{
		ClientId: clientID, ClientSecret: clientSecret, AccountId: h.seller.ID,
	}}}
}

// collect runs one Collect of the orders stream and returns every message
// and the final error.
func (h *harness) collect(cursor []byte, backfill time.Time, streams ...string) ([]*collectorv1.CollectResponse, error) {
	h.t.Helper()
	if len(streams) == 0 {
		streams = []string{"orders"}
	}
	var reqs []*collectorv1.StreamRequest
	for _, s := range streams {
		sr := &collectorv1.StreamRequest{Name: s}
		if s == "orders" {
			sr.Cursor = cursor
			if !backfill.IsZero() {
				sr.BackfillFrom = timestamppb.New(backfill)
			}
		}
		reqs = append(reqs, sr)
	}
	stream, err := h.client.Collect(context.Background(), &collectorv1.CollectRequest{Credentials: h.credentials(), Streams: reqs, TimeZone: "Asia/Seoul"})
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
