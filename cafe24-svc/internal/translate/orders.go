package translate

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
	"hlog.dev/cafe24-svc/internal/cafe24api"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

// RefundIndex holds refunds (GET /refunds, cafe24.md §8) by the order item
// codes they cover. Adding the same refund twice keeps one.
type RefundIndex struct {
	byItem map[string][]*cafe24api.Refund
	seen   map[string]time.Time // refund key -> refund date (zero if unknown)
}

// NewRefundIndex returns an empty index.
func NewRefundIndex() *RefundIndex {
	return &RefundIndex{byItem: map[string][]*cafe24api.Refund{}, seen: map[string]time.Time{}}
}

// Add indexes r under each item it covers.
func (ix *RefundIndex) Add(r cafe24api.Refund) {
	key := refundKey(r)
	if _, ok := ix.seen[key]; ok {
		return
	}
	at, _ := optionalTime(r.RefundDate)
	ix.seen[key] = at
	for _, code := range r.OrderItemCode {
		ix.byItem[code] = append(ix.byItem[code], &r)
	}
}

// EvictBefore drops the refunds made before t. A collector that has sent
// every order placed before t needs them no more: an order's refunds come
// after it. Refunds without a date stay.
func (ix *RefundIndex) EvictBefore(t time.Time) {
	for code, refunds := range ix.byItem {
		kept := refunds[:0]
		for _, r := range refunds {
			if at := ix.seen[refundKey(*r)]; at.IsZero() || !at.Before(t) {
				kept = append(kept, r)
			}
		}
		if len(kept) == 0 {
			delete(ix.byItem, code)
		} else {
			ix.byItem[code] = kept
		}
	}
	for key, at := range ix.seen {
		if !at.IsZero() && at.Before(t) {
			delete(ix.seen, key)
		}
	}
}

// Len is the number of refunds indexed.
func (ix *RefundIndex) Len() int { return len(ix.seen) }

// refundKey identifies a refund: by its code, or, since the code can be null
// in real data, by what it covers, when and how much.
func refundKey(r cafe24api.Refund) string {
	if r.RefundCode != nil && *r.RefundCode != "" {
		return "code:" + *r.RefundCode
	}
	date := ""
	if r.RefundDate != nil {
		date = *r.RefundDate
	}
	return "anon:" + r.OrderID + "|" + strings.Join(r.OrderItemCode, ",") + "|" + date + "|" + r.ActualRefundAmount
}

// MissingRefundDays lists the KST days on which items of o say a refund was
// made (refund_date) that the index does not hold: refunds completed after
// the index was filled. The caller fetches those days and adds them.
func MissingRefundDays(o *cafe24api.Order, ix *RefundIndex) ([]time.Time, error) {
	var days []time.Time
	seen := map[string]bool{}
	for _, it := range o.Items {
		at, err := optionalTime(it.RefundDate)
		if err != nil {
			return nil, fmt.Errorf("order %s item %s refund_date: %w", o.OrderID, it.OrderItemCode, err)
		}
		if at.IsZero() || len(ix.byItem[it.OrderItemCode]) > 0 {
			continue
		}
		local := at.In(kst)
		day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, kst)
		if key := day.Format(time.DateOnly); !seen[key] {
			seen[key] = true
			days = append(days, day)
		}
	}
	return days, nil
}

// Order translates one order with its items (embed=items) into the canonical
// order and lines. Refunds for its claims come from ix.
func Order(o *cafe24api.Order, ix *RefundIndex) (*commercev1.Order, []*commercev1.OrderLine, error) {
	out, lines, err := order(o, ix)
	if err != nil {
		return nil, nil, fmt.Errorf("translating order %s: %w", o.OrderID, err)
	}
	return out, lines, nil
}

func order(o *cafe24api.Order, ix *RefundIndex) (*commercev1.Order, []*commercev1.OrderLine, error) {
	if o.OrderID == "" {
		return nil, nil, errors.New("order has no order_id")
	}
	cur := o.Currency
	if cur == "" {
		return nil, nil, errors.New("order has no currency")
	}
	won := func(v int64) *commercev1.Money { return &commercev1.Money{CurrencyCode: cur, MinorUnits: v} }
	ordered, err := ParseTime(o.OrderDate)
	if err != nil {
		return nil, nil, fmt.Errorf("order_date: %w", err)
	}
	paidAt, err := optionalTime(o.PaymentDate)
	if err != nil {
		return nil, nil, fmt.Errorf("payment_date: %w", err)
	}
	if paidAt.IsZero() && o.Paid == "T" {
		// Paid without a payment date: the payment is all the order had.
		paidAt = ordered
	}
	cancelDate, err := optionalTime(o.CancelDate)
	if err != nil {
		return nil, nil, fmt.Errorf("cancel_date: %w", err)
	}
	// initial_order_amount is the order as placed; actual_order_amount moves
	// with claims (cafe24.md §8), and Order.paid_amount is as placed.
	var shipping, paid int64
	var paidSet bool
	if a := o.InitialOrderAmount; a != nil {
		if shipping, err = optionalMoney(a.ShippingFee, cur); err != nil {
			return nil, nil, fmt.Errorf("initial_order_amount.shipping_fee: %w", err)
		}
		if a.PaymentAmount != nil {
			if paid, err = ParseMoney(*a.PaymentAmount, cur); err != nil {
				return nil, nil, fmt.Errorf("initial_order_amount.payment_amount: %w", err)
			}
			paidSet = true
		}
	}
	if !paidSet {
		if o.PaymentAmount == nil {
			return nil, nil, errors.New("order has no payment_amount")
		}
		if paid, err = ParseMoney(*o.PaymentAmount, cur); err != nil {
			return nil, nil, fmt.Errorf("payment_amount: %w", err)
		}
	}

	latest := latestOf(ordered, paidAt, cancelDate)
	lines := make([]*commercev1.OrderLine, 0, len(o.Items))
	claimed := map[string]*commercev1.Claim{}
	for i := range o.Items {
		it := &o.Items[i]
		l, changed, err := line(it, o.OrderID, cur, ordered, paidAt)
		if err != nil {
			return nil, nil, fmt.Errorf("item %s: %w", it.OrderItemCode, err)
		}
		latest = latestOf(latest, changed)
		lines = append(lines, l)
		if len(l.Claims) > 0 {
			claimed[l.SourceId] = l.Claims[0]
		}
	}
	if err := applyRefunds(lines, claimed, ix, cur); err != nil {
		return nil, nil, err
	}

	channel := ""
	if o.OrderPlaceID != nil {
		channel = *o.OrderPlaceID
	}
	out := &commercev1.Order{
		SourceId:     o.OrderID,
		OrderedAt:    timestamppb.New(ordered),
		CurrencyCode: cur,
		ShippingFee:  won(shipping),
		PaidAmount:   won(paid),
		BuyerId:      o.MemberID,
		Status:       OrderStatus(lines),
		RawStatus:    fmt.Sprintf("paid=%s canceled=%s shipping_status=%s", o.Paid, o.Canceled, o.ShippingStatus),
		Channel:      channel,
		// Cafe24 has no update time for orders (cafe24.md §8); the latest
		// date the order and its items show is when it last changed.
		UpdatedAt: timestamppb.New(latest),
	}
	if !paidAt.IsZero() {
		out.PaidAt = timestamppb.New(paidAt)
	}
	return out, lines, nil
}

// line translates one item. It also returns the latest date the item shows.
func line(it *cafe24api.Item, orderID, cur string, ordered, paidAt time.Time) (*commercev1.OrderLine, time.Time, error) {
	won := func(v int64) *commercev1.Money { return &commercev1.Money{CurrencyCode: cur, MinorUnits: v} }
	if it.OrderItemCode == "" {
		return nil, time.Time{}, errors.New("item has no order_item_code")
	}
	if it.Quantity <= 0 {
		return nil, time.Time{}, fmt.Errorf("quantity %d is not positive", it.Quantity)
	}
	qty := int64(it.Quantity)
	unit, err := ParseMoney(it.ProductPrice, cur)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("product_price: %w", err)
	}
	// option_price is per unit, like product_price; the canonical
	// option_price is for the whole line.
	optionUnit, err := optionalMoney(it.OptionPrice, cur)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("option_price: %w", err)
	}
	var discount int64
	for _, d := range []struct {
		name string
		v    *string
	}{{"additional_discount_price", it.AdditionalDiscountPrice}, {"coupon_discount_price", it.CouponDiscountPrice}, {"app_item_discount_amount", it.AppItemDiscountAmount}} {
		v, err := optionalMoney(d.v, cur)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("%s: %w", d.name, err)
		}
		var ok bool
		if discount, ok = mulAdd(v, 1, discount); !ok {
			return nil, time.Time{}, errors.New("discounts overflow")
		}
	}
	optionLine, ok1 := mulAdd(optionUnit, qty, 0)
	gross, ok2 := mulAdd(unit, qty, optionLine)
	if !ok1 || !ok2 {
		return nil, time.Time{}, errors.New("line amount overflows")
	}
	paid, ok := mulAdd(discount, -1, gross)
	if !ok {
		return nil, time.Time{}, errors.New("line amount overflows")
	}
	// payment_amount is null unless the mall enables automatic discount
	// calculation (cafe24.md §4); then the line's pay is gross less discounts.
	if it.PaymentAmount != nil {
		if paid, err = ParseMoney(*it.PaymentAmount, cur); err != nil {
			return nil, time.Time{}, fmt.Errorf("payment_amount: %w", err)
		}
	}

	dates, err := itemDates(it)
	if err != nil {
		return nil, time.Time{}, err
	}
	lineOrdered := ordered
	if !dates.ordered.IsZero() {
		lineOrdered = dates.ordered
	}
	option := ""
	if it.OptionValue != nil {
		option = *it.OptionValue
	}
	l := &commercev1.OrderLine{
		SourceId:        it.OrderItemCode,
		OrderSourceId:   orderID,
		ProductSourceId: strconv.FormatInt(it.ProductNo, 10),
		OptionSourceId:  it.VariantCode,
		ProductName:     it.ProductName,
		OptionName:      option,
		Quantity:        it.Quantity,
		UnitPrice:       won(unit),
		OptionPrice:     won(optionLine),
		Discount:        won(discount),
		PaidAmount:      won(paid),
		Status:          LineStatus(it.OrderStatus),
		RawStatus:       it.OrderStatus,
		OrderedAt:       timestamppb.New(lineOrdered),
	}
	if !paidAt.IsZero() {
		l.PaidAt = timestamppb.New(paidAt)
	}
	if c, err := claim(it, dates, cur, lineOrdered); err != nil {
		return nil, time.Time{}, err
	} else if c != nil {
		l.Claims = []*commercev1.Claim{c}
	}
	return l, dates.latest(), nil
}

type itemDateSet struct {
	ordered, shipped, delivered, confirmed                time.Time
	cancelRequested, cancelled, returnRequested, returned time.Time
	exchangeRequested, exchanged, refunded                time.Time
}

func (d itemDateSet) latest() time.Time {
	return latestOf(d.ordered, d.shipped, d.delivered, d.confirmed, d.cancelRequested, d.cancelled,
		d.returnRequested, d.returned, d.exchangeRequested, d.exchanged, d.refunded)
}

func itemDates(it *cafe24api.Item) (itemDateSet, error) {
	var d itemDateSet
	for _, f := range []struct {
		name string
		v    *string
		dst  *time.Time
	}{
		{"ordered_date", it.OrderedDate, &d.ordered},
		{"shipped_date", it.ShippedDate, &d.shipped},
		{"delivered_date", it.DeliveredDate, &d.delivered},
		{"purchaseconfirmation_date", it.PurchaseConfirmationDate, &d.confirmed},
		{"cancel_request_date", it.CancelRequestDate, &d.cancelRequested},
		{"cancel_date", it.CancelDate, &d.cancelled},
		{"return_request_date", it.ReturnRequestDate, &d.returnRequested},
		{"return_confirmed_date", it.ReturnConfirmedDate, &d.returned},
		{"exchange_request_date", it.ExchangeRequestDate, &d.exchangeRequested},
		{"exchange_date", it.ExchangeDate, &d.exchanged},
		{"refund_date", it.RefundDate, &d.refunded},
	} {
		t, err := optionalTime(f.v)
		if err != nil {
			return d, fmt.Errorf("%s: %w", f.name, err)
		}
		*f.dst = t
	}
	return d, nil
}

// claim reads the item's claim (claim_code, claim_type, claim_quantity and the
// dates of its kind). The refund is filled in later from the refund index.
func claim(it *cafe24api.Item, d itemDateSet, cur string, ordered time.Time) (*commercev1.Claim, error) {
	if it.ClaimCode == nil || *it.ClaimCode == "" {
		return nil, nil
	}
	kind := claimType(it.ClaimType, it.OrderStatus)
	var requested, completed time.Time
	switch kind {
	case commercev1.ClaimType_CLAIM_TYPE_CANCEL:
		requested, completed = d.cancelRequested, d.cancelled
	case commercev1.ClaimType_CLAIM_TYPE_RETURN:
		requested, completed = d.returnRequested, d.returned
		if completed.IsZero() {
			completed = d.refunded
		}
	case commercev1.ClaimType_CLAIM_TYPE_EXCHANGE:
		requested, completed = d.exchangeRequested, d.exchanged
	default:
		return nil, fmt.Errorf("claim %s has an unknown claim type", *it.ClaimCode)
	}
	if requested.IsZero() {
		// An automatic cancel has no request of its own: it is requested
		// when it happens.
		requested = completed
	}
	if requested.IsZero() {
		requested = ordered
	}
	qty := it.Quantity
	if it.ClaimQuantity != nil && *it.ClaimQuantity > 0 {
		qty = *it.ClaimQuantity
	}
	if qty > it.Quantity {
		return nil, fmt.Errorf("claim %s covers %d units of %d", *it.ClaimCode, qty, it.Quantity)
	}
	c := &commercev1.Claim{
		SourceId:     *it.ClaimCode,
		Type:         kind,
		State:        claimState(!completed.IsZero(), it.OrderStatus),
		Quantity:     qty,
		RefundAmount: &commercev1.Money{CurrencyCode: cur},
		RequestedAt:  timestamppb.New(requested),
		RawStatus:    it.OrderStatus,
	}
	if !completed.IsZero() {
		c.CompletedAt = timestamppb.New(completed)
	}
	return c, nil
}

// applyRefunds sets each completed cancel or return claim's refund from the
// refunds covering its item. A refund covering several items of the order is
// shared among them in proportion to what was paid for each, exactly, the
// remainder going to the first.
func applyRefunds(lines []*commercev1.OrderLine, claimed map[string]*commercev1.Claim, ix *RefundIndex, cur string) error {
	if ix == nil {
		return nil
	}
	paidOf := map[string]int64{}
	for _, l := range lines {
		paidOf[l.SourceId] = l.PaidAmount.MinorUnits
	}
	done := map[*cafe24api.Refund]bool{}
	for _, l := range lines {
		for _, r := range ix.byItem[l.SourceId] {
			if done[r] {
				continue
			}
			done[r] = true
			if r.Currency != "" && r.Currency != cur {
				return fmt.Errorf("refund of item %s is in %s, the order in %s", l.SourceId, r.Currency, cur)
			}
			amount, err := ParseMoney(r.ActualRefundAmount, cur)
			if err != nil {
				return fmt.Errorf("refund of item %s: actual_refund_amount: %w", l.SourceId, err)
			}
			var covered []string
			for _, code := range r.OrderItemCode {
				if _, ok := paidOf[code]; ok {
					covered = append(covered, code)
				}
			}
			for code, share := range shares(amount, covered, paidOf) {
				c := claimed[code]
				if c == nil || c.CompletedAt == nil || c.Type == commercev1.ClaimType_CLAIM_TYPE_EXCHANGE {
					continue // money back without a completed claim on the item: not a claim's refund
				}
				c.RefundAmount.MinorUnits += share
			}
		}
	}
	return nil
}

func shares(amount int64, items []string, paidOf map[string]int64) map[string]int64 {
	out := map[string]int64{}
	if len(items) == 0 {
		return out
	}
	if len(items) == 1 {
		out[items[0]] = amount
		return out
	}
	var total int64
	for _, it := range items {
		total += max(0, paidOf[it])
	}
	var given int64
	for _, it := range items[1:] {
		var share int64
		if total > 0 {
			s := new(big.Int).Mul(big.NewInt(amount), big.NewInt(max(0, paidOf[it])))
			share = s.Quo(s, big.NewInt(total)).Int64()
		} else {
			share = amount / int64(len(items))
		}
		out[it] += share
		given += share
	}
	out[items[0]] += amount - given
	return out
}

func mulAdd(a, b, c int64) (int64, bool) {
	p := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
	p.Add(p, big.NewInt(c))
	if !p.IsInt64() {
		return 0, false
	}
	return p.Int64(), true
}

func latestOf(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}
