package sandbox

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
)

var start = time.Date(2026, 3, 1, 9, 0, 0, 0, kst)

type testSandbox struct {
	*Sandbox
	srv  *httptest.Server
	real *clock.Fake
	t    *testing.T
}

func newTestSandbox(t *testing.T, malls ...MallConfig) *testSandbox {
	t.Helper()
	if len(malls) == 0 {
		malls = []MallConfig{{ID: "demo", Seed: 42, OrdersPerDay: 20}}
	}
	real := clock.NewFake(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	sb, err := New(Config{Malls: malls, Clock: start, TimeSource: real.Now, HistoryDays: 100, FutureDays: 30, ClientID: "app", ClientSecret: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return &testSandbox{Sandbox: sb, srv: srv, real: real, t: t}
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (s *testSandbox) do(method, path, token string, header map[string]string, body io.Reader) answer {
	s.t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		s.t.Fatalf("%s %s: answer is not a JSON object: %q", method, path, raw)
	}
	return a
}

func (s *testSandbox) get(path, token string) answer {
	return s.do(http.MethodGet, path, token, nil, nil)
}

func (s *testSandbox) token(mall string, scopes []string) string {
	s.t.Helper()
	p, err := s.MintTokens(mall, scopes)
	if err != nil {
		s.t.Fatal(err)
	}
	return p.AccessToken
}

func errorMessage(t *testing.T, a answer, status int) string {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.raw)
	}
	e, ok := a.body["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error envelope: %s", a.raw)
	}
	if code, _ := e["code"].(float64); int(code) != status {
		t.Fatalf("envelope code %v, want %d", e["code"], status)
	}
	msg, _ := e["message"].(string)
	return msg
}

const ordersPath = "/malls/demo/api/v2/admin/orders"

func TestAdminCallsNeedALiveTokenWithScope(t *testing.T) {
	s := newTestSandbox(t, MallConfig{ID: "demo", Seed: 1, OrdersPerDay: 5}, MallConfig{ID: "other", Seed: 2, OrdersPerDay: 5})
	q := "/count?start_date=2026-02-01&end_date=2026-02-28"
	if msg := errorMessage(t, s.get(ordersPath+q, ""), 401); msg != "Invalid access_token" {
		t.Errorf("no token: %q", msg)
	}
	if msg := errorMessage(t, s.get(ordersPath+q, "forged"), 401); msg != "Invalid access_token" {
		t.Errorf("forged token: %q", msg)
	}
	if msg := errorMessage(t, s.get(ordersPath+q, s.token("other", nil)), 401); msg != "Invalid access_token" {
		t.Errorf("another mall's token: %q", msg)
	}
	if msg := errorMessage(t, s.get(ordersPath+q, s.token("demo", []string{"mall.read_product"})), 403); !strings.Contains(msg, "mall.read_order") {
		t.Errorf("missing scope: %q", msg)
	}
	tok := s.token("demo", nil)
	if a := s.get(ordersPath+q, tok); a.status != 200 {
		t.Fatalf("live token: %s", a.raw)
	}
	s.Advance(AccessTokenTTL) // on the sandbox clock, not real time
	if msg := errorMessage(t, s.get(ordersPath+q, tok), 401); msg != "access_token time expired." {
		t.Errorf("expired token: %q", msg)
	}
}

func TestVersionHeader(t *testing.T) {
	s := newTestSandbox(t)
	tok := s.token("demo", nil)
	path := ordersPath + "/count?start_date=2026-02-01&end_date=2026-02-28"
	if a := s.do("GET", path, tok, map[string]string{"X-Cafe24-Api-Version": "2026-03-01"}, nil); a.status != 200 {
		t.Fatalf("known version: %s", a.raw)
	}
	msg := errorMessage(t, s.do("GET", path, tok, map[string]string{"X-Cafe24-Api-Version": "2024-06-01"}, nil), 400)
	if msg != "2024-06-01 version you requested is not available. The default value for the app version is 2025-12-01." {
		t.Errorf("unavailable version: %q", msg)
	}
}

func TestSearchParametersAreChecked(t *testing.T) {
	s := newTestSandbox(t)
	tok := s.token("demo", nil)
	bad := []string{
		"?start_date=2026-01-01&end_date=2026-04-02",                   // over 3 months
		"?start_date=2026-01-01 00:00:00&end_date=2026-04-01 00:00:01", // a second over
		"?start_date=2026-01-01",                                       // no end
		"?end_date=2026-01-01",                                         // no start
		"?start_date=2026-02-01&end_date=2026-01-01",                   // reversed
		"?start_date=2026/01/01&end_date=2026-01-02",                   // bad format
		"?start_date=2026-01-01&end_date=2026-01-31&limit=0",
		"?start_date=2026-01-01&end_date=2026-01-31&limit=1001",
		"?start_date=2026-01-01&end_date=2026-01-31&offset=15001",
		"?start_date=2026-01-01&end_date=2026-01-31&offset=-1",
		"?start_date=2026-01-01&end_date=2026-01-31&date_type=updated_date",
		"?start_date=2026-01-01&end_date=2026-01-31&embed=items,everything",
	}
	for _, q := range bad {
		u := ordersPath + "?" + url.Values(mustQuery(t, q)).Encode()
		errorMessage(t, s.get(u, tok), 422)
	}
	ok := ordersPath + "?" + url.Values(mustQuery(t, "?start_date=2026-01-01&end_date=2026-04-01&limit=1000&offset=15000")).Encode()
	if a := s.get(ok, tok); a.status != 200 {
		t.Fatalf("3 months, limit 1000, offset 15000 are allowed: %s", a.raw)
	}
	refunds := "/malls/demo/api/v2/admin/refunds?" + url.Values(mustQuery(t, "?start_date=2026-01-01&end_date=2026-01-31&limit=501")).Encode()
	errorMessage(t, s.get(refunds, tok), 422)
}

func mustQuery(t *testing.T, q string) url.Values {
	v, err := url.ParseQuery(strings.TrimPrefix(q, "?"))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestLeakyBucket(t *testing.T) {
	s := newTestSandbox(t)
	tok := s.token("demo", nil)
	path := ordersPath + "/count?start_date=2026-02-01&end_date=2026-02-28"
	for i := 1; i <= bucketCapacity; i++ {
		a := s.get(path, tok)
		if a.status != 200 || a.header.Get("X-Api-Call-Limit") != itoa(i)+"/40" {
			t.Fatalf("call %d: %d %q", i, a.status, a.header.Get("X-Api-Call-Limit"))
		}
	}
	a := s.get(path, tok)
	errorMessage(t, a, 429)
	if a.header.Get("X-Api-Call-Limit") != "40/40" {
		t.Errorf("429 header %q", a.header.Get("X-Api-Call-Limit"))
	}
	// The bucket drains 2 calls a second of real time, whatever the sandbox clock says.
	s.Advance(24 * time.Hour)
	errorMessage(t, s.get(path, s.token("demo", nil)), 429)
	s.real.Advance(time.Second)
	for i := 0; i < 2; i++ {
		if a := s.get(path, tok); a.status == 429 {
			t.Fatalf("call %d after draining a second: 429", i)
		}
	}
	if a := s.get(path, tok); a.status != 429 {
		t.Fatalf("third call after a second: %d", a.status)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestTokenEndpointRotatesRefreshTokens(t *testing.T) {
	s := newTestSandbox(t)
	pair, err := s.MintTokens("demo", nil)
	if err != nil {
		t.Fatal(err)
	}
	post := func(user, pass string, form url.Values) answer {
		req, _ := http.NewRequest("POST", s.srv.URL+"/malls/demo/api/v2/oauth/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(user, pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		a := answer{status: resp.StatusCode, raw: string(raw)}
		json.Unmarshal(raw, &a.body)
		return a
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {pair.RefreshToken}}
	if a := post("app", "wrong", refresh); a.status != 401 || a.body["error"] != "invalid_client" {
		t.Fatalf("wrong secret: %d %s", a.status, a.raw)
	}
	s.Advance(time.Hour)
	a := post("app", "secret", refresh)
	if a.status != 200 {
		t.Fatalf("refresh: %d %s", a.status, a.raw)
	}
	for _, field := range []string{"access_token", "expires_at", "refresh_token", "refresh_token_expires_at", "client_id", "mall_id", "user_id", "scopes", "issued_at"} {
		if _, ok := a.body[field]; !ok {
			t.Errorf("token answer lacks %s: %s", field, a.raw)
		}
	}
	// 10:00 KST plus 2 hours, with no offset (cafe24.md §1).
	if a.body["expires_at"] != "2026-03-01T12:00:00.000" || a.body["refresh_token_expires_at"] != "2026-03-15T10:00:00.000" || a.body["issued_at"] != "2026-03-01T10:00:00.000" {
		t.Errorf("token times: %s", a.raw)
	}
	if again := post("app", "secret", refresh); again.status != 400 || again.body["error"] != "invalid_grant" {
		t.Fatalf("old refresh token after rotation: %d %s", again.status, again.raw)
	}
	newRefresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {a.body["refresh_token"].(string)}}
	s.Advance(RefreshTokenTTL)
	if late := post("app", "secret", newRefresh); late.status != 400 || late.body["error"] != "invalid_grant" {
		t.Fatalf("refresh token after 14 days: %d %s", late.status, late.raw)
	}

	code, _ := s.tokens.newCode("demo", "app", "https://hlog.example/cb", AppScopes, s.Now())
	exchange := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://hlog.example/cb"}}
	if a := post("app", "secret", exchange); a.status != 200 {
		t.Fatalf("code exchange: %d %s", a.status, a.raw)
	}
	if a := post("app", "secret", exchange); a.status != 400 {
		t.Fatalf("second use of a code: %d %s", a.status, a.raw)
	}
	code, _ = s.tokens.newCode("demo", "app", "https://hlog.example/cb", AppScopes, s.Now())
	s.Advance(codeTTL)
	exchange.Set("code", code)
	if a := post("app", "secret", exchange); a.status != 400 {
		t.Fatalf("code after a minute: %d %s", a.status, a.raw)
	}
}

func TestHostHeaderSelectsTheMall(t *testing.T) {
	s := newTestSandbox(t)
	tok := s.token("demo", nil)
	path := "/api/v2/admin/orders/count?start_date=2026-02-01&end_date=2026-02-28"
	viaPrefix := s.get("/malls/demo"+path, tok)
	for _, host := range []string{"demo.cafe24api.com", "demo.localhost:7101"} {
		a := s.do("GET", path, tok, map[string]string{"Host": host}, nil)
		if a.status != 200 || a.body["count"] != viaPrefix.body["count"] {
			t.Errorf("host %s: %d %s", host, a.status, a.raw)
		}
	}
	errorMessage(t, s.do("GET", path, tok, map[string]string{"Host": "nosuch.cafe24api.com"}, nil), 404)
	errorMessage(t, s.get(path, tok), 404)
}

func TestOrdersPageInDateOrderWithLinks(t *testing.T) {
	s := newTestSandbox(t)
	tok := s.token("demo", nil)
	truth, _ := s.Truth("demo")
	from, until := time.Date(2026, 2, 1, 0, 0, 0, 0, kst), time.Date(2026, 3, 1, 0, 0, 0, 0, kst)
	want := 0
	for _, o := range truth.Orders {
		if at := o.OrderedAt.AsTime(); !at.Before(from) && at.Before(until) {
			want++
		}
	}
	count := s.get(ordersPath+"/count?start_date=2026-02-01&end_date=2026-02-28", tok)
	if int(count.body["count"].(float64)) != want || want == 0 {
		t.Fatalf("count %v, truth %d", count.body["count"], want)
	}
	var seen int
	var last string
	next := ordersPath + "?start_date=2026-02-01&end_date=2026-02-28&limit=100&embed=items"
	for next != "" {
		a := s.get(next, tok)
		if a.status != 200 {
			t.Fatalf("%s: %s", next, a.raw)
		}
		for _, o := range a.body["orders"].([]any) {
			order := o.(map[string]any)
			date := order["order_date"].(string)
			if !strings.HasSuffix(date, "+09:00") || date < last {
				t.Fatalf("order date %q after %q", date, last)
			}
			last = date
			items := order["items"].([]any)
			if len(items) == 0 {
				t.Fatalf("order %v has no items", order["order_id"])
			}
			if d := items[0].(map[string]any)["ordered_date"].(string); len(d) != len("2017-07-10 15:55:51") || strings.Contains(d, "T") {
				t.Fatalf("item date %q", d)
			}
			seen++
		}
		next = ""
		if links, ok := a.body["links"].([]any); ok {
			href := links[0].(map[string]any)["href"].(string)
			u, err := url.Parse(href)
			if err != nil {
				t.Fatal(err)
			}
			next = u.RequestURI()
		}
	}
	if seen != want {
		t.Fatalf("paged through %d orders, want %d", seen, want)
	}
}

func TestRefundsAreTheCompletedClaimsMoney(t *testing.T) {
	s := newTestSandbox(t)
	tok := s.token("demo", nil)
	truth, _ := s.Truth("demo")
	from, until := time.Date(2026, 1, 1, 0, 0, 0, 0, kst), time.Date(2026, 3, 1, 0, 0, 0, 0, kst)
	var want int64
	for _, l := range truth.Lines {
		for _, c := range l.Claims {
			if c.State == commercev1.ClaimState_CLAIM_STATE_COMPLETED && !c.CompletedAt.AsTime().Before(from) && c.CompletedAt.AsTime().Before(until) {
				want += c.RefundAmount.MinorUnits
			}
		}
	}
	var got int64
	for offset := 0; ; offset += 500 {
		a := s.get("/malls/demo/api/v2/admin/refunds?start_date=2026-01-01&end_date=2026-02-28&limit=500&offset="+itoa(offset), tok)
		refunds := a.body["refunds"].([]any)
		for _, r := range refunds {
			amount := r.(map[string]any)["actual_refund_amount"].(string)
			var won int64
			for _, c := range strings.TrimSuffix(amount, ".00") {
				won = won*10 + int64(c-'0')
			}
			got += won
		}
		if len(refunds) < 500 {
			break
		}
	}
	if got != want || want == 0 {
		t.Fatalf("refunds add to %d, completed claims refunded %d", got, want)
	}
}

func TestControlAPI(t *testing.T) {
	s := newTestSandbox(t)
	a := s.do("POST", "/_sandbox/clock", "", map[string]string{"Content-Type": "application/json"}, strings.NewReader(`{"advance":"36h"}`))
	if a.status != 200 || a.body["now"] != start.Add(36*time.Hour).Format(time.RFC3339Nano) {
		t.Fatalf("advance: %s", a.raw)
	}
	a = s.do("POST", "/_sandbox/clock", "", nil, strings.NewReader(`{"now":"2026-02-01T00:00:00+09:00"}`))
	if a.status != 200 || !s.Now().Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, kst)) {
		t.Fatalf("set: %s", a.raw)
	}
	errorMessage(t, s.do("POST", "/_sandbox/clock", "", nil, strings.NewReader(`{"now":"yesterday"}`)), 400)
	a = s.do("POST", "/_sandbox/malls/demo/tokens", "", nil, nil)
	tok, _ := a.body["access_token"].(string)
	if a.status != 200 || tok == "" {
		t.Fatalf("mint: %s", a.raw)
	}
	if a := s.get(ordersPath+"/count?start_date=2026-01-01&end_date=2026-01-31", tok); a.status != 200 {
		t.Fatalf("minted token: %s", a.raw)
	}
	if a := s.do("POST", "/_sandbox/malls/demo/faults", "", nil, strings.NewReader(`{"status":503,"count":1}`)); a.status != 200 {
		t.Fatalf("faults: %s", a.raw)
	}
	errorMessage(t, s.get(ordersPath+"/count?start_date=2026-01-01&end_date=2026-01-31", tok), 503)
	if a := s.get(ordersPath+"/count?start_date=2026-01-01&end_date=2026-01-31", tok); a.status != 200 {
		t.Fatalf("after the fault: %s", a.raw)
	}
	if a := s.do("PUT", "/_sandbox/malls/demo/rate-limit", "", nil, strings.NewReader(`{"used":40}`)); a.status != 200 {
		t.Fatalf("rate-limit: %s", a.raw)
	}
	errorMessage(t, s.get(ordersPath+"/count?start_date=2026-01-01&end_date=2026-01-31", tok), 429)
	errorMessage(t, s.do("POST", "/_sandbox/malls/nosuch/tokens", "", nil, nil), 404)
}

func TestParseMallSpec(t *testing.T) {
	mc, err := ParseMallSpec("shop2:seed=7:orders_per_day=50:products=40:item_payment_amount=null")
	if err != nil || mc.ID != "shop2" || mc.Seed != 7 || mc.OrdersPerDay != 50 || mc.Products != 40 || !mc.ItemPaymentAmountNull {
		t.Fatalf("%+v, %v", mc, err)
	}
	if mc, err := ParseMallSpec("demo"); err != nil || mc.Seed == 0 {
		t.Fatalf("seed from id: %+v, %v", mc, err)
	}
	for _, bad := range []string{"", "Demo", "demo:seed", "demo:seed=x", "demo:color=red", "demo:orders_per_day=-1", "demo:item_payment_amount=maybe"} {
		if _, err := ParseMallSpec(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}
