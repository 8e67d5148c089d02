// Package app is ingest-svc's composition root: configuration, secrets, and
// the wiring of store, loader, runner and gRPC services into one server.
package app

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"hlog.dev/proto/kit"

	"hlog.dev/ingest-svc/internal/vault"
)

// Environment variables holding secrets. Secrets never come from flags
// (visible in ps and shell history); files are for local runs.
const (
	EnvMySQLDSN          = "HLOG_MYSQL_DSN"
	EnvCredentialKey     = "HLOG_CREDENTIAL_KEY"
	EnvCredentialKeyID   = "HLOG_CREDENTIAL_KEY_ID"
	EnvCredentialOldKeys = "HLOG_CREDENTIAL_OLD_KEYS"
	EnvBuyerHashKey      = "HLOG_BUYER_HASH_KEY"
	// The alert webhook URL carries its token: a secret.
	EnvAlertWebhookURL = "HLOG_ALERT_WEBHOOK_URL"
)

// Config is ingest-svc's configuration.
type Config struct {
	GRPCAddr          string
	MetricsAddr       string
	MySQLDSNFile      string
	Collectors        map[string]string // platform word -> address
	DefaultTimeZone   string
	CredentialKeyFile string
	BuyerHashKeyFile  string
	CreateMissingKeys bool
	SyncWorkers       int

	// Scheduling and the job queue (issue 6).
	DailySchedule, IntradaySchedule string
	SyncLease, SyncPollInterval     time.Duration
	SyncMaxAttempts                 int
	RetryBase, RetryMax             time.Duration
	FlushRecords                    int
	// MaxRuns caps runs per platform word across replicas.
	MaxRuns             map[string]int
	AlertWebhookURLFile string
	RollupSweepInterval time.Duration
}

// ParseConfig reads flags, falling back to HLOG_<FLAG> environment variables.
func ParseConfig(args []string) (Config, error) {
	var c Config
	c.Collectors = map[string]string{}
	fs := flag.NewFlagSet("ingest-svc", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.GRPCAddr, "grpc-addr", ":9090", "gRPC listen address")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", ":9190", "Prometheus /metrics listen address; empty disables")
	fs.StringVar(&c.MySQLDSNFile, "mysql-dsn-file", "", "file holding the MySQL DSN (else "+EnvMySQLDSN+")")
	cafe24 := fs.String("collector-cafe24", "127.0.0.1:9101", "cafe24-svc gRPC address; empty disables the platform")
	smartstore := fs.String("collector-smartstore", "127.0.0.1:9102", "smartstore-svc gRPC address; empty disables the platform")
	ably := fs.String("collector-ably", "127.0.0.1:9103", "ably-svc gRPC address; empty disables the platform")
	fs.StringVar(&c.DefaultTimeZone, "default-time-zone", "Asia/Seoul", "IANA time zone of new sellers")
	fs.StringVar(&c.CredentialKeyFile, "credential-key-file", "", "file with \"<key id> <base64 key>\" sealing credentials (else "+EnvCredentialKey+" and "+EnvCredentialKeyID+")")
	fs.StringVar(&c.BuyerHashKeyFile, "buyer-hash-key-file", "", "file with \"<key id> <base64 key>\" for the buyer id HMAC (else "+EnvBuyerHashKey+")")
	fs.BoolVar(&c.CreateMissingKeys, "create-missing-keys", false, "create missing key files with random keys (local runs only)")
	fs.IntVar(&c.SyncWorkers, "sync-workers", 4, "sync runs executed at once by this process")
	fs.StringVar(&c.DailySchedule, "daily-schedule", "0 8 * * *", "cron spec, in each seller's time zone, of the daily run; empty disables")
	fs.StringVar(&c.IntradaySchedule, "intraday-schedule", "0 11-23/3 * * *", "cron spec, in each seller's time zone, of the intraday refresh; empty disables")
	fs.DurationVar(&c.SyncLease, "sync-lease", 2*time.Minute, "how long a claimed run stays this replica's without a heartbeat (renewed every third)")
	fs.DurationVar(&c.SyncPollInterval, "sync-poll-interval", 5*time.Second, "how often idle workers look for runs queued by other replicas")
	fs.IntVar(&c.SyncMaxAttempts, "sync-max-attempts", 5, "attempts of a run before it is dead")
	fs.DurationVar(&c.RetryBase, "sync-retry-base", 30*time.Second, "backoff before the second attempt; doubles each attempt, with jitter")
	fs.DurationVar(&c.RetryMax, "sync-retry-max", 30*time.Minute, "longest backoff between attempts")
	fs.IntVar(&c.FlushRecords, "sync-batch-records", 10000, "records per loading transaction")
	maxCafe24 := fs.Int("max-runs-cafe24", 16, "Cafe24 runs at once across all replicas; 0 means no cap")
	maxSmartstore := fs.Int("max-runs-smartstore", 16, "Smartstore runs at once across all replicas; 0 means no cap")
	maxAbly := fs.Int("max-runs-ably", 2, "Ably runs at once across all replicas (each costs a browser); 0 means no cap")
	fs.StringVar(&c.AlertWebhookURLFile, "alert-webhook-url-file", "", "file with the Slack-compatible webhook URL for alerts (else "+EnvAlertWebhookURL+"; none: alerts are only counted)")
	fs.DurationVar(&c.RollupSweepInterval, "rollup-sweep-interval", 30*time.Second, "how often rollups left stale by interrupted runs are recomputed")
	if err := kit.ParseFlags(fs, args); err != nil {
		return Config{}, fmt.Errorf("%w\nflags:\n%s", err, usage(fs))
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	c.Collectors["cafe24"], c.Collectors["smartstore"], c.Collectors["ably"] = *cafe24, *smartstore, *ably
	c.MaxRuns = map[string]int{"cafe24": *maxCafe24, "smartstore": *maxSmartstore, "ably": *maxAbly}
	for word, n := range c.MaxRuns {
		if n < 0 {
			return Config{}, fmt.Errorf("--max-runs-%s must not be negative", word)
		}
	}
	if c.SyncLease < 3*time.Second {
		return Config{}, fmt.Errorf("--sync-lease must be at least 3s")
	}
	if c.SyncPollInterval <= 0 || c.RetryBase <= 0 || c.RetryMax < c.RetryBase || c.RollupSweepInterval <= 0 {
		return Config{}, fmt.Errorf("--sync-poll-interval, --sync-retry-base and --rollup-sweep-interval must be positive, --sync-retry-max at least --sync-retry-base")
	}
	if c.SyncMaxAttempts < 1 || c.FlushRecords < 1 {
		return Config{}, fmt.Errorf("--sync-max-attempts and --sync-batch-records must be at least 1")
	}
	if _, err := time.LoadLocation(c.DefaultTimeZone); err != nil {
		return Config{}, fmt.Errorf("--default-time-zone %q: %w", c.DefaultTimeZone, err)
	}
	if c.SyncWorkers < 1 {
		return Config{}, fmt.Errorf("--sync-workers must be at least 1")
	}
	return c, nil
}

func usage(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	return b.String()
}

// Secrets are what ingest-svc must not log.
type Secrets struct {
	MySQLDSN        string
	Keyring         *vault.Keyring
	BuyerKey        []byte
	AlertWebhookURL string
}

// LoadSecrets reads secrets from the environment, or from the configured
// files (creating those only when asked to).
func LoadSecrets(c Config, getenv func(string) string) (Secrets, error) {
	var s Secrets
	s.MySQLDSN = strings.TrimSpace(getenv(EnvMySQLDSN))
	if s.MySQLDSN == "" && c.MySQLDSNFile != "" {
		b, err := os.ReadFile(c.MySQLDSNFile)
		if err != nil {
			return Secrets{}, fmt.Errorf("reading --mysql-dsn-file: %w", err)
		}
		s.MySQLDSN = strings.TrimSpace(string(b))
	}
	if s.MySQLDSN == "" {
		return Secrets{}, fmt.Errorf("no database: set %s (user:password@tcp(host:3306)/hlog) or --mysql-dsn-file", EnvMySQLDSN)
	}

	keys := map[string][]byte{}
	var current string
	switch {
	case getenv(EnvCredentialKey) != "":
		current = strings.TrimSpace(getenv(EnvCredentialKeyID))
		if current == "" {
			return Secrets{}, fmt.Errorf("%s is set but %s is not: name the key so it can rotate", EnvCredentialKey, EnvCredentialKeyID)
		}
		k, err := vault.ParseKey(getenv(EnvCredentialKey))
		if err != nil {
			return Secrets{}, fmt.Errorf("%s: %w", EnvCredentialKey, err)
		}
		keys[current] = k
	case c.CredentialKeyFile != "":
		kf, err := keyFile(c.CredentialKeyFile, "credentials-dev-1", c.CreateMissingKeys)
		if err != nil {
			return Secrets{}, fmt.Errorf("--credential-key-file: %w", err)
		}
		current, keys[kf.ID] = kf.ID, kf.Key
	default:
		return Secrets{}, fmt.Errorf("no credential key: set %s and %s, or --credential-key-file", EnvCredentialKey, EnvCredentialKeyID)
	}
	// Keys retired by a rotation, still needed to open older envelopes:
	// "id:base64,id:base64".
	if old := strings.TrimSpace(getenv(EnvCredentialOldKeys)); old != "" {
		for _, entry := range strings.Split(old, ",") {
			id, text, ok := strings.Cut(strings.TrimSpace(entry), ":")
			if !ok {
				return Secrets{}, fmt.Errorf("%s: want id:base64 entries separated by commas", EnvCredentialOldKeys)
			}
			k, err := vault.ParseKey(text)
			if err != nil {
				return Secrets{}, fmt.Errorf("%s key %q: %w", EnvCredentialOldKeys, id, err)
			}
			if _, dup := keys[id]; !dup {
				keys[id] = k
			}
		}
	}
	ring, err := vault.NewKeyring(current, keys)
	if err != nil {
		return Secrets{}, err
	}
	s.Keyring = ring

	switch {
	case getenv(EnvBuyerHashKey) != "":
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(getenv(EnvBuyerHashKey)))
		if err != nil || len(k) < 16 {
			return Secrets{}, fmt.Errorf("%s must be base64 of at least 16 random bytes", EnvBuyerHashKey)
		}
		s.BuyerKey = k
	case c.BuyerHashKeyFile != "":
		kf, err := keyFile(c.BuyerHashKeyFile, "buyer-hash-dev-1", c.CreateMissingKeys)
		if err != nil {
			return Secrets{}, fmt.Errorf("--buyer-hash-key-file: %w", err)
		}
		s.BuyerKey = kf.Key
	default:
		return Secrets{}, fmt.Errorf("no buyer hash key: set %s or --buyer-hash-key-file", EnvBuyerHashKey)
	}

	s.AlertWebhookURL = strings.TrimSpace(getenv(EnvAlertWebhookURL))
	if s.AlertWebhookURL == "" && c.AlertWebhookURLFile != "" {
		b, err := os.ReadFile(c.AlertWebhookURLFile)
		if err != nil {
			return Secrets{}, fmt.Errorf("reading --alert-webhook-url-file: %w", err)
		}
		s.AlertWebhookURL = strings.TrimSpace(string(b))
	}
	if s.AlertWebhookURL != "" && !strings.HasPrefix(s.AlertWebhookURL, "https://") && !strings.HasPrefix(s.AlertWebhookURL, "http://") {
		return Secrets{}, errors.New("the alert webhook URL must start with https:// or http://")
	}
	return s, nil
}

func keyFile(path, newID string, create bool) (vault.KeyFile, error) {
	kf, err := vault.ReadKeyFile(path)
	if errors.Is(err, os.ErrNotExist) && create {
		return vault.CreateKeyFile(path, newID)
	}
	return kf, err
}
