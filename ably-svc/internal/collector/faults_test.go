package collector_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"hlog.dev/ably-svc/internal/collector"
	"hlog.dev/ably-svc/sandbox"
	"hlog.dev/proto/conformance"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
)

// merge folds a run's messages into r the way ingest does.
func merge(r *conformance.Result, msgs []*collectorv1.CollectResponse) (lines int) {
	for _, m := range msgs {
		switch x := m.Message.(type) {
		case *collectorv1.CollectResponse_Records:
			for _, o := range x.Records.Orders {
				r.Orders[o.SourceId] = o
			}
			for _, l := range x.Records.OrderLines {
				r.Lines[l.SourceId] = l
				lines++
			}
		case *collectorv1.CollectResponse_Checkpoint:
			r.Cursors[x.Checkpoint.Stream] = x.Checkpoint.Cursor
		case *collectorv1.CollectResponse_CredentialUpdate:
			r.Credentials = x.CredentialUpdate.Credentials
		}
	}
	return lines
}

func kinds(msgs []*collectorv1.CollectResponse) map[string]int {
	out := map[string]int{}
	for _, m := range msgs {
		switch m.Message.(type) {
		case *collectorv1.CollectResponse_Records:
			out["records"]++
		case *collectorv1.CollectResponse_Checkpoint:
			out["checkpoint"]++
		case *collectorv1.CollectResponse_CredentialUpdate:
			out["credential_update"]++
		case *collectorv1.CollectResponse_Progress:
			out["progress"]++
		}
	}
	return out
}

// complete checks that what was merged equals the ground truth.
func (h *harness) complete(label string, got *conformance.Result) {
	h.t.Helper()
	if len(got.Lines) == 0 {
		h.t.Fatalf("%s: nothing collected", label)
	}
	for _, p := range conformance.Diff(h.truth(), got, []string{"orders"}, nil) {
		h.t.Errorf("%s: %s", label, p)
	}
}

// debugFiles checks that a failed run's message names a screenshot and the
// page HTML that exist.
func debugFiles(t *testing.T, err error) {
	t.Helper()
	m := regexp.MustCompile(`screenshot (\S+\.png), page (\S+\.html)`).FindStringSubmatch(status.Convert(err).Message())
	if m == nil {
		t.Fatalf("error does not name its debug files: %v", err)
	}
	for _, f := range m[1:] {
		if st, serr := os.Stat(f); serr != nil || st.Size() == 0 {
			t.Errorf("debug file %s: %v", f, serr)
		}
	}
}

func TestWrongPasswordSignsInExactlyOnce(t *testing.T) {
	h := newHarness(t, options{})
	msgs, err := h.collect(h.credentials("wrong password"), nil, h.backfillFrom())
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(status.Convert(err).Message(), "did not accept the e-mail or password") {
		t.Fatalf("got %v, want FAILED_PRECONDITION saying the password was not accepted", err)
	}
	debugFiles(t, err)
	if k := kinds(msgs); k["records"]+k["checkpoint"]+k["credential_update"] != 0 {
		t.Errorf("a rejected sign-in still sent %v", k)
	}
	if got := h.state().LoginAttempts; got != 1 {
		t.Fatalf("sign-in attempted %d times, want exactly 1", got)
	}
	// ingest retries failed runs, and a seller may press "check" again: the
	// rejected password is never sent to the site again (5 failures lock).
	_, err = h.collect(h.credentials("wrong password"), nil, h.backfillFrom())
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("second run: %v", err)
	}
	_, err = h.client.CheckCredentials(context.Background(), &collectorv1.CheckCredentialsRequest{Credentials: h.credentials("wrong password")})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("check: %v", err)
	}
	if st := h.state(); st.LoginAttempts != 1 || st.Locked {
		t.Fatalf("after retries: %d sign-in attempts, locked %v; want 1 and unlocked", st.LoginAttempts, st.Locked)
	}
	// The corrected password works at once.
	got := conformance.NewResult(nil)
	msgs, err = h.collect(h.credentials(password), nil, h.backfillFrom())
	if err != nil {
		t.Fatal(err)
	}
	merge(got, msgs)
	h.complete("after fixing the password", got)
}

func TestLockedAccountIsReportedAndNotRetried(t *testing.T) {
	h := newHarness(t, options{})
	// Someone else mistyped the password five times on the site.
	for range sandbox.LockoutAfter {
		resp, err := h.postLogin("x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if !h.state().Locked {
		t.Fatal("sandbox did not lock the account after 5 wrong passwords")
	}
	before := h.state().LoginAttempts
	_, err := h.collect(h.credentials(password), nil, h.backfillFrom())
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(status.Convert(err).Message(), "locked") {
		t.Fatalf("got %v, want FAILED_PRECONDITION about the lock", err)
	}
	_, _ = h.collect(h.credentials(password), nil, h.backfillFrom())
	if got := h.state().LoginAttempts - before; got != 1 {
		t.Fatalf("%d sign-in attempts on a locked account, want 1", got)
	}
}

func TestSavedSessionSkipsSignIn(t *testing.T) {
	h := newHarness(t, options{})
	check, err := h.client.CheckCredentials(context.Background(), &collectorv1.CheckCredentialsRequest{Credentials: h.credentials(password)})
	if err != nil {
		t.Fatal(err)
	}
	if check.ExternalAccountId != email || check.DisplayName == "" || check.RotatedCredentials.GetAbly().GetSessionToken() == "" {
		t.Fatalf("check answered %v", check)
	}
	// ingest stores the rotated credentials and sends them from then on.
	creds := check.RotatedCredentials
	got := conformance.NewResult(creds)
	for step := range 3 {
		if step > 0 {
			h.advance(2 * time.Hour)
		}
		msgs, err := h.collect(got.Credentials, got.Cursors["orders"], h.backfillFrom())
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		merge(got, msgs)
	}
	if st := h.state(); st.SignIns != 1 || st.LoginAttempts != 1 {
		t.Fatalf("%d sign-ins, %d attempts; want the check's one sign-in only", st.SignIns, st.LoginAttempts)
	}
	h.complete("with a saved session", got)

	// Once the session has expired, the next run signs in once more and
	// hands on the new session.
	h.advance(12 * time.Hour)
	msgs, err := h.collect(got.Credentials, got.Cursors["orders"], time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if k := kinds(msgs); k["credential_update"] != 1 {
		t.Fatalf("after expiry: %v, want one credential update", k)
	}
	if first, ok := msgs[0].Message.(*collectorv1.CollectResponse_CredentialUpdate); !ok || first.CredentialUpdate.Credentials.GetAbly().SessionToken == creds.GetAbly().SessionToken {
		t.Fatalf("first message %v is not a new session", msgs[0])
	}
	if st := h.state(); st.SignIns != 2 {
		t.Fatalf("%d sign-ins after expiry, want 2", st.SignIns)
	}
}

func TestSessionExpiringMidRunSignsInOnceMore(t *testing.T) {
	h := newHarness(t, options{})
	h.fault(sandbox.Fault{Kind: sandbox.FaultExpireSession, Count: 1, After: 6})
	got := conformance.NewResult(h.credentials(password))
	msgs, err := h.collect(got.Credentials, nil, h.backfillFrom())
	if err != nil {
		t.Fatal(err)
	}
	merge(got, msgs)
	if k := kinds(msgs); k["credential_update"] != 2 {
		t.Errorf("%v: want a credential update per sign-in (2)", k)
	}
	if st := h.state(); st.SignIns != 2 || st.LoginAttempts != 2 {
		t.Errorf("%d sign-ins, %d attempts; want 2 and 2", st.SignIns, st.LoginAttempts)
	}
	h.complete("session expired mid-run", got)
}

func TestSessionExpiringOverAndOverStopsWithACheckpoint(t *testing.T) {
	h := newHarness(t, options{})
	h.fault(sandbox.Fault{Kind: sandbox.FaultExpireSession, Count: 50, After: 6})
	got := conformance.NewResult(h.credentials(password))
	msgs, err := h.collect(got.Credentials, nil, h.backfillFrom())
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("got %v, want UNAVAILABLE", err)
	}
	debugFiles(t, err)
	merge(got, msgs)
	if st := h.state(); st.LoginAttempts != 2 {
		t.Errorf("%d sign-in attempts, want 2 (one per session lifetime, no loop)", st.LoginAttempts)
	}
	if got.Cursors["orders"] == nil {
		t.Fatal("no checkpoint before the failure")
	}
	if err := h.sb.ClearFaults(email); err != nil {
		t.Fatal(err)
	}
	msgs, err = h.collect(got.Credentials, got.Cursors["orders"], time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	merge(got, msgs)
	h.complete("resumed", got)
}

func TestServerErrorsAreRetried(t *testing.T) {
	h := newHarness(t, options{})
	h.fault(sandbox.Fault{Kind: sandbox.FaultServerError, Count: 3, After: 4})
	got := conformance.NewResult(nil)
	msgs, err := h.collect(h.credentials(password), nil, h.backfillFrom())
	if err != nil {
		t.Fatal(err)
	}
	merge(got, msgs)
	h.complete("after 500s", got)
	if slept := h.clock.Slept(); slept < 2*time.Second {
		t.Errorf("slept %s in all: retries did not back off", slept)
	}
}

func TestServerErrorsThatPersistEndWithACheckpointToResumeFrom(t *testing.T) {
	h := newHarness(t, options{})
	// The pages' own calls count too: sign-in and the orders page make 3,
	// claims 2, then one or two calls per week of orders.
	h.fault(sandbox.Fault{Kind: sandbox.FaultServerError, Count: 100, After: 12})
	got := conformance.NewResult(nil)
	msgs, err := h.collect(h.credentials(password), nil, h.backfillFrom())
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "HTTP 500") {
		t.Fatalf("got %v, want UNAVAILABLE naming the 500s", err)
	}
	debugFiles(t, err)
	lines := merge(got, msgs)
	if got.Cursors["orders"] == nil || lines == 0 {
		t.Fatalf("failed run left %d lines and cursor %q", lines, got.Cursors["orders"])
	}
	if err := h.sb.ClearFaults(email); err != nil {
		t.Fatal(err)
	}
	msgs, err = h.collect(h.credentials(password), got.Cursors["orders"], time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	merge(got, msgs)
	h.complete("resumed after 500s", got)
}

func TestSlowSiteStillGivesCompleteData(t *testing.T) {
	h := newHarness(t, options{collector: func(c *collector.Config) { c.Site.Timeout = 2 * time.Second }})
	// Slower than the page timeout once (the call is retried), and slow
	// but in time for pages and calls after it.
	h.fault(sandbox.Fault{Kind: sandbox.FaultSlow, Count: 1, After: 3, Delay: 3 * time.Second})
	h.fault(sandbox.Fault{Kind: sandbox.FaultSlow, Count: 4, Delay: 300 * time.Millisecond})
	got := conformance.NewResult(nil)
	msgs, err := h.collect(h.credentials(password), nil, h.backfillFrom())
	if err != nil {
		t.Fatal(err)
	}
	merge(got, msgs)
	h.complete("slow site", got)
}

func TestNoticeModalsAreClosed(t *testing.T) {
	h := newHarness(t, options{seller: sandbox.SellerConfig{Email: email, Password: password, Seed: 7, OrdersPerDay: 8, Notice: true}})
	// A modal over the sign-in form and over the pages after it: the mask
	// swallows clicks until the modal is closed.
	h.fault(sandbox.Fault{Kind: sandbox.FaultModal, Count: 3})
	got := conformance.NewResult(nil)
	msgs, err := h.collect(h.credentials(password), nil, h.backfillFrom())
	if err != nil {
		t.Fatal(err)
	}
	merge(got, msgs)
	h.complete("with modals", got)
	if st := h.state(); st.LoginAttempts != 1 || len(st.Faults) != 0 {
		t.Errorf("%d sign-in attempts, faults left %v; want 1 attempt and every modal shown", st.LoginAttempts, st.Faults)
	}
}

func TestChangedLayoutFallsBackToTheExcel(t *testing.T) {
	h := newHarness(t, options{})
	h.fault(sandbox.Fault{Kind: sandbox.FaultLayout, Count: 1000})
	got := conformance.NewResult(nil)
	msgs, err := h.collect(h.credentials(password), nil, h.backfillFrom())
	if err != nil {
		t.Fatal(err)
	}
	merge(got, msgs)
	h.complete("from the Excel", got)
	st := h.state()
	if len(st.Faults) != 1 || st.Faults[0].Count == 1000 {
		t.Fatalf("the changed order list was never served: %v", st.Faults)
	}
}

func TestBrowserThatDiesIsStartedAgain(t *testing.T) {
	h := newHarness(t, options{})
	got := conformance.NewResult(nil)
	msgs, err := h.collect(h.credentials(password), nil, h.backfillFrom())
	if err != nil {
		t.Fatal(err)
	}
	merge(got, msgs)
	pid := h.pool.PID()
	if pid == 0 {
		t.Fatal("no browser process")
	}
	// Kill the browser this test's pool launched (its process group).
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	h.advance(24 * time.Hour)
	msgs, err = h.collect(got.Credentials, got.Cursors["orders"], time.Time{})
	if err != nil {
		t.Fatalf("after the browser died: %v", err)
	}
	merge(got, msgs)
	if h.pool.Starts() != 2 {
		t.Errorf("browser started %d times, want 2", h.pool.Starts())
	}
	h.complete("after a browser restart", got)
}
