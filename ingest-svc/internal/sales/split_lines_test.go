package sales_test

import (
	"context"
	"testing"
	"time"

	"hlog.dev/proto/synth"

	"hlog.dev/ingest-svc/internal/sales"
)

func TestPlatformSplitAddsUpToTheGroundTruthOfEachPlatform(t *testing.T) {
	f := setUp(t, "KRW")
	ctx := context.Background()
	for _, b := range []struct {
		ours  sales.Basis
		truth synth.Basis
	}{{sales.PaymentDate, synth.PaymentBasis}, {sales.OrderDate, synth.OrderBasis}} {
		rows, currency, err := f.q.PlatformSplit(ctx, sales.Filter{SellerID: 1, Basis: b.ours}, period(t, "2024-01-01", "2024-03-31"), true)
		if err != nil || currency != "KRW" || len(rows) != 2 {
			t.Fatalf("split: %v, %q, %v", rows, currency, err)
		}
		wantCafe24, _ := synth.SalesTotals(f.truth.Orders, f.truth.Lines, seoul, b.truth, "2024-01-01", "2024-03-31")
		wantAbly, _ := synth.SalesTotals(f.other.Orders, f.other.Lines, seoul, b.truth, "2024-01-01", "2024-03-31")
		for _, r := range rows {
			want := map[string]synth.Totals{"CAFE24": wantCafe24, "ABLY": wantAbly}[r.Platform]
			if r.Totals != fromTruth(want) || r.AccountID == 0 {
				t.Errorf("basis %d %s (account %d):\n got %+v\nwant %+v", b.ours, r.Platform, r.AccountID, r.Totals, fromTruth(want))
			}
		}
		if rows[0].Totals.Net() < rows[1].Totals.Net() {
			t.Error("rows are not largest net first")
		}
	}
}

func TestOrderLinesPageThroughEveryPaidLineOnce(t *testing.T) {
	f := setUp(t, "KRW")
	ctx := context.Background()
	day := func(s string) time.Time {
		d, _ := time.ParseInLocation(time.DateOnly, s, seoul)
		return d.UTC()
	}
	want := map[string]bool{}
	for _, l := range f.truth.Lines {
		if l.GetPaidAt() == nil {
			continue
		}
		d := l.GetPaidAt().AsTime().In(seoul).Format(time.DateOnly)
		if d >= "2024-02-01" && d <= "2024-02-29" {
			want[l.GetSourceId()] = true
		}
	}
	filter := sales.LineFilter{Filter: sales.Filter{SellerID: 1, Platforms: []string{"CAFE24"}}, From: day("2024-02-01"), To: day("2024-03-01")}
	seen := map[string]bool{}
	token := ""
	var prev time.Time
	for pages := 0; ; pages++ {
		rows, next, total, err := f.q.OrderLines(ctx, filter, 37, token)
		if err != nil {
			t.Fatal(err)
		}
		if total != int64(len(want)) {
			t.Fatalf("total_count %d, want %d", total, len(want))
		}
		for _, r := range rows {
			if seen[r.SourceID] || !want[r.SourceID] {
				t.Fatalf("line %s seen twice or not paid in the period", r.SourceID)
			}
			seen[r.SourceID] = true
			if !prev.IsZero() && r.PaidAt.After(prev) {
				t.Fatalf("line %s is newer than the one before it", r.SourceID)
			}
			prev = *r.PaidAt
			if r.Gross <= 0 || r.PaymentDate < "2024-02-01" || r.PaymentDate > "2024-02-29" {
				t.Fatalf("line %+v", r)
			}
		}
		if next == "" {
			break
		}
		token = next
	}
	if len(seen) != len(want) {
		t.Fatalf("paged through %d lines, want %d", len(seen), len(want))
	}

	// Filters: cancelled lines only carry their cancelled units.
	filter.Claims = sales.CancelClaims
	rows, _, total, err := f.q.OrderLines(ctx, filter, 500, "")
	if err != nil || total == 0 || int64(len(rows)) != total {
		t.Fatalf("cancel filter: %d rows of %d, %v", len(rows), total, err)
	}
	if _, _, _, err := f.q.OrderLines(ctx, filter, 10, "not-a-token"); err == nil {
		t.Fatal("a malformed page token was accepted")
	}
}
