// Package naverids renders synthetic-store ids in the Naver Commerce API's own
// shapes (smartstore.md §3-§5), so that the sandbox and the ground truth of
// every test agree on the same strings.
package naverids

import (
	"fmt"
	"time"
)

// Format implements synth.IDFormat with Naver's id shapes.
type Format struct{}

// OrderID is a 16-digit, date-prefixed id like "2022051122441251"
// (smartstore.md §3): the KST placement day, "1", and a 7-digit daily
// sequence. placed is already in the store's zone (Asia/Seoul).
func (Format) OrderID(placed time.Time, seq int) string {
	return fmt.Sprintf("%s1%07d", placed.Format("20060102"), seq)
}

// LineID is the productOrderId, also 16 digits and date-prefixed: the order's
// day, "2", the last 5 digits of the order's daily sequence and a 2-digit line
// number. Distinct from every order id by the 9th digit.
func (Format) LineID(orderID string, n int) string {
	if len(orderID) != 16 {
		return fmt.Sprintf("%s-%02d", orderID, n)
	}
	return fmt.Sprintf("%s2%s%02d", orderID[:8], orderID[11:], n)
}

// ProductID is the origin product number (originalProductId on orders,
// originProductNo in the catalogue), 10 digits like "8101234567".
func (Format) ProductID(n int) string { return fmt.Sprintf("81%08d", n) }

// ProductCode is the channel product number (productId on orders,
// channelProductNo in the catalogue), 10 digits like "8123456789".
func (Format) ProductCode(n int) string { return fmt.Sprintf("82%08d", n) }

// OptionID is an option combination id (optionCode on orders): the origin
// product number's digits after "81" and a 2-digit option number.
func (Format) OptionID(productID, _ string, n int) string {
	if len(productID) == 10 {
		return fmt.Sprintf("9%s%02d", productID[2:], n)
	}
	return fmt.Sprintf("%s-%02d", productID, n)
}

// CategoryID is an 8-digit Naver category id like "50000088".
func (Format) CategoryID(n int) string { return fmt.Sprintf("%d", 50000000+n) }

// CouponID is a numeric coupon id. Coupons are not served by the sandbox.
func (Format) CouponID(n int) string { return fmt.Sprintf("%d", 10000000+n) }

// ClaimID is a 16-digit claim id: the KST request day, "3", and a 7-digit
// daily sequence.
func (Format) ClaimID(requested time.Time, seq int) string {
	return fmt.Sprintf("%s3%07d", requested.Format("20060102"), seq)
}

// BuyerID is the ordererId: a buyer's Naver id (masked on the real API).
func (Format) BuyerID(n int) string { return fmt.Sprintf("nvbuyer%05d", n) }
