package sandbox

import (
	"sort"
	"time"

	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	"hlog.dev/proto/synth"
)

// view is a mall as it stands at one instant, indexed for the endpoints.
type view struct {
	at       time.Time
	mall     *mall
	orders   []*viewOrder // by order date, then order id
	refunds  []*viewRefund
	currency string
}

type viewOrder struct {
	order     *commercev1.Order
	lines     []*viewLine
	paidFirst time.Time // payment time in the full store, for the payment method
}

type viewLine struct {
	line   *commercev1.OrderLine
	events []synth.StatusChange // status changes up to the view's instant
}

// claim is the line's claim as visible; synth gives a line at most one.
func (l *viewLine) claim() *commercev1.Claim {
	if len(l.line.Claims) == 0 {
		return nil
	}
	return l.line.Claims[len(l.line.Claims)-1]
}

// firstEvent is when the line first reached status, if it has.
func (l *viewLine) firstEvent(status commercev1.OrderStatus) (time.Time, bool) {
	for _, e := range l.events {
		if e.Status == status {
			return e.At, true
		}
	}
	return time.Time{}, false
}

// viewRefund is one completed refund: synth's completed claims that gave
// money back, one refund per claim.
type viewRefund struct {
	code      string
	order     *viewOrder
	line      *viewLine
	claim     *commercev1.Claim
	refunded  time.Time
	accepted  time.Time
	amount    int64
	orderedAt time.Time
}

func newView(m *mall, t time.Time) *view {
	st := m.store.AsOf(t)
	v := &view{at: t, mall: m, currency: st.Currency}
	paidInFull := map[string]time.Time{}
	for _, o := range m.store.Orders {
		if o.PaidAt != nil {
			paidInFull[o.SourceId] = o.PaidAt.AsTime()
		}
	}
	byID := map[string]*viewOrder{}
	for _, o := range st.Orders {
		vo := &viewOrder{order: o, paidFirst: paidInFull[o.SourceId]}
		byID[o.SourceId] = vo
		v.orders = append(v.orders, vo)
	}
	for _, l := range st.Lines {
		vo := byID[l.OrderSourceId]
		vl := &viewLine{line: l}
		for _, e := range m.store.LineEvents(l.SourceId) {
			if !e.At.After(t) {
				vl.events = append(vl.events, e)
			}
		}
		vo.lines = append(vo.lines, vl)
		c := vl.claim()
		if c != nil && c.State == commercev1.ClaimState_CLAIM_STATE_COMPLETED && c.RefundAmount.GetMinorUnits() > 0 {
			v.refunds = append(v.refunds, &viewRefund{
				code:      refundCode(c.SourceId),
				order:     vo,
				line:      vl,
				claim:     c,
				refunded:  c.CompletedAt.AsTime(),
				accepted:  c.CompletedAt.AsTime(),
				amount:    c.RefundAmount.GetMinorUnits(),
				orderedAt: vo.order.OrderedAt.AsTime(),
			})
		}
	}
	sort.SliceStable(v.orders, func(i, j int) bool {
		a, b := v.orders[i].order, v.orders[j].order
		if !a.OrderedAt.AsTime().Equal(b.OrderedAt.AsTime()) {
			return a.OrderedAt.AsTime().Before(b.OrderedAt.AsTime())
		}
		return a.SourceId < b.SourceId
	})
	return v
}

// refundCode derives a refund code from the claim code. cafe24.md §4 gives
// claim and refund codes the same shape ("C20190610-0000001"); the sandbox
// marks refunds with R so that a collector cannot mistake one for the other.
func refundCode(claimCode string) string {
	if len(claimCode) > 1 {
		return "R" + claimCode[1:]
	}
	return "R" + claimCode
}
