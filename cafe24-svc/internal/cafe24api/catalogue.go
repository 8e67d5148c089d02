package cafe24api

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
)

// Catalogue paging limits (cafe24.md §5, §6, §7).
const (
	MaxProductsLimit   = 100
	MaxCategoriesLimit = 100
	MaxCategoryOffset  = 8000
	MaxCouponsLimit    = 500
	MaxCouponOffset    = 8000
)

// ListProducts calls GET /api/v2/admin/products for the products after
// sinceProductNo, in product_no order, with their variants. since_product_no
// is how Cafe24 pages a catalogue past the offset cap of 5000 (cafe24.md §5).
func (m *Mall) ListProducts(ctx context.Context, accessToken string, sinceProductNo int64, limit int) ([]Product, error) {
	if limit < 1 || limit > MaxProductsLimit || sinceProductNo < 0 {
		return nil, fmt.Errorf("listing products: limit %d since %d out of bounds", limit, sinceProductNo)
	}
	q := url.Values{
		"since_product_no": {strconv.FormatInt(sinceProductNo, 10)},
		"limit":            {strconv.Itoa(limit)},
		"embed":            {"variants"},
	}
	var page productsPage
	if err := m.get(ctx, "products", accessToken, "/api/v2/admin/products", q, &page); err != nil {
		return nil, fmt.Errorf("listing products after %d: %w", sinceProductNo, err)
	}
	return page.Products, nil
}

// ListCategories calls GET /api/v2/admin/categories for one page.
func (m *Mall) ListCategories(ctx context.Context, accessToken string, limit, offset int) ([]Category, error) {
	if limit < 1 || limit > MaxCategoriesLimit || offset < 0 || offset > MaxCategoryOffset {
		return nil, fmt.Errorf("listing categories: limit %d offset %d out of bounds", limit, offset)
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}, "offset": {strconv.Itoa(offset)}}
	var page categoriesPage
	if err := m.get(ctx, "categories", accessToken, "/api/v2/admin/categories", q, &page); err != nil {
		return nil, fmt.Errorf("listing categories offset %d: %w", offset, err)
	}
	return page.Categories, nil
}

// ListCoupons calls GET /api/v2/admin/coupons for one page, deleted coupons
// included: deleted defaults to F, so it is sent as T,F (cafe24.md §7).
func (m *Mall) ListCoupons(ctx context.Context, accessToken string, limit, offset int) ([]Coupon, error) {
	if limit < 1 || limit > MaxCouponsLimit || offset < 0 || offset > MaxCouponOffset {
		return nil, fmt.Errorf("listing coupons: limit %d offset %d out of bounds", limit, offset)
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}, "offset": {strconv.Itoa(offset)}, "deleted": {"T,F"}}
	var page couponsPage
	if err := m.get(ctx, "coupons", accessToken, "/api/v2/admin/coupons", q, &page); err != nil {
		return nil, fmt.Errorf("listing coupons offset %d: %w", offset, err)
	}
	return page.Coupons, nil
}
