package sandbox

import (
	"fmt"
	"net/http"
	"sort"
	"time"
)

// refundJSON is one refund (cafe24.md §8: refund_code, order_item_code[],
// actual_refund_amount, status). The sandbox makes one refund per completed
// claim that gave money back, covering that claim's one item.
type refundJSON struct {
	ShopNo             int      `json:"shop_no"`
	OrderID            string   `json:"order_id"`
	OrderDate          string   `json:"order_date"`
	RefundCode         string   `json:"refund_code"`
	OrderItemCode      []string `json:"order_item_code"`
	Quantity           int32    `json:"quantity"`
	Currency           string   `json:"currency"`
	ActualRefundAmount string   `json:"actual_refund_amount"`
	TotalRefundAmount  string   `json:"total_refund_amount"`
	UsedPoints         string   `json:"used_points"`
	UsedCredits        string   `json:"used_credits"`
	AcceptedRefundDate string   `json:"accepted_refund_date"`
	RefundDate         string   `json:"refund_date"`
	Status             string   `json:"status"`
}

// listRefunds serves GET /api/v2/admin/refunds: start_date and end_date are
// required, date_type is refund_date (default) or accepted_refund_date, limit
// at most 500, offset at most 15000 (cafe24.md §8). The 3-month cap of the
// orders search is assumed to hold here too.
func (s *Sandbox) listRefunds(w http.ResponseWriter, r *http.Request, v *view) {
	q := r.URL.Query()
	p, err := parsePeriod(q)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	dateType := q.Get("date_type")
	if dateType == "" {
		dateType = "refund_date"
	}
	if dateType != "refund_date" && dateType != "accepted_refund_date" {
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("date_type %q is invalid.", dateType))
		return
	}
	limit, offset, err := parsePaging(q, maxRefundsLimit)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	at := func(rf *viewRefund) time.Time {
		if dateType == "accepted_refund_date" {
			return rf.accepted
		}
		return rf.refunded
	}
	var matched []*viewRefund
	for _, rf := range v.refunds {
		if p.contains(at(rf)) {
			matched = append(matched, rf)
		}
	}
	sort.SliceStable(matched, func(i, j int) bool {
		if !at(matched[i]).Equal(at(matched[j])) {
			return at(matched[i]).Before(at(matched[j]))
		}
		return matched[i].code < matched[j].code
	})
	body := struct {
		Refunds []refundJSON `json:"refunds"`
		Links   []link       `json:"links,omitempty"`
	}{Refunds: []refundJSON{}}
	if offset < len(matched) {
		for _, rf := range matched[offset:min(offset+limit, len(matched))] {
			body.Refunds = append(body.Refunds, refundJSON{
				ShopNo:             1,
				OrderID:            rf.order.order.SourceId,
				OrderDate:          orderDate(rf.orderedAt),
				RefundCode:         rf.code,
				OrderItemCode:      []string{rf.line.line.SourceId},
				Quantity:           rf.claim.Quantity,
				Currency:           v.currency,
				ActualRefundAmount: money(rf.amount),
				TotalRefundAmount:  money(rf.amount),
				UsedPoints:         money(0),
				UsedCredits:        money(0),
				AcceptedRefundDate: orderDate(rf.accepted),
				RefundDate:         orderDate(rf.refunded),
				Status:             "complete",
			})
		}
	}
	if offset+limit < len(matched) {
		body.Links = []link{{Rel: "next", Href: nextLink(r.URL, r.Host, r.TLS != nil, q, offset+limit)}}
	}
	writeJSON(w, http.StatusOK, body)
}
