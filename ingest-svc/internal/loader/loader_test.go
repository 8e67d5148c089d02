package loader_test

import (
	"bytes"
	"context"
	"database/sql"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	"hlog.dev/proto/kit/mysqltest"
	"hlog.dev/proto/synth"

	"hlog.dev/ingest-svc/internal/dbdump"
	"hlog.dev/ingest-svc/internal/loader"
	"hlog.dev/ingest-svc/internal/replay"
	"hlog.dev/ingest-svc/internal/store"
)

func TestMain(m *testing.M) { mysqltest.Main(m) }

var seoul = mustLoc("Asia/Seoul")

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), mysqltest.Start(t).DSN, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newLoader(t *testing.T) *loader.Loader {
	t.Helper()
	ld, err := loader.New(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	return ld
}

func generate(t *testing.T, seed uint64) *synth.Store {
	t.Helper()
	s, err := synth.Generate(synth.Config{
		Seed:         seed,
		Start:        time.Date(2024, 1, 1, 0, 0, 0, 0, seoul),
		End:          time.Date(2024, 3, 1, 0, 0, 0, 0, seoul),
		OrdersPerDay: 15,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var scope = loader.Scope{SellerID: 1, AccountID: 10, Location: seoul}

func count(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLoadingTheSameRecordsTwiceChangesNoRow(t *testing.T) {
	st, ld, ctx := openStore(t), newLoader(t), context.Background()
	s := generate(t, 3)
	if err := replay.Load(ctx, st.DB(), ld, scope, s, 40); err != nil {
		t.Fatal(err)
	}
	var claims int
	for _, l := range s.Lines {
		claims += len(l.Claims)
	}
	for table, want := range map[string]int{
		"orders": len(s.Orders), "order_lines": len(s.Lines), "order_line_claims": claims,
		"products": len(s.Products), "product_options": len(s.Options), "product_categories": len(s.Products),
		"categories": len(s.Categories), "coupons": len(s.Coupons),
	} {
		if got := count(t, st.DB(), table); got != want {
			t.Errorf("%s has %d rows, want %d", table, got, want)
		}
	}
	before := dbdump.Tables(t, st.DB(), dbdump.DataTables...)

	// Again, batched differently, as a collector resuming from an older
	// cursor would send it.
	if err := replay.Load(ctx, st.DB(), ld, scope, s, 7); err != nil {
		t.Fatal(err)
	}
	if diff := dbdump.Diff(before, dbdump.Tables(t, st.DB(), dbdump.DataTables...)); diff != "" {
		t.Fatalf("reloading the same records changed rows:\n%s", diff)
	}
}

func ts(s string) *timestamppb.Timestamp {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return timestamppb.New(t)
}

func krw(v int64) *commercev1.Money { return &commercev1.Money{CurrencyCode: "KRW", MinorUnits: v} }

func write(t *testing.T, st *store.Store, ld *loader.Loader, rbs ...*collectorv1.RecordBatch) {
	t.Helper()
	b := ld.NewBatch(scope)
	for _, rb := range rbs {
		if err := b.Add(rb); err != nil {
			t.Fatal(err)
		}
	}
	err := st.InTx(context.Background(), func(tx *sql.Tx) error { return b.Write(context.Background(), tx) })
	if err != nil {
		t.Fatal(err)
	}
}

func line(claims ...*commercev1.Claim) *commercev1.OrderLine {
	return &commercev1.OrderLine{
		SourceId: "O1-1", OrderSourceId: "O1", ProductSourceId: "P1", OptionSourceId: "P1-V1",
		ProductName: "린넨 셔츠", OptionName: "색상=블랙", Quantity: 2,
		UnitPrice: krw(29900), OptionPrice: krw(4000), Discount: krw(6380), PaidAmount: krw(57420),
		Status: commercev1.OrderStatus_ORDER_STATUS_PAID, RawStatus: "N20",
		OrderedAt: ts("2024-01-01T14:58:00Z"),
		// 00:01:02.123456789 on 2 January in Seoul: the sale's day is the 2nd.
		PaidAt: ts("2024-01-01T15:01:02.123456789Z"),
		Claims: claims,
	}
}

func TestRowsCarryLocalDatesHashedBuyersAndExactMoney(t *testing.T) {
	st, ld := openStore(t), newLoader(t)
	write(t, st, ld, &collectorv1.RecordBatch{
		Stream: "orders",
		Orders: []*commercev1.Order{{
			SourceId: "O1", OrderedAt: ts("2024-01-01T14:58:00Z"), PaidAt: ts("2024-01-01T15:01:02Z"),
			CurrencyCode: "KRW", ShippingFee: krw(3000), PaidAmount: krw(60420), BuyerId: "kim@example",
		}},
		OrderLines: []*commercev1.OrderLine{line(&commercev1.Claim{
			SourceId: "C1", Type: commercev1.ClaimType_CLAIM_TYPE_RETURN, State: commercev1.ClaimState_CLAIM_STATE_COMPLETED,
			Quantity: 1, RefundAmount: krw(28710), RequestedAt: ts("2024-01-05T01:00:00Z"), CompletedAt: ts("2024-01-07T15:30:00Z"),
		})},
	})
	var paidAt time.Time
	var paidDay string
	var paid, unitPrice int64
	if err := st.DB().QueryRow(`SELECT paid_at, DATE_FORMAT(paid_local_date, '%Y-%m-%d'), paid_amount, unit_price FROM order_lines`).Scan(&paidAt, &paidDay, &paid, &unitPrice); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2024, 1, 1, 15, 1, 2, 123456000, time.UTC); !paidAt.Equal(want) {
		t.Errorf("paid_at = %s, want %s (UTC, microseconds)", paidAt, want)
	}
	if paidDay != "2024-01-02" || paid != 57420 || unitPrice != 29900 {
		t.Errorf("paid_local_date %s paid %d unit %d; want 2024-01-02 57420 29900", paidDay, paid, unitPrice)
	}
	var completedDay string
	if err := st.DB().QueryRow(`SELECT DATE_FORMAT(completed_local_date, '%Y-%m-%d') FROM order_line_claims`).Scan(&completedDay); err != nil {
		t.Fatal(err)
	}
	if completedDay != "2024-01-08" {
		t.Errorf("claim completed_local_date = %s, want 2024-01-08 (00:30 in Seoul)", completedDay)
	}
	var hash []byte
	if err := st.DB().QueryRow(`SELECT buyer_hash FROM orders`).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if len(hash) != 32 || bytes.Contains(hash, []byte("kim")) {
		t.Errorf("buyer_hash = %x, want a 32-byte keyed hash", hash)
	}
	dump := dbdump.Tables(t, st.DB(), dbdump.DataTables...)
	for _, rows := range dump {
		for _, r := range rows {
			if bytes.Contains([]byte(r), []byte("kim@example")) {
				t.Fatalf("buyer id stored in clear: %s", r)
			}
		}
	}
}

func TestReloadedLineReplacesItsClaims(t *testing.T) {
	st, ld := openStore(t), newLoader(t)
	requested := &commercev1.Claim{SourceId: "C1", Type: commercev1.ClaimType_CLAIM_TYPE_CANCEL, State: commercev1.ClaimState_CLAIM_STATE_REQUESTED,
		Quantity: 1, RefundAmount: krw(0), RequestedAt: ts("2024-01-02T01:00:00Z")}
	withdrawnLater := &commercev1.Claim{SourceId: "C2", Type: commercev1.ClaimType_CLAIM_TYPE_RETURN, State: commercev1.ClaimState_CLAIM_STATE_REQUESTED,
		Quantity: 1, RequestedAt: ts("2024-01-03T01:00:00Z")}
	write(t, st, ld, &collectorv1.RecordBatch{Stream: "orders", OrderLines: []*commercev1.OrderLine{line(requested, withdrawnLater)}})
	if n := count(t, st.DB(), "order_line_claims"); n != 2 {
		t.Fatalf("%d claims, want 2", n)
	}

	completed := proto.Clone(requested).(*commercev1.Claim)
	completed.State = commercev1.ClaimState_CLAIM_STATE_COMPLETED
	completed.CompletedAt = ts("2024-01-02T03:00:00Z")
	completed.RefundAmount = krw(28710)
	// The platform now reports C1 completed and no longer reports C2.
	write(t, st, ld, &collectorv1.RecordBatch{Stream: "orders", OrderLines: []*commercev1.OrderLine{line(completed)}})
	rows := dbdump.Tables(t, st.DB(), "order_line_claims")["order_line_claims"]
	if len(rows) != 1 {
		t.Fatalf("claims after reload: %v; want only C1", rows)
	}
	var state string
	var refund int64
	if err := st.DB().QueryRow(`SELECT state, refund_amount FROM order_line_claims WHERE source_id = 'C1'`).Scan(&state, &refund); err != nil {
		t.Fatal(err)
	}
	if state != "COMPLETED" || refund != 28710 {
		t.Fatalf("C1 is %s refunding %d, want COMPLETED 28710", state, refund)
	}

	// The same line twice in one batch: the later one wins whole.
	write(t, st, ld, &collectorv1.RecordBatch{Stream: "orders", OrderLines: []*commercev1.OrderLine{line(requested, withdrawnLater), line()}})
	if n := count(t, st.DB(), "order_line_claims"); n != 0 {
		t.Fatalf("%d claims after a batch whose last copy of the line has none, want 0", n)
	}
}

func TestInvalidRecordAddsNothing(t *testing.T) {
	ld := newLoader(t)
	b := ld.NewBatch(scope)
	if err := b.Add(&collectorv1.RecordBatch{Stream: "orders", OrderLines: []*commercev1.OrderLine{line()}}); err != nil {
		t.Fatal(err)
	}
	mixed := line()
	mixed.SourceId = "O1-2"
	mixed.Discount = &commercev1.Money{CurrencyCode: "USD", MinorUnits: 100}
	cases := map[string]*collectorv1.RecordBatch{
		"mixed currencies": {Stream: "orders", OrderLines: []*commercev1.OrderLine{line(), mixed}},
		"empty id":         {Stream: "products", Products: []*commercev1.Product{{Name: "no id"}}},
		"bad time":         {Stream: "orders", Orders: []*commercev1.Order{{SourceId: "O9", PaidAt: &timestamppb.Timestamp{Seconds: -1 << 40}}}},
		"bad currency":     {Stream: "coupons", Coupons: []*commercev1.Coupon{{SourceId: "CP", BenefitAmount: &commercev1.Money{CurrencyCode: "won", MinorUnits: 1}}}},
	}
	for name, rb := range cases {
		if err := b.Add(rb); err == nil {
			t.Errorf("%s: Add accepted it", name)
		}
		if b.Records() != 1 {
			t.Fatalf("%s: batch holds %d records after a rejected add, want 1", name, b.Records())
		}
	}
}

func TestProductCategoriesFollowTheProduct(t *testing.T) {
	st, ld := openStore(t), newLoader(t)
	p := &commercev1.Product{SourceId: "P1", Name: "셔츠", Price: krw(29900), CategorySourceIds: []string{"C1", "C2"}}
	write(t, st, ld, &collectorv1.RecordBatch{Stream: "products", Products: []*commercev1.Product{p}})
	p2 := proto.Clone(p).(*commercev1.Product)
	p2.CategorySourceIds = []string{"C2", "C3"}
	write(t, st, ld, &collectorv1.RecordBatch{Stream: "products", Products: []*commercev1.Product{p2}})
	rows, err := st.DB().Query(`SELECT category_source_id FROM product_categories ORDER BY category_source_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var c string
		rows.Scan(&c)
		got = append(got, c)
	}
	if len(got) != 2 || got[0] != "C2" || got[1] != "C3" {
		t.Fatalf("categories = %v, want [C2 C3]", got)
	}
}
