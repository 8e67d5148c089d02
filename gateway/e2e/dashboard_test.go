package e2e

import (
	"net/url"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"
	"hlog.dev/proto/kit/browsertest"
	"hlog.dev/proto/synth"
)

// signedInPage opens a tab holding the stack client's session cookie.
func signedInPage(t *testing.T, browser *rod.Browser, s *stack) *rod.Page {
	t.Helper()
	page, err := browser.Page(proto.TargetCreateTarget{})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(s.gateway)
	var cookies []*proto.NetworkCookieParam
	for _, c := range s.client.Jar.Cookies(u) {
		cookies = append(cookies, &proto.NetworkCookieParam{Name: c.Name, Value: c.Value, URL: s.gateway, HTTPOnly: true, SameSite: proto.NetworkCookieSameSiteLax})
	}
	if err := page.SetCookies(cookies); err != nil {
		t.Fatal(err)
	}
	return page
}

// checkDashboardChart opens the dashboard in headless Chromium and checks
// that the chart shows, bucket for bucket, the ground truth's daily net sales.
func checkDashboardChart(t *testing.T, s *stack) {
	truth := s.truth["cafe24"]
	want, err := synth.SalesSeries(truth.Orders, truth.Lines, truth.Location, synth.PaymentBasis, periodStart, periodEnd, synth.Day)
	if err != nil {
		t.Fatal(err)
	}
	browser := browsertest.Start(t)
	page := signedInPage(t, browser, s)
	if err := page.Navigate(s.gateway + "/?start=" + periodStart + "&end=" + periodEnd + "&granularity=DAY&platform=all&basis=payment"); err != nil {
		t.Fatal(err)
	}
	page = page.Timeout(60 * time.Second)
	if _, err := page.Element("body[data-state=ready]"); err != nil {
		state, _ := page.Eval(`() => JSON.stringify(window.hlogDashboard && window.hlogDashboard.error)`)
		t.Fatalf("dashboard never became ready: %v (%v)", err, state)
	}
	drawn := readChart(t, page)
	if len(drawn.Labels) != len(want) || len(drawn.Net) != len(want) {
		t.Fatalf("chart has %d labels and %d points, want %d days", len(drawn.Labels), len(drawn.Net), len(want))
	}
	for i, w := range want {
		// KRW has no minor unit, so the chart's won are the minor units.
		if drawn.Labels[i] != w.Label || int64(drawn.Net[i]) != w.Totals.Net {
			t.Errorf("day %d: chart %s %v, ground truth %s %d", i, drawn.Labels[i], drawn.Net[i], w.Label, w.Totals.Net)
		}
	}
}

type chartData struct {
	Labels []string  `json:"labels"`
	Net    []float64 `json:"net"`
}

func readChart(t *testing.T, page *rod.Page) chartData {
	t.Helper()
	res, err := page.Eval(`() => {
		const chart = Chart.getChart('sales-chart');
		const net = chart.data.datasets.find(d => d.key === 'net');
		return {labels: chart.data.labels, net: net.data};
	}`)
	if err != nil {
		t.Fatal(err)
	}
	var drawn chartData
	if err := res.Value.Unmarshal(&drawn); err != nil {
		t.Fatal(err)
	}
	return drawn
}
