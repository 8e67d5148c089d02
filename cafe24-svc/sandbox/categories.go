package sandbox

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"

	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

// categoryJSON is a category (cafe24.md §6). full_category_name and
// full_category_no are keyed "1".."4", null for unused levels; the virtual
// root is category 1, the parent of every top-level category.
type categoryJSON struct {
	ShopNo           int                `json:"shop_no"`
	CategoryNo       int64              `json:"category_no"`
	CategoryDepth    int32              `json:"category_depth"`
	ParentCategoryNo int64              `json:"parent_category_no"`
	CategoryName     string             `json:"category_name"`
	FullCategoryName map[string]*string `json:"full_category_name"`
	FullCategoryNo   map[string]*string `json:"full_category_no"`
	RootCategoryNo   int64              `json:"root_category_no"`
	UseDisplay       string             `json:"use_display"`
	DisplayOrder     int                `json:"display_order"`
}

// listCategories serves GET /api/v2/admin/categories: limit 1..100 (default
// 10), offset up to 8000, filters category_depth and parent_category_no
// (cafe24.md §6), in category_no order.
func (s *Sandbox) listCategories(w http.ResponseWriter, r *http.Request, v *view) {
	q := r.URL.Query()
	limit, err := parseLimit(q, maxCategoriesLimit, defaultLimit)
	if err == nil {
		var offset int
		if offset, err = parseOffset(q, maxCatalogueOffset); err == nil {
			s.renderCategories(w, r, v, q, limit, offset)
			return
		}
	}
	writeError(w, http.StatusUnprocessableEntity, err.Error())
}

func (s *Sandbox) renderCategories(w http.ResponseWriter, r *http.Request, v *view, q url.Values, limit, offset int) {
	depth, parent := int64(0), int64(0)
	for name, dst := range map[string]*int64{"category_depth": &depth, "parent_category_no": &parent} {
		if raw := q.Get(name); raw != "" {
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil || n < 1 || (name == "category_depth" && n > 4) {
				writeError(w, http.StatusUnprocessableEntity, name+" is invalid.")
				return
			}
			*dst = n
		}
	}
	st := v.mall.store
	byID := map[string]*commercev1.Category{}
	for _, c := range st.Categories {
		byID[c.SourceId] = c
	}
	var all []categoryJSON
	for i, c := range st.Categories {
		cj := categoryJSON{
			ShopNo: 1, CategoryDepth: c.Depth, CategoryName: c.Name, UseDisplay: "T", DisplayOrder: i + 1,
			FullCategoryName: map[string]*string{"1": nil, "2": nil, "3": nil, "4": nil},
			FullCategoryNo:   map[string]*string{"1": nil, "2": nil, "3": nil, "4": nil},
		}
		cj.CategoryNo, _ = strconv.ParseInt(c.SourceId, 10, 64)
		cj.ParentCategoryNo = 1
		if c.ParentSourceId != "" {
			cj.ParentCategoryNo, _ = strconv.ParseInt(c.ParentSourceId, 10, 64)
		}
		// The path from the root down to c.
		var path []*commercev1.Category
		for at := c; at != nil; at = byID[at.ParentSourceId] {
			path = append([]*commercev1.Category{at}, path...)
			if at.ParentSourceId == "" {
				break
			}
		}
		for lvl, p := range path {
			name, no := p.Name, p.SourceId
			cj.FullCategoryName[strconv.Itoa(lvl+1)] = &name
			cj.FullCategoryNo[strconv.Itoa(lvl+1)] = &no
		}
		cj.RootCategoryNo, _ = strconv.ParseInt(path[0].SourceId, 10, 64)
		if (depth != 0 && int64(c.Depth) != depth) || (parent != 0 && cj.ParentCategoryNo != parent) {
			continue
		}
		all = append(all, cj)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].CategoryNo < all[j].CategoryNo })
	body := struct {
		Categories []categoryJSON `json:"categories"`
		Links      []link         `json:"links,omitempty"`
	}{Categories: []categoryJSON{}}
	if offset < len(all) {
		body.Categories = all[offset:min(offset+limit, len(all))]
	}
	if offset+limit < len(all) {
		body.Links = []link{{Rel: "next", Href: nextLink(r.URL, r.Host, r.TLS != nil, q, offset+limit)}}
	}
	writeJSON(w, http.StatusOK, body)
}
