package sandbox

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func TestAuthorizeConsentRedirectsWithASingleUseCode(t *testing.T) {
	s := newTestSandbox(t)
	if err := s.RegisterApp("hlog", "hlog-secret", []string{"https://hlog.example/cafe24/callback"}); err != nil {
		t.Fatal(err)
	}
	authorize := "/malls/demo/api/v2/oauth/authorize?" + url.Values{
		"response_type": {"code"}, "client_id": {"hlog"}, "state": {"xyz 1"},
		"redirect_uri": {"https://hlog.example/cafe24/callback"}, "scope": {"mall.read_order,mall.read_product"},
	}.Encode()
	resp, err := http.Get(s.srv.URL + authorize)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `id="approve"`) || !strings.Contains(string(page), "mall.read_product") || !strings.Contains(string(page), ">demo<") {
		t.Fatalf("consent page: %d %s", resp.StatusCode, page)
	}
	// The form posts its hidden fields back to the same URL.
	form := url.Values{"decision": {"approve"}}
	for _, m := range regexp.MustCompile(`name="([a-z_]+)" value="([^"]*)"`).FindAllStringSubmatch(string(page), -1) {
		if m[1] != "decision" {
			form.Set(m[1], html.UnescapeString(m[2]))
		}
	}
	approve := func(decision string) *url.URL {
		t.Helper()
		form.Set("decision", decision)
		resp, err := noRedirects.PostForm(s.srv.URL+authorize, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("%s: status %d", decision, resp.StatusCode)
		}
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if loc.Host != "hlog.example" || loc.Path != "/cafe24/callback" || loc.Query().Get("state") != "xyz 1" {
			t.Fatalf("%s: redirected to %s", decision, loc)
		}
		return loc
	}
	if loc := approve("deny"); loc.Query().Get("error") != "access_denied" || loc.Query().Has("code") {
		t.Errorf("deny: %s", loc)
	}
	code := approve("approve").Query().Get("code")
	if code == "" {
		t.Fatal("no code")
	}
	exchange := func(code string) answer {
		t.Helper()
		body := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://hlog.example/cafe24/callback"}}
		req, _ := http.NewRequest("POST", s.srv.URL+"/malls/demo/api/v2/oauth/token", strings.NewReader(body.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("hlog", "hlog-secret")
		return s.send(req)
	}
	a := exchange(code)
	if a.status != 200 || a.body["client_id"] != "hlog" || a.body["mall_id"] != "demo" {
		t.Fatalf("exchange: %s", a.raw)
	}
	scopes, _ := a.body["scopes"].([]any)
	if len(scopes) != 2 {
		t.Errorf("scopes %v, want the two asked for", scopes)
	}
	// The token carries only the scopes granted: categories need another.
	tok := a.body["access_token"].(string)
	if msg := errorMessage(t, s.get("/malls/demo/api/v2/admin/categories", tok), 403); !strings.Contains(msg, "mall.read_category") {
		t.Errorf("missing scope: %q", msg)
	}
	if a := exchange(code); a.status != 400 || a.body["error"] != "invalid_grant" {
		t.Errorf("second use of the code: %s", a.raw)
	}
	later := approve("approve").Query().Get("code")
	s.Advance(time.Minute)
	if a := exchange(later); a.status != 400 {
		t.Errorf("code after a minute: %s", a.raw)
	}

	// Problems that make the redirect untrustworthy are shown, not redirected.
	for _, bad := range []url.Values{
		{"client_id": {"nosuch"}, "redirect_uri": {"https://hlog.example/cafe24/callback"}},
		{"client_id": {"hlog"}, "redirect_uri": {"https://evil.example/cb"}},
	} {
		bad.Set("response_type", "code")
		bad.Set("scope", "mall.read_order")
		resp, err := noRedirects.Get(s.srv.URL + "/malls/demo/api/v2/oauth/authorize?" + bad.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%v: status %d, want 400", bad, resp.StatusCode)
		}
	}
	// Others go back to the app.
	resp, err = noRedirects.Get(s.srv.URL + "/malls/demo/api/v2/oauth/authorize?" + url.Values{
		"response_type": {"code"}, "client_id": {"hlog"}, "redirect_uri": {"https://hlog.example/cafe24/callback"}, "scope": {"mall.read_everything"},
	}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode != 302 || loc.Query().Get("error") != "invalid_scope" {
		t.Errorf("unknown scope: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestAppWithoutRedirectURIsAcceptsLoopbackOnly(t *testing.T) {
	s := newTestSandbox(t) // the default app "app" has no redirect URIs
	for uri, want := range map[string]int{
		"http://127.0.0.1:8080/v1/cafe24/callback": 200,
		"http://localhost:8080/cb":                 200,
		"https://hlog.example/cb":                  400,
		"ftp://127.0.0.1/cb":                       400,
	} {
		resp, err := noRedirects.Get(s.srv.URL + "/malls/demo/api/v2/oauth/authorize?" + url.Values{
			"response_type": {"code"}, "client_id": {"app"}, "redirect_uri": {uri}, "scope": {"mall.read_order"},
		}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", uri, resp.StatusCode, want)
		}
	}
	a := s.do("PUT", "/_sandbox/apps/other", "", nil, strings.NewReader(`{"client_secret":"s2","redirect_uris":["https://x.example/cb"]}`))
	if a.status != 200 {
		t.Fatalf("registering an app: %s", a.raw)
	}
	errorMessage(t, s.do("PUT", "/_sandbox/apps/other", "", nil, strings.NewReader(`{"client_secret":""}`)), 400)
}

func TestEveryEndpointNeedsItsScope(t *testing.T) {
	s := newTestSandbox(t)
	paths := map[string]string{
		"/malls/demo/api/v2/admin/orders?start_date=2026-02-01&end_date=2026-02-02":  "mall.read_order",
		"/malls/demo/api/v2/admin/refunds?start_date=2026-02-01&end_date=2026-02-02": "mall.read_order",
		"/malls/demo/api/v2/admin/products":                                          "mall.read_product",
		"/malls/demo/api/v2/admin/products/count":                                    "mall.read_product",
		"/malls/demo/api/v2/admin/categories":                                        "mall.read_category",
		"/malls/demo/api/v2/admin/coupons":                                           "mall.read_promotion",
	}
	for path, scope := range paths {
		var others []string
		for _, sc := range AppScopes {
			if sc != scope {
				others = append(others, sc)
			}
		}
		if msg := errorMessage(t, s.get(path, s.token("demo", others)), 403); !strings.Contains(msg, scope) {
			t.Errorf("%s without %s: %q", path, scope, msg)
		}
		if a := s.get(path, s.token("demo", []string{scope})); a.status != 200 {
			t.Errorf("%s with %s: %s", path, scope, a.raw)
		}
	}
}

func TestCatalogueEndpoints(t *testing.T) {
	s := newTestSandbox(t, MallConfig{ID: "demo", Seed: 42, OrdersPerDay: 5, Products: 130})
	tok := s.token("demo", nil)
	// Default order is newest first; since_product_no pages ascending.
	a := s.get("/malls/demo/api/v2/admin/products?limit=100", tok)
	products := a.body["products"].([]any)
	if len(products) != 100 || products[0].(map[string]any)["product_no"].(float64) != 130 {
		t.Fatalf("first page: %d products, first %v", len(products), products[0])
	}
	a = s.get("/malls/demo/api/v2/admin/products?since_product_no=120&limit=100&embed=variants", tok)
	products = a.body["products"].([]any)
	if len(products) != 10 || products[0].(map[string]any)["product_no"].(float64) != 121 {
		t.Fatalf("since 120: %s", a.raw[:200])
	}
	p := products[0].(map[string]any)
	variants, _ := p["variants"].([]any)
	if len(variants) == 0 || len(variants[0].(map[string]any)["variant_code"].(string)) != 12 || !regexp.MustCompile(`^\d+\.00$`).MatchString(p["price"].(string)) {
		t.Errorf("product %v", p)
	}
	for _, bad := range []string{"limit=101", "offset=5001", "since_product_no=3&offset=10", "since_product_no=-1", "embed=everything", "display=X"} {
		errorMessage(t, s.get("/malls/demo/api/v2/admin/products?"+bad, tok), 422)
	}
	a = s.get("/malls/demo/api/v2/admin/categories?limit=100", tok)
	cats := a.body["categories"].([]any)
	if len(cats) != 14 {
		t.Fatalf("%d categories", len(cats))
	}
	leaf := cats[1].(map[string]any)
	full := leaf["full_category_name"].(map[string]any)
	if leaf["category_depth"].(float64) != 2 || full["1"] != "상의" || full["2"] != "티셔츠" || full["3"] != nil || cats[0].(map[string]any)["parent_category_no"].(float64) != 1 {
		t.Errorf("categories %v %v", cats[0], leaf)
	}
	if a := s.get("/malls/demo/api/v2/admin/categories?category_depth=1&limit=100", tok); len(a.body["categories"].([]any)) != 4 {
		t.Errorf("depth 1: %s", a.raw)
	}
	errorMessage(t, s.get("/malls/demo/api/v2/admin/categories?limit=101", tok), 422)
	// deleted defaults to F (cafe24.md §7).
	if a := s.get("/malls/demo/api/v2/admin/coupons", tok); len(a.body["coupons"].([]any)) != 3 {
		t.Errorf("coupons by default: %s", a.raw)
	}
	a = s.get("/malls/demo/api/v2/admin/coupons?deleted=T,F", tok)
	coupons := a.body["coupons"].([]any)
	if len(coupons) != 4 || coupons[0].(map[string]any)["benefit_percentage"] != "10.00" || len(coupons[0].(map[string]any)["coupon_no"].(string)) != 19 {
		t.Errorf("all coupons: %s", a.raw)
	}
	errorMessage(t, s.get("/malls/demo/api/v2/admin/coupons?limit=501", tok), 422)
}

func TestUsageQuotaHeaders(t *testing.T) {
	s := newTestSandbox(t)
	tok := s.token("demo", nil)
	path := ordersPath + "/count?start_date=2026-02-01&end_date=2026-02-28"
	a := s.get(path, tok)
	if a.header.Get("X-Cafe24-Call-Usage") != "0" || a.header.Get("X-Cafe24-Time-Usage") != "0" || a.header.Get("X-Cafe24-Call-Remain") != "" {
		t.Fatalf("usage headers: %v", a.header)
	}
	if err := s.InjectFault("demo", Fault{Action: "exhaust_quota", QuotaSeconds: 20}); err != nil {
		t.Fatal(err)
	}
	a = s.get(path, tok)
	errorMessage(t, a, 429)
	if a.header.Get("X-Cafe24-Call-Usage") != "100" || a.header.Get("X-Cafe24-Call-Remain") != "21" {
		t.Fatalf("blocked: %v", a.header)
	}
	// Calling while blocked lengthens the block.
	s.real.Advance(20 * time.Second)
	errorMessage(t, s.get(path, tok), 429)
	s.real.Advance(3 * time.Second)
	if a := s.get(path, tok); a.status != 200 {
		t.Fatalf("after the block: %s", a.raw)
	}
}

func TestFaultActions(t *testing.T) {
	s := newTestSandbox(t)
	pair, _ := s.MintTokens("demo", nil)
	path := ordersPath + "/count?start_date=2026-02-01&end_date=2026-02-28"
	for _, f := range []Fault{
		{After: 1, Action: "expire_access_tokens"},
		{Action: "retire_version"},
	} {
		if err := s.InjectFault("demo", f); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.InjectFault("demo", Fault{Action: "nonsense"}); err == nil {
		t.Error("unknown action accepted")
	}
	if a := s.get(path, pair.AccessToken); a.status != 200 {
		t.Fatalf("first call: %s", a.raw)
	}
	if msg := errorMessage(t, s.get(path, pair.AccessToken), 401); msg != "access_token time expired." {
		t.Errorf("expired mid-run: %q", msg)
	}
	v := map[string]string{"X-Cafe24-Api-Version": "2025-12-01"}
	msg := errorMessage(t, s.do("GET", path, s.token("demo", nil), v, nil), 400)
	if msg != "2025-12-01 version you requested is not available. The default value for the app version is 2026-03-01." {
		t.Errorf("retired version: %q", msg)
	}
	if a := s.do("PUT", "/_sandbox/versions", "", nil, strings.NewReader(`{"available":["2025-12-01","2026-03-01"]}`)); a.status != 200 {
		t.Fatalf("versions: %s", a.raw)
	}
	if a := s.do("GET", path, s.token("demo", nil), v, nil); a.status != 200 {
		t.Errorf("version served again: %s", a.raw)
	}
	if a := s.do("POST", "/_sandbox/malls/demo/faults", "", nil, strings.NewReader(`{"action":"revoke_refresh_tokens"}`)); a.status != 200 {
		t.Fatalf("fault: %s", a.raw)
	}
	s.get(path, s.token("demo", nil))
	if ok, _ := s.tokens.redeemRefresh(pair.RefreshToken, "demo", "app", s.Now()); ok != nil {
		t.Error("refresh token alive after revoke_refresh_tokens")
	}
	errorMessage(t, s.do("POST", "/_sandbox/malls/demo/faults", "", nil, strings.NewReader(`{"status":503,"delay":"1s"}`)), 400)
}

// send runs a prepared request.
func (s *testSandbox) send(req *http.Request) answer {
	s.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		s.t.Fatalf("answer is not JSON: %q", raw)
	}
	return a
}

func TestSingleOrder(t *testing.T) {
	s := newTestSandbox(t)
	tok := s.token("demo", nil)
	truth, _ := s.Truth("demo")
	id := truth.Orders[len(truth.Orders)/2].SourceId
	a := s.get("/malls/demo/api/v2/admin/orders/"+id+"?embed=items", tok)
	o, _ := a.body["order"].(map[string]any)
	if a.status != 200 || o["order_id"] != id || len(o["items"].([]any)) == 0 {
		t.Fatalf("order %s: %s", id, a.raw)
	}
	errorMessage(t, s.get("/malls/demo/api/v2/admin/orders/20990101-0000001", tok), 404)
	errorMessage(t, s.get("/malls/demo/api/v2/admin/orders/"+id, s.token("demo", []string{"mall.read_product"})), 403)
}
