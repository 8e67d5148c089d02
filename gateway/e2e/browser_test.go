package e2e

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/input"
	"github.com/go-rod/rod/lib/proto"

	"hlog.dev/proto/kit/browsertest"
	"hlog.dev/proto/synth"
)

// screenshotDir is where the journey's screenshots go: docs/screenshots at
// the repository root when HLOG_SCREENSHOTS=1 (to refresh the committed
// ones), a temporary directory otherwise, so a test run leaves the checkout
// as it was.
func screenshotDir(t *testing.T) string {
	if os.Getenv("HLOG_SCREENSHOTS") == "1" {
		dir, err := filepath.Abs("../../docs/screenshots")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

type journey struct {
	t     *testing.T
	s     *stack
	base  *rod.Page // without a timeout; every step takes its own
	shots string
}

// page is the tab with the usual step timeout.
func (j *journey) page() *rod.Page { return j.base.Timeout(90 * time.Second) }

func (j *journey) must(err error, doing string) {
	j.t.Helper()
	if err != nil {
		state, _ := j.page().CancelTimeout().Timeout(5 * time.Second).Eval(`() => JSON.stringify({state: document.body.dataset.state, view: document.body.dataset.view, error: window.hlogDashboard && window.hlogDashboard.error, url: location.href, forms: [...document.querySelectorAll('.form-error')].map(e => e.textContent).join(' | '), banner: document.getElementById('error-message').textContent})`)
		j.t.Fatalf("%s: %v (page: %v)", doing, err, state)
	}
}

func (j *journey) el(selector string) *rod.Element {
	j.t.Helper()
	e, err := j.page().Element(selector)
	j.must(err, "finding "+selector)
	return e
}

func (j *journey) fill(selector, text string) {
	j.t.Helper()
	e := j.el(selector)
	j.must(e.SelectAllText(), "selecting "+selector)
	j.must(e.Input(text), "typing into "+selector)
}

// submit sends a form from the keyboard: Enter in one of its fields. Unlike
// a mouse click it cannot land elsewhere when the panels above the form
// finish rendering between finding the button and pressing it, which is what
// made the journey flaky on a loaded machine.
func (j *journey) submit(field string) {
	j.t.Helper()
	e := j.el(field)
	j.must(e.Focus(), "focusing "+field)
	j.must(e.Type(input.Enter), "pressing Enter in "+field)
}

func (j *journey) click(selector string) {
	j.t.Helper()
	j.must(j.el(selector).Click(proto.InputMouseButtonLeft, 1), "clicking "+selector)
}

func (j *journey) wait(js string, doing string, args ...any) {
	j.t.Helper()
	j.must(j.page().Wait(rod.Eval(js, args...)), doing)
}

// waitLong is wait for the first syncs, which take minutes on a busy machine.
func (j *journey) waitLong(js string, doing string) {
	j.t.Helper()
	j.must(j.base.Timeout(8*time.Minute).Wait(rod.Eval(js)), doing)
}

func (j *journey) eval(js string, out any) {
	j.t.Helper()
	res, err := j.page().Eval(js)
	j.must(err, "evaluating "+js)
	j.must(res.Value.Unmarshal(out), "decoding "+js)
}

// shotOf saves a picture of one element.
func (j *journey) shotOf(selector, name string) {
	j.t.Helper()
	img, err := j.el(selector).Screenshot(proto.PageCaptureScreenshotFormatPng, 0)
	j.must(err, "screenshot "+name)
	j.must(os.WriteFile(filepath.Join(j.shots, name), img, 0o644), "writing "+name)
}

// screenshot saves the whole page (full) or what the screen shows.
func (j *journey) screenshot(name string, full bool) {
	j.t.Helper()
	img, err := j.page().Screenshot(full, &proto.PageCaptureScreenshot{Format: proto.PageCaptureScreenshotFormatPng})
	j.must(err, "screenshot "+name)
	j.must(os.WriteFile(filepath.Join(j.shots, name), img, 0o644), "writing "+name)
}

// waitRendered waits until the main view rendered after `after` renders.
func (j *journey) waitRendered(after int) {
	j.t.Helper()
	j.wait(`(after) => { const d = window.hlogDashboard; return !!d && d.renderCount > after && d.state === 'ready'; }`, "waiting for the dashboard", after)
}

func (j *journey) renderCount() int {
	var n int
	j.eval(`() => window.hlogDashboard.renderCount`, &n)
	return n
}

// TestSellerJourneyInTheBrowser is a seller's first morning, in Chromium,
// against every service as its own process: sign up, connect Cafe24 (OAuth
// consent), Smartstore and Ably, watch the first syncs, check the figures
// against the ground truth, change the view, and export.
func TestSellerJourneyInTheBrowser(t *testing.T) {
	s := startStack(t, sandboxClock, "cafe24", "smartstore", "ably")
	browser := browsertest.Start(t)
	page, err := browser.Page(proto.TargetCreateTarget{})
	if err != nil {
		t.Fatal(err)
	}
	j := &journey{t: t, s: s, base: page, shots: screenshotDir(t)}
	j.must(page.SetViewport(&proto.EmulationSetDeviceMetricsOverride{Width: 1280, Height: 900, DeviceScaleFactor: 1}), "viewport")

	// Sign up.
	j.must(j.page().Navigate(s.gateway+"/"), "opening the gateway")
	j.wait(`() => document.body.dataset.view === 'signed-out'`, "waiting for the sign-in form")
	j.screenshot("sign-in.png", false)
	j.click("#tab-sign-up")
	j.fill(`#sign-up-form [name="display_name"]`, "브라우저 상점")
	j.fill(`#sign-up-form [name="email"]`, "browser@e2e.test")
	j.fill(`#sign-up-form [name="password"]`, "a long enough password")
	j.submit(`#sign-up-form [name="password"]`)
	j.wait(`() => document.body.dataset.view === 'dashboard' && document.getElementById('accounts-panel').dataset.state === 'ready'`, "waiting for the dashboard after sign-up")

	// Cafe24: the real authorization-code redirect through the sandbox's
	// consent page.
	j.must(j.el("#connect-panel").ScrollIntoView(), "scrolling to the connect panel")
	j.fill(`#connect-cafe24 [name="mall_id"]`, "e2e")
	j.shotOf("#connect-panel", "connect.png")
	j.submit(`#connect-cafe24 [name="mall_id"]`)
	j.wait(`() => !!document.getElementById('approve')`, "waiting for Cafe24's consent page")
	j.screenshot("connect-cafe24-consent.png", false)
	j.click("#approve")
	j.wait(`() => location.search.includes('connected=cafe24') || (document.body.dataset.view === 'dashboard' && window.hlogDashboard.accounts.length === 1)`, "coming back from Cafe24")
	j.wait(`() => document.body.dataset.view === 'dashboard' && window.hlogDashboard.accounts.some(a => a.platform === 'PLATFORM_CAFE24')`, "waiting for the Cafe24 account")

	// Smartstore and Ably: credentials checked by their collectors first.
	j.fill(`#connect-smartstore [name="client_id"]`, smartstoreClientID)
	j.fill(`#connect-smartstore [name="client_secret"]`, smartstoreClientSecret)
	j.submit(`#connect-smartstore [name="client_secret"]`)
	j.waitLong(`() => window.hlogDashboard.accounts.some(a => a.platform === 'PLATFORM_SMARTSTORE')`, "waiting for the Smartstore account")
	j.fill(`#connect-ably [name="email"]`, ablyEmail)
	j.fill(`#connect-ably [name="password"]`, "not the password")
	j.submit(`#connect-ably [name="password"]`)
	// Ably's check is a real sign-in in Chromium: slow on a busy machine.
	j.waitLong(`() => document.querySelector('#connect-ably .form-error').textContent !== ''`, "waiting for the wrong Ably password to be refused")
	j.fill(`#connect-ably [name="password"]`, ablyPassword)
	j.submit(`#connect-ably [name="password"]`)
	j.waitLong(`() => window.hlogDashboard.accounts.some(a => a.platform === 'PLATFORM_ABLY')`, "waiting for the Ably account")
	for _, secret := range []string{smartstoreClientSecret, ablyPassword} {
		var html string
		j.eval(`() => document.documentElement.outerHTML`, &html)
		if strings.Contains(html, secret) {
			t.Errorf("the page still holds a credential after connecting")
		}
	}

	// The first syncs: the progress bar moves, then every account succeeds.
	j.waitLong(`() => window.hlogDashboard.progressSeen.some(p => p.state === 'SYNC_RUN_STATE_RUNNING') && !!document.querySelector('.run-progress progress')`, "waiting for a running sync's progress bar")
	j.must(j.el("#accounts-panel").ScrollIntoView(), "scrolling to the accounts")
	j.shotOf("#accounts-panel", "sync-progress.png")
	j.waitLong(`() => {
		const d = window.hlogDashboard;
		return d.accountsState === 'ready' && d.accounts.length === 3 &&
			d.accounts.every(a => d.latestRuns[a.account_id] && d.latestRuns[a.account_id].state === 'SYNC_RUN_STATE_SUCCEEDED');
	}`, "waiting for every first sync to succeed")
	var seen []struct {
		State  string `json:"state"`
		Loaded string `json:"loaded"`
	}
	j.eval(`() => window.hlogDashboard.progressSeen`, &seen)
	if len(seen) == 0 || seen[len(seen)-1].State != "SYNC_RUN_STATE_SUCCEEDED" {
		t.Errorf("progress seen %v", seen)
	}

	// The figures equal the ground truth, in both views.
	j.must(j.page().Navigate(s.gateway+"/?start="+s.start+"&end="+s.end+"&granularity=DAY&platform=all&basis=payment"), "opening the period")
	j.waitRendered(0)
	j.checkTotals(s.truthTotals(t, s.start, s.end, synth.PaymentBasis), "payment-date view")
	j.wait(`() => ['glance', 'split-panel', 'products-panel', 'lines-panel'].every(id => document.getElementById(id).dataset.state === 'ready')`, "waiting for every panel")
	j.checkSplit()
	j.screenshot("dashboard.png", true)

	n := j.renderCount()
	j.click("#basis-toggle")
	j.waitRendered(n)
	j.checkTotals(s.truthTotals(t, s.start, s.end, synth.OrderBasis), "order-date view")
	n = j.renderCount()
	j.click("#basis-toggle")
	j.waitRendered(n)

	// Granularity and period.
	n = j.renderCount()
	j.must(j.el("#granularity").Select([]string{`option[value="WEEK"]`}, true, rod.SelectorTypeCSSSector), "choosing weeks")
	j.waitRendered(n)
	j.checkChart(synth.Week)
	n = j.renderCount()
	j.must(j.el("#granularity").Select([]string{`option[value="MONTH"]`}, true, rod.SelectorTypeCSSSector), "choosing months")
	j.waitRendered(n)
	j.checkChart(synth.Month)
	n = j.renderCount()
	j.click(`[data-preset="last-30-days"]`)
	j.waitRendered(n)
	var req struct{ Start, End string }
	j.eval(`() => window.hlogDashboard.request`, &req)
	if start, _ := time.Parse("2006-01-02", req.Start); req.End == "" || start.AddDate(0, 0, 29).Format("2006-01-02") != req.End {
		t.Errorf("last 30 days asked %+v", req)
	}

	// Exports of the order lines hold every line of the period.
	j.must(j.page().Navigate(s.gateway+"/?start="+s.start+"&end="+s.end+"&granularity=DAY&platform=all&basis=payment"), "opening the period again")
	j.waitRendered(0)
	j.wait(`() => document.getElementById('lines-panel').dataset.state === 'ready'`, "waiting for the order lines")
	var total string
	j.eval(`() => window.hlogDashboard.lines.total_count`, &total)
	rows := j.download(browser, `[data-export="order-lines"] a[data-format="csv"]`)
	records, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(rows, []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatalf("reading the CSV export: %v", err)
	}
	if strconv.Itoa(len(records)-1) != total {
		t.Errorf("CSV export has %d lines, the table says %s", len(records)-1, total)
	}
	paidCol := -1
	for i, h := range records[0] {
		if h == "결제금액" {
			paidCol = i
		}
	}
	var paid int64
	for _, r := range records[1:] {
		v, err := strconv.ParseInt(r[paidCol], 10, 64)
		if err != nil {
			t.Fatalf("paid %q: %v", r[paidCol], err)
		}
		paid += v
	}
	if want := s.truthTotals(t, s.start, s.end, synth.PaymentBasis).Paid; paid != want {
		t.Errorf("CSV export's paid column sums to %d, ground truth %d", paid, want)
	}
	xlsx := j.download(browser, `[data-export="order-lines"] a[data-format="xlsx"]`)
	if got := xlsxRows(t, xlsx); got != len(records) {
		t.Errorf("xlsx export has %d rows, the CSV %d", got, len(records))
	}

	// Phone width: nothing wider than the screen.
	j.must(page.SetViewport(&proto.EmulationSetDeviceMetricsOverride{Width: 390, Height: 844, DeviceScaleFactor: 2, Mobile: true}), "phone viewport")
	j.must(j.page().Reload(), "reloading")
	j.waitRendered(0)
	var widths struct{ Scroll, Inner int }
	j.eval(`() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})`, &widths)
	if widths.Scroll > widths.Inner {
		t.Errorf("page is %dpx wide on a %dpx phone", widths.Scroll, widths.Inner)
	}
	_, err = j.page().Eval(`() => window.scrollTo(0, 0)`)
	j.must(err, "scrolling to the top")
	j.screenshot("dashboard-phone.png", false)
}

func (j *journey) checkTotals(want synth.Totals, view string) {
	j.t.Helper()
	var got struct {
		Totals totalsJSON `json:"totals"`
	}
	j.eval(`() => window.hlogDashboard.summary`, &got)
	if g := got.Totals.totals(j.t); g != want {
		j.t.Errorf("%s: dashboard totals\n got %+v\nwant %+v", view, g, want)
	}
	if want.Paid == 0 || want.Refunded == 0 {
		j.t.Errorf("%s: ground truth has no sales or no refunds: %+v", view, want)
	}
}

// checkSplit: the platform split adds up to the totals, and each platform's
// share is its ground truth.
func (j *journey) checkSplit() {
	j.t.Helper()
	var split struct {
		Rows []struct {
			Platform string     `json:"platform"`
			Totals   totalsJSON `json:"totals"`
		} `json:"rows"`
	}
	j.eval(`() => window.hlogDashboard.split`, &split)
	byPlatform := map[string]int64{}
	for _, r := range split.Rows {
		byPlatform[strings.ToLower(strings.TrimPrefix(r.Platform, "PLATFORM_"))] += r.Totals.totals(j.t).Net
	}
	for p, truth := range j.s.truth {
		want, err := synth.SalesTotals(truth.Orders, truth.Lines, truth.Location, synth.PaymentBasis, j.s.start, j.s.end)
		if err != nil {
			j.t.Fatal(err)
		}
		if byPlatform[p] != want.Net {
			j.t.Errorf("split: %s net %d, ground truth %d", p, byPlatform[p], want.Net)
		}
	}
}

func (j *journey) checkChart(g synth.Granularity) {
	j.t.Helper()
	var want []synth.Bucket
	for p, truth := range j.s.truth {
		series, err := synth.SalesSeries(truth.Orders, truth.Lines, truth.Location, synth.PaymentBasis, j.s.start, j.s.end, g)
		if err != nil {
			j.t.Fatalf("%s: %v", p, err)
		}
		if want == nil {
			want = series
			continue
		}
		for i := range want {
			want[i].Totals = addTotals(want[i].Totals, series[i].Totals)
		}
	}
	drawn := readChart(j.t, j.page())
	if len(drawn.Labels) != len(want) {
		j.t.Fatalf("chart has %d buckets, want %d", len(drawn.Labels), len(want))
	}
	for i, w := range want {
		if drawn.Labels[i] != w.Label || int64(drawn.Net[i]) != w.Totals.Net {
			j.t.Errorf("bucket %d: chart %s %v, ground truth %s %d", i, drawn.Labels[i], drawn.Net[i], w.Label, w.Totals.Net)
		}
	}
}

// download clicks an export link and returns the file the browser saved.
func (j *journey) download(browser *rod.Browser, selector string) []byte {
	j.t.Helper()
	dir := j.t.TempDir()
	wait := browser.WaitDownload(dir)
	j.click(selector)
	info := wait()
	data, err := os.ReadFile(filepath.Join(dir, info.GUID))
	if err != nil {
		j.t.Fatalf("reading the download of %s: %v", selector, err)
	}
	return data
}

// xlsxRows counts the rows of the first sheet of a workbook.
func xlsxRows(t *testing.T, data []byte) int {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("xlsx is not a zip: %v", err)
	}
	for _, f := range zr.File {
		if f.Name != "xl/worksheets/sheet1.xml" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		body, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(string(body), "<row ")
	}
	t.Fatal("xlsx has no sheet1")
	return 0
}
