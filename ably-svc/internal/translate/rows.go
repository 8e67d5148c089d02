// Package translate is the one place where Ably's seller-site data (the JSON
// of /seller/… and the order Excel) becomes canonical records. Buyer
// personal data (names, phones, e-mails, addresses) is never read into a
// record: only the buyer's member number, which ingest hashes.
package translate

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// KST is the zone of every date the site shows. A fixed zone: Korea has kept
// UTC+9 without daylight saving since 1988.
var KST = time.FixedZone("KST", 9*60*60)

// DateLayout is the site's date shape: KST wall time, "2026-03-01 12:34:56".
const DateLayout = "2006-01-02 15:04:05"

// OrderItem is one row of GET /seller/order_items/ (ably.md "Fields"). The
// buyer_* and receiver_* fields of the row are deliberately not decoded.
type OrderItem struct {
	Sno              json.Number `json:"sno"`
	OrderSno         json.Number `json:"order_sno"`
	GoodsSno         json.Number `json:"goods_sno"`
	GoodsName        string      `json:"goods_name"`
	OptionSno        json.Number `json:"option_sno"`
	OptionInfo       string      `json:"option_info"`
	Ea               int32       `json:"ea"`
	Price            int64       `json:"price"`
	OptionPrice      int64       `json:"option_price"`
	DiscountPrice    int64       `json:"discount_price"`
	PaymentPrice     int64       `json:"payment_price"`
	DeliveryFee      int64       `json:"order_delivery_fee"`
	ProcessingStatus *int        `json:"processing_status"`
	StatusName       string      `json:"processing_status_name"`
	OrderedAt        string      `json:"ordered_at"`
	CheckedAt        *string     `json:"checked_at"`
	SentAt           *string     `json:"sent_at"`
	DeliveredAt      *string     `json:"delivered_at"`
	ConfirmedAt      *string     `json:"confirmed_at"`
	UserSno          json.Number `json:"user_sno"`
}

// OrderCancel is one row of GET /seller/order_cancels/.
type OrderCancel struct {
	Sno          json.Number `json:"sno"`
	OrderItemSno json.Number `json:"order_item_sno"`
	CancelType   string      `json:"cancel_type"`
	SubStatus    int         `json:"processing_sub_status"`
	Ea           int32       `json:"ea"`
	RefundPrice  int64       `json:"refund_price"`
	RequestedAt  string      `json:"requested_at"`
	CompletedAt  *string     `json:"completed_at"`
	OrderedAt    string      `json:"ordered_at"`
}

// Exchange is one row of GET /seller/exchanges/.
type Exchange struct {
	Sno          json.Number `json:"sno"`
	OrderItemSno json.Number `json:"order_item_sno"`
	Status       int         `json:"status"`
	Ea           int32       `json:"ea"`
	RequestedAt  string      `json:"requested_at"`
	CompletedAt  *string     `json:"completed_at"`
	OrderedAt    string      `json:"ordered_at"`
}

// Page is one page of a list endpoint.
type Page[T any] struct {
	Rows          []T
	TotalCount    int
	MaxPageNumber int
}

// ErrLayout means the answer is not in the shape this collector reads: the
// site changed. The caller falls back to the Excel download.
var ErrLayout = errors.New("the site's answer is not in the shape the collector knows")

// DecodePage reads a list answer whose rows are under key (order_items,
// order_cancels, exchanges). Paging: max_page_number (ably.md "Fields").
func DecodePage[T any](body []byte, key string) (Page[T], error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return Page[T]{}, fmt.Errorf("%w: %v", ErrLayout, err)
	}
	rows, ok := raw[key]
	if !ok {
		return Page[T]{}, fmt.Errorf("%w: no %q list in the answer", ErrLayout, key)
	}
	var p Page[T]
	if err := json.Unmarshal(rows, &p.Rows); err != nil {
		return Page[T]{}, fmt.Errorf("%w: %s: %v", ErrLayout, key, err)
	}
	if err := json.Unmarshal(raw["total_count"], &p.TotalCount); err != nil {
		return Page[T]{}, fmt.Errorf("%w: total_count: %v", ErrLayout, err)
	}
	if err := json.Unmarshal(raw["max_page_number"], &p.MaxPageNumber); err != nil {
		// ably.md: a keyword search answers has_more_window instead, a
		// known cause of missed rows; the collector never searches by
		// keyword, so a missing max_page_number is a changed site.
		return Page[T]{}, fmt.Errorf("%w: max_page_number: %v", ErrLayout, err)
	}
	return p, nil
}

// ParseDate reads a site date (KST wall time).
func ParseDate(s string) (time.Time, error) {
	t, err := time.ParseInLocation(DateLayout, s, KST)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q is not %q", s, DateLayout)
	}
	return t.UTC(), nil
}

func parseOpt(s *string) (time.Time, bool, error) {
	if s == nil || *s == "" {
		return time.Time{}, false, nil
	}
	t, err := ParseDate(*s)
	return t, err == nil, err
}
