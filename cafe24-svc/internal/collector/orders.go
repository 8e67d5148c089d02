package collector

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"hlog.dev/cafe24-svc/internal/cafe24api"
	"hlog.dev/cafe24-svc/internal/translate"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

// run is one Collect call.
type run struct {
	svc    *Service
	stream collectorv1.CollectorService_CollectServer
	log    *slog.Logger
	mall   *cafe24api.Mall
	sess   *session

	current         string // the stream being collected
	done, estimated int64
	waitErr         error // a progress message about a wait that could not be sent

	refunds    *translate.RefundIndex
	refundDays map[string]bool // KST days whose refunds were fetched on their own
	// refundedOrders are the orders refunded from changesSince on, with
	// their order dates when the refund says (zero otherwise).
	refundedOrders map[string]time.Time
	changesSince   time.Time
	refundsUntil   time.Time // refunds made before it are indexed (or evicted)
	walkFrom       time.Time // the order-date walk's span
	walkTo         time.Time

	batchOrders []*commercev1.Order
	batchLines  []*commercev1.OrderLine
	last        time.Time // order date of the last order added
	lastRefund  time.Time // refund date of the last refund indexed
}

// collectOrders brings the orders stream up to now. A first run walks
// order-date windows from the backfill start. A resumed run first searches
// the orders placed before its lookback that changed since the last run (by
// the claim and fulfilment date types, cafe24.md §8), then walks order-date
// windows from the cursor less the lookback. Each window ends with a
// checkpoint.
func (r *run) collectOrders(ctx context.Context, sr *collectorv1.StreamRequest) error {
	cfg := r.svc.cfg
	now := cfg.Clock.Now().Truncate(time.Second)
	cur, err := decodeOrdersCursor(sr.Cursor)
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	var from, hwm, floor, changesFrom time.Time
	switch {
	case cur != nil:
		hwm, floor, changesFrom = cur.OrderDateFrom, cur.Floor, cur.ChangesFrom
		if changesFrom.IsZero() {
			changesFrom = hwm
		}
		from = hwm.Add(-cfg.Lookback)
		if from.Before(floor) {
			from = floor
		}
	case sr.BackfillFrom != nil:
		if err := sr.BackfillFrom.CheckValid(); err != nil {
			return status.Errorf(codes.InvalidArgument, "backfill_from: %v", err)
		}
		from = sr.BackfillFrom.AsTime().Truncate(time.Second)
		floor = from
	default:
		from = now.Add(-cfg.DefaultBackfill)
		floor = from
	}
	if from.After(now) {
		from = now
	}
	if cur == nil {
		// Nothing before the backfill start is wanted: it is sent.
		hwm = from
	}
	r.begin(streamOrders)
	r.log.Info("collecting orders", "from", from.Format(time.RFC3339), "to", now.Format(time.RFC3339), "resumed", cur != nil)

	checkpointed := false
	checkpoint := func() error {
		checkpointed = true
		b, err := ordersCursor{OrderDateFrom: hwm, Floor: floor, ChangesFrom: changesFrom}.encode()
		if err != nil {
			return err
		}
		return r.stream.Send(&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_Checkpoint{
			Checkpoint: &collectorv1.Checkpoint{Stream: streamOrders, Cursor: b},
		}})
	}
	r.refunds, r.refundDays = translate.NewRefundIndex(), map[string]bool{}
	refundsFrom := from
	if cur != nil {
		// Refunds made since the last run, by refund date (cafe24.md §8),
		// whatever the order date.
		changesFrom = changesFrom.Add(-changeOverlap)
		if changesFrom.Before(refundsFrom) {
			refundsFrom = changesFrom
		}
	}
	r.refundedOrders = map[string]time.Time{}
	if cur != nil {
		r.changesSince = changesFrom
	}
	// Refunds are read by refund date in 3-month searches, lazily: only as
	// far ahead of the walk as refundHorizon, and forgotten once every order
	// before them is sent, so memory stays flat however long the backfill.
	r.refundsUntil = refundsFrom
	if cur != nil {
		if err := r.ensureRefunds(ctx, now, now); err != nil {
			return err
		}
	}
	if cur != nil && changesFrom.Before(now) {
		if err := r.collectChanges(ctx, changesFrom, now, floor, from); err != nil {
			return err
		}
	}
	changesFrom = now
	if cur != nil {
		if err := checkpoint(); err != nil {
			return err
		}
	}

	r.walkFrom, r.walkTo = from, now
	var sent int64 // orders sent by the walk
	var covered time.Duration
	for start := from; start.Before(now); {
		w := r.nextWindow(start, now, sent, covered)
		if err := r.ensureRefunds(ctx, w.end.Add(refundHorizon), now); err != nil {
			return err
		}
		before := r.done
		upTo, err := r.window(ctx, w, sent == 0)
		if err != nil {
			return err
		}
		r.refunds.EvictBefore(upTo)
		sent += r.done - before
		covered += upTo.Sub(w.start)
		// upTo is short of w.end when the window outgrew the offset cap
		// while it was paged: the rest is searched again from there.
		start = upTo
		if upTo.After(hwm) {
			hwm = upTo
		}
		if err := checkpoint(); err != nil {
			return err
		}
		if covered > 0 {
			rest := now.Sub(upTo)
			r.estimated = r.done + int64(float64(sent)*rest.Seconds()/covered.Seconds())
		}
		if err := r.progress("orders "+window{start: w.start, end: upTo}.String(), 0); err != nil {
			return err
		}
	}
	if !checkpointed {
		// A run with nothing to search still says where it stands.
		if err := checkpoint(); err != nil {
			return err
		}
	}
	r.log.Info("orders collected", "orders", r.done, "refunds_indexed", r.refunds.Len())
	return nil
}

// add translates one order into the pending batch, fetching first any
// refund its items show that the index lacks.
func (r *run) add(ctx context.Context, o *cafe24api.Order) error {
	days, err := translate.MissingRefundDays(o, r.refunds)
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	for _, day := range days {
		key := day.Format(time.DateOnly)
		if r.refundDays[key] {
			continue
		}
		r.refundDays[key] = true
		if err := r.loadRefunds(ctx, day, day.AddDate(0, 0, 1)); err != nil {
			return err
		}
	}
	order, lines, err := translate.Order(o, r.refunds)
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	r.batchOrders = append(r.batchOrders, order)
	r.batchLines = append(r.batchLines, lines...)
	r.last = order.OrderedAt.AsTime()
	if len(r.batchOrders) >= r.svc.cfg.BatchSize {
		return r.flush()
	}
	return nil
}

func (r *run) flush() error {
	if len(r.batchOrders) == 0 {
		return nil
	}
	batch := &collectorv1.RecordBatch{Stream: streamOrders, Orders: r.batchOrders, OrderLines: r.batchLines}
	n := int64(len(r.batchOrders))
	r.batchOrders, r.batchLines = nil, nil
	return r.send(batch, n)
}

// begin starts a stream: progress counts from zero.
func (r *run) begin(stream string) {
	r.current, r.done, r.estimated = stream, 0, 0
}

// send streams a batch of n top-level records.
func (r *run) send(b *collectorv1.RecordBatch, n int64) error {
	r.done += n
	return r.stream.Send(&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_Records{Records: b}})
}

// refundHorizon is how far past a window's orders their refunds are read
// before the window: most claims complete within weeks of the order. A
// refund later than that is read on its own day when an item shows it
// (MissingRefundDays).
const refundHorizon = 31 * 24 * time.Hour

// ensureRefunds indexes the refunds made up to until (at most now), going
// on from where the index stands in whole 3-month searches, so that a
// backfill reads refunds in as few calls as one pass over the span would.
func (r *run) ensureRefunds(ctx context.Context, until, now time.Time) error {
	if until.After(now) {
		until = now
	}
	if !r.refundsUntil.Before(until) {
		return nil
	}
	end := r.refundsUntil
	for end.Before(until) {
		end = SearchEnd(end)
	}
	if end.After(now) {
		end = now
	}
	if err := r.loadRefunds(ctx, r.refundsUntil, end); err != nil {
		return err
	}
	r.refundsUntil = end
	return nil
}

// loadRefunds indexes the refunds made in [from, to), by refund date, in
// windows Cafe24 accepts (cafe24.md §8).
func (r *run) loadRefunds(ctx context.Context, from, to time.Time) error {
	cfg := r.svc.cfg
	for start := from; start.Before(to); {
		end := SearchEnd(start)
		if end.After(to) {
			end = to
		}
		s := cafe24api.Search{Start: start, End: end.Add(-time.Second), DateType: "refund_date", Limit: cafe24api.MaxRefundsLimit}
		next := end
		for s.Offset = 0; ; s.Offset += s.Limit {
			if s.Offset > cfg.MaxOffset {
				// More refunds than offset paging reaches: go on from the
				// last refund date seen.
				next = r.lastRefund
				if !next.After(start) {
					return status.Errorf(codes.Internal, "more than %d refunds at %s: too many to page through", cfg.MaxOffset, next)
				}
				break
			}
			var page []cafe24api.Refund
			err := r.sess.call(ctx, func(tok string) error {
				var err error
				page, err = r.mall.ListRefunds(ctx, tok, s)
				return err
			})
			if err != nil {
				return err
			}
			for _, rf := range page {
				r.refunds.Add(rf)
				if rf.RefundDate == nil {
					continue
				}
				t, err := translate.ParseTime(*rf.RefundDate)
				if err != nil {
					continue
				}
				r.lastRefund = t
				if !r.changesSince.IsZero() && !t.Before(r.changesSince) && rf.OrderID != "" {
					var od time.Time
					if rf.OrderDate != nil {
						od, _ = translate.ParseTime(*rf.OrderDate)
					}
					r.refundedOrders[rf.OrderID] = od
				}
			}
			if len(page) < s.Limit {
				break
			}
		}
		start = next
	}
	return nil
}

// progress tells ingest how far the run is.
func (r *run) progress(msg string, wait time.Duration) error {
	p := &collectorv1.Progress{
		Stream:           r.current,
		RecordsDone:      r.done,
		RecordsEstimated: r.estimated,
		Message:          msg,
		ObservedAt:       timestamppb.New(r.svc.cfg.Clock.Now()),
	}
	if wait > 0 {
		p.RateLimitWait = durationpb.New(wait)
	}
	if err := r.stream.Send(&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_Progress{Progress: p}}); err != nil {
		return err
	}
	return r.waitErr
}

// rateLimitWait reports waits for the rate limit of a second or more.
func (r *run) rateLimitWait(d time.Duration) {
	if d < time.Second || r.waitErr != nil {
		return
	}
	p := &collectorv1.Progress{
		Stream: r.current, RecordsDone: r.done, RecordsEstimated: r.estimated,
		Message:       fmt.Sprintf("waiting %s for the Cafe24 rate limit", d.Round(100*time.Millisecond)),
		RateLimitWait: durationpb.New(d),
		ObservedAt:    timestamppb.New(r.svc.cfg.Clock.Now()),
	}
	r.waitErr = r.stream.Send(&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_Progress{Progress: p}})
}
