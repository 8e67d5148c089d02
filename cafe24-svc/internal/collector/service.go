// Package collector implements hlog.collector.v1.CollectorService for
// Cafe24: token renewal, date-windowed paging of the Admin API, and the
// stream of canonical records, checkpoints, credential updates and progress.
package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"hlog.dev/cafe24-svc/internal/cafe24api"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	"hlog.dev/proto/kit"
	"hlog.dev/proto/kit/clock"
)

// Config configures the service. Zero values take the defaults named.
type Config struct {
	API    *cafe24api.Client
	Clock  clock.Clock
	Logger *slog.Logger
	// Lookback is re-read by order date before the cursor on every run, for
	// late payments and claims (default 14 days); older orders that changed
	// are found by the claim and fulfilment date types and refund dates.
	// and status changes (default 30 days).
	Lookback time.Duration
	// DefaultBackfill is how far back a first run goes when ingest gives no
	// backfill_from (default 365 days: a year gives the first dashboard its
	// seasonality in 4 windows; Cafe24's history depth is undocumented,
	// cafe24.md §4).
	DefaultBackfill time.Duration
	// Window caps the order-date span of one search; zero means 3 calendar
	// months, the most Cafe24 allows (cafe24.md §4), which costs fewest calls.
	Window time.Duration
	// PageLimit is orders per page (default and maximum 1000).
	PageLimit int
	// MaxOffset is the deepest offset the API serves (default 15000). A
	// window holding more orders than MaxOffset+PageLimit is split.
	MaxOffset int
	// BatchSize is orders per RecordBatch (default 200).
	BatchSize int
	// ChangeDateTypes are the date types a resumed run searches for older
	// orders that changed since the last run (default DefaultChangeDateTypes).
	ChangeDateTypes []string
	// RefreshSkew renews tokens this long before they expire (default 5 minutes).
	RefreshSkew time.Duration
}

// Service is the Cafe24 collector.
type Service struct {
	collectorv1.UnimplementedCollectorServiceServer
	cfg   Config
	log   *slog.Logger
	guard *refreshGuard
}

const (
	streamOrders = "orders"
	// maxWindow stays inside Cafe24's 3-month search limit in every month.
	maxWindow = 89 * 24 * time.Hour
	minWindow = time.Minute
)

// New checks cfg and returns the service.
func New(cfg Config) (*Service, error) {
	if cfg.API == nil {
		return nil, errors.New("collector: a Cafe24 API client is required")
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
	def(&cfg.Lookback, 14*24*time.Hour)
	def(&cfg.DefaultBackfill, 365*24*time.Hour)
	def(&cfg.RefreshSkew, 5*time.Minute)
	if cfg.PageLimit == 0 {
		cfg.PageLimit = cafe24api.MaxOrdersLimit
	}
	if cfg.MaxOffset == 0 {
		cfg.MaxOffset = cafe24api.MaxOffset
	}
	if cfg.ChangeDateTypes == nil {
		cfg.ChangeDateTypes = DefaultChangeDateTypes
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 200
	}
	switch {
	case cfg.Window != 0 && (cfg.Window < minWindow || cfg.Window > maxWindow):
		return nil, fmt.Errorf("collector: window %s must be from %s to %s", cfg.Window, minWindow, maxWindow)
	case cfg.PageLimit < 1 || cfg.PageLimit > cafe24api.MaxOrdersLimit:
		return nil, fmt.Errorf("collector: page limit %d must be from 1 to %d", cfg.PageLimit, cafe24api.MaxOrdersLimit)
	case cfg.MaxOffset < 0 || cfg.MaxOffset > cafe24api.MaxOffset:
		return nil, fmt.Errorf("collector: max offset %d must be from 0 to %d", cfg.MaxOffset, cafe24api.MaxOffset)
	case cfg.Lookback < 0 || cfg.DefaultBackfill <= 0 || cfg.BatchSize < 1 || cfg.RefreshSkew < 0:
		return nil, errors.New("collector: lookback, backfill, batch size and refresh skew must be positive")
	}
	return &Service{cfg: cfg, log: cfg.Logger, guard: newRefreshGuard(cfg.Clock.Now)}, nil
}

// DefaultRateBudget is assumed when a Collect call carries none: Cafe24's
// leaky bucket, 40 calls draining 2 a second, one call at a time
// (cafe24.md §2); the pacer leaves room for the mall's other apps when
// X-Api-Call-Limit shows them.
var DefaultRateBudget = &collectorv1.RateBudget{RequestsPerSecond: 2, Burst: 40, MaxConcurrency: 1}

// Describe says this is Cafe24 and which streams it offers.
func (s *Service) Describe(context.Context, *collectorv1.DescribeRequest) (*collectorv1.DescribeResponse, error) {
	return &collectorv1.DescribeResponse{
		Platform:    commercev1.Platform_PLATFORM_CAFE24,
		DisplayName: "Cafe24",
		// Catalogue first: order lines name products and options.
		Streams: []*collectorv1.StreamInfo{{
			Name:            streamCategories,
			Description:     "The category tree with depths and parents.",
			CursorSemantics: "full refresh",
		}, {
			Name:            streamProducts,
			Description:     "Products with their variants as options (price, selling, display, stock).",
			CursorSemantics: "full refresh by since_product_no; the cursor holds where an interrupted run stopped",
		}, {
			Name:            streamCoupons,
			Description:     "Coupons, deleted ones included.",
			CursorSemantics: "full refresh",
		}, {
			Name:        streamOrders,
			Description: "Orders with their items as order lines, item claims (cancels, returns, exchanges) and their refunds.",
			CursorSemantics: fmt.Sprintf("order-date high-water mark; every run re-reads the %d days before it and searches the orders paid, shipped, delivered, confirmed or claimed since the last run, and the refunds made since, because Cafe24 has no updated-since filter",
				int(s.cfg.Lookback.Hours()/24)),
			Incremental: true,
		}},
		DefaultRateBudget: DefaultRateBudget,
		Version:           kit.Version,
	}, nil
}

var mallIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

func cafe24Credentials(c *collectorv1.Credentials) (*collectorv1.Cafe24Credentials, error) {
	cc := c.GetCafe24()
	switch {
	case cc == nil:
		return nil, status.Error(codes.InvalidArgument, "credentials must be Cafe24 credentials")
	case !mallIDPattern.MatchString(cc.MallId):
		return nil, status.Errorf(codes.InvalidArgument, "Cafe24 mall id %q must be lower-case letters, digits and dashes", cc.MallId)
	case cc.ClientId == "" || cc.ClientSecret == "":
		return nil, status.Error(codes.InvalidArgument, "Cafe24 credentials need the app's client id and secret")
	case cc.AccessToken == "" && cc.RefreshToken == "" && cc.AuthorizationCode == "":
		return nil, status.Error(codes.InvalidArgument, "Cafe24 credentials need a token pair or an authorization code")
	case cc.AuthorizationCode != "" && cc.RedirectUri == "":
		return nil, status.Error(codes.InvalidArgument, "a Cafe24 authorization code needs the redirect_uri it was issued for")
	}
	return cc, nil
}

// CheckCredentials proves the credentials with one cheap call: today's order
// count. It renews the tokens first when they have expired and then returns
// the new pair, which the caller must store.
func (s *Service) CheckCredentials(ctx context.Context, req *collectorv1.CheckCredentialsRequest) (*collectorv1.CheckCredentialsResponse, error) {
	cc, err := cafe24Credentials(req.GetCredentials())
	if err != nil {
		return nil, err
	}
	mall, err := s.cfg.API.Mall(cc.MallId, cafe24api.DefaultBudget, nil)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	sess := newSession(mall, cc, s.cfg.Clock, s.cfg.RefreshSkew, s.log, s.guard, nil)
	if cc.AccessToken == "" && cc.RefreshToken == "" {
		// The seller has just come back from Cafe24's consent screen: the
		// code lives one minute and is single use (cafe24.md §1).
		if err := sess.exchange(ctx); err != nil {
			return nil, err
		}
	}
	now := s.cfg.Clock.Now().In(cafe24api.KST)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, cafe24api.KST)
	err = sess.call(ctx, func(tok string) error {
		_, err := mall.CountOrders(ctx, tok, cafe24api.Search{Start: today, End: now.Truncate(time.Second), DateType: "order_date"})
		return err
	})
	if err != nil {
		st := status.Convert(toStatus(err))
		switch st.Code() {
		case codes.Unauthenticated, codes.FailedPrecondition:
			// Connecting an account: whatever the reason, these credentials
			// do not work.
			return nil, status.Error(codes.Unauthenticated, "Cafe24 did not accept these credentials: "+st.Message())
		}
		return nil, st.Err()
	}
	resp := &collectorv1.CheckCredentialsResponse{ExternalAccountId: cc.MallId, DisplayName: cc.MallId}
	if sess.rotated {
		resp.RotatedCredentials = &collectorv1.Credentials{Platform: &collectorv1.Credentials_Cafe24{Cafe24: sess.creds}}
	}
	return resp, nil
}

// streamCollectors are the streams offered, by name.
var streamCollectors = map[string]func(*run, context.Context, *collectorv1.StreamRequest) error{
	streamOrders:     (*run).collectOrders,
	streamProducts:   (*run).collectProducts,
	streamCategories: (*run).collectCategories,
	streamCoupons:    (*run).collectCoupons,
}

// Collect streams the requested streams, in the order asked.
func (s *Service) Collect(req *collectorv1.CollectRequest, stream collectorv1.CollectorService_CollectServer) error {
	cc, err := cafe24Credentials(req.GetCredentials())
	if err != nil {
		return err
	}
	if len(req.Streams) == 0 {
		return status.Error(codes.InvalidArgument, "no streams requested")
	}
	seen := map[string]bool{}
	for _, sr := range req.Streams {
		if _, ok := streamCollectors[sr.Name]; !ok {
			return status.Errorf(codes.InvalidArgument, "stream %q is not offered by the Cafe24 collector (offered: orders, products, categories, coupons)", sr.Name)
		}
		if seen[sr.Name] {
			return status.Errorf(codes.InvalidArgument, "stream %q requested twice", sr.Name)
		}
		seen[sr.Name] = true
	}
	if req.TimeZone != "" {
		// Cafe24's dates are KST whatever the seller's zone; the zone is
		// only checked, since ingest sends it to every collector.
		if _, err := time.LoadLocation(req.TimeZone); err != nil {
			return status.Errorf(codes.InvalidArgument, "time zone %q: %v", req.TimeZone, err)
		}
	}
	budget := cafe24api.DefaultBudget
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
	ctx := stream.Context()
	r := &run{svc: s, stream: stream, log: s.log.With("mall", cc.MallId)}
	mall, err := s.cfg.API.Mall(cc.MallId, budget, r.rateLimitWait)
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	r.mall = mall
	r.sess = newSession(mall, cc, s.cfg.Clock, s.cfg.RefreshSkew, r.log, s.guard, func(c *collectorv1.Cafe24Credentials) error {
		return stream.Send(&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_CredentialUpdate{
			CredentialUpdate: &collectorv1.CredentialUpdate{Credentials: &collectorv1.Credentials{Platform: &collectorv1.Credentials_Cafe24{Cafe24: c}}},
		}})
	})
	for _, sr := range req.Streams {
		if err := streamCollectors[sr.Name](r, ctx, sr); err != nil {
			r.log.Warn("collect ended early", "stream", sr.Name, "err", err.Error(), "orders_sent", r.done)
			return toStatus(err)
		}
	}
	return nil
}
