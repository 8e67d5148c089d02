package collector_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"hlog.dev/cafe24-svc/internal/collector"
	"hlog.dev/cafe24-svc/sandbox"
	"hlog.dev/proto/conformance"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

// TestConformance runs the shared collector conformance suite on all four
// streams, with Cafe24's own token lifetimes: a first backfill, then runs
// after the clock moves 3 and 9 more days, as claims complete and refunds
// are made on orders older than the 14-day lookback.
func TestConformance(t *testing.T) {
	h := newHarness(t, options{})
	conformance.Run(t, conformance.Target{
		Platform:    commercev1.Platform_PLATFORM_CAFE24,
		Client:      h.client,
		Credentials: h.credentials(),
		Streams:     []string{"orders", "products", "categories", "coupons"},
		Truth:       h.truth,
		Ignore: map[string]string{
			"hlog.commerce.v1.Coupon.raw_benefit_type": "Cafe24's own benefit_type letter; synth has no platform words",
		},
		Advance:      h.advance,
		BackfillFrom: h.backfillFrom(),
	})
}

// result merges runs the way ingest does.
func merge(r *conformance.Result, msgs []*collectorv1.CollectResponse) (orders int) {
	for _, m := range msgs {
		switch x := m.Message.(type) {
		case *collectorv1.CollectResponse_Records:
			for _, o := range x.Records.Orders {
				r.Orders[o.SourceId] = o
				orders++
			}
			for _, l := range x.Records.OrderLines {
				r.Lines[l.SourceId] = l
			}
		case *collectorv1.CollectResponse_Checkpoint:
			r.Cursors[x.Checkpoint.Stream] = x.Checkpoint.Cursor
		case *collectorv1.CollectResponse_CredentialUpdate:
			r.Credentials = x.CredentialUpdate.Credentials
		}
	}
	return orders
}

func diff(t *testing.T, label string, h *harness, got *conformance.Result) {
	t.Helper()
	for _, p := range conformance.Diff(h.truth(), got, []string{"orders"}, nil) {
		t.Errorf("%s: %s", label, p)
	}
}

func TestSmallPagesAndCrowdedWindowsStillGiveTheGroundTruth(t *testing.T) {
	// Tiny pages and a low offset cap force window halving (count above
	// MaxOffset+PageLimit) and deep paging; the mall leaves items'
	// payment_amount null, so line pay is computed from the discounts.
	h := newHarness(t, options{
		mall: sandbox.MallConfig{ID: "crowded", Seed: 9, OrdersPerDay: 40, ItemPaymentAmountNull: true},
		collector: func(c *collector.Config) {
			c.PageLimit, c.MaxOffset, c.BatchSize = 50, 200, 37
		},
	})
	msgs, err := h.collect(h.credentials(), nil, h.backfillFrom())
	if err != nil {
		t.Fatal(err)
	}
	got := conformance.NewResult(nil)
	merge(got, msgs)
	diff(t, "first run", h, got)
	var checkpoints int
	for _, m := range msgs {
		if m.GetCheckpoint() != nil {
			checkpoints++
		}
		if b := m.GetRecords(); b != nil && len(b.Orders) > 37 {
			t.Fatalf("a batch of %d orders, want at most 37", len(b.Orders))
		}
	}
	// 121 days at 40 a day cannot fit 30-day windows of 250 orders.
	if checkpoints < 121*40/250 {
		t.Errorf("%d checkpoints: windows were not split", checkpoints)
	}
	// The first page forecast a crowded window, which one count confirmed.
	if n := h.called("/api/v2/admin/orders/count"); n != 1 {
		t.Errorf("%d order counts, want 1", n)
	}
}

func TestResumingFromTheCursorBringsNewOrdersAndLateClaims(t *testing.T) {
	h := newHarness(t, options{})
	creds := h.credentials()
	got := conformance.NewResult(creds)
	msgs, err := h.collect(creds, nil, h.backfillFrom())
	if err != nil {
		t.Fatal(err)
	}
	first := merge(got, msgs)
	diff(t, "first run", h, got)

	// Claims still open at the first run, and orders placed after it.
	truthBefore := h.truth()
	h.advance(6 * 24 * time.Hour)
	truthAfter := h.truth()
	if len(truthAfter.Orders) <= len(truthBefore.Orders) {
		t.Fatal("no new orders in 6 days")
	}
	completedLater := 0
	openBefore := map[string]bool{}
	for _, l := range truthBefore.Lines {
		for _, c := range l.Claims {
			if c.CompletedAt == nil {
				openBefore[c.SourceId] = true
			}
		}
	}
	for _, l := range truthAfter.Lines {
		for _, c := range l.Claims {
			if openBefore[c.SourceId] && c.CompletedAt != nil {
				completedLater++
			}
		}
	}
	if completedLater == 0 {
		t.Fatal("no claim completed between the runs: the test proves nothing")
	}

	msgs, err = h.collect(got.Credentials, got.Cursors["orders"], time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	second := merge(got, msgs)
	diff(t, "after resuming", h, got)
	// The second run re-reads the lookback, not the whole history.
	if second >= first {
		t.Errorf("second run sent %d orders, first %d: it did not resume", second, first)
	}
	var cur struct {
		V             int       `json:"v"`
		OrderDateFrom time.Time `json:"order_date_from"`
	}
	if err := json.Unmarshal(got.Cursors["orders"], &cur); err != nil || cur.V != 1 || cur.OrderDateFrom.Before(h.sb.Now()) {
		t.Errorf("cursor %s: %v", got.Cursors["orders"], err)
	}
}

func TestExpiredAccessTokenIsRenewedBeforeAnyRecord(t *testing.T) {
	h := newHarness(t, options{})
	creds := h.credentials()
	h.advance(3 * time.Hour) // the access token died an hour ago
	msgs, err := h.collect(creds, nil, start.Add(-10*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	var renewed *collectorv1.Cafe24Credentials
	for _, m := range msgs {
		switch {
		case m.GetCredentialUpdate() != nil:
			kinds = append(kinds, "credentials")
			renewed = m.GetCredentialUpdate().Credentials.GetCafe24()
		case m.GetRecords() != nil:
			kinds = append(kinds, "records")
		}
	}
	if len(kinds) < 2 || kinds[0] != "credentials" || strings.Count(strings.Join(kinds, ","), "credentials") != 1 {
		t.Fatalf("messages %v: want one credential update before any records", kinds)
	}
	old := creds.GetCafe24()
	if renewed.AccessToken == old.AccessToken || renewed.RefreshToken == old.RefreshToken || renewed.MallId != mallID || renewed.ClientSecret != clientSecret {
		t.Fatalf("renewed credentials %v", renewed)
	}
	if !renewed.AccessTokenExpiresAt.AsTime().Equal(h.sb.Now().Add(2 * time.Hour).Truncate(time.Millisecond)) {
		t.Errorf("new access token expires %v, want 2 hours from the sandbox clock %v", renewed.AccessTokenExpiresAt.AsTime(), h.sb.Now())
	}
	// Rotation: the refresh token the run started with is dead now.
	if code, body := h.refresh(old.RefreshToken); code != http.StatusBadRequest || !strings.Contains(body, "invalid_grant") {
		t.Fatalf("old refresh token: %d %s", code, body)
	}
	if code, body := h.refresh(renewed.RefreshToken); code != http.StatusOK {
		t.Fatalf("new refresh token: %d %s", code, body)
	}
}

// refresh calls the sandbox's token endpoint as the app would.
func (h *harness) refresh(token string) (int, string) {
	h.t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}
	req, _ := http.NewRequest("POST", h.url+"/malls/"+h.mall.ID+"/api/v2/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, clientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDeadRefreshTokenAsksTheSellerToReconnect(t *testing.T) {
	h := newHarness(t, options{})
	creds := h.credentials()
	// Someone else spent the refresh token (another writer, cafe24.md §8).
	if code, body := h.refresh(creds.GetCafe24().RefreshToken); code != 200 {
		t.Fatalf("spending the refresh token: %d %s", code, body)
	}
	h.advance(3 * time.Hour)
	msgs, err := h.collect(creds, nil, start.Add(-24*time.Hour))
	if status.Code(err) != codes.FailedPrecondition || status.Convert(err).Message() != "Cafe24 refresh token is no longer valid: reconnect Cafe24 in H-log" {
		t.Fatalf("got %v", err)
	}
	for _, m := range msgs {
		if m.GetRecords() != nil || m.GetCheckpoint() != nil {
			t.Fatalf("records or checkpoints before the failure: %v", m)
		}
	}
	// An expired refresh token fails the same way, without a call.
	h2 := newHarness(t, options{})
	creds = h2.credentials()
	h2.advance(15 * 24 * time.Hour)
	if _, err := h2.collect(creds, nil, time.Time{}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("expired refresh token: %v", err)
	}
}

func TestRejectedAccessTokenIsRenewedOnceMidRun(t *testing.T) {
	h := newHarness(t, options{})
	if err := h.sb.InjectFaults(mallID, http.StatusUnauthorized, 1); err != nil {
		t.Fatal(err)
	}
	msgs, err := h.collect(h.credentials(), nil, h.backfillFrom())
	if err != nil {
		t.Fatal(err)
	}
	got := conformance.NewResult(nil)
	merge(got, msgs)
	if got.Credentials == nil {
		t.Fatal("no credential update after a 401")
	}
	diff(t, "after a 401", h, got)

	// A token that keeps being rejected ends the run.
	h.sb.InjectFaults(mallID, http.StatusUnauthorized, 5)
	if _, err := h.collect(h.credentials(), nil, time.Time{}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("repeated 401: %v", err)
	}
}

func TestRateLimitBurstsAreSurvived(t *testing.T) {
	h := newHarness(t, options{})
	// Another app has filled the mall's bucket, and the platform throws a
	// few 429s on top.
	h.sb.FillRateLimit(mallID, 40)
	h.sb.InjectFaults(mallID, http.StatusTooManyRequests, 4)
	slept := h.real.Slept()
	msgs, err := h.collect(h.credentials(), nil, h.backfillFrom())
	if err != nil {
		t.Fatal(err)
	}
	got := conformance.NewResult(nil)
	merge(got, msgs)
	diff(t, "after 429s", h, got)
	if h.real.Slept()-slept < 5*time.Second {
		t.Errorf("waited %s in all: it did not back off", h.real.Slept()-slept)
	}
	waits := 0
	for _, m := range msgs {
		if p := m.GetProgress(); p != nil && p.RateLimitWait != nil {
			waits++
		}
	}
	if waits == 0 {
		t.Error("no progress message reported a rate-limit wait")
	}

	// A platform that never lets up ends the run with a delay to retry after.
	h.sb.InjectFaults(mallID, http.StatusTooManyRequests, 100)
	_, err = h.collect(h.credentials(), nil, time.Time{})
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted {
		t.Fatalf("endless 429s: %v", err)
	}
	var retry *errdetails.RetryInfo
	for _, d := range st.Details() {
		if r, ok := d.(*errdetails.RetryInfo); ok {
			retry = r
		}
	}
	if retry == nil || retry.RetryDelay.AsDuration() <= 0 {
		t.Errorf("no retry delay in %v", st.Details())
	}
}

func TestServerErrorsAreRetriedThenReported(t *testing.T) {
	h := newHarness(t, options{})
	h.sb.InjectFaults(mallID, http.StatusServiceUnavailable, 3)
	msgs, err := h.collect(h.credentials(), nil, h.backfillFrom())
	if err != nil {
		t.Fatalf("3 transient 503s: %v", err)
	}
	got := conformance.NewResult(nil)
	merge(got, msgs)
	diff(t, "after 503s", h, got)

	h.sb.InjectFaults(mallID, http.StatusInternalServerError, 100)
	if _, err := h.collect(h.credentials(), nil, time.Time{}); status.Code(err) != codes.Unavailable {
		t.Fatalf("endless 500s: %v", err)
	}
}

func TestCheckCredentials(t *testing.T) {
	h := newHarness(t, options{})
	ctx := context.Background()
	creds := h.credentials()
	resp, err := h.client.CheckCredentials(ctx, &collectorv1.CheckCredentialsRequest{Credentials: creds})
	if err != nil || resp.ExternalAccountId != mallID || resp.RotatedCredentials != nil {
		t.Fatalf("live credentials: %v, %v", resp, err)
	}
	h.advance(3 * time.Hour)
	resp, err = h.client.CheckCredentials(ctx, &collectorv1.CheckCredentialsRequest{Credentials: creds})
	if err != nil || resp.RotatedCredentials.GetCafe24().GetRefreshToken() == "" || resp.RotatedCredentials.GetCafe24().RefreshToken == creds.GetCafe24().RefreshToken {
		t.Fatalf("expired access token: %v, %v", resp, err)
	}
	bad := proto.Clone(creds).(*collectorv1.Credentials)
	bad.GetCafe24().AccessToken, bad.GetCafe24().RefreshToken = "forged", "forged"
	bad.GetCafe24().AccessTokenExpiresAt = nil
	if _, err := h.client.CheckCredentials(ctx, &collectorv1.CheckCredentialsRequest{Credentials: bad}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("forged tokens: %v", err)
	}
	wrongApp := proto.Clone(resp.RotatedCredentials).(*collectorv1.Credentials)
	wrongApp.GetCafe24().ClientSecret = "wrong"
	wrongApp.GetCafe24().AccessToken = ""
	if _, err := h.client.CheckCredentials(ctx, &collectorv1.CheckCredentialsRequest{Credentials: wrongApp}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("wrong client secret: %v", err)
	}
	if _, err := h.client.CheckCredentials(ctx, &collectorv1.CheckCredentialsRequest{Credentials: &collectorv1.Credentials{}}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("no credentials: %v", err)
	}
}

func TestDescribeAndBadRequests(t *testing.T) {
	h := newHarness(t, options{})
	d, err := h.client.Describe(context.Background(), &collectorv1.DescribeRequest{})
	if err != nil || d.Platform != commercev1.Platform_PLATFORM_CAFE24 || len(d.Streams) != 4 || d.Streams[3].Name != "orders" || !d.Streams[3].Incremental {
		t.Fatalf("describe: %v, %v", d, err)
	}
	creds := h.credentials()
	if _, err := h.collect(creds, []byte("not a cursor"), time.Time{}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("bad cursor: %v", err)
	}
	stream, _ := h.client.Collect(context.Background(), &collectorv1.CollectRequest{Credentials: creds, Streams: []*collectorv1.StreamRequest{{Name: "customers"}}})
	if _, err := stream.Recv(); status.Code(err) != codes.InvalidArgument {
		t.Errorf("unknown stream: %v", err)
	}
	bad := proto.Clone(creds).(*collectorv1.Credentials)
	bad.GetCafe24().MallId = "../evil"
	if _, err := h.collect(bad, nil, time.Time{}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("bad mall id: %v", err)
	}
}

func TestWindowsBeyondThreeMonthsAreRefused(t *testing.T) {
	h := newHarness(t, options{})
	if _, err := collector.New(collector.Config{API: nil}); err == nil {
		t.Error("no API client: want an error")
	}
	tok := h.credentials().GetCafe24().AccessToken
	req, _ := http.NewRequest("GET", h.url+"/malls/demo/api/v2/admin/orders?start_date=2026-01-01&end_date=2026-04-15", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 422 || body.Error.Code != 422 || body.Error.Message == "" {
		t.Fatalf("over 3 months: %d %+v %v", resp.StatusCode, body, err)
	}
}
