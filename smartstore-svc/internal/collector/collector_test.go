package collector_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"hlog.dev/proto/conformance"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

func TestLaterRunsFollowChangesNotHistory(t *testing.T) {
	h := newHarness(t, options{})
	got := conformance.NewResult(nil)
	msgs, err := h.collect(nil, h.backfillFrom())
	if err != nil {
		t.Fatal(err)
	}
	first, _ := merge(got, msgs)
	diff(t, "first run", h, got)
	before := map[string]commercev1.OrderStatus{}
	for _, l := range h.truth().Lines {
		before[l.SourceId] = l.Status
	}

	h.advance(3 * 24 * time.Hour)
	changed, claims := 0, 0
	for _, l := range h.truth().Lines {
		if st, ok := before[l.SourceId]; ok && st != l.Status {
			changed++
		}
		if _, ok := before[l.SourceId]; ok && len(l.Claims) > 0 && got.Lines[l.SourceId] != nil && len(got.Lines[l.SourceId].Claims) != len(l.Claims) {
			claims++
		}
	}
	if changed == 0 || claims == 0 {
		t.Fatalf("%d lines changed status and %d gained a claim in 3 days: the test proves nothing", changed, claims)
	}
	msgs, err = h.collect(got.Cursors["orders"], time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	second, _ := merge(got, msgs)
	diff(t, "after 3 days", h, got)
	if len(second) >= len(first)/4 {
		t.Errorf("the second run sent %d lines, the first %d: it re-read history", len(second), len(first))
	}
	var cur struct {
		V           int       `json:"v"`
		ChangedFrom time.Time `json:"changed_from"`
	}
	if err := json.Unmarshal(got.Cursors["orders"], &cur); err != nil || cur.V != 1 || !cur.ChangedFrom.Equal(h.sb.Now()) {
		t.Errorf("cursor %s: %v", got.Cursors["orders"], err)
	}
	// A run with nothing new still checkpoints.
	msgs, err = h.collect(got.Cursors["orders"], time.Time{})
	if err != nil || len(msgs) == 0 || msgs[len(msgs)-1].GetCheckpoint() == nil {
		t.Fatalf("idle run: %v, %v", msgs, err)
	}
}

func TestTokenIsCachedAndRenewedBeforeItExpires(t *testing.T) {
	h := newHarness(t, options{})
	for range 2 {
		if _, err := h.collect(nil, start.Add(-2*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.callsTo("/v1/oauth2/token"); n != 1 {
		t.Fatalf("%d token requests for two runs within the token's life, want 1", n)
	}
	// Ten minutes before expiry the cached token is not trusted any more.
	h.advance(2*time.Hour + 50*time.Minute)
	if _, err := h.collect(nil, start.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := h.callsTo("/v1/oauth2/token"); n != 2 {
		t.Fatalf("%d token requests, want a second one near expiry", n)
	}
}

func TestCheckCredentials(t *testing.T) {
	h := newHarness(t, options{})
	ctx := context.Background()
	resp, err := h.client.CheckCredentials(ctx, &collectorv1.CheckCredentialsRequest{Credentials: h.credentials()})
	if err != nil || resp.ExternalAccountId != sellerID || resp.RotatedCredentials != nil {
		t.Fatalf("seller credentials: %v, %v", resp, err)
	}
	self := proto.Clone(h.credentials()).(*collectorv1.Credentials)
	self.GetSmartstore().AccountId = ""
	if resp, err := h.client.CheckCredentials(ctx, &collectorv1.CheckCredentialsRequest{Credentials: self}); err != nil || resp.ExternalAccountId != clientID {
		t.Fatalf("SELF credentials: %v, %v", resp, err)
	}
	for _, tc := range []struct {
		name string
		edit func(*collectorv1.SmartstoreCredentials)
		code codes.Code
	}{
		{"another application's secret", func(c *collectorv1.SmartstoreCredentials) { c.ClientSecret = "$2a$04$someotherapplicationsa" }, codes.FailedPrecondition},
		{"unknown client id", func(c *collectorv1.SmartstoreCredentials) { c.ClientId = "nobody" }, codes.FailedPrecondition},
		{"unknown seller", func(c *collectorv1.SmartstoreCredentials) { c.AccountId = "stranger" }, codes.FailedPrecondition},
		{"secret of the wrong shape", func(c *collectorv1.SmartstoreCredentials) { c.ClientSecret = "hunter2" }, codes.InvalidArgument},
	} {
		c := proto.Clone(h.credentials()).(*collectorv1.Credentials)
		tc.edit(c.GetSmartstore())
		_, err := h.client.CheckCredentials(ctx, &collectorv1.CheckCredentialsRequest{Credentials: c})
		if status.Code(err) != tc.code || status.Convert(err).Message() == "" {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := h.client.CheckCredentials(ctx, &collectorv1.CheckCredentialsRequest{Credentials: &collectorv1.Credentials{}}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("no credentials: %v", err)
	}
}

func TestDescribeAndBadRequests(t *testing.T) {
	h := newHarness(t, options{})
	d, err := h.client.Describe(context.Background(), &collectorv1.DescribeRequest{})
	if err != nil || d.Platform != commercev1.Platform_PLATFORM_SMARTSTORE || len(d.Streams) != 3 || !d.Streams[0].Incremental || d.DefaultRateBudget.RequestsPerSecond != 2 {
		t.Fatalf("describe: %v, %v", d, err)
	}
	if _, err := h.collect([]byte("not a cursor"), time.Time{}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("bad cursor: %v", err)
	}
	if _, err := h.collect(nil, time.Time{}, "coupons"); status.Code(err) != codes.InvalidArgument {
		t.Errorf("unknown stream: %v", err)
	}
	if _, err := h.collect(nil, time.Time{}, "orders", "orders"); status.Code(err) != codes.InvalidArgument {
		t.Errorf("a stream twice: %v", err)
	}
	stream, _ := h.client.Collect(context.Background(), &collectorv1.CollectRequest{Credentials: &collectorv1.Credentials{Platform: &collectorv1.Credentials_Cafe24{Cafe24: &collectorv1.Cafe24Credentials{MallId: "x"}}}, Streams: []*collectorv1.StreamRequest{{Name: "orders"}}})
	if _, err := stream.Recv(); status.Code(err) != codes.InvalidArgument {
		t.Errorf("Cafe24 credentials: %v", err)
	}
}
