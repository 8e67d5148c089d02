package synth

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

var seoul = mustLoc("Asia/Seoul")

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func testConfig(seed uint64) Config {
	return Config{
		Seed:  seed,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, seoul),
		End:   time.Date(2026, 4, 1, 0, 0, 0, 0, seoul),
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, err := Generate(testConfig(7))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate(testConfig(7))
	c, _ := Generate(testConfig(8))
	if len(a.Lines) != len(b.Lines) || len(a.Orders) != len(b.Orders) {
		t.Fatalf("same seed, different sizes: %d/%d vs %d/%d", len(a.Orders), len(a.Lines), len(b.Orders), len(b.Lines))
	}
	for i := range a.Lines {
		if !proto.Equal(a.Lines[i], b.Lines[i]) {
			t.Fatalf("same seed, line %d differs:\n%v\n%v", i, a.Lines[i], b.Lines[i])
		}
	}
	if len(a.Orders) == len(c.Orders) && proto.Equal(a.Orders[0], c.Orders[0]) {
		t.Fatal("different seeds gave the same business")
	}
}

func TestGeneratedBusinessIsPlausible(t *testing.T) {
	s, err := Generate(testConfig(1))
	if err != nil {
		t.Fatal(err)
	}
	days := 90.0
	if n := float64(len(s.Orders)); n < 15*days || n > 60*days {
		t.Fatalf("%v orders in %v days, want about 30 a day", n, days)
	}
	ids := map[string]bool{}
	var claims, partial, unpaid int
	for _, l := range s.Lines {
		if ids[l.SourceId] {
			t.Fatalf("duplicate line id %s", l.SourceId)
		}
		ids[l.SourceId] = true
		gross := l.UnitPrice.MinorUnits*int64(l.Quantity) + l.OptionPrice.MinorUnits
		if l.PaidAmount.MinorUnits != gross-l.Discount.MinorUnits || l.PaidAmount.MinorUnits <= 0 {
			t.Fatalf("line %s: paid %d != gross %d - discount %d", l.SourceId, l.PaidAmount.MinorUnits, gross, l.Discount.MinorUnits)
		}
		if l.PaidAt == nil {
			unpaid++
		}
		for _, c := range l.Claims {
			claims++
			if c.Quantity < l.Quantity {
				partial++
			}
			if c.RefundAmount.MinorUnits > l.PaidAmount.MinorUnits {
				t.Fatalf("claim %s refunds more than was paid", c.SourceId)
			}
			if !c.CompletedAt.AsTime().After(c.RequestedAt.AsTime()) && c.Type != commercev1.ClaimType_CLAIM_TYPE_CANCEL {
				t.Fatalf("claim %s completes before it is requested", c.SourceId)
			}
		}
	}
	if claims == 0 || partial == 0 || unpaid == 0 {
		t.Fatalf("want claims, partial claims and unpaid orders; got %d, %d, %d", claims, partial, unpaid)
	}
}

func TestAsOfRevealsOrdersAndClaimsOverTime(t *testing.T) {
	s, _ := Generate(testConfig(3))
	early := s.AsOf(time.Date(2026, 2, 1, 0, 0, 0, 0, seoul))
	late := s.AsOf(time.Date(2026, 5, 1, 0, 0, 0, 0, seoul))
	if len(early.Orders) >= len(late.Orders) || len(late.Orders) != len(s.Orders) {
		t.Fatalf("orders visible early %d, late %d, all %d", len(early.Orders), len(late.Orders), len(s.Orders))
	}
	// A claim requested after the early cut must be invisible then, and an
	// open claim must not show a refund yet.
	var sawHidden, sawOpen bool
	cut := time.Date(2026, 2, 1, 0, 0, 0, 0, seoul)
	earlyByID := map[string]*commercev1.OrderLine{}
	for _, l := range early.Lines {
		earlyByID[l.SourceId] = l
		for _, c := range l.Claims {
			if c.State == commercev1.ClaimState_CLAIM_STATE_REQUESTED {
				sawOpen = true
				if c.RefundAmount.MinorUnits != 0 || c.CompletedAt != nil {
					t.Fatalf("open claim %s shows a refund or completion", c.SourceId)
				}
			}
		}
	}
	for _, l := range s.Lines {
		e, ok := earlyByID[l.SourceId]
		if !ok {
			continue
		}
		if len(l.Claims) > 0 && l.Claims[0].RequestedAt.AsTime().After(cut) {
			sawHidden = true
			if len(e.Claims) != 0 {
				t.Fatalf("line %s shows a claim requested after the cut", l.SourceId)
			}
		}
	}
	if !sawHidden || !sawOpen {
		t.Fatalf("want hidden future claims and open claims at the cut; got %v, %v", sawHidden, sawOpen)
	}
}

func TestSalesTotalsFollowTheDefinitions(t *testing.T) {
	won := func(v int64) *commercev1.Money { return &commercev1.Money{CurrencyCode: "KRW", MinorUnits: v} }
	at := func(s string) *timestamppb.Timestamp {
		ts, err := time.ParseInLocation("2006-01-02 15:04", s, seoul)
		if err != nil {
			t.Fatal(err)
		}
		return timestamppb.New(ts)
	}
	orders := []*commercev1.Order{{SourceId: "A", BuyerId: "b1"}, {SourceId: "B", BuyerId: "b1"}, {SourceId: "C", BuyerId: "b2"}}
	lines := []*commercev1.OrderLine{
		// Paid 23:30 on Jan 1 Seoul (14:30 UTC): Jan 1, not Jan 2.
		{SourceId: "A-1", OrderSourceId: "A", Quantity: 2, UnitPrice: won(10000), OptionPrice: won(2000), Discount: won(1000), PaidAmount: won(21000), PaidAt: at("2026-01-01 23:30"),
			Claims: []*commercev1.Claim{{Type: commercev1.ClaimType_CLAIM_TYPE_RETURN, State: commercev1.ClaimState_CLAIM_STATE_COMPLETED, Quantity: 1, RefundAmount: won(10500), CompletedAt: at("2026-01-05 10:00")}}},
		{SourceId: "B-1", OrderSourceId: "B", Quantity: 1, UnitPrice: won(5000), OptionPrice: won(0), Discount: won(0), PaidAmount: won(5000), PaidAt: at("2026-01-02 00:10")},
		// Not paid: no sale.
		{SourceId: "C-1", OrderSourceId: "C", Quantity: 1, UnitPrice: won(9000), OptionPrice: won(0), Discount: won(0), PaidAmount: won(9000)},
	}
	cases := []struct {
		name     string
		basis    Basis
		from, to string
		want     Totals
	}{
		{"first day, cash view", PaymentBasis, "2026-01-01", "2026-01-01", Totals{Gross: 22000, Discount: 1000, Paid: 21000, Net: 21000, Orders: 1, Units: 2, Buyers: 1}},
		{"return day, cash view", PaymentBasis, "2026-01-05", "2026-01-05", Totals{Refunded: 10500, Net: -10500, ReturnedUnits: 1}},
		{"first day, order view", OrderBasis, "2026-01-01", "2026-01-01", Totals{Gross: 22000, Discount: 1000, Paid: 21000, Refunded: 10500, Net: 10500, Orders: 1, Units: 2, Buyers: 1, ReturnedUnits: 1}},
		{"whole week", PaymentBasis, "2026-01-01", "2026-01-07", Totals{Gross: 27000, Discount: 1000, Paid: 26000, Refunded: 10500, Net: 15500, Orders: 2, Units: 3, Buyers: 1, ReturnedUnits: 1}},
	}
	for _, c := range cases {
		got, err := SalesTotals(orders, lines, seoul, c.basis, c.from, c.to)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
	if _, err := SalesTotals(orders, lines, seoul, PaymentBasis, "2026-01-07", "2026-01-01"); err == nil {
		t.Error("end before start: want an error")
	}
}

func TestSalesSeriesBucketsAreClippedAndComplete(t *testing.T) {
	s, _ := Generate(testConfig(5))
	view := s.AsOf(time.Date(2026, 6, 1, 0, 0, 0, 0, seoul))
	whole, _ := SalesTotals(view.Orders, view.Lines, seoul, PaymentBasis, "2026-01-14", "2026-03-03")
	for _, g := range []Granularity{Day, Week, Month, Year} {
		series, err := SalesSeries(view.Orders, view.Lines, seoul, PaymentBasis, "2026-01-14", "2026-03-03", g)
		if err != nil {
			t.Fatal(err)
		}
		var paid, refunded int64
		for _, b := range series {
			paid += b.Totals.Paid
			refunded += b.Totals.Refunded
		}
		if paid != whole.Paid || refunded != whole.Refunded {
			t.Errorf("granularity %d: buckets sum to %d/%d, period is %d/%d", g, paid, refunded, whole.Paid, whole.Refunded)
		}
		if series[0].Start != "2026-01-14" || series[len(series)-1].End != "2026-03-03" {
			t.Errorf("granularity %d: buckets span %s..%s", g, series[0].Start, series[len(series)-1].End)
		}
	}
	weeks, _ := SalesSeries(view.Orders, view.Lines, seoul, PaymentBasis, "2026-01-14", "2026-01-31", Week)
	if len(weeks) != 3 || weeks[0].Label != "2026-W03" || weeks[0].End != "2026-01-18" || weeks[1].Start != "2026-01-19" {
		t.Errorf("weeks: %+v", weeks)
	}
}
