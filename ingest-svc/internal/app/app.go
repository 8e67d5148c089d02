package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	ingestv1 "hlog.dev/proto/gen/hlog/ingest/v1"
	salesv1 "hlog.dev/proto/gen/hlog/sales/v1"
	"hlog.dev/proto/kit"

	"hlog.dev/ingest-svc/internal/api"
	"hlog.dev/ingest-svc/internal/credentials"
	"hlog.dev/ingest-svc/internal/loader"
	"hlog.dev/ingest-svc/internal/sales"
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
}

// Service is ingest-svc without its listener: the gRPC services and the
// sync runner.
type Service struct {
	Runner   *syncrun.Runner
	accounts *api.Accounts
	sync     *api.Sync
	sales    *api.Sales
}

// Build wires a Service.
func Build(d Deps) (*Service, error) {
	ld, err := loader.New(d.BuyerKey)
	if err != nil {
		return nil, err
	}
	box := credentials.NewBox(d.Keyring)
	runner := syncrun.New(syncrun.Config{
		Store:       d.Store,
		Loader:      ld,
		Credentials: box,
		Collectors:  d.Collectors,
		Log:         d.Log,
		Registerer:  d.Registerer,
		Workers:     d.SyncWorkers,
	})
	return &Service{
		Runner: runner,
		accounts: &api.Accounts{
			Store: d.Store, Credentials: box, Collectors: d.Collectors, Runner: runner, DefaultTimeZone: d.DefaultTimeZone,
		},
		sync:  &api.Sync{Store: d.Store, Runner: runner, Stopping: d.Stopping},
		sales: &api.Sales{Store: d.Store, Querier: sales.NewQuerier(d.Store.DB(), "KRW"), DefaultTimeZone: d.DefaultTimeZone},
	}, nil
}

// Register adds the services to a gRPC server.
func (s *Service) Register(r grpc.ServiceRegistrar) {
	ingestv1.RegisterAccountServiceServer(r, s.accounts)
	ingestv1.RegisterSyncServiceServer(r, s.sync)
	salesv1.RegisterSalesServiceServer(r, s.sales)
}

// Run is ingest-svc's main: configure, connect, migrate, serve until ctx ends.
func Run(ctx context.Context, args []string, log *slog.Logger) error {
	cfg, err := ParseConfig(args)
	if err != nil {
		return err
	}
	secrets, err := LoadSecrets(cfg, os.Getenv)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, secrets.MySQLDSN, store.Options{})
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

	srv, err := kit.New(kit.Config{Name: "ingest-svc", GRPCAddr: cfg.GRPCAddr, MetricsAddr: cfg.MetricsAddr, Logger: log})
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
	})
	if err != nil {
		return err
	}
	svc.Register(srv.GRPC())

	var wg sync.WaitGroup
	wg.Go(func() { _ = svc.Runner.Run(runCtx) })
	err = srv.Run(runCtx)
	stop()
	wg.Wait()
	return err
}
