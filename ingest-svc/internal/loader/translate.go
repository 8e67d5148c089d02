package loader

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/timestamppb"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

// This file is the one place where canonical records become table rows.
// Everything a column needs (UTC instants, local dates, minor units, hashed
// buyers, bounded strings) is decided here.

// maxIDLen is the length of id columns, VARCHAR(191).
const maxIDLen = 191

// translator turns one account's records into rows. It is not safe for
// concurrent use: it keeps scratch state between records.
type translator struct {
	sellerID, accountID uint64
	loc                 *time.Location
	buyerKey            []byte
	// The ids boxed once: every untyped row starts with them.
	seller, account any
	mac             hash.Hash
	// The last local day computed, [dayStart, dayEnd) in UTC: records come
	// roughly in time order, so most of them fall on the same day.
	dayStart, dayEnd time.Time
	day              string
}

func newTranslator(sellerID, accountID uint64, loc *time.Location, buyerKey []byte) translator {
	return translator{sellerID: sellerID, accountID: accountID, loc: loc, buyerKey: buyerKey, seller: sellerID, account: accountID}
}

func (t *translator) orderRow(o *commercev1.Order) (string, *orderRow, error) {
	if err := checkID("order source_id", o.GetSourceId()); err != nil {
		return "", nil, err
	}
	cur, err := currencyOf(o.GetCurrencyCode(), o.GetShippingFee(), o.GetPaidAmount())
	if err != nil {
		return "", nil, fmt.Errorf("order %q: %w", o.GetSourceId(), err)
	}
	ts := times{}
	row := &orderRow{
		seller: t.sellerID, account: t.accountID, sourceID: o.GetSourceId(),
		orderedAt:   ts.at("ordered_at", o.GetOrderedAt()),
		paidAt:      ts.at("paid_at", o.GetPaidAt()),
		currency:    cur,
		shippingFee: o.GetShippingFee().GetMinorUnits(),
		paidAmount:  o.GetPaidAmount().GetMinorUnits(),
		buyerHash:   t.buyerHash(o.GetBuyerId()),
		status:      enumName(o.GetStatus().String(), "ORDER_STATUS_"),
		rawStatus:   bounded(o.GetRawStatus(), 64),
		channel:     bounded(o.GetChannel(), 64),
		updatedAt:   ts.at("updated_at", o.GetUpdatedAt()),
	}
	if ts.err != nil {
		return "", nil, fmt.Errorf("order %q: %w", o.GetSourceId(), ts.err)
	}
	return key(o.GetSourceId()), row, nil
}

// lineRows returns the line's row and the rows of its claims.
func (t *translator) lineRows(l *commercev1.OrderLine) (string, *lineRow, map[string]row, error) {
	id := l.GetSourceId()
	if err := checkID("order line source_id", id); err != nil {
		return "", nil, nil, err
	}
	if err := checkID("order_source_id", l.GetOrderSourceId()); err != nil {
		return "", nil, nil, fmt.Errorf("order line %q: %w", id, err)
	}
	for _, f := range []struct{ name, v string }{{"product_source_id", l.GetProductSourceId()}, {"option_source_id", l.GetOptionSourceId()}} {
		if utf8.RuneCountInString(f.v) > maxIDLen {
			return "", nil, nil, fmt.Errorf("order line %q: %s is longer than %d characters", id, f.name, maxIDLen)
		}
	}
	cur, err := currencyOf("", l.GetUnitPrice(), l.GetOptionPrice(), l.GetDiscount(), l.GetPaidAmount())
	if err != nil {
		return "", nil, nil, fmt.Errorf("order line %q: %w", id, err)
	}
	ts := times{}
	paidAt := ts.at("paid_at", l.GetPaidAt())
	line := &lineRow{
		seller: t.sellerID, account: t.accountID, sourceID: id,
		orderSourceID: l.GetOrderSourceId(), productID: l.GetProductSourceId(), optionID: l.GetOptionSourceId(),
		productName: bounded(l.GetProductName(), 500), optionName: bounded(l.GetOptionName(), 500),
		quantity: l.GetQuantity(), currency: cur,
		unitPrice: l.GetUnitPrice().GetMinorUnits(), optionPrice: l.GetOptionPrice().GetMinorUnits(),
		discount: l.GetDiscount().GetMinorUnits(), paidAmount: l.GetPaidAmount().GetMinorUnits(),
		status: enumName(l.GetStatus().String(), "ORDER_STATUS_"), rawStatus: bounded(l.GetRawStatus(), 64),
		orderedAt:     ts.at("ordered_at", l.GetOrderedAt()),
		paidAt:        paidAt,
		paidLocalDate: t.localDate(paidAt),
	}
	if ts.err != nil {
		return "", nil, nil, fmt.Errorf("order line %q: %w", id, ts.err)
	}
	var claims map[string]row // most lines have none
	if n := len(l.GetClaims()); n > 0 {
		claims = make(map[string]row, n)
	}
	for i, c := range l.GetClaims() {
		cid := c.GetSourceId()
		if cid == "" {
			// A platform without claim ids: the claim's place on the line
			// (oldest first) is the only identity it has.
			cid = fmt.Sprintf("#%d", i+1)
		}
		if err := checkID("claim source_id", cid); err != nil {
			return "", nil, nil, fmt.Errorf("order line %q: %w", id, err)
		}
		ccur, err := currencyOf(cur, c.GetRefundAmount())
		if err != nil {
			return "", nil, nil, fmt.Errorf("claim %q of order line %q: %w", cid, id, err)
		}
		cts := times{}
		completedAt := cts.at("completed_at", c.GetCompletedAt())
		claims[key(id, cid)] = &claimRow{
			seller: t.sellerID, account: t.accountID, lineSourceID: id, sourceID: cid,
			claimType: enumName(c.GetType().String(), "CLAIM_TYPE_"),
			state:     enumName(c.GetState().String(), "CLAIM_STATE_"),
			quantity:  c.GetQuantity(), currency: ccur, refundAmount: c.GetRefundAmount().GetMinorUnits(),
			rawStatus:          bounded(c.GetRawStatus(), 64),
			requestedAt:        cts.at("requested_at", c.GetRequestedAt()),
			completedAt:        completedAt,
			completedLocalDate: t.localDate(completedAt),
		}
		if cts.err != nil {
			return "", nil, nil, fmt.Errorf("claim %q of order line %q: %w", cid, id, cts.err)
		}
	}
	return key(id), line, claims, nil
}

// productRows returns the product's row and its category links.
func (t *translator) productRows(p *commercev1.Product) (string, values, map[string]row, error) {
	id := p.GetSourceId()
	if err := checkID("product source_id", id); err != nil {
		return "", nil, nil, err
	}
	cur, err := currencyOf("", p.GetPrice())
	if err != nil {
		return "", nil, nil, fmt.Errorf("product %q: %w", id, err)
	}
	ts := times{}
	product := values{
		t.seller, t.account, id,
		bounded(p.GetCode(), maxIDLen), bounded(p.GetSellerCode(), maxIDLen), bounded(p.GetName(), 500),
		cur, p.GetPrice().GetMinorUnits(), p.GetSelling(), p.GetDisplayed(), bounded(p.GetRawStatus(), 64),
		ts.instant("created_at", p.GetCreatedAt()), ts.instant("updated_at", p.GetUpdatedAt()),
	}
	if ts.err != nil {
		return "", nil, nil, fmt.Errorf("product %q: %w", id, ts.err)
	}
	links := map[string]row{}
	for _, c := range p.GetCategorySourceIds() {
		if c == "" {
			continue
		}
		if err := checkID("category id", c); err != nil {
			return "", nil, nil, fmt.Errorf("product %q: %w", id, err)
		}
		links[key(id, c)] = values{t.seller, t.account, id, c}
	}
	return key(id), product, links, nil
}

func (t *translator) optionRow(o *commercev1.ProductOption) (string, values, error) {
	id := o.GetSourceId()
	if err := checkID("product option source_id", id); err != nil {
		return "", nil, err
	}
	if utf8.RuneCountInString(o.GetProductSourceId()) > maxIDLen {
		return "", nil, fmt.Errorf("product option %q: product_source_id is longer than %d characters", id, maxIDLen)
	}
	cur, err := currencyOf("", o.GetAdditionalPrice())
	if err != nil {
		return "", nil, fmt.Errorf("product option %q: %w", id, err)
	}
	var stock any
	if o.StockQuantity != nil {
		stock = o.GetStockQuantity()
	}
	return key(id), values{
		t.seller, t.account, id,
		o.GetProductSourceId(), bounded(o.GetName(), 500), cur, o.GetAdditionalPrice().GetMinorUnits(),
		o.GetSelling(), stock,
	}, nil
}

func (t *translator) categoryRow(c *commercev1.Category) (string, values, error) {
	id := c.GetSourceId()
	if err := checkID("category source_id", id); err != nil {
		return "", nil, err
	}
	if utf8.RuneCountInString(c.GetParentSourceId()) > maxIDLen {
		return "", nil, fmt.Errorf("category %q: parent_source_id is longer than %d characters", id, maxIDLen)
	}
	return key(id), values{
		t.seller, t.account, id,
		c.GetParentSourceId(), bounded(c.GetName(), 255), bounded(c.GetFullName(), 1000), c.GetDepth(),
	}, nil
}

func (t *translator) couponRow(c *commercev1.Coupon) (string, values, error) {
	id := c.GetSourceId()
	if err := checkID("coupon source_id", id); err != nil {
		return "", nil, err
	}
	cur, err := currencyOf("", c.GetBenefitAmount(), c.GetMaxDiscount())
	if err != nil {
		return "", nil, fmt.Errorf("coupon %q: %w", id, err)
	}
	var amount, maxDiscount any
	if c.GetBenefitAmount() != nil {
		amount = c.GetBenefitAmount().GetMinorUnits()
	}
	if c.GetMaxDiscount() != nil {
		maxDiscount = c.GetMaxDiscount().GetMinorUnits()
	}
	ts := times{}
	coupon := values{
		t.seller, t.account, id,
		bounded(c.GetName(), 500), enumName(c.GetBenefit().String(), "COUPON_BENEFIT_"), bounded(c.GetRawBenefitType(), 64),
		cur, amount, c.GetBenefitBasisPoints(), maxDiscount,
		ts.instant("available_from", c.GetAvailableFrom()), ts.instant("available_until", c.GetAvailableUntil()),
		c.GetDeleted(), ts.instant("created_at", c.GetCreatedAt()),
	}
	if ts.err != nil {
		return "", nil, fmt.Errorf("coupon %q: %w", id, ts.err)
	}
	return key(id), coupon, nil
}

// buyerHash is the keyed hash stored instead of the buyer id: equal ids give
// equal hashes (distinct buyers can be counted) while the id itself cannot
// be recovered without the key. nil (NULL) for orders without a buyer.
func (t *translator) buyerHash(buyerID string) []byte {
	if buyerID == "" {
		return nil
	}
	if t.mac == nil {
		t.mac = hmac.New(sha256.New, t.buyerKey)
	}
	t.mac.Reset()
	t.mac.Write([]byte(buyerID))
	return t.mac.Sum(nil)
}

// localDate is the seller's calendar day of an instant, "YYYY-MM-DD", or ""
// for none.
func (t *translator) localDate(tm time.Time) string {
	if tm.IsZero() {
		return ""
	}
	if tm.Before(t.dayStart) || !tm.Before(t.dayEnd) {
		local := tm.In(t.loc)
		y, m, d := local.Date()
		t.dayStart = time.Date(y, m, d, 0, 0, 0, 0, t.loc)
		t.dayEnd = time.Date(y, m, d+1, 0, 0, 0, 0, t.loc)
		t.day = local.Format(time.DateOnly)
	}
	return t.day
}

// times converts timestamps, remembering the first invalid one.
type times struct{ err error }

// DATETIME holds years 1000 to 9999.
var (
	minInstant = time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxInstant = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
)

// at returns ts as a UTC time truncated to microseconds (what DATETIME(6)
// keeps, so a reload compares equal), or the zero time when unset.
func (c *times) at(field string, ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	if err := ts.CheckValid(); err != nil {
		c.setErr(fmt.Errorf("%s: %w", field, err))
		return time.Time{}
	}
	tm := ts.AsTime().UTC().Truncate(time.Microsecond)
	if tm.Before(minInstant) || tm.After(maxInstant) {
		c.setErr(fmt.Errorf("%s %s is outside years 1000-9999", field, tm.Format(time.RFC3339)))
		return time.Time{}
	}
	return tm
}

// instant is at for untyped rows: nil when unset.
func (c *times) instant(field string, ts *timestamppb.Timestamp) any {
	return nullTime(c.at(field, ts))
}

func (c *times) setErr(err error) {
	if c.err == nil {
		c.err = err
	}
}

// currencyOf returns the one currency of a record's amounts: declared when
// set, else the amounts' own. Amounts in different currencies are an error,
// so that won and dollars are never added up.
func currencyOf(declared string, amounts ...*commercev1.Money) (string, error) {
	cur := declared
	for _, m := range amounts {
		code := m.GetCurrencyCode()
		switch {
		case code == "":
			if m.GetMinorUnits() != 0 && cur == "" {
				return "", fmt.Errorf("amount %d has no currency", m.GetMinorUnits())
			}
		case cur == "":
			cur = code
		case code != cur:
			return "", fmt.Errorf("amounts mix currencies %s and %s", cur, code)
		}
	}
	if cur != "" && !isCurrencyCode(cur) {
		return "", fmt.Errorf("currency %q is not an ISO 4217 code", cur)
	}
	return cur, nil
}

// isCurrencyCode reports whether s has the shape of an ISO 4217 code.
func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func checkID(what, id string) error {
	if id == "" {
		return errors.New(what + " is empty")
	}
	if utf8.RuneCountInString(id) > maxIDLen {
		return fmt.Errorf("%s %q... is longer than %d characters", what, firstRunes(id, 40), maxIDLen)
	}
	return nil
}

// bounded cuts free text to a column's length: a long product name must not
// stop a sync.
func bounded(s string, n int) string { return firstRunes(s, n) }

func firstRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// enumName stores an enum by its name without the type prefix ("PAID").
func enumName(full, prefix string) string { return strings.TrimPrefix(full, prefix) }
