package collector

import (
	"context"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"hlog.dev/cafe24-svc/internal/cafe24api"
	"hlog.dev/cafe24-svc/internal/translate"
)

// Cafe24 has no updated-since filter for orders (cafe24.md §8). An order
// changes after it is placed when it is paid, shipped, delivered, confirmed,
// or claimed; each of those has a date_type (cafe24.md §4). A resumed run
// re-reads the lookback by order date, and searches these date types since
// the last run for the older orders, so that a return completed or a
// purchase confirmed weeks after the order still updates its lines. Refunds
// made since the last run (GET /refunds by refund date) name their orders
// too; any of those not found by the searches is read on its own.
//
// DefaultChangeDateTypes is Config.ChangeDateTypes' default.
var DefaultChangeDateTypes = []string{
	"pay_date", "shipbegin_date", "shipend_date", "purchaseconfirmation_date",
	"cancel_request_date", "cancel_complete_date",
	"return_request_date", "return_complete_date",
	"exchange_request_date", "exchange_complete_date",
}

// changeOverlap is searched again before where the last run stopped: the
// platform stamps events with its own clock.
const changeOverlap = time.Hour

// collectChanges sends the orders placed in [floor, before) that changed in
// [since, now). Orders placed from before on are read by the order-date walk.
func (r *run) collectChanges(ctx context.Context, since, now, floor, before time.Time) error {
	cfg := r.svc.cfg
	seen := map[string]bool{}
	for _, dt := range cfg.ChangeDateTypes {
		for start := since; start.Before(now); {
			end := SearchEnd(start)
			if end.After(now) {
				end = now
			}
			s := cafe24api.Search{Start: start, End: end.Add(-time.Second), DateType: dt, Limit: cfg.PageLimit, Embed: []string{"items"}}
			for s.Offset = 0; ; s.Offset += cfg.PageLimit {
				if s.Offset > cfg.MaxOffset {
					return status.Errorf(codes.Internal, "more than %d orders changed by %s in %s: too many to page through", cfg.MaxOffset, dt, window{start: start, end: end})
				}
				var page []cafe24api.Order
				err := r.sess.call(ctx, func(tok string) error {
					var err error
					page, err = r.mall.ListOrders(ctx, tok, s)
					return err
				})
				if err != nil {
					return err
				}
				for i := range page {
					o := &page[i]
					ordered, err := translate.ParseTime(o.OrderDate)
					if err != nil {
						return status.Errorf(codes.Internal, "order %s order_date: %v", o.OrderID, err)
					}
					if ordered.Before(floor) || !ordered.Before(before) || seen[o.OrderID] {
						continue
					}
					seen[o.OrderID] = true
					if err := r.add(ctx, o); err != nil {
						return err
					}
				}
				if len(page) < cfg.PageLimit {
					break
				}
			}
			start = end
		}
	}
	// Orders refunded since the last run that no search brought.
	ids := make([]string, 0, len(r.refundedOrders))
	for id := range r.refundedOrders {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if od := r.refundedOrders[id]; seen[id] || (!od.IsZero() && (od.Before(floor) || !od.Before(before))) {
			continue
		}
		var o *cafe24api.Order
		err := r.sess.call(ctx, func(tok string) error {
			var err error
			o, err = r.mall.GetOrder(ctx, tok, id)
			return err
		})
		if err != nil {
			return err
		}
		ordered, err := translate.ParseTime(o.OrderDate)
		if err != nil {
			return status.Errorf(codes.Internal, "order %s order_date: %v", o.OrderID, err)
		}
		if ordered.Before(floor) || !ordered.Before(before) {
			continue
		}
		seen[id] = true
		if err := r.add(ctx, o); err != nil {
			return err
		}
	}
	if err := r.flush(); err != nil {
		return err
	}
	r.log.Info("changed orders collected", "since", since.Format(time.RFC3339), "orders", len(seen))
	return nil
}
