package collector_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"hlog.dev/cafe24-svc/internal/collector"
	"hlog.dev/proto/conformance"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
)

const redirectURI = "http://127.0.0.1:8080/v1/cafe24/callback"

// consent goes through the sandbox's consent screen as the mall operator
// would and returns the code it redirects back with.
func (h *harness) consent(state string) string {
	h.t.Helper()
	authorize := h.url + "/malls/" + h.mall.ID + "/api/v2/oauth/authorize?" + url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "state": {state}, "redirect_uri": {redirectURI},
		"scope": {"mall.read_order,mall.read_product,mall.read_category,mall.read_promotion"},
	}.Encode()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(authorize, url.Values{"decision": {"approve"}})
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound || loc.Query().Get("state") != state || !strings.HasPrefix(loc.String(), redirectURI+"?") {
		h.t.Fatalf("consent: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query().Get("code")
}

func TestCheckCredentialsExchangesAnAuthorizationCode(t *testing.T) {
	h := newHarness(t, options{})
	ctx := context.Background()
	creds := &collectorv1.Credentials{Platform: &collectorv1.Credentials_Cafe24{Cafe24: &collectorv1.Cafe24Credentials{
		MallId: mallID, ClientId: clientID, ClientSecret: clientSecret,
		AuthorizationCode: h.consent("s1"), RedirectUri: redirectURI,
	}}}
	resp, err := h.client.CheckCredentials(ctx, &collectorv1.CheckCredentialsRequest{Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	got := resp.RotatedCredentials.GetCafe24()
	if resp.ExternalAccountId != mallID || resp.DisplayName == "" || got.GetAccessToken() == "" || got.GetRefreshToken() == "" ||
		got.AuthorizationCode != "" || got.RedirectUri != "" || got.ClientSecret != clientSecret || len(got.Scopes) != 4 {
		t.Fatalf("check answered %v", resp)
	}
	if !got.AccessTokenExpiresAt.AsTime().Equal(h.sb.Now().Add(2*time.Hour).Truncate(time.Millisecond)) ||
		!got.RefreshTokenExpiresAt.AsTime().Equal(h.sb.Now().Add(14*24*time.Hour).Truncate(time.Millisecond)) {
		t.Errorf("token lifetimes %v %v", got.AccessTokenExpiresAt.AsTime(), got.RefreshTokenExpiresAt.AsTime())
	}
	// The pair collects.
	msgs, err := h.collect(resp.RotatedCredentials, nil, start.Add(-24*time.Hour))
	if err != nil || len(msgs) == 0 {
		t.Fatalf("collect with the exchanged pair: %v", err)
	}
	// A code is single use.
	_, err = h.client.CheckCredentials(ctx, &collectorv1.CheckCredentialsRequest{Credentials: creds})
	if status.Code(err) != codes.Unauthenticated || !strings.Contains(status.Convert(err).Message(), "connect Cafe24 again") {
		t.Errorf("second use of the code: %v", err)
	}
	// And lives one minute.
	late := proto.Clone(creds).(*collectorv1.Credentials)
	late.GetCafe24().AuthorizationCode = h.consent("s2")
	h.advance(time.Minute)
	if _, err := h.client.CheckCredentials(ctx, &collectorv1.CheckCredentialsRequest{Credentials: late}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("code after a minute: %v", err)
	}
	noRedirect := proto.Clone(creds).(*collectorv1.Credentials)
	noRedirect.GetCafe24().RedirectUri = ""
	if _, err := h.client.CheckCredentials(ctx, &collectorv1.CheckCredentialsRequest{Credentials: noRedirect}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("code without redirect_uri: %v", err)
	}
}

// TestConcurrentRefreshesSpendTheRefreshTokenOnce: a check and a run of one
// mall that both find the access token expired must not race for the
// rotating refresh token (cafe24.md §8): the loser would be told to reconnect.
func TestConcurrentRefreshesSpendTheRefreshTokenOnce(t *testing.T) {
	h := newHarness(t, options{})
	creds := h.credentials()
	h.advance(3 * time.Hour)
	var wg sync.WaitGroup
	answers := make([]*collectorv1.CheckCredentialsResponse, 4)
	errs := make([]error, 4)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i], errs[i] = h.client.CheckCredentials(context.Background(), &collectorv1.CheckCredentialsRequest{Credentials: creds})
		}()
	}
	wg.Wait()
	for i := range answers {
		if errs[i] != nil {
			t.Fatalf("check %d: %v", i, errs[i])
		}
		if !proto.Equal(answers[i].RotatedCredentials, answers[0].RotatedCredentials) {
			t.Errorf("check %d got another pair", i)
		}
	}
	// A run that starts a moment later with the old pair gets the same new one.
	msgs, err := h.collect(creds, nil, start.Add(-24*time.Hour))
	if err != nil {
		t.Fatalf("collect with the just-spent refresh token: %v", err)
	}
	for _, m := range msgs {
		if u := m.GetCredentialUpdate(); u != nil && u.Credentials.GetCafe24().RefreshToken != answers[0].RotatedCredentials.GetCafe24().RefreshToken {
			t.Error("the run rotated the pair a second time")
		}
	}
}

// TestRefundsBringBackOrdersTheSearchesMiss: with the claim-completion date
// types left out of the change searches, the refunds made since the last
// run (GET /refunds by refund date) still bring back every order they
// touched, read one by one with GET /orders/{order_id}.
func TestRefundsBringBackOrdersTheSearchesMiss(t *testing.T) {
	h := newHarness(t, options{collector: func(c *collector.Config) {
		c.Lookback = 24 * time.Hour // older orders come back only by the change searches
		c.ChangeDateTypes = []string{"pay_date", "shipbegin_date", "shipend_date", "purchaseconfirmation_date",
			"cancel_request_date", "return_request_date", "exchange_request_date", "exchange_complete_date"}
	}})
	got := conformance.NewResult(h.credentials())
	msgs, err := h.collect(got.Credentials, nil, h.backfillFrom())
	if err != nil {
		t.Fatal(err)
	}
	merge(got, msgs)
	for _, step := range []time.Duration{5 * 24 * time.Hour, 9 * 24 * time.Hour} {
		h.advance(step)
		msgs, err := h.collect(got.Credentials, got.Cursors["orders"], time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		merge(got, msgs)
		diff(t, "after "+step.String(), h, got)
	}
}

func TestMissingScopeAsksToReconnect(t *testing.T) {
	h := newHarness(t, options{})
	p, err := h.sb.MintTokens(mallID, []string{"mall.read_order", "mall.read_product", "mall.read_category"})
	if err != nil {
		t.Fatal(err)
	}
	creds := h.credentials()
	creds.GetCafe24().AccessToken, creds.GetCafe24().RefreshToken = p.AccessToken, p.RefreshToken
	stream, err := h.client.Collect(context.Background(), &collectorv1.CollectRequest{Credentials: creds, Streams: []*collectorv1.StreamRequest{{Name: "coupons"}}})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err = stream.Recv(); err != nil {
			break
		}
	}
	if st := status.Convert(err); st.Code() != codes.FailedPrecondition || !strings.Contains(st.Message(), "mall.read_promotion") || !strings.Contains(st.Message(), "reconnect Cafe24") {
		t.Fatalf("coupons without mall.read_promotion: %v", err)
	}
}
