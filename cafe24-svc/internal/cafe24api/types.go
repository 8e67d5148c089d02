package cafe24api

// Wire shapes of the Cafe24 Admin API (cafe24.md §1, §4, §8). Only the fields
// H-log reads are decoded: buyer names, e-mails and phones are never even
// parsed. Amounts stay strings here; internal/translate parses them exactly.
// A pointer field is one the API may send as null.

// Order is one element of GET /api/v2/admin/orders.
type Order struct {
	ShopNo             int          `json:"shop_no"`
	Currency           string       `json:"currency"`
	OrderID            string       `json:"order_id"`
	MemberID           string       `json:"member_id"`
	Paid               string       `json:"paid"`
	Canceled           string       `json:"canceled"`
	ShippingStatus     string       `json:"shipping_status"`
	OrderDate          string       `json:"order_date"`
	PaymentDate        *string      `json:"payment_date"`
	CancelDate         *string      `json:"cancel_date"`
	PaymentAmount      *string      `json:"payment_amount"`
	OrderPlaceID       *string      `json:"order_place_id"`
	InitialOrderAmount *OrderAmount `json:"initial_order_amount"`
	ActualOrderAmount  *OrderAmount `json:"actual_order_amount"`
	Items              []Item       `json:"items"`
}

// OrderAmount is initial_order_amount (as placed) or actual_order_amount
// (after claims).
type OrderAmount struct {
	OrderPriceAmount    *string `json:"order_price_amount"`
	ShippingFee         *string `json:"shipping_fee"`
	CouponDiscountPrice *string `json:"coupon_discount_price"`
	PaymentAmount       *string `json:"payment_amount"`
}

// Item is one order item (embed=items).
type Item struct {
	ItemNo                   int     `json:"item_no"`
	OrderItemCode            string  `json:"order_item_code"`
	ProductNo                int64   `json:"product_no"`
	ProductCode              string  `json:"product_code"`
	VariantCode              string  `json:"variant_code"`
	ProductName              string  `json:"product_name"`
	OptionValue              *string `json:"option_value"`
	Quantity                 int32   `json:"quantity"`
	ProductPrice             string  `json:"product_price"`
	OptionPrice              *string `json:"option_price"`
	AdditionalDiscountPrice  *string `json:"additional_discount_price"`
	CouponDiscountPrice      *string `json:"coupon_discount_price"`
	AppItemDiscountAmount    *string `json:"app_item_discount_amount"`
	PaymentAmount            *string `json:"payment_amount"`
	OrderStatus              string  `json:"order_status"`
	StatusCode               *string `json:"status_code"`
	ClaimType                *string `json:"claim_type"`
	ClaimCode                *string `json:"claim_code"`
	ClaimQuantity            *int32  `json:"claim_quantity"`
	OrderedDate              *string `json:"ordered_date"`
	ShippedDate              *string `json:"shipped_date"`
	DeliveredDate            *string `json:"delivered_date"`
	PurchaseConfirmationDate *string `json:"purchaseconfirmation_date"`
	CancelRequestDate        *string `json:"cancel_request_date"`
	CancelDate               *string `json:"cancel_date"`
	ReturnRequestDate        *string `json:"return_request_date"`
	ReturnConfirmedDate      *string `json:"return_confirmed_date"`
	ExchangeRequestDate      *string `json:"exchange_request_date"`
	ExchangeDate             *string `json:"exchange_date"`
	RefundDate               *string `json:"refund_date"`
}

// Refund is one element of GET /api/v2/admin/refunds (cafe24.md §8).
type Refund struct {
	OrderID            string   `json:"order_id"`
	OrderDate          *string  `json:"order_date"`
	RefundCode         *string  `json:"refund_code"`
	OrderItemCode      []string `json:"order_item_code"`
	Currency           string   `json:"currency"`
	ActualRefundAmount string   `json:"actual_refund_amount"`
	RefundDate         *string  `json:"refund_date"`
	Status             string   `json:"status"`
}

type orderBody struct {
	Order *Order `json:"order"`
}

type ordersPage struct {
	Orders []Order `json:"orders"`
}

type refundsPage struct {
	Refunds []Refund `json:"refunds"`
}

type countBody struct {
	Count *int `json:"count"`
}

// errorEnvelope is the Admin API's error body (cafe24.md §3). The type of
// code is unspecified, so it is not decoded; the message is what clients read.
type errorEnvelope struct {
	Error struct {
		Message string `json:"message"`
	} `json:"error"`
}

// oauthErrorBody is the token endpoint's OAuth-style error (cafe24.md §1).
type oauthErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// Product is one element of GET /api/v2/admin/products (cafe24.md §5).
type Product struct {
	ProductNo         int64             `json:"product_no"`
	ProductCode       string            `json:"product_code"`
	CustomProductCode *string           `json:"custom_product_code"`
	ProductName       string            `json:"product_name"`
	Price             string            `json:"price"`
	Display           string            `json:"display"`
	Selling           string            `json:"selling"`
	CreatedDate       *string           `json:"created_date"`
	UpdatedDate       *string           `json:"updated_date"`
	Category          []ProductCategory `json:"category"`
	Variants          []Variant         `json:"variants"`
}

// ProductCategory is one entry of a product's category list.
type ProductCategory struct {
	CategoryNo int64 `json:"category_no"`
}

// Variant is one variant of a product (embed=variants).
type Variant struct {
	VariantCode      string          `json:"variant_code"`
	Options          []VariantOption `json:"options"`
	Selling          string          `json:"selling"`
	AdditionalAmount *string         `json:"additional_amount"`
	Quantity         *int64          `json:"quantity"`
}

// VariantOption is one name=value of a variant.
type VariantOption struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Category is one element of GET /api/v2/admin/categories (cafe24.md §6).
type Category struct {
	CategoryNo       int64              `json:"category_no"`
	CategoryDepth    int32              `json:"category_depth"`
	ParentCategoryNo int64              `json:"parent_category_no"`
	CategoryName     string             `json:"category_name"`
	FullCategoryName map[string]*string `json:"full_category_name"`
}

// Coupon is one element of GET /api/v2/admin/coupons (cafe24.md §7).
type Coupon struct {
	CouponNo                  string  `json:"coupon_no"`
	CouponName                string  `json:"coupon_name"`
	CreatedDate               *string `json:"created_date"`
	Deleted                   string  `json:"deleted"`
	BenefitType               string  `json:"benefit_type"`
	BenefitPrice              *string `json:"benefit_price"`
	BenefitPercentage         *string `json:"benefit_percentage"`
	BenefitPercentageMaxPrice *string `json:"benefit_percentage_max_price"`
	AvailableBeginDatetime    *string `json:"available_begin_datetime"`
	AvailableEndDatetime      *string `json:"available_end_datetime"`
}

type productsPage struct {
	Products []Product `json:"products"`
}

type categoriesPage struct {
	Categories []Category `json:"categories"`
}

type couponsPage struct {
	Coupons []Coupon `json:"coupons"`
}
