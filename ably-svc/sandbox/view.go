package sandbox

import (
	"sort"
	"strconv"
	"time"

	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	"hlog.dev/proto/synth"
)

// view is a seller's store as it stands at one instant, rendered in the
// JSON shapes of the site's API and indexed for date filters.
type view struct {
	at        time.Time
	items     []orderItem // by ordered_at, then sno
	cancels   []orderCancel
	exchanges []exchange
	goods     []goods
}

// Date layout of the site's JSON and Excel: KST wall time without offset, as
// the public scripts read them ("checked_at", "ordered_at"; ably.md "Fields").
const dateLayout = "2006-01-02 15:04:05"

func date(t time.Time) string { return t.In(kst).Format(dateLayout) }

func datePtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := date(t)
	return &s
}

// processing_status codes. ably.md names 1 (new/paid) and 2 (preparing); the
// other numbers are the sandbox's choice, documented in the README.
const (
	psAwaitingPayment = 0
	psPaid            = 1
	psShipping        = 3
	psDelivered       = 4
	psConfirmed       = 5
	psCancelled       = 6
	psReturned        = 7
	psExchanged       = 8
	psClaimInProgress = 9
)

var statusCode = map[commercev1.OrderStatus]int{
	commercev1.OrderStatus_ORDER_STATUS_AWAITING_PAYMENT:  psAwaitingPayment,
	commercev1.OrderStatus_ORDER_STATUS_PAID:              psPaid,
	commercev1.OrderStatus_ORDER_STATUS_SHIPPING:          psShipping,
	commercev1.OrderStatus_ORDER_STATUS_DELIVERED:         psDelivered,
	commercev1.OrderStatus_ORDER_STATUS_CONFIRMED:         psConfirmed,
	commercev1.OrderStatus_ORDER_STATUS_CANCELLED:         psCancelled,
	commercev1.OrderStatus_ORDER_STATUS_RETURNED:          psReturned,
	commercev1.OrderStatus_ORDER_STATUS_EXCHANGED:         psExchanged,
	commercev1.OrderStatus_ORDER_STATUS_CLAIM_IN_PROGRESS: psClaimInProgress,
}

var statusName = map[int]string{
	psAwaitingPayment: "입금대기", psPaid: "결제완료", psShipping: "배송중", psDelivered: "배송완료",
	psConfirmed: "구매확정", psCancelled: "취소완료", psReturned: "반품완료", psExchanged: "교환완료", psClaimInProgress: "클레임처리중",
}

// orderItem is one row of GET /seller/order_items/ (ably.md "Fields": sno,
// order_sno, goods_sno, goods_name, option_info, ea, buyer_*, receiver_*,
// checked_at, ordered_at). Money is whole won.
type orderItem struct {
	Sno              int64   `json:"sno"`
	OrderSno         int64   `json:"order_sno"`
	GoodsSno         int64   `json:"goods_sno"`
	GoodsName        string  `json:"goods_name"`
	OptionSno        int64   `json:"option_sno"`
	OptionInfo       string  `json:"option_info"`
	Ea               int32   `json:"ea"`
	Price            int64   `json:"price"`        // unit price
	OptionPrice      int64   `json:"option_price"` // per unit
	DiscountPrice    int64   `json:"discount_price"`
	PaymentPrice     int64   `json:"payment_price"`
	DeliveryFee      int64   `json:"order_delivery_fee"` // the order's, on each of its rows
	ProcessingStatus int     `json:"processing_status"`
	StatusName       string  `json:"processing_status_name"`
	OrderedAt        string  `json:"ordered_at"`
	CheckedAt        *string `json:"checked_at"`
	SentAt           *string `json:"sent_at"`
	DeliveredAt      *string `json:"delivered_at"`
	ConfirmedAt      *string `json:"confirmed_at"`
	UserSno          int64   `json:"user_sno"`
	BuyerName        string  `json:"buyer_name"`
	BuyerTel         string  `json:"buyer_tel"`
	BuyerEmail       string  `json:"buyer_email"`
	ReceiverName     string  `json:"receiver_name"`
	ReceiverAddress  string  `json:"receiver_address"`
	DeliveryType     string  `json:"delivery_type"`
	Invoice          *string `json:"invoice"`

	orderedAt time.Time
	requested []time.Time // claim requests, for the cancels list
}

// orderCancel is one row of GET /seller/order_cancels/: a cancel or, with
// cancel_type "return", a return (ably.md: sub-status 41/42).
type orderCancel struct {
	Sno            int64   `json:"sno"`
	OrderItemSno   int64   `json:"order_item_sno"`
	OrderSno       int64   `json:"order_sno"`
	CancelType     string  `json:"cancel_type"`
	SubStatus      int     `json:"processing_sub_status"` // 41 requested, 42 completed
	Ea             int32   `json:"ea"`
	RefundPrice    int64   `json:"refund_price"`
	ReturnFee      int64   `json:"return_delivery_fee"`
	CancelReason   string  `json:"cancel_reason"`
	RequestedAt    string  `json:"requested_at"`
	CompletedAt    *string `json:"completed_at"`
	OrderedAt      string  `json:"ordered_at"`
	requestedAtKST time.Time
}

// exchange is one row of GET /seller/exchanges/ (ably.md: status 2–9).
type exchange struct {
	Sno            int64   `json:"sno"`
	OrderItemSno   int64   `json:"order_item_sno"`
	OrderSno       int64   `json:"order_sno"`
	Status         int     `json:"status"` // 2 requested … 9 completed
	Ea             int32   `json:"ea"`
	RequestedAt    string  `json:"requested_at"`
	CompletedAt    *string `json:"completed_at"`
	OrderedAt      string  `json:"ordered_at"`
	requestedAtKST time.Time
}

type goodsOption struct {
	Sno        int64  `json:"sno"`
	Title      string `json:"option_title"`
	AddPrice   int64  `json:"add_price"`
	Stock      int64  `json:"stock"`
	IsSoldOut  bool   `json:"is_soldout"`
	IsSelling  bool   `json:"is_selling"`
	ProductSno int64  `json:"-"`
}

// goods is one row of GET /seller/goods/ (the on-screen product table of
// ably.md "Fields": 상품번호, 상품명, 가격, 등록일, 진열상태, 재고).
type goods struct {
	Sno         int64         `json:"sno"`
	Code        string        `json:"goods_code"`
	CustomCode  string        `json:"goods_custom_code"` // the seller's own code
	Name        string        `json:"name"`
	Price       int64         `json:"price"`
	CategorySno *int64        `json:"category_sno"`
	Category    string        `json:"category_name"`
	Display     bool          `json:"is_display"`
	Selling     bool          `json:"is_selling"`
	CreatedAt   string        `json:"created_at"`
	UpdatedAt   string        `json:"updated_at"`
	Options     []goodsOption `json:"options"`
}

func atoi(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }

func newView(store *synth.Store, t time.Time) *view {
	st := store.AsOf(t)
	v := &view{at: t}
	orders := map[string]*commercev1.Order{}
	for _, o := range st.Orders {
		orders[o.SourceId] = o
	}
	for _, l := range st.Lines {
		o := orders[l.OrderSourceId]
		it := orderItem{
			Sno: atoi(l.SourceId), OrderSno: atoi(l.OrderSourceId), GoodsSno: atoi(l.ProductSourceId),
			GoodsName: l.ProductName, OptionSno: atoi(l.OptionSourceId), OptionInfo: l.OptionName, Ea: l.Quantity,
			Price: l.UnitPrice.GetMinorUnits(), OptionPrice: l.OptionPrice.GetMinorUnits() / int64(max(l.Quantity, 1)),
			DiscountPrice: l.Discount.GetMinorUnits(), PaymentPrice: l.PaidAmount.GetMinorUnits(),
			DeliveryFee:      o.ShippingFee.GetMinorUnits(),
			ProcessingStatus: statusCode[l.Status], OrderedAt: date(l.OrderedAt.AsTime()),
			UserSno:      atoi(o.BuyerId),
			BuyerName:    "구매자" + o.BuyerId[len(o.BuyerId)-3:],
			BuyerTel:     "010-" + o.BuyerId[len(o.BuyerId)-4:] + "-" + o.BuyerId[len(o.BuyerId)-4:],
			BuyerEmail:   "buyer" + o.BuyerId + "@example.com",
			ReceiverName: "수령인" + o.BuyerId[len(o.BuyerId)-3:], ReceiverAddress: "서울특별시 성동구 성수이로 " + o.BuyerId[len(o.BuyerId)-2:],
			DeliveryType: "standard",
			orderedAt:    l.OrderedAt.AsTime(),
		}
		it.StatusName = statusName[it.ProcessingStatus]
		if l.PaidAt != nil {
			it.CheckedAt = datePtr(l.PaidAt.AsTime())
		}
		for _, e := range store.LineEvents(l.SourceId) {
			if e.At.After(t) {
				break
			}
			switch e.Status {
			case commercev1.OrderStatus_ORDER_STATUS_SHIPPING:
				it.SentAt = datePtr(e.At)
				inv := "6" + l.SourceId[len(l.SourceId)-9:]
				it.Invoice = &inv
			case commercev1.OrderStatus_ORDER_STATUS_DELIVERED:
				it.DeliveredAt = datePtr(e.At)
			case commercev1.OrderStatus_ORDER_STATUS_CONFIRMED:
				it.ConfirmedAt = datePtr(e.At)
			}
		}
		for _, c := range l.Claims {
			req := c.RequestedAt.AsTime()
			var done *string
			if c.State == commercev1.ClaimState_CLAIM_STATE_COMPLETED {
				done = datePtr(c.CompletedAt.AsTime())
			}
			switch c.Type {
			case commercev1.ClaimType_CLAIM_TYPE_EXCHANGE:
				x := exchange{Sno: atoi(c.SourceId), OrderItemSno: it.Sno, OrderSno: it.OrderSno, Status: 2, Ea: c.Quantity,
					RequestedAt: date(req), CompletedAt: done, OrderedAt: it.OrderedAt, requestedAtKST: req}
				if done != nil {
					x.Status = 9
				}
				v.exchanges = append(v.exchanges, x)
			default:
				x := orderCancel{Sno: atoi(c.SourceId), OrderItemSno: it.Sno, OrderSno: it.OrderSno, CancelType: "cancel", SubStatus: 41,
					Ea: c.Quantity, RefundPrice: c.RefundAmount.GetMinorUnits(), CancelReason: "단순 변심",
					RequestedAt: date(req), CompletedAt: done, OrderedAt: it.OrderedAt, requestedAtKST: req}
				if c.Type == commercev1.ClaimType_CLAIM_TYPE_RETURN {
					x.CancelType, x.ReturnFee = "return", 3000
				}
				if l.PaidAt == nil {
					x.CancelReason = "입금기한 만료"
				}
				if done != nil {
					x.SubStatus = 42
				}
				v.cancels = append(v.cancels, x)
			}
		}
		v.items = append(v.items, it)
	}
	sort.SliceStable(v.items, func(i, j int) bool {
		a, b := v.items[i], v.items[j]
		if !a.orderedAt.Equal(b.orderedAt) {
			return a.orderedAt.Before(b.orderedAt)
		}
		return a.Sno < b.Sno
	})
	sort.SliceStable(v.cancels, func(i, j int) bool { return v.cancels[i].requestedAtKST.Before(v.cancels[j].requestedAtKST) })
	sort.SliceStable(v.exchanges, func(i, j int) bool { return v.exchanges[i].requestedAtKST.Before(v.exchanges[j].requestedAtKST) })

	cats := map[string]string{}
	for _, c := range st.Categories {
		cats[c.SourceId] = c.FullName
	}
	byProduct := map[string][]goodsOption{}
	for _, o := range st.Options {
		byProduct[o.ProductSourceId] = append(byProduct[o.ProductSourceId], goodsOption{
			Sno: atoi(o.SourceId), Title: o.Name, AddPrice: o.AdditionalPrice.GetMinorUnits(),
			Stock: o.GetStockQuantity(), IsSoldOut: o.GetStockQuantity() == 0, IsSelling: o.Selling,
		})
	}
	for _, p := range st.Products {
		g := goods{Sno: atoi(p.SourceId), Code: p.Code, CustomCode: p.SellerCode, Name: p.Name, Price: p.Price.GetMinorUnits(),
			Display: p.Displayed, Selling: p.Selling, CreatedAt: date(p.CreatedAt.AsTime()), UpdatedAt: date(p.UpdatedAt.AsTime()),
			Options: byProduct[p.SourceId]}
		if len(p.CategorySourceIds) > 0 {
			c := atoi(p.CategorySourceIds[0])
			g.CategorySno, g.Category = &c, cats[p.CategorySourceIds[0]]
		}
		v.goods = append(v.goods, g)
	}
	return v
}

// itemsBetween returns the items whose date of kind ("ordered_at" or
// "checked_at") falls on local days from..to, inclusive.
func (v *view) itemsBetween(kind string, from, to time.Time) []orderItem {
	end := to.AddDate(0, 0, 1)
	var out []orderItem
	if kind == "ordered_at" {
		i := sort.Search(len(v.items), func(i int) bool { return !v.items[i].orderedAt.Before(from) })
		for ; i < len(v.items) && v.items[i].orderedAt.Before(end); i++ {
			out = append(out, v.items[i])
		}
		return out
	}
	for _, it := range v.items {
		if it.CheckedAt == nil {
			continue
		}
		t, _ := time.ParseInLocation(dateLayout, *it.CheckedAt, kst)
		if !t.Before(from) && t.Before(end) {
			out = append(out, it)
		}
	}
	return out
}
