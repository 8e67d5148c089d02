package collector_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
	"hlog.dev/ably-svc/internal/browser"
	"hlog.dev/ably-svc/internal/collector"
	"hlog.dev/ably-svc/internal/sellersite"
	"hlog.dev/ably-svc/sandbox"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	"hlog.dev/proto/kit"
	"hlog.dev/proto/kit/browsertest"
	"hlog.dev/proto/kit/clock"
	"hlog.dev/proto/synth"
)

var (
	kst   = time.FixedZone("KST", 9*60*60)
	start = time.Date(2026, 3, 1, 9, 0, 0, 0, kst)
)

const (
	email    = "seller@example.com"
	password = "correct horse"
)

// harness is the collector behind real gRPC on loopback, driving a real
// headless Chromium against the sandbox site on loopback. The collector's
// clock is fake (pacing and backoff never sleep); the sandbox clock is
// frozen and moves only with advance.
type harness struct {
	t      *testing.T
	sb     *sandbox.Sandbox
	seller sandbox.SellerConfig
	url    string
	clock  *clock.Fake
	pool   *browser.Pool
	svc    *collector.Service
	client collectorv1.CollectorServiceClient
	debug  string
}

type options struct {
	seller    sandbox.SellerConfig
	history   int
	collector func(*collector.Config)
}

func newHarness(t *testing.T, opt options) *harness {
	t.Helper()
	if opt.seller.Email == "" {
		opt.seller = sandbox.SellerConfig{Email: email, Password: password, Seed: 42, OrdersPerDay: 10}
	}
	if opt.history == 0 {
		opt.history = 40
	}
	sb, err := sandbox.New(sandbox.Config{Sellers: []sandbox.SellerConfig{opt.seller}, Clock: start, HistoryDays: opt.history, FutureDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(sb)
	t.Cleanup(func() { sb.Close(); web.Close() })

	log := slog.New(slog.DiscardHandler)
	if os.Getenv("ABLY_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	pool, err := browser.New(browser.Config{Bin: browsertest.ChromiumPath(t), Size: 2, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	fake := clock.NewFake(start)
	debug := t.TempDir()
	cfg := collector.Config{Pool: pool, Site: sellersite.Config{SiteURL: web.URL, APIURL: "", Timeout: 20 * time.Second},
		Clock: fake, Logger: log, DebugDir: debug, WindowDays: 7, PerPage: 100}
	if opt.collector != nil {
		opt.collector(&cfg)
	}
	svc, err := collector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := kit.New(kit.Config{Name: "ably-svc", GRPCAddr: "127.0.0.1:0", Logger: log})
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
	return &harness{t: t, sb: sb, seller: opt.seller, url: web.URL, clock: fake, pool: pool, svc: svc,
		client: collectorv1.NewCollectorServiceClient(cc), debug: debug}
}

// advance moves the sandbox clock and the collector's with it.
func (h *harness) advance(d time.Duration) {
	h.sb.Advance(d)
	h.clock.Advance(d)
}

// truth is the ground truth at the sandbox clock, generated on its own from
// the seller's configuration with Ably's id shapes.
func (h *harness) truth() *synth.Store {
	h.t.Helper()
	s, err := synth.Generate(h.sb.SynthConfig(h.seller))
	if err != nil {
		h.t.Fatal(err)
	}
	return s.AsOf(h.sb.Now())
}

func (h *harness) backfillFrom() time.Time { return start.AddDate(0, 0, -41) }

func (h *harness) credentials(pw string) *collectorv1.Credentials {
	return &collectorv1.Credentials{Platform: &collectorv1.Credentials_Ably{Ably: &collectorv1.AblyCredentials{Email: h.seller.Email, Password: pw}}}
}

func (h *harness) state() sandbox.SellerState {
	h.t.Helper()
	st, ok := h.sb.SellerState(h.seller.Email)
	if !ok {
		h.t.Fatal("no seller state")
	}
	return st
}

func (h *harness) fault(f sandbox.Fault) {
	h.t.Helper()
	if err := h.sb.AddFault(h.seller.Email, f); err != nil {
		h.t.Fatal(err)
	}
}

// collect runs one Collect of the orders stream and returns every message
// and the final error.
func (h *harness) collect(creds *collectorv1.Credentials, cursor []byte, backfill time.Time) ([]*collectorv1.CollectResponse, error) {
	h.t.Helper()
	sr := &collectorv1.StreamRequest{Name: "orders", Cursor: cursor}
	if !backfill.IsZero() {
		sr.BackfillFrom = timestamppb.New(backfill)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stream, err := h.client.Collect(ctx, &collectorv1.CollectRequest{Credentials: creds, Streams: []*collectorv1.StreamRequest{sr}, TimeZone: "Asia/Seoul"})
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

func (h *harness) postLogin(pw string) (*http.Response, error) {
	body, _ := json.Marshal(map[string]string{"email": h.seller.Email, "password": pw})
	return http.Post(h.url+"/seller/login/", "application/json", bytes.NewReader(body))
}
