package collector_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
	"hlog.dev/cafe24-svc/internal/collector"
	"hlog.dev/cafe24-svc/sandbox"
	"hlog.dev/proto/conformance"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
)

var allStreams = []string{"orders", "products", "categories", "coupons"}

// ingest keeps what a run delivered the way ingest-svc does: records are
// kept only when a later checkpoint of their stream covers them (saved in one
// transaction with it), credential updates at once. A run that fails loses
// its uncovered records, and the next run starts from the saved cursors.
type ingest struct {
	*conformance.Result
	// perRun counts, per run, how often each order source id arrived.
	perRun []map[string]int
}

func newIngest(creds *collectorv1.Credentials) *ingest {
	return &ingest{Result: conformance.NewResult(creds)}
}

func (in *ingest) run(t *testing.T, client collectorv1.CollectorServiceClient, backfill time.Time) error {
	t.Helper()
	var reqs []*collectorv1.StreamRequest
	for _, s := range allStreams {
		sr := &collectorv1.StreamRequest{Name: s, Cursor: in.Cursors[s]}
		if sr.Cursor == nil {
			sr.BackfillFrom = timestamppb.New(backfill)
		}
		reqs = append(reqs, sr)
	}
	stream, err := client.Collect(context.Background(), &collectorv1.CollectRequest{Credentials: in.Credentials, Streams: reqs, TimeZone: "Asia/Seoul"})
	if err != nil {
		return err
	}
	pending := map[string][]*collectorv1.RecordBatch{}
	seen := map[string]int{}
	in.perRun = append(in.perRun, seen)
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch x := m.Message.(type) {
		case *collectorv1.CollectResponse_Records:
			pending[x.Records.Stream] = append(pending[x.Records.Stream], x.Records)
			for _, o := range x.Records.Orders {
				seen[o.SourceId]++
			}
		case *collectorv1.CollectResponse_Checkpoint:
			for _, b := range pending[x.Checkpoint.Stream] {
				merge(in.Result, []*collectorv1.CollectResponse{{Message: &collectorv1.CollectResponse_Records{Records: b}}})
				for _, p := range b.Products {
					in.Products[p.SourceId] = p
				}
				for _, o := range b.ProductOptions {
					in.Options[o.SourceId] = o
				}
				for _, c := range b.Categories {
					in.Categories[c.SourceId] = c
				}
				for _, c := range b.Coupons {
					in.Coupons[c.SourceId] = c
				}
			}
			delete(pending, x.Checkpoint.Stream)
			in.Cursors[x.Checkpoint.Stream] = x.Checkpoint.Cursor
		case *collectorv1.CollectResponse_CredentialUpdate:
			in.Credentials = x.CredentialUpdate.Credentials
		}
	}
}

// diffAll compares everything kept with the ground truth.
func (in *ingest) diffAll(t *testing.T, label string, h *harness) {
	t.Helper()
	ignore := map[string]string{"hlog.commerce.v1.Coupon.raw_benefit_type": "platform code"}
	for _, p := range conformance.Diff(h.truth(), in.Result, allStreams, ignore) {
		t.Errorf("%s: %s", label, p)
	}
}

// noDuplicatesWithinARun: an order arrives once per run, unless the run
// resumed a window that outgrew the offset cap (not the case here).
func (in *ingest) noDuplicatesWithinARun(t *testing.T) {
	t.Helper()
	for i, seen := range in.perRun {
		for id, n := range seen {
			if n > 1 {
				t.Errorf("run %d sent order %s %d times", i+1, id, n)
			}
		}
	}
}

// TestFaultSwitches runs a backfill of every stream under each of the
// sandbox's fault switches. Either the run completes with all the data, or
// it fails with a clear error, and the next run, from the checkpoints the
// failed one left, completes it: nothing lost, nothing sent twice in a run.
func TestFaultSwitches(t *testing.T) {
	cases := []struct {
		name    string
		opt     options
		faults  []sandbox.Fault
		wantErr codes.Code
		wantMsg string
		// recover does what the seller or operator must do before the
		// next run; it may return another collector to run it with.
		recover func(h *harness, in *ingest) collectorv1.CollectorServiceClient
		check   func(t *testing.T, h *harness, in *ingest, slept time.Duration)
	}{{
		name:   "429 bursts from another app sharing the bucket",
		faults: []sandbox.Fault{{After: 5, Status: http.StatusTooManyRequests, Count: 3}, {After: 10, Status: http.StatusTooManyRequests, Count: 2}},
		check: func(t *testing.T, h *harness, in *ingest, slept time.Duration) {
			if slept < 5*time.Second {
				t.Errorf("slept %s in all: no backoff after 429s", slept)
			}
		},
	}, {
		name:   "usage quota used up",
		faults: []sandbox.Fault{{After: 4, Action: "exhaust_quota", QuotaSeconds: 30}},
		check: func(t *testing.T, h *harness, in *ingest, slept time.Duration) {
			if slept < 30*time.Second {
				t.Errorf("slept %s: X-Cafe24-Call-Remain was not respected", slept)
			}
		},
	}, {
		name:   "transient 5xx",
		faults: []sandbox.Fault{{After: 3, Status: 500}, {After: 2, Status: 503, Count: 2}, {After: 6, Status: 504}},
	}, {
		name:    "5xx that outlast the retries",
		faults:  []sandbox.Fault{{After: 8, Status: 503, Count: 5}},
		wantErr: codes.Unavailable, wantMsg: "Cafe24 API unavailable",
	}, {
		name:   "slow responses within the timeout",
		opt:    options{requestTimeout: 2 * time.Second},
		faults: []sandbox.Fault{{After: 2, Delay: 50 * time.Millisecond, Count: 3}},
	}, {
		name:   "responses slower than the timeout, retried",
		opt:    options{requestTimeout: 200 * time.Millisecond},
		faults: []sandbox.Fault{{After: 3, Delay: time.Minute, Count: 2}},
	}, {
		name:    "responses that never come",
		opt:     options{requestTimeout: 100 * time.Millisecond},
		faults:  []sandbox.Fault{{After: 6, Delay: time.Minute, Count: 5}},
		wantErr: codes.Unavailable, wantMsg: "deadline exceeded",
	}, {
		name:   "access token expiring mid-run",
		faults: []sandbox.Fault{{After: 7, Action: "expire_access_tokens"}},
		check: func(t *testing.T, h *harness, in *ingest, _ time.Duration) {
			if in.Credentials.GetCafe24().GetAccessToken() == h.first.GetCafe24().GetAccessToken() {
				t.Error("no credential update after the token expired")
			}
		},
	}, {
		name:    "dead refresh token",
		faults:  []sandbox.Fault{{After: 7, Action: "revoke_refresh_tokens"}, {Action: "expire_access_tokens"}},
		wantErr: codes.FailedPrecondition, wantMsg: "reconnect Cafe24",
		recover: func(h *harness, in *ingest) collectorv1.CollectorServiceClient {
			in.Credentials = h.credentials() // the seller reconnects the mall
			return nil
		},
	}, {
		name:    "API version no longer available",
		faults:  []sandbox.Fault{{After: 9, Action: "retire_version", Version: "2025-12-01"}},
		wantErr: codes.FailedPrecondition, wantMsg: "--api-version",
		recover: func(h *harness, in *ingest) collectorv1.CollectorServiceClient {
			return h.startCollector("2026-03-01", 0, nil) // the operator upgrades
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// A small mall read in small pages: a backfill of many calls,
			// for faults to strike in.
			tc.opt.mall = sandbox.MallConfig{ID: mallID, Seed: 42, OrdersPerDay: 4}
			tc.opt.collector = func(c *collector.Config) { c.PageLimit = 40 }
			h := newHarness(t, tc.opt)
			in := newIngest(h.credentials())
			h.first = in.Credentials
			for _, f := range tc.faults {
				if err := h.sb.InjectFault(mallID, f); err != nil {
					t.Fatal(err)
				}
			}
			slept := h.real.Slept()
			err := in.run(t, h.client, h.backfillFrom())
			slept = h.real.Slept() - slept
			if tc.wantErr == codes.OK {
				if err != nil {
					t.Fatalf("run: %v", err)
				}
			} else {
				if st := status.Convert(err); st.Code() != tc.wantErr || !strings.Contains(st.Message(), tc.wantMsg) {
					t.Fatalf("run ended with %v, want %v containing %q", err, tc.wantErr, tc.wantMsg)
				}
				client := h.client
				if tc.recover != nil {
					if c := tc.recover(h, in); c != nil {
						client = c
					}
				}
				if err := in.run(t, client, h.backfillFrom()); err != nil {
					t.Fatalf("resumed run: %v", err)
				}
			}
			if n := h.sb.FaultsPending(mallID); n != 0 {
				t.Fatalf("%d faults never struck: the test proves nothing", n)
			}
			in.diffAll(t, "after the fault", h)
			in.noDuplicatesWithinARun(t)
			if tc.check != nil {
				tc.check(t, h, in, slept)
			}
		})
	}
}
