// Command cafe24-sandbox serves a local imitation of the Cafe24 Admin API for
// synthetic malls, with a controllable clock under /_sandbox/.
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

	"hlog.dev/cafe24-svc/sandbox"
	"hlog.dev/proto/kit"
)

func main() { kit.Main("cafe24-sandbox", run) }

// mallFlags is a repeatable --mall; each value may also be a comma list.
// Given at all, it replaces the default.
type mallFlags struct {
	specs []string
	set   bool
}

func (m *mallFlags) String() string { return strings.Join(m.specs, ",") }

func (m *mallFlags) Set(v string) error {
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

func run(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("cafe24-sandbox", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:7101", "HTTP listen address")
	malls := &mallFlags{specs: []string{"demo:seed=42"}}
	fs.Var(malls, "mall", `mall "id[:seed=N][:orders_per_day=F][:products=N][:item_payment_amount=null]"; repeatable or a comma list`)
	history := fs.Int("history-days", 120, "days of orders before the start clock")
	future := fs.Int("future-days", 60, "days of orders generated after the start clock, revealed as the clock moves")
	clockFlag := fs.String("clock", "", "RFC 3339 start of the sandbox clock; empty means now")
	running := fs.Bool("clock-running", true, "let the sandbox clock follow real time (false: it moves only through /_sandbox/clock)")
	clientID := fs.String("client-id", "hlog-dev-client", "client id of the registered H-log app")
	clientSecret := fs.String("client-secret", "hlog-dev-secret", "client secret of the registered app; prefer HLOG_CLIENT_SECRET")
	accessTTL := fs.Duration("access-token-ttl", sandbox.AccessTokenTTL, "access token lifetime on the sandbox clock")
	refreshTTL := fs.Duration("refresh-token-ttl", sandbox.RefreshTokenTTL, "refresh token lifetime on the sandbox clock")
	redirectURIs := fs.String("redirect-uris", "", "comma list of redirect URIs registered for the app; empty allows any loopback http(s) URI")
	stateFile := fs.String("state-file", "", "file that keeps issued tokens across restarts; empty keeps them in memory")
	if err := kit.ParseFlags(fs, args); err != nil {
		return err
	}
	cfg := sandbox.Config{
		ClockRunning:    *running,
		HistoryDays:     *history,
		FutureDays:      *future,
		ClientID:        *clientID,
		ClientSecret:    *clientSecret,
		AccessTokenTTL:  *accessTTL,
		RefreshTokenTTL: *refreshTTL,
		Logger:          log,
		StateFile:       *stateFile,
	}
	for _, u := range strings.Split(*redirectURIs, ",") {
		if u = strings.TrimSpace(u); u != "" {
			cfg.RedirectURIs = append(cfg.RedirectURIs, u)
		}
	}
	if *clockFlag != "" {
		t, err := time.Parse(time.RFC3339, *clockFlag)
		if err != nil {
			return fmt.Errorf("--clock %q: %w", *clockFlag, err)
		}
		cfg.Clock = t
	}
	for _, spec := range malls.specs {
		mc, err := sandbox.ParseMallSpec(spec)
		if err != nil {
			return fmt.Errorf("--mall: %w", err)
		}
		cfg.Malls = append(cfg.Malls, mc)
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
	log.Info("serving", "addr", lis.Addr().String(), "malls", strings.Join(sb.Malls(), ","), "clock", sb.Now().Format(time.RFC3339), "clock_running", *running,
		"base_url", fmt.Sprintf("http://%s/malls/{mall_id}", lis.Addr()))
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
