// Package schedule queues scheduled runs: a daily run (08:00 by default) and
// an intraday refresh, in each seller's own time zone, with robfig/cron.
// Every replica runs the same cron. Enqueueing is idempotent per account and
// slot (sync_runs.slot is unique per account), so replicas need no leader:
// the first to fire queues the run, the others find it queued.
package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"hlog.dev/ingest-svc/internal/store"
)

// Slot kinds, the prefix of a slot key.
const (
	Daily    = "daily"
	Intraday = "intraday"
)

// Config builds a Scheduler.
type Config struct {
	Store *store.Store
	// Daily and Intraday are standard 5-field cron specs in the seller's
	// local time; empty disables one.
	Daily, Intraday string
	// Queued is called after runs were queued (wakes local workers).
	Queued func()
	Log    *slog.Logger
	// Reconcile is how often new sellers' time zones are picked up; 0
	// means one minute.
	Reconcile time.Duration
}

// Scheduler fires the schedules in every time zone sellers use.
type Scheduler struct {
	cfg      Config
	daily    cron.Schedule
	intraday cron.Schedule
	cron     *cron.Cron

	mu    sync.Mutex
	zones map[string]bool
}

var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// New checks the specs and returns a Scheduler.
func New(cfg Config) (*Scheduler, error) {
	s := &Scheduler{cfg: cfg, zones: map[string]bool{}}
	var err error
	if cfg.Daily != "" {
		if s.daily, err = parser.Parse(cfg.Daily); err != nil {
			return nil, fmt.Errorf("daily schedule %q: %w", cfg.Daily, err)
		}
	}
	if cfg.Intraday != "" {
		if s.intraday, err = parser.Parse(cfg.Intraday); err != nil {
			return nil, fmt.Errorf("intraday schedule %q: %w", cfg.Intraday, err)
		}
	}
	if s.cfg.Log == nil {
		s.cfg.Log = slog.Default()
	}
	if s.cfg.Reconcile <= 0 {
		s.cfg.Reconcile = time.Minute
	}
	return s, nil
}

// NextSync is the next scheduled run after t for a seller in time zone tz,
// or nil when nothing is scheduled.
func (s *Scheduler) NextSync(tz string, t time.Time) *time.Time {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil
	}
	var next *time.Time
	for _, sch := range []cron.Schedule{s.daily, s.intraday} {
		if sch == nil {
			continue
		}
		n := sch.Next(t.In(loc)).UTC()
		if next == nil || n.Before(*next) {
			next = &n
		}
	}
	return next
}

// Run fires the schedules until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	if s.daily == nil && s.intraday == nil {
		return
	}
	s.cron = cron.New(cron.WithParser(parser), cron.WithLocation(time.UTC))
	s.cron.Start()
	defer func() { <-s.cron.Stop().Done() }()
	t := time.NewTicker(s.cfg.Reconcile)
	defer t.Stop()
	for {
		s.addZones(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// addZones adds cron entries for time zones not seen before.
func (s *Scheduler) addZones(ctx context.Context) {
	zones, err := s.cfg.Store.TimeZones(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.cfg.Log.Error("listing time zones to schedule", "err", err.Error())
		}
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tz := range zones {
		if s.zones[tz] {
			continue
		}
		loc, err := time.LoadLocation(tz)
		if err != nil {
			s.cfg.Log.Error("a seller's time zone is unknown", "time_zone", tz, "err", err.Error())
			continue
		}
		for kind, spec := range map[string]string{Daily: s.cfg.Daily, Intraday: s.cfg.Intraday} {
			if spec == "" {
				continue
			}
			kind := kind
			// CRON_TZ makes the spec local to the sellers of this zone.
			if _, err := s.cron.AddFunc("CRON_TZ="+tz+" "+spec, func() {
				// Cron fires on the minute; the slot is that minute, the
				// same on every replica.
				slot := time.Now().In(loc).Truncate(time.Minute)
				if _, err := s.Fire(context.WithoutCancel(ctx), tz, kind, slot); err != nil {
					s.cfg.Log.Error("queueing scheduled runs", "time_zone", tz, "kind", kind, "err", err.Error())
				}
			}); err != nil {
				s.cfg.Log.Error("scheduling a time zone", "time_zone", tz, "err", err.Error())
				continue
			}
		}
		s.zones[tz] = true
	}
}

// SlotKey names a slot: its kind and local minute, e.g.
// "daily@2026-11-21T08:00+09:00".
func SlotKey(kind string, at time.Time) string {
	return kind + "@" + at.Format("2006-01-02T15:04Z07:00")
}

// Fire queues one run per active account of the sellers in tz for the slot
// at `at` (their local time). Calling it again for the same slot, from
// this or another replica, queues nothing more. It returns how many runs
// it queued.
func (s *Scheduler) Fire(ctx context.Context, tz, kind string, at time.Time) (int, error) {
	key := SlotKey(kind, at)
	queued := 0
	var after store.ScheduledAccount
	for {
		page, err := s.cfg.Store.ActiveAccountsIn(ctx, tz, after, 500)
		if err != nil {
			return queued, err
		}
		for _, a := range page {
			created, err := s.cfg.Store.EnqueueSlot(ctx, a.SellerID, a.AccountID, key)
			if err != nil {
				return queued, err
			}
			if created {
				queued++
			}
		}
		if queued > 0 && s.cfg.Queued != nil {
			s.cfg.Queued()
		}
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1]
	}
	s.cfg.Log.Info("scheduled runs queued", "time_zone", tz, "slot", key, "runs", queued)
	return queued, nil
}
