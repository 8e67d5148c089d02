package sandbox

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"

	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

// MaxProductPageSize is the products search's largest page (smartstore.md §5).
const MaxProductPageSize = 500

func number(id string) int64 {
	n, _ := strconv.ParseInt(id, 10, 64)
	return n
}

// categoryPath is a category's whole name ("상의>티셔츠") and whole id
// ("50000001>50000002"), root first.
func (sl *seller) categoryPath(id string) (names, ids string) {
	byID := map[string]*commercev1.Category{}
	for _, c := range sl.store.Categories {
		byID[c.SourceId] = c
	}
	var n, i []string
	for c := byID[id]; c != nil; c = byID[c.ParentSourceId] {
		n = append([]string{c.Name}, n...)
		i = append([]string{c.SourceId}, i...)
	}
	return strings.Join(n, ">"), strings.Join(i, ">")
}

func statusType(p *commercev1.Product) string {
	if p.Selling {
		return "SALE"
	}
	return "SUSPENSION"
}

// searchProducts answers POST /v1/products/search (smartstore.md §5). The
// answer is not wrapped in data. Products are sorted by regDate, newest
// first, then by number, as the real default is.
func (s *Sandbox) searchProducts(c *call, sl *seller) {
	var body struct {
		Page               *int     `json:"page"`
		Size               *int     `json:"size"`
		ProductStatusTypes []string `json:"productStatusTypes"`
		OriginProductNos   []int64  `json:"originProductNos"`
	}
	if c.r.ContentLength != 0 {
		if err := json.NewDecoder(http.MaxBytesReader(c.w, c.r.Body, 1<<20)).Decode(&body); err != nil {
			c.productError(http.StatusBadRequest, "BAD_REQUEST", "요청 본문이 유효하지 않습니다.", invalidInput{Name: "body", Type: "Json", Message: err.Error()})
			return
		}
	}
	page, size := 1, 50
	if body.Page != nil {
		page = *body.Page
	}
	if body.Size != nil {
		size = *body.Size
	}
	if page < 1 || size < 1 || size > MaxProductPageSize {
		c.productError(http.StatusBadRequest, "BAD_REQUEST", "요청 파라미터가 유효하지 않습니다.", invalidInput{Name: "size", Type: "Range", Message: "page must be 1 or more and size from 1 to 500"})
		return
	}
	want := map[string]bool{}
	for _, st := range body.ProductStatusTypes {
		want[st] = true
	}
	nos := map[int64]bool{}
	for _, n := range body.OriginProductNos {
		nos[n] = true
	}
	var products []*commercev1.Product
	for _, p := range sl.store.Products {
		if (len(want) > 0 && !want[statusType(p)]) || (len(nos) > 0 && !nos[number(p.SourceId)]) {
			continue
		}
		products = append(products, p)
	}
	sort.SliceStable(products, func(i, j int) bool {
		a, b := products[i].CreatedAt.AsTime(), products[j].CreatedAt.AsTime()
		if !a.Equal(b) {
			return a.After(b)
		}
		return number(products[i].SourceId) > number(products[j].SourceId)
	})
	total := len(products)
	contents := []map[string]any{}
	for i := (page - 1) * size; i < total && i < page*size; i++ {
		p := products[i]
		leaf := ""
		if len(p.CategorySourceIds) > 0 {
			leaf = p.CategorySourceIds[0]
		}
		names, ids := sl.categoryPath(leaf)
		var stock int64
		for _, o := range sl.store.Options {
			if o.ProductSourceId == p.SourceId {
				stock += o.GetStockQuantity()
			}
		}
		contents = append(contents, map[string]any{
			"originProductNo": number(p.SourceId),
			"channelProducts": []map[string]any{{
				"originProductNo": number(p.SourceId), "channelProductNo": number(p.Code),
				"channelServiceType": "STOREFARM", "categoryId": leaf, "name": p.Name,
				"sellerManagementCode": p.SellerCode, "statusType": statusType(p),
				"channelProductDisplayStatusType": "ON",
				"salePrice":                       p.Price.MinorUnits, "discountedPrice": p.Price.MinorUnits,
				"stockQuantity": stock, "deliveryFee": 3000,
				"wholeCategoryName": names, "wholeCategoryId": ids,
				"representativeImage": map[string]string{"url": "https://shop-phinf.pstatic.net/sandbox/" + p.SourceId + ".jpg"},
				"regDate":             naverTime(p.CreatedAt.AsTime()), "modifiedDate": naverTime(p.UpdatedAt.AsTime()),
			}},
		})
	}
	pages := (total + size - 1) / size
	c.json(http.StatusOK, map[string]any{
		"contents": contents, "page": page, "size": size, "totalElements": total, "totalPages": pages,
		"sort":  map[string]any{"sorted": true, "fields": []map[string]string{{"name": "regDate", "direction": "DESC"}, {"name": "productNo", "direction": "DESC"}}},
		"first": page == 1, "last": page >= pages,
	})
}

// categories answers GET /v1/categories: a bare array; last=true keeps
// leaves only (smartstore.md §5). The sandbox's tree is the seller's own
// categories rather than Naver's 5,000 leaves.
func (s *Sandbox) categories(c *call, sl *seller) {
	onlyLeaves := c.r.URL.Query().Get("last") == "true"
	parents := map[string]bool{}
	for _, cat := range sl.store.Categories {
		parents[cat.ParentSourceId] = true
	}
	out := []map[string]any{}
	for _, cat := range sl.store.Categories {
		leaf := !parents[cat.SourceId]
		if onlyLeaves && !leaf {
			continue
		}
		names, _ := sl.categoryPath(cat.SourceId)
		out = append(out, map[string]any{"wholeCategoryName": names, "id": cat.SourceId, "name": cat.Name, "last": leaf})
	}
	c.json(http.StatusOK, out)
}

// optionParts splits synth's option text ("색상=베이지, 사이즈=FREE") into
// Naver's option groups and values.
func optionParts(name string) (groups, values []string) {
	for _, part := range strings.Split(name, ", ") {
		g, v, ok := strings.Cut(part, "=")
		if !ok {
			g, v = "", part
		}
		groups, values = append(groups, g), append(values, v)
	}
	return groups, values
}

// originProduct answers GET /v2/products/origin-products/{originProductNo}:
// the product with its option combinations.
func (s *Sandbox) originProduct(c *call, sl *seller) {
	no := strings.TrimPrefix(c.r.URL.Path, BasePath+"/v2/products/origin-products/")
	var p *commercev1.Product
	for _, cand := range sl.store.Products {
		if cand.SourceId == no {
			p = cand
		}
	}
	if p == nil {
		c.productError(http.StatusNotFound, "NOT_FOUND", "상품이 존재하지 않습니다.")
		return
	}
	groupNames := map[string]string{}
	combos := []map[string]any{}
	var stock int64
	for _, o := range sl.store.Options {
		if o.ProductSourceId != p.SourceId {
			continue
		}
		groups, values := optionParts(o.Name)
		combo := map[string]any{"id": number(o.SourceId), "stockQuantity": o.GetStockQuantity(), "price": o.AdditionalPrice.MinorUnits, "usable": o.Selling}
		for i := range groups {
			k := strconv.Itoa(i + 1)
			groupNames["optionGroupName"+k] = groups[i]
			combo["optionName"+k] = values[i]
		}
		stock += o.GetStockQuantity()
		combos = append(combos, combo)
	}
	leaf := ""
	if len(p.CategorySourceIds) > 0 {
		leaf = p.CategorySourceIds[0]
	}
	c.json(http.StatusOK, map[string]any{
		"originProduct": map[string]any{
			"statusType": statusType(p), "saleType": "NEW", "leafCategoryId": leaf, "name": p.Name,
			"salePrice": p.Price.MinorUnits, "stockQuantity": stock,
			"detailAttribute": map[string]any{
				"sellerCodeInfo": map[string]string{"sellerManagementCode": p.SellerCode},
				"optionInfo":     map[string]any{"optionCombinationGroupNames": groupNames, "optionCombinations": combos},
			},
		},
		"smartstoreChannelProduct": map[string]any{"channelProductName": p.Name, "channelProductDisplayStatusType": "ON"},
	})
}
