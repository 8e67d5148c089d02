package gateway

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Environment variables holding the gateway's secrets. Secrets never come
// from flags (visible in ps and shell history); files are for local runs.
const (
	// EnvServiceToken is the token the gateway presents to ingest-svc; ingest
	// is configured with the same one.
	EnvServiceToken = "HLOG_SERVICE_TOKEN"
	// EnvCafe24ClientSecret is the secret of H-log's Cafe24 app.
	EnvCafe24ClientSecret = "HLOG_CAFE24_CLIENT_SECRET"
)

// Config says where the gateway listens, where ingest is, and how sellers
// connect their Cafe24 malls. Every field has a flag with an HLOG_
// environment fallback (kit.ParseFlags); secrets come from the environment
// or files only.
type Config struct {
	// HTTPAddr serves the REST API, the dashboard, the OpenAPI document and
	// the probes.
	HTTPAddr string
	// MetricsAddr serves /metrics for Prometheus; empty disables it.
	MetricsAddr string
	// IngestAddr is ingest-svc's gRPC address.
	IngestAddr string
	// PublicURL is where sellers reach the gateway, e.g.
	// https://hlog.example.com: the base of the Cafe24 OAuth redirect URI,
	// and https there makes session cookies Secure.
	PublicURL string
	// ServiceTokenFile holds the service token when HLOG_SERVICE_TOKEN is unset.
	ServiceTokenFile string
	// SessionCacheTTL is how long a resolved session is reused without
	// asking ingest again. A sign-out through this gateway ends the session
	// here at once; another replica may honour it up to this long.
	SessionCacheTTL time.Duration
	// SalesCacheTTL is how long a seller's sales answers are reused (see
	// salesCache); 0 disables the cache.
	SalesCacheTTL time.Duration
	// Cafe24AuthorizeURL is Cafe24's consent page; {mall_id} is replaced.
	Cafe24AuthorizeURL string
	// Cafe24ClientID is H-log's Cafe24 app; its secret is in
	// HLOG_CAFE24_CLIENT_SECRET or Cafe24ClientSecretFile.
	Cafe24ClientID         string
	Cafe24ClientSecretFile string
	// Cafe24Scopes asked for at consent, comma-separated.
	Cafe24Scopes string
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
	fs.StringVar(&c.PublicURL, "public-url", "http://127.0.0.1:8080", "URL sellers reach the gateway at (OAuth redirects; https makes cookies Secure)")
	fs.StringVar(&c.ServiceTokenFile, "service-token-file", "", "file holding the token presented to ingest-svc (else "+EnvServiceToken+")")
	fs.DurationVar(&c.SessionCacheTTL, "session-cache-ttl", 5*time.Second, "how long a resolved session is reused before asking ingest again")
	fs.DurationVar(&c.SalesCacheTTL, "sales-cache-ttl", 10*time.Second, "how long a seller's sales answers are reused; a write or a watched sync's end drops them at once")
	fs.StringVar(&c.Cafe24AuthorizeURL, "cafe24-authorize-url", "https://{mall_id}.cafe24api.com/api/v2/oauth/authorize", "Cafe24 OAuth consent page ({mall_id} is replaced)")
	fs.StringVar(&c.Cafe24ClientID, "cafe24-client-id", "", "client id of H-log's Cafe24 app; empty disables connecting Cafe24")
	fs.StringVar(&c.Cafe24ClientSecretFile, "cafe24-client-secret-file", "", "file holding that app's secret (else "+EnvCafe24ClientSecret+")")
	fs.StringVar(&c.Cafe24Scopes, "cafe24-scopes", "mall.read_order,mall.read_product,mall.read_category,mall.read_promotion", "scopes asked for at Cafe24 consent")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", 20*time.Second, "time in-flight requests get to finish after SIGTERM")
	fs.DurationVar(&c.ReadyTimeout, "ready-timeout", 2*time.Second, "timeout of the ingest health check behind /readyz")
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	if c.HTTPAddr == "" {
		return errors.New("http-addr is required")
	}
	if c.IngestAddr == "" {
		return errors.New("ingest-addr is required")
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("public-url %q: want http(s)://host[:port]", c.PublicURL)
	}
	if c.Cafe24ClientID != "" && !strings.Contains(c.Cafe24AuthorizeURL, "{mall_id}") {
		return fmt.Errorf("cafe24-authorize-url %q must contain {mall_id}", c.Cafe24AuthorizeURL)
	}
	if c.SalesCacheTTL < 0 {
		return fmt.Errorf("sales-cache-ttl %s: must not be negative", c.SalesCacheTTL)
	}
	if c.SessionCacheTTL < 0 {
		return fmt.Errorf("session-cache-ttl %s: must not be negative", c.SessionCacheTTL)
	}
	if c.ShutdownGrace <= 0 {
		return fmt.Errorf("shutdown-grace %s: must be positive", c.ShutdownGrace)
	}
	if c.ReadyTimeout <= 0 {
		return fmt.Errorf("ready-timeout %s: must be positive", c.ReadyTimeout)
	}
	return nil
}

// Secrets are what the gateway must not log.
type Secrets struct {
	ServiceToken       string
	Cafe24ClientSecret string
}

// LoadSecrets reads the secrets from the environment or the configured files.
func LoadSecrets(c Config, getenv func(string) string) (Secrets, error) {
	var s Secrets
	var err error
	if s.ServiceToken, err = secret(getenv(EnvServiceToken), c.ServiceTokenFile, "service-token-file"); err != nil {
		return Secrets{}, err
	}
	if s.ServiceToken == "" {
		return Secrets{}, fmt.Errorf("no service token: set %s or --service-token-file (ingest-svc uses the same one)", EnvServiceToken)
	}
	if s.Cafe24ClientSecret, err = secret(getenv(EnvCafe24ClientSecret), c.Cafe24ClientSecretFile, "cafe24-client-secret-file"); err != nil {
		return Secrets{}, err
	}
	if c.Cafe24ClientID != "" && s.Cafe24ClientSecret == "" {
		return Secrets{}, fmt.Errorf("--cafe24-client-id is set but its secret is not: set %s or --cafe24-client-secret-file", EnvCafe24ClientSecret)
	}
	return s, nil
}

func secret(env, file, flagName string) (string, error) {
	if v := strings.TrimSpace(env); v != "" {
		return v, nil
	}
	if file == "" {
		return "", nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("reading --%s: %w", flagName, err)
	}
	return strings.TrimSpace(string(b)), nil
}
