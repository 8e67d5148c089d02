// Package replay is a CollectorService that streams a synthetic store's
// ground truth (hlog.dev/proto/synth) exactly as the collector contract says:
// record batches, a checkpoint after each, resumption from a cursor,
// credential updates and errors on demand. Tests serve it over real gRPC so
// ingest is exercised end to end without a platform; it is not a platform
// fake (the sandboxes are), it is the contract played back faithfully.
package replay

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	"hlog.dev/proto/synth"

	"hlog.dev/ingest-svc/internal/loader"
)

// Collector replays a synth.Store. Set fields before serving; use the
// methods to change behaviour while serving.
type Collector struct {
	collectorv1.UnimplementedCollectorServiceServer

	Platform commercev1.Platform
	// ExternalAccountID is what CheckCredentials reports.
	ExternalAccountID string
	// BatchSize is the number of top-level records (orders, products,
	// categories, coupons) per RecordBatch; 0 means 50. A checkpoint follows
	// every batch.
	BatchSize int
	// Lookback re-sends this many batches before a cursor on resumption,
	// as collectors with a lookback window for late changes do.
	Lookback int

	mu          sync.Mutex
	fullRefresh bool
	store       *synth.Store
	rotate      *collectorv1.Credentials
	checkErr    error
	fail        *failure
	gate        chan struct{}
	requests    []*collectorv1.CollectRequest
	mangle      func(*collectorv1.Checkpoint)
	// batches caches each stream's batches of the current store.
	batches map[string][]*collectorv1.RecordBatch
}

// Warm splits the store's streams into batches now, so a benchmark does
// not time the replay's own preparation.
func (c *Collector) Warm() error {
	for _, s := range Streams {
		if _, err := c.batchesOf(s); err != nil {
			return err
		}
	}
	return nil
}

// batchesOf returns the current store's batches of a stream, made once.
func (c *Collector) batchesOf(stream string) ([]*collectorv1.RecordBatch, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b, ok := c.batches[stream]; ok {
		return b, nil
	}
	size := c.BatchSize
	if size <= 0 {
		size = 50
	}
	b, err := Batches(c.store, stream, size)
	if err != nil {
		return nil, err
	}
	if c.batches == nil {
		c.batches = map[string][]*collectorv1.RecordBatch{}
	}
	c.batches[stream] = b
	return b, nil
}

type failure struct {
	afterBatches int
	err          error
	// times is how many more Collect calls fail; 0 means every call.
	times int
}

// FailNextCollects makes the next `times` Collect calls end with err after
// afterBatches record batches; later calls succeed.
func (c *Collector) FailNextCollects(times, afterBatches int, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fail = &failure{afterBatches: afterBatches, err: err, times: times}
}

// MangleCheckpoints rewrites every checkpoint before it is sent (nil
// stops): tests use it to send checkpoints ingest must refuse.
func (c *Collector) MangleCheckpoints(f func(*collectorv1.Checkpoint)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mangle = f
}

// SetFullRefresh makes Collect ignore cursors and send everything, as a
// collector of a non-incremental stream (or one that lost its place) does.
func (c *Collector) SetFullRefresh(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fullRefresh = on
}

// SetStore chooses what the collector streams (e.g. store.AsOf(t)).
func (c *Collector) SetStore(s *synth.Store) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.store = s
	c.batches = nil
}

// RotateCredentials makes the next Collect (and CheckCredentials) hand out
// cred as rotated credentials before anything else.
func (c *Collector) RotateCredentials(cred *collectorv1.Credentials) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rotate = cred
}

// FailCheck makes CheckCredentials fail with err (nil to succeed again).
func (c *Collector) FailCheck(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checkErr = err
}

// FailCollect makes the next Collect calls end with err after sending
// afterBatches record batches with their checkpoints; nil err clears it.
func (c *Collector) FailCollect(afterBatches int, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		c.fail = nil
		return
	}
	c.fail = &failure{afterBatches: afterBatches, err: err}
}

// Hold makes Collect wait, before sending anything, until the returned
// function is called: tests use it to observe a run while it is running.
func (c *Collector) Hold() (release func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	gate := make(chan struct{})
	c.gate = gate
	var once sync.Once
	return func() {
		once.Do(func() {
			close(gate)
			c.mu.Lock()
			if c.gate == gate {
				c.gate = nil
			}
			c.mu.Unlock()
		})
	}
}

// Requests returns the Collect requests received so far.
func (c *Collector) Requests() []*collectorv1.CollectRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*collectorv1.CollectRequest(nil), c.requests...)
}

// Streams are the streams replayed, in the order Collect sends them.
var Streams = []string{"categories", "products", "coupons", "orders"}

// Describe lists the replayed streams.
func (c *Collector) Describe(context.Context, *collectorv1.DescribeRequest) (*collectorv1.DescribeResponse, error) {
	resp := &collectorv1.DescribeResponse{Platform: c.Platform, DisplayName: "Replay of " + c.Platform.String(), Version: "test"}
	for _, s := range Streams {
		resp.Streams = append(resp.Streams, &collectorv1.StreamInfo{Name: s, CursorSemantics: "records sent so far", Incremental: true})
	}
	return resp, nil
}

// CheckCredentials accepts any credentials of the platform.
func (c *Collector) CheckCredentials(_ context.Context, req *collectorv1.CheckCredentialsRequest) (*collectorv1.CheckCredentialsResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.checkErr != nil {
		return nil, c.checkErr
	}
	if req.GetCredentials().GetPlatform() == nil {
		return nil, status.Error(codes.InvalidArgument, "credentials are required")
	}
	return &collectorv1.CheckCredentialsResponse{
		ExternalAccountId:  c.ExternalAccountID,
		DisplayName:        "Replay shop " + c.ExternalAccountID,
		RotatedCredentials: c.rotate,
	}, nil
}

// Collect streams the requested streams from their cursors.
func (c *Collector) Collect(req *collectorv1.CollectRequest, stream collectorv1.CollectorService_CollectServer) error {
	c.mu.Lock()
	c.requests = append(c.requests, req)
	store, rotate, fail, gate, fullRefresh, mangle := c.store, c.rotate, c.fail, c.gate, c.fullRefresh, c.mangle
	if fail != nil && fail.times > 0 {
		if fail.times--; fail.times == 0 {
			c.fail = nil
		}
	}
	c.mu.Unlock()
	checkpoint := func(cp *collectorv1.Checkpoint) error {
		if mangle != nil {
			mangle(cp)
		}
		return stream.Send(&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_Checkpoint{Checkpoint: cp}})
	}
	if gate != nil {
		select {
		case <-gate:
		case <-stream.Context().Done():
			return stream.Context().Err()
		}
	}
	if store == nil {
		return status.Error(codes.FailedPrecondition, "replay collector has no store")
	}
	if rotate != nil {
		if err := stream.Send(&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_CredentialUpdate{
			CredentialUpdate: &collectorv1.CredentialUpdate{Credentials: rotate}}}); err != nil {
			return err
		}
	}
	size := c.BatchSize
	if size <= 0 {
		size = 50
	}
	sent := 0
	for _, sr := range req.GetStreams() {
		batches, err := c.batchesOf(sr.GetName())
		if err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
		from, saved := 0, 0
		if len(sr.GetCursor()) > 0 && !fullRefresh {
			if saved, err = strconv.Atoi(string(sr.GetCursor())); err != nil || saved < 0 {
				return status.Errorf(codes.InvalidArgument, "%s cursor %q is not one of mine", sr.GetName(), sr.GetCursor())
			}
			saved = min(saved, len(batches))
			from = max(0, saved-c.Lookback)
		}
		if err := stream.Send(&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_Progress{Progress: &collectorv1.Progress{
			Stream: sr.GetName(), RecordsEstimated: int64(records(batches[min(from, len(batches)):])), Message: "replaying " + sr.GetName(),
		}}}); err != nil {
			return err
		}
		for i := from; i < len(batches); i++ {
			if fail != nil && sent == fail.afterBatches {
				return fail.err
			}
			if err := stream.Send(&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_Records{Records: batches[i]}}); err != nil {
				return err
			}
			// Cursors never move back: batches re-sent for the lookback
			// checkpoint the position already saved.
			if err := checkpoint(&collectorv1.Checkpoint{Stream: sr.GetName(), Cursor: []byte(strconv.Itoa(max(saved, i+1)))}); err != nil {
				return err
			}
			sent++
		}
		// A closing checkpoint even when nothing was new: the stream is
		// complete up to here.
		if err := checkpoint(&collectorv1.Checkpoint{Stream: sr.GetName(), Cursor: []byte(strconv.Itoa(len(batches)))}); err != nil {
			return err
		}
	}
	if fail != nil && sent == fail.afterBatches {
		return fail.err
	}
	return nil
}

// Batches splits one stream of a store into record batches of size
// top-level records: orders carry their lines, products their options.
func Batches(s *synth.Store, stream string, size int) ([]*collectorv1.RecordBatch, error) {
	var out []*collectorv1.RecordBatch
	switch stream {
	case "orders":
		lines := map[string][]*commercev1.OrderLine{}
		for _, l := range s.Lines {
			lines[l.OrderSourceId] = append(lines[l.OrderSourceId], l)
		}
		for i := 0; i < len(s.Orders); i += size {
			b := &collectorv1.RecordBatch{Stream: stream}
			for _, o := range s.Orders[i:min(i+size, len(s.Orders))] {
				b.Orders = append(b.Orders, o)
				b.OrderLines = append(b.OrderLines, lines[o.SourceId]...)
			}
			out = append(out, b)
		}
	case "products":
		options := map[string][]*commercev1.ProductOption{}
		for _, o := range s.Options {
			options[o.ProductSourceId] = append(options[o.ProductSourceId], o)
		}
		for i := 0; i < len(s.Products); i += size {
			b := &collectorv1.RecordBatch{Stream: stream}
			for _, p := range s.Products[i:min(i+size, len(s.Products))] {
				b.Products = append(b.Products, p)
				b.ProductOptions = append(b.ProductOptions, options[p.SourceId]...)
			}
			out = append(out, b)
		}
	case "categories":
		for i := 0; i < len(s.Categories); i += size {
			out = append(out, &collectorv1.RecordBatch{Stream: stream, Categories: s.Categories[i:min(i+size, len(s.Categories))]})
		}
	case "coupons":
		for i := 0; i < len(s.Coupons); i += size {
			out = append(out, &collectorv1.RecordBatch{Stream: stream, Coupons: s.Coupons[i:min(i+size, len(s.Coupons))]})
		}
	default:
		return nil, fmt.Errorf("unknown stream %q", stream)
	}
	return out, nil
}

func records(batches []*collectorv1.RecordBatch) int {
	n := 0
	for _, b := range batches {
		n += len(b.Orders) + len(b.OrderLines) + len(b.Products) + len(b.ProductOptions) + len(b.Categories) + len(b.Coupons)
	}
	return n
}

// Load writes every stream of s straight into the tables of one account,
// batches of size records each in its own transaction, bypassing gRPC: for
// tests that need loaded data, not a sync.
func Load(ctx context.Context, db *sql.DB, ld *loader.Loader, scope loader.Scope, s *synth.Store, size int) error {
	for _, stream := range Streams {
		batches, err := Batches(s, stream, size)
		if err != nil {
			return err
		}
		for _, rb := range batches {
			b := ld.NewBatch(scope)
			if err := b.Add(rb); err != nil {
				return err
			}
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			if err := b.Write(ctx, tx); err != nil {
				tx.Rollback()
				return err
			}
			if err := tx.Commit(); err != nil {
				return err
			}
		}
	}
	return nil
}
