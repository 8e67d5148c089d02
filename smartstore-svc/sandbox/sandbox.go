// Package sandbox is a local imitation of the Naver Commerce API (the
// Smartstore seller API) for the sellers it is configured with. Each seller is
// a synthetic store (hlog.dev/proto/synth) with Naver's id formats, served as
// it stands at the sandbox clock, with the paths, parameters, limits, token
// rules, rate-limit headers and error bodies that docs/platforms/smartstore.md
// describes. A sandbox-only control API under /_sandbox/ moves the clock and
// switches faults on.
//
// Paths are the real ones below the base https://api.commerce.naver.com/external,
// so http://127.0.0.1:7102/external/v1/oauth2/token stands for
// https://api.commerce.naver.com/external/v1/oauth2/token.
package sandbox

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"hlog.dev/proto/kit/clock"
	"hlog.dev/proto/synth"
	"hlog.dev/smartstore-svc/naverids"
)

const (
	// TokenTTL is an access token's life (smartstore.md §1: 3 hours).
	TokenTTL = 3 * time.Hour
	// TokenReuseMin: a token with at least this much life left is returned
	// again instead of a new one (smartstore.md §1).
	TokenReuseMin = 30 * time.Minute
	// SignatureValidity is how old a signed timestamp may be (smartstore.md §1).
	SignatureValidity = 5 * time.Minute
	// DefaultRate and DefaultBurst are the token bucket per application per
	// API (smartstore.md §2: about 2 rps; burst is twice the rate).
	DefaultRate  = 2.0
	DefaultBurst = 4
	// BasePath is the gateway prefix of every platform path.
	BasePath = "/external"
)

// Config configures a sandbox.
type Config struct {
	Sellers []SellerConfig
	// Clock is the sandbox clock's reading at start; zero means TimeSource().
	Clock time.Time
	// ClockRunning makes the sandbox clock advance with TimeSource.
	ClockRunning bool
	// TimeSource is real elapsed time: it refills the rate-limit buckets and
	// runs a running clock. Nil means time.Now. Tests inject a fake.
	TimeSource func() time.Time
	// Each seller's store spans [clock-HistoryDays, clock+FutureDays]; zero
	// means 120 and 60 days.
	HistoryDays, FutureDays int
	// The registered application. Its secret is a bcrypt salt, "$2a$04$" and
	// 22 characters (smartstore.md §1).
	ClientID, ClientSecret string
	// Rate is the bucket's refill per second and Burst its capacity, per
	// application per API; zero means DefaultRate and DefaultBurst.
	Rate  float64
	Burst int
	// TokenTTL is the token life on the sandbox clock; zero means TokenTTL.
	TokenTTL time.Duration
	Logger   *slog.Logger
}

// Sandbox is the Commerce API imitation. It is an http.Handler.
type Sandbox struct {
	cfg     Config
	now     func() time.Time // real time
	clock   *clock.Sandbox
	sellers map[string]*seller
	order   []string // seller ids in configuration order; the first is the app's own (SELF)
	tokens  *tokenStore
	buckets *buckets
	faults  *faults
	control http.Handler
	log     *slog.Logger
	traceN  atomic.Int64
}

var (
	sellerIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	// A client secret is a bcrypt salt: version, cost, 22 characters of
	// bcrypt's base64 alphabet (smartstore.md §1).
	secretPattern = regexp.MustCompile(`^\$2[aby]?\$\d\d\$[./A-Za-z0-9]{22}$`)
)

// New generates every seller's store and returns the sandbox.
func New(cfg Config) (*Sandbox, error) {
	if len(cfg.Sellers) == 0 {
		return nil, errors.New("sandbox: at least one seller is required")
	}
	if cfg.ClientID == "" || !secretPattern.MatchString(cfg.ClientSecret) {
		return nil, errors.New(`sandbox: the application's client id and a bcrypt-salt client secret ("$2a$04$" and 22 characters) are required`)
	}
	if cfg.TimeSource == nil {
		cfg.TimeSource = time.Now
	}
	if cfg.Clock.IsZero() {
		cfg.Clock = cfg.TimeSource()
	}
	if cfg.HistoryDays == 0 {
		cfg.HistoryDays = 120
	}
	if cfg.FutureDays == 0 {
		cfg.FutureDays = 60
	}
	if cfg.HistoryDays < 0 || cfg.FutureDays < 0 {
		return nil, errors.New("sandbox: history and future days must not be negative")
	}
	if cfg.Rate == 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.Burst == 0 {
		cfg.Burst = DefaultBurst
	}
	if cfg.Rate < 0 || cfg.Burst < 1 {
		return nil, errors.New("sandbox: rate must be positive and burst at least 1")
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = TokenTTL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sandbox{
		cfg:     cfg,
		now:     cfg.TimeSource,
		clock:   clock.NewSandbox(cfg.Clock, cfg.ClockRunning, cfg.TimeSource),
		sellers: map[string]*seller{},
		tokens:  newTokenStore(),
		buckets: newBuckets(cfg.Rate, cfg.Burst, cfg.TimeSource),
		faults:  &faults{},
		log:     cfg.Logger,
	}
	for _, sc := range cfg.Sellers {
		if !sellerIDPattern.MatchString(sc.ID) {
			return nil, fmt.Errorf("sandbox: seller id %q: want lower-case letters, digits, dashes and underscores", sc.ID)
		}
		if _, dup := s.sellers[sc.ID]; dup {
			return nil, fmt.Errorf("sandbox: seller %q configured twice", sc.ID)
		}
		store, err := synth.Generate(s.SynthConfig(sc))
		if err != nil {
			return nil, fmt.Errorf("sandbox: generating seller %s: %w", sc.ID, err)
		}
		s.sellers[sc.ID] = newSeller(sc, store)
		s.order = append(s.order, sc.ID)
	}
	s.control = s.controlRoutes()
	return s, nil
}

// SynthConfig is the synthetic-store configuration a seller is generated
// from. Tests generate their ground truth from the same configuration.
func (s *Sandbox) SynthConfig(sc SellerConfig) synth.Config {
	return synth.Config{
		Seed:         sc.Seed,
		Start:        s.cfg.Clock.Add(-time.Duration(s.cfg.HistoryDays) * 24 * time.Hour),
		End:          s.cfg.Clock.Add(time.Duration(s.cfg.FutureDays) * 24 * time.Hour),
		Location:     kst,
		Currency:     "KRW",
		Products:     sc.Products,
		OrdersPerDay: sc.OrdersPerDay,
		IDs:          naverids.Format{},
	}
}

// Now is the sandbox clock.
func (s *Sandbox) Now() time.Time { return s.clock.Now() }

// SetClock sets the sandbox clock.
func (s *Sandbox) SetClock(t time.Time) { s.clock.Set(t) }

// Advance moves the sandbox clock by d.
func (s *Sandbox) Advance(d time.Duration) { s.clock.Advance(d) }

// Sellers lists the configured seller (account) ids; the first is the
// application's own store, reached with type=SELF.
func (s *Sandbox) Sellers() []string { return append([]string(nil), s.order...) }

// Store is a seller's complete synthetic store.
func (s *Sandbox) Store(sellerID string) (*synth.Store, bool) {
	sl, ok := s.sellers[sellerID]
	if !ok {
		return nil, false
	}
	return sl.store, true
}

// Truth is what the seller's store shows at the sandbox clock: the ground
// truth a collector must reproduce.
func (s *Sandbox) Truth(sellerID string) (*synth.Store, bool) {
	sl, ok := s.sellers[sellerID]
	if !ok {
		return nil, false
	}
	return sl.store.AsOf(s.Now()), true
}

// ServeHTTP routes control calls and platform calls. Every platform response
// carries GNCP-GW-Trace-ID (smartstore.md §2).
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sandbox/") {
		s.control.ServeHTTP(w, r)
		return
	}
	start := s.now()
	trace := fmt.Sprintf("sbx-%06d-hlog^%d^%d", s.traceN.Add(1), s.Now().UnixMilli(), s.traceN.Load())
	w.Header().Set("GNCP-GW-Trace-ID", trace)
	rw := &gatewayWriter{ResponseWriter: w, status: http.StatusOK, start: start, now: s.now}
	defer func() {
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rw.status)
	}()
	c := &call{s: s, w: rw, r: r, trace: trace}
	path, ok := strings.CutPrefix(r.URL.Path, BasePath)
	if !ok {
		c.gatewayError(http.StatusNotFound, "GW.NOT_FOUND", "No matching route.")
		return
	}
	s.route(c, path)
}

// gatewayWriter stamps GNCP-GW-HttpClient-ResponseTime before the header goes out.
type gatewayWriter struct {
	http.ResponseWriter
	status int
	start  time.Time
	now    func() time.Time
}

func (g *gatewayWriter) WriteHeader(code int) {
	g.status = code
	g.Header().Set("GNCP-GW-HttpClient-ResponseTime", fmt.Sprintf("%dms", g.now().Sub(g.start).Milliseconds()))
	g.ResponseWriter.WriteHeader(code)
}

// route dispatches a platform path. The token endpoint has its own checks;
// every other API goes through the gateway: IP allow-list, rate limit,
// injected faults, then the bearer token.
func (s *Sandbox) route(c *call, path string) {
	if path == "/v1/oauth2/token" {
		if c.r.Method != http.MethodPost {
			c.gatewayError(http.StatusMethodNotAllowed, "GW.NOT_FOUND", "Method not allowed.")
			return
		}
		if s.faults.ipBlocked() {
			c.gatewayError(http.StatusForbidden, "GW.IP_NOT_ALLOWED", "허용되지 않은 IP입니다. (IP not allowed)")
			return
		}
		s.token(c)
		return
	}
	type route struct {
		method, api string
		handle      func(*call, *seller)
	}
	var rt route
	switch {
	case path == "/v1/pay-order/seller/product-orders/last-changed-statuses":
		rt = route{http.MethodGet, "last-changed-statuses", s.lastChanged}
	case path == "/v1/pay-order/seller/product-orders":
		rt = route{http.MethodGet, "product-orders", s.searchProductOrders}
	case path == "/v1/pay-order/seller/product-orders/query":
		rt = route{http.MethodPost, "product-orders-query", s.queryProductOrders}
	case strings.HasPrefix(path, "/v1/pay-order/seller/orders/") && strings.HasSuffix(path, "/product-order-ids"):
		rt = route{http.MethodGet, "order-product-order-ids", s.productOrderIDs}
	case path == "/v1/products/search":
		rt = route{http.MethodPost, "products-search", s.searchProducts}
	case path == "/v1/categories":
		rt = route{http.MethodGet, "categories", s.categories}
	case strings.HasPrefix(path, "/v2/products/origin-products/"):
		rt = route{http.MethodGet, "origin-product", s.originProduct}
	default:
		c.gatewayError(http.StatusNotFound, "GW.NOT_FOUND", "No matching route.")
		return
	}
	if c.r.Method != rt.method {
		c.gatewayError(http.StatusNotFound, "GW.NOT_FOUND", "No matching route.")
		return
	}
	if s.faults.ipBlocked() {
		c.gatewayError(http.StatusForbidden, "GW.IP_NOT_ALLOWED", "허용되지 않은 IP입니다. (IP not allowed)")
		return
	}
	if !s.buckets.take(s.cfg.ClientID, rt.api, c.w.Header()) {
		c.gatewayError(http.StatusTooManyRequests, "GW.RATE_LIMIT", "요청이 많아 서비스를 일시적으로 사용할 수 없습니다. (rate limit exceeded)")
		return
	}
	if s.faults.inject(c, s.tokens) {
		return
	}
	grant, ok := s.tokens.lookup(bearer(c.r), s.Now())
	if !ok {
		c.gatewayError(http.StatusUnauthorized, "GW.AUTHN", "인증에 실패했습니다. (authentication failed)")
		return
	}
	sl, ok := s.sellers[grant.seller]
	if !ok {
		c.gatewayError(http.StatusUnauthorized, "GW.AUTHN", "인증에 실패했습니다. (authentication failed)")
		return
	}
	rt.handle(c, sl)
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}
