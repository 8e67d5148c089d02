// Package conformance is the collector conformance suite: it runs any
// CollectorService against its platform's sandbox and checks that what the
// collector streams equals the synthetic store's ground truth, before and
// after the sandbox clock moves. A new platform is done when Run passes.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/proto"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

// Result is what one or more Collect runs delivered, merged the way ingest
// merges it: later records of the same source id replace earlier ones.
type Result struct {
	Orders     map[string]*commercev1.Order
	Lines      map[string]*commercev1.OrderLine
	Products   map[string]*commercev1.Product
	Options    map[string]*commercev1.ProductOption
	Categories map[string]*commercev1.Category
	Coupons    map[string]*commercev1.Coupon
	// Cursors holds each stream's last checkpointed cursor.
	Cursors map[string][]byte
	// Credentials are the latest credentials: the ones sent, replaced by
	// every CredentialUpdate.
	Credentials *collectorv1.Credentials
	// Log is the order of message kinds received in the last run, e.g.
	// "credential_update", "records:orders", "checkpoint:orders".
	Log []string
	// RecordsAfterUncheckpointed counts records of a run that no later
	// checkpoint of their stream covered.
	RecordsAfterUncheckpointed int
}

// NewResult returns an empty result holding creds.
func NewResult(creds *collectorv1.Credentials) *Result {
	return &Result{
		Orders: map[string]*commercev1.Order{}, Lines: map[string]*commercev1.OrderLine{},
		Products: map[string]*commercev1.Product{}, Options: map[string]*commercev1.ProductOption{},
		Categories: map[string]*commercev1.Category{}, Coupons: map[string]*commercev1.Coupon{},
		Cursors: map[string][]byte{}, Credentials: creds,
	}
}

// Collect runs one Collect call for streams, resuming each from r's saved
// cursor, and merges what arrives into r. It returns the stream's error, if
// any, after merging everything that arrived before it.
func (r *Result) Collect(ctx context.Context, c collectorv1.CollectorServiceClient, streams []*collectorv1.StreamRequest, budget *collectorv1.RateBudget) error {
	var reqs []*collectorv1.StreamRequest
	for _, s := range streams {
		s = proto.Clone(s).(*collectorv1.StreamRequest)
		if cur, ok := r.Cursors[s.Name]; ok {
			s.Cursor = cur
		}
		reqs = append(reqs, s)
	}
	stream, err := c.Collect(ctx, &collectorv1.CollectRequest{
		Credentials: r.Credentials,
		Streams:     reqs,
		RateBudget:  budget,
		TimeZone:    "Asia/Seoul",
	})
	if err != nil {
		return err
	}
	r.Log = nil
	pending := map[string]int{}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		switch m := msg.Message.(type) {
		case *collectorv1.CollectResponse_Records:
			r.Log = append(r.Log, "records:"+m.Records.Stream)
			pending[m.Records.Stream] += r.merge(m.Records)
		case *collectorv1.CollectResponse_Checkpoint:
			r.Log = append(r.Log, "checkpoint:"+m.Checkpoint.Stream)
			r.Cursors[m.Checkpoint.Stream] = m.Checkpoint.Cursor
			pending[m.Checkpoint.Stream] = 0
		case *collectorv1.CollectResponse_CredentialUpdate:
			r.Log = append(r.Log, "credential_update")
			if m.CredentialUpdate.GetCredentials() == nil {
				return fmt.Errorf("credential update without credentials")
			}
			r.Credentials = m.CredentialUpdate.Credentials
		case *collectorv1.CollectResponse_Progress:
			r.Log = append(r.Log, "progress:"+m.Progress.Stream)
		default:
			return fmt.Errorf("unknown collect message %T", msg.Message)
		}
	}
	for _, n := range pending {
		r.RecordsAfterUncheckpointed += n
	}
	return nil
}

func (r *Result) merge(b *collectorv1.RecordBatch) int {
	n := 0
	for _, o := range b.Orders {
		r.Orders[o.SourceId] = o
		n++
	}
	for _, l := range b.OrderLines {
		r.Lines[l.SourceId] = l
		n++
	}
	for _, p := range b.Products {
		r.Products[p.SourceId] = p
		n++
	}
	for _, o := range b.ProductOptions {
		r.Options[o.SourceId] = o
		n++
	}
	for _, c := range b.Categories {
		r.Categories[c.SourceId] = c
		n++
	}
	for _, c := range b.Coupons {
		r.Coupons[c.SourceId] = c
		n++
	}
	return n
}
