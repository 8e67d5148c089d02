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
	RefundCode         *string  `json:"refund_code"`
	OrderItemCode      []string `json:"order_item_code"`
	Currency           string   `json:"currency"`
	ActualRefundAmount string   `json:"actual_refund_amount"`
	RefundDate         *string  `json:"refund_date"`
	Status             string   `json:"status"`
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
