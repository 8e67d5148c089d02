package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	ingestv1 "hlog.dev/proto/gen/hlog/ingest/v1"
	salesv1 "hlog.dev/proto/gen/hlog/sales/v1"
	"hlog.dev/proto/kit"

	"hlog.dev/ingest-svc/internal/alert"
	"hlog.dev/ingest-svc/internal/api"
	"hlog.dev/ingest-svc/internal/credentials"
	"hlog.dev/ingest-svc/internal/loader"
	"hlog.dev/ingest-svc/internal/rollup"
	"hlog.dev/ingest-svc/internal/sales"
	"hlog.dev/ingest-svc/internal/schedule"
	"hlog.dev/ingest-svc/internal/store"
	"hlog.dev/ingest-svc/internal/syncrun"
	"hlog.dev/ingest-svc/internal/vault"
)

// Deps are the parts a Service is built from; tests pass their own.
type Deps struct {
	Store           *store.Store
	Keyring         *vault.Keyring
	BuyerKey        []byte
	Collectors      syncrun.Collectors
	DefaultTimeZone string
	SyncWorkers     int
	Log             *slog.Logger
	Registerer      prometheus.Registerer
	// Stopping is closed when the server begins shutting down.
	Stopping <-chan struct{}
	// Queue tunes the job queue; zero values take the runner's defaults.
	Queue syncrun.Config
	// DailySchedule and IntradaySchedule are cron specs in each seller's
	// time zone; empty disables them (tests).
	DailySchedule, IntradaySchedule string
	// AlertWebhookURL receives alerts; empty only counts them.
	AlertWebhookURL string
	// RollupSweepInterval is how often stale rollups are swept; 0 means 30s.
	RollupSweepInterval time.Duration
}

// Service is ingest-svc without its listener: the gRPC services, the sync
// runner, the scheduler and the rollup sweeper.
type Service struct {
	Runner    *syncrun.Runner
	Scheduler *schedule.Scheduler
	Rollups   *rollup.Refresher
	accounts  *api.Accounts
	sync      *api.Sync
	sales     *api.Sales
	sweep     time.Duration
	log       *slog.Logger
	now       func() time.Time
}

// Build wires a Service.
func Build(d Deps) (*Service, error) {
	ld, err := loader.New(d.BuyerKey)
	if err != nil {
		return nil, err
	}
	box := credentials.NewBox(d.Keyring)
	log := d.Log
	if log == nil {
		log = slog.Default()
	}
	rollups := rollup.New(d.Store.DB())
	qc := d.Queue
	qc.Store, qc.Loader, qc.Credentials, qc.Collectors = d.Store, ld, box, d.Collectors
	qc.Log, qc.Registerer, qc.Workers = log, d.Registerer, d.SyncWorkers
	qc.Rollups = rollups
	qc.Alerts = alert.New(d.Store, d.AlertWebhookURL, log, d.Registerer)
	runner := syncrun.New(qc)
	sched, err := schedule.New(schedule.Config{
		Store: d.Store, Daily: d.DailySchedule, Intraday: d.IntradaySchedule, Queued: runner.Notify, Log: log,
	})
	if err != nil {
		return nil, err
	}
	sweep := d.RollupSweepInterval
	if sweep <= 0 {
		sweep = 30 * time.Second
	}
	return &Service{
		Runner:    runner,
		Scheduler: sched,
		Rollups:   rollups,
		accounts: &api.Accounts{
			Store: d.Store, Credentials: box, Collectors: d.Collectors, Runner: runner, DefaultTimeZone: d.DefaultTimeZone,
			Schedule: sched,
		},
		sync:  &api.Sync{Store: d.Store, Runner: runner, Stopping: d.Stopping},
		sales: &api.Sales{Store: d.Store, Querier: sales.NewQuerier(d.Store.DB(), "KRW"), DefaultTimeZone: d.DefaultTimeZone},
		sweep: sweep,
		log:   log,
		now:   d.Store.Now,
	}, nil
}

// Background runs the sync runner, the scheduler and the rollup sweeper
// until ctx ends.
func (s *Service) Background(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { _ = s.Runner.Run(ctx) })
	wg.Go(func() { s.Scheduler.Run(ctx) })
	wg.Go(func() { s.sweepRollups(ctx) })
	wg.Wait()
}

// sweepRollups recomputes days left stale by runs that stopped before
// refreshing them (killed replicas, lost leases).
func (s *Service) sweepRollups(ctx context.Context) {
	t := time.NewTicker(s.sweep)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for ctx.Err() == nil {
			done, err := s.Rollups.RefreshAny(ctx, s.now())
			if err != nil {
				if ctx.Err() == nil {
					s.log.Error("sweeping stale rollups", "err", err.Error())
				}
				break
			}
			if done {
				break
			}
		}
	}
}

// Register adds the services to a gRPC server.
func (s *Service) Register(r grpc.ServiceRegistrar) {
	ingestv1.RegisterAccountServiceServer(r, s.accounts)
	ingestv1.RegisterSyncServiceServer(r, s.sync)
	salesv1.RegisterSalesServiceServer(r, s.sales)
}

// Run is ingest-svc's main: configure, connect, migrate, serve until ctx ends.
func Run(ctx context.Context, args []string, log *slog.Logger) error {
	// Issue 7: operator command for API keys (see identity.go).
	if len(args) > 0 && args[0] == "apikey" {
		return runAPIKeyCommand(ctx, args[1:], os.Stdout)
	}
	// Issue 6: re-encrypt credentials under a new key (see rotate.go).
	if len(args) > 0 && args[0] == RotateCommand {
		return runRotateCommand(ctx, args[1:], os.Stdout)
	}
	cfg, err := ParseConfig(args)
	if err != nil {
		return err
	}
	secrets, err := LoadSecrets(cfg, os.Getenv)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, secrets.MySQLDSN, store.Options{MaxAttempts: cfg.SyncMaxAttempts})
	if err != nil {
		return err
	}
	defer st.Close()

	collectors := syncrun.Collectors{}
	platforms := map[string]commercev1.Platform{
		"cafe24": commercev1.Platform_PLATFORM_CAFE24, "smartstore": commercev1.Platform_PLATFORM_SMARTSTORE, "ably": commercev1.Platform_PLATFORM_ABLY,
	}
	for word, addr := range cfg.Collectors {
		if addr == "" {
			log.Warn("collector disabled", "platform", word)
			continue
		}
		// Connections are made lazily: a collector that is down fails its
		// runs with UNAVAILABLE, it does not stop ingest from starting.
		cc, err := kit.Dial(addr)
		if err != nil {
			return fmt.Errorf("%s collector: %w", word, err)
		}
		defer cc.Close()
		collectors[platforms[word]] = collectorv1.NewCollectorServiceClient(cc)
	}

	// Issue 7: sellers, API keys and the auth interceptor (see identity.go).
	ident, err := buildIdentity(st, cfg.DefaultTimeZone, cfg.CreateMissingKeys)
	if err != nil {
		return err
	}
	srv, err := kit.New(kit.Config{Name: "ingest-svc", GRPCAddr: cfg.GRPCAddr, MetricsAddr: cfg.MetricsAddr, Logger: log,
		UnaryInterceptors: []grpc.UnaryServerInterceptor{ident.auth.Unary}, StreamInterceptors: []grpc.StreamServerInterceptor{ident.auth.Stream}})
	if err != nil {
		return err
	}
	// The runner and open watches stop with the server: all end when ctx does.
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	svc, err := Build(Deps{
		Store:           st,
		Keyring:         secrets.Keyring,
		BuyerKey:        secrets.BuyerKey,
		Collectors:      collectors,
		DefaultTimeZone: cfg.DefaultTimeZone,
		SyncWorkers:     cfg.SyncWorkers,
		Log:             log,
		Registerer:      srv.Registry(),
		Stopping:        runCtx.Done(),
		Queue: syncrun.Config{
			Lease: cfg.SyncLease, PollInterval: cfg.SyncPollInterval, FlushRecords: cfg.FlushRecords,
			RetryBase: cfg.RetryBase, RetryMax: cfg.RetryMax, Caps: capsOf(cfg.MaxRuns),
		},
		DailySchedule:       cfg.DailySchedule,
		IntradaySchedule:    cfg.IntradaySchedule,
		AlertWebhookURL:     secrets.AlertWebhookURL,
		RollupSweepInterval: cfg.RollupSweepInterval,
	})
	if err != nil {
		return err
	}
	svc.Register(srv.GRPC())
	ident.register(srv.GRPC()) // issue 7

	var wg sync.WaitGroup
	wg.Go(func() { svc.Background(runCtx) })
	err = srv.Run(runCtx)
	stop()
	wg.Wait()
	return err
}

// capsOf turns --max-runs-<platform> into the queue's caps by stored name.
func capsOf(maxRuns map[string]int) store.Caps {
	caps := store.Caps{}
	for word, n := range maxRuns {
		if n > 0 {
			caps[strings.ToUpper(word)] = n
		}
	}
	return caps
}
