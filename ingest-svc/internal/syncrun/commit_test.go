package syncrun

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	"hlog.dev/proto/kit/mysqltest"
	"hlog.dev/proto/synth"

	"hlog.dev/ingest-svc/internal/loader"
	"hlog.dev/ingest-svc/internal/replay"
	"hlog.dev/ingest-svc/internal/store"
)

func TestMain(m *testing.M) { mysqltest.Main(m) }

// claimedLoad sets up an account with a claimed run and a load of it with
// one batch of orders (lines and claims included) buffered.
func claimedLoad(t *testing.T) (*store.Store, *load, *loader.Batch) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, mysqltest.Start(t).DSN, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	acct, _, err := st.AddAccount(ctx, store.NewAccount{
		SellerID: 1, Platform: commercev1.Platform_PLATFORM_CAFE24, ExternalAccountID: "mall", DisplayName: "mall", DefaultTimeZone: "Asia/Seoul",
		SealCredentials: func(uint64) (store.Sealed, error) { return store.Sealed{Ciphertext: []byte("x"), KeyID: "k"}, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	ld, err := loader.New(bytes.Repeat([]byte("b"), 32))
	if err != nil {
		t.Fatal(err)
	}
	r := New(Config{Store: st, Loader: ld})
	run, found, err := st.ClaimRun(ctx, r.owner, time.Minute)
	if err != nil || !found {
		t.Fatalf("claiming the backfill run: %v, %v", found, err)
	}
	loc, _ := time.LoadLocation("Asia/Seoul")
	s, err := synth.Generate(synth.Config{Seed: 5, Start: time.Date(2024, 1, 1, 0, 0, 0, 0, loc), End: time.Date(2024, 1, 20, 0, 0, 0, 0, loc)})
	if err != nil {
		t.Fatal(err)
	}
	batches, err := replay.Batches(s, "orders", 1000)
	if err != nil {
		t.Fatal(err)
	}
	l := &load{r: r, run: run, rc: store.RunContext{Account: acct}, requested: map[string]bool{"orders": true}}
	b := ld.NewBatch(loader.Scope{SellerID: 1, AccountID: acct.AccountID, Location: loc})
	if err := b.Add(batches[0]); err != nil {
		t.Fatal(err)
	}
	return st, l, b
}

func rows(t *testing.T, st *store.Store, query string) int {
	t.Helper()
	var n int
	if err := st.DB().QueryRow(query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// nothingCommitted fails the test if any order, line, checkpoint, count or
// day mark of a load is stored (claims are left out: a test takes their
// table away).
func nothingCommitted(t *testing.T, st *store.Store, after string) {
	t.Helper()
	for what, q := range map[string]string{
		"orders":   "SELECT COUNT(*) FROM orders",
		"lines":    "SELECT COUNT(*) FROM order_lines",
		"cursors":  "SELECT COUNT(*) FROM stream_cursors",
		"progress": "SELECT COALESCE(SUM(records_loaded), 0) FROM sync_run_streams",
		"days":     "SELECT COUNT(*) FROM rollup_dirty",
	} {
		if n := rows(t, st, q); n != 0 {
			t.Errorf("%s: %d rows committed %s", what, n, after)
		}
	}
}

func TestFailedBatchCommitsNeitherRecordsNorCheckpoint(t *testing.T) {
	st, l, b := claimedLoad(t)
	ctx := context.Background()
	// Claims are written after orders and lines in the same transaction:
	// take their table away so the batch fails half-way through.
	if _, err := st.DB().Exec("RENAME TABLE order_line_claims TO order_line_claims_away"); err != nil {
		t.Fatal(err)
	}
	cp := &collectorv1.Checkpoint{Stream: "orders", Cursor: []byte("1")}
	err := l.commit(ctx, b, []*collectorv1.Checkpoint{cp})
	if status.Code(err) != codes.Internal {
		t.Fatalf("commit with a broken table: %v, want INTERNAL", err)
	}
	nothingCommitted(t, st, "by a failed batch")

	if _, err := st.DB().Exec("RENAME TABLE order_line_claims_away TO order_line_claims"); err != nil {
		t.Fatal(err)
	}
	if err := l.commit(ctx, b, []*collectorv1.Checkpoint{cp}); err != nil {
		t.Fatalf("the same batch once the table is back: %v", err)
	}
	if rows(t, st, "SELECT COUNT(*) FROM orders") == 0 || rows(t, st, "SELECT COUNT(*) FROM order_line_claims") == 0 {
		t.Fatal("the retried batch committed no records")
	}
	cursors, err := st.Cursors(ctx, 1, l.run.AccountID)
	if err != nil || string(cursors["orders"]) != "1" {
		t.Fatalf("cursor after the retried batch: %q, %v", cursors["orders"], err)
	}
	if n := rows(t, st, "SELECT SUM(records_loaded) FROM sync_run_streams"); n == 0 {
		t.Fatal("progress not counted with the batch")
	}
}

func TestBatchOfALostRunIsNotCommitted(t *testing.T) {
	st, l, b := claimedLoad(t)
	ctx := context.Background()
	// Another replica took the run over (our lease expired).
	if _, err := st.DB().Exec("UPDATE sync_runs SET lease_owner = 'someone-else'"); err != nil {
		t.Fatal(err)
	}
	err := l.commit(ctx, b, []*collectorv1.Checkpoint{{Stream: "orders", Cursor: []byte("1")}})
	if !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("commit of a lost run: %v, want ErrLeaseLost", err)
	}
	if n := rows(t, st, "SELECT COUNT(*) FROM orders") + rows(t, st, "SELECT COUNT(*) FROM stream_cursors"); n != 0 {
		t.Fatalf("a lost run committed %d rows", n)
	}
}

func TestCodeName(t *testing.T) {
	for code, want := range map[codes.Code]string{
		codes.OK: "OK", codes.FailedPrecondition: "FAILED_PRECONDITION", codes.Unauthenticated: "UNAUTHENTICATED",
		codes.ResourceExhausted: "RESOURCE_EXHAUSTED", codes.DeadlineExceeded: "DEADLINE_EXCEEDED", codes.Internal: "INTERNAL",
	} {
		if got := CodeName(code); got != want {
			t.Errorf("CodeName(%v) = %q, want %q", code, got, want)
		}
	}
}

func TestFailureNeedsSellerOnlyForCredentialProblems(t *testing.T) {
	for code, needs := range map[codes.Code]bool{
		codes.Unauthenticated: true, codes.FailedPrecondition: true, codes.PermissionDenied: true,
		codes.Unavailable: false, codes.ResourceExhausted: false, codes.Internal: false,
	} {
		f := describeFailure(status.Error(code, "x"))
		if f.NeedsSeller != needs || f.Message != "x" {
			t.Errorf("%v: %+v, want needs_seller %v", code, f, needs)
		}
	}
}
