// Package cafe24ids renders synthetic-store ids in Cafe24's own formats
// (cafe24.md §4), so that the sandbox and the ground truth of every test
// agree on the same strings.
package cafe24ids

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Format implements synth.IDFormat with Cafe24's id shapes.
type Format struct{}

// OrderID is "YYYYMMDD-NNNNNNN": the KST placement day and a 7-digit daily
// sequence (cafe24.md §4). placed is already in the store's zone (Asia/Seoul).
func (Format) OrderID(placed time.Time, seq int) string {
	return fmt.Sprintf("%s-%07d", placed.Format("20060102"), seq)
}

// LineID is the order_item_code: the order id and a 2-digit item number.
func (Format) LineID(orderID string, n int) string {
	return fmt.Sprintf("%s-%02d", orderID, n)
}

// ProductID is product_no, a plain integer.
func (Format) ProductID(n int) string { return strconv.Itoa(n) }

// ProductCode is 8 characters [A-Z0-9]: "P" and the number in base 36,
// zero-padded, like the doc example "P00000DX".
func (Format) ProductCode(n int) string {
	return "P" + pad36(n, 7)
}

// OptionID is the variant_code: the product code and 4 more characters
// (cafe24.md §4: 12 characters), like "P00000DX000B".
func (Format) OptionID(_, productCode string, n int) string {
	return productCode + pad36(n, 4)
}

// CategoryID is category_no. Cafe24 reserves 1 for the virtual root that
// top-level categories name as parent_category_no (cafe24.md §6), and malls'
// own categories start in the twenties, so numbering starts at 24.
func (Format) CategoryID(n int) string { return strconv.Itoa(23 + n) }

// CouponID is coupon_no, a 19-digit string (cafe24.md §7).
func (Format) CouponID(n int) string { return fmt.Sprintf("606911%013d", n) }

// ClaimID is a claim_code like "C20190610-0000001": the KST day the claim was
// requested and a 7-digit daily sequence.
func (Format) ClaimID(requested time.Time, seq int) string {
	return fmt.Sprintf("C%s-%07d", requested.Format("20060102"), seq)
}

// BuyerID is a member_id: a shopper's login id, lower case.
func (Format) BuyerID(n int) string { return fmt.Sprintf("member%05d", n) }

func pad36(n, width int) string {
	s := strings.ToUpper(strconv.FormatInt(int64(n), 36))
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}
