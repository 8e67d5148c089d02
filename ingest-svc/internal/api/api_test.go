package api_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	ingestv1 "hlog.dev/proto/gen/hlog/ingest/v1"
	salesv1 "hlog.dev/proto/gen/hlog/sales/v1"
	"hlog.dev/proto/kit"
	"hlog.dev/proto/synth"

	"hlog.dev/ingest-svc/internal/dbdump"
	"hlog.dev/ingest-svc/internal/replay"
)

func wantCode(t *testing.T, what string, err error, code codes.Code, msgPart string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != code || !strings.Contains(st.Message(), msgPart) {
		t.Errorf("%s: got %v %q; want %v containing %q", what, st.Code(), st.Message(), code, msgPart)
	}
}

func TestCallsWithoutAValidSellerAreUnauthenticated(t *testing.T) {
	e := start(t)
	for _, seller := range []string{"", "abc", "0", "-1"} {
		ctx := as(t, "1")
		ctx = metadata.NewOutgoingContext(ctx, metadata.Pairs()) // drop the seller
		if seller != "" {
			ctx = kit.WithSeller(ctx, seller)
		}
		_, err := e.accounts.ListAccounts(ctx, &ingestv1.ListAccountsRequest{})
		wantCode(t, "ListAccounts seller "+seller, err, codes.Unauthenticated, kit.SellerHeader)
		_, err = e.sync.TriggerSync(ctx, &ingestv1.TriggerSyncRequest{AccountId: "1"})
		wantCode(t, "TriggerSync seller "+seller, err, codes.Unauthenticated, kit.SellerHeader)
		_, err = e.sales.GetSummary(ctx, &salesv1.GetSummaryRequest{StartDate: "2024-01-01", EndDate: "2024-01-31"})
		wantCode(t, "GetSummary seller "+seller, err, codes.Unauthenticated, kit.SellerHeader)
		stream, err := e.sync.WatchSyncRun(ctx, &ingestv1.WatchSyncRunRequest{RunId: "1"})
		if err == nil {
			_, err = stream.Recv()
		}
		wantCode(t, "WatchSyncRun seller "+seller, err, codes.Unauthenticated, kit.SellerHeader)
	}
}

func TestAddAccountChecksPlatformAndCredentials(t *testing.T) {
	e := start(t)
	ably := &collectorv1.Credentials{Platform: &collectorv1.Credentials_Ably{Ably: &collectorv1.AblyCredentials{Email: "a@b", Password: "pw"}}}
	cases := []struct {
		name string
		req  *ingestv1.AddAccountRequest
		msg  string
	}{
		{"no platform", &ingestv1.AddAccountRequest{Credentials: cafe24Creds("r")}, "platform must be one of"},
		{"unknown platform", &ingestv1.AddAccountRequest{Platform: 42, Credentials: cafe24Creds("r")}, "platform must be one of"},
		{"no credentials", &ingestv1.AddAccountRequest{Platform: commercev1.Platform_PLATFORM_CAFE24}, "credentials are empty"},
		{"other platform's credentials", &ingestv1.AddAccountRequest{Platform: commercev1.Platform_PLATFORM_CAFE24, Credentials: ably}, "credentials are for ably"},
	}
	for _, c := range cases {
		_, err := e.accounts.AddAccount(as(t, "1"), c.req)
		wantCode(t, c.name, err, codes.InvalidArgument, c.msg)
	}

	// The collector's verdict reaches the seller as it said it.
	e.collectors[commercev1.Platform_PLATFORM_ABLY].FailCheck(status.Error(codes.Unauthenticated, "Ably rejected the e-mail or password"))
	_, err := e.accounts.AddAccount(as(t, "1"), &ingestv1.AddAccountRequest{Platform: commercev1.Platform_PLATFORM_ABLY, Credentials: ably})
	wantCode(t, "wrong password", err, codes.Unauthenticated, "Ably rejected the e-mail or password")

	list, err := e.accounts.ListAccounts(as(t, "1"), &ingestv1.ListAccountsRequest{})
	if err != nil || len(list.Accounts) != 0 {
		t.Fatalf("after only failed adds: %v accounts, %v; want none", list.GetAccounts(), err)
	}

	acct := e.addCafe24(t, "1")
	e.final(t, "1", e.latestRun(t, "1", acct.AccountId).RunId)
	_, err = e.accounts.AddAccount(as(t, "1"), &ingestv1.AddAccountRequest{Platform: commercev1.Platform_PLATFORM_CAFE24, Credentials: cafe24Creds("r2")})
	wantCode(t, "same mall again", err, codes.AlreadyExists, "already connected")
}

func TestSyncLoadsGroundTruthAndKeepsRotatedCredentialsSealed(t *testing.T) {
	e := start(t)
	cafe24 := e.collectors[commercev1.Platform_PLATFORM_CAFE24]
	// The check refreshes the token pair, and so does the run: Cafe24
	// refresh tokens are single-use, so each new pair must be kept.
	cafe24.RotateCredentials(cafe24Creds("refresh-1"))
	acct := e.addCafe24(t, "1")
	if acct.Platform != commercev1.Platform_PLATFORM_CAFE24 || acct.ExternalAccountId != "shop-PLATFORM_CAFE24" || acct.Status != ingestv1.AccountStatus_ACCOUNT_STATUS_ACTIVE {
		t.Fatalf("account = %v", acct)
	}
	cafe24.RotateCredentials(cafe24Creds("refresh-2"))

	run := e.latestRun(t, "1", acct.AccountId)
	if run.Trigger != ingestv1.SyncTrigger_SYNC_TRIGGER_BACKFILL {
		t.Fatalf("first run trigger %v, want BACKFILL", run.Trigger)
	}
	seen := e.watch(t, "1", run.RunId)
	final := seen[len(seen)-1]
	if final.State != ingestv1.SyncRunState_SYNC_RUN_STATE_SUCCEEDED || final.Error != nil || final.FinishedAt == nil {
		t.Fatalf("run ended %v", final)
	}
	var loaded int64
	for _, s := range final.Streams {
		loaded += s.RecordsLoaded
	}
	want := len(e.truth.Orders) + len(e.truth.Lines) + len(e.truth.Products) + len(e.truth.Options) + len(e.truth.Categories) + len(e.truth.Coupons)
	if loaded != int64(want) || len(final.Streams) != len(replay.Streams) {
		t.Errorf("run reports %d records in %d streams, want %d in %d", loaded, len(final.Streams), want, len(replay.Streams))
	}

	// The run used what the check rotated, not what the seller typed.
	reqs := cafe24.Requests()
	if len(reqs) != 1 || reqs[0].GetCredentials().GetCafe24().GetRefreshToken() != "refresh-1" {
		t.Fatalf("collect requests used refresh tokens %v, want [refresh-1]", reqs)
	}
	if reqs[0].GetTimeZone() != "Asia/Seoul" {
		t.Errorf("collect time zone %q, want Asia/Seoul", reqs[0].GetTimeZone())
	}
	// And what the run rotated is stored, sealed.
	id := parseID(t, acct.AccountId)
	rc, err := e.st.LoadRunContext(as(t, "1"), 1, id)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(rc.Sealed.Ciphertext), "refresh-2") || rc.Sealed.KeyID != "test-1" {
		t.Fatalf("credentials stored in clear or without their key id (%q)", rc.Sealed.KeyID)
	}
	stored, err := e.box.Open(1, id, rc.Sealed)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(stored, cafe24Creds("refresh-2")) {
		t.Fatalf("stored credentials = %v, want the run's rotated pair", stored)
	}

	// The dashboard's numbers equal the ground truth.
	sum, err := e.sales.GetSummary(as(t, "1"), &salesv1.GetSummaryRequest{StartDate: "2024-02-01", EndDate: "2024-03-31"})
	if err != nil {
		t.Fatal(err)
	}
	truth, _ := synth.SalesTotals(e.truth.Orders, e.truth.Lines, seoul, synth.PaymentBasis, "2024-02-01", "2024-03-31")
	got := sum.Totals
	if got.Gross.MinorUnits != truth.Gross || got.Paid.MinorUnits != truth.Paid || got.Refunded.MinorUnits != truth.Refunded ||
		got.Net.MinorUnits != truth.Net || got.Orders != truth.Orders || got.Buyers != truth.Buyers || got.Units != truth.Units ||
		got.ReturnedUnits != truth.ReturnedUnits || got.CancelledUnits != truth.CancelledUnits || got.ExchangedUnits != truth.ExchangedUnits {
		t.Errorf("summary %v\nwant %+v", got, truth)
	}
	if sum.CurrencyCode != "KRW" || got.Paid.CurrencyCode != "KRW" || sum.TimeZone != "Asia/Seoul" || sum.PreviousStartDate != "2023-12-03" {
		t.Errorf("summary currency %q/%q zone %q previous start %q", sum.CurrencyCode, got.Paid.CurrencyCode, sum.TimeZone, sum.PreviousStartDate)
	}
	series, err := e.sales.GetTimeSeries(as(t, "1"), &salesv1.GetTimeSeriesRequest{
		StartDate: "2024-01-01", EndDate: "2024-03-31", Granularity: salesv1.Granularity_GRANULARITY_WEEK, Basis: salesv1.Basis_BASIS_ORDER_DATE,
	})
	if err != nil {
		t.Fatal(err)
	}
	wantSeries, _ := synth.SalesSeries(e.truth.Orders, e.truth.Lines, seoul, synth.OrderBasis, "2024-01-01", "2024-03-31", synth.Week)
	if len(series.Points) != len(wantSeries) {
		t.Fatalf("%d weekly points, want %d", len(series.Points), len(wantSeries))
	}
	for i, w := range wantSeries {
		p := series.Points[i]
		if p.Label != w.Label || p.StartDate != w.Start || p.EndDate != w.End || p.Totals.Net.MinorUnits != w.Totals.Net || p.Totals.Orders != w.Totals.Orders {
			t.Errorf("week %d: %s %s..%s net %d orders %d; want %s %s..%s net %d orders %d", i,
				p.Label, p.StartDate, p.EndDate, p.Totals.Net.MinorUnits, p.Totals.Orders, w.Label, w.Start, w.End, w.Totals.Net, w.Totals.Orders)
		}
	}
	top, err := e.sales.ListTopProducts(as(t, "1"), &salesv1.ListTopProductsRequest{StartDate: "2024-01-01", EndDate: "2024-03-31", Limit: 5})
	if err != nil || len(top.Products) != 5 || top.Products[0].AccountId != acct.AccountId || top.Products[0].Platform != commercev1.Platform_PLATFORM_CAFE24 {
		t.Fatalf("top products: %v, %v", top.GetProducts(), err)
	}

	// Nobody else sees any of it.
	other, err := e.sales.GetSummary(as(t, "2"), &salesv1.GetSummaryRequest{StartDate: "2024-02-01", EndDate: "2024-03-31"})
	if err != nil || other.Totals.Paid.MinorUnits != 0 || other.Totals.Orders != 0 {
		t.Fatalf("seller 2 sees %v, %v", other.GetTotals(), err)
	}
	_, err = e.sync.GetSyncRun(as(t, "2"), &ingestv1.GetSyncRunRequest{RunId: run.RunId})
	wantCode(t, "seller 2 reading seller 1's run", err, codes.NotFound, "not found")
}

func TestReplayedSyncChangesNoRow(t *testing.T) {
	e := start(t)
	cafe24 := e.collectors[commercev1.Platform_PLATFORM_CAFE24]
	acct := e.addCafe24(t, "1")
	if r := e.final(t, "1", e.latestRun(t, "1", acct.AccountId).RunId); r.State != ingestv1.SyncRunState_SYNC_RUN_STATE_SUCCEEDED {
		t.Fatalf("backfill ended %v", r)
	}
	sync := func() *ingestv1.SyncRun {
		trig, err := e.sync.TriggerSync(as(t, "1"), &ingestv1.TriggerSyncRequest{AccountId: acct.AccountId})
		if err != nil {
			t.Fatal(err)
		}
		if trig.Run.Trigger != ingestv1.SyncTrigger_SYNC_TRIGGER_MANUAL {
			t.Fatalf("trigger = %v, want MANUAL", trig.Run.Trigger)
		}
		final := e.final(t, "1", trig.Run.RunId)
		if final.State != ingestv1.SyncRunState_SYNC_RUN_STATE_SUCCEEDED {
			t.Fatalf("sync ended %v", final)
		}
		return final
	}

	// The same sync again, from the saved cursors: nothing changes, not
	// even a cursor's timestamp.
	before := dbdump.Tables(t, e.st.DB(), dbdump.DataTables...)
	sync()
	if diff := dbdump.Diff(before, dbdump.Tables(t, e.st.DB(), dbdump.DataTables...)); diff != "" {
		t.Fatalf("syncing again changed rows:\n%s", diff)
	}

	// The collector forgets its place and sends everything again, with the
	// same checkpoints: at-least-once delivery at its worst. Every record
	// row stays as it was, and the cursors end where they were.
	cursorsBefore, err := e.st.Cursors(as(t, "1"), 1, parseID(t, acct.AccountId))
	if err != nil {
		t.Fatal(err)
	}
	cafe24.SetFullRefresh(true)
	final := sync()
	var loaded int64
	for _, s := range final.Streams {
		loaded += s.RecordsLoaded
	}
	if loaded == 0 {
		t.Fatal("the replay loaded nothing: the test proves nothing")
	}
	records := func(dump map[string][]string) map[string][]string {
		delete(dump, "stream_cursors")
		return dump
	}
	if diff := dbdump.Diff(records(before), dbdump.Tables(t, e.st.DB(), dbdump.RecordTables...)); diff != "" {
		t.Fatalf("replaying the same sync changed rows:\n%s", diff)
	}
	cursorsAfter, err := e.st.Cursors(as(t, "1"), 1, parseID(t, acct.AccountId))
	if err != nil {
		t.Fatal(err)
	}
	if len(cursorsAfter) != len(cursorsBefore) || len(cursorsBefore) != len(replay.Streams) {
		t.Fatalf("cursors %v after the replay, %v before", cursorsAfter, cursorsBefore)
	}
	for stream, c := range cursorsBefore {
		if string(cursorsAfter[stream]) != string(c) {
			t.Errorf("%s cursor %q after the replay, %q before", stream, cursorsAfter[stream], c)
		}
	}
}

func TestCollectorErrorFailsTheRunAndTheNextRunResumes(t *testing.T) {
	e := start(t)
	cafe24 := e.collectors[commercev1.Platform_PLATFORM_CAFE24]
	const msg = "Cafe24 refused the refresh token: reconnect the mall in H-log"
	cafe24.FailCollect(3, status.Error(codes.Unauthenticated, msg))
	acct := e.addCafe24(t, "1")
	final := e.final(t, "1", e.latestRun(t, "1", acct.AccountId).RunId)
	if final.State != ingestv1.SyncRunState_SYNC_RUN_STATE_FAILED || final.Error == nil ||
		final.Error.Code != "UNAUTHENTICATED" || final.Error.Message != msg || !final.Error.NeedsSeller {
		t.Fatalf("failed run = %v; want FAILED UNAUTHENTICATED needs_seller with the collector's message", final)
	}
	list, err := e.accounts.ListAccounts(as(t, "1"), &ingestv1.ListAccountsRequest{})
	if err != nil || len(list.Accounts) != 1 {
		t.Fatal(list, err)
	}
	if a := list.Accounts[0]; a.Status != ingestv1.AccountStatus_ACCOUNT_STATUS_NEEDS_SELLER || a.StatusMessage != msg || a.LastSuccessAt != nil {
		t.Fatalf("account after the failure = %v", a)
	}
	// What was checkpointed before the failure stays.
	cursors, err := e.st.Cursors(as(t, "1"), 1, parseID(t, acct.AccountId))
	if err != nil || len(cursors) == 0 {
		t.Fatalf("cursors after a failure after 3 batches: %v, %v", cursors, err)
	}

	cafe24.FailCollect(0, nil)
	trig, err := e.sync.TriggerSync(as(t, "1"), &ingestv1.TriggerSyncRequest{AccountId: acct.AccountId})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.final(t, "1", trig.Run.RunId); r.State != ingestv1.SyncRunState_SYNC_RUN_STATE_SUCCEEDED || r.Error != nil {
		t.Fatalf("retry ended %v", r)
	}
	reqs := cafe24.Requests()
	resumed := false
	for _, s := range reqs[len(reqs)-1].Streams {
		resumed = resumed || len(s.Cursor) > 0
	}
	if !resumed {
		t.Fatal("the second run started from scratch instead of the saved cursors")
	}
	var lines int
	if err := e.st.DB().QueryRow("SELECT COUNT(*) FROM order_lines").Scan(&lines); err != nil || lines != len(e.truth.Lines) {
		t.Fatalf("%d lines after the resumed run, want %d", lines, len(e.truth.Lines))
	}
	list, _ = e.accounts.ListAccounts(as(t, "1"), &ingestv1.ListAccountsRequest{})
	if a := list.Accounts[0]; a.Status != ingestv1.AccountStatus_ACCOUNT_STATUS_ACTIVE || a.StatusMessage != "" || a.LastSuccessAt == nil {
		t.Fatalf("account after the successful run = %v", a)
	}
}

func TestTriggerSyncReturnsTheActiveRun(t *testing.T) {
	e := start(t)
	release := e.collectors[commercev1.Platform_PLATFORM_CAFE24].Hold()
	defer release()
	acct := e.addCafe24(t, "1")
	backfill := e.latestRun(t, "1", acct.AccountId)
	trig, err := e.sync.TriggerSync(as(t, "1"), &ingestv1.TriggerSyncRequest{AccountId: acct.AccountId})
	if err != nil {
		t.Fatal(err)
	}
	if trig.Run.RunId != backfill.RunId {
		t.Fatalf("TriggerSync during the backfill made run %s, want the active %s", trig.Run.RunId, backfill.RunId)
	}
	release()
	if r := e.final(t, "1", backfill.RunId); r.State != ingestv1.SyncRunState_SYNC_RUN_STATE_SUCCEEDED {
		t.Fatalf("backfill ended %v", r)
	}
}

func TestSyncBadInput(t *testing.T) {
	e := start(t)
	acct := e.addCafe24(t, "1")
	e.final(t, "1", e.latestRun(t, "1", acct.AccountId).RunId)
	_, err := e.sync.TriggerSync(as(t, "1"), &ingestv1.TriggerSyncRequest{})
	wantCode(t, "no account id", err, codes.InvalidArgument, "account_id is required")
	_, err = e.sync.TriggerSync(as(t, "1"), &ingestv1.TriggerSyncRequest{AccountId: "12345"})
	wantCode(t, "unknown account", err, codes.NotFound, `account "12345" not found`)
	_, err = e.sync.TriggerSync(as(t, "1"), &ingestv1.TriggerSyncRequest{AccountId: "not-a-number"})
	wantCode(t, "malformed account", err, codes.NotFound, "not found")
	_, err = e.sync.TriggerSync(as(t, "2"), &ingestv1.TriggerSyncRequest{AccountId: acct.AccountId})
	wantCode(t, "another seller's account", err, codes.NotFound, "not found")
	_, err = e.sync.TriggerSync(as(t, "1"), &ingestv1.TriggerSyncRequest{AccountId: acct.AccountId, Streams: []string{"orders", "reviews"}})
	wantCode(t, "unknown stream", err, codes.InvalidArgument, `unknown stream "reviews"`)
	_, err = e.sync.GetSyncRun(as(t, "1"), &ingestv1.GetSyncRunRequest{RunId: "999"})
	wantCode(t, "unknown run", err, codes.NotFound, "not found")
	_, err = e.sync.ListSyncRuns(as(t, "1"), &ingestv1.ListSyncRunsRequest{PageToken: "garbage"})
	wantCode(t, "bad page token", err, codes.InvalidArgument, "page_token")
	_, err = e.sync.ListSyncRuns(as(t, "1"), &ingestv1.ListSyncRunsRequest{PageSize: -1})
	wantCode(t, "negative page size", err, codes.InvalidArgument, "page_size")
	_, err = e.accounts.RemoveAccount(as(t, "2"), &ingestv1.RemoveAccountRequest{AccountId: acct.AccountId})
	wantCode(t, "removing another seller's account", err, codes.NotFound, "not found")
}

func TestListSyncRunsPagesNewestFirst(t *testing.T) {
	e := start(t)
	acct := e.addCafe24(t, "1")
	ids := []string{e.final(t, "1", e.latestRun(t, "1", acct.AccountId).RunId).RunId}
	for range 2 {
		trig, err := e.sync.TriggerSync(as(t, "1"), &ingestv1.TriggerSyncRequest{AccountId: acct.AccountId, Streams: []string{"categories"}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.final(t, "1", trig.Run.RunId).RunId)
	}
	page1, err := e.sync.ListSyncRuns(as(t, "1"), &ingestv1.ListSyncRunsRequest{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(page1.Runs) != 2 || page1.Runs[0].RunId != ids[2] || page1.Runs[1].RunId != ids[1] || page1.NextPageToken == "" {
		t.Fatalf("page 1 = %v, token %q; want runs %s, %s and a token", page1.Runs, page1.NextPageToken, ids[2], ids[1])
	}
	page2, err := e.sync.ListSyncRuns(as(t, "1"), &ingestv1.ListSyncRunsRequest{PageSize: 2, PageToken: page1.NextPageToken})
	if err != nil {
		t.Fatal(err)
	}
	if len(page2.Runs) != 1 || page2.Runs[0].RunId != ids[0] || page2.NextPageToken != "" {
		t.Fatalf("page 2 = %v, token %q; want run %s and no token", page2.Runs, page2.NextPageToken, ids[0])
	}
	if streams := page1.Runs[0].Streams; len(streams) != 1 || streams[0].Stream != "categories" {
		t.Fatalf("a categories-only run reports streams %v", streams)
	}
}

func TestRemoveAccountDeletesItsData(t *testing.T) {
	e := start(t)
	acct := e.addCafe24(t, "1")
	e.final(t, "1", e.latestRun(t, "1", acct.AccountId).RunId)
	if _, err := e.accounts.RemoveAccount(as(t, "1"), &ingestv1.RemoveAccountRequest{AccountId: acct.AccountId}); err != nil {
		t.Fatal(err)
	}
	for table, rows := range dbdump.Tables(t, e.st.DB(), append(dbdump.DataTables, "platform_accounts", "sync_runs", "sync_run_streams")...) {
		if len(rows) != 0 {
			t.Errorf("%s keeps %d rows of the removed account", table, len(rows))
		}
	}
	_, err := e.accounts.RemoveAccount(as(t, "1"), &ingestv1.RemoveAccountRequest{AccountId: acct.AccountId})
	wantCode(t, "removing twice", err, codes.NotFound, "not found")
}

func TestSalesBadInput(t *testing.T) {
	e := start(t)
	ctx := as(t, "1")
	cases := []struct {
		name string
		call func() error
		msg  string
	}{
		{"end before start", func() error {
			_, err := e.sales.GetSummary(ctx, &salesv1.GetSummaryRequest{StartDate: "2024-01-31", EndDate: "2024-01-01"})
			return err
		}, "end_date 2024-01-01 is before start_date 2024-01-31"},
		{"malformed date", func() error {
			_, err := e.sales.GetSummary(ctx, &salesv1.GetSummaryRequest{StartDate: "2024/01/01", EndDate: "2024-01-31"})
			return err
		}, `start_date "2024/01/01" is not a date`},
		{"ten years", func() error {
			_, err := e.sales.GetSummary(ctx, &salesv1.GetSummaryRequest{StartDate: "2014-01-01", EndDate: "2023-12-31"})
			return err
		}, "at most"},
		{"no granularity", func() error {
			_, err := e.sales.GetTimeSeries(ctx, &salesv1.GetTimeSeriesRequest{StartDate: "2024-01-01", EndDate: "2024-01-31"})
			return err
		}, "granularity must be one of DAY, WEEK, MONTH, YEAR"},
		{"unknown granularity", func() error {
			_, err := e.sales.GetTimeSeries(ctx, &salesv1.GetTimeSeriesRequest{StartDate: "2024-01-01", EndDate: "2024-01-31", Granularity: 99})
			return err
		}, "granularity must be one of DAY, WEEK, MONTH, YEAR"},
		{"unknown platform", func() error {
			_, err := e.sales.GetSummary(ctx, &salesv1.GetSummaryRequest{StartDate: "2024-01-01", EndDate: "2024-01-31", Platforms: []commercev1.Platform{0}})
			return err
		}, "is not a platform"},
		{"unknown basis", func() error {
			_, err := e.sales.GetSummary(ctx, &salesv1.GetSummaryRequest{StartDate: "2024-01-01", EndDate: "2024-01-31", Basis: 7})
			return err
		}, "basis must be"},
		{"limit too big", func() error {
			_, err := e.sales.ListTopProducts(ctx, &salesv1.ListTopProductsRequest{StartDate: "2024-01-01", EndDate: "2024-01-31", Limit: 101})
			return err
		}, "limit must be"},
	}
	for _, c := range cases {
		wantCode(t, c.name, c.call(), codes.InvalidArgument, c.msg)
	}

	// A seller with no data gets zeros in KRW, every bucket present.
	series, err := e.sales.GetTimeSeries(ctx, &salesv1.GetTimeSeriesRequest{StartDate: "2024-01-30", EndDate: "2024-03-02", Granularity: salesv1.Granularity_GRANULARITY_MONTH})
	if err != nil {
		t.Fatal(err)
	}
	labels := []string{}
	for _, p := range series.Points {
		labels = append(labels, p.Label+":"+p.StartDate+".."+p.EndDate)
	}
	if got := strings.Join(labels, " "); got != "2024-01:2024-01-30..2024-01-31 2024-02:2024-02-01..2024-02-29 2024-03:2024-03-01..2024-03-02" {
		t.Fatalf("empty monthly series = %s", got)
	}
	if series.CurrencyCode != "KRW" || series.TimeZone != "Asia/Seoul" {
		t.Fatalf("empty series currency %q zone %q", series.CurrencyCode, series.TimeZone)
	}
}

func parseID(t *testing.T, s string) uint64 {
	t.Helper()
	var id uint64
	for _, r := range s {
		if r < '0' || r > '9' {
			t.Fatalf("id %q is not decimal", s)
		}
		id = id*10 + uint64(r-'0')
	}
	return id
}
