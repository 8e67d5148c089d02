package translate

import (
	"errors"
	"testing"

	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

func TestDecodePageNoticesAChangedShape(t *testing.T) {
	good := `{"order_items":[{"sno":2603010000101,"order_sno":26030100001,"ea":1,"ordered_at":"2026-03-01 10:00:00","processing_status":1}],"total_count":1,"max_page_number":1}`
	p, err := DecodePage[OrderItem]([]byte(good), "order_items")
	if err != nil || len(p.Rows) != 1 || p.Rows[0].Sno.String() != "2603010000101" || p.MaxPageNumber != 1 {
		t.Fatalf("%+v %v", p, err)
	}
	for name, body := range map[string]string{
		"moved list":      `{"data":{"results":[]}}`,
		"no paging":       `{"order_items":[],"total_count":0,"has_more_window":false}`,
		"not json":        `<html>maintenance</html>`,
		"renamed columns": `{"order_items":"oops","total_count":0,"max_page_number":0}`,
	} {
		if _, err := DecodePage[OrderItem]([]byte(body), "order_items"); !errors.Is(err, ErrLayout) {
			t.Errorf("%s: %v, want ErrLayout", name, err)
		}
	}
}

func ptr(s string) *string { return &s }

func TestOrdersBuildsOrdersLinesAndClaims(t *testing.T) {
	paid := 5
	items := []OrderItem{
		{Sno: "2603010000102", OrderSno: "26030100001", GoodsSno: "3100002", OptionSno: "310000201", Ea: 2, Price: 10000, OptionPrice: 1000,
			DiscountPrice: 2000, PaymentPrice: 20000, DeliveryFee: 3000, ProcessingStatus: &paid, OrderedAt: "2026-03-01 10:00:00",
			CheckedAt: ptr("2026-03-01 10:01:00"), ConfirmedAt: ptr("2026-03-12 09:00:00"), UserSno: "7000001"},
		{Sno: "2603010000101", OrderSno: "26030100001", GoodsSno: "3100001", OptionSno: "310000101", Ea: 1, Price: 5000,
			PaymentPrice: 5000, DeliveryFee: 3000, OrderedAt: "2026-03-01 10:00:00", CheckedAt: ptr("2026-03-01 10:01:00"), UserSno: "7000001"},
	}
	claims := NewClaims()
	if err := claims.AddCancel(OrderCancel{Sno: "926030200001", OrderItemSno: "2603010000101", CancelType: "cancel", SubStatus: 42, Ea: 1,
		RefundPrice: 5000, RequestedAt: "2026-03-02 10:00:00", CompletedAt: ptr("2026-03-02 12:00:00"), OrderedAt: "2026-03-01 10:00:00"}); err != nil {
		t.Fatal(err)
	}
	orders, lines, err := Orders(items, claims)
	if err != nil {
		t.Fatal(err)
	}
	if len(orders) != 1 || len(lines) != 2 {
		t.Fatalf("%d orders, %d lines", len(orders), len(lines))
	}
	o := orders[0]
	if o.PaidAmount.MinorUnits != 28000 || o.ShippingFee.MinorUnits != 3000 || o.BuyerId != "7000001" {
		t.Errorf("order %v", o)
	}
	// Line 01 has no status column (Excel): its full, completed cancel decides.
	// The order's status is the first line not wholly cancelled: line 02's.
	if o.Status != commercev1.OrderStatus_ORDER_STATUS_CONFIRMED {
		t.Errorf("order status %v", o.Status)
	}
	for _, l := range lines {
		switch l.SourceId {
		case "2603010000101":
			if l.Status != commercev1.OrderStatus_ORDER_STATUS_CANCELLED || len(l.Claims) != 1 || l.Claims[0].RefundAmount.MinorUnits != 5000 {
				t.Errorf("line 01 %v", l)
			}
		case "2603010000102":
			if l.OptionPrice.MinorUnits != 2000 || l.Status != commercev1.OrderStatus_ORDER_STATUS_CONFIRMED {
				t.Errorf("line 02 %v", l)
			}
		}
	}
	want, _ := ParseDate("2026-03-12 09:00:00")
	if got := o.UpdatedAt.AsTime(); !got.Equal(want) {
		t.Errorf("updated_at %s, want %s", got, want)
	}
}

func TestWonCell(t *testing.T) {
	for in, want := range map[string]int64{"29900": 29900, "29,900": 29900, "29,900원": 29900, "": 0, " 0 ": 0} {
		if got, err := wonCell(in); err != nil || got != want {
			t.Errorf("%q: %d %v", in, got, err)
		}
	}
	for _, bad := range []string{"29900.5", "abc", "1e3"} {
		if _, err := wonCell(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzExcelItems(f *testing.F) {
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte("not a spreadsheet"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ExcelItems(b) // must not panic
	})
}
