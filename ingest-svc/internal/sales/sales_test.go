package sales_test

import (
	"bytes"
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	"hlog.dev/proto/kit/mysqltest"
	"hlog.dev/proto/synth"

	"hlog.dev/ingest-svc/internal/loader"
	"hlog.dev/ingest-svc/internal/replay"
	"hlog.dev/ingest-svc/internal/rollup"
	"hlog.dev/ingest-svc/internal/sales"
	"hlog.dev/ingest-svc/internal/store"
)

func TestMain(m *testing.M) { mysqltest.Main(m) }

var seoul = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		panic(err)
	}
	return loc
}()

// asOf is the instant the loaded view shows: some claims of the last weeks
// are still open then, which the definitions must ignore.
var asOf = time.Date(2024, 4, 20, 12, 0, 0, 0, seoul)

type fixture struct {
	st    *store.Store
	q     *sales.Querier
	truth *synth.Store
	other *synth.Store // a second account on another platform
}

// setUp loads one Cafe24 account of seller 1 from seed 11 and one Ably
// account from seed 12 (in currency otherCurrency).
func setUp(t *testing.T, otherCurrency string) fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, mysqltest.Start(t).DSN, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ld, err := loader.New(bytes.Repeat([]byte("b"), 32))
	if err != nil {
		t.Fatal(err)
	}
	gen := func(seed uint64, currency string) *synth.Store {
		s, err := synth.Generate(synth.Config{
			Seed: seed, Currency: currency, OrdersPerDay: 12,
			Start: time.Date(2023, 12, 1, 0, 0, 0, 0, seoul),
			End:   time.Date(2024, 4, 15, 0, 0, 0, 0, seoul),
		})
		if err != nil {
			t.Fatal(err)
		}
		return s.AsOf(asOf)
	}
	f := fixture{st: st, q: sales.NewQuerier(st.DB(), "KRW"), truth: gen(11, "KRW"), other: gen(12, otherCurrency)}
	for _, acct := range []struct {
		platform commercev1.Platform
		ext      string
		s        *synth.Store
	}{{commercev1.Platform_PLATFORM_CAFE24, "mall", f.truth}, {commercev1.Platform_PLATFORM_ABLY, "shop@example", f.other}} {
		a, _, err := st.AddAccount(ctx, store.NewAccount{
			SellerID: 1, Platform: acct.platform, ExternalAccountID: acct.ext, DisplayName: acct.ext, DefaultTimeZone: "Asia/Seoul",
			SealCredentials: func(uint64) (store.Sealed, error) { return store.Sealed{Ciphertext: []byte("x"), KeyID: "k"}, nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := replay.Load(ctx, st.DB(), ld, loader.Scope{SellerID: 1, AccountID: a.AccountID, Location: seoul}, acct.s, 100); err != nil {
			t.Fatal(err)
		}
	}
	// The queries read the daily rollups, which a sync run refreshes after
	// it loads.
	if err := rollup.New(st.DB()).RefreshSeller(ctx, 1); err != nil {
		t.Fatal(err)
	}
	return f
}

func period(t *testing.T, start, end string) sales.Period {
	t.Helper()
	p, err := sales.ParsePeriod(start, end)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func fromTruth(tt synth.Totals) sales.Totals {
	return sales.Totals{
		Gross: tt.Gross, Discount: tt.Discount, Paid: tt.Paid, Refunded: tt.Refunded,
		Orders: tt.Orders, Units: tt.Units, Buyers: tt.Buyers,
		CancelledUnits: tt.CancelledUnits, ReturnedUnits: tt.ReturnedUnits, ExchangedUnits: tt.ExchangedUnits,
	}
}

var bases = []struct {
	name  string
	ours  sales.Basis
	truth synth.Basis
}{{"payment date", sales.PaymentDate, synth.PaymentBasis}, {"order date", sales.OrderDate, synth.OrderBasis}}

// queriers returns the fixture's querier counting buyers in SQL, and the
// same once the in-memory buyer index is built: both must be exact.
func queriers(t *testing.T, f fixture) map[string]*sales.Querier {
	t.Helper()
	if err := f.q.WarmBuyers(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	return map[string]*sales.Querier{"sql": f.q.SQLOnly(), "memory": f.q}
}

func TestSummaryEqualsGroundTruth(t *testing.T) {
	f := setUp(t, "KRW")
	cafe24 := []string{"CAFE24"}
	for mode, q := range queriers(t, f) {
		for _, b := range bases {
			for _, pr := range [][2]string{{"2024-02-01", "2024-02-29"}, {"2024-01-15", "2024-03-31"}, {"2024-03-10", "2024-03-10"}} {
				p := period(t, pr[0], pr[1])
				cur, prev, currency, err := q.Summary(context.Background(), sales.Filter{SellerID: 1, Platforms: cafe24, Basis: b.ours}, p)
				if err != nil {
					t.Fatal(err)
				}
				want, err := synth.SalesTotals(f.truth.Orders, f.truth.Lines, seoul, b.truth, pr[0], pr[1])
				if err != nil {
					t.Fatal(err)
				}
				pp := p.Previous()
				wantPrev, _ := synth.SalesTotals(f.truth.Orders, f.truth.Lines, seoul, b.truth, pp.StartDate(), pp.EndDate())
				if cur != fromTruth(want) {
					t.Errorf("%s: %s %s..%s:\n got %+v\nwant %+v", mode, b.name, pr[0], pr[1], cur, fromTruth(want))
				}
				if prev != fromTruth(wantPrev) {
					t.Errorf("%s previous of %s..%s (%s..%s):\n got %+v\nwant %+v", b.name, pr[0], pr[1], pp.StartDate(), pp.EndDate(), prev, fromTruth(wantPrev))
				}
				if currency != "KRW" {
					t.Errorf("currency %q, want KRW", currency)
				}
				if p.Days() > 1 && (want.Paid == 0 || want.Refunded == 0) {
					t.Fatalf("%s..%s has no sales or no refunds in the ground truth: the test proves nothing", pr[0], pr[1])
				}
			}
		}
	}
}

func TestTimeSeriesEqualsGroundTruth(t *testing.T) {
	f := setUp(t, "KRW")
	grans := []struct {
		ours  sales.Granularity
		truth synth.Granularity
	}{{sales.Day, synth.Day}, {sales.Week, synth.Week}, {sales.Month, synth.Month}, {sales.Year, synth.Year}}
	// Starts on a Wednesday, ends mid-month: edge buckets are clipped.
	const start, end = "2023-12-27", "2024-04-17"
	for mode, q := range queriers(t, f) {
		for _, b := range bases {
			for _, g := range grans {
				points, _, err := q.TimeSeries(context.Background(), sales.Filter{SellerID: 1, Platforms: []string{"CAFE24"}, Basis: b.ours}, period(t, start, end), g.ours)
				if err != nil {
					t.Fatal(err)
				}
				want, err := synth.SalesSeries(f.truth.Orders, f.truth.Lines, seoul, b.truth, start, end, g.truth)
				if err != nil {
					t.Fatal(err)
				}
				if len(points) != len(want) {
					t.Fatalf("%s granularity %d: %d points, want %d", b.name, g.ours, len(points), len(want))
				}
				for i, w := range want {
					p := points[i]
					if p.StartDate() != w.Start || p.EndDate() != w.End || p.Label != w.Label || p.Totals != fromTruth(w.Totals) {
						t.Errorf("%s: %s granularity %d point %d:\n got %s..%s %s %+v\nwant %s..%s %s %+v", mode, b.name, g.ours, i,
							p.StartDate(), p.EndDate(), p.Label, p.Totals, w.Start, w.End, w.Label, fromTruth(w.Totals))
					}
				}
			}
		}
	}
}

func TestPlatformFilterAndAllPlatforms(t *testing.T) {
	f := setUp(t, "KRW")
	p := period(t, "2024-02-01", "2024-02-29")
	all, _, _, err := f.q.Summary(context.Background(), sales.Filter{SellerID: 1}, p)
	if err != nil {
		t.Fatal(err)
	}
	ably, _, _, err := f.q.Summary(context.Background(), sales.Filter{SellerID: 1, Platforms: []string{"ABLY"}}, p)
	if err != nil {
		t.Fatal(err)
	}
	wantCafe24, _ := synth.SalesTotals(f.truth.Orders, f.truth.Lines, seoul, synth.PaymentBasis, "2024-02-01", "2024-02-29")
	wantAbly, _ := synth.SalesTotals(f.other.Orders, f.other.Lines, seoul, synth.PaymentBasis, "2024-02-01", "2024-02-29")
	if ably != fromTruth(wantAbly) {
		t.Errorf("ably only:\n got %+v\nwant %+v", ably, fromTruth(wantAbly))
	}
	// Orders and buyers of different accounts are different orders and
	// buyers, even when their ids look alike.
	sum := fromTruth(wantCafe24)
	o := fromTruth(wantAbly)
	sum.Gross += o.Gross
	sum.Discount += o.Discount
	sum.Paid += o.Paid
	sum.Refunded += o.Refunded
	sum.Orders += o.Orders
	sum.Units += o.Units
	sum.Buyers += o.Buyers
	sum.CancelledUnits += o.CancelledUnits
	sum.ReturnedUnits += o.ReturnedUnits
	sum.ExchangedUnits += o.ExchangedUnits
	if all != sum {
		t.Errorf("all platforms:\n got %+v\nwant %+v", all, sum)
	}
	none, _, _, err := f.q.Summary(context.Background(), sales.Filter{SellerID: 2}, p)
	if err != nil || none != (sales.Totals{}) {
		t.Errorf("another seller sees %+v, %v; want nothing", none, err)
	}
}

func TestMixedCurrenciesAreRefused(t *testing.T) {
	f := setUp(t, "USD")
	p := period(t, "2024-02-01", "2024-02-29")
	if _, _, _, err := f.q.Summary(context.Background(), sales.Filter{SellerID: 1}, p); !errors.Is(err, sales.ErrMixedCurrencies) {
		t.Fatalf("summing KRW and USD: %v, want ErrMixedCurrencies", err)
	}
	_, _, currency, err := f.q.Summary(context.Background(), sales.Filter{SellerID: 1, Platforms: []string{"ABLY"}}, p)
	if err != nil || currency != "USD" {
		t.Fatalf("ably alone: currency %q, %v; want USD", currency, err)
	}
	for mode, q := range queriers(t, f) {
		if _, _, err := q.TopProducts(context.Background(), sales.Filter{SellerID: 1}, p, 10, false); !errors.Is(err, sales.ErrMixedCurrencies) {
			t.Errorf("%s: ranking KRW and USD products: %v, want ErrMixedCurrencies", mode, err)
		}
		_, currency, err := q.TopProducts(context.Background(), sales.Filter{SellerID: 1, Platforms: []string{"ABLY"}}, p, 10, true)
		if err != nil || currency != "USD" {
			t.Errorf("%s: ably products alone: currency %q, %v; want USD", mode, currency, err)
		}
	}
}

// TestTopProductsSameFromMemoryAndSQL compares the whole rows, names
// included, of both ways of ranking, over both accounts.
func TestTopProductsSameFromMemoryAndSQL(t *testing.T) {
	f := setUp(t, "KRW")
	qs := queriers(t, f)
	for _, pr := range [][2]string{{"2023-11-01", "2024-05-31"}, {"2024-02-10", "2024-02-20"}, {"2030-01-01", "2030-01-31"}} {
		for _, byOption := range []bool{false, true} {
			var got [2][]sales.ProductSales
			for i, mode := range []string{"sql", "memory"} {
				rows, currency, err := qs[mode].TopProducts(context.Background(), sales.Filter{SellerID: 1}, period(t, pr[0], pr[1]), 100, byOption)
				if err != nil || currency != "KRW" {
					t.Fatalf("%s: %s..%s: currency %q, %v", mode, pr[0], pr[1], currency, err)
				}
				got[i] = rows
			}
			if len(got[0]) != len(got[1]) {
				t.Fatalf("%s..%s by option %v: %d rows in SQL, %d in memory", pr[0], pr[1], byOption, len(got[0]), len(got[1]))
			}
			for i := range got[0] {
				if got[0][i] != got[1][i] {
					t.Errorf("%s..%s by option %v row %d:\n    sql %+v\n memory %+v", pr[0], pr[1], byOption, i, got[0][i], got[1][i])
				}
			}
		}
	}
}

func TestTopProductsAddUpAndRank(t *testing.T) {
	f := setUp(t, "KRW")
	p := period(t, "2024-01-01", "2024-03-31")
	filter := sales.Filter{SellerID: 1, Platforms: []string{"CAFE24"}}
	total, _, _, err := f.q.Summary(context.Background(), filter, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, byOption := range []bool{false, true} {
		rows, _, err := f.q.TopProducts(context.Background(), filter, p, 1000, byOption)
		if err != nil {
			t.Fatal(err)
		}
		var sum sales.Totals
		for i, r := range rows {
			sum.Gross += r.Totals.Gross
			sum.Paid += r.Totals.Paid
			sum.Refunded += r.Totals.Refunded
			sum.Units += r.Totals.Units
			if i > 0 && rows[i-1].Totals.Net() < r.Totals.Net() {
				t.Fatalf("by option %v: row %d (net %d) ranks below a smaller one (net %d)", byOption, i, r.Totals.Net(), rows[i-1].Totals.Net())
			}
			if r.ProductName == "" || (byOption && r.OptionSourceID == "") || r.Platform != "CAFE24" {
				t.Fatalf("row %+v lacks names, option or platform", r)
			}
		}
		if sum.Gross != total.Gross || sum.Paid != total.Paid || sum.Refunded != total.Refunded || sum.Units != total.Units {
			t.Errorf("by option %v: products add up to %+v, summary is %+v", byOption, sum, total)
		}
	}
	top3, _, err := f.q.TopProducts(context.Background(), filter, p, 3, false)
	if err != nil || len(top3) != 3 {
		t.Fatalf("limit 3: %d rows, %v", len(top3), err)
	}
}

func TestParsePeriod(t *testing.T) {
	for _, bad := range [][2]string{
		{"2024-01-31", "2024-01-01"}, {"2024-1-01", "2024-01-31"}, {"2024-02-30", "2024-03-01"},
		{"", "2024-01-01"}, {"2014-01-01", "2024-01-01"}, {"yesterday", "today"},
	} {
		var in *sales.InputError
		if _, err := sales.ParsePeriod(bad[0], bad[1]); !errors.As(err, &in) {
			t.Errorf("ParsePeriod(%q, %q) = %v, want an InputError", bad[0], bad[1], err)
		}
	}
	_, err := sales.ParsePeriod("2024-01-31", "2024-01-01")
	if err == nil || err.Error() != "end_date 2024-01-01 is before start_date 2024-01-31" {
		t.Errorf("end before start says %v", err)
	}
	p := period(t, "2024-03-01", "2024-03-31")
	if pp := p.Previous(); pp.StartDate() != "2024-01-30" || pp.EndDate() != "2024-02-29" {
		t.Errorf("previous of March 2024 = %s..%s, want 2024-01-30..2024-02-29 (31 days)", pp.StartDate(), pp.EndDate())
	}
}

// TestTopProductsEqualGroundTruth holds every ranked product and option,
// distinct buyers included, to the ground truth of its own lines, counted
// in SQL and in memory.
func TestTopProductsEqualGroundTruth(t *testing.T) {
	f := setUp(t, "KRW")
	filter := sales.Filter{SellerID: 1, Platforms: []string{"CAFE24"}}
	type want struct {
		product, option string
		totals          sales.Totals
	}
	repeatBuyers := false
	for mode, q := range queriers(t, f) {
		for _, b := range bases {
			filter.Basis = b.ours
			for _, pr := range [][2]string{{"2023-12-01", "2024-04-20"}, {"2024-01-15", "2024-03-31"}, {"2024-02-01", "2024-02-29"}, {"2024-03-10", "2024-03-10"}} {
				for _, byOption := range []bool{false, true} {
					// The truth: each group's totals from its own lines.
					groups := map[[2]string][]*commercev1.OrderLine{}
					for _, l := range f.truth.Lines {
						k := [2]string{l.ProductSourceId, ""}
						if byOption {
							k[1] = l.OptionSourceId
						}
						groups[k] = append(groups[k], l)
					}
					var wants []want
					for k, lines := range groups {
						tt, err := synth.SalesTotals(f.truth.Orders, lines, seoul, b.truth, pr[0], pr[1])
						if err != nil {
							t.Fatal(err)
						}
						if tt != (synth.Totals{}) {
							wants = append(wants, want{k[0], k[1], fromTruth(tt)})
						}
					}
					sort.Slice(wants, func(i, j int) bool {
						a, b := wants[i], wants[j]
						if a.totals.Net() != b.totals.Net() {
							return a.totals.Net() > b.totals.Net()
						}
						if a.totals.Units != b.totals.Units {
							return a.totals.Units > b.totals.Units
						}
						if a.product != b.product {
							return a.product < b.product
						}
						return a.option < b.option
					})
					if len(wants) < 5 {
						t.Fatalf("%s..%s: %d groups in the ground truth: the test proves little", pr[0], pr[1], len(wants))
					}
					for _, limit := range []int{len(wants) + 10, 5} {
						rows, _, err := q.TopProducts(context.Background(), filter, period(t, pr[0], pr[1]), limit, byOption)
						if err != nil {
							t.Fatal(err)
						}
						w := wants[:min(limit, len(wants))]
						if len(rows) != len(w) {
							t.Fatalf("%s %s %s..%s by option %v limit %d: %d rows, want %d", mode, b.name, pr[0], pr[1], byOption, limit, len(rows), len(w))
						}
						for i, r := range rows {
							if r.ProductSourceID != w[i].product || r.OptionSourceID != w[i].option || r.Totals != w[i].totals {
								t.Errorf("%s %s %s..%s by option %v row %d:\n got %s/%s %+v\nwant %s/%s %+v", mode, b.name, pr[0], pr[1], byOption, i,
									r.ProductSourceID, r.OptionSourceID, r.Totals, w[i].product, w[i].option, w[i].totals)
							}
							if r.Totals.Buyers < r.Totals.Orders {
								repeatBuyers = true
							}
						}
					}
				}
			}
		}
	}
	if !repeatBuyers {
		t.Fatal("no product has a buyer who ordered it twice: distinct buyers are not tested")
	}
}
