package gateway

import (
	"errors"
	"flag"
	"fmt"
	"regexp"
	"time"
)

// Config says where the gateway listens, where ingest is, and (for now) which
// seller it acts for. Every field has a flag with an HLOG_ environment
// fallback (kit.ParseFlags).
type Config struct {
	// HTTPAddr serves the REST API, the dashboard, the OpenAPI document and
	// the probes.
	HTTPAddr string
	// MetricsAddr serves /metrics for Prometheus; empty disables it.
	MetricsAddr string
	// IngestAddr is ingest-svc's gRPC address (Sales, Account and Sync APIs).
	IngestAddr string
	// DevSellerID is the seller every request acts for.
	//
	// SKELETON ONLY. Seller sign-in and sessions arrive in a later issue;
	// until then the gateway cannot tell sellers apart, so it acts for this
	// one configured seller on every call. The id comes from configuration,
	// never from the request: a client-sent seller header is dropped (see
	// forwardedHeader). Replace this with the signed-in seller's id when
	// sessions exist.
	DevSellerID string
	// ShutdownGrace bounds how long in-flight requests may take after
	// SIGTERM before their connections are closed.
	ShutdownGrace time.Duration
	// ReadyTimeout bounds the ingest health check behind /readyz.
	ReadyTimeout time.Duration
}

// RegisterFlags defines the gateway's flags on fs, with the local stack's
// defaults, writing into c.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.HTTPAddr, "http-addr", ":8080", "HTTP listen address (REST API, dashboard, probes)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", ":9180", "Prometheus /metrics listen address; empty disables it")
	fs.StringVar(&c.IngestAddr, "ingest-addr", "127.0.0.1:9090", "ingest-svc gRPC address")
	fs.StringVar(&c.DevSellerID, "dev-seller-id", "1", "skeleton only: the seller every request acts for, until seller sign-in exists")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", 20*time.Second, "time in-flight requests get to finish after SIGTERM")
	fs.DurationVar(&c.ReadyTimeout, "ready-timeout", 2*time.Second, "timeout of the ingest health check behind /readyz")
}

// sellerIDPattern keeps the seller id a plain token, valid as gRPC metadata.
var sellerIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	if c.HTTPAddr == "" {
		return errors.New("http-addr is required")
	}
	if c.IngestAddr == "" {
		return errors.New("ingest-addr is required")
	}
	if !sellerIDPattern.MatchString(c.DevSellerID) {
		return fmt.Errorf("dev-seller-id %q: want 1 to 64 letters, digits, '-' or '_'", c.DevSellerID)
	}
	if c.ShutdownGrace <= 0 {
		return fmt.Errorf("shutdown-grace %s: must be positive", c.ShutdownGrace)
	}
	if c.ReadyTimeout <= 0 {
		return fmt.Errorf("ready-timeout %s: must be positive", c.ReadyTimeout)
	}
	return nil
}
