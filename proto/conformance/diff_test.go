package conformance

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	"hlog.dev/proto/synth"
)

func storeForTest(t *testing.T) *synth.Store {
	t.Helper()
	s, err := synth.Generate(synth.Config{Seed: 11, Start: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return s.AsOf(time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC))
}

func resultOf(s *synth.Store) *Result {
	r := NewResult(nil)
	for _, o := range s.Orders {
		r.Orders[o.SourceId] = proto.Clone(o).(*commercev1.Order)
	}
	for _, l := range s.Lines {
		r.Lines[l.SourceId] = proto.Clone(l).(*commercev1.OrderLine)
	}
	return r
}

func TestDiffFindsEveryKindOfDifference(t *testing.T) {
	truth := storeForTest(t)
	if d := Diff(truth, resultOf(truth), []string{"orders"}, nil); d != nil {
		t.Fatalf("identical records reported as different: %v", d)
	}

	r := resultOf(truth)
	r.Lines[truth.Lines[0].SourceId].RawStatus = "N40" // platform words are not compared
	if d := Diff(truth, r, []string{"orders"}, nil); d != nil {
		t.Fatalf("raw_status compared: %v", d)
	}

	r = resultOf(truth)
	delete(r.Orders, truth.Orders[0].SourceId)
	r.Lines[truth.Lines[1].SourceId].PaidAmount.MinorUnits++
	r.Lines["extra"] = &commercev1.OrderLine{SourceId: "extra"}
	d := strings.Join(Diff(truth, r, []string{"orders"}, nil), "\n")
	for _, want := range []string{"1 missing [" + truth.Orders[0].SourceId, "1 unexpected [extra]", "1 differ"} {
		if !strings.Contains(d, want) {
			t.Errorf("diff lacks %q:\n%s", want, d)
		}
	}

	r = resultOf(truth)
	r.Orders[truth.Orders[0].SourceId].UpdatedAt = nil
	if d := Diff(truth, r, []string{"orders"}, nil); d == nil {
		t.Fatal("a missing updated_at went unnoticed")
	}
	if d := Diff(truth, r, []string{"orders"}, map[string]string{"hlog.commerce.v1.Order.updated_at": "platform has no update time"}); d != nil {
		t.Fatalf("ignored field still compared: %v", d)
	}
}
