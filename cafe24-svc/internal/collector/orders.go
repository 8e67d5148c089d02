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

	done, estimated int64
	waitErr         error // a progress message about a wait that could not be sent

	refunds    *translate.RefundIndex
	refundDays map[string]bool // KST days whose refunds were fetched on their own

	batchOrders []*commercev1.Order
	batchLines  []*commercev1.OrderLine
	last        time.Time // order date of the last order added
	lastRefund  time.Time // refund date of the last refund indexed
}

// window is a span of order dates, [start, end), searched as one.
type window struct {
	start, end time.Time
	count      int
}

func (w window) search() cafe24api.Search {
	// Cafe24 dates are whole seconds and end_date is inclusive.
	return cafe24api.Search{Start: w.start, End: w.end.Add(-time.Second), DateType: "order_date"}
}

func (w window) String() string {
	return w.start.In(cafe24api.KST).Format(time.DateTime) + ".." + w.end.In(cafe24api.KST).Format(time.DateTime)
}

// collectOrders walks order-date windows from the cursor (less the lookback) to
// now, sending each window's orders and lines, then a checkpoint.
func (r *run) collectOrders(ctx context.Context, sr *collectorv1.StreamRequest) error {
	cfg := r.svc.cfg
	now := cfg.Clock.Now().Truncate(time.Second)
	cur, err := decodeOrdersCursor(sr.Cursor)
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	var from, hwm time.Time
	var floor time.Time
	switch {
	case cur != nil:
		hwm, floor = cur.OrderDateFrom, cur.Floor
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
	r.log.Info("collecting orders", "from", from.Format(time.RFC3339), "to", now.Format(time.RFC3339), "resumed", cur != nil)

	r.refunds, r.refundDays = translate.NewRefundIndex(), map[string]bool{}
	if err := r.loadRefunds(ctx, from, now); err != nil {
		return err
	}
	windows, total, err := r.plan(ctx, from, now)
	if err != nil {
		return err
	}
	r.estimated = int64(total)
	if err := r.progress(fmt.Sprintf("orders %s: %d windows, about %d orders", window{start: from, end: now}, len(windows), total), 0); err != nil {
		return err
	}
	checkpointed := false
	checkpoint := func(upTo time.Time) error {
		checkpointed = true
		if upTo.After(hwm) {
			hwm = upTo
		}
		b, err := ordersCursor{OrderDateFrom: hwm, Floor: floor}.encode()
		if err != nil {
			return err
		}
		return r.stream.Send(&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_Checkpoint{
			Checkpoint: &collectorv1.Checkpoint{Stream: streamOrders, Cursor: b},
		}})
	}
	for len(windows) > 0 {
		w := windows[0]
		windows = windows[1:]
		upTo, err := r.window(ctx, w)
		if err != nil {
			return err
		}
		if upTo.Before(w.end) {
			// The window outgrew the offset cap while it was paged: the
			// rest of it is searched again from where the pages stopped.
			windows = append([]window{{start: upTo, end: w.end}}, windows...)
		}
		if err := checkpoint(upTo); err != nil {
			return err
		}
		r.estimated = max(r.estimated, r.done)
		if err := r.progress("orders "+window{start: w.start, end: upTo}.String(), 0); err != nil {
			return err
		}
	}
	if !checkpointed {
		// A run with nothing to search still says where it stands.
		if err := checkpoint(from); err != nil {
			return err
		}
	}
	r.log.Info("orders collected", "orders", r.done, "refunds_indexed", r.refunds.Len())
	return nil
}

// plan cuts [from, to) into windows of the configured size, halving any
// window that holds more orders than offset paging can reach (cafe24.md §4).
func (r *run) plan(ctx context.Context, from, to time.Time) ([]window, int, error) {
	cfg := r.svc.cfg
	reachable := cfg.MaxOffset + cfg.PageLimit
	var out []window
	total := 0
	size := cfg.Window
	for start := from; start.Before(to); {
		end := start.Add(size)
		if end.After(to) {
			end = to
		}
		w := window{start: start, end: end}
		err := r.sess.call(ctx, func(tok string) error {
			n, err := r.mall.CountOrders(ctx, tok, w.search())
			w.count = n
			return err
		})
		if err != nil {
			return nil, 0, err
		}
		if w.count > reachable {
			if end.Sub(start) <= minWindow {
				return nil, 0, status.Errorf(codes.Internal, "more than %d orders in %s: too many to page through", reachable, w)
			}
			size = end.Sub(start) / 2
			continue
		}
		out = append(out, w)
		total += w.count
		start, size = end, cfg.Window
	}
	return out, total, nil
}

// window sends the orders of w, page by page. It returns how far it got:
// w.end, or the order date it stopped at when the window grew past the
// offset cap while it was paged.
func (r *run) window(ctx context.Context, w window) (time.Time, error) {
	cfg := r.svc.cfg
	s := w.search()
	s.Limit, s.Embed = cfg.PageLimit, []string{"items"}
	for s.Offset = 0; ; s.Offset += cfg.PageLimit {
		if s.Offset > cfg.MaxOffset {
			last := r.last
			if err := r.flush(); err != nil {
				return time.Time{}, err
			}
			if !last.After(w.start) {
				return time.Time{}, status.Errorf(codes.Internal, "more than %d orders placed at %s: too many to page through", cfg.MaxOffset, last)
			}
			return last, nil
		}
		var page []cafe24api.Order
		err := r.sess.call(ctx, func(tok string) error {
			var err error
			page, err = r.mall.ListOrders(ctx, tok, s)
			return err
		})
		if err != nil {
			return time.Time{}, err
		}
		for i := range page {
			if err := r.add(ctx, &page[i]); err != nil {
				return time.Time{}, err
			}
		}
		if len(page) < cfg.PageLimit {
			break
		}
	}
	if err := r.flush(); err != nil {
		return time.Time{}, err
	}
	return w.end, nil
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
	err := r.stream.Send(&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_Records{Records: &collectorv1.RecordBatch{
		Stream: streamOrders, Orders: r.batchOrders, OrderLines: r.batchLines,
	}}})
	r.done += int64(len(r.batchOrders))
	r.batchOrders, r.batchLines = nil, nil
	return err
}

// loadRefunds indexes the refunds made in [from, to), by refund date, in
// windows Cafe24 accepts (cafe24.md §8).
func (r *run) loadRefunds(ctx context.Context, from, to time.Time) error {
	cfg := r.svc.cfg
	for start := from; start.Before(to); {
		end := start.Add(cfg.Window)
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
				if rf.RefundDate != nil {
					if t, err := translate.ParseTime(*rf.RefundDate); err == nil {
						r.lastRefund = t
					}
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
		Stream:           streamOrders,
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
		Stream: streamOrders, RecordsDone: r.done, RecordsEstimated: r.estimated,
		Message:       fmt.Sprintf("waiting %s for the Cafe24 rate limit", d.Round(100*time.Millisecond)),
		RateLimitWait: durationpb.New(d),
		ObservedAt:    timestamppb.New(r.svc.cfg.Clock.Now()),
	}
	r.waitErr = r.stream.Send(&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_Progress{Progress: p}})
}
