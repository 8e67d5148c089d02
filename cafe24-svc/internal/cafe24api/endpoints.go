package cafe24api

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// KST is Korea Standard Time, the zone of every Cafe24 date and parameter.
// Fixed: Korea has kept UTC+9 without daylight saving since 1988.
var KST = time.FixedZone("KST", 9*60*60)

// Paging limits (cafe24.md §4, §8).
const (
	MaxOffset       = 15000
	MaxOrdersLimit  = 1000
	MaxRefundsLimit = 500
)

// Search is a date-windowed, paged search. Start and End are inclusive and
// sent to the second in KST ("YYYY-MM-DD HH:MM:SS", cafe24.md §4).
type Search struct {
	Start, End time.Time
	DateType   string
	Limit      int
	Offset     int
	Embed      []string
}

func (s Search) values(paged bool) url.Values {
	q := url.Values{}
	q.Set("start_date", s.Start.In(KST).Format(time.DateTime))
	q.Set("end_date", s.End.In(KST).Format(time.DateTime))
	if s.DateType != "" {
		q.Set("date_type", s.DateType)
	}
	if len(s.Embed) > 0 {
		q.Set("embed", strings.Join(s.Embed, ","))
	}
	if paged {
		q.Set("limit", strconv.Itoa(s.Limit))
		q.Set("offset", strconv.Itoa(s.Offset))
	}
	return q
}

func (s Search) label() string {
	return s.Start.In(KST).Format(time.DateTime) + ".." + s.End.In(KST).Format(time.DateTime)
}

// CountOrders calls GET /api/v2/admin/orders/count.
func (m *Mall) CountOrders(ctx context.Context, accessToken string, s Search) (int, error) {
	var body countBody
	if err := m.get(ctx, "orders/count", accessToken, "/api/v2/admin/orders/count", s.values(false), &body); err != nil {
		return 0, fmt.Errorf("counting orders %s: %w", s.label(), err)
	}
	if body.Count == nil || *body.Count < 0 {
		return 0, fmt.Errorf("counting orders %s: %w", s.label(), &APIError{Endpoint: "orders/count", Status: 200, Message: "answer has no count"})
	}
	return *body.Count, nil
}

// ListOrders calls GET /api/v2/admin/orders for one page.
func (m *Mall) ListOrders(ctx context.Context, accessToken string, s Search) ([]Order, error) {
	if s.Limit < 1 || s.Limit > MaxOrdersLimit || s.Offset < 0 || s.Offset > MaxOffset {
		return nil, fmt.Errorf("listing orders: limit %d offset %d out of bounds", s.Limit, s.Offset)
	}
	var page ordersPage
	if err := m.get(ctx, "orders", accessToken, "/api/v2/admin/orders", s.values(true), &page); err != nil {
		return nil, fmt.Errorf("listing orders %s offset %d: %w", s.label(), s.Offset, err)
	}
	return page.Orders, nil
}

// ListRefunds calls GET /api/v2/admin/refunds for one page (cafe24.md §8).
func (m *Mall) ListRefunds(ctx context.Context, accessToken string, s Search) ([]Refund, error) {
	if s.Limit < 1 || s.Limit > MaxRefundsLimit || s.Offset < 0 || s.Offset > MaxOffset {
		return nil, fmt.Errorf("listing refunds: limit %d offset %d out of bounds", s.Limit, s.Offset)
	}
	var page refundsPage
	if err := m.get(ctx, "refunds", accessToken, "/api/v2/admin/refunds", s.values(true), &page); err != nil {
		return nil, fmt.Errorf("listing refunds %s offset %d: %w", s.label(), s.Offset, err)
	}
	return page.Refunds, nil
}

// GetOrder calls GET /api/v2/admin/orders/{order_id} with its items.
func (m *Mall) GetOrder(ctx context.Context, accessToken, orderID string) (*Order, error) {
	var body orderBody
	if err := m.get(ctx, "orders/{order_id}", accessToken, "/api/v2/admin/orders/"+url.PathEscape(orderID), url.Values{"embed": {"items"}}, &body); err != nil {
		return nil, fmt.Errorf("reading order %s: %w", orderID, err)
	}
	if body.Order == nil {
		return nil, fmt.Errorf("reading order %s: %w", orderID, &APIError{Endpoint: "orders/{order_id}", Status: 200, Message: "answer has no order"})
	}
	return body.Order, nil
}
