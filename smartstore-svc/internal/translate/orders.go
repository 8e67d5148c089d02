// Package translate is the one place Naver Commerce API JSON becomes
// canonical records: product orders to orders and order lines (statuses,
// claims with partial quantities from the remain fields, KST dates, won),
// channel products to products and options, categories to the tree.
package translate

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	"hlog.dev/smartstore-svc/internal/naverapi"
)

// Currency: the Commerce API deals in won only; amounts are whole won,
// which is KRW's minor unit.
const Currency = "KRW"

func won(n int64) *commercev1.Money { return &commercev1.Money{CurrencyCode: Currency, MinorUnits: n} }

func ts(t naverapi.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t.Time)
}

// lineStatuses maps productOrderStatus (smartstore.md §3).
var lineStatuses = map[string]commercev1.OrderStatus{
	"PAYMENT_WAITING":       commercev1.OrderStatus_ORDER_STATUS_AWAITING_PAYMENT,
	"PAYED":                 commercev1.OrderStatus_ORDER_STATUS_PAID,
	"DELIVERING":            commercev1.OrderStatus_ORDER_STATUS_SHIPPING,
	"DELIVERED":             commercev1.OrderStatus_ORDER_STATUS_DELIVERED,
	"PURCHASE_DECIDED":      commercev1.OrderStatus_ORDER_STATUS_CONFIRMED,
	"EXCHANGED":             commercev1.OrderStatus_ORDER_STATUS_EXCHANGED,
	"CANCELED":              commercev1.OrderStatus_ORDER_STATUS_CANCELLED,
	"RETURNED":              commercev1.OrderStatus_ORDER_STATUS_RETURNED,
	"CANCELED_BY_NOPAYMENT": commercev1.OrderStatus_ORDER_STATUS_CANCELLED,
}

// claimState maps claimStatus (smartstore.md §3) by its shape: *_REQUEST is
// asked for, *_DONE completed, *_REJECT rejected, the rest under way.
func claimState(s string) commercev1.ClaimState {
	switch {
	case s == "":
		return commercev1.ClaimState_CLAIM_STATE_UNSPECIFIED
	case strings.HasSuffix(s, "_REQUEST"):
		return commercev1.ClaimState_CLAIM_STATE_REQUESTED
	case strings.HasSuffix(s, "_DONE") && s != "COLLECT_DONE":
		return commercev1.ClaimState_CLAIM_STATE_COMPLETED
	case strings.HasSuffix(s, "_REJECT"):
		return commercev1.ClaimState_CLAIM_STATE_REJECTED
	case s == "PURCHASE_DECISION_HOLDBACK_RELEASE":
		return commercev1.ClaimState_CLAIM_STATE_WITHDRAWN
	}
	return commercev1.ClaimState_CLAIM_STATE_IN_PROGRESS
}

func or[T any](p *T, def T) T {
	if p != nil {
		return *p
	}
	return def
}

// Line translates one product order.
func Line(po *naverapi.ProductOrder) (*commercev1.OrderLine, error) {
	p := &po.ProductOrder
	switch {
	case p.ProductOrderID == "":
		return nil, errors.New("product order without productOrderId")
	case po.Order.OrderID == "":
		return nil, fmt.Errorf("product order %s without orderId", p.ProductOrderID)
	case po.Order.OrderDate.IsZero():
		return nil, fmt.Errorf("product order %s without orderDate", p.ProductOrderID)
	}
	status, ok := lineStatuses[p.ProductOrderStatus]
	if !ok {
		return nil, fmt.Errorf("product order %s: unknown productOrderStatus %q", p.ProductOrderID, p.ProductOrderStatus)
	}
	// quantity is the original quantity (= initialQuantity); amounts as
	// placed are the initial* fields, falling back to the totals
	// (smartstore.md §4).
	qty := or(p.InitialQuantity, p.Quantity)
	if qty <= 0 {
		return nil, fmt.Errorf("product order %s: quantity %d", p.ProductOrderID, qty)
	}
	paid := or(p.InitialPaymentAmount, p.TotalPaymentAmount)
	l := &commercev1.OrderLine{
		SourceId:        p.ProductOrderID,
		OrderSourceId:   po.Order.OrderID,
		ProductSourceId: p.OriginalProductID,
		OptionSourceId:  p.OptionCode,
		ProductName:     p.ProductName,
		OptionName:      p.ProductOption,
		Quantity:        qty,
		UnitPrice:       won(p.UnitPrice),
		// optionPrice is per unit; the canonical option price covers the line.
		OptionPrice: won(p.OptionPrice * int64(qty)),
		Discount:    won(or(p.InitialDiscount, p.ProductDiscountAmount)),
		PaidAmount:  won(paid),
		Status:      status,
		RawStatus:   p.ProductOrderStatus,
		OrderedAt:   ts(po.Order.OrderDate),
		PaidAt:      ts(po.Order.PaymentDate),
	}
	if p.ClaimStatus != "" {
		l.RawStatus += "/" + p.ClaimStatus
	}
	for _, k := range []struct {
		claim *naverapi.Claim
		kind  commercev1.ClaimType
		done  func(*naverapi.Claim) naverapi.Time
	}{
		{po.Cancel, commercev1.ClaimType_CLAIM_TYPE_CANCEL, func(c *naverapi.Claim) naverapi.Time { return c.CancelCompletedDate }},
		{po.Return, commercev1.ClaimType_CLAIM_TYPE_RETURN, func(c *naverapi.Claim) naverapi.Time { return c.ReturnCompletedDate }},
		{po.Exchange, commercev1.ClaimType_CLAIM_TYPE_EXCHANGE, func(c *naverapi.Claim) naverapi.Time { return c.ExchangeCompletedDate }},
	} {
		c := k.claim
		if c == nil || c.ClaimID == "" {
			continue
		}
		state := claimState(c.ClaimStatus)
		// Partial claims: the units and money that left the line are what
		// the remain fields no longer hold (smartstore.md §6).
		remainQty := or(p.RemainQuantity, qty)
		cq := or(c.RequestQuantity, qty-remainQty)
		var refund int64
		if state == commercev1.ClaimState_CLAIM_STATE_COMPLETED && k.kind != commercev1.ClaimType_CLAIM_TYPE_EXCHANGE {
			refund = paid - or(p.RemainPaymentAmount, paid)
			if c.RequestQuantity == nil {
				cq = qty - remainQty
			}
		}
		claim := &commercev1.Claim{
			SourceId: c.ClaimID, Type: k.kind, State: state, Quantity: cq, RefundAmount: won(refund),
			RequestedAt: ts(c.ClaimRequestDate), RawStatus: c.ClaimStatus,
		}
		if state == commercev1.ClaimState_CLAIM_STATE_COMPLETED {
			claim.CompletedAt = ts(k.done(c))
		}
		l.Claims = append(l.Claims, claim)
		// A claim under way on every unit holds the whole line; on some
		// units the line goes on (the status stays the platform's).
		if (state == commercev1.ClaimState_CLAIM_STATE_REQUESTED || state == commercev1.ClaimState_CLAIM_STATE_IN_PROGRESS) && cq >= qty {
			l.Status = commercev1.OrderStatus_ORDER_STATUS_CLAIM_IN_PROGRESS
		}
	}
	return l, nil
}

// Complete reports whether pos hold every product order of their order: the
// lines' payments and delivery fees add up to what the order was paid. The
// Commerce API has no count of an order's product orders, and Naver's
// amounts are positive, so a missing line shows as a shortfall.
func Complete(pos []*naverapi.ProductOrder) bool {
	if len(pos) == 0 || pos[0].Order.GeneralPaymentAmount == nil {
		return false
	}
	var sum int64
	for _, po := range pos {
		p := &po.ProductOrder
		sum += or(p.InitialPaymentAmount, p.TotalPaymentAmount) + p.DeliveryFeeAmount
	}
	return sum == *pos[0].Order.GeneralPaymentAmount
}

// Order translates every product order of one order into the order and its
// lines. Naver has no order-level status or change time: the order's status
// summarises its lines (the first line not wholly cancelled, returned or
// exchanged, in product order id order) and its update time is the latest
// date any line shows.
func Order(pos []*naverapi.ProductOrder) (*commercev1.Order, []*commercev1.OrderLine, error) {
	if len(pos) == 0 {
		return nil, nil, errors.New("an order needs its product orders")
	}
	sorted := append([]*naverapi.ProductOrder(nil), pos...)
	sort.Slice(sorted, func(i, j int) bool {
		return sorted[i].ProductOrder.ProductOrderID < sorted[j].ProductOrder.ProductOrderID
	})
	first := sorted[0]
	o := &commercev1.Order{
		SourceId:     first.Order.OrderID,
		OrderedAt:    ts(first.Order.OrderDate),
		PaidAt:       ts(first.Order.PaymentDate),
		CurrencyCode: Currency,
		BuyerId:      first.Order.OrdererID,
	}
	var lines []*commercev1.OrderLine
	var shipping, linesPaid int64
	var last time.Time
	seen := func(t naverapi.Time) {
		if t.After(last) {
			last = t.Time
		}
	}
	for _, po := range sorted {
		if po.Order.OrderID != o.SourceId {
			return nil, nil, fmt.Errorf("product order %s belongs to order %s, not %s", po.ProductOrder.ProductOrderID, po.Order.OrderID, o.SourceId)
		}
		l, err := Line(po)
		if err != nil {
			return nil, nil, err
		}
		lines = append(lines, l)
		shipping += po.ProductOrder.DeliveryFeeAmount
		linesPaid += l.PaidAmount.MinorUnits
		seen(po.Order.OrderDate)
		seen(po.Order.PaymentDate)
		seen(po.ProductOrder.DecisionDate)
		if d := po.Delivery; d != nil {
			seen(d.SendDate)
			seen(d.DeliveredDate)
		}
		for _, c := range []*naverapi.Claim{po.Cancel, po.Return, po.Exchange} {
			if c != nil {
				seen(c.ClaimRequestDate)
				seen(c.CancelCompletedDate)
				seen(c.ReturnCompletedDate)
				seen(c.ExchangeCompletedDate)
			}
		}
	}
	o.ShippingFee = won(shipping)
	o.PaidAmount = won(or(first.Order.GeneralPaymentAmount, linesPaid+shipping))
	o.UpdatedAt = timestamppb.New(last)
	o.Status = lines[0].Status
	for _, l := range lines {
		switch l.Status {
		case commercev1.OrderStatus_ORDER_STATUS_CANCELLED, commercev1.OrderStatus_ORDER_STATUS_RETURNED, commercev1.OrderStatus_ORDER_STATUS_EXCHANGED:
			continue
		}
		o.Status = l.Status
		break
	}
	return o, lines, nil
}
