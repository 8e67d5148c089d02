package translate

import (
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/types/known/timestamppb"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

// Goods is one row of GET /seller/goods/ (the product table of ably.md
// "Fields": 상품번호, 상품명, 가격, 등록일, 진열상태, 재고).
type Goods struct {
	Sno         json.Number   `json:"sno"`
	Code        string        `json:"goods_code"`
	CustomCode  string        `json:"goods_custom_code"`
	Name        string        `json:"name"`
	Price       int64         `json:"price"`
	CategorySno *json.Number  `json:"category_sno"`
	Display     bool          `json:"is_display"`
	Selling     bool          `json:"is_selling"`
	CreatedAt   string        `json:"created_at"`
	UpdatedAt   string        `json:"updated_at"`
	Options     []GoodsOption `json:"options"`
}

// GoodsOption is one option of a goods row.
type GoodsOption struct {
	Sno      json.Number `json:"sno"`
	Title    string      `json:"option_title"`
	AddPrice int64       `json:"add_price"`
	Stock    *int64      `json:"stock"`
	Selling  bool        `json:"is_selling"`
}

// Product turns a goods row into a product and its options.
func Product(g Goods) (*commercev1.Product, []*commercev1.ProductOption, error) {
	if g.Sno == "" {
		return nil, nil, fmt.Errorf("%w: goods without sno", ErrLayout)
	}
	created, err := ParseDate(g.CreatedAt)
	if err != nil {
		return nil, nil, fmt.Errorf("goods %s created_at: %w", g.Sno, err)
	}
	updated := created
	if g.UpdatedAt != "" {
		if updated, err = ParseDate(g.UpdatedAt); err != nil {
			return nil, nil, fmt.Errorf("goods %s updated_at: %w", g.Sno, err)
		}
	}
	p := &commercev1.Product{
		SourceId: g.Sno.String(), Code: g.Code, SellerCode: g.CustomCode, Name: g.Name, Price: won(g.Price),
		Selling: g.Selling, Displayed: g.Display, RawStatus: fmt.Sprintf("display=%t selling=%t", g.Display, g.Selling),
		CreatedAt: timestamppb.New(created), UpdatedAt: timestamppb.New(updated),
	}
	if g.CategorySno != nil && *g.CategorySno != "" {
		p.CategorySourceIds = []string{g.CategorySno.String()}
	}
	var opts []*commercev1.ProductOption
	for _, o := range g.Options {
		opt := &commercev1.ProductOption{SourceId: o.Sno.String(), ProductSourceId: p.SourceId, Name: o.Title,
			AdditionalPrice: won(o.AddPrice), Selling: o.Selling}
		if o.Stock != nil {
			stock := *o.Stock
			opt.StockQuantity = &stock
		}
		opts = append(opts, opt)
	}
	return p, opts, nil
}
