package sandbox

import (
	"fmt"
	"net/http"
	"strings"

	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

// couponJSON is a coupon (cafe24.md §7). benefit_type: A amount off, B
// percentage off, E free shipping. Amounts are two-decimal strings and the
// percentage too ("10.00").
type couponJSON struct {
	ShopNo                    int     `json:"shop_no"`
	CouponNo                  string  `json:"coupon_no"`
	CouponType                string  `json:"coupon_type"`
	CouponName                string  `json:"coupon_name"`
	CreatedDate               string  `json:"created_date"`
	Deleted                   string  `json:"deleted"`
	IsStoppedIssuedCoupon     string  `json:"is_stopped_issued_coupon"`
	BenefitType               string  `json:"benefit_type"`
	BenefitPrice              *string `json:"benefit_price"`
	BenefitPercentage         *string `json:"benefit_percentage"`
	BenefitPercentageMaxPrice *string `json:"benefit_percentage_max_price"`
	IssueType                 string  `json:"issue_type"`
	IssuedCount               string  `json:"issued_count"`
	AvailablePeriodType       string  `json:"available_period_type"`
	AvailableBeginDatetime    *string `json:"available_begin_datetime"`
	AvailableEndDatetime      *string `json:"available_end_datetime"`
	AvailableScope            string  `json:"available_scope"`
}

var couponBenefitType = map[commercev1.CouponBenefit]string{
	commercev1.CouponBenefit_COUPON_BENEFIT_AMOUNT:        "A",
	commercev1.CouponBenefit_COUPON_BENEFIT_PERCENT:       "B",
	commercev1.CouponBenefit_COUPON_BENEFIT_FREE_SHIPPING: "E",
}

// listCoupons serves GET /api/v2/admin/coupons: limit 1..500 (default 100),
// offset up to 8000, and deleted, which defaults to F: deleted coupons come
// only when asked for with deleted=T or deleted=T,F (cafe24.md §7).
func (s *Sandbox) listCoupons(w http.ResponseWriter, r *http.Request, v *view) {
	q := r.URL.Query()
	limit, err := parseLimit(q, maxCouponsLimit, defaultCouponLimit)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	offset, err := parseOffset(q, maxCatalogueOffset)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	deleted := map[string]bool{"F": true}
	if raw := q.Get("deleted"); raw != "" {
		deleted = map[string]bool{}
		for _, d := range strings.Split(raw, ",") {
			d = strings.TrimSpace(d)
			if d != "T" && d != "F" {
				writeError(w, http.StatusUnprocessableEntity, "deleted must be T, F or T,F.")
				return
			}
			deleted[d] = true
		}
	}
	var all []couponJSON
	for _, c := range v.mall.store.Coupons {
		if !deleted[tf(c.Deleted)] {
			continue
		}
		cj := couponJSON{
			ShopNo: 1, CouponNo: c.SourceId, CouponType: "O", CouponName: c.Name,
			CreatedDate: orderDate(c.CreatedAt.AsTime()), Deleted: tf(c.Deleted), IsStoppedIssuedCoupon: "F",
			BenefitType: couponBenefitType[c.Benefit], IssueType: "M", IssuedCount: "0",
			AvailablePeriodType: "F", AvailableScope: "O",
			AvailableBeginDatetime: orderDatePtr(c.AvailableFrom.AsTime(), c.AvailableFrom != nil),
			AvailableEndDatetime:   orderDatePtr(c.AvailableUntil.AsTime(), c.AvailableUntil != nil),
		}
		if c.BenefitAmount != nil {
			cj.BenefitPrice = moneyPtr(c.BenefitAmount.MinorUnits)
		}
		if c.Benefit == commercev1.CouponBenefit_COUPON_BENEFIT_PERCENT {
			pct := fmt.Sprintf("%d.%02d", c.BenefitBasisPoints/100, c.BenefitBasisPoints%100)
			cj.BenefitPercentage = &pct
			if c.MaxDiscount != nil {
				cj.BenefitPercentageMaxPrice = moneyPtr(c.MaxDiscount.MinorUnits)
			}
		}
		all = append(all, cj)
	}
	body := struct {
		Coupons []couponJSON `json:"coupons"`
		Links   []link       `json:"links,omitempty"`
	}{Coupons: []couponJSON{}}
	if offset < len(all) {
		body.Coupons = all[offset:min(offset+limit, len(all))]
	}
	if offset+limit < len(all) {
		body.Links = []link{{Rel: "next", Href: nextLink(r.URL, r.Host, r.TLS != nil, q, offset+limit)}}
	}
	writeJSON(w, http.StatusOK, body)
}
