package translate

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"hlog.dev/cafe24-svc/internal/cafe24api"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

func TestParseTime(t *testing.T) {
	want := time.Date(2024, 1, 15, 1, 2, 11, 0, time.UTC) // 10:02:11 KST
	for _, in := range []string{"2024-01-15T10:02:11+09:00", "2024-01-15 10:02:11", "2024-01-15T10:02:11", "2024-01-15T01:02:11Z", "2024-01-15T10:02:11.000"} {
		got, err := ParseTime(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "2024-01-15", "15/01/2024 10:02", "2024-13-15 10:02:11"} {
		if _, err := ParseTime(in); err == nil {
			t.Errorf("ParseTime(%q): want an error", in)
		}
	}
}

func TestLineStatus(t *testing.T) {
	cases := map[string]commercev1.OrderStatus{
		"N00": commercev1.OrderStatus_ORDER_STATUS_AWAITING_PAYMENT,
		"N02": commercev1.OrderStatus_ORDER_STATUS_AWAITING_PAYMENT,
		"N10": commercev1.OrderStatus_ORDER_STATUS_PAID,
		"N22": commercev1.OrderStatus_ORDER_STATUS_PAID,
		"N30": commercev1.OrderStatus_ORDER_STATUS_SHIPPING,
		"N40": commercev1.OrderStatus_ORDER_STATUS_DELIVERED,
		"N50": commercev1.OrderStatus_ORDER_STATUS_CONFIRMED,
		"C00": commercev1.OrderStatus_ORDER_STATUS_CLAIM_IN_PROGRESS,
		"C10": commercev1.OrderStatus_ORDER_STATUS_CLAIM_IN_PROGRESS,
		"C11": commercev1.OrderStatus_ORDER_STATUS_PAID,
		"C36": commercev1.OrderStatus_ORDER_STATUS_CLAIM_IN_PROGRESS,
		"C40": commercev1.OrderStatus_ORDER_STATUS_CANCELLED,
		"C48": commercev1.OrderStatus_ORDER_STATUS_CANCELLED,
		"R00": commercev1.OrderStatus_ORDER_STATUS_CLAIM_IN_PROGRESS,
		"R30": commercev1.OrderStatus_ORDER_STATUS_CLAIM_IN_PROGRESS,
		"R40": commercev1.OrderStatus_ORDER_STATUS_RETURNED,
		"R43": commercev1.OrderStatus_ORDER_STATUS_RETURNED,
		"E00": commercev1.OrderStatus_ORDER_STATUS_CLAIM_IN_PROGRESS,
		"E40": commercev1.OrderStatus_ORDER_STATUS_EXCHANGED,
		"X99": commercev1.OrderStatus_ORDER_STATUS_UNSPECIFIED,
		"":    commercev1.OrderStatus_ORDER_STATUS_UNSPECIFIED,
	}
	for code, want := range cases {
		if got := LineStatus(code); got != want {
			t.Errorf("LineStatus(%q) = %v, want %v", code, got, want)
		}
	}
}

func str(s string) *string { return &s }
func qty(n int32) *int32   { return &n }

func ts(s string) *timestamppb.Timestamp {
	t, err := ParseTime(s)
	if err != nil {
		panic(err)
	}
	return timestamppb.New(t)
}

func won(v int64) *commercev1.Money { return &commercev1.Money{CurrencyCode: "KRW", MinorUnits: v} }

// sampleOrder is cafe24.md §4's example order, with a second item that was
// partly returned and a third never paid for separately.
func sampleOrder() *cafe24api.Order {
	return &cafe24api.Order{
		Currency: "KRW", OrderID: "20240115-0000042", MemberID: "buyer01", Paid: "T", Canceled: "F", ShippingStatus: "T",
		OrderDate: "2024-01-15T10:02:11+09:00", PaymentDate: str("2024-01-15T10:03:40+09:00"),
		PaymentAmount: str("29500.00"), OrderPlaceID: str("cafe24"),
		InitialOrderAmount: &cafe24api.OrderAmount{ShippingFee: str("2500.00"), PaymentAmount: str("70500.00")},
		Items: []cafe24api.Item{
			{
				ItemNo: 1, OrderItemCode: "20240115-0000042-01", ProductNo: 123, ProductCode: "P00000DX", VariantCode: "P00000DX000B",
				ProductName: "Linen shirt", OptionValue: str("Color=Black"), Quantity: 2,
				ProductPrice: "15000.00", OptionPrice: str("0.00"), AdditionalDiscountPrice: str("0.00"), CouponDiscountPrice: str("3000.00"),
				PaymentAmount: str("27000.00"), OrderStatus: "N40", StatusCode: str("N1"),
				OrderedDate: str("2024-01-15 10:02:11"), ShippedDate: str("2024-01-16 09:00:00"), DeliveredDate: str("2024-01-18 13:00:00"),
			},
			{
				// payment_amount null: the mall has no automatic discount
				// calculation (cafe24.md §4), so pay is gross less discounts.
				ItemNo: 2, OrderItemCode: "20240115-0000042-02", ProductNo: 7, ProductCode: "P0000007", VariantCode: "P00000070002",
				ProductName: "Wide slacks", OptionValue: str("Size=L"), Quantity: 3,
				ProductPrice: "12000.00", OptionPrice: str("1000.00"), AdditionalDiscountPrice: str("500.00"), CouponDiscountPrice: str("1000.00"),
				AppItemDiscountAmount: str("200.00"), OrderStatus: "N50",
				ClaimType: str("R"), ClaimCode: str("C20240120-0000003"), ClaimQuantity: qty(1),
				OrderedDate: str("2024-01-15 10:02:11"), ReturnRequestDate: str("2024-01-20 08:00:00"),
				ReturnConfirmedDate: str("2024-01-24 18:30:00"), RefundDate: str("2024-01-24 18:30:00"),
				PurchaseConfirmationDate: str("2024-02-01 00:00:05"),
			},
			{
				ItemNo: 3, OrderItemCode: "20240115-0000042-03", ProductNo: 9, ProductCode: "P0000009", VariantCode: "P00000090001",
				ProductName: "Cap", Quantity: 1, ProductPrice: "9000.00", OrderStatus: "C00",
				ClaimType: str("C"), ClaimCode: str("C20240115-0000009"), ClaimQuantity: qty(1), CancelRequestDate: str("2024-01-15 11:00:00"),
			},
		},
	}
}

func TestOrderTranslation(t *testing.T) {
	ix := NewRefundIndex()
	ix.Add(cafe24api.Refund{OrderID: "20240115-0000042", RefundCode: str("R20240124-0000001"), OrderItemCode: []string{"20240115-0000042-02"}, Currency: "KRW", ActualRefundAmount: "12100.00", RefundDate: str("2024-01-24T18:30:00+09:00")})
	ix.Add(cafe24api.Refund{OrderID: "20240115-0000042", RefundCode: str("R20240124-0000001"), OrderItemCode: []string{"20240115-0000042-02"}, Currency: "KRW", ActualRefundAmount: "12100.00"})
	order, lines, err := Order(sampleOrder(), ix)
	if err != nil {
		t.Fatal(err)
	}
	wantOrder := &commercev1.Order{
		SourceId: "20240115-0000042", OrderedAt: ts("2024-01-15T10:02:11+09:00"), PaidAt: ts("2024-01-15T10:03:40+09:00"),
		CurrencyCode: "KRW", ShippingFee: won(2500), PaidAmount: won(70500), BuyerId: "buyer01",
		Status:    commercev1.OrderStatus_ORDER_STATUS_DELIVERED,
		RawStatus: "paid=T canceled=F shipping_status=T", Channel: "cafe24",
		UpdatedAt: ts("2024-02-01 00:00:05"),
	}
	if !proto.Equal(order, wantOrder) {
		t.Errorf("order:\n got %v\nwant %v", order, wantOrder)
	}
	paid := ts("2024-01-15T10:03:40+09:00")
	ordered := ts("2024-01-15 10:02:11")
	wantLines := []*commercev1.OrderLine{
		{
			SourceId: "20240115-0000042-01", OrderSourceId: "20240115-0000042", ProductSourceId: "123", OptionSourceId: "P00000DX000B",
			ProductName: "Linen shirt", OptionName: "Color=Black", Quantity: 2,
			UnitPrice: won(15000), OptionPrice: won(0), Discount: won(3000), PaidAmount: won(27000),
			Status: commercev1.OrderStatus_ORDER_STATUS_DELIVERED, RawStatus: "N40", OrderedAt: ordered, PaidAt: paid,
		},
		{
			SourceId: "20240115-0000042-02", OrderSourceId: "20240115-0000042", ProductSourceId: "7", OptionSourceId: "P00000070002",
			ProductName: "Wide slacks", OptionName: "Size=L", Quantity: 3,
			// option_price is per unit: 1,000 x 3 for the line. Discounts add up.
			UnitPrice: won(12000), OptionPrice: won(3000), Discount: won(1700), PaidAmount: won(36000 + 3000 - 1700),
			Status: commercev1.OrderStatus_ORDER_STATUS_CONFIRMED, RawStatus: "N50", OrderedAt: ordered, PaidAt: paid,
			Claims: []*commercev1.Claim{{
				SourceId: "C20240120-0000003", Type: commercev1.ClaimType_CLAIM_TYPE_RETURN, State: commercev1.ClaimState_CLAIM_STATE_COMPLETED,
				Quantity: 1, RefundAmount: won(12100), RequestedAt: ts("2024-01-20 08:00:00"), CompletedAt: ts("2024-01-24 18:30:00"), RawStatus: "N50",
			}},
		},
		{
			SourceId: "20240115-0000042-03", OrderSourceId: "20240115-0000042", ProductSourceId: "9", OptionSourceId: "P00000090001",
			ProductName: "Cap", Quantity: 1, UnitPrice: won(9000), OptionPrice: won(0), Discount: won(0), PaidAmount: won(9000),
			Status: commercev1.OrderStatus_ORDER_STATUS_CLAIM_IN_PROGRESS, RawStatus: "C00", OrderedAt: ts("2024-01-15T10:02:11+09:00"), PaidAt: paid,
			Claims: []*commercev1.Claim{{
				SourceId: "C20240115-0000009", Type: commercev1.ClaimType_CLAIM_TYPE_CANCEL, State: commercev1.ClaimState_CLAIM_STATE_REQUESTED,
				Quantity: 1, RefundAmount: won(0), RequestedAt: ts("2024-01-15 11:00:00"), RawStatus: "C00",
			}},
		},
	}
	if len(lines) != len(wantLines) {
		t.Fatalf("%d lines, want %d", len(lines), len(wantLines))
	}
	for i := range lines {
		if !proto.Equal(lines[i], wantLines[i]) {
			t.Errorf("line %d:\n got %v\nwant %v", i, lines[i], wantLines[i])
		}
	}
}

func TestRefundCoveringSeveralItemsIsSharedByPay(t *testing.T) {
	o := sampleOrder()
	o.Items = o.Items[:2]
	o.Items[0].OrderStatus, o.Items[0].ClaimType, o.Items[0].ClaimCode = "R40", str("R"), str("C20240120-0000001")
	o.Items[0].ReturnRequestDate, o.Items[0].ReturnConfirmedDate = str("2024-01-20 08:00:00"), str("2024-01-24 18:30:00")
	ix := NewRefundIndex()
	// Paid 27,000 and 37,300: 10,001 won shared 27:37.3, remainder to the first.
	ix.Add(cafe24api.Refund{OrderID: o.OrderID, OrderItemCode: []string{"20240115-0000042-01", "20240115-0000042-02"}, ActualRefundAmount: "10001.00", RefundDate: str("2024-01-24T18:30:00+09:00")})
	_, lines, err := Order(o, ix)
	if err != nil {
		t.Fatal(err)
	}
	second := int64(10001) * 37300 / (27000 + 37300)
	if got := lines[1].Claims[0].RefundAmount.MinorUnits; got != second {
		t.Errorf("second item's share %d, want %d", got, second)
	}
	if got := lines[0].Claims[0].RefundAmount.MinorUnits + lines[1].Claims[0].RefundAmount.MinorUnits; got != 10001 {
		t.Errorf("shares add to %d, want 10001", got)
	}
}

func TestMalformedOrdersAreRejected(t *testing.T) {
	cases := map[string]func(o *cafe24api.Order){
		"float money":        func(o *cafe24api.Order) { o.Items[0].ProductPrice = "15000.5" },
		"comma money":        func(o *cafe24api.Order) { o.Items[0].CouponDiscountPrice = str("3,000") },
		"bad order date":     func(o *cafe24api.Order) { o.OrderDate = "yesterday" },
		"bad item date":      func(o *cafe24api.Order) { o.Items[1].ReturnRequestDate = str("2024/01/20") },
		"zero quantity":      func(o *cafe24api.Order) { o.Items[0].Quantity = 0 },
		"claim beyond line":  func(o *cafe24api.Order) { o.Items[1].ClaimQuantity = qty(4) },
		"no currency":        func(o *cafe24api.Order) { o.Currency = "" },
		"no payment amount":  func(o *cafe24api.Order) { o.InitialOrderAmount, o.PaymentAmount = nil, nil },
		"unknown claim type": func(o *cafe24api.Order) { o.Items[1].ClaimType, o.Items[1].OrderStatus = str("Z"), "Z00" },
	}
	for name, spoil := range cases {
		o := sampleOrder()
		spoil(o)
		if _, _, err := Order(o, NewRefundIndex()); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func TestMissingRefundDays(t *testing.T) {
	o := sampleOrder()
	ix := NewRefundIndex()
	days, err := MissingRefundDays(o, ix)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 1 || days[0].Format(time.DateOnly) != "2024-01-24" {
		t.Fatalf("missing days %v, want 2024-01-24", days)
	}
	ix.Add(cafe24api.Refund{OrderItemCode: []string{"20240115-0000042-02"}, ActualRefundAmount: "1.00"})
	if days, _ := MissingRefundDays(o, ix); len(days) != 0 {
		t.Fatalf("missing days %v after the refund was indexed", days)
	}
}
