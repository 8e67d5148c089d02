// Command ably-svc is the Ably collector: a gRPC CollectorService that signs
// in to Ably's seller site (or its sandbox) in Chromium and reads orders
// through the site's own JSON API.
package main

import (
	"context"
	"flag"
	"log/slog"
	"time"

	"hlog.dev/ably-svc/internal/browser"
	"hlog.dev/ably-svc/internal/collector"
	"hlog.dev/ably-svc/internal/sellersite"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	"hlog.dev/proto/kit"
	"hlog.dev/proto/kit/clock"
)

func main() { kit.Main("ably-svc", run) }

func run(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("ably-svc", flag.ContinueOnError)
	grpcAddr := fs.String("grpc-addr", ":9103", "gRPC listen address")
	metricsAddr := fs.String("metrics-addr", ":9113", "Prometheus /metrics listen address; empty disables")
	siteURL := fs.String("site-url", "https://my.a-bly.com", "Ably seller site origin; the local sandbox is http://127.0.0.1:7103")
	apiURL := fs.String("api-url", "https://api.a-bly.com", "origin of the site's JSON API; empty means the site's own origin (the sandbox)")
	chromium := fs.String("chromium-path", "", "Chromium binary; empty finds chromium on PATH, else /usr/bin/chromium (never downloaded)")
	browserURL := fs.String("browser-url", "", "DevTools address of a Chromium running elsewhere (e.g. http://chromium:9222 in Kubernetes); nothing is launched then")
	poolSize := fs.Int("browser-pool", 2, "accounts collected at once, each in its own incognito context")
	proxy := fs.String("proxy", "", "egress HTTP proxy for the browser, e.g. http://egress:3128; empty goes direct")
	pace := fs.Duration("pace", 1200*time.Millisecond, "mean pause between page actions (jittered ±50%)")
	timeout := fs.Duration("page-timeout", 30*time.Second, "timeout of one page wait or in-page API call")
	lookback := fs.Int("lookback-days", 30, "order days before the cursor re-read on every run, for late claims")
	backfill := fs.Int("backfill-days", 180, "order days a first run collects when ingest gives no backfill_from")
	window := fs.Int("window-days", 7, "order days per checkpoint")
	perPage := fs.Int("per-page", 500, "rows per API page (1-500)")
	debugDir := fs.String("debug-dir", "/tmp/ably-svc-debug", "where a failed run leaves a screenshot and the page HTML")
	platformClock := clock.PlatformFlag(fs)
	if err := kit.ParseFlags(fs, args); err != nil {
		return err
	}
	clk, err := platformClock()
	if err != nil {
		return err
	}
	day := 24 * time.Hour
	pool, err := browser.New(browser.Config{Bin: *chromium, RemoteURL: *browserURL, Size: *poolSize, Proxy: *proxy, Logger: log})
	if err != nil {
		return err
	}
	defer pool.Close()
	svc, err := collector.New(collector.Config{
		Pool:            pool,
		Clock:           clk,
		Site:            sellersite.Config{SiteURL: *siteURL, APIURL: *apiURL, Timeout: *timeout},
		Logger:          log,
		Lookback:        time.Duration(*lookback) * day,
		DefaultBackfill: time.Duration(*backfill) * day,
		WindowDays:      *window,
		PerPage:         *perPage,
		Pace:            *pace,
		DebugDir:        *debugDir,
	})
	if err != nil {
		return err
	}
	srv, err := kit.New(kit.Config{Name: "ably-svc", GRPCAddr: *grpcAddr, MetricsAddr: *metricsAddr, Logger: log})
	if err != nil {
		return err
	}
	collectorv1.RegisterCollectorServiceServer(srv.GRPC(), svc)
	log.Info("ably site", "site_url", *siteURL, "api_url", *apiURL, "remote_browser", *browserURL != "", "browser_pool", *poolSize, "proxy", *proxy != "")
	return srv.Run(ctx)
}
