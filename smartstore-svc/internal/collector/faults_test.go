package collector_test

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"hlog.dev/proto/conformance"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	"hlog.dev/smartstore-svc/sandbox"
)

// merge adds a run's messages to r the way ingest stores them, and returns
// the line ids the run sent, and those of them a later checkpoint covered.
func merge(r *conformance.Result, msgs []*collectorv1.CollectResponse) (sent, covered map[string]int) {
	sent, covered = map[string]int{}, map[string]int{}
	var pending []string
	for _, m := range msgs {
		switch x := m.Message.(type) {
		case *collectorv1.CollectResponse_Records:
			for _, o := range x.Records.Orders {
				r.Orders[o.SourceId] = o
			}
			for _, l := range x.Records.OrderLines {
				r.Lines[l.SourceId] = l
				sent[l.SourceId]++
				pending = append(pending, l.SourceId)
			}
			for _, p := range x.Records.Products {
				r.Products[p.SourceId] = p
			}
			for _, o := range x.Records.ProductOptions {
				r.Options[o.SourceId] = o
			}
			for _, c := range x.Records.Categories {
				r.Categories[c.SourceId] = c
			}
		case *collectorv1.CollectResponse_Checkpoint:
			r.Cursors[x.Checkpoint.Stream] = x.Checkpoint.Cursor
			if x.Checkpoint.Stream == "orders" {
				for _, id := range pending {
					covered[id]++
				}
				pending = nil
			}
		}
	}
	return sent, covered
}

func diff(t *testing.T, label string, h *harness, got *conformance.Result) {
	t.Helper()
	problems := conformance.Diff(h.truth(), got, []string{"orders"}, nil)
	for _, p := range problems {
		t.Errorf("%s: %s", label, p)
	}
}

// TestEveryFaultEndsInCompleteData switches each sandbox fault on in the
// middle of a first run's backfill (and, for the last cases, of a run
// following changes). Transient faults are ridden out within the run; the
// others end it with a message the seller can act on and a checkpoint, from
// which a run after the fault is cleared completes the data without
// re-sending what the checkpoint covered.
func TestEveryFaultEndsInCompleteData(t *testing.T) {
	cases := []struct {
		name        string
		fault       sandbox.Fault
		incremental bool
		code        codes.Code // OK: the run rides the fault out
		message     string     // part of the error message
		retryInfo   bool
	}{
		{name: "429 storm", fault: sandbox.Fault{Kind: sandbox.FaultRateLimit, After: 30, Count: 6}},
		{name: "endless 429s", fault: sandbox.Fault{Kind: sandbox.FaultRateLimit, After: 30, Count: 1000}, code: codes.ResourceExhausted, message: "rate limit", retryInfo: true},
		{name: "quota", fault: sandbox.Fault{Kind: sandbox.FaultQuotaLimit, After: 30, Count: 3}},
		{name: "quota exhausted", fault: sandbox.Fault{Kind: sandbox.FaultQuotaLimit, After: 30, Count: 1000}, code: codes.ResourceExhausted, message: "quota", retryInfo: true},
		{name: "500s", fault: sandbox.Fault{Kind: sandbox.FaultProxy, After: 30, Count: 3}},
		{name: "503s", fault: sandbox.Fault{Kind: sandbox.FaultBlock, After: 30, Count: 3}},
		{name: "504s", fault: sandbox.Fault{Kind: sandbox.FaultTimeout, After: 30, Count: 3}},
		{name: "endless 500s", fault: sandbox.Fault{Kind: sandbox.FaultProxy, After: 30, Count: 1000}, code: codes.Unavailable, message: "GW.PROXY"},
		{name: "endless 504s", fault: sandbox.Fault{Kind: sandbox.FaultTimeout, After: 30, Count: 1000}, code: codes.Unavailable, message: "GW.TIMEOUT"},
		{name: "token revoked mid-run", fault: sandbox.Fault{Kind: sandbox.FaultRevokeTokens, After: 30}},
		{name: "application revoked mid-run", fault: sandbox.Fault{Kind: sandbox.FaultRevokeApp, After: 30}, code: codes.FailedPrecondition, message: "Naver Commerce API Center"},
		{name: "IP not allowed mid-run", fault: sandbox.Fault{Kind: sandbox.FaultIPNotAllowed, After: 30}, code: codes.FailedPrecondition, message: "allowed IPs"},
		{name: "IP not allowed while following changes", fault: sandbox.Fault{Kind: sandbox.FaultIPNotAllowed, After: 25}, incremental: true, code: codes.FailedPrecondition, message: "allowed IPs"},
		{name: "endless 503s while following changes", fault: sandbox.Fault{Kind: sandbox.FaultBlock, After: 25, Count: 1000}, incremental: true, code: codes.Unavailable, message: "GW.BLOCK"},
		{name: "token revoked while following changes", fault: sandbox.Fault{Kind: sandbox.FaultRevokeTokens, After: 25}, incremental: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, options{})
			got := conformance.NewResult(nil)
			var cursor []byte
			if tc.incremental {
				msgs, err := h.collect(nil, h.backfillFrom())
				if err != nil {
					t.Fatal(err)
				}
				merge(got, msgs)
				cursor = got.Cursors["orders"]
				h.advance(5 * 24 * time.Hour)
			}
			if err := h.sb.AddFault(tc.fault); err != nil {
				t.Fatal(err)
			}
			slept := h.real.Slept()
			msgs, err := h.collect(cursor, h.backfillFrom())
			_, covered := merge(got, msgs)
			if tc.code == codes.OK {
				if err != nil {
					t.Fatalf("run with the fault: %v", err)
				}
				if left := h.sb.Faults(); len(left) != 0 {
					t.Fatalf("the run never met the fault: %v still pending", left)
				}
				if tc.fault.Kind == sandbox.FaultRateLimit && h.real.Slept()-slept < 10*time.Second {
					t.Errorf("backed off %s in all through a 429 storm", h.real.Slept()-slept)
				}
				diff(t, "after the fault", h, got)
				return
			}
			st := status.Convert(err)
			if st.Code() != tc.code || !strings.Contains(st.Message(), tc.message) {
				t.Fatalf("got %v, want %v with %q", err, tc.code, tc.message)
			}
			if tc.retryInfo {
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
			if len(covered) == 0 {
				t.Fatal("the run failed before its first checkpoint: nothing to resume from")
			}
			h.sb.ClearFaults()
			msgs, err = h.collect(got.Cursors["orders"], time.Time{})
			if err != nil {
				t.Fatalf("resumed run: %v", err)
			}
			sent, _ := merge(got, msgs)
			again := 0
			for id := range sent {
				if covered[id] > 0 {
					again++
				}
			}
			if again > 0 && !tc.incremental {
				t.Errorf("the resumed backfill re-sent %d lines a checkpoint had covered", again)
			}
			diff(t, "after resuming", h, got)
		})
	}
}
