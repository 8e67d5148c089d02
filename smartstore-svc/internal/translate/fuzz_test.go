package translate

import (
	"encoding/json"
	"strings"
	"testing"

	"hlog.dev/smartstore-svc/internal/naverapi"
)

// FuzzOrder decodes arbitrary query answers and translates them: no input
// may panic, and a translated order keeps every line, each with a quantity
// and the order's id.
func FuzzOrder(f *testing.F) {
	f.Add([]byte(`{"data":[{"order":{"orderId":"2024050112345670","orderDate":"2024-05-01T09:58:10.000+09:00","paymentDate":"2024-05-01T09:59:02.000+09:00","generalPaymentAmount":30000},"productOrder":{"productOrderId":"2024050187654321","productOrderStatus":"PAYED","productId":"8123456789","originalProductId":"8101234567","productName":"티셔츠","productOption":"색상: 블랙","quantity":2,"remainQuantity":2,"unitPrice":15000,"totalProductAmount":30000,"productDiscountAmount":3000,"totalPaymentAmount":27000,"deliveryFeeAmount":3000}}]}`))
	f.Add([]byte(`{"data":[{"order":{"orderId":"1","orderDate":"2024-05-01T09:58:10.000+09:00"},"productOrder":{"productOrderId":"2","productOrderStatus":"DELIVERED","claimType":"RETURN","claimStatus":"RETURN_DONE","quantity":3,"initialQuantity":3,"remainQuantity":1,"initialPaymentAmount":30000,"remainPaymentAmount":10000},"return":{"claimId":"c","claimStatus":"RETURN_DONE","claimRequestDate":"2024-05-03T09:58:10.000+09:00","requestQuantity":2,"returnCompletedDate":"2024-05-05T09:58:10.000+09:00"}}]}`))
	f.Add([]byte(`{"data":[{"order":{"orderId":"1","orderDate":"2024-05-01T09:58:10.000+09:00"},"productOrder":{"productOrderId":"2","productOrderStatus":"CANCELED_BY_NOPAYMENT","quantity":1},"cancel":{"claimId":"c","claimStatus":"CANCEL_REQUEST"}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		pos, err := naverapi.DecodeProductOrders(b)
		if err != nil || len(pos) == 0 {
			return
		}
		ptrs := make([]*naverapi.ProductOrder, len(pos))
		for i := range pos {
			ptrs[i] = &pos[i]
		}
		Complete(ptrs)
		o, lines, err := Order(ptrs)
		if err != nil {
			return
		}
		if len(lines) != len(pos) {
			t.Fatalf("%d product orders became %d lines", len(pos), len(lines))
		}
		for _, l := range lines {
			if l.OrderSourceId != o.SourceId || l.Quantity <= 0 || l.SourceId == "" {
				t.Fatalf("line %+v of order %s", l, o.SourceId)
			}
			for _, c := range l.Claims {
				if c.RefundAmount == nil || c.Type == 0 {
					t.Fatalf("claim %+v", c)
				}
			}
		}
		if _, err := json.Marshal(o); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzCategories: any category list translates without panicking, and each
// category's depth is its path's length.
func FuzzCategories(f *testing.F) {
	f.Add([]byte(`[{"wholeCategoryName":"상의>티셔츠","id":"50000002","name":"티셔츠","last":true},{"wholeCategoryName":"상의","id":"50000001","name":"상의","last":false}]`))
	f.Add([]byte(`[{"wholeCategoryName":">>","id":"1"}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var in []naverapi.Category
		if json.Unmarshal(b, &in) != nil {
			return
		}
		out, err := Categories(in)
		if err != nil {
			return
		}
		for i, c := range out {
			if want := int32(strings.Count(in[i].WholeCategoryName, ">") + 1); c.Depth != want || c.SourceId != in[i].ID {
				t.Fatalf("category %+v from %+v", c, in[i])
			}
		}
	})
}
