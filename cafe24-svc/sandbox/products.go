package sandbox

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

// Paging limits of the catalogue endpoints (cafe24.md §5, §6, §7).
const (
	maxProductsLimit   = 100
	maxProductsOffset  = 5000
	maxCategoriesLimit = 100
	maxCatalogueOffset = 8000
	maxCouponsLimit    = 500
	defaultCouponLimit = 100
	// The embed returns at most 100 variants per product (cafe24.md §5).
	maxEmbeddedVariants = 100
)

// productJSON is a product (cafe24.md §5). category is documented in the
// detail example only (M); the sandbox puts it on list items too, so that a
// catalogue is read with list calls alone.
type productJSON struct {
	ShopNo            int            `json:"shop_no"`
	ProductNo         int64          `json:"product_no"`
	ProductCode       string         `json:"product_code"`
	CustomProductCode string         `json:"custom_product_code"`
	ProductName       string         `json:"product_name"`
	Price             string         `json:"price"`
	RetailPrice       string         `json:"retail_price"`
	SupplyPrice       string         `json:"supply_price"`
	Display           string         `json:"display"`
	Selling           string         `json:"selling"`
	SoldOut           string         `json:"sold_out"`
	HasOption         string         `json:"has_option"`
	CreatedDate       string         `json:"created_date"`
	UpdatedDate       string         `json:"updated_date"`
	Category          []categoryLink `json:"category"`
	Variants          *[]variantJSON `json:"variants,omitempty"`
}

type categoryLink struct {
	CategoryNo int64  `json:"category_no"`
	Recommend  string `json:"recommend"`
	New        string `json:"new"`
}

// variantJSON is one variant (cafe24.md §5). A variant of a product without
// named options (synth's "FREE") has one option with an empty name.
type variantJSON struct {
	ShopNo           int          `json:"shop_no"`
	VariantCode      string       `json:"variant_code"`
	Options          []optionJSON `json:"options"`
	Display          string       `json:"display"`
	Selling          string       `json:"selling"`
	AdditionalAmount string       `json:"additional_amount"`
	Quantity         *int64       `json:"quantity"`
}

type optionJSON struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func tf(b bool) string {
	if b {
		return "T"
	}
	return "F"
}

// listProducts serves GET /api/v2/admin/products: limit 1..100 (default 10),
// offset up to 5000, or since_product_no, which cannot be combined with
// offset, sort, order or product_no (cafe24.md §5). Without since_product_no
// products come newest first (product_no descending, as the doc example
// shows); with it, ascending from the product after since_product_no.
func (s *Sandbox) listProducts(w http.ResponseWriter, r *http.Request, v *view) {
	q := r.URL.Query()
	limit, err := parseLimit(q, maxProductsLimit, defaultLimit)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	offset, err := parseOffset(q, maxProductsOffset)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	var since int64 = -1
	if raw := q.Get("since_product_no"); raw != "" {
		for _, conflict := range []string{"offset", "sort", "order", "product_no"} {
			if q.Has(conflict) {
				writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("since_product_no cannot be used with %s.", conflict))
				return
			}
		}
		if since, err = strconv.ParseInt(raw, 10, 64); err != nil || since < 0 {
			writeError(w, http.StatusUnprocessableEntity, "since_product_no must be a non-negative integer.")
			return
		}
	}
	variants := false
	if e := q.Get("embed"); e != "" {
		for _, part := range strings.Split(e, ",") {
			switch strings.TrimSpace(part) {
			case "variants":
				variants = true
			case "options", "discountprice", "benefits", "memos", "hits", "seo", "tags", "additionalimages":
			default:
				writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("embed %q is invalid.", part))
				return
			}
		}
	}
	numbers, err := parseList(q, "product_no")
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	flags := map[string]string{}
	for _, name := range []string{"display", "selling"} {
		if val := q.Get(name); val != "" {
			if val != "T" && val != "F" {
				writeError(w, http.StatusUnprocessableEntity, name+" must be T or F.")
				return
			}
			flags[name] = val
		}
	}
	st := v.mall.store
	type numbered struct {
		no int64
		p  *commercev1.Product
	}
	var matched []numbered
	for _, p := range st.Products {
		no, err := strconv.ParseInt(p.SourceId, 10, 64)
		if err != nil {
			writeError(w, http.StatusInternalServerError, "product "+p.SourceId+" has no product_no")
			return
		}
		if since >= 0 && no <= since {
			continue
		}
		if numbers != nil && !numbers[p.SourceId] {
			continue
		}
		if f, ok := flags["display"]; ok && f != tf(p.Displayed) {
			continue
		}
		if f, ok := flags["selling"]; ok && f != tf(p.Selling) {
			continue
		}
		matched = append(matched, numbered{no, p})
	}
	sort.Slice(matched, func(i, j int) bool {
		if since >= 0 {
			return matched[i].no < matched[j].no
		}
		return matched[i].no > matched[j].no
	})
	body := struct {
		Products []productJSON `json:"products"`
		Links    []link        `json:"links,omitempty"`
	}{Products: []productJSON{}}
	if offset < len(matched) {
		for _, m := range matched[offset:min(offset+limit, len(matched))] {
			body.Products = append(body.Products, v.renderProduct(m.no, m.p, variants))
		}
	}
	if since < 0 && offset+limit < len(matched) {
		body.Links = []link{{Rel: "next", Href: nextLink(r.URL, r.Host, r.TLS != nil, q, offset+limit)}}
	}
	writeJSON(w, http.StatusOK, body)
}

func (v *view) renderProduct(no int64, p *commercev1.Product, withVariants bool) productJSON {
	st := v.mall.store
	out := productJSON{
		ShopNo:            1,
		ProductNo:         no,
		ProductCode:       p.Code,
		CustomProductCode: p.SellerCode,
		ProductName:       p.Name,
		Price:             money(p.Price.GetMinorUnits()),
		RetailPrice:       money(p.Price.GetMinorUnits()),
		SupplyPrice:       money(0),
		Display:           tf(p.Displayed),
		Selling:           tf(p.Selling),
		SoldOut:           "F",
		CreatedDate:       orderDate(p.CreatedAt.AsTime()),
		UpdatedDate:       orderDate(p.UpdatedAt.AsTime()),
		Category:          []categoryLink{},
	}
	for _, c := range p.CategorySourceIds {
		n, _ := strconv.ParseInt(c, 10, 64)
		out.Category = append(out.Category, categoryLink{CategoryNo: n, Recommend: "F", New: "F"})
	}
	variants := []variantJSON{}
	named := false
	for _, o := range st.Options {
		if o.ProductSourceId != p.SourceId || len(variants) == maxEmbeddedVariants {
			continue
		}
		var opts []optionJSON
		for _, part := range strings.Split(o.Name, ", ") {
			name, value, ok := strings.Cut(part, "=")
			if !ok {
				name, value = "", part
			} else {
				named = true
			}
			opts = append(opts, optionJSON{Name: name, Value: value})
		}
		var qty *int64
		if o.StockQuantity != nil {
			n := *o.StockQuantity
			qty = &n
		}
		variants = append(variants, variantJSON{
			ShopNo: 1, VariantCode: o.SourceId, Options: opts, Display: tf(p.Displayed), Selling: tf(o.Selling),
			AdditionalAmount: money(o.AdditionalPrice.GetMinorUnits()), Quantity: qty,
		})
	}
	out.HasOption = tf(named)
	if withVariants {
		out.Variants = &variants
	}
	return out
}

func (s *Sandbox) countProducts(w http.ResponseWriter, _ *http.Request, v *view) {
	writeJSON(w, http.StatusOK, map[string]int{"count": len(v.mall.store.Products)})
}
