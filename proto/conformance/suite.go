package conformance

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	"hlog.dev/proto/synth"
)

// Target is a collector wired to its sandbox.
type Target struct {
	Platform commercev1.Platform
	Client   collectorv1.CollectorServiceClient
	// Credentials that the sandbox accepts for the store below.
	Credentials *collectorv1.Credentials
	// Streams to check, e.g. "orders".
	Streams []string
	// Truth returns the ground truth the sandbox shows now (the synthetic
	// store AsOf the sandbox clock).
	Truth func() *synth.Store
	// Advance moves the sandbox clock forward.
	Advance func(d time.Duration)
	// BackfillFrom is sent with first runs so the whole store is collected.
	BackfillFrom time.Time
	// Ignore lists fields the platform cannot show, each with a reason, as
	// "hlog.commerce.v1.Order.updated_at". raw_status fields are always
	// ignored: they are the platform's own words, not ground truth.
	Ignore map[string]string
}

// Run checks the collector against its sandbox.
func Run(t *testing.T, tg Target) {
	t.Helper()
	ctx := context.Background()

	t.Run("Describe", func(t *testing.T) {
		d, err := tg.Client.Describe(ctx, &collectorv1.DescribeRequest{})
		if err != nil {
			t.Fatalf("describe: %v", err)
		}
		if d.Platform != tg.Platform {
			t.Errorf("platform %v, want %v", d.Platform, tg.Platform)
		}
		offered := map[string]bool{}
		for _, s := range d.Streams {
			offered[s.Name] = true
		}
		for _, s := range tg.Streams {
			if !offered[s] {
				t.Errorf("stream %q not described", s)
			}
		}
	})

	t.Run("CollectEqualsGroundTruthAsTheClockMoves", func(t *testing.T) {
		res := NewResult(tg.Credentials)
		var reqs []*collectorv1.StreamRequest
		for _, s := range tg.Streams {
			reqs = append(reqs, &collectorv1.StreamRequest{Name: s, BackfillFrom: timestamp(tg.BackfillFrom)})
		}
		// Steps stay within 13 days in all: Cafe24 refresh tokens live 14 days
		// (cafe24.md §1), and a seller who syncs daily never nears that.
		for step, advance := range []time.Duration{0, 3 * 24 * time.Hour, 9 * 24 * time.Hour} {
			if advance > 0 {
				tg.Advance(advance)
			}
			if err := res.Collect(ctx, tg.Client, reqs, nil); err != nil {
				t.Fatalf("step %d: collect: %v", step, err)
			}
			if res.RecordsAfterUncheckpointed != 0 {
				t.Errorf("step %d: %d records were never covered by a checkpoint", step, res.RecordsAfterUncheckpointed)
			}
			for _, s := range tg.Streams {
				if _, ok := res.Cursors[s]; !ok {
					t.Errorf("step %d: stream %q ended without a checkpoint", step, s)
				}
			}
			tg.Compare(t, fmt.Sprintf("step %d", step), tg.Truth(), res)
		}
	})
}

// Compare reports every difference between the ground truth and what was
// collected, for the target's streams.
func (tg Target) Compare(t *testing.T, label string, truth *synth.Store, got *Result) {
	t.Helper()
	for _, problem := range Diff(truth, got, tg.Streams, tg.Ignore) {
		t.Errorf("%s: %s", label, problem)
	}
}

// Diff lists every difference between the ground truth and what was
// collected, for the given streams, ignoring raw_status fields and the fields
// named in ignore (full field names).
func Diff(truth *synth.Store, got *Result, streams []string, ignore map[string]string) []string {
	opts := []cmp.Option{protocmp.Transform(), protocmp.IgnoreFields(&commercev1.Order{}, "raw_status"),
		protocmp.IgnoreFields(&commercev1.OrderLine{}, "raw_status"), protocmp.IgnoreFields(&commercev1.Claim{}, "raw_status"),
		protocmp.IgnoreFields(&commercev1.Product{}, "raw_status")}
	for path := range ignore {
		opts = append(opts, ignorePath(path))
	}
	var problems []string
	for _, s := range streams {
		switch s {
		case "orders":
			problems = append(problems, diffSet("orders", truth.Orders, got.Orders, opts)...)
			problems = append(problems, diffSet("order lines", truth.Lines, got.Lines, opts)...)
		case "products":
			problems = append(problems, diffSet("products", truth.Products, got.Products, opts)...)
			problems = append(problems, diffSet("product options", truth.Options, got.Options, opts)...)
		case "categories":
			problems = append(problems, diffSet("categories", truth.Categories, got.Categories, opts)...)
		case "coupons":
			problems = append(problems, diffSet("coupons", truth.Coupons, got.Coupons, opts)...)
		default:
			problems = append(problems, fmt.Sprintf("no ground truth for stream %q", s))
		}
	}
	return problems
}

type sourced interface {
	proto.Message
	GetSourceId() string
}

func diffSet[M sourced](what string, want []M, got map[string]M, opts []cmp.Option) []string {
	wantByID := map[string]M{}
	for _, w := range want {
		wantByID[w.GetSourceId()] = w
	}
	var missing, extra, differ []string
	for id, w := range wantByID {
		g, ok := got[id]
		if !ok {
			missing = append(missing, id)
			continue
		}
		if d := cmp.Diff(w, g, opts...); d != "" {
			differ = append(differ, id+":\n"+d)
		}
	}
	for id := range got {
		if _, ok := wantByID[id]; !ok {
			extra = append(extra, id)
		}
	}
	if len(missing)+len(extra)+len(differ) == 0 {
		return nil
	}
	sort.Strings(missing)
	sort.Strings(extra)
	sort.Strings(differ)
	return []string{fmt.Sprintf("%s: %d expected, %d collected; %d missing %v, %d unexpected %v, %d differ; first differences (-truth +collected):\n%s",
		what, len(wantByID), len(got), len(missing), head(missing), len(extra), head(extra), len(differ), head(differ))}
}

func head(s []string) []string {
	if len(s) > 3 {
		return s[:3]
	}
	return s
}
