package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	// maxRange is the widest date range of the pay-order searches: the
	// documented default of 24 hours, treated as the maximum (smartstore.md §3).
	maxRange = 24 * time.Hour
	// MaxLimit is the most rows of one last-changed page or conditional
	// search page, and the most ids of one query (smartstore.md §3-§4).
	MaxLimit = 300
)

// dateRange reads a pay-order date range: from is required, to defaults to
// from + 24 hours (cut at the clock when omitted); an explicit to may not lie
// in the future nor more than 24 hours after from.
func (c *call) dateRange(q url.Values, fromName, toName string) (time.Time, time.Time, bool) {
	now := c.s.Now()
	from, ok := parseNaverTime(q.Get(fromName))
	if !ok {
		c.payOrderError(http.StatusBadRequest, "4000", "요청 파라미터가 유효하지 않습니다.", invalidInput{Name: fromName, Type: "DateTime", Message: "yyyy-MM-dd'T'HH:mm:ss.SSSXXX required"})
		return from, from, false
	}
	to := from.Add(maxRange)
	if q.Get(toName) == "" {
		if to.After(now) {
			to = now
		}
	} else if to, ok = parseNaverTime(q.Get(toName)); !ok {
		c.payOrderError(http.StatusBadRequest, "4000", "요청 파라미터가 유효하지 않습니다.", invalidInput{Name: toName, Type: "DateTime", Message: "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"})
		return from, to, false
	}
	switch {
	case to.After(now):
		c.payOrderError(http.StatusBadRequest, "4000", "조회 종료 일시는 현재 시각 이후일 수 없습니다.", invalidInput{Name: toName, Type: "Future", Message: "must not be in the future"})
		return from, to, false
	case to.Before(from):
		c.payOrderError(http.StatusBadRequest, "4000", "조회 시작 일시가 종료 일시보다 늦습니다.", invalidInput{Name: fromName, Type: "Range", Message: "from after to"})
		return from, to, false
	case to.Sub(from) > maxRange:
		c.payOrderError(http.StatusBadRequest, "104139", "조회 가능 기간을 초과했습니다. (24시간 이내)")
		return from, to, false
	}
	return from, to, true
}

type changeRow struct {
	OrderID                string  `json:"orderId"`
	ProductOrderID         string  `json:"productOrderId"`
	LastChangedType        string  `json:"lastChangedType"`
	LastChangedDate        string  `json:"lastChangedDate"`
	PaymentDate            *string `json:"paymentDate,omitempty"`
	ProductOrderStatus     string  `json:"productOrderStatus"`
	ClaimType              string  `json:"claimType,omitempty"`
	ClaimStatus            string  `json:"claimStatus,omitempty"`
	ReceiverAddressChanged bool    `json:"receiverAddressChanged"`
}

// lastChanged answers GET .../product-orders/last-changed-statuses
// (smartstore.md §3): one row per product order, its latest change, sorted
// by lastChangedDate then productOrderId, paged with data.more.
func (s *Sandbox) lastChanged(c *call, sl *seller) {
	q := c.r.URL.Query()
	from, to, ok := c.dateRange(q, "lastChangedFrom", "lastChangedTo")
	if !ok {
		return
	}
	limit := MaxLimit
	if v := q.Get("limitCount"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			c.payOrderError(http.StatusBadRequest, "4000", "요청 파라미터가 유효하지 않습니다.", invalidInput{Name: "limitCount", Type: "Min", Message: "1 or more"})
			return
		}
		limit = min(n, MaxLimit) // more than 300 means 300
	}
	seq := q.Get("moreSequence")
	kind := q.Get("lastChangedType")
	now := s.Now()
	var rows []*lineState
	for _, l := range sl.visibleLines(now) {
		st, _ := sl.stateAt(l, now)
		if st.lastChanged.Before(from) || st.lastChanged.After(to) || (kind != "" && st.lastChangedType != kind) {
			continue
		}
		if seq != "" && st.lastChanged.Equal(from) && l.SourceId < seq {
			continue
		}
		rows = append(rows, st)
	}
	sort.Slice(rows, func(i, j int) bool {
		if !rows[i].lastChanged.Equal(rows[j].lastChanged) {
			return rows[i].lastChanged.Before(rows[j].lastChanged)
		}
		return rows[i].line.SourceId < rows[j].line.SourceId
	})
	data := map[string]any{}
	if len(rows) > limit {
		next := rows[limit]
		data["more"] = map[string]string{"moreFrom": naverTime(next.lastChanged), "moreSequence": next.line.SourceId}
		rows = rows[:limit]
	}
	out := make([]changeRow, 0, len(rows))
	for _, st := range rows {
		r := changeRow{
			OrderID: st.order.SourceId, ProductOrderID: st.line.SourceId,
			LastChangedType: st.lastChangedType, LastChangedDate: naverTime(st.lastChanged),
			ProductOrderStatus: productOrderStatus(st),
		}
		if !st.paid.IsZero() {
			r.PaymentDate = naverTimePtr(st.paid)
		}
		if st.claim != nil {
			r.ClaimType = claimWords[st.claim.Type]
			r.ClaimStatus = r.ClaimType + "_REQUEST"
			if st.claimDone {
				r.ClaimStatus = r.ClaimType + "_DONE"
			}
		}
		out = append(out, r)
	}
	data["lastChangeStatuses"] = out
	data["count"] = len(out)
	c.payOrderOK(data)
}

// rangeDate is the date a conditional search's rangeType filters on.
var rangeDates = map[string]func(*lineState) time.Time{
	"PAYED_DATETIME":            func(st *lineState) time.Time { return st.paid },
	"ORDERED_DATETIME":          func(st *lineState) time.Time { return st.order.OrderedAt.AsTime() },
	"DISPATCHED_DATETIME":       func(st *lineState) time.Time { return st.shipped },
	"PURCHASE_DECIDED_DATETIME": func(st *lineState) time.Time { return st.confirmed },
	"CLAIM_REQUESTED_DATETIME": func(st *lineState) time.Time {
		if st.claim == nil {
			return time.Time{}
		}
		return st.claim.RequestedAt.AsTime()
	},
	"CLAIM_COMPLETED_DATETIME": func(st *lineState) time.Time {
		if st.claim == nil || !st.claimDone {
			return time.Time{}
		}
		return st.claim.CompletedAt.AsTime()
	},
}

// listParam reads an array parameter sent either repeated or comma-separated
// (the encoding is undocumented, smartstore.md §3).
func listParam(q url.Values, name string) map[string]bool {
	out := map[string]bool{}
	for _, v := range append(q[name], q[name+"[]"]...) {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out[p] = true
			}
		}
	}
	return out
}

// searchProductOrders answers GET /v1/pay-order/seller/product-orders, the
// conditional search (smartstore.md §3).
func (s *Sandbox) searchProductOrders(c *call, sl *seller) {
	q := c.r.URL.Query()
	from, to, ok := c.dateRange(q, "from", "to")
	if !ok {
		return
	}
	rangeType := q.Get("rangeType")
	if rangeType == "" {
		rangeType = "PAYED_DATETIME"
	}
	dateOf, ok := rangeDates[rangeType]
	if !ok {
		c.payOrderError(http.StatusBadRequest, "4000", "요청 파라미터가 유효하지 않습니다.", invalidInput{Name: "rangeType", Type: "Enum", Message: "unknown rangeType " + rangeType})
		return
	}
	page, size := 1, MaxLimit
	for _, p := range []struct {
		name     string
		v        *int
		min, max int
	}{{"page", &page, 1, 1 << 30}, {"pageSize", &size, 1, MaxLimit}} {
		if raw := q.Get(p.name); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil || n < p.min || n > p.max {
				c.payOrderError(http.StatusBadRequest, "4000", "요청 파라미터가 유효하지 않습니다.", invalidInput{Name: p.name, Type: "Range", Message: "out of range"})
				return
			}
			*p.v = n
		}
	}
	statuses, claimStatuses := listParam(q, "productOrderStatuses"), listParam(q, "claimStatuses")
	now := s.Now()
	lines := sl.visibleLines(now)
	if rangeType == "ORDERED_DATETIME" {
		lo := sort.Search(len(lines), func(i int) bool { return !lines[i].OrderedAt.AsTime().Before(from) })
		hi := sort.Search(len(lines), func(i int) bool { return lines[i].OrderedAt.AsTime().After(to) })
		lines = lines[lo:hi]
	}
	type hit struct {
		st *lineState
		at time.Time
	}
	var hits []hit
	for _, l := range lines {
		st, _ := sl.stateAt(l, now)
		at := dateOf(st)
		if at.IsZero() || at.Before(from) || at.After(to) {
			continue
		}
		if len(statuses) > 0 && !statuses[productOrderStatus(st)] {
			continue
		}
		if len(claimStatuses) > 0 && (st.claim == nil || !claimStatuses[claimStatusOf(st)]) {
			continue
		}
		hits = append(hits, hit{st, at})
	}
	sort.SliceStable(hits, func(i, j int) bool {
		if !hits[i].at.Equal(hits[j].at) {
			return hits[i].at.Before(hits[j].at)
		}
		return hits[i].st.line.SourceId < hits[j].st.line.SourceId
	})
	first := (page - 1) * size
	contents := []map[string]any{}
	for i := first; i < len(hits) && i < first+size; i++ {
		contents = append(contents, map[string]any{"productOrderId": hits[i].st.line.SourceId, "content": sl.render(hits[i].st)})
	}
	c.payOrderOK(map[string]any{
		"contents":   contents,
		"pagination": map[string]any{"page": page, "size": size, "hasNext": first+size < len(hits)},
	})
}

func claimStatusOf(st *lineState) string {
	w := claimWords[st.claim.Type]
	if st.claimDone {
		return w + "_DONE"
	}
	return w + "_REQUEST"
}

// queryProductOrders answers POST .../product-orders/query (smartstore.md §4):
// at most 300 ids; ids the seller does not have are left out.
func (s *Sandbox) queryProductOrders(c *call, sl *seller) {
	var body struct {
		ProductOrderIDs            []string `json:"productOrderIds"`
		QuantityClaimCompatibility bool     `json:"quantityClaimCompatibility"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.w, c.r.Body, 1<<20))
	if err := dec.Decode(&body); err != nil {
		c.payOrderError(http.StatusBadRequest, "4000", "요청 본문이 유효하지 않습니다.", invalidInput{Name: "productOrderIds", Type: "Json", Message: err.Error()})
		return
	}
	switch n := len(body.ProductOrderIDs); {
	case n == 0:
		c.payOrderError(http.StatusBadRequest, "4000", "요청 파라미터가 유효하지 않습니다.", invalidInput{Name: "productOrderIds", Type: "NotEmpty", Message: "at least one id"})
		return
	case n > MaxLimit:
		c.payOrderError(http.StatusBadRequest, "4000", "요청 파라미터가 유효하지 않습니다.", invalidInput{Name: "productOrderIds", Type: "Size", Message: "at most 300 ids"})
		return
	}
	now := s.Now()
	out := []productOrderJSON{}
	for _, id := range body.ProductOrderIDs {
		l, ok := sl.lines[id]
		if !ok {
			continue
		}
		if st, ok := sl.stateAt(l, now); ok {
			out = append(out, sl.render(st))
		}
	}
	c.payOrderOK(out)
}

// productOrderIDs answers GET /v1/pay-order/seller/orders/{orderId}/product-order-ids:
// the product orders of one order.
func (s *Sandbox) productOrderIDs(c *call, sl *seller) {
	id := strings.TrimSuffix(strings.TrimPrefix(c.r.URL.Path, BasePath+"/v1/pay-order/seller/orders/"), "/product-order-ids")
	o, ok := sl.orders[id]
	if !ok || o.OrderedAt.AsTime().After(s.Now()) {
		c.payOrderError(http.StatusNotFound, "100001", "주문 정보가 존재하지 않습니다. (not found)")
		return
	}
	ids := []string{}
	for _, l := range sl.byOrder[id] {
		ids = append(ids, l.SourceId)
	}
	c.payOrderOK(ids)
}
