// Package sandbox is a local imitation of the Cafe24 Admin API for the malls
// it is configured with. Each mall is a synthetic store (hlog.dev/proto/synth)
// with Cafe24's id formats, served as it stands at the sandbox clock, with the
// paths, parameters, limits, token lifetimes, rate limiting and error bodies
// that docs/platforms/cafe24.md describes. A sandbox-only control API under
// /_sandbox/ moves the clock, mints tokens and injects faults.
//
// Malls are chosen like the real API chooses them: by the host
// {mall_id}.cafe24api.com (or {mall_id}.localhost), or, on loopback, by the
// path prefix /malls/{mall_id}, so that
// http://127.0.0.1:7101/malls/demo/api/v2/admin/orders stands for
// https://demo.cafe24api.com/api/v2/admin/orders.
package sandbox

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"hlog.dev/cafe24-svc/cafe24ids"
	"hlog.dev/proto/kit/clock"
	"hlog.dev/proto/synth"
)

// API versions the sandbox serves (cafe24.md §1: about quarterly; these were
// seen). A request without X-Cafe24-Api-Version gets DefaultAPIVersion.
var APIVersions = []string{"2025-12-01", "2026-03-01", "2026-09-01"}

const (
	// DefaultAPIVersion stands for the app's developer-center version.
	DefaultAPIVersion = "2025-12-01"
	// AccessTokenTTL and RefreshTokenTTL are Cafe24's token lifetimes (cafe24.md §1).
	AccessTokenTTL  = 2 * time.Hour
	RefreshTokenTTL = 14 * 24 * time.Hour
)

// AppScopes are the scopes the registered app asks for (cafe24.md §1).
var AppScopes = []string{"mall.read_order", "mall.read_product", "mall.read_category", "mall.read_promotion"}

// Config configures a sandbox.
type Config struct {
	Malls []MallConfig
	// Clock is the sandbox clock's reading at start; zero means TimeSource().
	Clock time.Time
	// ClockRunning makes the sandbox clock advance with TimeSource; otherwise
	// it moves only through SetClock/Advance (or /_sandbox/clock).
	ClockRunning bool
	// TimeSource is real elapsed time: it drains the rate-limit buckets and
	// runs a running clock. Nil means time.Now. Tests inject a fake.
	TimeSource func() time.Time
	// Each mall's store spans [clock-HistoryDays, clock+FutureDays]; zero
	// means 120 and 60 days.
	HistoryDays, FutureDays int
	// The registered app: /_sandbox/ mints tokens and codes for it. Its
	// RedirectURIs are where the authorize page may send codes; none means
	// any loopback URI. More apps: RegisterApp or PUT /_sandbox/apps/{id}.
	ClientID, ClientSecret string
	RedirectURIs           []string
	// Token lifetimes on the sandbox clock; zero means Cafe24's own
	// (AccessTokenTTL, RefreshTokenTTL).
	AccessTokenTTL, RefreshTokenTTL time.Duration
	Logger                          *slog.Logger
	// StateFile keeps issued tokens across restarts, as a real mall does;
	// empty keeps them in memory only.
	StateFile string
}

// Sandbox is the Cafe24 imitation. It is an http.Handler.
type Sandbox struct {
	cfg      Config
	now      func() time.Time // real time
	clock    *clock.Sandbox
	malls    map[string]*mall
	order    []string // mall ids in configuration order
	tokens   *tokenStore
	apps     appRegistry
	versions versions
	control  http.Handler
	log      *slog.Logger
}

var mallIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// New generates every mall's store and returns the sandbox.
func New(cfg Config) (*Sandbox, error) {
	if len(cfg.Malls) == 0 {
		return nil, errors.New("sandbox: at least one mall is required")
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("sandbox: the app's client id and secret are required")
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
	if cfg.AccessTokenTTL == 0 {
		cfg.AccessTokenTTL = AccessTokenTTL
	}
	if cfg.RefreshTokenTTL == 0 {
		cfg.RefreshTokenTTL = RefreshTokenTTL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sandbox{
		cfg:   cfg,
		now:   cfg.TimeSource,
		clock: clock.NewSandbox(cfg.Clock, cfg.ClockRunning, cfg.TimeSource),
		malls: map[string]*mall{},
		log:   cfg.Logger,
	}
	if err := s.RegisterApp(cfg.ClientID, cfg.ClientSecret, cfg.RedirectURIs); err != nil {
		return nil, err
	}
	s.versions.available = slices.Clone(APIVersions)
	s.tokens = newTokenStore()
	s.tokens.log = s.log.Warn
	if cfg.StateFile != "" {
		if err := s.tokens.load(cfg.StateFile); err != nil {
			return nil, fmt.Errorf("sandbox: %w", err)
		}
	}
	for _, mc := range cfg.Malls {
		if !mallIDPattern.MatchString(mc.ID) {
			return nil, fmt.Errorf("sandbox: mall id %q: want lower-case letters, digits and dashes", mc.ID)
		}
		if _, dup := s.malls[mc.ID]; dup {
			return nil, fmt.Errorf("sandbox: mall %q configured twice", mc.ID)
		}
		store, err := synth.Generate(s.SynthConfig(mc))
		if err != nil {
			return nil, fmt.Errorf("sandbox: generating mall %s: %w", mc.ID, err)
		}
		s.malls[mc.ID] = newMall(mc, store, cfg.TimeSource)
		s.order = append(s.order, mc.ID)
	}
	s.control = s.controlRoutes()
	return s, nil
}

// SynthConfig is the synthetic-store configuration the sandbox generates a
// mall from. Tests generate their ground truth from the same configuration.
func (s *Sandbox) SynthConfig(mc MallConfig) synth.Config {
	start := s.cfg.Clock.Add(-time.Duration(s.cfg.HistoryDays) * 24 * time.Hour)
	end := s.cfg.Clock.Add(time.Duration(s.cfg.FutureDays) * 24 * time.Hour)
	return synth.Config{
		Seed:         mc.Seed,
		Start:        start,
		End:          end,
		Location:     kst,
		Currency:     "KRW",
		Products:     mc.Products,
		OrdersPerDay: mc.OrdersPerDay,
		IDs:          cafe24ids.Format{},
	}
}

// Now is the sandbox clock.
func (s *Sandbox) Now() time.Time { return s.clock.Now() }

// SetClock sets the sandbox clock.
func (s *Sandbox) SetClock(t time.Time) { s.clock.Set(t) }

// Advance moves the sandbox clock by d.
func (s *Sandbox) Advance(d time.Duration) { s.clock.Advance(d) }

// Malls lists the configured mall ids.
func (s *Sandbox) Malls() []string { return append([]string(nil), s.order...) }

// Store is a mall's complete synthetic store (its whole history and future).
func (s *Sandbox) Store(mallID string) (*synth.Store, bool) {
	m, ok := s.malls[mallID]
	if !ok {
		return nil, false
	}
	return m.store, true
}

// Truth is what the mall shows at the sandbox clock: the ground truth a
// collector must reproduce.
func (s *Sandbox) Truth(mallID string) (*synth.Store, bool) {
	m, ok := s.malls[mallID]
	if !ok {
		return nil, false
	}
	return m.store.AsOf(s.Now()), true
}

// Prepare renders what the mall shows at the sandbox clock, which the first
// call after the clock moves would otherwise do: benchmarks time the
// platform's limits, not the sandbox's own indexing.
func (s *Sandbox) Prepare(mallID string) {
	if m, ok := s.malls[mallID]; ok {
		m.viewAt(s.Now())
	}
}

// ServeHTTP routes control calls and platform calls.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	start := s.now()
	defer func() {
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "elapsed", s.now().Sub(start).String())
	}()
	if strings.HasPrefix(r.URL.Path, "/_sandbox/") {
		s.control.ServeHTTP(rec, r)
		return
	}
	mallID, path := mallOf(r)
	m, ok := s.malls[mallID]
	if !ok || !strings.HasPrefix(path, "/api/v2/") {
		writeError(rec, http.StatusNotFound, "No API found with those values.")
		return
	}
	s.platform(rec, r, m, path)
}

// mallOf picks the mall from the loopback path prefix or the Host header.
// It returns the mall id and the platform path below the mall.
func mallOf(r *http.Request) (string, string) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/malls/"); ok {
		id, path, _ := strings.Cut(rest, "/")
		return id, "/" + path
	}
	host := r.Host
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	host = strings.ToLower(host)
	for _, suffix := range []string{".cafe24api.com", ".localhost"} {
		if id, ok := strings.CutSuffix(host, suffix); ok && !strings.Contains(id, ".") {
			return id, r.URL.Path
		}
	}
	return "", r.URL.Path
}

func (s *Sandbox) platform(w http.ResponseWriter, r *http.Request, m *mall, path string) {
	switch path {
	case "/api/v2/oauth/authorize":
		s.authorize(w, r, m)
		return
	case "/api/v2/oauth/token":
		if r.Method != http.MethodPost {
			writeError(w, http.StatusMethodNotAllowed, "Method not allowed.")
			return
		}
		s.token(w, r, m)
		return
	case "/api/v2/oauth/revoke":
		if r.Method != http.MethodPost {
			writeError(w, http.StatusMethodNotAllowed, "Method not allowed.")
			return
		}
		s.revoke(w, r, m)
		return
	}
	if !strings.HasPrefix(path, "/api/v2/admin/") {
		writeError(w, http.StatusNotFound, "No API found with those values.")
		return
	}
	s.admin(w, r, m, path)
}

// admin runs the checks every Admin API call goes through, in the order the
// platform applies them: version, rate limit, usage quota, token, scope.
// Injected faults strike first: their state changes and delays happen before
// the checks, their error statuses after the rate limit.
func (s *Sandbox) admin(w http.ResponseWriter, r *http.Request, m *mall, path string) {
	f := m.faults.take()
	if f != nil && !s.applyFault(r.Context(), m, f) {
		return
	}
	if v := r.Header.Get("X-Cafe24-Api-Version"); v != "" && !s.versions.has(v) {
		// cafe24.md §1: an unavailable version gets 400 with this message.
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%s version you requested is not available. The default value for the app version is %s.", v, s.defaultVersion()))
		return
	}
	used, ok := m.bucket.take()
	w.Header().Set("X-Api-Call-Limit", fmt.Sprintf("%d/%d", used, bucketCapacity))
	if !ok {
		writeError(w, http.StatusTooManyRequests, "Too Many Requests. The API call limit has been exceeded.")
		return
	}
	callPct, timePct, remain := m.quota.admit()
	setUsageHeaders(w.Header(), callPct, timePct, remain)
	if remain > 0 {
		writeError(w, http.StatusTooManyRequests, "Too Many Requests. The API usage quota has been exceeded.")
		return
	}
	began := s.now()
	defer func() { m.quota.took(s.now().Sub(began)) }()
	if f != nil && f.Status != 0 {
		writeError(w, f.Status, faultMessage(f.Status))
		return
	}
	tok, err := s.tokens.accessFor(bearer(r), m.cfg.ID, s.Now())
	if err != nil {
		writeError(w, http.StatusUnauthorized, err.Error())
		return
	}
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "Method not allowed.")
		return
	}
	var scope string
	var handle func(http.ResponseWriter, *http.Request, *view)
	switch path {
	case "/api/v2/admin/orders":
		scope, handle = "mall.read_order", s.listOrders
	case "/api/v2/admin/orders/count":
		scope, handle = "mall.read_order", s.countOrders
	case "/api/v2/admin/refunds":
		scope, handle = "mall.read_order", s.listRefunds
	case "/api/v2/admin/products":
		scope, handle = "mall.read_product", s.listProducts
	case "/api/v2/admin/products/count":
		scope, handle = "mall.read_product", s.countProducts
	case "/api/v2/admin/categories":
		scope, handle = "mall.read_category", s.listCategories
	case "/api/v2/admin/coupons":
		scope, handle = "mall.read_promotion", s.listCoupons
	default:
		id, ok := strings.CutPrefix(path, "/api/v2/admin/orders/")
		if !ok || id == "" || strings.Contains(id, "/") {
			writeError(w, http.StatusNotFound, "No API found with those values.")
			return
		}
		scope, handle = "mall.read_order", func(w http.ResponseWriter, r *http.Request, v *view) { s.getOrder(w, r, v, id) }
	}
	if !tok.has(scope) {
		writeError(w, http.StatusForbidden, fmt.Sprintf("Insufficient scope: this request requires %s.", scope))
		return
	}
	handle(w, r, m.viewAt(s.Now()))
}

// defaultVersion stands for the app's developer-center version: the
// oldest version still served.
func (s *Sandbox) defaultVersion() string {
	s.versions.mu.Lock()
	defer s.versions.mu.Unlock()
	return s.versions.available[0]
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}
