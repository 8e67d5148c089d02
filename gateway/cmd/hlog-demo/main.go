// Command hlog-demo connects the local stack's demo seller to the sandboxes
// and runs a first sync. `make run` calls it; it is not part of production.
package main

import (
	"context"
	"flag"
	"log/slog"
	"os"

	"hlog.dev/gateway/internal/demo"
	"hlog.dev/proto/kit"
)

func main() {
	kit.Main("hlog-demo", func(ctx context.Context, args []string, _ *slog.Logger) error {
		fs := flag.NewFlagSet("hlog-demo", flag.ContinueOnError)
		cfg := demo.Config{Out: os.Stdout}
		fs.StringVar(&cfg.GatewayURL, "gateway-url", "http://127.0.0.1:8080", "gateway base URL")
		fs.StringVar(&cfg.Cafe24Sandbox, "cafe24-sandbox-url", "http://127.0.0.1:7101", "Cafe24 sandbox base URL")
		fs.StringVar(&cfg.Cafe24Mall, "cafe24-mall", "demo", "sandbox mall to connect")
		fs.StringVar(&cfg.Cafe24Client, "cafe24-client-id", "hlog-dev-client", "client id of the app registered in the sandbox")
		fs.StringVar(&cfg.Cafe24Secret, "cafe24-client-secret", "hlog-dev-secret", "client secret of that app (sandbox only)")
		if err := kit.ParseFlags(fs, args); err != nil {
			return err
		}
		return demo.Seed(ctx, cfg)
	})
}
