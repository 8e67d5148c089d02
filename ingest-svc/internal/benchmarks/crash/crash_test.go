package crash

import (
	"context"
	"io"
	"strconv"
	"testing"
	"time"

	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	ingestv1 "hlog.dev/proto/gen/hlog/ingest/v1"
	"hlog.dev/proto/kit/mysqltest"
	"hlog.dev/proto/synth"

	"hlog.dev/ingest-svc/internal/benchmarks/benchkit"
	"hlog.dev/ingest-svc/internal/dbdump"
	"hlog.dev/ingest-svc/internal/loader"
	"hlog.dev/ingest-svc/internal/proctest"
	"hlog.dev/ingest-svc/internal/replay"
	"hlog.dev/ingest-svc/internal/rollup"
	"hlog.dev/ingest-svc/internal/store"
)

func TestMain(m *testing.M) { mysqltest.Main(m) }

// The crash tests load a large store through a real ingest-svc process,
// break something in the middle of the load, and require the final rows to
// equal the ground truth loaded once, row for row: no duplicate, no gap.

// Small batches and a short lease: many checkpoints to resume from, and a
// dead replica's run is taken over quickly.
var crashArgs = []string{"--sync-lease", "3s", "--sync-poll-interval", "100ms", "--sync-retry-base", "200ms",
	"--sync-retry-max", "1s", "--sync-batch-records", "2000"}

func crashTruth(t *testing.T) *synth.Store {
	return benchkit.Generate(t, 99, 200, time.Date(2024, 1, 1, 0, 0, 0, 0, benchkit.Seoul), time.Date(2024, 10, 1, 0, 0, 0, 0, benchkit.Seoul))
}

// addAndWatch adds the Cafe24 account and returns its account id, its
// backfill run id and a channel fed with the orders records loaded so far.
func addAndWatch(t *testing.T, c benchkit.Client) (uint64, string, <-chan int64) {
	t.Helper()
	added, err := c.Accounts.AddAccount(benchkit.As("1"), &ingestv1.AddAccountRequest{Platform: commercev1.Platform_PLATFORM_CAFE24, Credentials: benchkit.Cafe24Creds("crash-mall")})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := c.Sync.ListSyncRuns(benchkit.As("1"), &ingestv1.ListSyncRunsRequest{AccountId: added.Account.AccountId})
	if err != nil || len(runs.Runs) != 1 {
		t.Fatalf("backfill run: %v, %v", runs, err)
	}
	runID := runs.Runs[0].RunId
	stream, err := c.Sync.WatchSyncRun(benchkit.As("1"), &ingestv1.WatchSyncRunRequest{RunId: runID})
	if err != nil {
		t.Fatal(err)
	}
	loaded := make(chan int64, 1000)
	go func() {
		defer close(loaded)
		for {
			resp, err := stream.Recv()
			if err != nil {
				return // the process died or the run ended
			}
			for _, s := range resp.Run.Streams {
				if s.Stream == "orders" {
					loaded <- s.RecordsLoaded
				}
			}
		}
	}()
	id, _ := strconv.ParseUint(added.Account.AccountId, 10, 64)
	return id, runID, loaded
}

// waitLoaded returns once at least n orders records are committed.
func waitLoaded(t *testing.T, loaded <-chan int64, n int64) {
	t.Helper()
	for v := range loaded {
		if v >= n {
			return
		}
	}
	t.Fatal("the watch ended before the load got that far")
}

// finalRun waits, through the run's watch, for the run to end.
func finalRun(t *testing.T, c benchkit.Client, runID string) *ingestv1.SyncRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(benchkit.As("1"), 5*time.Minute)
	defer cancel()
	stream, err := c.Sync.WatchSyncRun(ctx, &ingestv1.WatchSyncRunRequest{RunId: runID})
	if err != nil {
		t.Fatal(err)
	}
	var last *ingestv1.SyncRun
	for {
		resp, err := stream.Recv()
		if err == io.EOF {
			return last
		}
		if err != nil {
			t.Fatalf("watching run %s: %v", runID, err)
		}
		last = resp.Run
	}
}

// midLoad checks the crash came in the middle: some lines, not all.
func midLoad(t *testing.T, dsn string, truth *synth.Store) {
	t.Helper()
	st, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n := benchkit.Scalar(t, st.DB(), "SELECT COUNT(*) FROM order_lines"); n == 0 || n >= int64(len(truth.Lines)) {
		t.Fatalf("%d of %d lines loaded at the crash; the crash must come mid-load", n, len(truth.Lines))
	}
}

// wantGroundTruth compares every data table of the crashed load with the
// same store loaded once, cleanly, into a fresh database.
func wantGroundTruth(t *testing.T, dsn string, accountID uint64, truth *synth.Store) {
	t.Helper()
	ctx := context.Background()
	got, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	ref, err := store.Open(ctx, mysqltest.Start(t).DSN, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	// The account row as in the crashed database (rollups join it).
	if _, err := ref.DB().Exec(`INSERT INTO sellers (seller_id, time_zone, created_at) VALUES (1, 'Asia/Seoul', NOW(6))`); err != nil {
		t.Fatal(err)
	}
	if _, err := ref.DB().Exec(`INSERT INTO platform_accounts (seller_id, account_id, platform, external_account_id, display_name, status,
		  credentials_ciphertext, credentials_key_id, credentials_updated_at, created_at)
		VALUES (1, ?, 'CAFE24', 'crash-mall', 'crash-mall', 'ACTIVE', '', 'k', NOW(6), NOW(6))`, accountID); err != nil {
		t.Fatal(err)
	}
	ld, err := loader.New(benchkit.BuyerKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := replay.Load(ctx, ref.DB(), ld, loader.Scope{SellerID: 1, AccountID: accountID, Location: benchkit.Seoul}, truth, 500); err != nil {
		t.Fatal(err)
	}
	if err := rollup.New(ref.DB()).RefreshSeller(ctx, 1); err != nil {
		t.Fatal(err)
	}
	tables := append(append([]string(nil), dbdump.RecordTables...), "sales_daily", "sales_daily_accounts", "buyer_days")
	want := dbdump.Tables(t, ref.DB(), tables...)
	have := dbdump.Tables(t, got.DB(), tables...)
	if diff := dbdump.Diff(want, have); diff != "" {
		t.Fatalf("rows after the crash differ from the ground truth:\n%s", diff)
	}
	if n := len(have["order_lines"]); n != len(truth.Lines) {
		t.Fatalf("%d order lines, want %d", n, len(truth.Lines))
	}
}

func TestKillIngestMidLoadThenRestartGivesGroundTruth(t *testing.T) {
	truth := crashTruth(t)
	d := mysqltest.Start(t)
	addr := benchkit.ServeCollector(t, benchkit.ReplayOf(truth, "crash-mall", 200))
	first := benchkit.StartIngest(t, d.DSN, addr, crashArgs...)
	accountID, runID, loaded := addAndWatch(t, benchkit.DialIngest(t, first.Addr))
	waitLoaded(t, loaded, int64(len(truth.Orders)+len(truth.Lines))/3)
	first.Kill() // kill -9 in the middle of the load
	midLoad(t, d.DSN, truth)

	second := benchkit.StartIngest(t, d.DSN, addr, crashArgs...)
	final := finalRun(t, benchkit.DialIngest(t, second.Addr), runID)
	if final.State != ingestv1.SyncRunState_SYNC_RUN_STATE_SUCCEEDED || final.Attempt < 2 {
		t.Fatalf("run after the kill = %v; want SUCCEEDED on a later attempt (taken over)\n%s", final, second.Logs())
	}
	wantGroundTruth(t, d.DSN, accountID, truth)
}

func TestMariaDBCrashMidLoadThenRecoveryGivesGroundTruth(t *testing.T) {
	truth := crashTruth(t)
	db := proctest.StartMariaDB(t)
	addr := benchkit.ServeCollector(t, benchkit.ReplayOf(truth, "crash-mall", 200))
	ingest := benchkit.StartIngest(t, db.DSN, addr, crashArgs...)
	c := benchkit.DialIngest(t, ingest.Addr)
	accountID, runID, loaded := addAndWatch(t, c)
	waitLoaded(t, loaded, int64(len(truth.Orders)+len(truth.Lines))/3)
	db.Crash() // SIGKILL: uncommitted work is lost, committed work recovers
	db.Start(t)
	midLoad(t, db.DSN, truth)

	final := finalRun(t, c, runID)
	if final.State != ingestv1.SyncRunState_SYNC_RUN_STATE_SUCCEEDED || final.Attempt < 2 {
		t.Fatalf("run after the database crash = %v; want SUCCEEDED on a later attempt\n%s", final, ingest.Logs())
	}
	wantGroundTruth(t, db.DSN, accountID, truth)
}
