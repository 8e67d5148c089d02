package syncrun

import (
	"context"
	"database/sql"
	"errors"
	"hash/maphash"
	"io"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"

	"hlog.dev/ingest-svc/internal/loader"
	"hlog.dev/ingest-svc/internal/store"
)

// maxCursorBytes is what stream_cursors.cursor_value (BLOB) holds.
const maxCursorBytes = 65535

// collect streams from the collector and loads what it sends.
func (r *Runner) collect(ctx context.Context, run store.Run) error {
	rc, err := r.cfg.Store.LoadRunContext(ctx, run.SellerID, run.AccountID)
	if err != nil {
		return err
	}
	client := r.cfg.Collectors[rc.Account.Platform]
	if client == nil {
		return status.Errorf(codes.Unavailable, "no collector is configured for %s", strings.ToLower(store.PlatformName(rc.Account.Platform)))
	}
	loc, err := time.LoadLocation(rc.TimeZone)
	if err != nil {
		return permanent(codes.Internal, "seller time zone %q: %v", rc.TimeZone, err)
	}
	creds, err := r.cfg.Credentials.Open(run.SellerID, run.AccountID, rc.Sealed)
	if err != nil {
		return permanent(codes.Internal, "the stored credentials cannot be read (was the credential key changed?): %v", err)
	}
	desc, err := r.describe(ctx, rc.Account.Platform, client)
	if err != nil {
		return err
	}
	streams := run.Streams
	if len(streams) == 0 {
		for _, s := range desc.GetStreams() {
			streams = append(streams, s.GetName())
		}
	}
	cursors, err := r.cfg.Store.Cursors(ctx, run.SellerID, run.AccountID)
	if err != nil {
		return err
	}
	if err := r.cfg.Store.StartProgress(ctx, run.SellerID, run.RunID, streams); err != nil {
		return err
	}
	r.changes.notify()
	// The platform's budget as its collector states it: the collector paces
	// itself inside it with the platform's own rate headers.
	req := &collectorv1.CollectRequest{Credentials: creds, TimeZone: rc.TimeZone, RateBudget: desc.GetDefaultRateBudget()}
	requested := map[string]bool{}
	for _, s := range streams {
		requested[s] = true
		req.Streams = append(req.Streams, &collectorv1.StreamRequest{Name: s, Cursor: cursors[s]})
	}

	stream, err := client.Collect(ctx, req)
	if err != nil {
		return err
	}
	// Into an account without lines (a first load), a line not yet seen in
	// this run is certainly new. The set holds 64-bit hashes, not ids, to
	// stay small; a collision only costs an unneeded delete.
	hasLines, err := r.cfg.Store.AccountHasLines(ctx, run.SellerID, run.AccountID)
	if err != nil {
		return err
	}
	var isNew func(string) bool
	if !hasLines {
		seen := map[uint64]struct{}{}
		seed := maphash.MakeSeed()
		isNew = func(id string) bool {
			k := maphash.String(seed, id)
			if _, ok := seen[k]; ok {
				return false
			}
			seen[k] = struct{}{}
			return true
		}
	}
	scope := loader.Scope{SellerID: run.SellerID, AccountID: run.AccountID, Location: loc}
	newBatch := func() *loader.Batch {
		b := r.cfg.Loader.NewBatch(scope)
		b.New = isNew
		return b
	}
	l := &load{r: r, run: run, rc: rc, requested: requested, newBatch: newBatch}
	return l.pump(ctx, stream.Recv)
}

// describe asks a platform's collector what it offers, once per process.
func (r *Runner) describe(ctx context.Context, p commercev1.Platform, client collectorv1.CollectorServiceClient) (*collectorv1.DescribeResponse, error) {
	r.mu.Lock()
	d := r.descriptions[p]
	r.mu.Unlock()
	if d != nil {
		return d, nil
	}
	d, err := client.Describe(ctx, &collectorv1.DescribeRequest{})
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.descriptions[p] = d
	r.mu.Unlock()
	return d, nil
}

// load applies one run's collect stream to the database. Receiving and
// translating overlap with writing: the stream fills one batch while the
// previous ones commit, so the database never waits for gRPC and the other
// way round. Two batches can be in the database at once (see write), and
// one more filling: three exist at most, which bounds memory.
type load struct {
	r         *Runner
	run       store.Run
	rc        store.RunContext
	requested map[string]bool
	newBatch  func() *loader.Batch
}

// pending is a batch of records and the checkpoints that follow them.
type pending struct {
	batch       *loader.Batch
	checkpoints []*collectorv1.Checkpoint
	started     time.Time
}

func (p *pending) empty() bool { return p.batch.Records() == 0 && len(p.checkpoints) == 0 }

func (p *pending) reset() {
	p.batch.Reset()
	p.checkpoints = p.checkpoints[:0]
	p.started = time.Time{}
}

// checkpoint keeps the latest checkpoint of each stream.
func (p *pending) checkpoint(cp *collectorv1.Checkpoint) {
	for i, c := range p.checkpoints {
		if c.GetStream() == cp.GetStream() {
			p.checkpoints[i] = cp
			return
		}
	}
	p.checkpoints = append(p.checkpoints, cp)
}

func (l *load) pump(ctx context.Context, recv func() (*collectorv1.CollectResponse, error)) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	const batches = 3
	free := make(chan *pending, batches)
	for range batches {
		free <- &pending{batch: l.newBatch()}
	}
	full := make(chan *pending, 1)
	written := make(chan error, 1)
	go func() { written <- l.write(ctx, cancel, full, free) }()
	// finish waits for the writer; its error comes first, it is the cause.
	finish := func(err error) error {
		close(full)
		if werr := <-written; werr != nil {
			return werr
		}
		return err
	}

	cur := <-free
	// hand gives cur to the writer and takes the other batch.
	hand := func() error {
		if cur.empty() {
			return nil
		}
		// Sorting and rendering happen here, while the writer is busy
		// with the previous batch.
		cur.batch.Seal()
		select {
		case full <- cur:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		select {
		case cur = <-free:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	// drain waits until the writer committed everything handed to it: all
	// the other batches are back.
	drain := func() error {
		if err := hand(); err != nil {
			return err
		}
		var back []*pending
		defer func() {
			for _, p := range back {
				free <- p
			}
		}()
		for len(back) < batches-1 {
			select {
			case p := <-free:
				back = append(back, p)
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
		return context.Cause(ctx)
	}

	flushRecords := l.r.cfg.FlushRecords
	for {
		msg, err := recv()
		if err == io.EOF {
			// Records after the last checkpoint are committed too, without
			// moving a cursor: they are upserts, a replay rewrites them.
			if err := hand(); err != nil {
				return finish(err)
			}
			return finish(nil)
		}
		if err != nil {
			// What arrived before the error is whole records and
			// checkpoints: commit it, so the next attempt resumes from the
			// last checkpoint instead of from scratch.
			if ctx.Err() == nil {
				if herr := hand(); herr != nil {
					return finish(herr)
				}
			}
			return finish(err)
		}
		switch m := msg.GetMessage().(type) {
		case *collectorv1.CollectResponse_Records:
			if err := cur.batch.Add(m.Records); err != nil {
				return finish(permanent(codes.Internal, "the collector sent an invalid record: %v", err))
			}
			if cur.started.IsZero() {
				cur.started = time.Now()
			}
			// A collector that never checkpoints must not grow the batch
			// without bound.
			if cur.batch.Records() >= 4*flushRecords {
				err = hand()
			}
		case *collectorv1.CollectResponse_Checkpoint:
			if err := l.checkCheckpoint(m.Checkpoint); err != nil {
				return finish(err)
			}
			cur.checkpoint(m.Checkpoint)
			if cur.batch.Records() >= flushRecords || time.Since(cur.started) >= l.r.cfg.FlushInterval {
				err = hand()
			}
		case *collectorv1.CollectResponse_CredentialUpdate:
			// Everything before the update is committed first, the update
			// is stored next, and only then is anything after it loaded.
			if err := drain(); err != nil {
				return finish(err)
			}
			err = l.storeCredentials(ctx, m.CredentialUpdate.GetCredentials())
		case *collectorv1.CollectResponse_Progress:
			err = l.progress(ctx, m.Progress)
		}
		if err != nil {
			return finish(err)
		}
	}
}

// checkCheckpoint refuses checkpoints ingest could not save or resume from.
// Cursors are opaque, but a cursor must name a stream of the run and fit its
// column; an empty one would silently restart the stream from scratch.
func (l *load) checkCheckpoint(cp *collectorv1.Checkpoint) error {
	name := cp.GetStream()
	if err := checkStreamName(name); err != nil {
		return permanent(codes.Internal, "the collector sent a malformed checkpoint: %v", err)
	}
	if !l.requested[name] {
		return permanent(codes.Internal, "the collector sent a checkpoint for stream %q, which this run did not ask for", name)
	}
	switch n := len(cp.GetCursor()); {
	case n == 0:
		return permanent(codes.Internal, "the collector sent a malformed checkpoint for stream %q: the cursor is empty", name)
	case n > maxCursorBytes:
		return permanent(codes.Internal, "the collector sent a malformed checkpoint for stream %q: the cursor is %d bytes, at most %d", name, n, maxCursorBytes)
	}
	return nil
}

func (l *load) progress(ctx context.Context, p *collectorv1.Progress) error {
	if checkStreamName(p.GetStream()) != nil {
		return nil // progress is advisory; a malformed one is not worth failing for
	}
	if err := l.r.cfg.Store.SetEstimate(ctx, l.run.SellerID, l.run.RunID, p.GetStream(), p.GetRecordsEstimated(), p.GetMessage()); err != nil {
		return err
	}
	l.r.changes.notify()
	return nil
}

// inflight is a batch the writer is committing.
type inflight struct {
	p    *pending
	done chan struct{}
	err  error // set before done is closed
}

// wait waits for the batch's commit and returns its error.
func (f *inflight) wait() error {
	<-f.done
	return f.err
}

// write commits the batches handed to it in order, and hands each back to
// free once it is done with it. The first error cancels the load, and the
// batches after it are not written.
//
// A batch whose rows cannot collide with those of the batch before it
// (loader.Batch.Independent: a first load, for instance) is written on a
// second connection while that one is still committing; it takes what the
// two share (the run, the days, the cursors) and commits only after the
// earlier one committed. A bulk load into MySQL is bound by the one server
// thread that runs a connection's statements; two connections make it
// about 1.4 times as fast (a million lines of a first load on two cores:
// 15–16 s against 21–22 s). Other batches wait for the one before them.
func (l *load) write(ctx context.Context, cancel context.CancelCauseFunc, full <-chan *pending, free chan<- *pending) error {
	var prev *inflight
	var err error
	// settle waits for prev's commit and hands its batch back.
	settle := func() {
		if perr := prev.wait(); perr != nil && err == nil {
			err = perr
			cancel(err)
		}
		prev.p.reset()
		free <- prev.p
		prev = nil
	}
	for {
		var prevDone <-chan struct{}
		if prev != nil {
			prevDone = prev.done
		}
		select {
		case <-prevDone:
			// Back as soon as it committed, not when the next batch
			// comes: a credential update waits for every batch.
			settle()
		case p, ok := <-full:
			if !ok {
				if prev != nil {
					settle()
				}
				return err
			}
			if prev != nil && !p.batch.Independent(prev.p.batch) {
				settle()
			}
			if err != nil {
				p.reset()
				free <- p
				continue
			}
			cur := &inflight{p: p, done: make(chan struct{})}
			before := prev
			go func() {
				defer close(cur.done)
				cur.err = l.commitAfter(ctx, p.batch, p.checkpoints, before)
			}()
			if before != nil {
				settle() // two in the database at most
			}
			prev = cur
		}
	}
}

// errEarlierBatch ends a batch whose predecessor failed; the predecessor's
// error is the one reported.
var errEarlierBatch = errors.New("an earlier batch failed")

// commit writes a batch and the checkpoints that follow it in one
// transaction: a checkpoint is never saved without the records before it,
// and records without their checkpoint are merely collected again next time.
func (l *load) commit(ctx context.Context, b *loader.Batch, cps []*collectorv1.Checkpoint) error {
	return l.commitAfter(ctx, b, cps, nil)
}

// commitAfter is commit of a batch whose predecessor, before, may still be
// committing on another connection: the batch's own rows are written at
// once; the run's lease, the days, the cursors and the counts, which the two
// share, only once before committed. If before failed, so does this batch:
// its transaction, rows written or not, is rolled back.
func (l *load) commitAfter(ctx context.Context, b *loader.Batch, cps []*collectorv1.Checkpoint, before *inflight) error {
	if b.Records() == 0 && len(cps) == 0 {
		if before != nil {
			return before.wait()
		}
		return nil
	}
	loaded := b.Loaded()
	err := l.r.cfg.Store.InTxReadCommitted(ctx, func(tx *sql.Tx) error {
		// The account is locked in share mode: removing it waits for the
		// load, and the two batches of a load do not wait on each other.
		if err := store.LockAccountTx(ctx, tx, l.run.SellerID, l.run.AccountID); err != nil {
			return err
		}
		if err := b.WriteRows(ctx, tx); err != nil {
			return err
		}
		if before != nil {
			select {
			case <-before.done:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			if before.err != nil {
				return errEarlierBatch
			}
		}
		if err := store.LockRunTx(ctx, tx, l.run.SellerID, l.run.RunID, l.r.owner); err != nil {
			return err
		}
		if err := b.MarkDirty(ctx, tx); err != nil {
			return err
		}
		now := l.r.cfg.Store.Now()
		for _, cp := range cps {
			if err := store.SaveCursorTx(ctx, tx, l.run.SellerID, l.run.AccountID, cp.GetStream(), cp.GetCursor(), now); err != nil {
				return err
			}
		}
		return store.AddLoadedTx(ctx, tx, l.run.SellerID, l.run.RunID, loaded)
	})
	if err != nil {
		if errors.Is(err, store.ErrLeaseLost) || errors.Is(err, store.ErrNotFound) || errors.Is(err, errEarlierBatch) || ctx.Err() != nil {
			return err
		}
		return status.Errorf(codes.Internal, "loading records: %v", err)
	}
	platform := strings.ToLower(store.PlatformName(l.rc.Account.Platform))
	for stream, n := range loaded {
		l.r.metrics.records.WithLabelValues(platform, stream).Add(float64(n))
	}
	l.r.changes.notify()
	return nil
}
