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
	"hlog.dev/proto/synth"

	"hlog.dev/ingest-svc/internal/loader"
	"hlog.dev/ingest-svc/internal/replay"
)

// firstLoadBatches makes pending batches of a first load (every line new),
// one per replayed batch of orders, each followed by a checkpoint with the
// given cursor; they are independent of each other.
func firstLoadBatches(t *testing.T, l *load, cursors ...string) []*pending {
	t.Helper()
	loc, _ := time.LoadLocation("Asia/Seoul")
	s, err := synth.Generate(synth.Config{Seed: 6, Start: time.Date(2024, 2, 1, 0, 0, 0, 0, loc), End: time.Date(2024, 2, 10, 0, 0, 0, 0, loc)})
	if err != nil {
		t.Fatal(err)
	}
	rbs, err := replay.Batches(s, "orders", 60)
	if err != nil || len(rbs) < len(cursors) {
		t.Fatalf("%d batches, %v", len(rbs), err)
	}
	var out []*pending
	for i, c := range cursors {
		b := l.r.cfg.Loader.NewBatch(loader.Scope{SellerID: 1, AccountID: l.run.AccountID, Location: loc})
		b.New = func(string) bool { return true }
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
	for what, q := range map[string]string{
		"orders":   "SELECT COUNT(*) FROM orders",
		"lines":    "SELECT COUNT(*) FROM order_lines",
		"cursors":  "SELECT COUNT(*) FROM stream_cursors",
		"progress": "SELECT COALESCE(SUM(records_loaded), 0) FROM sync_run_streams",
		"days":     "SELECT COUNT(*) FROM rollup_dirty",
	} {
		if n := rows(t, st, q); n != 0 {
			t.Errorf("%s: %d rows committed after a failed batch", what, n)
		}
	}
}
