package sandbox

import (
	"fmt"
	"hash/fnv"

	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

// productOrderJSON is one element of the query API's data array and the
// content of a conditional-search hit (smartstore.md §4). Objects that do
// not apply are absent.
type productOrderJSON struct {
	Order           orderJSON        `json:"order"`
	ProductOrder    poJSON           `json:"productOrder"`
	Delivery        *deliveryJSON    `json:"delivery,omitempty"`
	Cancel          map[string]any   `json:"cancel,omitempty"`
	Return          map[string]any   `json:"return,omitempty"`
	Exchange        map[string]any   `json:"exchange,omitempty"`
	CompletedClaims []map[string]any `json:"completedClaims,omitempty"`
}

type orderJSON struct {
	OrderID     string  `json:"orderId"`
	OrderDate   string  `json:"orderDate"`
	PaymentDate *string `json:"paymentDate,omitempty"`
	// Buyer personal data is masked, as on the real API for most sellers.
	OrdererID            string `json:"ordererId"`
	OrdererName          string `json:"ordererName"`
	OrdererTel           string `json:"ordererTel"`
	PaymentMeans         string `json:"paymentMeans"`
	PayLocationType      string `json:"payLocationType"`
	OrderDiscountAmount  int64  `json:"orderDiscountAmount"`
	GeneralPaymentAmount int64  `json:"generalPaymentAmount"`
}

type poJSON struct {
	ProductOrderID               string      `json:"productOrderId"`
	ProductOrderStatus           string      `json:"productOrderStatus"`
	ClaimType                    string      `json:"claimType,omitempty"`
	ClaimStatus                  string      `json:"claimStatus,omitempty"`
	ClaimID                      string      `json:"claimId,omitempty"`
	PlaceOrderStatus             string      `json:"placeOrderStatus"`
	DecisionDate                 *string     `json:"decisionDate,omitempty"`
	ProductID                    string      `json:"productId"`
	OriginalProductID            string      `json:"originalProductId"`
	ProductName                  string      `json:"productName"`
	ProductOption                string      `json:"productOption,omitempty"`
	OptionCode                   string      `json:"optionCode,omitempty"`
	OptionPrice                  int64       `json:"optionPrice"`
	SellerProductCode            string      `json:"sellerProductCode,omitempty"`
	Quantity                     int32       `json:"quantity"`
	InitialQuantity              int32       `json:"initialQuantity"`
	RemainQuantity               int32       `json:"remainQuantity"`
	UnitPrice                    int64       `json:"unitPrice"`
	TotalProductAmount           int64       `json:"totalProductAmount"`
	InitialProductAmount         int64       `json:"initialProductAmount"`
	RemainProductAmount          int64       `json:"remainProductAmount"`
	ProductDiscountAmount        int64       `json:"productDiscountAmount"`
	InitialProductDiscountAmount int64       `json:"initialProductDiscountAmount"`
	TotalPaymentAmount           int64       `json:"totalPaymentAmount"`
	InitialPaymentAmount         int64       `json:"initialPaymentAmount"`
	RemainPaymentAmount          int64       `json:"remainPaymentAmount"`
	DeliveryFeeAmount            int64       `json:"deliveryFeeAmount"`
	ExpectedSettlementAmount     int64       `json:"expectedSettlementAmount"`
	ShippingAddress              addressJSON `json:"shippingAddress"`
}

type addressJSON struct {
	Name        string `json:"name"`
	BaseAddress string `json:"baseAddress"`
	Tel1        string `json:"tel1"`
}

type deliveryJSON struct {
	DeliveryMethod  string  `json:"deliveryMethod"`
	DeliveryCompany string  `json:"deliveryCompany"`
	TrackingNumber  string  `json:"trackingNumber"`
	DeliveryStatus  string  `json:"deliveryStatus"`
	SendDate        string  `json:"sendDate"`
	DeliveredDate   *string `json:"deliveredDate,omitempty"`
}

// productOrderStatus renders synth's status at the instant. A claim in
// progress keeps the status before it, with claimStatus *_REQUEST; an order
// never paid ends CANCELED_BY_NOPAYMENT (smartstore.md §3).
func productOrderStatus(st *lineState) string {
	s := st.status
	if s == commercev1.OrderStatus_ORDER_STATUS_CLAIM_IN_PROGRESS {
		s = st.before
	}
	switch s {
	case commercev1.OrderStatus_ORDER_STATUS_AWAITING_PAYMENT:
		return "PAYMENT_WAITING"
	case commercev1.OrderStatus_ORDER_STATUS_PAID:
		return "PAYED"
	case commercev1.OrderStatus_ORDER_STATUS_SHIPPING:
		return "DELIVERING"
	case commercev1.OrderStatus_ORDER_STATUS_DELIVERED:
		return "DELIVERED"
	case commercev1.OrderStatus_ORDER_STATUS_CONFIRMED:
		return "PURCHASE_DECIDED"
	case commercev1.OrderStatus_ORDER_STATUS_CANCELLED:
		if st.paid.IsZero() {
			return "CANCELED_BY_NOPAYMENT"
		}
		return "CANCELED"
	case commercev1.OrderStatus_ORDER_STATUS_RETURNED:
		return "RETURNED"
	case commercev1.OrderStatus_ORDER_STATUS_EXCHANGED:
		return "EXCHANGED"
	}
	return "PAYMENT_WAITING"
}

var claimWords = map[commercev1.ClaimType]string{
	commercev1.ClaimType_CLAIM_TYPE_CANCEL:   "CANCEL",
	commercev1.ClaimType_CLAIM_TYPE_RETURN:   "RETURN",
	commercev1.ClaimType_CLAIM_TYPE_EXCHANGE: "EXCHANGE",
}

// render shapes a product order at its instant.
func (sl *seller) render(st *lineState) productOrderJSON {
	l, o := st.line, st.order
	qty := int64(l.Quantity)
	unit := l.UnitPrice.MinorUnits
	optUnit := l.OptionPrice.MinorUnits / qty
	gross := unit*qty + l.OptionPrice.MinorUnits
	paid := l.PaidAmount.MinorUnits
	remainQty, remainPay := l.Quantity, paid

	out := productOrderJSON{}
	out.Order = orderJSON{
		OrderID:              o.SourceId,
		OrderDate:            naverTime(o.OrderedAt.AsTime()),
		OrdererID:            o.BuyerId,
		OrdererName:          maskedName(o.BuyerId),
		OrdererTel:           "010-****-" + fmt.Sprintf("%04d", hash(o.BuyerId)%10000),
		PaymentMeans:         "신용카드",
		PayLocationType:      "MOBILE",
		GeneralPaymentAmount: o.PaidAmount.MinorUnits,
	}
	if !st.paid.IsZero() {
		out.Order.PaymentDate = naverTimePtr(st.paid)
		if st.paid.Sub(o.OrderedAt.AsTime()).Hours() >= 1 {
			out.Order.PaymentMeans = "무통장입금"
		}
	}
	status := productOrderStatus(st)
	po := poJSON{
		ProductOrderID:     l.SourceId,
		ProductOrderStatus: status,
		PlaceOrderStatus:   "NOT_YET",
		ProductID:          sl.channelNo(l.ProductSourceId),
		OriginalProductID:  l.ProductSourceId,
		ProductName:        l.ProductName,
		ProductOption:      l.OptionName,
		OptionCode:         l.OptionSourceId,
		OptionPrice:        optUnit,
		SellerProductCode:  sl.sellerCode(l.ProductSourceId),
		Quantity:           l.Quantity, InitialQuantity: l.Quantity,
		UnitPrice:          unit,
		TotalProductAmount: gross, InitialProductAmount: gross,
		ProductDiscountAmount: l.Discount.MinorUnits, InitialProductDiscountAmount: l.Discount.MinorUnits,
		TotalPaymentAmount: paid, InitialPaymentAmount: paid,
		ShippingAddress: addressJSON{Name: maskedName(o.BuyerId), BaseAddress: "서울특별시 강남구 ***", Tel1: "010-****-" + fmt.Sprintf("%04d", hash(o.BuyerId)%10000)},
	}
	if first := sl.byOrder[o.SourceId]; len(first) > 0 && first[0] == l {
		// The delivery fee of the order's one bundle sits on its first
		// product order; the others carry 0.
		po.DeliveryFeeAmount = o.ShippingFee.MinorUnits
	}
	if !st.shipped.IsZero() {
		po.PlaceOrderStatus = "OK"
		d := &deliveryJSON{DeliveryMethod: "DELIVERY", DeliveryCompany: "CJGLS", TrackingNumber: fmt.Sprintf("6%011d", hash(l.SourceId)%100000000000), DeliveryStatus: "DELIVERING", SendDate: naverTime(st.shipped)}
		if !st.delivered.IsZero() {
			d.DeliveryStatus = "DELIVERY_COMPLETION"
			d.DeliveredDate = naverTimePtr(st.delivered)
		}
		out.Delivery = d
	}
	if !st.confirmed.IsZero() {
		po.DecisionDate = naverTimePtr(st.confirmed)
	}
	if c := st.claim; c != nil {
		word := claimWords[c.Type]
		claimStatus := word + "_REQUEST"
		if st.claimDone {
			claimStatus = word + "_DONE"
			if c.Type != commercev1.ClaimType_CLAIM_TYPE_EXCHANGE {
				remainQty -= c.Quantity
				remainPay -= c.RefundAmount.MinorUnits
			}
		}
		po.ClaimType, po.ClaimStatus, po.ClaimID = word, claimStatus, c.SourceId
		obj := map[string]any{
			"claimId": c.SourceId, "claimStatus": claimStatus,
			"claimRequestDate": naverTime(c.RequestedAt.AsTime()), "requestChannel": "구매자",
			"requestQuantity": c.Quantity,
		}
		switch c.Type {
		case commercev1.ClaimType_CLAIM_TYPE_CANCEL:
			obj["cancelReason"] = "INTENT_CHANGED"
			if st.paid.IsZero() {
				obj["cancelReason"] = "NOT_PAYED"
			}
			if st.claimDone {
				obj["cancelCompletedDate"] = naverTime(c.CompletedAt.AsTime())
			}
			out.Cancel = obj
		case commercev1.ClaimType_CLAIM_TYPE_RETURN:
			obj["returnReason"] = "INTENT_CHANGED"
			if st.claimDone {
				obj["returnCompletedDate"] = naverTime(c.CompletedAt.AsTime())
			}
			out.Return = obj
		case commercev1.ClaimType_CLAIM_TYPE_EXCHANGE:
			obj["exchangeReason"] = "COLOR_AND_SIZE"
			if st.claimDone {
				obj["exchangeCompletedDate"] = naverTime(c.CompletedAt.AsTime())
			}
			out.Exchange = obj
		}
		if st.claimDone {
			out.CompletedClaims = []map[string]any{{"claimType": word, "claimId": c.SourceId, "claimStatus": claimStatus, "claimRequestDate": obj["claimRequestDate"]}}
		}
	}
	po.RemainQuantity = remainQty
	po.RemainPaymentAmount = remainPay
	po.RemainProductAmount = (unit + optUnit) * int64(remainQty)
	// Naver's commission is about 5.5% (sandbox figure, not a documented rate).
	po.ExpectedSettlementAmount = remainPay - remainPay*55/1000
	out.ProductOrder = po
	return out
}

func (sl *seller) channelNo(productID string) string {
	for i, p := range sl.store.Products {
		if p.SourceId == productID {
			return sl.store.Products[i].Code
		}
	}
	return ""
}

func (sl *seller) sellerCode(productID string) string {
	for _, p := range sl.store.Products {
		if p.SourceId == productID {
			return p.SellerCode
		}
	}
	return ""
}

func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

var surnames = []string{"김", "이", "박", "최", "정", "강", "조", "윤"}

// maskedName is a buyer name masked the way Naver masks it ("김*희").
func maskedName(buyer string) string {
	h := hash(buyer)
	return surnames[h%uint64(len(surnames))] + "*" + string([]rune("민서준지현우영희")[h/8%8])
}
