package collector

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
	"hlog.dev/ably-svc/internal/translate"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

func dayOf(t time.Time) time.Time {
	t = t.In(kst)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, kst)
}

func dayString(t time.Time) string { return t.Format(time.DateOnly) }

// maxSearchDays is the longest date range the site answers at once.
const maxSearchDays = 366

// collectOrders reads order days from the cursor (less the lookback) to
// today, window by window, each followed by a checkpoint.
func (r *run) collectOrders(ctx context.Context, sr *collectorv1.StreamRequest) error {
	cfg := r.svc.cfg
	now := cfg.Clock.Now()
	today := dayOf(now)
	next, floor, resumed, err := decodeOrdersCursor(sr.Cursor)
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	var from time.Time
	switch {
	case resumed:
		from = dayOf(next.Add(-cfg.Lookback))
		if from.Before(floor) {
			from = floor
		}
	case sr.BackfillFrom != nil:
		if err := sr.BackfillFrom.CheckValid(); err != nil {
			return status.Errorf(codes.InvalidArgument, "backfill_from: %v", err)
		}
		from = dayOf(sr.BackfillFrom.AsTime())
		floor, next = from, from
	default:
		from = dayOf(now.Add(-cfg.DefaultBackfill))
		floor, next = from, from
	}
	if from.After(today) {
		from = today
	}

	// Claims first: a claim on an order older than the lookback widens the
	// re-read to that order's day, so late returns are never missed. Claims
	// happen after their order, so claims requested since the widened start
	// cover every order re-read.
	claims := translate.NewClaims()
	loadedFrom := today.AddDate(0, 0, 1)
	for from.Before(loadedFrom) {
		if err := r.loadClaims(ctx, claims, from, loadedFrom.AddDate(0, 0, -1)); err != nil {
			return err
		}
		loadedFrom = from
		if e := claims.Earliest; !e.IsZero() && dayOf(e).Before(from) {
			from = dayOf(e)
			if from.Before(floor) {
				from = floor
			}
		}
	}
	r.log.Info("collecting orders", "from", dayString(from), "to", dayString(today), "resumed", resumed, "claims", claims.Len())
	if err := r.progress(fmt.Sprintf("orders %s..%s, %d claims", dayString(from), dayString(today), claims.Len())); err != nil {
		return err
	}
	for start := from; !start.After(today); {
		end := start.AddDate(0, 0, cfg.WindowDays-1)
		if end.After(today) {
			end = today
		}
		items, err := r.windowItems(ctx, start, end)
		if err != nil {
			return err
		}
		orders, lines, err := translate.Orders(items, claims)
		if err != nil {
			return status.Errorf(codes.Internal, "reading orders of %s..%s: %v", dayString(start), dayString(end), err)
		}
		if err := r.send(orders, lines); err != nil {
			return err
		}
		// Today is still open: the next run starts from it again.
		upTo := end.AddDate(0, 0, 1)
		if upTo.After(today) {
			upTo = today
		}
		if upTo.After(next) {
			next = upTo
		}
		cur, err := encodeOrdersCursor(next, floor)
		if err != nil {
			return err
		}
		if err := r.stream.Send(&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_Checkpoint{
			Checkpoint: &collectorv1.Checkpoint{Stream: streamOrders, Cursor: cur},
		}}); err != nil {
			return err
		}
		r.estimated = max(r.estimated, r.done)
		if err := r.progress(fmt.Sprintf("orders %s..%s", dayString(start), dayString(end))); err != nil {
			return err
		}
		start = end.AddDate(0, 0, 1)
	}
	return nil
}

// windowItems reads the order items of order days start..end through the
// JSON API; when the answer's shape is not the known one, through the order
// Excel instead.
func (r *run) windowItems(ctx context.Context, start, end time.Time) ([]translate.OrderItem, error) {
	var items []translate.OrderItem
	q := url.Values{"date_type": {"ordered_at"}, "start_date": {dayString(start)}, "end_date": {dayString(end)},
		"order": {"ordered_at"}, "per_page": {strconv.Itoa(r.svc.cfg.PerPage)}}
	for page := 1; ; page++ {
		q.Set("page", strconv.Itoa(page))
		res, err := r.get(ctx, "/seller/order_items/", q, false)
		if err != nil {
			return nil, err
		}
		p, err := translate.DecodePage[translate.OrderItem](res.Body, "order_items")
		if errors.Is(err, translate.ErrLayout) {
			r.log.Warn("order list changed shape; falling back to the order Excel", "err", err.Error(), "from", dayString(start), "to", dayString(end))
			return r.excelItems(ctx, start, end)
		}
		if err != nil {
			return nil, err
		}
		if page == 1 {
			r.estimated += int64(p.TotalCount)
		}
		items = append(items, p.Rows...)
		if len(p.Rows) == 0 || page >= p.MaxPageNumber {
			return items, nil
		}
	}
}

// excelItems downloads "전체 주문 엑셀" for start..end and keeps the rows of
// those days: the file may hold older orders than asked for (ably.md).
func (r *run) excelItems(ctx context.Context, start, end time.Time) ([]translate.OrderItem, error) {
	q := url.Values{"start_date": {dayString(start)}, "end_date": {dayString(end)}}
	res, err := r.get(ctx, "/seller/order_items/excel/", q, true)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(res.ContentType, "spreadsheet") {
		return nil, status.Errorf(codes.Internal, "the order Excel download answered %q, not a spreadsheet", res.ContentType)
	}
	all, err := translate.ExcelItems(res.Body)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "both the order list and the order Excel changed: %v", err)
	}
	var items []translate.OrderItem
	endExcl := end.AddDate(0, 0, 1)
	for _, it := range all {
		t, err := translate.ParseDate(it.OrderedAt)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "order Excel item %s: %v", it.Sno, err)
		}
		if !t.Before(start) && t.Before(endExcl) {
			items = append(items, it)
		}
	}
	return items, nil
}

// loadClaims indexes the cancels, returns and exchanges requested on days
// from..to.
func (r *run) loadClaims(ctx context.Context, claims *translate.Claims, from, to time.Time) error {
	for start := from; !start.After(to); {
		end := start.AddDate(0, 0, maxSearchDays-1)
		if end.After(to) {
			end = to
		}
		q := url.Values{"start_date": {dayString(start)}, "end_date": {dayString(end)}, "per_page": {strconv.Itoa(r.svc.cfg.PerPage)}}
		if err := pages(ctx, r, "/seller/order_cancels/", "order_cancels", q, claims.AddCancel); err != nil {
			return err
		}
		if err := pages(ctx, r, "/seller/exchanges/", "exchanges", q, claims.AddExchange); err != nil {
			return err
		}
		start = end.AddDate(0, 0, 1)
	}
	return nil
}

func pages[T any](ctx context.Context, r *run, path, key string, q url.Values, add func(T) error) error {
	for page := 1; ; page++ {
		q.Set("page", strconv.Itoa(page))
		res, err := r.get(ctx, path, q, false)
		if err != nil {
			return err
		}
		p, err := translate.DecodePage[T](res.Body, key)
		if err != nil {
			return status.Errorf(codes.Internal, "reading %s: %v", path, err)
		}
		for _, row := range p.Rows {
			if err := add(row); err != nil {
				return status.Errorf(codes.Internal, "reading %s: %v", path, err)
			}
		}
		if len(p.Rows) == 0 || page >= p.MaxPageNumber {
			return nil
		}
	}
}

// send streams orders with their lines in batches.
func (r *run) send(orders []*commercev1.Order, lines []*commercev1.OrderLine) error {
	byOrder := map[string][]*commercev1.OrderLine{}
	for _, l := range lines {
		byOrder[l.OrderSourceId] = append(byOrder[l.OrderSourceId], l)
	}
	size := r.svc.cfg.BatchSize
	for i := 0; i < len(orders); i += size {
		batch := orders[i:min(i+size, len(orders))]
		var bl []*commercev1.OrderLine
		for _, o := range batch {
			bl = append(bl, byOrder[o.SourceId]...)
		}
		if err := r.stream.Send(&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_Records{Records: &collectorv1.RecordBatch{
			Stream: streamOrders, Orders: batch, OrderLines: bl,
		}}}); err != nil {
			return err
		}
		r.done += int64(len(bl))
	}
	return nil
}

func (r *run) progress(msg string) error {
	return r.stream.Send(&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_Progress{Progress: &collectorv1.Progress{
		Stream: streamOrders, RecordsDone: r.done, RecordsEstimated: r.estimated, Message: msg,
		ObservedAt: timestamppb.New(r.svc.cfg.Clock.Now()),
	}}})
}
