// Command hlog-demo signs the local stack's demo seller up (or in), connects
// them to the platform sandboxes and runs a first sync. `make run` calls it;
// it is not part of production.
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
		fs.StringVar(&cfg.SellerEmail, "seller-email", "demo@hlog.local", "the demo seller's e-mail")
		fs.StringVar(&cfg.SellerName, "seller-name", "데모 상점", "the demo seller's shop name")
		fs.StringVar(&cfg.Cafe24Mall, "cafe24-mall", "demo", "Cafe24 sandbox mall to connect; empty skips Cafe24")
		fs.StringVar(&cfg.SmartstoreClientID, "smartstore-client-id", "", "Smartstore sandbox application id; empty skips Smartstore")
		fs.StringVar(&cfg.AblyEmail, "ably-email", "", "Ably sandbox seller e-mail; empty skips Ably")
		if err := kit.ParseFlags(fs, args); err != nil {
			return err
		}
		// Passwords and secrets only from the environment (sandbox values,
		// but the habit is the point).
		cfg.SellerPassword = os.Getenv("HLOG_DEMO_SELLER_PASSWORD")
		cfg.SmartstoreClientSecret = os.Getenv("HLOG_DEMO_SMARTSTORE_CLIENT_SECRET")
		cfg.AblyPassword = os.Getenv("HLOG_DEMO_ABLY_PASSWORD")
		if cfg.SellerPassword == "" {
			cfg.SellerPassword = "hlog-demo-password"
		}
		return demo.Seed(ctx, cfg)
	})
}
