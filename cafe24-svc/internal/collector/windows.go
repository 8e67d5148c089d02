package collector

import (
	"context"
	"fmt"
	"math"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"hlog.dev/cafe24-svc/internal/cafe24api"
	"hlog.dev/cafe24-svc/internal/translate"
)

// window is a span of order dates, [start, end), searched as one.
type window struct {
	start, end time.Time
}

func (w window) search() cafe24api.Search {
	// Cafe24 dates are whole seconds and end_date is inclusive.
	return cafe24api.Search{Start: w.start, End: w.end.Add(-time.Second), DateType: "order_date"}
}

func (w window) String() string {
	return w.start.In(cafe24api.KST).Format(time.DateTime) + ".." + w.end.In(cafe24api.KST).Format(time.DateTime)
}

// SearchEnd is where a search starting at t may end at the latest: Cafe24
// searches span at most 3 months (cafe24.md §4), counted here in KST
// calendar months, a day past a short month's end (30 Nov + 3 months) being
// that month's last day.
func SearchEnd(t time.Time) time.Time {
	k := t.In(cafe24api.KST)
	first := time.Date(k.Year(), k.Month()+3, 1, k.Hour(), k.Minute(), k.Second(), 0, cafe24api.KST)
	day := min(k.Day(), first.AddDate(0, 1, -1).Day())
	return first.AddDate(0, 0, day-1)
}

// nextWindow chooses the window starting at start: as long as Cafe24 allows
// (or the configured window), and, once the walk has seen orders, short
// enough for the orders per second seen so far to fit what offset paging
// reaches. The first window is sized by its first page instead (window).
func (r *run) nextWindow(start, to time.Time, sent int64, covered time.Duration) window {
	cfg := r.svc.cfg
	reachable := float64(cfg.MaxOffset + cfg.PageLimit)
	end := SearchEnd(start)
	if cfg.Window > 0 && start.Add(cfg.Window).Before(end) {
		end = start.Add(cfg.Window)
	}
	if end.After(to) {
		end = to
	}
	if covered > 0 && sent > 0 {
		// Only a window forecast well over the cap is shortened: one that
		// outgrows it all the same is resumed from where paging stopped,
		// which costs less than splitting windows that would have fit.
		density := float64(sent) / covered.Seconds()
		if predicted := density * end.Sub(start).Seconds(); predicted > 1.25*reachable {
			end = start.Add(max(minWindow, time.Duration(0.8*reachable/density*float64(time.Second))).Truncate(time.Second))
		}
	}
	return window{start: start, end: end}
}

// window sends the orders of w, page by page. It returns how far it got:
// w.end (shortened, for the first window, when it holds too many orders),
// or the order date it stopped at when the window grew past the offset cap
// while it was paged. first marks a window the walk has no pace for yet.
func (r *run) window(ctx context.Context, w window, first bool) (time.Time, error) {
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
		if first && s.Offset == 0 {
			if err := r.sizeFirstWindow(ctx, &w, page); err != nil {
				return time.Time{}, err
			}
			s.End = w.search().End
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

// sizeFirstWindow reads the first page of the walk's first window, which
// holds its earliest orders: how fast they came predicts how many the window
// holds. Only a window predicted to outgrow well what offset paging reaches
// is counted with /orders/count and, when the count confirms it, shortened
// (cafe24.md §4: at most 15,000 + 1,000 orders per search), keeping the
// orders already read inside it. The prediction also sizes the progress
// estimate. A backfill of an ordinary mall spends no call on counting.
func (r *run) sizeFirstWindow(ctx context.Context, w *window, page []cafe24api.Order) error {
	cfg := r.svc.cfg
	reachable := float64(cfg.MaxOffset + cfg.PageLimit)
	span := w.end.Sub(w.start)
	total := r.walkTo.Sub(r.walkFrom).Seconds()
	if len(page) < cfg.PageLimit || span <= 0 {
		r.estimated = int64(float64(len(page)) * total / max(1, span.Seconds()))
		return nil
	}
	last, err := translate.ParseTime(page[len(page)-1].OrderDate)
	if err != nil {
		return status.Errorf(codes.Internal, "order %s order_date: %v", page[len(page)-1].OrderID, err)
	}
	expected := math.Inf(1)
	if el := last.Sub(w.start); el > 0 {
		expected = float64(len(page)) * span.Seconds() / el.Seconds()
	}
	// A first page shows a few days of a three-month window, with their
	// weekday and season: count only when the forecast is well over the
	// cap. A window that outgrows it all the same is resumed from where
	// paging stopped, at the cost of part of a page.
	if expected > 1.25*reachable {
		var n int
		err := r.sess.call(ctx, func(tok string) error {
			var err error
			n, err = r.mall.CountOrders(ctx, tok, w.search())
			return err
		})
		if err != nil {
			return err
		}
		expected = float64(n)
		if expected > reachable {
			end := w.start.Add(time.Duration(float64(span) * 0.8 * reachable / expected)).Truncate(time.Second)
			if !end.After(last) {
				end = last.Add(time.Second)
			}
			r.log.Info("orders window split", "window", w.String(), "count", n, "new_end", end.Format(time.RFC3339))
			w.end = end
		}
	}
	r.estimated = int64(expected * total / span.Seconds())
	return r.progress(fmt.Sprintf("orders %s: about %d orders", window{start: r.walkFrom, end: r.walkTo}, r.estimated), 0)
}
