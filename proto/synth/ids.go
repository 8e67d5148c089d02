package synth

import (
	"fmt"
	"time"
)

// CanonicalIDs are plain, readable ids for tests that need no platform format.
type CanonicalIDs struct{}

func (CanonicalIDs) OrderID(placed time.Time, seq int) string {
	return fmt.Sprintf("O%s-%04d", placed.Format("20060102"), seq)
}
func (CanonicalIDs) LineID(orderID string, n int) string { return fmt.Sprintf("%s-%d", orderID, n) }
func (CanonicalIDs) ProductID(n int) string              { return fmt.Sprintf("P%03d", n) }
func (CanonicalIDs) ProductCode(n int) string            { return fmt.Sprintf("CODE%03d", n) }
func (CanonicalIDs) OptionID(productID, _ string, n int) string {
	return fmt.Sprintf("%s-V%d", productID, n)
}
func (CanonicalIDs) CategoryID(n int) string { return fmt.Sprintf("C%02d", n) }
func (CanonicalIDs) CouponID(n int) string   { return fmt.Sprintf("CP%02d", n) }
func (CanonicalIDs) ClaimID(requested time.Time, seq int) string {
	return fmt.Sprintf("CL%s-%04d", requested.Format("20060102"), seq)
}
func (CanonicalIDs) BuyerID(n int) string { return fmt.Sprintf("buyer%05d", n) }
