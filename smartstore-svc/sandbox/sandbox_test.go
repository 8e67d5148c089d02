package sandbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	"hlog.dev/proto/kit/clock"
	"hlog.dev/smartstore-svc/internal/naverapi"
	"hlog.dev/smartstore-svc/sandbox"
)

var (
	kst   = time.FixedZone("KST", 9*60*60)
	start = time.Date(2026, 3, 1, 9, 0, 0, 0, kst)
)

const (
	clientID = "sandboxTestApp"
	secret   = "$2a$04$sandboxtestsecretsalt0"
)

type env struct {
	t    *testing.T
	sb   *sandbox.Sandbox
	real *clock.Fake
	url  string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	real := clock.NewFake(start)
	sb, err := sandbox.New(sandbox.Config{
		Sellers: []sandbox.SellerConfig{{ID: "demo", Seed: 42, OrdersPerDay: 40}, {ID: "second", Seed: 3, OrdersPerDay: 5}},
		Clock:   start, TimeSource: real.Now, HistoryDays: 30, FutureDays: 20,
		ClientID: clientID, ClientSecret: secret,
	})
	if err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(sb)
	t.Cleanup(web.Close)
	return &env{t: t, sb: sb, real: real, url: web.URL + sandbox.BasePath}
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (e *env) do(method, path, token string, body io.Reader, contentType string) answer {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: raw}
	json.Unmarshal(raw, &a.body)
	if resp.Header.Get("GNCP-GW-Trace-ID") == "" {
		e.t.Errorf("%s %s: no GNCP-GW-Trace-ID", method, path)
	}
	return a
}

func (e *env) tokenForm(account string, at time.Time) url.Values {
	e.t.Helper()
	ts := at.UnixMilli()
	sign, err := naverapi.Sign(clientID, secret, ts)
	if err != nil {
		e.t.Fatal(err)
	}
	f := url.Values{"client_id": {clientID}, "timestamp": {strconv.FormatInt(ts, 10)}, "grant_type": {"client_credentials"}, "client_secret_sign": {sign}, "type": {"SELF"}}
	if account != "" {
		f.Set("type", "SELLER")
		f.Set("account_id", account)
	}
	return f
}

func (e *env) token(account string) string {
	e.t.Helper()
	a := e.do("POST", "/v1/oauth2/token", "", strings.NewReader(e.tokenForm(account, e.sb.Now()).Encode()), "application/x-www-form-urlencoded")
	if a.status != 200 {
		e.t.Fatalf("token: %d %s", a.status, a.raw)
	}
	return a.body["access_token"].(string)
}

func (e *env) advance(d time.Duration) {
	e.sb.Advance(d)
	e.real.Advance(d)
}

func TestTokenRules(t *testing.T) {
	e := newEnv(t)
	// A form body and a query string both work (smartstore.md §1).
	form := e.do("POST", "/v1/oauth2/token", "", strings.NewReader(e.tokenForm("demo", e.sb.Now()).Encode()), "application/x-www-form-urlencoded")
	query := e.do("POST", "/v1/oauth2/token?"+e.tokenForm("demo", e.sb.Now()).Encode(), "", nil, "")
	if form.status != 200 || query.status != 200 {
		t.Fatalf("form %d %s, query %d %s", form.status, form.raw, query.status, query.raw)
	}
	if form.body["expires_in"].(float64) != 10800 || form.body["token_type"] != "Bearer" {
		t.Errorf("token answer %s", form.raw)
	}
	// One token per (type, account): the same comes back while 30 minutes are left.
	if query.body["access_token"] != form.body["access_token"] {
		t.Error("a second request with 3 hours left gave a new token")
	}
	if e.token("") == form.body["access_token"] {
		t.Error("SELF and SELLER share a token")
	}
	old := form.body["access_token"].(string)
	e.advance(2*time.Hour + 31*time.Minute)
	renewed := e.token("demo")
	if renewed == old {
		t.Fatal("with 29 minutes left the same token came back")
	}
	path := "/v1/categories"
	if a := e.do("GET", path, old, nil, ""); a.status != 200 {
		t.Errorf("the old token died before its time: %d", a.status)
	}
	e.advance(30 * time.Minute)
	a := e.do("GET", path, old, nil, "")
	if a.status != 401 || a.body["code"] != "GW.AUTHN" || a.body["traceId"] == "" || a.body["timestamp"] == "" {
		t.Errorf("expired token: %d %s", a.status, a.raw)
	}
	if a := e.do("GET", path, "forged", nil, ""); a.status != 401 || a.body["code"] != "GW.AUTHN" {
		t.Errorf("forged token: %d %s", a.status, a.raw)
	}

	bad := func(name string, f url.Values, input string) {
		t.Helper()
		a := e.do("POST", "/v1/oauth2/token", "", strings.NewReader(f.Encode()), "application/x-www-form-urlencoded")
		if a.status != 400 || !strings.Contains(string(a.raw), `"name":"`+input+`"`) || a.body["code"] == "" {
			t.Errorf("%s: %d %s", name, a.status, a.raw)
		}
	}
	bad("6-minute-old timestamp", e.tokenForm("demo", e.sb.Now().Add(-6*time.Minute)), "timestamp")
	f := e.tokenForm("demo", e.sb.Now())
	f.Set("client_secret_sign", f.Get("client_secret_sign")[:40]+"AAAA"+f.Get("client_secret_sign")[44:])
	bad("tampered signature", f, "client_secret_sign")
	bad("unknown account", e.tokenForm("nobody", e.sb.Now()), "account_id")
	f = e.tokenForm("demo", e.sb.Now())
	f.Del("type")
	bad("no type", f, "type")
	if a := e.do("POST", "/v1/oauth2/token", "", strings.NewReader(e.tokenForm("demo", e.sb.Now().Add(-4*time.Minute)).Encode()), "application/x-www-form-urlencoded"); a.status != 200 {
		t.Errorf("4-minute-old timestamp: %d %s", a.status, a.raw)
	}
}

func TestRateLimitIsATokenBucketPerAPI(t *testing.T) {
	e := newEnv(t)
	tok := e.token("demo")
	for i := range 4 {
		a := e.do("GET", "/v1/categories", tok, nil, "")
		if a.status != 200 || a.header.Get("GNCP-GW-RateLimit-Replenish-Rate") != "2" || a.header.Get("GNCP-GW-RateLimit-Burst-Capacity") != "4" ||
			a.header.Get("GNCP-GW-RateLimit-Remaining") != strconv.Itoa(3-i) {
			t.Fatalf("call %d: %d %v", i, a.status, a.header)
		}
	}
	a := e.do("GET", "/v1/categories", tok, nil, "")
	if a.status != 429 || a.body["code"] != "GW.RATE_LIMIT" || a.body["traceId"] == nil {
		t.Fatalf("fifth call at once: %d %s", a.status, a.raw)
	}
	// Another API has its own bucket.
	if a := e.do("POST", "/v1/products/search", tok, strings.NewReader(`{}`), "application/json"); a.status != 200 {
		t.Fatalf("products after categories ran dry: %d", a.status)
	}
	e.real.Advance(500 * time.Millisecond)
	if a := e.do("GET", "/v1/categories", tok, nil, ""); a.status != 200 {
		t.Fatalf("half a second later: %d", a.status)
	}
}

// changes walks last-changed-statuses through data.more and returns the
// product order ids in order, with the number of pages.
func changes(e *env, tok string, from, to time.Time, limit int) ([]string, int) {
	e.t.Helper()
	var ids []string
	q := url.Values{"lastChangedFrom": {naverapi.FormatTime(from)}, "lastChangedTo": {naverapi.FormatTime(to)}, "limitCount": {strconv.Itoa(limit)}}
	for pages := 1; ; pages++ {
		e.real.Advance(time.Second)
		a := e.do("GET", "/v1/pay-order/seller/product-orders/last-changed-statuses?"+q.Encode(), tok, nil, "")
		if a.status != 200 {
			e.t.Fatalf("page %d: %d %s", pages, a.status, a.raw)
		}
		page, err := naverapi.DecodeChangedPage(a.raw)
		if err != nil {
			e.t.Fatal(err)
		}
		if page.Count != len(page.Statuses) || len(page.Statuses) > limit {
			e.t.Fatalf("count %d for %d rows, limit %d", page.Count, len(page.Statuses), limit)
		}
		for _, s := range page.Statuses {
			ids = append(ids, s.ProductOrderID)
		}
		if page.More == nil {
			if strings.Contains(string(a.raw), `"more"`) {
				e.t.Fatal("more present on the last page")
			}
			return ids, pages
		}
		q.Set("lastChangedFrom", naverapi.FormatTime(page.More.MoreFrom.Time))
		q.Set("moreSequence", page.More.MoreSequence)
	}
}

func TestLastChangedStatuses(t *testing.T) {
	e := newEnv(t)
	tok := e.token("demo")
	from := start.Add(-24 * time.Hour)
	all, pages := changes(e, tok, from, start, 300)
	small, smallPages := changes(e, tok, from, start, 7)
	if len(all) < 20 || strings.Join(all, ",") != strings.Join(small, ",") || smallPages <= pages {
		t.Fatalf("paging by 7 gave %d rows in %d pages, one call %d rows in %d", len(small), smallPages, len(all), pages)
	}
	seen := map[string]bool{}
	for _, id := range all {
		if seen[id] {
			t.Fatalf("product order %s twice: one latest change each", id)
		}
		seen[id] = true
	}
	// A later change moves a product order out of its old window.
	e.advance(4 * 24 * time.Hour)
	tok = e.token("demo")
	later, _ := changes(e, tok, from, start, 300)
	if len(later) >= len(all) {
		t.Errorf("%d rows before and %d after 4 days: no product order moved on", len(all), len(later))
	}
	for _, tc := range []struct {
		q    url.Values
		code string
	}{
		{url.Values{"lastChangedFrom": {naverapi.FormatTime(from)}, "lastChangedTo": {naverapi.FormatTime(from.Add(24*time.Hour + time.Second))}}, "104139"},
		{url.Values{"lastChangedFrom": {naverapi.FormatTime(e.sb.Now().Add(-time.Hour))}, "lastChangedTo": {naverapi.FormatTime(e.sb.Now().Add(time.Minute))}}, "4000"},
		{url.Values{"lastChangedFrom": {"yesterday"}}, "4000"},
	} {
		e.real.Advance(time.Second)
		a := e.do("GET", "/v1/pay-order/seller/product-orders/last-changed-statuses?"+tc.q.Encode(), tok, nil, "")
		if a.status != 400 || a.body["code"] != tc.code || a.body["traceId"] == nil {
			t.Errorf("%v: %d %s", tc.q, a.status, a.raw)
		}
	}
	// limitCount over 300 means 300.
	e.real.Advance(time.Second)
	q := url.Values{"lastChangedFrom": {naverapi.FormatTime(from)}, "lastChangedTo": {naverapi.FormatTime(start)}, "limitCount": {"5000"}}
	if a := e.do("GET", "/v1/pay-order/seller/product-orders/last-changed-statuses?"+q.Encode(), tok, nil, ""); a.status != 200 {
		t.Errorf("limitCount 5000: %d %s", a.status, a.raw)
	}
}

func TestSearchQueryAndPartialClaims(t *testing.T) {
	e := newEnv(t)
	tok := e.token("demo")
	store, _ := e.sb.Store("demo")
	// A partial return: requested and completed after the clock.
	var line *commercev1.OrderLine
	for _, l := range store.Lines {
		for _, c := range l.Claims {
			if c.Type == commercev1.ClaimType_CLAIM_TYPE_RETURN && c.Quantity < l.Quantity && c.RequestedAt.AsTime().After(start) && l.OrderedAt.AsTime().Before(start) {
				line = l
			}
		}
	}
	if line == nil {
		t.Fatal("no partial return after the clock in the store")
	}
	claim := line.Claims[0]
	query := func() naverapi.ProductOrder {
		t.Helper()
		e.real.Advance(time.Second)
		a := e.do("POST", "/v1/pay-order/seller/product-orders/query", tok, strings.NewReader(`{"productOrderIds":["`+line.SourceId+`","unknown"],"quantityClaimCompatibility":true}`), "application/json")
		pos, err := naverapi.DecodeProductOrders(a.raw)
		if a.status != 200 || err != nil || len(pos) != 1 {
			t.Fatalf("query: %d %s %v", a.status, a.raw, err)
		}
		return pos[0]
	}
	if po := query(); po.Return != nil || *po.ProductOrder.RemainQuantity != line.Quantity {
		t.Fatalf("a return before it was asked for: %+v", po.Return)
	}
	e.advance(claim.CompletedAt.AsTime().Sub(e.sb.Now()) + time.Minute)
	tok = e.token("demo")
	po := query()
	if po.Return == nil || po.Return.ClaimStatus != "RETURN_DONE" || *po.Return.RequestQuantity != claim.Quantity ||
		*po.ProductOrder.RemainQuantity != line.Quantity-claim.Quantity ||
		*po.ProductOrder.InitialPaymentAmount-*po.ProductOrder.RemainPaymentAmount != claim.RefundAmount.MinorUnits {
		t.Fatalf("completed partial return: %+v %+v", po.Return, po.ProductOrder)
	}

	ids := make([]string, 301)
	for i := range ids {
		ids[i] = strconv.Itoa(i)
	}
	body, _ := json.Marshal(map[string]any{"productOrderIds": ids})
	e.real.Advance(time.Second)
	if a := e.do("POST", "/v1/pay-order/seller/product-orders/query", tok, strings.NewReader(string(body)), "application/json"); a.status != 400 || a.body["code"] != "4000" || !strings.Contains(string(a.raw), "invalidInputs") {
		t.Errorf("301 ids: %d %s", a.status, a.raw)
	}

	// The conditional search pages by 300 at most and defaults to payment date.
	day := url.Values{"from": {naverapi.FormatTime(start.Add(-24 * time.Hour))}, "to": {naverapi.FormatTime(start.Add(-time.Millisecond))}, "pageSize": {"5"}}
	total := 0
	for page := 1; ; page++ {
		day.Set("page", strconv.Itoa(page))
		e.real.Advance(time.Second)
		a := e.do("GET", "/v1/pay-order/seller/product-orders?"+day.Encode(), tok, nil, "")
		p, err := naverapi.DecodeSearchPage(a.raw)
		if a.status != 200 || err != nil {
			t.Fatalf("search page %d: %d %s", page, a.status, a.raw)
		}
		for _, c := range p.Contents {
			if c.Content.Order.PaymentDate.Before(start.Add(-24*time.Hour)) || !c.Content.Order.PaymentDate.Before(start) {
				t.Fatalf("paid %v, outside the day", c.Content.Order.PaymentDate)
			}
		}
		total += len(p.Contents)
		if !p.Pagination.HasNext {
			break
		}
	}
	if total < 20 {
		t.Errorf("%d product orders paid in a day of 40 orders", total)
	}
	day.Set("pageSize", "301")
	e.real.Advance(time.Second)
	if a := e.do("GET", "/v1/pay-order/seller/product-orders?"+day.Encode(), tok, nil, ""); a.status != 400 || a.body["code"] != "4000" {
		t.Errorf("pageSize 301: %d %s", a.status, a.raw)
	}
}

func TestProductsAndCategories(t *testing.T) {
	e := newEnv(t)
	tok := e.token("")
	a := e.do("POST", "/v1/products/search", tok, strings.NewReader(`{"page":1,"size":500}`), "application/json")
	if a.status != 200 || a.body["contents"] == nil || a.body["data"] != nil || a.body["totalElements"].(float64) != 24 {
		t.Fatalf("products: %d %s", a.status, a.raw)
	}
	if a := e.do("POST", "/v1/products/search", tok, strings.NewReader(`{"page":1,"size":501}`), "application/json"); a.status != 400 || a.body["code"] != "BAD_REQUEST" || a.body["invalidInputs"] == nil {
		t.Errorf("size 501: %d %s", a.status, a.raw)
	}
	var all, leaves []map[string]any
	for _, v := range []struct {
		q   string
		out *[]map[string]any
	}{{"", &all}, {"?last=true", &leaves}} {
		a := e.do("GET", "/v1/categories"+v.q, tok, nil, "")
		if a.status != 200 || json.Unmarshal(a.raw, v.out) != nil {
			t.Fatalf("categories%s: %d %s", v.q, a.status, a.raw)
		}
	}
	if len(all) != 14 || len(leaves) != 10 || leaves[0]["wholeCategoryName"] != "상의>티셔츠" {
		t.Errorf("%d categories, %d leaves, first leaf %v", len(all), len(leaves), leaves[0])
	}
}

func TestFaultSwitchesAnswerAsDocumented(t *testing.T) {
	e := newEnv(t)
	tok := e.token("demo")
	for _, tc := range []struct {
		kind   string
		status int
		code   string
	}{
		{sandbox.FaultRateLimit, 429, "GW.RATE_LIMIT"}, {sandbox.FaultQuotaLimit, 429, "GW.QUOTA_LIMIT"},
		{sandbox.FaultProxy, 500, "GW.PROXY.01"}, {sandbox.FaultBlock, 503, "GW.BLOCK.01"}, {sandbox.FaultTimeout, 504, "GW.TIMEOUT.01"},
	} {
		e.real.Advance(time.Second)
		e.sb.AddFault(sandbox.Fault{Kind: tc.kind})
		a := e.do("GET", "/v1/categories", tok, nil, "")
		if a.status != tc.status || a.body["code"] != tc.code || a.body["traceId"] == nil {
			t.Errorf("%s: %d %s", tc.kind, a.status, a.raw)
		}
		if tc.kind == sandbox.FaultQuotaLimit && a.header.Get("GNCP-GW-Quota-Period") != "SECONDS" {
			t.Errorf("quota headers: %v", a.header)
		}
	}
	e.real.Advance(time.Second)
	e.sb.AddFault(sandbox.Fault{Kind: sandbox.FaultRevokeTokens})
	if a := e.do("GET", "/v1/categories", tok, nil, ""); a.status != 401 {
		t.Errorf("revoked token: %d", a.status)
	}
	tok = e.token("demo")
	e.sb.AddFault(sandbox.Fault{Kind: sandbox.FaultIPNotAllowed, After: 1})
	for i, want := range []int{200, 403, 403} {
		e.real.Advance(time.Second)
		if a := e.do("GET", "/v1/categories", tok, nil, ""); a.status != want || (want == 403 && a.body["code"] != "GW.IP_NOT_ALLOWED") {
			t.Errorf("call %d with the IP block after 1: %d %s", i, a.status, a.raw)
		}
	}
	e.sb.ClearFaults()
	e.sb.AddFault(sandbox.Fault{Kind: sandbox.FaultRevokeApp})
	e.real.Advance(time.Second)
	if a := e.do("GET", "/v1/categories", tok, nil, ""); a.status != 401 {
		t.Errorf("revoked app's token: %d", a.status)
	}
	a := e.do("POST", "/v1/oauth2/token", "", strings.NewReader(e.tokenForm("demo", e.sb.Now()).Encode()), "application/x-www-form-urlencoded")
	if a.status != 403 || a.body["code"] != "FORBIDDEN" {
		t.Errorf("token for a revoked app: %d %s", a.status, a.raw)
	}
	if err := e.sb.AddFault(sandbox.Fault{Kind: "meteor"}); err == nil {
		t.Error("unknown fault accepted")
	}
}
