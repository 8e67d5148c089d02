package translate

import (
	"testing"
	"time"

	"hlog.dev/cafe24-svc/internal/cafe24api"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

func ptr(s string) *string { return &s }

func TestProductWithVariants(t *testing.T) {
	qty := int64(7)
	p, opts, err := Product(&cafe24api.Product{
		ProductNo: 12, ProductCode: "P000000C", CustomProductCode: ptr("HL-0012"), ProductName: "린넨 셔츠",
		Price: "29900.00", Display: "T", Selling: "F", CreatedDate: ptr("2024-01-15T10:02:11+09:00"),
		Category: []cafe24api.ProductCategory{{CategoryNo: 25}},
		Variants: []cafe24api.Variant{
			{VariantCode: "P000000C0001", Options: []cafe24api.VariantOption{{Name: "색상", Value: "블랙"}, {Name: "사이즈", Value: "L"}}, Selling: "T", AdditionalAmount: ptr("2000.00"), Quantity: &qty},
			{VariantCode: "P000000C0002", Options: []cafe24api.VariantOption{{Value: "FREE"}}, Selling: "F"},
		},
	}, "KRW")
	if err != nil {
		t.Fatal(err)
	}
	if p.SourceId != "12" || p.Price.MinorUnits != 29900 || p.Selling || !p.Displayed || p.SellerCode != "HL-0012" ||
		len(p.CategorySourceIds) != 1 || p.CategorySourceIds[0] != "25" || p.CreatedAt.AsTime().Hour() != 1 || p.UpdatedAt != nil {
		t.Errorf("product %v", p)
	}
	if len(opts) != 2 || opts[0].Name != "색상=블랙, 사이즈=L" || opts[0].AdditionalPrice.MinorUnits != 2000 || *opts[0].StockQuantity != 7 ||
		opts[1].Name != "FREE" || opts[1].StockQuantity != nil || opts[1].ProductSourceId != "12" {
		t.Errorf("options %v", opts)
	}
	for _, bad := range []cafe24api.Product{
		{ProductNo: 0, Price: "1.00"},
		{ProductNo: 1, Price: "1.5"},
		{ProductNo: 1, Price: "1.00", CreatedDate: ptr("yesterday")},
		{ProductNo: 1, Price: "1.00", Variants: []cafe24api.Variant{{VariantCode: ""}}},
	} {
		if _, _, err := Product(&bad, "KRW"); err == nil {
			t.Errorf("%+v: want an error", bad)
		}
	}
}

func TestCategoryAndCoupon(t *testing.T) {
	c, err := Category(&cafe24api.Category{CategoryNo: 25, CategoryDepth: 2, ParentCategoryNo: 24, CategoryName: "티셔츠",
		FullCategoryName: map[string]*string{"1": ptr("상의"), "2": ptr("티셔츠"), "3": nil, "4": nil}})
	if err != nil || c.ParentSourceId != "24" || c.FullName != "상의 > 티셔츠" || c.Depth != 2 {
		t.Errorf("category %v, %v", c, err)
	}
	if top, _ := Category(&cafe24api.Category{CategoryNo: 24, CategoryDepth: 1, ParentCategoryNo: 1, CategoryName: "상의"}); top.ParentSourceId != "" || top.FullName != "상의" {
		t.Errorf("top-level category %v", top)
	}
	if _, err := Category(&cafe24api.Category{CategoryNo: 5, CategoryDepth: 5}); err == nil {
		t.Error("depth 5: want an error")
	}
	cp, err := Coupon(&cafe24api.Coupon{CouponNo: "6069110000000000001", CouponName: "10%", BenefitType: "B", Deleted: "T",
		BenefitPercentage: ptr("12.50"), BenefitPercentageMaxPrice: ptr("10000.00"), AvailableEndDatetime: ptr("2026-01-01T00:00:00+09:00")}, "KRW")
	if err != nil || cp.Benefit != commercev1.CouponBenefit_COUPON_BENEFIT_PERCENT || cp.BenefitBasisPoints != 1250 || cp.MaxDiscount.MinorUnits != 10000 ||
		!cp.Deleted || cp.RawBenefitType != "B" || cp.AvailableFrom != nil || cp.AvailableUntil.AsTime().Hour() != 15 {
		t.Errorf("coupon %v, %v", cp, err)
	}
	for _, pct := range []string{"100.01", "-1.00", "12.345", "ten"} {
		if _, err := Coupon(&cafe24api.Coupon{CouponNo: "1", BenefitType: "B", BenefitPercentage: ptr(pct)}, "KRW"); err == nil {
			t.Errorf("percentage %q: want an error", pct)
		}
	}
}

func TestRefundIndexEvictsWhatNoLaterOrderNeeds(t *testing.T) {
	ix := NewRefundIndex()
	ix.Add(cafe24api.Refund{OrderID: "o1", RefundCode: ptr("R1"), OrderItemCode: []string{"o1-01"}, RefundDate: ptr("2026-01-10T10:00:00+09:00")})
	ix.Add(cafe24api.Refund{OrderID: "o2", RefundCode: ptr("R2"), OrderItemCode: []string{"o2-01", "o2-02"}, RefundDate: ptr("2026-02-10T10:00:00+09:00")})
	ix.Add(cafe24api.Refund{OrderID: "o3", RefundCode: ptr("R3"), OrderItemCode: []string{"o3-01"}})
	ix.EvictBefore(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	if ix.Len() != 2 || len(ix.byItem["o1-01"]) != 0 || len(ix.byItem["o2-02"]) != 1 || len(ix.byItem["o3-01"]) != 1 {
		t.Fatalf("after eviction: %d refunds, %v", ix.Len(), ix.byItem)
	}
	// An evicted refund can come back, when a later read needs it.
	ix.Add(cafe24api.Refund{OrderID: "o1", RefundCode: ptr("R1"), OrderItemCode: []string{"o1-01"}, RefundDate: ptr("2026-01-10T10:00:00+09:00")})
	if len(ix.byItem["o1-01"]) != 1 {
		t.Fatal("re-added refund missing")
	}
}
