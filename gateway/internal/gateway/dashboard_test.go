package gateway

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	protobuf "google.golang.org/protobuf/proto"

	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	ingestv1 "hlog.dev/proto/gen/hlog/ingest/v1"
	salesv1 "hlog.dev/proto/gen/hlog/sales/v1"
	"hlog.dev/proto/kit/browsertest"
)

// These tests drive the real dashboard (web/dist, embedded) in Debian's
// Chromium through the real gateway, against the canned gRPC backend, and
// compare what Chart.js drew with what the API served.

// pageTimeout bounds every wait on the page; waits end as soon as their
// condition holds.
const pageTimeout = 30 * time.Second

func startBrowser(t *testing.T) *rod.Browser {
	t.Helper()
	return browsertest.Start(t)
}

// openDashboard opens url and records Content-Security-Policy violations
// from the first byte on, so a test can prove the page loads nothing the
// policy blocks.
func openDashboard(t *testing.T, browser *rod.Browser, url string, width, height int) *rod.Page {
	t.Helper()
	page, err := browser.Page(proto.TargetCreateTarget{})
	if err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	if err := page.SetViewport(&proto.EmulationSetDeviceMetricsOverride{Width: width, Height: height, DeviceScaleFactor: 1, Mobile: width < 600}); err != nil {
		t.Fatalf("setting viewport: %v", err)
	}
	if _, err := page.EvalOnNewDocument(`window.__cspViolations = [];
		document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));`); err != nil {
		t.Fatalf("installing the CSP recorder: %v", err)
	}
	// Signed in as seller 1 of the canned backend.
	if err := page.SetCookies([]*proto.NetworkCookieParam{{Name: sessionCookie, Value: sessionOf1, URL: url}}); err != nil {
		t.Fatalf("setting the session cookie: %v", err)
	}
	if err := page.Navigate(url); err != nil {
		t.Fatalf("navigating to %s: %v", url, err)
	}
	return page.Timeout(pageTimeout)
}

// waitSettled waits until the sales view has rendered more than `after`
// times and is ready or in error, and returns the state.
func waitSettled(t *testing.T, page *rod.Page, after int) string {
	t.Helper()
	err := page.Wait(rod.Eval(`(after) => {
		const d = window.hlogDashboard;
		return !!d && d.renderCount > after && (d.state === 'ready' || d.state === 'error');
	}`, after))
	if err != nil {
		t.Fatalf("waiting for the dashboard to render: %v", err)
	}
	return evalJSON[string](t, page, `() => document.body.dataset.state`)
}

func evalJSON[T any](t *testing.T, page *rod.Page, js string, args ...any) T {
	t.Helper()
	obj, err := page.Eval(js, args...)
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	var v T
	if err := obj.Value.Unmarshal(&v); err != nil {
		t.Fatalf("decoding the result of %s (%s): %v", js, obj.Value.JSON("", ""), err)
	}
	return v
}

// drawnChart is what the Chart.js instance on the page holds.
type drawnChart struct {
	Labels   []string             `json:"labels"`
	Datasets map[string][]float64 `json:"datasets"`
}

func readChart(t *testing.T, page *rod.Page) drawnChart {
	t.Helper()
	return evalJSON[drawnChart](t, page, `() => {
		const chart = Chart.getChart('sales-chart');
		const datasets = {};
		for (const d of chart.data.datasets) datasets[d.key] = d.data;
		return { labels: chart.data.labels, datasets };
	}`)
}

// wantChart is the chart the series should produce: labels and won.
func wantChart(series *salesv1.GetTimeSeriesResponse) drawnChart {
	want := drawnChart{Datasets: map[string][]float64{"net": {}, "paid": {}}}
	for _, p := range series.GetPoints() {
		want.Labels = append(want.Labels, p.GetLabel())
		want.Datasets["net"] = append(want.Datasets["net"], float64(p.GetTotals().GetNet().GetMinorUnits()))
		want.Datasets["paid"] = append(want.Datasets["paid"], float64(p.GetTotals().GetPaid().GetMinorUnits()))
	}
	return want
}

func sameChart(got, want drawnChart) bool {
	return slices.Equal(got.Labels, want.Labels) &&
		slices.Equal(got.Datasets["net"], want.Datasets["net"]) &&
		slices.Equal(got.Datasets["paid"], want.Datasets["paid"])
}

func dailySeries() *salesv1.GetTimeSeriesResponse {
	// Net and paid differ per day; one empty day, one day where refunds
	// exceed payments (negative net), amounts beyond 2^31 won.
	net := []int64{129000, 0, 58500, -20000, 3100000000, 77000, 45500}
	resp := &salesv1.GetTimeSeriesResponse{Granularity: salesv1.Granularity_GRANULARITY_DAY, TimeZone: "Asia/Seoul", CurrencyCode: "KRW"}
	for i, n := range net {
		day := fmt.Sprintf("2024-01-%02d", i+1)
		paid := n
		if n < 0 {
			paid = 0
		}
		resp.Points = append(resp.Points, &salesv1.TimeSeriesPoint{
			StartDate: day, EndDate: day, Label: day,
			Totals: &salesv1.Totals{Net: krw(n), Paid: krw(paid + 10000), Orders: int64(i)},
		})
	}
	return resp
}

func weeklySeries() *salesv1.GetTimeSeriesResponse {
	return &salesv1.GetTimeSeriesResponse{
		Granularity: salesv1.Granularity_GRANULARITY_WEEK, TimeZone: "Asia/Seoul", CurrencyCode: "KRW",
		Points: []*salesv1.TimeSeriesPoint{
			{StartDate: "2024-01-01", EndDate: "2024-01-07", Label: "2024-W01", Totals: &salesv1.Totals{Net: krw(3390000000), Paid: krw(3390100000)}},
		},
	}
}

func cannedSummary() *salesv1.GetSummaryResponse {
	return &salesv1.GetSummaryResponse{
		StartDate: "2024-01-01", EndDate: "2024-01-07",
		PreviousStartDate: "2023-12-25", PreviousEndDate: "2023-12-31",
		Totals: &salesv1.Totals{
			Gross: krw(150000), Discount: krw(21000), Paid: krw(129000), Refunded: krw(10000), Net: krw(119000),
			Orders: 3, Units: 5, Buyers: 2,
		},
		PreviousTotals: &salesv1.Totals{Paid: krw(100000), Net: krw(100000), Orders: 4, Units: 5, Buyers: 2},
		TimeZone:       "Asia/Seoul",
		CurrencyCode:   "KRW",
	}
}

func dashboardBackend(t *testing.T) *cannedBackend {
	b := startBackend(t)
	b.summary = cannedSummary()
	b.timeSeries = dailySeries()
	b.timeSeriesBy = map[salesv1.Granularity]*salesv1.GetTimeSeriesResponse{salesv1.Granularity_GRANULARITY_WEEK: weeklySeries()}
	b.accounts = []*ingestv1.Account{{
		AccountId: "acc-1", Platform: commercev1.Platform_PLATFORM_CAFE24, ExternalAccountId: "mallone",
		DisplayName: "몰원 스토어", Status: ingestv1.AccountStatus_ACCOUNT_STATUS_ACTIVE,
	}}
	b.runs["acc-1"] = []*ingestv1.SyncRun{triggeredRun("acc-1", ingestv1.SyncRunState_SYNC_RUN_STATE_FAILED)}
	b.runs["acc-1"][0].Error = &ingestv1.SyncError{Code: "FAILED_PRECONDITION", Message: "카페24 연결을 다시 해 주세요", NeedsSeller: true}
	return b
}

func TestDashboardDrawsWhatTheAPIServed(t *testing.T) {
	b := dashboardBackend(t)
	gw := startGateway(t, b.addr)
	browser := startBrowser(t)

	// A phone-sized screen, with the view chosen in the URL.
	page := openDashboard(t, browser, gw.baseURL+"/?start=2024-01-01&end=2024-01-07&granularity=DAY&platform=cafe24&basis=order", 390, 844)
	if state := waitSettled(t, page, 0); state != "ready" {
		t.Fatalf("dashboard state %q, error %s", state, evalJSON[any](t, page, `() => window.hlogDashboard.error`))
	}

	wantReq := &salesv1.GetTimeSeriesRequest{
		StartDate: "2024-01-01", EndDate: "2024-01-07", Granularity: salesv1.Granularity_GRANULARITY_DAY,
		Platforms: []commercev1.Platform{commercev1.Platform_PLATFORM_CAFE24}, Basis: salesv1.Basis_BASIS_ORDER_DATE,
	}
	if got := b.lastCall(t, "GetTimeSeries").req; !protobuf.Equal(got, wantReq) {
		t.Errorf("page asked for %v, want %v", got, wantReq)
	}
	wantSummaryReq := &salesv1.GetSummaryRequest{
		StartDate: "2024-01-01", EndDate: "2024-01-07",
		Platforms: []commercev1.Platform{commercev1.Platform_PLATFORM_CAFE24}, Basis: salesv1.Basis_BASIS_ORDER_DATE,
	}
	// The page also asks for today, this week, this month and this year.
	if !b.anyCall("GetSummary", wantSummaryReq) {
		t.Errorf("page never asked for %v; asked %v", wantSummaryReq, b.callsTo("GetSummary"))
	}

	want := wantChart(b.timeSeries)
	if got := readChart(t, page); !sameChart(got, want) {
		t.Errorf("chart drew %+v, want %+v", got, want)
	}
	hooks := evalJSON[struct {
		ChartLabels []string             `json:"chartLabels"`
		ChartData   map[string][]float64 `json:"chartData"`
	}](t, page, `() => window.hlogDashboard`)
	if got := (drawnChart{Labels: hooks.ChartLabels, Datasets: hooks.ChartData}); !sameChart(got, want) {
		t.Errorf("window.hlogDashboard holds %+v, want %+v", got, want)
	}

	cards := evalJSON[map[string][2]string](t, page, `() => {
		const out = {};
		for (const c of document.querySelectorAll('[data-metric]')) {
			out[c.dataset.metric] = [c.querySelector('.value').textContent, c.querySelector('.change').textContent];
		}
		return out;
	}`)
	wantCards := map[string][2]string{
		"net":      {"₩119,000", "▲ 19%"},
		"paid":     {"₩129,000", "▲ 29%"},
		"gross":    {"₩150,000", "신규"},
		"discount": {"₩21,000", "신규"},
		"refunded": {"₩10,000", "신규"},
		"orders":   {"3건", "▼ 25%"},
		"units":    {"5개", "변동 없음"},
		"buyers":   {"2명", "변동 없음"},
	}
	for metric, w := range wantCards {
		if cards[metric] != w {
			t.Errorf("card %s shows %q, want %q", metric, cards[metric], w)
		}
	}

	// The accounts panel lists the account with its latest run.
	if err := page.Wait(rod.Eval(`() => document.getElementById('accounts-panel').dataset.state === 'ready'`)); err != nil {
		t.Fatalf("waiting for the accounts panel: %v", err)
	}
	panel := evalJSON[string](t, page, `() => document.getElementById('account-list').textContent`)
	for _, want := range []string{"몰원 스토어", "카페24", "실패", "카페24 연결을 다시 해 주세요"} {
		if !strings.Contains(panel, want) {
			t.Errorf("accounts panel %q lacks %q", panel, want)
		}
	}
	if got := b.lastCall(t, "ListSyncRuns").req; !protobuf.Equal(got, &ingestv1.ListSyncRunsRequest{AccountId: "acc-1", PageSize: 1}) {
		t.Errorf("latest run asked as %v", got)
	}

	layout := evalJSON[struct {
		ScrollWidth int      `json:"scrollWidth"`
		InnerWidth  int      `json:"innerWidth"`
		Violations  []string `json:"violations"`
	}](t, page, `() => ({scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, violations: window.__cspViolations})`)
	if layout.ScrollWidth > layout.InnerWidth {
		t.Errorf("page is %dpx wide on a %dpx phone screen", layout.ScrollWidth, layout.InnerWidth)
	}
	if len(layout.Violations) > 0 {
		t.Errorf("content security policy blocked: %v", layout.Violations)
	}
}

func TestDashboardRedrawsWhenTheViewChanges(t *testing.T) {
	b := dashboardBackend(t)
	gw := startGateway(t, b.addr)
	browser := startBrowser(t)
	page := openDashboard(t, browser, gw.baseURL+"/?start=2024-01-01&end=2024-01-07", 1280, 900)
	if state := waitSettled(t, page, 0); state != "ready" {
		t.Fatalf("dashboard state %q", state)
	}

	granularity, err := page.Element("#granularity")
	if err != nil {
		t.Fatal(err)
	}
	if err := granularity.Select([]string{`option[value="WEEK"]`}, true, rod.SelectorTypeCSSSector); err != nil {
		t.Fatalf("choosing weeks: %v", err)
	}
	if state := waitSettled(t, page, 1); state != "ready" {
		t.Fatalf("dashboard state %q after choosing weeks", state)
	}
	if got := b.lastCall(t, "GetTimeSeries").req.(*salesv1.GetTimeSeriesRequest).GetGranularity(); got != salesv1.Granularity_GRANULARITY_WEEK {
		t.Errorf("page asked for %s, want GRANULARITY_WEEK", got)
	}
	if got, want := readChart(t, page), wantChart(weeklySeries()); !sameChart(got, want) {
		t.Errorf("chart drew %+v, want %+v", got, want)
	}
	if url := evalJSON[string](t, page, `() => location.search`); !strings.Contains(url, "granularity=WEEK") {
		t.Errorf("URL %q does not keep the chosen view", url)
	}
}

func TestDashboardShowsAPIErrors(t *testing.T) {
	b := dashboardBackend(t)
	b.setErr("GetTimeSeries", status.Error(codes.InvalidArgument, "end_date 2024-01-07 is more than 5 years after start_date"))
	gw := startGateway(t, b.addr)
	browser := startBrowser(t)

	page := openDashboard(t, browser, gw.baseURL+"/?start=2024-01-01&end=2024-01-07", 1280, 900)
	if state := waitSettled(t, page, 0); state != "error" {
		t.Fatalf("dashboard state %q, want error", state)
	}
	banner, err := page.Element("#error-banner")
	if err != nil {
		t.Fatal(err)
	}
	if visible, err := banner.Visible(); err != nil || !visible {
		t.Fatalf("error banner not visible (err %v)", err)
	}
	text, err := banner.Text()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"end_date 2024-01-07 is more than 5 years after start_date", "INVALID_ARGUMENT", "HTTP 400"} {
		if !strings.Contains(text, want) {
			t.Errorf("banner %q lacks %q", text, want)
		}
	}
	hookErr := evalJSON[struct {
		Code       string `json:"code"`
		HTTPStatus int    `json:"httpStatus"`
	}](t, page, `() => window.hlogDashboard.error`)
	if hookErr.Code != "INVALID_ARGUMENT" || hookErr.HTTPStatus != 400 {
		t.Errorf("window.hlogDashboard.error = %+v", hookErr)
	}

	// Once ingest answers again, a new view clears the error.
	b.setErr("GetTimeSeries", nil)
	if err := page.MustElement(`[data-preset="this-year"]`).Click(proto.InputMouseButtonLeft, 1); err != nil {
		t.Fatal(err)
	}
	if state := waitSettled(t, page, 1); state != "ready" {
		t.Fatalf("dashboard state %q after recovery", state)
	}
	if visible, err := banner.Visible(); err != nil || visible {
		t.Errorf("error banner still visible after recovery (err %v)", err)
	}
}

func TestDashboardSyncNow(t *testing.T) {
	b := dashboardBackend(t)
	b.watchStates = []ingestv1.SyncRunState{
		ingestv1.SyncRunState_SYNC_RUN_STATE_RUNNING,
		ingestv1.SyncRunState_SYNC_RUN_STATE_SUCCEEDED,
	}
	gw := startGateway(t, b.addr)
	browser := startBrowser(t)
	page := openDashboard(t, browser, gw.baseURL+"/?start=2024-01-01&end=2024-01-07", 1280, 900)
	if state := waitSettled(t, page, 0); state != "ready" {
		t.Fatalf("dashboard state %q", state)
	}
	if err := page.Wait(rod.Eval(`() => document.getElementById('accounts-panel').dataset.state === 'ready'`)); err != nil {
		t.Fatalf("waiting for the accounts panel: %v", err)
	}
	summaries := len(b.callsTo("GetSummary"))

	button, err := page.Element(`button.sync-button[data-account-id="acc-1"]`)
	if err != nil {
		t.Fatal(err)
	}
	if err := button.Click(proto.InputMouseButtonLeft, 1); err != nil {
		t.Fatalf("clicking sync: %v", err)
	}
	// A succeeded run reloads the sales figures.
	if state := waitSettled(t, page, 1); state != "ready" {
		t.Fatalf("dashboard state %q after the sync", state)
	}
	if got := b.lastCall(t, "TriggerSync").req; !protobuf.Equal(got, &ingestv1.TriggerSyncRequest{AccountId: "acc-1"}) {
		t.Errorf("trigger sync got %v", got)
	}
	if got := b.lastCall(t, "WatchSyncRun").req; !protobuf.Equal(got, &ingestv1.WatchSyncRunRequest{RunId: "run-acc-1"}) {
		t.Errorf("watch got %v", got)
	}
	if n := len(b.callsTo("GetSummary")); n <= summaries {
		t.Errorf("summary not fetched again after the sync")
	}
	// The progress seen on the way, then the reloaded accounts.
	seen := evalJSON[[]map[string]string](t, page, `() => window.hlogDashboard.progressSeen`)
	if len(seen) != 2 || seen[0]["state"] != "SYNC_RUN_STATE_RUNNING" || seen[1]["state"] != "SYNC_RUN_STATE_SUCCEEDED" {
		t.Errorf("watched states %v", seen)
	}
	if err := page.Wait(rod.Eval(`() => window.hlogDashboard.finishedRuns.includes('run-acc-1') && document.getElementById('accounts-panel').dataset.state === 'ready'`)); err != nil {
		t.Fatalf("waiting for the accounts to reload: %v", err)
	}
	runState := evalJSON[string](t, page, `() => window.hlogDashboard.latestRuns['acc-1'].state`)
	if runState != "SYNC_RUN_STATE_SUCCEEDED" {
		t.Errorf("latest run state %q, want SYNC_RUN_STATE_SUCCEEDED", runState)
	}
	if text := evalJSON[string](t, page, `() => document.querySelector('[data-account-id="acc-1"] .run-state').textContent`); !strings.Contains(text, "완료") {
		t.Errorf("run line %q does not say 완료", text)
	}
}

func TestDashboardSwitchesToEnglishAndBack(t *testing.T) {
	b := dashboardBackend(t)
	gw := startGateway(t, b.addr)
	browser := startBrowser(t)
	page := openDashboard(t, browser, gw.baseURL+"/?start=2024-01-01&end=2024-01-07", 1280, 900)
	if state := waitSettled(t, page, 0); state != "ready" {
		t.Fatalf("dashboard state %q", state)
	}
	text := func(sel string) string {
		return evalJSON[string](t, page, `(s) => document.querySelector(s).textContent`, sel)
	}
	if got := text("#summary-title"); got != "기간 합계" {
		t.Errorf("Korean title %q", got)
	}
	if err := page.MustElement("#lang-switch").Click(proto.InputMouseButtonLeft, 1); err != nil {
		t.Fatal(err)
	}
	if state := waitSettled(t, page, 1); state != "ready" {
		t.Fatalf("dashboard state %q after switching language", state)
	}
	for sel, want := range map[string]string{
		"#summary-title":                                    "Period totals",
		`[data-metric="gross"] .change`:                     "New",
		`[data-metric="orders"] .value`:                     "3 orders",
		`[data-metric="net"] .value`:                        "₩119,000",
		"#lang-switch":                                      "한국어",
		`#granularity option[value="WEEK"]`:                 "Weekly (Monday first)",
		`[data-export="order-lines"] a[data-format="xlsx"]`: "Excel",
	} {
		if got := text(sel); got != want {
			t.Errorf("%s in English: %q, want %q", sel, got, want)
		}
	}
	if lang := evalJSON[string](t, page, `() => document.documentElement.lang`); lang != "en" {
		t.Errorf("html lang %q", lang)
	}
	// The choice is remembered across reloads, and switches back.
	if err := page.Reload(); err != nil {
		t.Fatal(err)
	}
	if state := waitSettled(t, page, 0); state != "ready" || text("#summary-title") != "Period totals" {
		t.Errorf("after reload: state %q, title %q", state, text("#summary-title"))
	}
	if err := page.MustElement("#lang-switch").Click(proto.InputMouseButtonLeft, 1); err != nil {
		t.Fatal(err)
	}
	if state := waitSettled(t, page, 1); state != "ready" || text(`[data-metric="gross"] .change`) != "신규" {
		t.Errorf("back in Korean: state %q, change %q", state, text(`[data-metric="gross"] .change`))
	}
}
