package syncrun

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"

	"hlog.dev/ingest-svc/internal/credentials"
	"hlog.dev/ingest-svc/internal/loader"
	"hlog.dev/ingest-svc/internal/store"
)

// execute runs one claimed run to its end, or hands it back to the queue
// when the process is stopping.
func (r *Runner) execute(ctx context.Context, run store.Run) {
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	key := accountKey{run.SellerID, run.AccountID}
	r.mu.Lock()
	r.active[key] = cancel
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.active, key)
		r.mu.Unlock()
	}()
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		r.renewLease(runCtx, cancel, run)
	}()

	log := r.log.With("seller_id", run.SellerID, "account_id", run.AccountID, "run_id", run.RunID, "attempt", run.Attempt)
	log.Info("sync run started", "platform", run.Platform.String(), "trigger", run.Trigger)
	r.changes.notify()
	err := r.collect(runCtx, run)
	cancel(nil)
	<-renewed

	// Bookkeeping outlives the run's context: a run that failed because the
	// process is stopping must still be handed back.
	bg := context.WithoutCancel(ctx)
	defer r.changes.notify()
	switch cause := context.Cause(runCtx); {
	case err == nil:
	case ctx.Err() != nil:
		if rerr := r.cfg.Store.ReleaseRun(bg, run.SellerID, run.RunID, r.owner); rerr != nil {
			log.Error("handing back a stopped run", "err", rerr.Error())
		}
		log.Info("sync run handed back", "reason", "shutting down")
		return
	case errors.Is(cause, errAccountRemoved), errors.Is(cause, store.ErrLeaseLost),
		errors.Is(err, store.ErrLeaseLost), errors.Is(err, store.ErrNotFound):
		log.Info("sync run abandoned", "reason", errorText(err))
		return
	}

	platform := strings.ToLower(store.PlatformName(run.Platform))
	if err == nil {
		if merr := r.cfg.Store.MarkAccountSucceeded(bg, run.SellerID, run.AccountID, r.cfg.Store.Now()); merr != nil {
			log.Error("marking account succeeded", "err", merr.Error())
		}
		if ferr := r.cfg.Store.FinishRun(bg, run.SellerID, run.RunID, r.owner, nil); ferr != nil {
			log.Error("finishing sync run", "err", ferr.Error())
			return
		}
		r.metrics.finished.WithLabelValues(platform, store.RunSucceeded, "OK").Inc()
		log.Info("sync run succeeded")
		return
	}
	failure := describeFailure(err)
	if failure.NeedsSeller {
		if merr := r.cfg.Store.MarkAccountNeedsSeller(bg, run.SellerID, run.AccountID, failure.Message); merr != nil {
			log.Error("marking account as needing the seller", "err", merr.Error())
		}
	}
	if ferr := r.cfg.Store.FinishRun(bg, run.SellerID, run.RunID, r.owner, &failure); ferr != nil {
		log.Error("finishing sync run", "err", ferr.Error())
		return
	}
	r.metrics.finished.WithLabelValues(platform, store.RunFailed, failure.Code).Inc()
	log.Warn("sync run failed", "code", failure.Code, "err", failure.Message, "needs_seller", failure.NeedsSeller)
}

func (r *Runner) renewLease(ctx context.Context, cancel context.CancelCauseFunc, run store.Run) {
	t := time.NewTicker(r.cfg.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			err := r.cfg.Store.RenewLease(ctx, run.SellerID, run.RunID, r.owner, r.cfg.Lease)
			if errors.Is(err, store.ErrLeaseLost) {
				cancel(store.ErrLeaseLost)
				return
			}
			if err != nil && ctx.Err() == nil {
				r.log.Error("renewing run lease", "run_id", run.RunID, "err", err.Error())
			}
		}
	}
}

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
		return status.Errorf(codes.Internal, "seller time zone %q: %v", rc.TimeZone, err)
	}
	creds, err := r.cfg.Credentials.Open(run.SellerID, run.AccountID, rc.Sealed)
	if err != nil {
		return status.Errorf(codes.Internal, "the stored credentials cannot be read (was the credential key changed?): %v", err)
	}

	streams := run.Streams
	if len(streams) == 0 {
		desc, err := client.Describe(ctx, &collectorv1.DescribeRequest{})
		if err != nil {
			return err
		}
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
	req := &collectorv1.CollectRequest{Credentials: creds, TimeZone: rc.TimeZone}
	for _, s := range streams {
		req.Streams = append(req.Streams, &collectorv1.StreamRequest{Name: s, Cursor: cursors[s]})
	}

	stream, err := client.Collect(ctx, req)
	if err != nil {
		return err
	}
	l := &load{
		r:     r,
		run:   run,
		batch: r.cfg.Loader.NewBatch(loader.Scope{SellerID: run.SellerID, AccountID: run.AccountID, Location: loc}),
		rc:    rc,
	}
	for {
		msg, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			// Records since the last checkpoint are dropped; the next run
			// collects them again from the saved cursor.
			return err
		}
		if err := l.handle(ctx, msg); err != nil {
			return err
		}
	}
	// Records after the last checkpoint: commit them, without moving a cursor.
	return l.commit(ctx, nil)
}

// load applies one run's collect stream to the database.
type load struct {
	r     *Runner
	run   store.Run
	rc    store.RunContext
	batch *loader.Batch
}

func (l *load) handle(ctx context.Context, msg *collectorv1.CollectResponse) error {
	switch m := msg.GetMessage().(type) {
	case *collectorv1.CollectResponse_Records:
		if err := l.batch.Add(m.Records); err != nil {
			return status.Errorf(codes.Internal, "the collector sent an invalid record: %v", err)
		}
		if l.batch.Records() >= l.r.cfg.FlushRecords {
			return l.commit(ctx, nil)
		}
	case *collectorv1.CollectResponse_Checkpoint:
		if err := checkStreamName(m.Checkpoint.GetStream()); err != nil {
			return status.Errorf(codes.Internal, "the collector sent a checkpoint for an invalid stream: %v", err)
		}
		return l.commit(ctx, m.Checkpoint)
	case *collectorv1.CollectResponse_CredentialUpdate:
		return l.storeCredentials(ctx, m.CredentialUpdate.GetCredentials())
	case *collectorv1.CollectResponse_Progress:
		p := m.Progress
		if checkStreamName(p.GetStream()) != nil {
			return nil // progress is advisory; a malformed one is not worth failing for
		}
		if err := l.r.cfg.Store.SetEstimate(ctx, l.run.SellerID, l.run.RunID, p.GetStream(), p.GetRecordsEstimated(), p.GetMessage()); err != nil {
			return err
		}
		l.r.changes.notify()
	}
	return nil
}

// commit writes the buffered records and, when given, the checkpoint that
// follows them, in one transaction: a checkpoint is never saved without the
// records before it, and records without their checkpoint are merely
// collected again next time.
func (l *load) commit(ctx context.Context, cp *collectorv1.Checkpoint) error {
	if l.batch.Records() == 0 && cp == nil {
		return nil
	}
	loaded := l.batch.Loaded()
	err := l.r.cfg.Store.InTx(ctx, func(tx *sql.Tx) error {
		if err := store.LockAccountTx(ctx, tx, l.run.SellerID, l.run.AccountID); err != nil {
			return err
		}
		if err := store.LockRunTx(ctx, tx, l.run.SellerID, l.run.RunID, l.r.owner); err != nil {
			return err
		}
		if err := l.batch.Write(ctx, tx); err != nil {
			return err
		}
		if cp != nil {
			if err := store.SaveCursorTx(ctx, tx, l.run.SellerID, l.run.AccountID, cp.GetStream(), cp.GetCursor(), l.r.cfg.Store.Now()); err != nil {
				return err
			}
		}
		return store.AddLoadedTx(ctx, tx, l.run.SellerID, l.run.RunID, loaded)
	})
	if err != nil {
		if errors.Is(err, store.ErrLeaseLost) || errors.Is(err, store.ErrNotFound) {
			return err
		}
		return status.Errorf(codes.Internal, "loading records: %v", err)
	}
	platform := strings.ToLower(store.PlatformName(l.rc.Account.Platform))
	for stream, n := range loaded {
		l.r.metrics.records.WithLabelValues(platform, stream).Add(float64(n))
	}
	l.batch.Reset()
	l.r.changes.notify()
	return nil
}

// storeCredentials makes rotated credentials durable before anything after
// them is processed: the old ones may already be dead (cafe24.md, refresh
// tokens are single-use).
func (l *load) storeCredentials(ctx context.Context, c *collectorv1.Credentials) error {
	if err := credentials.CheckPlatform(l.rc.Account.Platform, c); err != nil {
		return status.Errorf(codes.Internal, "the collector sent unusable rotated credentials: %v", err)
	}
	sealed, err := l.r.cfg.Credentials.Seal(l.run.SellerID, l.run.AccountID, c)
	if err != nil {
		return status.Errorf(codes.Internal, "storing rotated credentials: %v", err)
	}
	if err := l.r.cfg.Store.UpdateCredentials(ctx, l.run.SellerID, l.run.AccountID, sealed); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return err
		}
		return status.Errorf(codes.Internal, "storing rotated credentials: %v", err)
	}
	return nil
}

// describeFailure turns a run's error into what the run row and the seller
// see: the gRPC code name, the message, and whether only the seller can fix
// it (reconnect, new password, grant scopes).
func describeFailure(err error) store.RunFailure {
	st, ok := status.FromError(err)
	if !ok {
		st = status.New(codes.Internal, err.Error())
	}
	code := st.Code()
	return store.RunFailure{
		Code:        CodeName(code),
		Message:     st.Message(),
		NeedsSeller: code == codes.Unauthenticated || code == codes.FailedPrecondition || code == codes.PermissionDenied,
	}
}

// CodeName is a gRPC code's canonical name, e.g. "FAILED_PRECONDITION".
func CodeName(c codes.Code) string {
	camel := c.String() // "FailedPrecondition"
	if camel == "OK" {
		return camel
	}
	var b strings.Builder
	for i, r := range camel {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Streams every collector offers (collector.proto); a run may ask for any.
var Streams = []string{"orders", "products", "categories", "coupons"}

// CheckStreams validates stream names asked for by a caller.
func CheckStreams(names []string) error {
	for _, n := range names {
		known := false
		for _, s := range Streams {
			known = known || n == s
		}
		if !known {
			return fmt.Errorf("unknown stream %q; streams are %s", n, strings.Join(Streams, ", "))
		}
	}
	return nil
}

// checkStreamName bounds what a collector may call a stream (the column is
// VARCHAR(64)).
func checkStreamName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("stream name %q must be 1-64 bytes", name)
	}
	return nil
}
