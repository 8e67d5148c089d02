package cafe24api_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"hlog.dev/cafe24-svc/internal/cafe24api"
	"hlog.dev/cafe24-svc/sandbox"
	"hlog.dev/proto/kit/clock"
)

var start = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func setup(t *testing.T) (*sandbox.Sandbox, *cafe24api.Client, *clock.Fake, string) {
	t.Helper()
	real := clock.NewFake(start)
	sb, err := sandbox.New(sandbox.Config{Malls: []sandbox.MallConfig{{ID: "demo", Seed: 3, OrdersPerDay: 5}}, Clock: start, TimeSource: real.Now, HistoryDays: 30, FutureDays: 5, ClientID: "app", ClientSecret: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	c, err := cafe24api.New(cafe24api.Config{BaseURLTemplate: srv.URL + "/malls/{mall_id}", APIVersion: "2025-12-01", Clock: real})
	if err != nil {
		t.Fatal(err)
	}
	p, err := sb.MintTokens("demo", nil)
	if err != nil {
		t.Fatal(err)
	}
	return sb, c, real, p.AccessToken
}

var week = cafe24api.Search{Start: start.Add(-7 * 24 * time.Hour), End: start, DateType: "order_date"}

// TestPacingStaysUnderTheBucket makes more calls than the bucket holds, with
// a budget far above the drain rate: the pacer must read X-Api-Call-Limit and
// slow down before the platform says 429.
func TestPacingStaysUnderTheBucket(t *testing.T) {
	_, c, real, tok := setup(t)
	var waited time.Duration
	m, err := c.Mall("demo", cafe24api.Budget{RequestsPerSecond: 1000, Burst: 1000}, func(d time.Duration) { waited += d })
	if err != nil {
		t.Fatal(err)
	}
	began := real.Now()
	for i := 0; i < 120; i++ {
		if _, err := m.CountOrders(context.Background(), tok, week); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	elapsed := real.Now().Sub(began)
	// 120 calls, 30 of them at once, the rest at the drain rate of 2 a second.
	if elapsed < 40*time.Second || elapsed > 60*time.Second || waited == 0 {
		t.Fatalf("120 calls took %s (waits reported %s), want about 45s", elapsed, waited)
	}
}

func TestBudgetBoundsTheCallRate(t *testing.T) {
	_, c, real, tok := setup(t)
	m, _ := c.Mall("demo", cafe24api.Budget{RequestsPerSecond: 0.5, Burst: 1}, nil)
	began := real.Now()
	for i := 0; i < 5; i++ {
		if _, err := m.CountOrders(context.Background(), tok, week); err != nil {
			t.Fatal(err)
		}
	}
	if got := real.Now().Sub(began); got < 8*time.Second {
		t.Fatalf("5 calls at 0.5/s took %s", got)
	}
}

func TestErrorsAreTyped(t *testing.T) {
	sb, c, _, tok := setup(t)
	m, _ := c.Mall("demo", cafe24api.DefaultBudget, nil)
	ctx := context.Background()

	_, err := m.CountOrders(ctx, "forged", week)
	if !cafe24api.IsUnauthorized(err) || !strings.Contains(err.Error(), "Invalid access_token") {
		t.Errorf("forged token: %v", err)
	}
	long := week
	long.Start = start.AddDate(0, -4, 0)
	var api *cafe24api.APIError
	if _, err := m.CountOrders(ctx, tok, long); !errors.As(err, &api) || api.Status != 422 {
		t.Errorf("4 months: %v", err)
	}
	_, err = m.RefreshToken(ctx, "app", "secret", "dead")
	if !errors.As(err, &api) || api.Status != 400 || api.OAuthError != "invalid_grant" {
		t.Errorf("dead refresh token: %v", err)
	}
	_, err = m.RefreshToken(ctx, "app", "wrong", "dead")
	if !errors.As(err, &api) || api.Status != 401 || api.OAuthError != "invalid_client" {
		t.Errorf("wrong secret: %v", err)
	}
	sb.InjectFaults("demo", http.StatusServiceUnavailable, 50)
	var exhausted *cafe24api.RetriesExhaustedError
	if _, err := m.CountOrders(ctx, tok, week); !errors.As(err, &exhausted) || exhausted.RateLimited {
		t.Errorf("endless 503: %v", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.CountOrders(ctx, tok, week); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestConfigIsChecked(t *testing.T) {
	for _, cfg := range []cafe24api.Config{
		{BaseURLTemplate: "https://cafe24api.com"},
		{BaseURLTemplate: "ftp://{mall_id}.cafe24api.com"},
		{BaseURLTemplate: "https://{mall_id}.cafe24api.com?x=1"},
		{APIVersion: "latest"},
	} {
		if _, err := cafe24api.New(cfg); err == nil {
			t.Errorf("%+v: want an error", cfg)
		}
	}
	c, err := cafe24api.New(cafe24api.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Mall("Bad.Mall/../x", cafe24api.DefaultBudget, nil); err == nil {
		t.Error("a mall id that changes the URL: want an error")
	}
}

func TestParseTokenTime(t *testing.T) {
	got, err := cafe24api.ParseTokenTime("2021-03-01T14:00:00.000")
	if err != nil || !got.Equal(time.Date(2021, 3, 1, 5, 0, 0, 0, time.UTC)) {
		t.Errorf("no offset means KST: %v, %v", got, err)
	}
	if got, err := cafe24api.ParseTokenTime("2021-03-01T14:00:00+09:00"); err != nil || got.UTC().Hour() != 5 {
		t.Errorf("with offset: %v, %v", got, err)
	}
	if _, err := cafe24api.ParseTokenTime("tomorrow"); err == nil {
		t.Error("want an error")
	}
}

// TestPacerLeavesRoomOnceOthersShareTheBucket: alone, a run may fill the
// mall's bucket; once X-Api-Call-Limit shows calls it did not make, it keeps
// ten calls free for the others.
func TestPacerLeavesRoomOnceOthersShareTheBucket(t *testing.T) {
	sb, c, real, tok := setup(t)
	m, _ := c.Mall("demo", cafe24api.Budget{RequestsPerSecond: 1000, Burst: 1000}, nil)
	ctx := context.Background()
	began := real.Now()
	for i := 0; i < 39; i++ {
		if _, err := m.CountOrders(ctx, tok, week); err != nil {
			t.Fatal(err)
		}
	}
	if waited := real.Now().Sub(began); waited != 0 {
		t.Fatalf("alone, 39 calls waited %s", waited)
	}
	real.Advance(30 * time.Second) // the bucket drains
	sb.FillRateLimit("demo", 30)   // another app calls
	if _, err := m.CountOrders(ctx, tok, week); err != nil {
		t.Fatal(err)
	}
	began = real.Now()
	if _, err := m.CountOrders(ctx, tok, week); err != nil {
		t.Fatal(err)
	}
	// 31 in the bucket: the next call waits until it holds at most 29.
	if waited := real.Now().Sub(began); waited < 900*time.Millisecond {
		t.Fatalf("with another app in the bucket the next call waited %s", waited)
	}
}

// TestPacerSlowsNearTheUsageQuota: at 90% of the mall's usage quota calls
// are spaced two seconds apart, so the run does not block the whole mall.
func TestPacerSlowsNearTheUsageQuota(t *testing.T) {
	sb, c, real, tok := setup(t)
	m, _ := c.Mall("demo", cafe24api.DefaultBudget, nil)
	ctx := context.Background()
	if _, err := m.CountOrders(ctx, tok, week); err != nil {
		t.Fatal(err)
	}
	if err := sb.FillQuota("demo", 92); err != nil {
		t.Fatal(err)
	}
	began := real.Now()
	for i := 0; i < 4; i++ {
		if _, err := m.CountOrders(ctx, tok, week); err != nil {
			t.Fatal(err)
		}
	}
	// The first call sees 92% and reports it; three more follow 2 s apart.
	if waited := real.Now().Sub(began); waited < 6*time.Second {
		t.Fatalf("near the quota 4 calls took %s", waited)
	}
}
