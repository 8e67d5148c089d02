package synth

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

// A fashion seller's tree: top-level categories with their children.
var categoryTree = []struct {
	name     string
	children []string
}{
	{"상의", []string{"티셔츠", "셔츠/블라우스", "니트"}},
	{"하의", []string{"청바지", "슬랙스", "스커트"}},
	{"아우터", []string{"자켓", "코트"}},
	{"잡화", []string{"가방", "모자"}},
}

var productWords = []string{"린넨", "오버핏", "베이직", "스트라이프", "크롭", "와이드", "울", "코튼", "데님", "카라", "레이어드", "미니멀"}

var optionSets = [][]string{
	{"색상=블랙", "색상=화이트", "색상=네이비"},
	{"사이즈=S", "사이즈=M", "사이즈=L", "사이즈=XL"},
	{"색상=베이지, 사이즈=FREE", "색상=그레이, 사이즈=FREE"},
	{"FREE"},
}

func (g *generator) catalogue() {
	s := g.store
	ids := g.cfg.IDs
	var leaves []*commercev1.Category
	n := 0
	for _, top := range categoryTree {
		n++
		parent := &commercev1.Category{SourceId: ids.CategoryID(n), Name: top.name, FullName: top.name, Depth: 1}
		s.Categories = append(s.Categories, parent)
		for _, child := range top.children {
			n++
			leaf := &commercev1.Category{
				SourceId:       ids.CategoryID(n),
				ParentSourceId: parent.SourceId,
				Name:           child,
				FullName:       top.name + " > " + child,
				Depth:          2,
			}
			s.Categories = append(s.Categories, leaf)
			leaves = append(leaves, leaf)
		}
	}

	for i := 1; i <= g.cfg.Products; i++ {
		leaf := leaves[g.rng.IntN(len(leaves))]
		// Prices like 29,900 won: a round hundred ending in 900.
		price := int64(9+g.rng.IntN(80))*1000 + 900
		created := g.cfg.Start.Add(-time.Duration(30+g.rng.IntN(335)) * 24 * time.Hour).Truncate(time.Second)
		p := &commercev1.Product{
			SourceId:          ids.ProductID(i),
			Code:              ids.ProductCode(i),
			SellerCode:        fmt.Sprintf("HL-%04d", i),
			Name:              fmt.Sprintf("%s %s %s", productWords[g.rng.IntN(len(productWords))], productWords[g.rng.IntN(len(productWords))], leaf.Name),
			Price:             s.money(price),
			CategorySourceIds: []string{leaf.SourceId},
			Selling:           g.rng.IntN(10) != 0,
			Displayed:         true,
			CreatedAt:         timestamppb.New(created),
			UpdatedAt:         timestamppb.New(created),
		}
		s.Products = append(s.Products, p)
		set := optionSets[g.rng.IntN(len(optionSets))]
		for j, name := range set {
			var extra int64
			if j > 0 && g.rng.IntN(3) == 0 {
				extra = 2000
			}
			stock := int64(g.rng.IntN(200))
			s.Options = append(s.Options, &commercev1.ProductOption{
				SourceId:        ids.OptionID(p.SourceId, p.Code, j+1),
				ProductSourceId: p.SourceId,
				Name:            name,
				AdditionalPrice: s.money(extra),
				Selling:         p.Selling,
				StockQuantity:   &stock,
			})
		}
	}

	from := timestamppb.New(g.cfg.Start.Add(-30 * 24 * time.Hour).Truncate(time.Second))
	until := timestamppb.New(g.cfg.End.Add(30 * 24 * time.Hour).Truncate(time.Second))
	created := timestamppb.New(g.cfg.Start.Add(-45 * 24 * time.Hour).Truncate(time.Second))
	s.Coupons = []*commercev1.Coupon{
		{SourceId: ids.CouponID(1), Name: "신규가입 10% 할인", Benefit: commercev1.CouponBenefit_COUPON_BENEFIT_PERCENT, BenefitBasisPoints: 1000, MaxDiscount: s.money(10000), AvailableFrom: from, AvailableUntil: until, CreatedAt: created},
		{SourceId: ids.CouponID(2), Name: "3,000원 할인", Benefit: commercev1.CouponBenefit_COUPON_BENEFIT_AMOUNT, BenefitAmount: s.money(3000), AvailableFrom: from, AvailableUntil: until, CreatedAt: created},
		{SourceId: ids.CouponID(3), Name: "무료배송", Benefit: commercev1.CouponBenefit_COUPON_BENEFIT_FREE_SHIPPING, AvailableFrom: from, AvailableUntil: until, CreatedAt: created},
		{SourceId: ids.CouponID(4), Name: "지난 시즌 5% 할인", Benefit: commercev1.CouponBenefit_COUPON_BENEFIT_PERCENT, BenefitBasisPoints: 500, AvailableFrom: from, AvailableUntil: from, CreatedAt: created, Deleted: true},
	}
}
