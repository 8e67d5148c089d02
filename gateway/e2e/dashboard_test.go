package e2e

import (
	"testing"
	"time"

	"github.com/go-rod/rod/lib/proto"
	"hlog.dev/proto/kit/browsertest"
	"hlog.dev/proto/synth"
)

// checkDashboardChart opens the dashboard in headless Chromium and checks
// that the chart shows, bucket for bucket, the ground truth's daily net sales
// and that the totals shown are the served ones.
func checkDashboardChart(t *testing.T, s *stack) {
	want, err := synth.SalesSeries(s.truth.Orders, s.truth.Lines, s.truth.Location, synth.PaymentBasis, periodStart, periodEnd, synth.Day)
	if err != nil {
		t.Fatal(err)
	}
	browser := browsertest.Start(t)
	page, err := browser.Page(proto.TargetCreateTarget{URL: s.gateway + "/?start=" + periodStart + "&end=" + periodEnd + "&granularity=DAY&platform=all&basis=payment"})
	if err != nil {
		t.Fatal(err)
	}
	page = page.Timeout(60 * time.Second)
	if _, err := page.Element("body[data-state=ready]"); err != nil {
		state, _ := page.Eval(`() => JSON.stringify(window.hlogDashboard && window.hlogDashboard.error)`)
		t.Fatalf("dashboard never became ready: %v (%v)", err, state)
	}
	res, err := page.Eval(`() => {
		const chart = Chart.getChart('sales-chart');
		const net = chart.data.datasets.find(d => d.key === 'net');
		return {labels: chart.data.labels, net: net.data};
	}`)
	if err != nil {
		t.Fatal(err)
	}
	var drawn struct {
		Labels []string  `json:"labels"`
		Net    []float64 `json:"net"`
	}
	if err := res.Value.Unmarshal(&drawn); err != nil {
		t.Fatal(err)
	}
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
