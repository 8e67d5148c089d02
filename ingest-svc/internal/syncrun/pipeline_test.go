package syncrun

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	"hlog.dev/proto/synth"

	"hlog.dev/ingest-svc/internal/credentials"
	"hlog.dev/ingest-svc/internal/loader"
	"hlog.dev/ingest-svc/internal/replay"
	"hlog.dev/ingest-svc/internal/store"
	"hlog.dev/ingest-svc/internal/vault"
)

// replayedOrders are batches of orders (60 each, lines included) of a
// small synthetic store.
func replayedOrders(t *testing.T) []*collectorv1.RecordBatch {
	t.Helper()
	loc, _ := time.LoadLocation("Asia/Seoul")
	s, err := synth.Generate(synth.Config{Seed: 6, Start: time.Date(2024, 2, 1, 0, 0, 0, 0, loc), End: time.Date(2024, 2, 10, 0, 0, 0, 0, loc)})
	if err != nil {
		t.Fatal(err)
	}
	rbs, err := replay.Batches(s, "orders", 60)
	if err != nil || len(rbs) < 3 {
		t.Fatalf("%d batches, %v", len(rbs), err)
	}
	return rbs
}

// firstLoadBatch starts a batch of a first load: every line is new.
func firstLoadBatch(l *load) *loader.Batch {
	loc, _ := time.LoadLocation("Asia/Seoul")
	b := l.r.cfg.Loader.NewBatch(loader.Scope{SellerID: 1, AccountID: l.run.AccountID, Location: loc})
	b.New = func(string) bool { return true }
	return b
}

// firstLoadBatches makes pending batches of a first load, one per replayed
// batch of orders, each followed by a checkpoint with the given cursor;
// they are independent of each other.
func firstLoadBatches(t *testing.T, l *load, cursors ...string) []*pending {
	t.Helper()
	rbs := replayedOrders(t)
	var out []*pending
	for i, c := range cursors {
		b := firstLoadBatch(l)
		if err := b.Add(rbs[i]); err != nil {
			t.Fatal(err)
		}
		b.Seal()
		out = append(out, &pending{batch: b, checkpoints: []*collectorv1.Checkpoint{{Stream: "orders", Cursor: []byte(c)}}})
	}
	if !out[1].batch.Independent(out[0].batch) {
		t.Fatal("the batches are not independent: the test would not write them at once")
	}
	return out
}

// runWriter hands the batches to the writer and returns its error. The
// writer's cancel, which in a load stops everything after the first error,
// does nothing here: the ordering alone must keep a batch from committing
// after a failed one.
func runWriter(l *load, batches []*pending) error {
	ctx := context.Background()
	cancel := func(error) {}
	full := make(chan *pending, len(batches))
	free := make(chan *pending, len(batches))
	for _, p := range batches {
		full <- p
	}
	close(full)
	return l.write(ctx, cancel, full, free)
}

func TestBatchesWrittenAtOnceCommitInOrder(t *testing.T) {
	st, l, _ := claimedLoad(t)
	batches := firstLoadBatches(t, l, "1", "2")
	want := int(batches[0].batch.Loaded()["orders"] + batches[1].batch.Loaded()["orders"])
	if err := runWriter(l, batches); err != nil {
		t.Fatal(err)
	}
	// The later batch's checkpoint is the one that stays: it committed last.
	cursors, err := st.Cursors(context.Background(), 1, l.run.AccountID)
	if err != nil || string(cursors["orders"]) != "2" {
		t.Fatalf("cursor after two batches: %q, %v", cursors["orders"], err)
	}
	if n := rows(t, st, "SELECT SUM(records_loaded) FROM sync_run_streams"); n != want {
		t.Fatalf("%d records counted, want %d", n, want)
	}
	if n := rows(t, st, "SELECT COUNT(*) FROM orders") + rows(t, st, "SELECT COUNT(*) FROM order_lines"); n != want {
		t.Fatalf("%d orders and lines stored, want %d", n, want)
	}
	if n := rows(t, st, "SELECT COUNT(*) FROM rollup_dirty"); n == 0 {
		t.Fatal("no day marked for the rollups")
	}
}

func TestBatchAfterAFailedOneIsNotCommitted(t *testing.T) {
	st, l, _ := claimedLoad(t)
	// The first batch fails after its rows are written: its cursor does not
	// fit the column. The second, written at the same time, must not commit
	// either, or its checkpoint would skip the first one's records.
	batches := firstLoadBatches(t, l, string(bytes.Repeat([]byte("9"), maxCursorBytes+1)), "2")
	err := runWriter(l, batches)
	if status.Code(err) != codes.Internal || errors.Is(err, errEarlierBatch) {
		t.Fatalf("writer error %v, want the first batch's INTERNAL error", err)
	}
	nothingCommitted(t, st, "after a failed batch")
}

// A credential update waits until every batch before it committed, and the
// load goes on after it: the writer hands each batch back as soon as it
// committed, not when the next one comes.
func TestCredentialUpdateBetweenBatchesWaitsForThemAndLoadGoesOn(t *testing.T) {
	st, l, _ := claimedLoad(t)
	keys, err := vault.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	box := credentials.NewBox(keys)
	l.r.cfg.Credentials = box
	l.r.cfg.FlushRecords = 1 // every checkpoint hands its batch to the writer
	l.newBatch = func() *loader.Batch { return firstLoadBatch(l) }
	rbs := replayedOrders(t)
	rotated := &collectorv1.Credentials{Platform: &collectorv1.Credentials_Cafe24{Cafe24: &collectorv1.Cafe24Credentials{
		MallId: "mall", AccessToken: "rotated-access", RefreshToken: "rotated-refresh"}}}
	var msgs []*collectorv1.CollectResponse
	records := func(i int) {
		msgs = append(msgs,
			&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_Records{Records: rbs[i]}},
			&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_Checkpoint{Checkpoint: &collectorv1.Checkpoint{Stream: "orders", Cursor: []byte{byte('1' + i)}}}})
	}
	records(0)
	records(1)
	msgs = append(msgs, &collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_CredentialUpdate{CredentialUpdate: &collectorv1.CredentialUpdate{Credentials: rotated}}})
	records(2)
	recv := func() (*collectorv1.CollectResponse, error) {
		if len(msgs) == 0 {
			return nil, io.EOF
		}
		m := msgs[0]
		msgs = msgs[1:]
		return m, nil
	}
	// A writer that kept a committed batch would leave the update waiting
	// for ever; the deadline turns that into a failure.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := l.pump(ctx, recv); err != nil {
		t.Fatalf("load with a credential update between batches: %v", err)
	}
	cursors, err := st.Cursors(ctx, 1, l.run.AccountID)
	if err != nil || string(cursors["orders"]) != "3" {
		t.Fatalf("cursor after the load: %q, %v", cursors["orders"], err)
	}
	rc, err := st.LoadRunContext(ctx, 1, l.run.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := box.Open(1, l.run.AccountID, rc.Sealed)
	if err != nil || got.GetCafe24().GetAccessToken() != "rotated-access" {
		t.Fatalf("stored credentials after the update: %v, %v", got, err)
	}
}

// Removing the account while two batches of its first load are in the
// database neither deadlocks nor leaves a row: the removal waits for the
// batches holding the account's share lock, and a batch that asks for it
// after the removal finds the account gone.
func TestAccountRemovedDuringAPipelinedLoadLeavesNothing(t *testing.T) {
	st, l, _ := claimedLoad(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db := st.DB()
	// Hold the run's row, so the first batch stops at its lease check with
	// its rows written.
	hold, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback()
	if _, err := hold.ExecContext(ctx, "SELECT state FROM sync_runs WHERE seller_id = 1 AND run_id = ? FOR UPDATE", l.run.RunID); err != nil {
		t.Fatal(err)
	}
	written := make(chan error, 1)
	// waitingIn waits until a statement starting with prefix runs on the
	// server: these statements take a row lock held by another
	// transaction, so while one runs it waits for that lock.
	waitingIn := func(prefix string) {
		t.Helper()
		for {
			select {
			case err := <-written:
				t.Fatalf("the load ended while it should wait: %v", err)
			default:
			}
			var n int
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE CONCAT(?, '%')", prefix).Scan(&n); err != nil {
				t.Fatalf("waiting for %q to wait: %v", prefix, err)
			}
			if n > 0 {
				return
			}
		}
	}
	batches := firstLoadBatches(t, l, "1", "2")
	go func() { written <- runWriter(l, batches) }()
	waitingIn("SELECT state, lease_owner FROM sync_runs") // the first batch, on the run
	removed := make(chan error, 1)
	go func() { removed <- st.RemoveAccount(ctx, 1, l.run.AccountID) }()
	waitingIn("DELETE FROM platform_accounts") // the removal, on the account
	if err := hold.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-removed; err != nil {
		t.Fatalf("removing the account during its load: %v", err)
	}
	// The second batch committed before the removal, or found the account
	// gone; either way nothing of it may remain.
	if err := <-written; err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("load of a removed account: %v", err)
	}
	for _, table := range []string{"orders", "order_lines", "order_line_claims", "stream_cursors", "sync_runs"} {
		if n := rows(t, st, "SELECT COUNT(*) FROM "+table); n != 0 {
			t.Errorf("%s: %d rows left after the account was removed", table, n)
		}
	}
}
