// Package collector implements hlog.collector.v1.CollectorService for Ably:
// it signs in to the seller site in a real Chromium like a person, keeps the
// session as a credential update, and reads orders and claims through the
// site's own JSON API from inside the signed-in page, day window by day
// window, with the order Excel as the fallback.
package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"hlog.dev/ably-svc/internal/browser"
	"hlog.dev/ably-svc/internal/sellersite"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	"hlog.dev/proto/kit"
	"hlog.dev/proto/kit/clock"
)

// kst is the zone of the site's day filters.
var kst = time.FixedZone("KST", 9*60*60)

// Config configures the service. Zero values take the defaults named.
type Config struct {
	Pool  *browser.Pool
	Site  sellersite.Config
	Clock clock.Clock
	// Logger never receives credentials or buyer data.
	Logger *slog.Logger
	// Lookback is re-read before the cursor on every run (default 30 days:
	// returns complete up to about three weeks after the order).
	Lookback time.Duration
	// DefaultBackfill is how far back a first run goes without backfill_from
	// (default 180 days).
	DefaultBackfill time.Duration
	// WindowDays is order days per checkpoint (default 7).
	WindowDays int
	// PerPage is rows per API page (default 500, the site's cap).
	PerPage int
	// BatchSize is orders per RecordBatch (default 200).
	BatchSize int
	// Pace is the mean pause between a person's page actions (default
	// 1.2s, jittered ±50%), against bot detection.
	Pace time.Duration
	// Retries of a failing API call, with Backoff doubling (defaults 3, 2s).
	Retries int
	Backoff time.Duration
	// DebugDir receives a screenshot and the page HTML on every failure
	// (default a temporary directory).
	DebugDir string
}

// Service is the Ably collector.
type Service struct {
	collectorv1.UnimplementedCollectorServiceServer
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	accounts map[string]*account // by lower-case e-mail
}

// account is what the process remembers about one seller account between
// runs: it serialises runs, keeps the newest session, and remembers a
// rejected password so that it is never tried again (a lock-out follows).
type account struct {
	mu sync.Mutex // held for a whole run

	token          string
	expires        time.Time
	rejectedSecret string // hash of an e-mail+password the site rejected
	rejectedMsg    error
}

const streamOrders = "orders"

// DefaultRateBudget is assumed when a Collect carries none: two API calls a
// second, one at a time, like a person paging quickly.
var DefaultRateBudget = &collectorv1.RateBudget{RequestsPerSecond: 2, Burst: 1, MaxConcurrency: 1}

// New checks cfg and returns the service.
func New(cfg Config) (*Service, error) {
	if cfg.Pool == nil {
		return nil, errors.New("collector: a browser pool is required")
	}
	if cfg.Site.SiteURL == "" {
		return nil, errors.New("collector: the seller site URL is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.Lookback, 30*24*time.Hour)
	def(&cfg.DefaultBackfill, 180*24*time.Hour)
	def(&cfg.Pace, 1200*time.Millisecond)
	def(&cfg.Backoff, 2*time.Second)
	if cfg.WindowDays == 0 {
		cfg.WindowDays = 7
	}
	if cfg.PerPage == 0 {
		cfg.PerPage = 500
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 200
	}
	if cfg.Retries == 0 {
		cfg.Retries = 3
	}
	if cfg.DebugDir == "" {
		cfg.DebugDir = "/tmp/ably-svc-debug"
	}
	switch {
	case cfg.WindowDays < 1 || cfg.WindowDays > 31:
		return nil, fmt.Errorf("collector: window of %d days must be from 1 to 31", cfg.WindowDays)
	case cfg.PerPage < 1 || cfg.PerPage > 500:
		return nil, fmt.Errorf("collector: per page %d must be from 1 to 500", cfg.PerPage)
	case cfg.Lookback < 0 || cfg.DefaultBackfill <= 0 || cfg.BatchSize < 1 || cfg.Pace < 0 || cfg.Retries < 0:
		return nil, errors.New("collector: lookback, backfill, batch size, pace and retries must not be negative")
	}
	cfg.Site.Pace = nil // set per run
	return &Service{cfg: cfg, log: cfg.Logger, accounts: map[string]*account{}}, nil
}

// Describe says this is Ably and which streams it offers.
func (s *Service) Describe(context.Context, *collectorv1.DescribeRequest) (*collectorv1.DescribeResponse, error) {
	return &collectorv1.DescribeResponse{
		Platform:    commercev1.Platform_PLATFORM_ABLY,
		DisplayName: "Ably",
		Streams: []*collectorv1.StreamInfo{{
			Name:        streamOrders,
			Description: "Order items (상품주문) as order lines of their orders, with cancels, returns and exchanges, read through the signed-in seller site's own JSON API (order Excel as fallback).",
			CursorSemantics: fmt.Sprintf("KST order day high-water mark; every run re-reads the %d days before it, and older days whose orders got a new claim, since the site filters by order day only",
				int(s.cfg.Lookback.Hours()/24)),
			Incremental: true,
		}, {
			Name:            streamProducts,
			Description:     "Goods (상품) as products with their options, prices, stock, display and selling state.",
			CursorSemantics: "full refresh on every run: the goods list has no change filter and a catalogue is a few pages",
			Incremental:     false,
		}},
		DefaultRateBudget: DefaultRateBudget,
		Version:           kit.Version,
	}, nil
}

func ablyCredentials(c *collectorv1.Credentials) (*collectorv1.AblyCredentials, error) {
	ac := c.GetAbly()
	switch {
	case ac == nil:
		return nil, status.Error(codes.InvalidArgument, "credentials must be Ably credentials")
	case !strings.Contains(ac.Email, "@"):
		return nil, status.Error(codes.InvalidArgument, "the Ably sign-in id is the seller's e-mail address")
	case ac.Password == "" && ac.SessionToken == "":
		return nil, status.Error(codes.InvalidArgument, "Ably credentials need a password or a session")
	}
	return ac, nil
}

func (s *Service) account(email string) *account {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(email)
	a, ok := s.accounts[key]
	if !ok {
		a = &account{}
		s.accounts[key] = a
	}
	return a
}

// pacer pauses like a person between page actions: the configured mean,
// jittered ±50%.
func (s *Service) pacer() func(context.Context) error {
	return func(ctx context.Context) error {
		if s.cfg.Pace <= 0 {
			return ctx.Err()
		}
		d := s.cfg.Pace/2 + time.Duration(rand.Int64N(int64(s.cfg.Pace)+1))
		return s.cfg.Clock.Sleep(ctx, d)
	}
}

// CheckCredentials signs in (or proves the saved session) and reads the
// seller's shop name. A new session comes back as rotated credentials.
func (s *Service) CheckCredentials(ctx context.Context, req *collectorv1.CheckCredentialsRequest) (*collectorv1.CheckCredentialsResponse, error) {
	ac, err := ablyCredentials(req.GetCredentials())
	if err != nil {
		return nil, err
	}
	var rotated *collectorv1.AblyCredentials
	r, err := s.open(ctx, ac, func(c *collectorv1.AblyCredentials) error { rotated = c; return nil })
	if err != nil {
		return nil, err
	}
	defer r.close()
	if err := r.signIn(ctx); err != nil {
		return nil, r.fail(ctx, "check", err)
	}
	name := ac.Email
	if res, err := r.get(ctx, "/seller/me/", nil, false); err == nil {
		if n := marketName(res.Body); n != "" {
			name = n
		}
	}
	resp := &collectorv1.CheckCredentialsResponse{ExternalAccountId: strings.ToLower(ac.Email), DisplayName: name}
	if rotated != nil {
		resp.RotatedCredentials = &collectorv1.Credentials{Platform: &collectorv1.Credentials_Ably{Ably: rotated}}
	}
	return resp, nil
}

// Collect streams the requested streams.
func (s *Service) Collect(req *collectorv1.CollectRequest, stream collectorv1.CollectorService_CollectServer) error {
	ac, err := ablyCredentials(req.GetCredentials())
	if err != nil {
		return err
	}
	if len(req.Streams) == 0 {
		return status.Error(codes.InvalidArgument, "no streams requested")
	}
	seen := map[string]bool{}
	for _, sr := range req.Streams {
		switch sr.Name {
		case streamOrders:
		case streamProducts:
			if err := checkProductsCursor(sr.Cursor); err != nil {
				return err
			}
		default:
			return status.Errorf(codes.InvalidArgument, "stream %q is not offered by the Ably collector (offered: orders, products)", sr.Name)
		}
		if seen[sr.Name] {
			return status.Errorf(codes.InvalidArgument, "stream %q requested twice", sr.Name)
		}
		seen[sr.Name] = true
	}
	if req.TimeZone != "" {
		// The site's day filters are KST whatever the seller's zone.
		if _, err := time.LoadLocation(req.TimeZone); err != nil {
			return status.Errorf(codes.InvalidArgument, "time zone %q: %v", req.TimeZone, err)
		}
	}
	callGap := time.Second / 2
	if b := req.GetRateBudget(); b != nil {
		if b.RequestsPerSecond < 0 || b.Burst < 0 || b.MaxConcurrency < 0 {
			return status.Error(codes.InvalidArgument, "rate budget must not be negative")
		}
		if b.RequestsPerSecond > 0 {
			callGap = time.Duration(float64(time.Second) / b.RequestsPerSecond)
		}
	}
	ctx := stream.Context()
	r, err := s.open(ctx, ac, func(c *collectorv1.AblyCredentials) error {
		return stream.Send(&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_CredentialUpdate{
			CredentialUpdate: &collectorv1.CredentialUpdate{Credentials: &collectorv1.Credentials{Platform: &collectorv1.Credentials_Ably{Ably: c}}},
		}})
	})
	if err != nil {
		return err
	}
	defer r.close()
	r.stream, r.callGap = stream, callGap
	if err := r.signIn(ctx); err != nil {
		return r.fail(ctx, "sign-in", err)
	}
	for _, sr := range req.Streams {
		var err error
		if sr.Name == streamProducts {
			err = r.collectProducts(ctx)
		} else {
			err = r.collectOrders(ctx, sr)
		}
		if err != nil {
			return r.fail(ctx, sr.Name, err)
		}
	}
	r.log.Info("collect done", "lines_sent", r.done, "pages_loaded", r.tab.PagesLoaded(), "api_calls", r.tab.APICalls(), "sign_ins", r.signIns)
	return nil
}
