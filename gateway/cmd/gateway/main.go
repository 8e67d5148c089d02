// Command gateway serves H-log's REST API, the seller dashboard and the
// OpenAPI document over HTTP, calling ingest-svc over gRPC.
package main

import (
	"context"
	"flag"
	"log/slog"
	"os"

	"hlog.dev/gateway/internal/gateway"
	"hlog.dev/proto/kit"
)

func main() {
	kit.Main("gateway", run)
}

func run(ctx context.Context, args []string, log *slog.Logger) error {
	var cfg gateway.Config
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := kit.ParseFlags(fs, args); err != nil {
		return err
	}
	secrets, err := gateway.LoadSecrets(cfg, os.Getenv)
	if err != nil {
		return err
	}
	g, err := gateway.New(cfg, secrets, log)
	if err != nil {
		return err
	}
	return g.Run(ctx)
}
