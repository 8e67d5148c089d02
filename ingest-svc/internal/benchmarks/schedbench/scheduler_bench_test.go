package schedbench

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	"hlog.dev/proto/kit/mysqltest"

	"hlog.dev/ingest-svc/internal/benchmarks/benchkit"
	"hlog.dev/ingest-svc/internal/credentials"
	"hlog.dev/ingest-svc/internal/replay"
	"hlog.dev/ingest-svc/internal/schedule"
	"hlog.dev/ingest-svc/internal/store"
	"hlog.dev/ingest-svc/internal/vault"
)

func TestMain(m *testing.M) { mysqltest.Main(m) }

// countingCollector is a fast replay collector that counts Collect calls
// per mall (each account has its own).
type countingCollector struct {
	*replay.Collector
	mu    sync.Mutex
	calls map[string]int
}

func (c *countingCollector) Collect(req *collectorv1.CollectRequest, stream collectorv1.CollectorService_CollectServer) error {
	c.mu.Lock()
	c.calls[req.GetCredentials().GetCafe24().GetMallId()]++
	c.mu.Unlock()
	return c.Collector.Collect(req, stream)
}

// BenchmarkScheduler queues one scheduled run for each of 10,000 accounts
// from two schedulers firing the same slot (as two replicas' crons do), and
// lets two ingest-svc processes claim and execute them against a fast
// replay collector. Every run must complete, exactly once.
func BenchmarkScheduler(b *testing.B) {
	for range b.N {
		benchScheduler(b)
	}
}

func benchScheduler(b *testing.B) {
	const accounts = 10000
	ctx := context.Background()
	d := mysqltest.Start(b)
	st, err := store.Open(ctx, d.DSN, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	keys, err := vault.NewKeyring("bench-1", map[string][]byte{"bench-1": bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		b.Fatal(err)
	}
	box := credentials.NewBox(keys)

	// 500 sellers with 20 accounts each, in two time zones.
	for i := range accounts {
		seller := uint64(1 + i/20)
		tz := "Asia/Seoul"
		if seller%2 == 0 {
			tz = "Asia/Tokyo"
		}
		mall := fmt.Sprintf("mall%05d", i)
		if _, _, err := st.AddAccount(ctx, store.NewAccount{
			SellerID: seller, Platform: commercev1.Platform_PLATFORM_CAFE24, ExternalAccountID: mall, DisplayName: mall, DefaultTimeZone: tz,
			SealCredentials: func(id uint64) (store.Sealed, error) { return box.Seal(seller, id, benchkit.Cafe24Creds(mall)) },
		}); err != nil {
			b.Fatal(err)
		}
	}
	// The backfill runs queued with the accounts are not what is measured.
	if _, err := st.DB().Exec("DELETE FROM sync_runs"); err != nil {
		b.Fatal(err)
	}

	tiny := benchkit.Generate(b, 7, 3, time.Date(2024, 3, 1, 0, 0, 0, 0, benchkit.Seoul), time.Date(2024, 3, 4, 0, 0, 0, 0, benchkit.Seoul))
	fake := &countingCollector{Collector: benchkit.ReplayOf(tiny, "mall", 50), calls: map[string]int{}}
	addr := benchkit.ServeCollector(b, fake)

	// Two schedulers fire the same slots at once, as every replica's cron does.
	start := time.Now()
	var wg sync.WaitGroup
	var queued [2]int
	for r := range 2 {
		sched, err := schedule.New(schedule.Config{Store: st, Daily: "0 8 * * *"})
		if err != nil {
			b.Fatal(err)
		}
		wg.Go(func() {
			for _, tz := range []string{"Asia/Seoul", "Asia/Tokyo"} {
				loc := benchkit.MustLoc(tz)
				n, err := sched.Fire(ctx, tz, schedule.Daily, time.Date(2024, 3, 5, 8, 0, 0, 0, loc))
				if err != nil {
					b.Error(err)
				}
				queued[r] += n
			}
		})
	}
	wg.Wait()
	enqueueTime := time.Since(start)
	if queued[0]+queued[1] != accounts {
		b.Fatalf("the two schedulers queued %d + %d runs for %d accounts", queued[0], queued[1], accounts)
	}

	args := []string{"--sync-workers", "8", "--sync-poll-interval", "100ms", "--max-runs-cafe24", "12"}
	start = time.Now()
	replicas := []interface{ Logs() string }{
		benchkit.StartIngest(b, d.DSN, addr, args...),
		benchkit.StartIngest(b, d.DSN, addr, args...),
	}
	deadline := time.Now().Add(30 * time.Minute)
	for {
		open := benchkit.Scalar(b, st.DB(), "SELECT COUNT(*) FROM sync_runs WHERE state <> 'SUCCEEDED'")
		if open == 0 {
			break
		}
		if failed := benchkit.Scalar(b, st.DB(), "SELECT COUNT(*) FROM sync_runs WHERE state = 'FAILED'"); failed > 0 || time.Now().After(deadline) {
			b.Fatalf("%d runs open, %d failed:\n%s", open, failed, replicas[0].Logs())
		}
		time.Sleep(200 * time.Millisecond) // polling the processes' progress
	}
	runTime := time.Since(start)

	if n := benchkit.Scalar(b, st.DB(), "SELECT COUNT(*) FROM sync_runs WHERE state = 'SUCCEEDED' AND attempt = 1"); n != accounts {
		b.Fatalf("%d runs succeeded on their first attempt, want %d", n, accounts)
	}
	fake.mu.Lock()
	var twice []string
	for i := range accounts {
		mall := fmt.Sprintf("mall%05d", i)
		if fake.calls[mall] != 1 {
			twice = append(twice, fmt.Sprintf("%s:%d", mall, fake.calls[mall]))
		}
	}
	fake.mu.Unlock()
	if len(twice) > 0 {
		b.Fatalf("accounts not collected exactly once: %s", strings.Join(twice[:min(20, len(twice))], " "))
	}
	if n := benchkit.Scalar(b, st.DB(), "SELECT COUNT(DISTINCT seller_id, account_id) FROM order_lines"); n != accounts {
		b.Fatalf("lines of %d accounts loaded, want %d", n, accounts)
	}
	b.Logf("queued %d runs in %s; two replicas ran them in %s", accounts, enqueueTime, runTime)
	benchkit.Bench("scheduler_runs", accounts, "runs", ">=10000")
	benchkit.Bench("scheduler_runs_twice", float64(len(twice)), "runs", "<=0")
	benchkit.Bench("scheduler_claims_per_s", float64(accounts)/runTime.Seconds(), "claims/s", ">0")
	benchkit.Bench("scheduler_enqueue_per_s", float64(accounts)/enqueueTime.Seconds(), "runs/s", ">0")
}
