package sandbox_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"hlog.dev/ably-svc/sandbox"
)

var clockStart = time.Date(2026, 3, 1, 9, 0, 0, 0, time.FixedZone("KST", 9*3600))

func newSandbox(t *testing.T) (*sandbox.Sandbox, string) {
	t.Helper()
	sb, err := sandbox.New(sandbox.Config{
		Sellers: []sandbox.SellerConfig{{Email: "a@example.com", Password: "pw", Seed: 3, OrdersPerDay: 20}},
		Clock:   clockStart, HistoryDays: 30, FutureDays: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(func() { sb.Close(); srv.Close() })
	return sb, srv.URL
}

func call(t *testing.T, method, url, token string, body any) (int, []byte, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	if token != "" {
		req.Header.Set("Authorization", "JWT "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func login(t *testing.T, url, pw string) (int, map[string]any) {
	t.Helper()
	code, b, _ := call(t, "POST", url+"/seller/login/", "", map[string]string{"email": "a@example.com", "password": pw})
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("login answer %s: %v", b, err)
	}
	return code, m
}

func TestSignInSessionAndLockout(t *testing.T) {
	sb, url := newSandbox(t)
	if code, _, _ := call(t, "GET", url+"/seller/order_items/?start_date=2026-02-01&end_date=2026-02-02", "", nil); code != 401 {
		t.Fatalf("no session: %d, want 401", code)
	}
	code, m := login(t, url, "pw")
	if code != 200 || m["token"] == "" {
		t.Fatalf("sign-in: %d %v", code, m)
	}
	tok := m["token"].(string)
	if code, _, _ := call(t, "GET", url+"/seller/me/", tok, nil); code != 200 {
		t.Fatalf("me: %d", code)
	}
	sb.Advance(sandbox.SessionTTL)
	if code, _, _ := call(t, "GET", url+"/seller/me/", tok, nil); code != 401 {
		t.Fatalf("expired session: %d, want 401", code)
	}
	for i := 1; i <= sandbox.LockoutAfter; i++ {
		code, m := login(t, url, "nope")
		want := 400
		if i == sandbox.LockoutAfter {
			want = 403
		}
		if code != want {
			t.Fatalf("wrong password %d: %d %v, want %d", i, code, m, want)
		}
	}
	if code, m := login(t, url, "pw"); code != 403 || m["code"] != "account_locked" {
		t.Fatalf("locked account with the right password: %d %v", code, m)
	}
	st, _ := sb.SellerState("a@example.com")
	if !st.Locked || st.LoginAttempts != 7 {
		t.Fatalf("state %+v", st)
	}
}

func TestOrderItemsPagingMatchesTheStore(t *testing.T) {
	sb, url := newSandbox(t)
	_, m := login(t, url, "pw")
	tok := m["token"].(string)
	truth, _ := sb.Truth("a@example.com")
	seen := map[string]bool{}
	total := -1
	for page := 1; ; page++ {
		code, b, _ := call(t, "GET", url+"/seller/order_items/?start_date=2026-01-01&end_date=2026-03-01&per_page=37&page="+itoa(page), tok, nil)
		if code != 200 {
			t.Fatalf("page %d: %d %s", page, code, b)
		}
		var p struct {
			Items []struct {
				Sno       json.Number `json:"sno"`
				BuyerName string      `json:"buyer_name"`
			} `json:"order_items"`
			Total int `json:"total_count"`
			Max   int `json:"max_page_number"`
		}
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		total = p.Total
		for _, it := range p.Items {
			if seen[it.Sno.String()] {
				t.Fatalf("item %s on two pages", it.Sno)
			}
			seen[it.Sno.String()] = true
		}
		if page >= p.Max {
			break
		}
	}
	if total != len(truth.Lines) || len(seen) != len(truth.Lines) {
		t.Fatalf("%d items paged, total_count %d, store has %d lines", len(seen), total, len(truth.Lines))
	}
	for _, l := range truth.Lines {
		if !seen[l.SourceId] {
			t.Fatalf("line %s not served", l.SourceId)
		}
	}
	if code, _, _ := call(t, "GET", url+"/seller/order_items/?start_date=2026-01-01&end_date=2026-03-01&per_page=501", tok, nil); code != 400 {
		t.Fatalf("per_page 501: %d, want 400", code)
	}
}

func TestExcelHeaderIsNotOnRowOne(t *testing.T) {
	_, url := newSandbox(t)
	_, m := login(t, url, "pw")
	code, b, h := call(t, "GET", url+"/seller/order_items/excel/?start_date=2026-02-10&end_date=2026-02-12", m["token"].(string), nil)
	if code != 200 || !strings.Contains(h.Get("Content-Type"), "spreadsheet") {
		t.Fatalf("excel: %d %s", code, h.Get("Content-Type"))
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows(f.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 5 || rows[0][0] == "상품주문번호" || rows[3][0] != "상품주문번호" {
		t.Fatalf("header not on row 4: %v", rows[:min(5, len(rows))])
	}
	for _, h := range rows[3] {
		if strings.Contains(h, "상태") {
			t.Fatalf("the Excel has a status column %q; Ably's has none", h)
		}
	}
}

func TestFaultsAndControlAPI(t *testing.T) {
	sb, url := newSandbox(t)
	_, m := login(t, url, "pw")
	tok := m["token"].(string)
	if code, b, _ := call(t, "POST", url+"/_sandbox/sellers/a@example.com/faults", "", map[string]any{"kind": "server_error", "count": 1, "after": 1}); code != 200 {
		t.Fatalf("add fault: %d %s", code, b)
	}
	if code, b, _ := call(t, "POST", url+"/_sandbox/sellers/a@example.com/faults", "", map[string]any{"kind": "nope", "count": 1}); code != 400 || !strings.Contains(string(b), "detail") {
		t.Fatalf("unknown fault: %d %s", code, b)
	}
	codes := []int{}
	for range 3 {
		code, _, _ := call(t, "GET", url+"/seller/me/", tok, nil)
		codes = append(codes, code)
	}
	if codes[0] != 200 || codes[1] != 500 || codes[2] != 200 {
		t.Fatalf("codes %v, want 200 500 200", codes)
	}
	if err := sb.AddFault("a@example.com", sandbox.Fault{Kind: sandbox.FaultLayout, Count: 1}); err != nil {
		t.Fatal(err)
	}
	_, b, _ := call(t, "GET", url+"/seller/order_items/?start_date=2026-02-01&end_date=2026-02-01", tok, nil)
	if strings.Contains(string(b), `"order_items"`) || !strings.Contains(string(b), `"results"`) {
		t.Fatalf("changed layout not served: %.200s", b)
	}
	code, b, _ := call(t, "POST", url+"/_sandbox/clock", "", map[string]string{"advance": "36h"})
	if code != 200 || !sb.Now().Equal(clockStart.Add(36*time.Hour)) {
		t.Fatalf("advance: %d %s now %s", code, b, sb.Now())
	}
	if code, _, _ := call(t, "POST", url+"/_sandbox/sellers/a@example.com/sessions:expire", "", nil); code != 200 {
		t.Fatal("expire sessions")
	}
	if code, _, _ := call(t, "GET", url+"/seller/me/", tok, nil); code != 401 {
		t.Fatalf("after expiry: %d", code)
	}
}

func TestParseSellerSpec(t *testing.T) {
	sc, err := sandbox.ParseSellerSpec("Demo@Example.com:password:seed=42:orders_per_day=30:notice=true")
	if err != nil || sc.Email != "demo@example.com" || sc.Password != "password" || sc.Seed != 42 || sc.OrdersPerDay != 30 || !sc.Notice {
		t.Fatalf("%+v %v", sc, err)
	}
	for _, bad := range []string{"nopassword", "x@y:pw:seed=a", "x@y:pw:color=red", "notanemail:pw"} {
		if _, err := sandbox.ParseSellerSpec(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
