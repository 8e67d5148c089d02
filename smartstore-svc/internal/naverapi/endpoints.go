package naverapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Limits of the pay-order and product APIs (smartstore.md §3-§5).
const (
	MaxWindow          = 24 * time.Hour
	MaxPageSize        = 300
	MaxQueryIDs        = 300
	MaxProductPageSize = 500
)

// LastChanged reads one page of last-changed-statuses for [from, to], both
// inclusive. For the next page, pass the previous page's More.
func (s *Session) LastChanged(ctx context.Context, from, to time.Time, more *More) (*ChangedPage, error) {
	q := url.Values{"lastChangedFrom": {FormatTime(from)}, "lastChangedTo": {FormatTime(to)}, "limitCount": {strconv.Itoa(MaxPageSize)}}
	if more != nil {
		q.Set("lastChangedFrom", FormatTime(more.MoreFrom.Time))
		q.Set("moreSequence", more.MoreSequence)
	}
	b, err := s.do(ctx, "last-changed-statuses", http.MethodGet, "/v1/pay-order/seller/product-orders/last-changed-statuses", q, nil)
	if err != nil {
		return nil, fmt.Errorf("last-changed statuses %s..%s: %w", FormatTime(from), FormatTime(to), err)
	}
	return DecodeChangedPage(b)
}

// Search is a conditional search.
type Search struct {
	From, To  time.Time
	RangeType string // PAYED_DATETIME, ORDERED_DATETIME, DISPATCHED_DATETIME, ...
	Statuses  []string
	Page      int
}

// SearchProductOrders reads one page (of 300) of the conditional search.
func (s *Session) SearchProductOrders(ctx context.Context, sr Search) (*SearchPage, error) {
	q := url.Values{
		"from": {FormatTime(sr.From)}, "to": {FormatTime(sr.To)}, "rangeType": {sr.RangeType},
		"pageSize": {strconv.Itoa(MaxPageSize)}, "page": {strconv.Itoa(max(1, sr.Page))},
	}
	if len(sr.Statuses) > 0 {
		q.Set("productOrderStatuses", strings.Join(sr.Statuses, ","))
	}
	b, err := s.do(ctx, "product-orders", http.MethodGet, "/v1/pay-order/seller/product-orders", q, nil)
	if err != nil {
		return nil, fmt.Errorf("product orders by %s %s..%s page %d: %w", sr.RangeType, FormatTime(sr.From), FormatTime(sr.To), sr.Page, err)
	}
	return DecodeSearchPage(b)
}

// QueryProductOrders reads the details of at most 300 product orders.
func (s *Session) QueryProductOrders(ctx context.Context, ids []string) ([]ProductOrder, error) {
	if len(ids) == 0 || len(ids) > MaxQueryIDs {
		return nil, fmt.Errorf("query takes 1 to %d product order ids, not %d", MaxQueryIDs, len(ids))
	}
	body := map[string]any{"productOrderIds": ids, "quantityClaimCompatibility": true}
	b, err := s.do(ctx, "product-orders-query", http.MethodPost, "/v1/pay-order/seller/product-orders/query", nil, body)
	if err != nil {
		return nil, fmt.Errorf("querying %d product orders: %w", len(ids), err)
	}
	return DecodeProductOrders(b)
}

// ProductOrderIDs lists the product orders of one order.
func (s *Session) ProductOrderIDs(ctx context.Context, orderID string) ([]string, error) {
	b, err := s.do(ctx, "order-product-order-ids", http.MethodGet, "/v1/pay-order/seller/orders/"+url.PathEscape(orderID)+"/product-order-ids", nil, nil)
	if err != nil {
		return nil, fmt.Errorf("product orders of order %s: %w", orderID, err)
	}
	var env struct {
		Data []string `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("decoding product orders of order %s: %w", orderID, err)
	}
	return env.Data, nil
}

// SearchProducts reads one page of the products search.
func (s *Session) SearchProducts(ctx context.Context, page, size int) (*ProductPage, error) {
	body := map[string]any{"page": page, "size": size, "orderType": "NO"}
	b, err := s.do(ctx, "products-search", http.MethodPost, "/v1/products/search", nil, body)
	if err != nil {
		return nil, fmt.Errorf("products page %d: %w", page, err)
	}
	var p ProductPage
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("decoding products page %d: %w", page, err)
	}
	return &p, nil
}

// OriginProduct reads one origin product with its options.
func (s *Session) OriginProduct(ctx context.Context, no string) (*OriginProduct, error) {
	b, err := s.do(ctx, "origin-product", http.MethodGet, "/v2/products/origin-products/"+url.PathEscape(no), nil, nil)
	if err != nil {
		return nil, fmt.Errorf("origin product %s: %w", no, err)
	}
	var p OriginProduct
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("decoding origin product %s: %w", no, err)
	}
	return &p, nil
}

// Categories reads the category tree: a bare array (smartstore.md §5).
func (s *Session) Categories(ctx context.Context) ([]Category, error) {
	b, err := s.do(ctx, "categories", http.MethodGet, "/v1/categories", nil, nil)
	if err != nil {
		return nil, fmt.Errorf("categories: %w", err)
	}
	var out []Category
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("decoding categories: %w", err)
	}
	return out, nil
}
