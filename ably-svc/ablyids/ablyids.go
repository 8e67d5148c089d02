// Package ablyids renders synthetic-store ids in the shapes Ably's seller
// site shows (ably.md "Fields": numeric `sno`s), so that the sandbox and the
// ground truth of every test agree on the same strings.
package ablyids

import (
	"fmt"
	"strconv"
	"time"
)

// Format implements synth.IDFormat with Ably's id shapes. Ably's numbering
// scheme is not public; every id is a decimal `sno` like the ones seen in
// public automation code, built so that ids of different kinds never collide.
type Format struct{}

// OrderID is an order_sno: the KST placement day (YYMMDD) and a 5-digit
// daily sequence, e.g. "26030100017".
func (Format) OrderID(placed time.Time, seq int) string {
	return fmt.Sprintf("%s%05d", placed.Format("060102"), seq)
}

// LineID is an order item's sno (상품주문번호): the order_sno and a 2-digit
// item number.
func (Format) LineID(orderID string, n int) string { return fmt.Sprintf("%s%02d", orderID, n) }

// ProductID is a goods_sno.
func (Format) ProductID(n int) string { return strconv.Itoa(3100000 + n) }

// ProductCode is the seller's goods_custom_code.
func (Format) ProductCode(n int) string { return fmt.Sprintf("ABLY-%05d", n) }

// OptionID is an option sno: the goods_sno and a 2-digit option number.
func (Format) OptionID(productID, _ string, n int) string { return fmt.Sprintf("%s%02d", productID, n) }

// CategoryID is a category sno.
func (Format) CategoryID(n int) string { return strconv.Itoa(500 + n) }

// CouponID is a coupon sno.
func (Format) CouponID(n int) string { return strconv.Itoa(88000 + n) }

// ClaimID is a cancel/return/exchange sno: "9", the KST request day and a
// 5-digit daily sequence, so it never equals an order item sno.
func (Format) ClaimID(requested time.Time, seq int) string {
	return fmt.Sprintf("9%s%05d", requested.Format("060102"), seq)
}

// BuyerID is a user_sno, the buyer's Ably member number.
func (Format) BuyerID(n int) string { return strconv.Itoa(7000000 + n) }
