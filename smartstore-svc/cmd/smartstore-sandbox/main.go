// Command smartstore-sandbox serves a local imitation of the Naver Commerce
// API for synthetic sellers, with a controllable clock and fault switches
// under /_sandbox/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"hlog.dev/proto/kit"
	"hlog.dev/smartstore-svc/sandbox"
)

func main() { kit.Main("smartstore-sandbox", run) }

// sellerFlags is a repeatable --seller; each value may also be a comma list.
// Given at all, it replaces the default.
type sellerFlags struct {
	specs []string
	set   bool
}

func (m *sellerFlags) String() string { return strings.Join(m.specs, ",") }

func (m *sellerFlags) Set(v string) error {
	if !m.set {
		m.specs, m.set = nil, true
	}
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			m.specs = append(m.specs, s)
		}
	}
	return nil
}

// Demo application credentials: sandbox-only values, printed by make run for
// the dashboard's connect form. A real secret comes from the Naver Commerce
// API Center and only through HLOG_CLIENT_SECRET.
const (
	demoClientID     = "hlogSandboxApp01"
	demoClientSecret = "$2a$04$hlogdevsandboxsecret00"
)

func run(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("smartstore-sandbox", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:7102", "HTTP listen address")
	sellers := &sellerFlags{specs: []string{"demo:seed=42"}}
	fs.Var(sellers, "seller", `seller "id[:seed=N][:orders_per_day=F][:products=N]"; repeatable or a comma list; the first is the application's own store (type SELF)`)
	history := fs.Int("history-days", 120, "days of orders before the start clock")
	future := fs.Int("future-days", 60, "days of orders generated after the start clock, revealed as the clock moves")
	clockFlag := fs.String("clock", "", "RFC 3339 start of the sandbox clock; empty means now")
	running := fs.Bool("clock-running", true, "let the sandbox clock follow real time (false: it moves only through /_sandbox/clock)")
	clientID := fs.String("client-id", demoClientID, "client id of the registered application")
	clientSecret := fs.String("client-secret", demoClientSecret, `client secret of the registered application, a bcrypt salt "$2a$04$" + 22 characters; prefer HLOG_CLIENT_SECRET`)
	rate := fs.Float64("rate", sandbox.DefaultRate, "token bucket refill per second, per application per API")
	burst := fs.Int("burst", sandbox.DefaultBurst, "token bucket capacity, per application per API")
	tokenTTL := fs.Duration("token-ttl", sandbox.TokenTTL, "access token lifetime on the sandbox clock")
	if err := kit.ParseFlags(fs, args); err != nil {
		return err
	}
	cfg := sandbox.Config{
		ClockRunning: *running, HistoryDays: *history, FutureDays: *future,
		ClientID: *clientID, ClientSecret: *clientSecret, Rate: *rate, Burst: *burst, TokenTTL: *tokenTTL, Logger: log,
	}
	if *clockFlag != "" {
		t, err := time.Parse(time.RFC3339, *clockFlag)
		if err != nil {
			return fmt.Errorf("--clock %q: %w", *clockFlag, err)
		}
		cfg.Clock = t
	}
	for _, spec := range sellers.specs {
		sc, err := sandbox.ParseSellerSpec(spec)
		if err != nil {
			return fmt.Errorf("--seller: %w", err)
		}
		cfg.Sellers = append(cfg.Sellers, sc)
	}
	sb, err := sandbox.New(cfg)
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *addr, err)
	}
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	log.Info("serving", "addr", lis.Addr().String(), "sellers", strings.Join(sb.Sellers(), ","), "client_id", *clientID,
		"clock", sb.Now().Format(time.RFC3339), "clock_running", *running, "base_url", fmt.Sprintf("http://%s%s", lis.Addr(), sandbox.BasePath))
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serving: %w", err)
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
