package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"hlog.dev/proto/kit/mysqltest"
)

// movableClock is a clock tests move by hand.
type movableClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *movableClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *movableClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func openClocked(t *testing.T) (*Store, *movableClock) {
	t.Helper()
	clock := &movableClock{now: fixedNow}
	st, err := Open(context.Background(), mysqltest.Start(t).DSN, Options{Now: clock.Now, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, clock
}

func TestExpiredLeaseIsTakenOverAsTheNextAttemptAndDiesAfterTheLast(t *testing.T) {
	st, clock := openClocked(t)
	ctx := context.Background()
	_, run := addAccount(t, st, 1, "mall")
	a, found, err := st.Claim(ctx, "replica-a", time.Minute, nil, 0)
	if err != nil || !found || a.RunID != run.RunID || a.Attempt != 1 {
		t.Fatalf("first claim = %+v, %v, %v", a, found, err)
	}
	clock.Add(30 * time.Second)
	if err := st.RenewLease(ctx, 1, a.RunID, "replica-a", time.Minute); err != nil {
		t.Fatal(err)
	}
	clock.Add(59 * time.Second)
	if _, found, _ := st.Claim(ctx, "replica-b", time.Minute, nil, 0); found {
		t.Fatal("a run with a renewed lease was taken over")
	}
	clock.Add(2 * time.Second) // replica-a stopped renewing: its lease ends
	b, found, err := st.Claim(ctx, "replica-b", time.Minute, nil, 0)
	if err != nil || !found || b.RunID != run.RunID || b.Attempt != 2 {
		t.Fatalf("takeover = %+v, %v, %v; want the same run as attempt 2", b, found, err)
	}
	if err := st.RenewLease(ctx, 1, a.RunID, "replica-a", time.Minute); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("the old owner renewing: %v, want ErrLeaseLost", err)
	}
	clock.Add(2 * time.Minute)
	if c, found, _ := st.Claim(ctx, "replica-c", time.Minute, nil, 0); !found || c.Attempt != 3 {
		t.Fatalf("third attempt = %+v, %v", c, found)
	}
	clock.Add(2 * time.Minute)
	// The third worker died too: that was the last attempt.
	if _, found, err := st.Claim(ctx, "replica-d", time.Minute, nil, 0); found || err != nil {
		t.Fatalf("claim after the last attempt: found %v, %v", found, err)
	}
	dead, err := st.GetRun(ctx, 1, run.RunID)
	if err != nil || dead.State != RunFailed || dead.ErrorCode != "ABORTED" || dead.FinishedAt == nil {
		t.Fatalf("run after its last attempt = %+v, %v; want FAILED ABORTED", dead, err)
	}
}

func TestRetryWaitsForItsTimeAndKeepsTheAccountBusy(t *testing.T) {
	st, clock := openClocked(t)
	ctx := context.Background()
	acct, run := addAccount(t, st, 1, "mall")
	r, _, _ := st.Claim(ctx, "w", time.Minute, nil, 0)
	at := clock.Now().Add(10 * time.Minute)
	if err := st.FinishRun(ctx, 1, r.RunID, "w", &RunFailure{Code: "UNAVAILABLE", Message: "503", RetryAt: &at}); err != nil {
		t.Fatal(err)
	}
	got, _ := st.GetRun(ctx, 1, run.RunID)
	if got.State != RunRetrying || got.Attempt != 2 || got.NextAttemptAt == nil || !got.NextAttemptAt.Equal(at) || got.ErrorMessage != "503" {
		t.Fatalf("retrying run = %+v", got)
	}
	if again, created, _ := st.EnqueueRun(ctx, 1, acct.AccountID, TriggerManual, nil); created || again.RunID != run.RunID {
		t.Fatal("a retrying run did not keep its account busy")
	}
	if _, found, _ := st.Claim(ctx, "w", time.Minute, nil, 0); found {
		t.Fatal("a retry was claimed before its time")
	}
	clock.Add(10 * time.Minute)
	if r, found, _ := st.Claim(ctx, "w", time.Minute, nil, 0); !found || r.RunID != run.RunID || r.Attempt != 2 {
		t.Fatalf("due retry = %+v, %v", r, found)
	}
}

func TestPlatformCapsHoldAcrossClaimers(t *testing.T) {
	st, clock := openClocked(t)
	ctx := context.Background()
	caps := Caps{"CAFE24": 2}
	if err := st.EnsureSlots(ctx, caps); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"m1", "m2", "m3"} {
		addAccount(t, st, 1, m)
	}
	// Two "replicas" claim concurrently: only two runs start.
	var mu sync.Mutex
	var claimed []Run
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			r, found, err := st.Claim(ctx, "replica", time.Minute, caps, i)
			if err != nil {
				t.Error(err)
			}
			if found {
				mu.Lock()
				claimed = append(claimed, r)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(claimed) != 2 {
		t.Fatalf("%d runs claimed under a cap of 2", len(claimed))
	}
	if err := st.FinishRun(ctx, 1, claimed[0].RunID, "replica", nil); err != nil {
		t.Fatal(err)
	}
	third, found, err := st.Claim(ctx, "replica", time.Minute, caps, 0)
	if err != nil || !found {
		t.Fatalf("claim after a run finished: %v, %v", found, err)
	}
	// A slot whose holder died is freed by lease expiry.
	clock.Add(2 * time.Minute)
	again, found, err := st.Claim(ctx, "replica-2", time.Minute, caps, 0)
	if err != nil || !found || (again.RunID != third.RunID && again.RunID != claimed[1].RunID) {
		t.Fatalf("takeover under the cap = %+v, %v, %v", again, found, err)
	}
}

func TestSlotEnqueueIsIdempotent(t *testing.T) {
	st, _ := openClocked(t)
	ctx := context.Background()
	a, backfill := addAccount(t, st, 1, "mall")
	if created, err := st.EnqueueSlot(ctx, 1, a.AccountID, "daily@2024-03-01T08:00+09:00"); err != nil || created {
		t.Fatalf("slot while the backfill is queued: %v, %v; want nothing queued", created, err)
	}
	r, _, _ := st.Claim(ctx, "w", time.Minute, nil, 0)
	if r.RunID != backfill.RunID {
		t.Fatal("claimed something else")
	}
	if err := st.FinishRun(ctx, 1, r.RunID, "w", nil); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		created, err := st.EnqueueSlot(ctx, 1, a.AccountID, "daily@2024-03-02T08:00+09:00")
		if err != nil || created != want {
			t.Fatalf("enqueue %d of the same slot: %v, %v; want %v", i+1, created, err, want)
		}
	}
	s, _, _ := st.Claim(ctx, "w", time.Minute, nil, 0)
	if err := st.FinishRun(ctx, 1, s.RunID, "w", nil); err != nil {
		t.Fatal(err)
	}
	// Finished, the slot still does not queue again (a late replica).
	if created, _ := st.EnqueueSlot(ctx, 1, a.AccountID, "daily@2024-03-02T08:00+09:00"); created {
		t.Fatal("a finished slot was queued again")
	}
	if created, _ := st.EnqueueSlot(ctx, 9, a.AccountID, "daily@2024-03-03T08:00+09:00"); created {
		t.Fatal("a slot was queued for another seller's account")
	}
}
