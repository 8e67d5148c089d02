// Package syncrun executes collection runs: it claims queued runs, calls the
// account's collector, loads what the collector streams and records how the
// run went. Runs live in MySQL (sync_runs) with leases, so a run whose worker
// dies is taken over and resumed from its saved cursors.
package syncrun

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"

	"hlog.dev/ingest-svc/internal/credentials"
	"hlog.dev/ingest-svc/internal/loader"
	"hlog.dev/ingest-svc/internal/store"
)

// Collectors are the collector clients by platform.
type Collectors map[commercev1.Platform]collectorv1.CollectorServiceClient

// Config builds a Runner.
type Config struct {
	Store       *store.Store
	Loader      *loader.Loader
	Credentials *credentials.Box
	Collectors  Collectors
	Log         *slog.Logger
	// Registerer receives the runner's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Workers is how many runs execute at once in this process; 0 means 4.
	Workers int
	// Lease is how long a claimed run stays this process's without renewal;
	// 0 means 2 minutes. It is renewed every third of it.
	Lease time.Duration
	// PollInterval is how often idle workers look for runs queued by other
	// replicas (runs queued here wake a worker at once); 0 means 5 seconds.
	PollInterval time.Duration
	// FlushRecords is how many records a batch gathers before it is
	// committed with the latest checkpoints; 0 means 5000.
	FlushRecords int
	// FlushInterval commits a smaller batch once it is this old, so progress
	// shows while a collector is slow; 0 means 2 seconds.
	FlushInterval time.Duration
	// Caps limit runs per platform across replicas (store names, "ABLY").
	Caps store.Caps
	// Rollups, when set, are refreshed before a run is declared done.
	Rollups RollupRefresher
	// Alerts, when set, hear of runs that died or need the seller.
	Alerts Alerter
	// RetryBase and RetryMax bound the backoff between attempts; 0 means
	// 30 seconds and 30 minutes.
	RetryBase, RetryMax time.Duration
}

// RollupRefresher recomputes a seller's stale daily rollups.
type RollupRefresher interface {
	RefreshSeller(ctx context.Context, sellerID uint64) error
}

// Alerter is told when an account's run dies or needs the seller, and when
// the account succeeds again (the incident is over).
type Alerter interface {
	Incident(ctx context.Context, in Incident)
	Resolved(ctx context.Context, sellerID, accountID uint64)
}

// Incident is a run that failed for good.
type Incident struct {
	SellerID, AccountID, RunID uint64
	Platform                   commercev1.Platform
	Code, Message              string
	NeedsSeller                bool
	Attempts                   int
}

// Runner queues and executes runs.
type Runner struct {
	cfg     Config
	log     *slog.Logger
	owner   string
	wake    chan struct{}
	changes *broadcaster
	metrics *metrics

	mu           sync.Mutex
	active       map[accountKey]context.CancelCauseFunc
	descriptions map[commercev1.Platform]*collectorv1.DescribeResponse
	turn         atomic.Int64
}

type accountKey struct{ sellerID, accountID uint64 }

// New returns a Runner; call Run to start its workers.
func New(cfg Config) *Runner {
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 5 * time.Second
	}
	if cfg.FlushRecords <= 0 {
		cfg.FlushRecords = 5000
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = 2 * time.Second
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 30 * time.Second
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = 30 * time.Minute
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	return &Runner{
		cfg:     cfg,
		log:     log,
		owner:   leaseOwner(),
		wake:    make(chan struct{}, cfg.Workers),
		changes: newBroadcaster(),
		metrics: newMetrics(cfg.Registerer),
		active:  map[accountKey]context.CancelCauseFunc{},

		descriptions: map[commercev1.Platform]*collectorv1.DescribeResponse{},
	}
}

// leaseOwner names this process in run leases: readable for operators,
// unique across restarts.
func leaseOwner() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%.40s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Enqueue queues a run of an account, or returns the account's run that is
// already queued or running.
func (r *Runner) Enqueue(ctx context.Context, sellerID, accountID uint64, trigger string, streams []string) (store.Run, error) {
	run, created, err := r.cfg.Store.EnqueueRun(ctx, sellerID, accountID, trigger, streams)
	if err != nil {
		return store.Run{}, err
	}
	if created {
		r.Notify()
	}
	return run, nil
}

// Notify wakes an idle worker and every watcher: call it after queueing a
// run by other means (AddAccount's backfill run).
func (r *Runner) Notify() {
	select {
	case r.wake <- struct{}{}:
	default: // every worker already has a wake-up pending
	}
	r.changes.notify()
}

// Changes returns a channel closed at the next change of any run made by this
// process. Take it before reading a run, then wait on it.
func (r *Runner) Changes() <-chan struct{} { return r.changes.wait() }

// CancelAccount stops the account's run in this process, if any (the
// account is being removed).
func (r *Runner) CancelAccount(sellerID, accountID uint64) {
	r.mu.Lock()
	cancel := r.active[accountKey{sellerID, accountID}]
	r.mu.Unlock()
	if cancel != nil {
		cancel(errAccountRemoved)
	}
}

var errAccountRemoved = errors.New("account removed")

// Run executes queued runs until ctx is done, then waits for the runs in
// flight to hand their work back to the queue.
func (r *Runner) Run(ctx context.Context) error {
	// Slot rows must exist before capped platforms can be claimed; the
	// database may not be reachable yet.
	for {
		err := r.cfg.Store.EnsureSlots(ctx, r.cfg.Caps)
		if err == nil {
			break
		}
		r.log.Error("creating platform run slots", "err", err.Error())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(r.cfg.PollInterval):
		}
	}
	var wg sync.WaitGroup
	for range r.cfg.Workers {
		wg.Go(func() { r.work(ctx) })
	}
	wg.Wait()
	return nil
}

func (r *Runner) work(ctx context.Context) {
	idle := time.NewTimer(0)
	defer idle.Stop()
	for ctx.Err() == nil {
		// Workers start their claims on different platforms, so one busy
		// platform does not starve the others.
		run, found, err := r.cfg.Store.Claim(ctx, r.owner, r.cfg.Lease, r.cfg.Caps, int(r.turn.Add(1)))
		if err != nil && ctx.Err() == nil {
			r.log.Error("claiming a run", "err", err.Error())
		}
		if found {
			r.execute(ctx, run)
			continue
		}
		idle.Reset(r.cfg.PollInterval)
		select {
		case <-ctx.Done():
		case <-r.wake:
		case <-idle.C:
		}
	}
}

// broadcaster wakes every waiter at once by closing a channel.
type broadcaster struct {
	mu sync.Mutex
	ch chan struct{}
}

func newBroadcaster() *broadcaster { return &broadcaster{ch: make(chan struct{})} }

func (b *broadcaster) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ch
}

func (b *broadcaster) notify() {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.ch)
	b.ch = make(chan struct{})
}

type metrics struct {
	finished *prometheus.CounterVec
	records  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hlog_ingest_sync_runs_finished_total",
			Help: "Sync runs finished, by platform, final state and gRPC code.",
		}, []string{"platform", "state", "code"}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hlog_ingest_records_loaded_total",
			Help: "Canonical records committed to MySQL, by platform and stream.",
		}, []string{"platform", "stream"}),
	}
	if reg != nil {
		reg.MustRegister(m.finished, m.records)
	}
	return m
}
