// Command smartstore-svc is the Naver Smartstore collector: a gRPC
// CollectorService that reads a seller's orders, products and categories
// from the Naver Commerce API (or its sandbox).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	"hlog.dev/proto/kit"
	"hlog.dev/proto/kit/clock"
	"hlog.dev/smartstore-svc/internal/collector"
	"hlog.dev/smartstore-svc/internal/naverapi"
)

func main() { kit.Main("smartstore-svc", run) }

func run(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("smartstore-svc", flag.ContinueOnError)
	grpcAddr := fs.String("grpc-addr", ":9102", "gRPC listen address")
	metricsAddr := fs.String("metrics-addr", ":9112", "Prometheus /metrics listen address; empty disables")
	baseURL := fs.String("api-base-url", naverapi.DefaultBaseURL, "Commerce API base URL; the local sandbox is http://127.0.0.1:7102/external")
	timeout := fs.Duration("request-timeout", 30*time.Second, "timeout of one Commerce API HTTP request")
	backfill := fs.Int("backfill-days", 90, "days a first run collects when ingest gives no backfill_from")
	margin := fs.Duration("safety-margin", 10*time.Second, "how far behind now change windows end")
	deliveries := fs.Int("delivery-lookback-days", 10, "days of dispatches before the cursor re-read for deliveries")
	platformClock := clock.PlatformFlag(fs)
	if err := kit.ParseFlags(fs, args); err != nil {
		return err
	}
	clk, err := platformClock()
	if err != nil {
		return err
	}
	day := 24 * time.Hour
	srv, err := kit.New(kit.Config{Name: "smartstore-svc", GRPCAddr: *grpcAddr, MetricsAddr: *metricsAddr, Logger: log})
	if err != nil {
		return err
	}
	api, err := naverapi.New(naverapi.Config{
		BaseURL:        *baseURL,
		RequestTimeout: *timeout,
		Logger:         log,
		Metrics:        naverapi.NewMetrics(srv.Registry()),
		UserAgent:      fmt.Sprintf("hlog-smartstore-svc/%s", kit.Version),
	})
	if err != nil {
		return err
	}
	svc, err := collector.New(collector.Config{
		API:              api,
		Clock:            clk,
		Logger:           log,
		DefaultBackfill:  time.Duration(*backfill) * day,
		SafetyMargin:     *margin,
		DeliveryLookback: time.Duration(*deliveries) * day,
	})
	if err != nil {
		return err
	}
	collectorv1.RegisterCollectorServiceServer(srv.GRPC(), svc)
	log.Info("naver commerce api", "base_url", *baseURL)
	return srv.Run(ctx)
}
