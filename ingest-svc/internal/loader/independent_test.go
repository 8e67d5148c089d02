package loader_test

import (
	"slices"
	"testing"

	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"

	"hlog.dev/ingest-svc/internal/loader"
	"hlog.dev/ingest-svc/internal/replay"
)

// Two batches may be written at once only when neither can wait on the
// other's row locks: no shared row, no delete of stale children.
func TestIndependentBatchesShareNoRowAndDeleteNothing(t *testing.T) {
	s := generate(t, 11)
	orders, err := replay.Batches(s, "orders", 40)
	if err != nil {
		t.Fatal(err)
	}
	products, err := replay.Batches(s, "products", 40)
	if err != nil {
		t.Fatal(err)
	}
	if len(orders) < 3 || len(products) == 0 {
		t.Fatalf("%d order batches, %d product batches", len(orders), len(products))
	}
	ld := newLoader(t)
	// firstLoad makes a batch of an account with no lines stored yet: every
	// line is new.
	firstLoad := func(rbs ...*collectorv1.RecordBatch) *loader.Batch {
		b := ld.NewBatch(scope)
		b.New = func(string) bool { return true }
		for _, rb := range rbs {
			if err := b.Add(rb); err != nil {
				t.Fatal(err)
			}
		}
		return b
	}
	stored := ld.NewBatch(scope) // lines that may be stored: their stale claims are deleted
	if err := stored.Add(orders[1]); err != nil {
		t.Fatal(err)
	}
	// One order of batch 0 sent again with batch 2, as a collector's
	// lookback window does.
	resent := &collectorv1.RecordBatch{Stream: "orders", OrderLines: orders[2].OrderLines,
		Orders: append(slices.Clone(orders[2].Orders), orders[0].Orders[0])}

	for _, c := range []struct {
		name string
		a, b *loader.Batch
		want bool
	}{
		{"consecutive batches of a first load", firstLoad(orders[0]), firstLoad(orders[1]), true},
		{"the same order in both", firstLoad(orders[0]), firstLoad(resent), false},
		{"the same lines in both", firstLoad(orders[0]), firstLoad(orders[1], orders[0]), false},
		{"lines that may be stored", firstLoad(orders[0]), stored, false},
		{"products, whose category links are replaced", firstLoad(orders[0]), firstLoad(products[0]), false},
	} {
		if got := c.a.Independent(c.b); got != c.want {
			t.Errorf("%s: Independent = %v, want %v", c.name, got, c.want)
		}
		if got := c.b.Independent(c.a); got != c.want {
			t.Errorf("%s, the other way round: Independent = %v, want %v", c.name, got, c.want)
		}
	}
}
