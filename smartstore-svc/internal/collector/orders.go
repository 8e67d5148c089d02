package collector

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	"hlog.dev/smartstore-svc/internal/naverapi"
	"hlog.dev/smartstore-svc/internal/translate"
)

// window is the widest date range the pay-order searches take: 24 hours,
// both ends inclusive (smartstore.md §3), so a window spans 24 h less 1 ms
// when windows follow each other.
const window = naverapi.MaxWindow

// collectOrders runs the orders stream from its cursor: the first run
// backfills, later runs follow changes.
func (r *run) collectOrders(ctx context.Context, sr *collectorv1.StreamRequest) error {
	r.current = streamOrders
	cur, err := decodeOrdersCursor(sr.Cursor)
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	upper := r.svc.cfg.Clock.Now().Add(-r.svc.cfg.SafetyMargin).Truncate(time.Millisecond)
	if cur == nil {
		from := upper.Add(-r.svc.cfg.DefaultBackfill)
		if bf := sr.GetBackfillFrom(); bf != nil {
			from = bf.AsTime()
		}
		from = from.Truncate(time.Millisecond)
		if !from.Before(upper) {
			from = upper
		}
		// Changes after the backfill began are read by the next run: the
		// backfill may read a window before one of its orders changes.
		cur = &ordersCursor{ChangedFrom: upper, BackfillNext: from, BackfillUntil: upper}
	}
	if cur.backfilling() {
		return r.backfill(ctx, cur)
	}
	return r.followChanges(ctx, cur, upper)
}

// backfill sends every order placed in [BackfillNext, BackfillUntil) through
// the conditional search by order date, one day-long window at a time, with
// a checkpoint after each. Order date rather than payment date
// (rangeType PAYED_DATETIME): orders awaiting payment, or cancelled for want
// of it, have no payment date yet are orders the seller has, and a search
// by payment date would need a second pass per day to find them. An order's
// lines share its order date, so a window holds whole orders.
func (r *run) backfill(ctx context.Context, cur *ordersCursor) error {
	for cur.backfilling() {
		from := cur.BackfillNext
		to := earliest(from.Add(window-time.Millisecond), cur.BackfillUntil.Add(-time.Millisecond))
		var pos []*naverapi.ProductOrder
		for page := 1; ; page++ {
			p, err := r.sess.SearchProductOrders(ctx, naverapi.Search{From: from, To: to, RangeType: "ORDERED_DATETIME", Page: page})
			if err != nil {
				return err
			}
			for i := range p.Contents {
				pos = append(pos, &p.Contents[i].Content)
			}
			if !p.Pagination.HasNext || len(p.Contents) == 0 {
				break
			}
		}
		if err := r.sendProductOrders(ctx, pos); err != nil {
			return err
		}
		cur.BackfillNext = to.Add(time.Millisecond)
		b, err := cur.encode()
		if err != nil {
			return err
		}
		if err := r.checkpoint(streamOrders, b); err != nil {
			return err
		}
		if err := r.progress(streamOrders, "orders placed "+naverapi.FormatTime(from)+".."+naverapi.FormatTime(to), 0); err != nil {
			return err
		}
	}
	return nil
}

// followChanges sends what changed since the cursor: first the deliveries
// that last-changed-statuses does not report, then 24-hour windows of
// changes up to upper, each followed by a checkpoint.
func (r *run) followChanges(ctx context.Context, cur *ordersCursor, upper time.Time) error {
	if err := r.rereadDeliveries(ctx, cur.ChangedFrom); err != nil {
		return err
	}
	b, err := cur.encode()
	if err != nil {
		return err
	}
	if err := r.checkpoint(streamOrders, b); err != nil {
		return err
	}
	for from := cur.ChangedFrom; from.Before(upper); {
		to := earliest(from.Add(window), upper)
		ids, err := r.changedIDs(ctx, from, to)
		if err != nil {
			return err
		}
		pos, err := r.query(ctx, ids)
		if err != nil {
			return err
		}
		if err := r.sendProductOrders(ctx, pos); err != nil {
			return err
		}
		// Both ends are inclusive: the next window starts at to again, and
		// the product orders changed at that instant are read twice, which
		// ingest's upserts absorb.
		msg := "changes " + naverapi.FormatTime(from) + ".." + naverapi.FormatTime(to)
		cur.ChangedFrom = to
		from = to
		if to.Equal(upper) {
			break
		}
		if b, err = cur.encode(); err != nil {
			return err
		}
		if err := r.checkpoint(streamOrders, b); err != nil {
			return err
		}
		if err := r.progress(streamOrders, msg, 0); err != nil {
			return err
		}
	}
	if b, err = cur.encode(); err != nil {
		return err
	}
	return r.checkpoint(streamOrders, b)
}

// changedIDs follows data.more to the end of one window and returns each
// product order once (a product order shows once, at its latest change, but
// a change during paging can show it on two pages).
func (r *run) changedIDs(ctx context.Context, from, to time.Time) ([]string, error) {
	var ids []string
	seen := map[string]bool{}
	var more *naverapi.More
	for {
		p, err := r.sess.LastChanged(ctx, from, to, more)
		if err != nil {
			return nil, err
		}
		for _, s := range p.Statuses {
			if s.ProductOrderID != "" && !seen[s.ProductOrderID] {
				seen[s.ProductOrderID] = true
				ids = append(ids, s.ProductOrderID)
			}
		}
		if p.More == nil || p.More.MoreSequence == "" || len(p.Statuses) == 0 {
			return ids, nil
		}
		more = p.More
	}
}

// rereadDeliveries re-reads the product orders dispatched in the lookback
// before the cursor that are DELIVERED now: delivery completion moves no
// lastChangedDate (smartstore.md §3), so otherwise they would show as
// shipping until their purchase is decided.
func (r *run) rereadDeliveries(ctx context.Context, cursor time.Time) error {
	lookback := r.svc.cfg.DeliveryLookback
	if lookback == 0 {
		return nil
	}
	for from := cursor.Add(-lookback); from.Before(cursor); {
		to := earliest(from.Add(window-time.Millisecond), cursor)
		var pos []*naverapi.ProductOrder
		for page := 1; ; page++ {
			p, err := r.sess.SearchProductOrders(ctx, naverapi.Search{From: from, To: to, RangeType: "DISPATCHED_DATETIME", Statuses: []string{"DELIVERED"}, Page: page})
			if err != nil {
				return err
			}
			for i := range p.Contents {
				pos = append(pos, &p.Contents[i].Content)
			}
			if !p.Pagination.HasNext || len(p.Contents) == 0 {
				break
			}
		}
		if err := r.sendProductOrders(ctx, pos); err != nil {
			return err
		}
		from = to.Add(time.Millisecond)
	}
	return nil
}

// query reads product order details in batches of 300 (smartstore.md §4).
func (r *run) query(ctx context.Context, ids []string) ([]*naverapi.ProductOrder, error) {
	var out []*naverapi.ProductOrder
	for i := 0; i < len(ids); i += naverapi.MaxQueryIDs {
		batch, err := r.sess.QueryProductOrders(ctx, ids[i:min(i+naverapi.MaxQueryIDs, len(ids))])
		if err != nil {
			return nil, err
		}
		for j := range batch {
			out = append(out, &batch[j])
		}
	}
	return out, nil
}

// sendProductOrders groups product orders by order, completes orders some of
// whose product orders are missing (an order's status and totals need them
// all), translates and sends them in batches.
func (r *run) sendProductOrders(ctx context.Context, pos []*naverapi.ProductOrder) error {
	var orderIDs []string
	byOrder := map[string][]*naverapi.ProductOrder{}
	have := map[string]bool{}
	for _, po := range pos {
		id := po.ProductOrder.ProductOrderID
		if have[id] {
			continue
		}
		have[id] = true
		oid := po.Order.OrderID
		if _, ok := byOrder[oid]; !ok {
			orderIDs = append(orderIDs, oid)
		}
		byOrder[oid] = append(byOrder[oid], po)
	}
	var missing []string
	for _, oid := range orderIDs {
		if translate.Complete(byOrder[oid]) {
			continue
		}
		ids, err := r.sess.ProductOrderIDs(ctx, oid)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if !have[id] {
				have[id] = true
				missing = append(missing, id)
			}
		}
	}
	if len(missing) > 0 {
		more, err := r.query(ctx, missing)
		if err != nil {
			return err
		}
		for _, po := range more {
			byOrder[po.Order.OrderID] = append(byOrder[po.Order.OrderID], po)
		}
	}
	batch := &collectorv1.RecordBatch{Stream: streamOrders}
	flush := func() error {
		if len(batch.Orders) == 0 {
			return nil
		}
		n := int64(len(batch.Orders) + len(batch.OrderLines))
		if err := r.send(&collectorv1.CollectResponse{Message: &collectorv1.CollectResponse_Records{Records: batch}}); err != nil {
			return err
		}
		r.done += n
		batch = &collectorv1.RecordBatch{Stream: streamOrders}
		return nil
	}
	for _, oid := range orderIDs {
		o, lines, err := translate.Order(byOrder[oid])
		if err != nil {
			return fmt.Errorf("translating order %s: %w", oid, err)
		}
		batch.Orders = append(batch.Orders, o)
		batch.OrderLines = append(batch.OrderLines, lines...)
		if len(batch.OrderLines) >= r.svc.cfg.BatchSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
