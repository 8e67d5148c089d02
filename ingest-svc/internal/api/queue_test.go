package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	ingestv1 "hlog.dev/proto/gen/hlog/ingest/v1"
	salesv1 "hlog.dev/proto/gen/hlog/sales/v1"

	"hlog.dev/ingest-svc/internal/app"
	"hlog.dev/ingest-svc/internal/syncrun"
)

// fastRetries makes retries due at once and idle workers look often, so a
// retried run is picked up without waiting for real backoff.
func fastRetries(d *app.Deps) {
	d.Queue = syncrun.Config{RetryBase: time.Millisecond, RetryMax: 2 * time.Millisecond, PollInterval: 20 * time.Millisecond}
}

// webhook records alert posts.
type webhook struct {
	mu    sync.Mutex
	texts []string
	// posted is signalled after each post: a run is final before its alert
	// is sent, so tests wait for the post itself.
	posted chan struct{}
}

func newWebhook() *webhook { return &webhook{posted: make(chan struct{}, 100)} }

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	var body struct{ Text string }
	b, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(b, &body)
	w.mu.Lock()
	w.texts = append(w.texts, body.Text)
	w.mu.Unlock()
	w.posted <- struct{}{}
}

// waitPosts waits until at least n alerts arrived and returns all of them.
func (w *webhook) waitPosts(t *testing.T, n int) []string {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for len(w.posts()) < n {
		select {
		case <-w.posted:
		case <-timeout:
			t.Fatalf("waited 30s for %d alerts; got %q", n, w.posts())
		}
	}
	return w.posts()
}

func (w *webhook) posts() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.texts...)
}

func TestTransientFailuresRetryAndTheLastAttemptIsDeadAndAlertedOnce(t *testing.T) {
	hook := newWebhook()
	srv := httptest.NewServer(hook)
	defer srv.Close()
	e := start(t, fastRetries, func(d *app.Deps) { d.AlertWebhookURL = srv.URL })
	cafe24 := e.collectors[commercev1.Platform_PLATFORM_CAFE24]

	// Two failures, then success: one run, three attempts, no alert.
	cafe24.FailNextCollects(2, 1, status.Error(codes.Unavailable, "Cafe24 answered 503"))
	acct := e.addCafe24(t, "1")
	seen := e.watch(t, "1", e.latestRun(t, "1", acct.AccountId).RunId)
	final := seen[len(seen)-1]
	if final.State != ingestv1.SyncRunState_SYNC_RUN_STATE_SUCCEEDED || final.Attempt != 3 || final.Error != nil {
		t.Fatalf("run after two transient failures = %v; want SUCCEEDED on attempt 3", final)
	}
	retrying := false
	for _, r := range seen {
		retrying = retrying || (r.State == ingestv1.SyncRunState_SYNC_RUN_STATE_RETRYING && r.NextAttemptAt != nil && r.Error.GetCode() == "UNAVAILABLE")
	}
	if !retrying {
		t.Error("the watch never showed the run RETRYING with its error and next attempt")
	}
	var lines int
	if err := e.st.DB().QueryRow("SELECT COUNT(*) FROM order_lines").Scan(&lines); err != nil || lines != len(e.truth.Lines) {
		t.Fatalf("%d lines after the retried run, want %d", lines, len(e.truth.Lines))
	}

	// Failing every attempt: dead after the fifth, reason visible, one alert.
	cafe24.FailCollect(0, status.Error(codes.Unavailable, "Cafe24 answered 503"))
	for range 2 {
		trig, err := e.sync.TriggerSync(as(t, "1"), &ingestv1.TriggerSyncRequest{AccountId: acct.AccountId})
		if err != nil {
			t.Fatal(err)
		}
		dead := e.final(t, "1", trig.Run.RunId)
		if dead.State != ingestv1.SyncRunState_SYNC_RUN_STATE_FAILED || dead.Attempt != 5 || dead.Error.GetCode() != "UNAVAILABLE" ||
			dead.Error.GetMessage() != "Cafe24 answered 503" || dead.Error.GetNeedsSeller() {
			t.Fatalf("run failing every attempt = %v; want FAILED after attempt 5 with the collector's error", dead)
		}
	}
	if posts := hook.waitPosts(t, 1); len(posts) != 1 || !strings.Contains(posts[0], "failed for good after 5 attempt(s): UNAVAILABLE") {
		t.Fatalf("alerts after two dead runs of one incident = %q; want exactly one", posts)
	}

	// A success ends the incident; the next death is a new one.
	cafe24.FailCollect(0, nil)
	trig, _ := e.sync.TriggerSync(as(t, "1"), &ingestv1.TriggerSyncRequest{AccountId: acct.AccountId})
	if r := e.final(t, "1", trig.Run.RunId); r.State != ingestv1.SyncRunState_SYNC_RUN_STATE_SUCCEEDED {
		t.Fatalf("recovery run = %v", r)
	}
	cafe24.FailCollect(0, status.Error(codes.Unauthenticated, "reconnect the mall"))
	trig, _ = e.sync.TriggerSync(as(t, "1"), &ingestv1.TriggerSyncRequest{AccountId: acct.AccountId})
	if r := e.final(t, "1", trig.Run.RunId); r.State != ingestv1.SyncRunState_SYNC_RUN_STATE_FAILED || r.Attempt != 1 || !r.Error.GetNeedsSeller() {
		t.Fatalf("run needing the seller = %v; want FAILED at once, needs_seller", r)
	}
	if posts := hook.waitPosts(t, 2); len(posts) != 2 || !strings.Contains(posts[1], "needs the seller") {
		t.Fatalf("alerts after a new incident = %q; want a second one", posts)
	}

	// Reconnecting makes the account active again and syncs it.
	cafe24.FailCollect(0, nil)
	rc, err := e.accounts.ReconnectAccount(as(t, "1"), &ingestv1.ReconnectAccountRequest{AccountId: acct.AccountId, Credentials: cafe24Creds("refresh-new")})
	if err != nil {
		t.Fatal(err)
	}
	if rc.Account.Status != ingestv1.AccountStatus_ACCOUNT_STATUS_ACTIVE || rc.Account.StatusMessage != "" {
		t.Fatalf("reconnected account = %v", rc.Account)
	}
	if r := e.final(t, "1", e.latestRun(t, "1", acct.AccountId).RunId); r.State != ingestv1.SyncRunState_SYNC_RUN_STATE_SUCCEEDED {
		t.Fatalf("sync after reconnecting = %v", r)
	}
}

func TestMalformedCursorsFailTheRunAndWriteNothing(t *testing.T) {
	e := start(t)
	cafe24 := e.collectors[commercev1.Platform_PLATFORM_CAFE24]
	cases := []struct {
		seller string
		mangle func(*collectorv1.Checkpoint)
		msg    string
	}{
		{"1", func(cp *collectorv1.Checkpoint) { cp.Cursor = nil }, "the cursor is empty"},
		{"2", func(cp *collectorv1.Checkpoint) { cp.Cursor = bytes.Repeat([]byte("x"), 70000) }, "the cursor is 70000 bytes"},
		{"3", func(cp *collectorv1.Checkpoint) { cp.Stream = "reviews" }, `stream "reviews", which this run did not ask for`},
		{"4", func(cp *collectorv1.Checkpoint) { cp.Stream = "" }, "malformed checkpoint"},
	}
	for _, c := range cases {
		cafe24.MangleCheckpoints(c.mangle)
		acct := e.addCafe24(t, c.seller)
		r := e.final(t, c.seller, e.latestRun(t, c.seller, acct.AccountId).RunId)
		if r.State != ingestv1.SyncRunState_SYNC_RUN_STATE_FAILED || r.Attempt != 1 || !strings.Contains(r.Error.GetMessage(), c.msg) {
			t.Errorf("seller %s: run = %v; want FAILED on attempt 1 with %q", c.seller, r, c.msg)
		}
		for _, table := range []string{"orders", "order_lines", "products", "categories", "coupons", "stream_cursors", "sales_daily"} {
			var n int
			if err := e.st.DB().QueryRow("SELECT COUNT(*) FROM "+table+" WHERE seller_id = ?", c.seller).Scan(&n); err != nil || n != 0 {
				t.Errorf("seller %s: %d %s rows written by a run with a malformed checkpoint (%v)", c.seller, n, table, err)
			}
		}
	}
}

func TestAccountIDsOfOtherSellersAreNotFound(t *testing.T) {
	e := start(t)
	acct := e.addCafe24(t, "1")
	e.final(t, "1", e.latestRun(t, "1", acct.AccountId).RunId)
	run := e.latestRun(t, "1", acct.AccountId)
	for _, c := range []struct {
		name string
		call func() error
	}{
		{"reconnect", func() error {
			_, err := e.accounts.ReconnectAccount(as(t, "2"), &ingestv1.ReconnectAccountRequest{AccountId: acct.AccountId, Credentials: cafe24Creds("x")})
			return err
		}},
		{"order lines of the account", func() error {
			_, err := e.sales.ListOrderLines(as(t, "2"), &salesv1.ListOrderLinesRequest{StartDate: "2024-01-01", EndDate: "2024-03-31", AccountId: acct.AccountId})
			return err
		}},
		{"runs of the account", func() error {
			resp, err := e.sync.ListSyncRuns(as(t, "2"), &ingestv1.ListSyncRunsRequest{AccountId: acct.AccountId})
			if err == nil && len(resp.Runs) > 0 {
				return status.Error(codes.OK, "another seller's runs were listed")
			}
			return status.Error(codes.NotFound, "not found")
		}},
		{"the run", func() error {
			_, err := e.sync.GetSyncRun(as(t, "2"), &ingestv1.GetSyncRunRequest{RunId: run.RunId})
			return err
		}},
		{"unknown account", func() error {
			_, err := e.accounts.ReconnectAccount(as(t, "1"), &ingestv1.ReconnectAccountRequest{AccountId: "424242", Credentials: cafe24Creds("x")})
			return err
		}},
	} {
		wantCode(t, c.name, c.call(), codes.NotFound, "not found")
	}
	// Nothing of seller 1 changed hands.
	var n int
	if err := e.st.DB().QueryRow("SELECT COUNT(*) FROM platform_accounts WHERE seller_id = 2").Scan(&n); err != nil || n != 0 {
		t.Fatalf("seller 2 has %d accounts", n)
	}
	// Reconnecting with credentials of another mall is refused.
	e.collectors[commercev1.Platform_PLATFORM_CAFE24].ExternalAccountID = "someone-elses-mall"
	_, err := e.accounts.ReconnectAccount(as(t, "1"), &ingestv1.ReconnectAccountRequest{AccountId: acct.AccountId, Credentials: cafe24Creds("x")})
	wantCode(t, "reconnect to another mall", err, codes.FailedPrecondition, "not \"shop-PLATFORM_CAFE24\"")
}

func TestAccountsShowTheirNextScheduledSync(t *testing.T) {
	e := start(t, func(d *app.Deps) { d.DailySchedule, d.IntradaySchedule = "0 8 * * *", "0 11-23/3 * * *" })
	acct := e.addCafe24(t, "1")
	e.final(t, "1", e.latestRun(t, "1", acct.AccountId).RunId)
	list, err := e.accounts.ListAccounts(as(t, "1"), &ingestv1.ListAccountsRequest{})
	if err != nil || len(list.Accounts) != 1 {
		t.Fatal(list, err)
	}
	// The harness clock reads 2024-04-21 (UTC) onwards: 09:00 in Seoul, so
	// the next slot is the 11:00 intraday refresh, 02:00 UTC.
	next := list.Accounts[0].NextSyncAt
	if next == nil || next.AsTime().Format(time.RFC3339) != "2024-04-21T02:00:00Z" {
		t.Fatalf("next_sync_at = %v, want 2024-04-21T02:00:00Z", next)
	}
}
