package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestSalesAnswersAreSharedPerSellerUntilAWrite(t *testing.T) {
	b := startBackend(t)
	b.summary = cannedSummary()
	cfg := testConfig(b.addr)
	cfg.SalesCacheTTL = time.Hour
	g, err := New(cfg, Secrets{ServiceToken: testServiceToken}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	base := "http://" + g.Addr().String()
	summary := base + "/v1/sales/summary?start_date=2024-01-01&end_date=2024-01-07"
	as2 := map[string]string{"Cookie": sessionCookie + "=" + sessionOf2, csrfHeader: csrfOf2}

	for range 3 {
		if r := get(t, summary); r.status != http.StatusOK {
			t.Fatalf("status %d %s", r.status, r.body)
		}
	}
	if n := len(b.callsTo("GetSummary")); n != 1 {
		t.Errorf("three identical views asked ingest %d times, want once", n)
	}
	// Another seller never gets seller 1's answer.
	doRequest(t, http.MethodGet, summary, nil, as2)
	if n := len(b.callsTo("GetSummary")); n != 2 {
		t.Errorf("seller 2's view asked ingest %d times in all, want 2", n)
	}
	if got := b.lastCall(t, "GetSummary").md.Get("x-hlog-seller-id"); len(got) != 1 || got[0] != "2" {
		t.Errorf("seller 2's call went out as %v", got)
	}
	// A write by seller 1 (a manual sync) drops seller 1's answers only.
	doRequest(t, http.MethodPost, base+"/v1/accounts/acc-1:sync", strings.NewReader(`{}`), nil)
	get(t, summary)
	doRequest(t, http.MethodGet, summary, nil, as2)
	if n := len(b.callsTo("GetSummary")); n != 3 {
		t.Errorf("after seller 1's write ingest was asked %d times in all, want 3", n)
	}
	// Errors are not kept.
	b.setErr("GetTimeSeries", errUnavailable)
	get(t, base+"/v1/sales/timeseries?granularity=GRANULARITY_DAY")
	b.setErr("GetTimeSeries", nil)
	if r := get(t, base+"/v1/sales/timeseries?granularity=GRANULARITY_DAY"); r.status != http.StatusOK {
		t.Errorf("an error answer was cached: %d", r.status)
	}
}

var errUnavailable = statusUnavailable()

func statusUnavailable() error { return status.Error(codes.Unavailable, "down") }
