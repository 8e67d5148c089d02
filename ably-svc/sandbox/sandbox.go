// Package sandbox is a local imitation of Ably's seller site (파트너센터) for
// the sellers it is configured with, modelled on docs/platforms/ably.md: a
// single-page site whose pages load first and then bounce to
// /login?redirect=… when the seller is not signed in, a sign-in that returns a
// JWT kept in the cookie ably-seller-admin-jwt-token, the JSON API the pages
// call under /seller/…, an order Excel whose header is not on row 1,
// Ant-Design-like notice modals and a connection that never closes, so that
// "network idle" never comes.
//
// Each seller is a synthetic store (hlog.dev/proto/synth) with Ably's id
// shapes, served as it stands at the sandbox clock. A sandbox-only control
// API under /_sandbox/ moves the clock and injects faults.
package sandbox

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"hlog.dev/ably-svc/ablyids"
	"hlog.dev/proto/kit/clock"
	"hlog.dev/proto/synth"
)

// kst is Korea Standard Time, the zone of every date the site shows. A fixed
// zone: Korea has kept UTC+9 without daylight saving since 1988.
var kst = time.FixedZone("KST", 9*60*60)

const (
	// SessionTTL is how long a session JWT lives on the sandbox clock. Ably's
	// is not public (ably.md "Site, login, session" only says the SDK signs in
	// again on 401); a working day is the sandbox's choice.
	SessionTTL = 12 * time.Hour
	// LockoutAfter consecutive wrong passwords lock the account.
	LockoutAfter = 5
)

// SellerConfig is one seller account and the business behind it.
type SellerConfig struct {
	Email, Password string
	Seed            uint64
	OrdersPerDay    float64
	Products        int
	// Notice shows the notice modal after every sign-in.
	Notice bool
	// MarketName is the shop name shown in the header; empty derives one.
	MarketName string
}

// ParseSellerSpec reads "email:password[:seed=N][:orders_per_day=F][:products=N][:notice=true][:market=NAME]".
func ParseSellerSpec(spec string) (SellerConfig, error) {
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return SellerConfig{}, fmt.Errorf("seller %q: want email:password[:seed=N][:orders_per_day=F][:products=N][:notice=true][:market=NAME]", spec)
	}
	sc := SellerConfig{Email: strings.ToLower(parts[0]), Password: parts[1], Seed: 1}
	for _, opt := range parts[2:] {
		k, v, ok := strings.Cut(opt, "=")
		if !ok {
			return SellerConfig{}, fmt.Errorf("seller %s: option %q is not key=value", sc.Email, opt)
		}
		var err error
		switch k {
		case "seed":
			sc.Seed, err = strconv.ParseUint(v, 10, 64)
		case "orders_per_day":
			sc.OrdersPerDay, err = strconv.ParseFloat(v, 64)
			if err == nil && sc.OrdersPerDay < 0 {
				err = errors.New("must not be negative")
			}
		case "products":
			sc.Products, err = strconv.Atoi(v)
			if err == nil && sc.Products < 0 {
				err = errors.New("must not be negative")
			}
		case "notice":
			sc.Notice, err = strconv.ParseBool(v)
		case "market":
			sc.MarketName = v
		default:
			err = errors.New("unknown option")
		}
		if err != nil {
			return SellerConfig{}, fmt.Errorf("seller %s: option %s: %w", sc.Email, k, err)
		}
	}
	if !strings.Contains(sc.Email, "@") {
		return SellerConfig{}, fmt.Errorf("seller %q: the sign-in id is an e-mail address", sc.Email)
	}
	return sc, nil
}

// Config configures a sandbox.
type Config struct {
	Sellers []SellerConfig
	// Clock is the sandbox clock's reading at start; zero means TimeSource().
	Clock time.Time
	// ClockRunning makes the sandbox clock follow TimeSource; otherwise it
	// moves only through SetClock/Advance (or /_sandbox/clock).
	ClockRunning bool
	// TimeSource is real time; nil means time.Now.
	TimeSource func() time.Time
	// Each seller's store spans [clock-HistoryDays, clock+FutureDays]; zero
	// means 180 and 60 days.
	HistoryDays, FutureDays int
	// SessionTTL is the session JWT's life on the sandbox clock; zero means SessionTTL.
	SessionTTL time.Duration
	// JWTKey signs session tokens; empty means a fixed development key.
	JWTKey []byte
	Logger *slog.Logger
}

// Sandbox is the Ably seller-site imitation. It is an http.Handler.
type Sandbox struct {
	cfg     Config
	clock   *clock.Sandbox
	sellers map[string]*seller
	order   []string
	auth    *authority
	control http.Handler
	site    http.Handler
	log     *slog.Logger
	done    chan struct{}
	close   sync.Once
}

// New generates every seller's store and returns the sandbox.
func New(cfg Config) (*Sandbox, error) {
	if len(cfg.Sellers) == 0 {
		return nil, errors.New("sandbox: at least one seller is required")
	}
	if cfg.TimeSource == nil {
		cfg.TimeSource = time.Now
	}
	if cfg.Clock.IsZero() {
		cfg.Clock = cfg.TimeSource()
	}
	if cfg.HistoryDays == 0 {
		cfg.HistoryDays = 180
	}
	if cfg.FutureDays == 0 {
		cfg.FutureDays = 60
	}
	if cfg.HistoryDays < 0 || cfg.FutureDays < 0 {
		return nil, errors.New("sandbox: history and future days must not be negative")
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = SessionTTL
	}
	if len(cfg.JWTKey) == 0 {
		cfg.JWTKey = []byte("ably-sandbox-development-key")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sandbox{
		cfg:     cfg,
		clock:   clock.NewSandbox(cfg.Clock, cfg.ClockRunning, cfg.TimeSource),
		sellers: map[string]*seller{},
		log:     cfg.Logger,
		done:    make(chan struct{}),
	}
	s.auth = newAuthority(cfg.JWTKey, cfg.SessionTTL)
	for _, sc := range cfg.Sellers {
		sc.Email = strings.ToLower(sc.Email)
		if _, dup := s.sellers[sc.Email]; dup {
			return nil, fmt.Errorf("sandbox: seller %s configured twice", sc.Email)
		}
		if sc.Password == "" {
			return nil, fmt.Errorf("sandbox: seller %s has no password", sc.Email)
		}
		if sc.MarketName == "" {
			sc.MarketName = "샌드박스 스토어 " + strings.SplitN(sc.Email, "@", 2)[0]
		}
		store, err := synth.Generate(s.SynthConfig(sc))
		if err != nil {
			return nil, fmt.Errorf("sandbox: generating seller %s: %w", sc.Email, err)
		}
		s.sellers[sc.Email] = newSeller(sc, store)
		s.order = append(s.order, sc.Email)
	}
	s.control = s.controlRoutes()
	s.site = s.siteRoutes()
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
		IDs:          ablyids.Format{},
	}
}

// Now is the sandbox clock.
func (s *Sandbox) Now() time.Time { return s.clock.Now() }

// SetClock sets the sandbox clock.
func (s *Sandbox) SetClock(t time.Time) { s.clock.Set(t) }

// Advance moves the sandbox clock by d.
func (s *Sandbox) Advance(d time.Duration) { s.clock.Advance(d) }

// Sellers lists the configured sign-in e-mails.
func (s *Sandbox) Sellers() []string { return append([]string(nil), s.order...) }

// Truth is what the seller's site shows at the sandbox clock: the ground
// truth a collector must reproduce.
func (s *Sandbox) Truth(email string) (*synth.Store, bool) {
	sl, ok := s.sellers[strings.ToLower(email)]
	if !ok {
		return nil, false
	}
	return sl.store.AsOf(s.Now()), true
}

// Close ends the long-lived connections, so that an http.Server can shut
// down; the sandbox answers nothing afterwards but errors.
func (s *Sandbox) Close() { s.close.Do(func() { close(s.done) }) }

// ServeHTTP routes control calls, the JSON API and the pages.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sandbox/") {
		s.control.ServeHTTP(w, r)
		return
	}
	s.site.ServeHTTP(w, r)
}
