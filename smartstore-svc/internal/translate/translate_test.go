package translate

import (
	"testing"
	"time"

	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	"hlog.dev/smartstore-svc/internal/naverapi"
)

func decode(t *testing.T, js string) []*naverapi.ProductOrder {
	t.Helper()
	pos, err := naverapi.DecodeProductOrders([]byte(`{"data":[` + js + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*naverapi.ProductOrder, len(pos))
	for i := range pos {
		out[i] = &pos[i]
	}
	return out
}

func TestPartialReturnTakesQuantityAndRefundFromTheRemainFields(t *testing.T) {
	pos := decode(t, `{"order":{"orderId":"O1","orderDate":"2026-03-01T10:00:00.000+09:00","paymentDate":"2026-03-01T10:01:00.000+09:00","ordererId":"b1","generalPaymentAmount":57000},
	 "productOrder":{"productOrderId":"P1","productOrderStatus":"PURCHASE_DECIDED","claimType":"RETURN","claimStatus":"RETURN_DONE","originalProductId":"8100000001","optionCode":"90000000101",
	  "quantity":3,"initialQuantity":3,"remainQuantity":2,"unitPrice":19900,"optionPrice":1000,"totalProductAmount":62700,"productDiscountAmount":5700,"initialPaymentAmount":57000,"remainPaymentAmount":38000,"deliveryFeeAmount":0},
	 "delivery":{"sendDate":"2026-03-02T10:00:00.000+09:00","deliveredDate":"2026-03-04T10:00:00.000+09:00"},
	 "return":{"claimId":"C1","claimStatus":"RETURN_DONE","claimRequestDate":"2026-03-06T10:00:00.000+09:00","requestQuantity":1,"returnCompletedDate":"2026-03-09T10:00:00.000+09:00"}}`)
	if !Complete(pos) {
		t.Fatal("a one-line order paid 57,000 is complete")
	}
	o, lines, err := Order(pos)
	if err != nil {
		t.Fatal(err)
	}
	l := lines[0]
	c := l.Claims[0]
	if l.Status != commercev1.OrderStatus_ORDER_STATUS_CONFIRMED || l.OptionPrice.MinorUnits != 3000 || l.PaidAmount.MinorUnits != 57000 || l.Discount.MinorUnits != 5700 {
		t.Errorf("line %v", l)
	}
	if c.Quantity != 1 || c.RefundAmount.MinorUnits != 19000 || c.State != commercev1.ClaimState_CLAIM_STATE_COMPLETED || c.Type != commercev1.ClaimType_CLAIM_TYPE_RETURN ||
		!c.CompletedAt.AsTime().Equal(time.Date(2026, 3, 9, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("claim %v", c)
	}
	if !o.UpdatedAt.AsTime().Equal(c.CompletedAt.AsTime()) || o.PaidAmount.MinorUnits != 57000 || o.Status != l.Status {
		t.Errorf("order %v", o)
	}
}

func TestClaimsUnderWayAndCancelsForNoPayment(t *testing.T) {
	for _, tc := range []struct {
		name string
		po   string
		want commercev1.OrderStatus
		qty  int32
	}{
		{"full cancel requested", `"productOrder":{"productOrderId":"P","productOrderStatus":"PAYED","quantity":2,"initialPaymentAmount":100},"cancel":{"claimId":"C","claimStatus":"CANCEL_REQUEST","requestQuantity":2,"claimRequestDate":"2026-03-01T11:00:00.000+09:00"}`, commercev1.OrderStatus_ORDER_STATUS_CLAIM_IN_PROGRESS, 2},
		{"partial exchange requested", `"productOrder":{"productOrderId":"P","productOrderStatus":"DELIVERED","quantity":2,"initialPaymentAmount":100},"exchange":{"claimId":"C","claimStatus":"EXCHANGE_REQUEST","requestQuantity":1,"claimRequestDate":"2026-03-01T11:00:00.000+09:00"}`, commercev1.OrderStatus_ORDER_STATUS_DELIVERED, 1},
		{"never paid", `"productOrder":{"productOrderId":"P","productOrderStatus":"CANCELED_BY_NOPAYMENT","quantity":1,"initialPaymentAmount":100,"remainPaymentAmount":100,"remainQuantity":0},"cancel":{"claimId":"C","claimStatus":"CANCEL_DONE","requestQuantity":1,"claimRequestDate":"2026-03-04T10:00:00.000+09:00","cancelCompletedDate":"2026-03-04T10:00:00.000+09:00"}`, commercev1.OrderStatus_ORDER_STATUS_CANCELLED, 1},
	} {
		pos := decode(t, `{"order":{"orderId":"O","orderDate":"2026-03-01T10:00:00.000+09:00"},`+tc.po+`}`)
		l, err := Line(pos[0])
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if l.Status != tc.want || len(l.Claims) != 1 || l.Claims[0].Quantity != tc.qty || l.Claims[0].RefundAmount.MinorUnits != 0 {
			t.Errorf("%s: %v", tc.name, l)
		}
	}
	if _, err := Line(decode(t, `{"order":{"orderId":"O","orderDate":"2026-03-01T10:00:00.000+09:00"},"productOrder":{"productOrderId":"P","productOrderStatus":"LOST","quantity":1}}`)[0]); err == nil {
		t.Error("an unknown status translated")
	}
}

func TestCompleteNeedsEveryLine(t *testing.T) {
	two := decode(t, `{"order":{"orderId":"O","orderDate":"2026-03-01T10:00:00.000+09:00","generalPaymentAmount":33000},"productOrder":{"productOrderId":"P1","productOrderStatus":"PAYED","quantity":1,"initialPaymentAmount":10000,"deliveryFeeAmount":3000}},
	 {"order":{"orderId":"O","orderDate":"2026-03-01T10:00:00.000+09:00","generalPaymentAmount":33000},"productOrder":{"productOrderId":"P2","productOrderStatus":"PAYED","quantity":1,"initialPaymentAmount":20000}}`)
	if !Complete(two) || Complete(two[1:]) || Complete(two[:1]) {
		t.Error("completeness misjudged")
	}
	o, _, err := Order([]*naverapi.ProductOrder{two[1], two[0]})
	if err != nil || o.ShippingFee.MinorUnits != 3000 || o.PaidAmount.MinorUnits != 33000 {
		t.Errorf("order %v, %v", o, err)
	}
}
