// Command ably-sandbox serves a local imitation of Ably's seller site for
// synthetic sellers, with a controllable clock and faults under /_sandbox/.
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

	"hlog.dev/ably-svc/sandbox"
	"hlog.dev/proto/kit"
)

func main() { kit.Main("ably-sandbox", run) }

// sellerFlags is a repeatable --seller; given at all, it replaces the default.
type sellerFlags struct {
	specs []string
	set   bool
}

func (m *sellerFlags) String() string { return strings.Join(m.specs, ",") }

func (m *sellerFlags) Set(v string) error {
	if !m.set {
		m.specs, m.set = nil, true
	}
	m.specs = append(m.specs, v)
	return nil
}

func run(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("ably-sandbox", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:7103", "HTTP listen address")
	sellers := &sellerFlags{specs: []string{"demo@example.com:password:seed=42"}}
	fs.Var(sellers, "seller", `seller "email:password[:seed=N][:orders_per_day=F][:products=N][:notice=true][:market=NAME]"; repeatable`)
	history := fs.Int("history-days", 180, "days of orders before the start clock")
	future := fs.Int("future-days", 60, "days of orders generated after the start clock, revealed as the clock moves")
	clockFlag := fs.String("clock", "", "RFC 3339 start of the sandbox clock; empty means now")
	running := fs.Bool("clock-running", true, "let the sandbox clock follow real time (false: it moves only through /_sandbox/clock)")
	sessionTTL := fs.Duration("session-ttl", sandbox.SessionTTL, "session JWT lifetime on the sandbox clock")
	if err := kit.ParseFlags(fs, args); err != nil {
		return err
	}
	cfg := sandbox.Config{ClockRunning: *running, HistoryDays: *history, FutureDays: *future, SessionTTL: *sessionTTL, Logger: log}
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
	log.Info("serving", "addr", lis.Addr().String(), "sellers", strings.Join(sb.Sellers(), ","),
		"clock", sb.Now().Format(time.RFC3339), "clock_running", *running, "site_url", "http://"+lis.Addr().String())
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serving: %w", err)
		}
	}
	sb.Close() // ends the long-lived event streams, which Shutdown would wait for
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
