package translate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"
	"hlog.dev/cafe24-svc/internal/cafe24api"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

// Product translates a product with its variants (embed=variants) into the
// canonical product and its options. Catalogue amounts are in the mall's
// currency.
func Product(p *cafe24api.Product, currency string) (*commercev1.Product, []*commercev1.ProductOption, error) {
	out, opts, err := product(p, currency)
	if err != nil {
		return nil, nil, fmt.Errorf("translating product %d: %w", p.ProductNo, err)
	}
	return out, opts, nil
}

func product(p *cafe24api.Product, cur string) (*commercev1.Product, []*commercev1.ProductOption, error) {
	if p.ProductNo <= 0 {
		return nil, nil, errors.New("product has no product_no")
	}
	price, err := ParseMoney(p.Price, cur)
	if err != nil {
		return nil, nil, fmt.Errorf("price: %w", err)
	}
	created, err := optionalTime(p.CreatedDate)
	if err != nil {
		return nil, nil, fmt.Errorf("created_date: %w", err)
	}
	updated, err := optionalTime(p.UpdatedDate)
	if err != nil {
		return nil, nil, fmt.Errorf("updated_date: %w", err)
	}
	id := strconv.FormatInt(p.ProductNo, 10)
	out := &commercev1.Product{
		SourceId:  id,
		Code:      p.ProductCode,
		Name:      p.ProductName,
		Price:     &commercev1.Money{CurrencyCode: cur, MinorUnits: price},
		Selling:   p.Selling == "T",
		Displayed: p.Display == "T",
		// Cafe24 has no single product status; selling and display together are it.
		RawStatus: "selling=" + p.Selling + ",display=" + p.Display,
		CreatedAt: stamp(created),
		UpdatedAt: stamp(updated),
	}
	if p.CustomProductCode != nil {
		out.SellerCode = *p.CustomProductCode
	}
	for _, c := range p.Category {
		out.CategorySourceIds = append(out.CategorySourceIds, strconv.FormatInt(c.CategoryNo, 10))
	}
	var opts []*commercev1.ProductOption
	for _, v := range p.Variants {
		if v.VariantCode == "" {
			return nil, nil, errors.New("variant has no variant_code")
		}
		extra, err := optionalMoney(v.AdditionalAmount, cur)
		if err != nil {
			return nil, nil, fmt.Errorf("variant %s additional_amount: %w", v.VariantCode, err)
		}
		o := &commercev1.ProductOption{
			SourceId:        v.VariantCode,
			ProductSourceId: id,
			Name:            variantName(v.Options),
			AdditionalPrice: &commercev1.Money{CurrencyCode: cur, MinorUnits: extra},
			Selling:         v.Selling == "T",
		}
		if v.Quantity != nil {
			q := *v.Quantity
			o.StockQuantity = &q
		}
		opts = append(opts, o)
	}
	return out, opts, nil
}

// variantName renders a variant's options the way order items show them in
// option_value, "색상=블랙, 사이즈=L"; an option without a name is its value.
func variantName(opts []cafe24api.VariantOption) string {
	parts := make([]string, 0, len(opts))
	for _, o := range opts {
		if o.Name == "" {
			parts = append(parts, o.Value)
			continue
		}
		parts = append(parts, o.Name+"="+o.Value)
	}
	return strings.Join(parts, ", ")
}

// Category translates a category. Cafe24's category 1 is the virtual root
// that top-level categories name as parent (cafe24.md §6); canonically they
// have no parent.
func Category(c *cafe24api.Category) (*commercev1.Category, error) {
	if c.CategoryNo <= 0 || c.CategoryDepth < 1 || c.CategoryDepth > 4 {
		return nil, fmt.Errorf("translating category %d: bad number or depth %d", c.CategoryNo, c.CategoryDepth)
	}
	out := &commercev1.Category{
		SourceId: strconv.FormatInt(c.CategoryNo, 10),
		Name:     c.CategoryName,
		Depth:    c.CategoryDepth,
	}
	if c.ParentCategoryNo > 1 {
		out.ParentSourceId = strconv.FormatInt(c.ParentCategoryNo, 10)
	}
	var names []string
	for lvl := 1; lvl <= int(c.CategoryDepth); lvl++ {
		if n := c.FullCategoryName[strconv.Itoa(lvl)]; n != nil {
			names = append(names, *n)
		}
	}
	out.FullName = strings.Join(names, " > ")
	if out.FullName == "" {
		out.FullName = c.CategoryName
	}
	return out, nil
}

// couponBenefits maps benefit_type (cafe24.md §7): A amount off, B percentage
// off, E/H/I/J shipping; C/D (points) and F/G have no canonical kind.
var couponBenefits = map[string]commercev1.CouponBenefit{
	"A": commercev1.CouponBenefit_COUPON_BENEFIT_AMOUNT,
	"B": commercev1.CouponBenefit_COUPON_BENEFIT_PERCENT,
	"E": commercev1.CouponBenefit_COUPON_BENEFIT_FREE_SHIPPING,
	"H": commercev1.CouponBenefit_COUPON_BENEFIT_FREE_SHIPPING,
	"I": commercev1.CouponBenefit_COUPON_BENEFIT_FREE_SHIPPING,
	"J": commercev1.CouponBenefit_COUPON_BENEFIT_FREE_SHIPPING,
}

// Coupon translates a coupon. The percentage ("10.00") is read exactly into
// basis points.
func Coupon(c *cafe24api.Coupon, currency string) (*commercev1.Coupon, error) {
	out, err := coupon(c, currency)
	if err != nil {
		return nil, fmt.Errorf("translating coupon %s: %w", c.CouponNo, err)
	}
	return out, nil
}

func coupon(c *cafe24api.Coupon, cur string) (*commercev1.Coupon, error) {
	if c.CouponNo == "" {
		return nil, errors.New("coupon has no coupon_no")
	}
	out := &commercev1.Coupon{
		SourceId:       c.CouponNo,
		Name:           c.CouponName,
		Benefit:        couponBenefits[c.BenefitType],
		Deleted:        c.Deleted == "T",
		RawBenefitType: c.BenefitType,
	}
	times := []struct {
		raw *string
		dst **timestamppb.Timestamp
		nm  string
	}{{c.CreatedDate, &out.CreatedAt, "created_date"}, {c.AvailableBeginDatetime, &out.AvailableFrom, "available_begin_datetime"}, {c.AvailableEndDatetime, &out.AvailableUntil, "available_end_datetime"}}
	for _, t := range times {
		at, err := optionalTime(t.raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.nm, err)
		}
		*t.dst = stamp(at)
	}
	if c.BenefitPrice != nil && *c.BenefitPrice != "" {
		v, err := ParseMoney(*c.BenefitPrice, cur)
		if err != nil {
			return nil, fmt.Errorf("benefit_price: %w", err)
		}
		out.BenefitAmount = &commercev1.Money{CurrencyCode: cur, MinorUnits: v}
	}
	if c.BenefitPercentage != nil && *c.BenefitPercentage != "" {
		// Hundredths of a percent are basis points: parse as a two-decimal amount.
		bp, perr := ParseMoney(*c.BenefitPercentage, "USD")
		if perr != nil || bp < 0 || bp > 10000 {
			return nil, fmt.Errorf("benefit_percentage %q is not a percentage", *c.BenefitPercentage)
		}
		out.BenefitBasisPoints = int32(bp)
	}
	if c.BenefitPercentageMaxPrice != nil && *c.BenefitPercentageMaxPrice != "" {
		v, err := ParseMoney(*c.BenefitPercentageMaxPrice, cur)
		if err != nil {
			return nil, fmt.Errorf("benefit_percentage_max_price: %w", err)
		}
		if v > 0 {
			out.MaxDiscount = &commercev1.Money{CurrencyCode: cur, MinorUnits: v}
		}
	}
	return out, nil
}
