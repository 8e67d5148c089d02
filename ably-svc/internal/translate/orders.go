package translate

import (
	"fmt"
	"sort"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

const currency = "KRW"

func won(n int64) *commercev1.Money { return &commercev1.Money{CurrencyCode: currency, MinorUnits: n} }

// processing_status codes (ably.md "Fields": 1 new/paid, 2 preparing; the
// others as the sandbox renders them, see the README).
var lineStatus = map[int]commercev1.OrderStatus{
	0: commercev1.OrderStatus_ORDER_STATUS_AWAITING_PAYMENT,
	1: commercev1.OrderStatus_ORDER_STATUS_PAID,
	2: commercev1.OrderStatus_ORDER_STATUS_PAID, // preparing to ship: paid, not shipped
	3: commercev1.OrderStatus_ORDER_STATUS_SHIPPING,
	4: commercev1.OrderStatus_ORDER_STATUS_DELIVERED,
	5: commercev1.OrderStatus_ORDER_STATUS_CONFIRMED,
	6: commercev1.OrderStatus_ORDER_STATUS_CANCELLED,
	7: commercev1.OrderStatus_ORDER_STATUS_RETURNED,
	8: commercev1.OrderStatus_ORDER_STATUS_EXCHANGED,
	9: commercev1.OrderStatus_ORDER_STATUS_CLAIM_IN_PROGRESS,
}

// Claims indexes claims by order item sno.
type Claims struct {
	byItem map[string][]*commercev1.Claim
	// Earliest is the earliest order date of a claimed item, so the caller
	// can reread older orders that a late claim changed.
	Earliest time.Time
}

// NewClaims returns an empty index.
func NewClaims() *Claims { return &Claims{byItem: map[string][]*commercev1.Claim{}} }

// Len is the number of claims indexed.
func (c *Claims) Len() int {
	n := 0
	for _, l := range c.byItem {
		n += len(l)
	}
	return n
}

func (c *Claims) add(item string, cl *commercev1.Claim, orderedAt string) error {
	for i, old := range c.byItem[item] {
		if old.SourceId == cl.SourceId {
			c.byItem[item][i] = cl
			return nil
		}
	}
	c.byItem[item] = append(c.byItem[item], cl)
	if orderedAt != "" {
		t, err := ParseDate(orderedAt)
		if err != nil {
			return err
		}
		if c.Earliest.IsZero() || t.Before(c.Earliest) {
			c.Earliest = t
		}
	}
	return nil
}

// AddCancel indexes a cancel or return (sub-status 41 requested, 42 done).
func (c *Claims) AddCancel(r OrderCancel) error {
	cl := &commercev1.Claim{SourceId: r.Sno.String(), Quantity: r.Ea, RawStatus: fmt.Sprintf("%s %d", r.CancelType, r.SubStatus)}
	switch r.CancelType {
	case "cancel":
		cl.Type = commercev1.ClaimType_CLAIM_TYPE_CANCEL
	case "return":
		cl.Type = commercev1.ClaimType_CLAIM_TYPE_RETURN
	default:
		return fmt.Errorf("cancel %s: unknown cancel_type %q", r.Sno, r.CancelType)
	}
	if err := claimTimes(cl, r.RequestedAt, r.CompletedAt); err != nil {
		return fmt.Errorf("cancel %s: %w", r.Sno, err)
	}
	switch {
	case r.SubStatus == 42 && cl.CompletedAt != nil:
		cl.State = commercev1.ClaimState_CLAIM_STATE_COMPLETED
		cl.RefundAmount = won(r.RefundPrice)
	case r.SubStatus == 41:
		cl.State = commercev1.ClaimState_CLAIM_STATE_REQUESTED
		cl.RefundAmount = won(0)
	default:
		return fmt.Errorf("cancel %s: sub-status %d with completed_at %v", r.Sno, r.SubStatus, r.CompletedAt)
	}
	return c.add(r.OrderItemSno.String(), cl, r.OrderedAt)
}

// AddExchange indexes an exchange (status 2 requested … 9 done). No money
// moves in an exchange.
func (c *Claims) AddExchange(r Exchange) error {
	cl := &commercev1.Claim{SourceId: r.Sno.String(), Type: commercev1.ClaimType_CLAIM_TYPE_EXCHANGE, Quantity: r.Ea,
		RefundAmount: won(0), RawStatus: fmt.Sprintf("exchange %d", r.Status)}
	if err := claimTimes(cl, r.RequestedAt, r.CompletedAt); err != nil {
		return fmt.Errorf("exchange %s: %w", r.Sno, err)
	}
	switch {
	case r.Status == 9 && cl.CompletedAt != nil:
		cl.State = commercev1.ClaimState_CLAIM_STATE_COMPLETED
	case r.Status >= 2 && r.Status < 9:
		cl.State = commercev1.ClaimState_CLAIM_STATE_REQUESTED
	default:
		return fmt.Errorf("exchange %s: status %d with completed_at %v", r.Sno, r.Status, r.CompletedAt)
	}
	return c.add(r.OrderItemSno.String(), cl, r.OrderedAt)
}

func claimTimes(cl *commercev1.Claim, requested string, completed *string) error {
	req, err := ParseDate(requested)
	if err != nil {
		return fmt.Errorf("requested_at: %w", err)
	}
	cl.RequestedAt = timestamppb.New(req)
	done, ok, err := parseOpt(completed)
	if err != nil {
		return fmt.Errorf("completed_at: %w", err)
	}
	if ok {
		cl.CompletedAt = timestamppb.New(done)
	}
	return nil
}

// Orders turns order items into orders and lines. Items of one order must
// all be present (they share an order date, so one date window holds them).
// An item without processing_status (the Excel has no status column,
// ably.md) gets the status its dates and claims imply.
func Orders(items []OrderItem, claims *Claims) ([]*commercev1.Order, []*commercev1.OrderLine, error) {
	var orders []*commercev1.Order
	byID := map[string]int{}
	linesOf := map[string][]*commercev1.OrderLine{}
	latest := map[string]time.Time{}
	var all []*commercev1.OrderLine
	for i := range items {
		it := &items[i]
		line, last, err := orderLine(it, claims)
		if err != nil {
			return nil, nil, fmt.Errorf("order item %s: %w", it.Sno, err)
		}
		id := it.OrderSno.String()
		k, seen := byID[id]
		if !seen {
			o := &commercev1.Order{
				SourceId: id, OrderedAt: line.OrderedAt, PaidAt: line.PaidAt, CurrencyCode: currency,
				ShippingFee: won(it.DeliveryFee), PaidAmount: won(it.DeliveryFee), BuyerId: it.UserSno.String(),
			}
			byID[id], k = len(orders), len(orders)
			orders = append(orders, o)
		}
		o := orders[k]
		o.PaidAmount.MinorUnits += line.PaidAmount.MinorUnits
		if o.PaidAt == nil {
			o.PaidAt = line.PaidAt
		}
		if last.After(latest[id]) {
			latest[id] = last
		}
		linesOf[id] = append(linesOf[id], line)
		all = append(all, line)
	}
	for _, o := range orders {
		lines := linesOf[o.SourceId]
		sort.SliceStable(lines, func(i, j int) bool { return lines[i].SourceId < lines[j].SourceId })
		o.Status = OrderStatus(lines)
		o.RawStatus = lines[0].RawStatus
		o.UpdatedAt = timestamppb.New(latest[o.SourceId])
	}
	return orders, all, nil
}

func orderLine(it *OrderItem, claims *Claims) (*commercev1.OrderLine, time.Time, error) {
	if it.Sno == "" || it.OrderSno == "" || it.Ea <= 0 {
		return nil, time.Time{}, fmt.Errorf("%w: item without sno, order_sno or quantity", ErrLayout)
	}
	ordered, err := ParseDate(it.OrderedAt)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("ordered_at: %w", err)
	}
	last := ordered
	dates := map[string]time.Time{}
	for name, s := range map[string]*string{"checked_at": it.CheckedAt, "sent_at": it.SentAt, "delivered_at": it.DeliveredAt, "confirmed_at": it.ConfirmedAt} {
		t, ok, err := parseOpt(s)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("%s: %w", name, err)
		}
		if ok {
			dates[name] = t
			if t.After(last) {
				last = t
			}
		}
	}
	line := &commercev1.OrderLine{
		SourceId: it.Sno.String(), OrderSourceId: it.OrderSno.String(),
		ProductSourceId: it.GoodsSno.String(), OptionSourceId: it.OptionSno.String(),
		ProductName: it.GoodsName, OptionName: it.OptionInfo, Quantity: it.Ea,
		UnitPrice: won(it.Price), OptionPrice: won(it.OptionPrice * int64(it.Ea)), // option_price is per unit
		Discount: won(it.DiscountPrice), PaidAmount: won(it.PaymentPrice),
		OrderedAt: timestamppb.New(ordered),
	}
	if t, ok := dates["checked_at"]; ok {
		line.PaidAt = timestamppb.New(t)
	}
	for _, c := range claims.byItem[line.SourceId] {
		line.Claims = append(line.Claims, c)
		for _, ts := range []*timestamppb.Timestamp{c.RequestedAt, c.CompletedAt} {
			if ts != nil && ts.AsTime().After(last) {
				last = ts.AsTime()
			}
		}
	}
	sort.SliceStable(line.Claims, func(i, j int) bool {
		return line.Claims[i].RequestedAt.AsTime().Before(line.Claims[j].RequestedAt.AsTime())
	})
	if it.ProcessingStatus != nil {
		st, ok := lineStatus[*it.ProcessingStatus]
		if !ok {
			return nil, time.Time{}, fmt.Errorf("unknown processing_status %d (%s)", *it.ProcessingStatus, it.StatusName)
		}
		line.Status = st
		line.RawStatus = fmt.Sprintf("%d %s", *it.ProcessingStatus, it.StatusName)
	} else {
		line.Status = impliedStatus(line, dates)
		line.RawStatus = "excel"
	}
	return line, last, nil
}

// impliedStatus is a line's status from its dates and claims, for the Excel,
// which has no status column: a claim of the whole line decides it;
// otherwise the latest fulfilment date does.
func impliedStatus(l *commercev1.OrderLine, dates map[string]time.Time) commercev1.OrderStatus {
	for i := len(l.Claims) - 1; i >= 0; i-- {
		c := l.Claims[i]
		if c.Quantity < l.Quantity {
			continue
		}
		if c.State != commercev1.ClaimState_CLAIM_STATE_COMPLETED {
			return commercev1.OrderStatus_ORDER_STATUS_CLAIM_IN_PROGRESS
		}
		switch c.Type {
		case commercev1.ClaimType_CLAIM_TYPE_CANCEL:
			return commercev1.OrderStatus_ORDER_STATUS_CANCELLED
		case commercev1.ClaimType_CLAIM_TYPE_RETURN:
			return commercev1.OrderStatus_ORDER_STATUS_RETURNED
		case commercev1.ClaimType_CLAIM_TYPE_EXCHANGE:
			return commercev1.OrderStatus_ORDER_STATUS_EXCHANGED
		}
	}
	for _, d := range []struct {
		name string
		st   commercev1.OrderStatus
	}{
		{"confirmed_at", commercev1.OrderStatus_ORDER_STATUS_CONFIRMED},
		{"delivered_at", commercev1.OrderStatus_ORDER_STATUS_DELIVERED},
		{"sent_at", commercev1.OrderStatus_ORDER_STATUS_SHIPPING},
		{"checked_at", commercev1.OrderStatus_ORDER_STATUS_PAID},
	} {
		if _, ok := dates[d.name]; ok {
			return d.st
		}
	}
	return commercev1.OrderStatus_ORDER_STATUS_AWAITING_PAYMENT
}

// OrderStatus summarises an order's lines: the status of the first line that
// is not wholly cancelled, returned or exchanged, else the first line's.
func OrderStatus(lines []*commercev1.OrderLine) commercev1.OrderStatus {
	if len(lines) == 0 {
		return commercev1.OrderStatus_ORDER_STATUS_UNSPECIFIED
	}
	for _, l := range lines {
		switch l.Status {
		case commercev1.OrderStatus_ORDER_STATUS_CANCELLED, commercev1.OrderStatus_ORDER_STATUS_RETURNED, commercev1.OrderStatus_ORDER_STATUS_EXCHANGED:
			continue
		}
		return l.Status
	}
	return lines[0].Status
}
