package syncrun

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"

	"hlog.dev/ingest-svc/internal/credentials"
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
	if err == nil {
		// The run is done only when the dashboard shows its data.
		err = r.refreshRollups(runCtx, run.SellerID)
	}
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
		if r.cfg.Alerts != nil {
			r.cfg.Alerts.Resolved(bg, run.SellerID, run.AccountID)
		}
		log.Info("sync run succeeded")
		return
	}
	failure := describeFailure(err)
	if !failure.NeedsSeller && retryable(err) && run.Attempt < run.MaxAttempts {
		at := r.cfg.Store.Now().Add(r.backoff(run.Attempt))
		failure.RetryAt = &at
	}
	if failure.NeedsSeller {
		if merr := r.cfg.Store.MarkAccountNeedsSeller(bg, run.SellerID, run.AccountID, failure.Message); merr != nil {
			log.Error("marking account as needing the seller", "err", merr.Error())
		}
	}
	if ferr := r.cfg.Store.FinishRun(bg, run.SellerID, run.RunID, r.owner, &failure); ferr != nil {
		log.Error("finishing sync run", "err", ferr.Error())
		return
	}
	if failure.RetryAt != nil {
		r.metrics.finished.WithLabelValues(platform, store.RunRetrying, failure.Code).Inc()
		log.Warn("sync run failed, will retry", "code", failure.Code, "err", failure.Message, "retry_at", failure.RetryAt.Format(time.RFC3339))
		return
	}
	r.metrics.finished.WithLabelValues(platform, store.RunFailed, failure.Code).Inc()
	log.Warn("sync run failed", "code", failure.Code, "err", failure.Message, "needs_seller", failure.NeedsSeller)
	if r.cfg.Alerts != nil {
		r.cfg.Alerts.Incident(bg, Incident{
			SellerID: run.SellerID, AccountID: run.AccountID, RunID: run.RunID, Platform: run.Platform,
			Code: failure.Code, Message: failure.Message, NeedsSeller: failure.NeedsSeller, Attempts: run.Attempt,
		})
	}
}

func (r *Runner) refreshRollups(ctx context.Context, sellerID uint64) error {
	if r.cfg.Rollups == nil {
		return nil
	}
	if err := r.cfg.Rollups.RefreshSeller(ctx, sellerID); err != nil {
		return status.Errorf(codes.Internal, "updating the daily rollups: %v", err)
	}
	return nil
}

// backoff is the wait before the attempt after attempt: exponential from
// RetryBase, capped at RetryMax, with jitter (half fixed, half random) so
// that runs that failed together do not retry together.
func (r *Runner) backoff(attempt int) time.Duration {
	d := r.cfg.RetryBase
	for i := 1; i < attempt && d < r.cfg.RetryMax; i++ {
		d *= 2
	}
	d = min(d, r.cfg.RetryMax)
	half := d / 2
	return half + time.Duration(mrand.Int64N(int64(half)+1))
}

// retryable reports whether another attempt may succeed: transient platform
// or database trouble, yes; bad data from the collector or a request the
// platform refuses, no.
func retryable(err error) bool {
	var p *permanentError
	if errors.As(err, &p) {
		return false
	}
	st, ok := status.FromError(err)
	if !ok {
		return true // database and network errors
	}
	switch st.Code() {
	case codes.Unavailable, codes.ResourceExhausted, codes.DeadlineExceeded, codes.Aborted,
		codes.Internal, codes.Unknown, codes.Canceled:
		return true
	}
	return false
}

// permanentError marks a failure that retrying cannot fix (the collector
// broke the contract). It carries its gRPC status.
type permanentError struct{ st *status.Status }

func (e *permanentError) Error() string              { return e.st.Message() }
func (e *permanentError) GRPCStatus() *status.Status { return e.st }

func permanent(code codes.Code, format string, args ...any) error {
	return &permanentError{st: status.Newf(code, format, args...)}
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

// (collect and the load pipeline are in load.go)

// storeCredentials makes rotated credentials durable before anything after
// them is processed: the old ones may already be dead (cafe24.md, refresh
// tokens are single-use).
func (l *load) storeCredentials(ctx context.Context, c *collectorv1.Credentials) error {
	if err := credentials.CheckPlatform(l.rc.Account.Platform, c); err != nil {
		return permanent(codes.Internal, "the collector sent unusable rotated credentials: %v", err)
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
