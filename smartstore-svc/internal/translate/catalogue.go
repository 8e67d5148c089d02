package translate

import (
	"fmt"
	"strings"

	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	"hlog.dev/smartstore-svc/internal/naverapi"
)

// Product translates an origin product as its channel product shows it, with
// the option combinations of its detail (nil when it has none).
func Product(cp naverapi.ChannelProduct, detail *naverapi.OriginProduct) (*commercev1.Product, []*commercev1.ProductOption, error) {
	id := cp.OriginProductNo.String()
	if id == "" {
		return nil, nil, fmt.Errorf("channel product %s without originProductNo", cp.ChannelProductNo)
	}
	p := &commercev1.Product{
		SourceId:   id,
		Code:       cp.ChannelProductNo.String(),
		SellerCode: cp.SellerManagementCode,
		Name:       cp.Name,
		Price:      won(cp.SalePrice),
		// SALE is on sale; WAIT, OUTOFSTOCK, SUSPENSION, CLOSE, ... are not
		// (smartstore.md §5).
		Selling:   cp.StatusType == "SALE",
		Displayed: cp.DisplayStatusType == "ON",
		RawStatus: cp.StatusType,
		CreatedAt: ts(cp.RegDate),
		UpdatedAt: ts(cp.ModifiedDate),
	}
	if cp.CategoryID != "" {
		p.CategorySourceIds = []string{cp.CategoryID}
	}
	if detail == nil || detail.OriginProduct.DetailAttribute.OptionInfo == nil {
		return p, nil, nil
	}
	info := detail.OriginProduct.DetailAttribute.OptionInfo
	var opts []*commercev1.ProductOption
	for _, c := range info.Combinations {
		var parts []string
		for i, v := range []string{c.OptionName1, c.OptionName2, c.OptionName3, c.OptionName4} {
			if v == "" {
				continue
			}
			// "색상=블랙": the group name and the value, as options are
			// named across H-log; a combination without a group is its value.
			if g := info.GroupNames[fmt.Sprintf("optionGroupName%d", i+1)]; g != "" {
				v = g + "=" + v
			}
			parts = append(parts, v)
		}
		if c.ID.String() == "" {
			return nil, nil, fmt.Errorf("origin product %s: option combination without id", id)
		}
		o := &commercev1.ProductOption{
			SourceId:        c.ID.String(),
			ProductSourceId: id,
			Name:            strings.Join(parts, ", "),
			AdditionalPrice: won(c.Price),
			Selling:         c.Usable,
		}
		if c.StockQuantity != nil {
			stock := *c.StockQuantity
			o.StockQuantity = &stock
		}
		opts = append(opts, o)
	}
	return p, opts, nil
}

// Categories translates the category list. Parents are found by their whole
// name, since the list names each category by its path ("상의>티셔츠").
func Categories(in []naverapi.Category) ([]*commercev1.Category, error) {
	byPath := map[string]string{}
	for _, c := range in {
		byPath[c.WholeCategoryName] = c.ID
	}
	var out []*commercev1.Category
	for _, c := range in {
		if c.ID == "" {
			return nil, fmt.Errorf("category %q without id", c.WholeCategoryName)
		}
		path := strings.Split(c.WholeCategoryName, ">")
		cat := &commercev1.Category{
			SourceId: c.ID,
			Name:     c.Name,
			FullName: strings.Join(path, " > "),
			Depth:    int32(len(path)),
		}
		if len(path) > 1 {
			cat.ParentSourceId = byPath[strings.Join(path[:len(path)-1], ">")]
		}
		out = append(out, cat)
	}
	return out, nil
}
