// Package collector implements hlog.collector.v1.CollectorService for Naver
// Smartstore: signed tokens, a first run's order-date backfill through the
// conditional search, incremental runs through last-changed-statuses with
// details in batches of 300, and the catalogue streams.
package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	"hlog.dev/proto/kit"
	"hlog.dev/proto/kit/clock"
	"hlog.dev/smartstore-svc/internal/naverapi"
)

// Config configures the service. Zero values take the defaults named.
type Config struct {
	API *naverapi.Client
	// Clock is the platform's time as the collector knows it: windows end
	// at it, token signatures carry it (default the wall clock). Pacing and
	// backoff run on the API client's own clock.
	Clock  clock.Clock
	Logger *slog.Logger
	// DefaultBackfill is how far back a first run goes when ingest gives no
	// backfill_from (default 90 days; Naver's lookback limit is
	// undocumented, smartstore.md §6, and each day costs at least one call).
	DefaultBackfill time.Duration
	// SafetyMargin keeps windows this far behind now, for changes still
	// being written on Naver's side (default 10 seconds, smartstore.md §6).
	// Negative means none.
	SafetyMargin time.Duration
	// DeliveryLookback: delivery completion is a status but not a
	// lastChangedType (smartstore.md §3), so incremental runs re-read the
	// product orders dispatched this long before the cursor that are now
	// DELIVERED (default 10 days).
	DeliveryLookback time.Duration
	// BatchSize is order lines per RecordBatch (default 300).
	BatchSize int
}

// Service is the Smartstore collector.
type Service struct {
	collectorv1.UnimplementedCollectorServiceServer
	cfg Config
	log *slog.Logger
}

const (
	streamOrders     = "orders"
	streamProducts   = "products"
	streamCategories = "categories"
)

// New checks cfg and returns the service.
func New(cfg Config) (*Service, error) {
	if cfg.API == nil {
		return nil, errors.New("collector: a Commerce API client is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.DefaultBackfill == 0 {
		cfg.DefaultBackfill = 90 * 24 * time.Hour
	}
	switch {
	case cfg.SafetyMargin == 0:
		cfg.SafetyMargin = 10 * time.Second
	case cfg.SafetyMargin < 0:
		cfg.SafetyMargin = 0
	}
	if cfg.DeliveryLookback == 0 {
		cfg.DeliveryLookback = 10 * 24 * time.Hour
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 300
	}
	if cfg.DefaultBackfill < 0 || cfg.DeliveryLookback < 0 || cfg.BatchSize < 1 {
		return nil, errors.New("collector: backfill, delivery lookback and batch size must be positive")
	}
	return &Service{cfg: cfg, log: cfg.Logger}, nil
}

// DefaultRateBudget is assumed when a Collect call carries none: the
// gateway's usual bucket, one call at a time (smartstore.md §2).
var DefaultRateBudget = &collectorv1.RateBudget{RequestsPerSecond: 2, Burst: 4, MaxConcurrency: 1}

// Describe says this is Smartstore and which streams it offers.
func (s *Service) Describe(context.Context, *collectorv1.DescribeRequest) (*collectorv1.DescribeResponse, error) {
	return &collectorv1.DescribeResponse{
		Platform:    commercev1.Platform_PLATFORM_SMARTSTORE,
		DisplayName: "Naver Smartstore",
		Streams: []*collectorv1.StreamInfo{
			{
				Name:        streamOrders,
				Description: "Orders with their product orders as lines, cancel/return/exchange claims with partial quantities.",
				CursorSemantics: fmt.Sprintf("last-changed-statuses high-water mark; a first run backfills by order date day by day (resumable); later runs walk 24-hour windows of changes and re-read the %d days of dispatches before the mark for deliveries",
					int(s.cfg.DeliveryLookback.Hours()/24)),
				Incremental: true,
			},
			{Name: streamProducts, Description: "Origin products as their channel products show them, with option combinations.", CursorSemantics: "full refresh; the cursor records when", Incremental: false},
			{Name: streamCategories, Description: "The category tree.", CursorSemantics: "full refresh; the cursor records when", Incremental: false},
		},
		DefaultRateBudget: DefaultRateBudget,
		Version:           kit.Version,
	}, nil
}

func smartstoreCredentials(c *collectorv1.Credentials) (naverapi.Credentials, error) {
	sc := c.GetSmartstore()
	switch {
	case sc == nil:
		return naverapi.Credentials{}, status.Error(codes.InvalidArgument, "credentials must be Smartstore credentials")
	case sc.ClientId == "" || len(sc.ClientId) > 64:
		return naverapi.Credentials{}, status.Error(codes.InvalidArgument, "Smartstore credentials need the application's client id")
	case !naverapi.ValidSecret(sc.ClientSecret):
		return naverapi.Credentials{}, status.Error(codes.InvalidArgument, `the Smartstore client secret must look like "$2a$04$" followed by 22 characters, as the Naver Commerce API Center shows it`)
	case len(sc.AccountId) > 64:
		return naverapi.Credentials{}, status.Error(codes.InvalidArgument, "Smartstore account id is too long")
	}
	return naverapi.Credentials{ClientID: sc.ClientId, ClientSecret: sc.ClientSecret, AccountID: sc.AccountId}, nil
}

// CheckCredentials proves the credentials: a token, then one hour of
// last-changed statuses, which needs the order API group.
func (s *Service) CheckCredentials(ctx context.Context, req *collectorv1.CheckCredentialsRequest) (*collectorv1.CheckCredentialsResponse, error) {
	creds, err := smartstoreCredentials(req.GetCredentials())
	if err != nil {
		return nil, err
	}
	sess := s.cfg.API.Session(creds, s.cfg.Clock.Now, naverapi.DefaultBudget, nil)
	to := s.cfg.Clock.Now().Add(-s.cfg.SafetyMargin)
	if _, err := sess.LastChanged(ctx, to.Add(-time.Hour), to, nil); err != nil {
		return nil, toStatus(err)
	}
	id := creds.AccountID
	if id == "" {
		id = creds.ClientID
	}
	return &collectorv1.CheckCredentialsResponse{ExternalAccountId: id, DisplayName: "Smartstore " + id}, nil
}

// Collect streams the requested streams, orders first.
func (s *Service) Collect(req *collectorv1.CollectRequest, stream collectorv1.CollectorService_CollectServer) error {
	creds, err := smartstoreCredentials(req.GetCredentials())
	if err != nil {
		return err
	}
	if len(req.Streams) == 0 {
		return status.Error(codes.InvalidArgument, "no streams requested")
	}
	seen := map[string]bool{}
	for _, sr := range req.Streams {
		switch sr.Name {
		case streamOrders, streamProducts, streamCategories:
		default:
			return status.Errorf(codes.InvalidArgument, "stream %q is not offered by the Smartstore collector (offered: orders, products, categories)", sr.Name)
		}
		if seen[sr.Name] {
			return status.Errorf(codes.InvalidArgument, "stream %q requested twice", sr.Name)
		}
		seen[sr.Name] = true
	}
	if req.TimeZone != "" {
		// Naver's dates carry their offset; the zone is only checked.
		if _, err := time.LoadLocation(req.TimeZone); err != nil {
			return status.Errorf(codes.InvalidArgument, "time zone %q: %v", req.TimeZone, err)
		}
	}
	budget := naverapi.DefaultBudget
	if b := req.GetRateBudget(); b != nil {
		if b.RequestsPerSecond < 0 || b.Burst < 0 || b.MaxConcurrency < 0 {
			return status.Error(codes.InvalidArgument, "rate budget must not be negative")
		}
		if b.RequestsPerSecond > 0 {
			budget.RequestsPerSecond = b.RequestsPerSecond
		}
		if b.Burst > 0 {
			budget.Burst = int(b.Burst)
		}
	}
	r := &run{svc: s, stream: stream, log: s.log.With("client_id", creds.ClientID, "account_id", creds.AccountID)}
	r.sess = s.cfg.API.Session(creds, s.cfg.Clock.Now, budget, r.rateLimitWait)
	ctx := stream.Context()
	// Orders first: they are what the dashboard needs soonest.
	for _, name := range []string{streamOrders, streamCategories, streamProducts} {
		for _, sr := range req.Streams {
			if sr.Name != name {
				continue
			}
			var err error
			switch name {
			case streamOrders:
				err = r.collectOrders(ctx, sr)
			case streamCategories:
				err = r.collectCategories(ctx)
			case streamProducts:
				err = r.collectProducts(ctx)
			}
			if err != nil {
				r.log.Warn("collect ended early", "stream", name, "err", err.Error(), "records_sent", r.done)
				return toStatus(err)
			}
		}
	}
	return nil
}

// run is one Collect call.
type run struct {
	svc     *Service
	stream  collectorv1.CollectorService_CollectServer
	sess    *naverapi.Session
	log     *slog.Logger
	done    int64
	current string
}

func (r *run) send(m *collectorv1.CollectResponse) error {
	if err := r.stream.Send(m); err != nil {
		return fmt.Errorf("sending to ingest: %w", err)
	}
	return nil
}

func (r *run) checkpoint(name string, cursor []byte) error {
	return r.send(&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_Checkpoint{Checkpoint: &collectorv1.Checkpoint{Stream: name, Cursor: cursor}}})
}

func (r *run) progress(name, msg string, wait time.Duration) error {
	p := &collectorv1.Progress{Stream: name, RecordsDone: r.done, Message: msg, ObservedAt: timestamppb.New(r.svc.cfg.Clock.Now())}
	if wait > 0 {
		p.RateLimitWait = durationpb.New(wait)
	}
	return r.send(&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_Progress{Progress: p}})
}

// rateLimitWait reports waits long enough to matter to someone watching: a
// backoff after a 429, not the half second between paced calls.
func (r *run) rateLimitWait(d time.Duration) {
	if d < time.Second {
		return
	}
	if err := r.progress(r.current, fmt.Sprintf("waiting %s for the Naver rate limit", d.Round(100*time.Millisecond)), d); err != nil {
		r.log.Debug("progress not sent", "err", err.Error())
	}
}
