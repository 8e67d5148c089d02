package synth

import (
	"fmt"
	"time"

	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

// This file is the reference implementation of H-log's sales definitions
// (architecture.md, "Canonical data and what the numbers mean"), written
// plainly over canonical records so that tests can hold ingest's SQL to it.

// Basis chooses the day claims count on.
type Basis int

const (
	// PaymentBasis (cash view): claims count on the day they completed.
	PaymentBasis Basis = iota
	// OrderBasis: claims reduce the day of the original sale.
	OrderBasis
)

// Granularity is a time-series bucket size.
type Granularity int

const (
	Day Granularity = iota
	Week
	Month
	Year
)

// Totals are the sales figures of a period; money in minor units.
type Totals struct {
	Gross, Discount, Paid, Refunded, Net          int64
	Orders, Units, Buyers                         int64
	CancelledUnits, ReturnedUnits, ExchangedUnits int64
}

// Bucket is one time-series point, clipped to the period.
type Bucket struct {
	Start, End string // inclusive local dates
	Label      string
	Totals     Totals
}

// SalesTotals computes the totals of local dates from..to (inclusive,
// "YYYY-MM-DD") over the given orders and lines.
func SalesTotals(orders []*commercev1.Order, lines []*commercev1.OrderLine, loc *time.Location, basis Basis, from, to string) (Totals, error) {
	f, t, err := parseRange(from, to)
	if err != nil {
		return Totals{}, err
	}
	return totals(orders, lines, loc, basis, f, t), nil
}

// SalesSeries computes one bucket per day, ISO week, month or year of the period.
func SalesSeries(orders []*commercev1.Order, lines []*commercev1.OrderLine, loc *time.Location, basis Basis, from, to string, g Granularity) ([]Bucket, error) {
	f, t, err := parseRange(from, to)
	if err != nil {
		return nil, err
	}
	var out []Bucket
	for start := f; !start.After(t); {
		end, label := bucketEnd(start, g)
		if end.After(t) {
			end = t
		}
		out = append(out, Bucket{
			Start:  start.Format(time.DateOnly),
			End:    end.Format(time.DateOnly),
			Label:  label,
			Totals: totals(orders, lines, loc, basis, start, end),
		})
		start = end.AddDate(0, 0, 1)
	}
	return out, nil
}

// bucketEnd returns the last day of the bucket holding d, and its label.
func bucketEnd(d time.Time, g Granularity) (time.Time, string) {
	switch g {
	case Week:
		offset := (int(d.Weekday()) + 6) % 7 // days since Monday
		monday := d.AddDate(0, 0, -offset)
		y, w := monday.ISOWeek()
		return monday.AddDate(0, 0, 6), fmt.Sprintf("%04d-W%02d", y, w)
	case Month:
		first := time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
		return first.AddDate(0, 1, -1), d.Format("2006-01")
	case Year:
		return time.Date(d.Year(), 12, 31, 0, 0, 0, 0, time.UTC), d.Format("2006")
	default:
		return d, d.Format(time.DateOnly)
	}
}

func parseRange(from, to string) (time.Time, time.Time, error) {
	f, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return f, f, fmt.Errorf("start date %q: %w", from, err)
	}
	t, err := time.Parse(time.DateOnly, to)
	if err != nil {
		return f, t, fmt.Errorf("end date %q: %w", to, err)
	}
	if t.Before(f) {
		return f, t, fmt.Errorf("end date %s is before start date %s", to, from)
	}
	return f, t, nil
}

// localDay is the local calendar day of ts, as a UTC midnight for comparisons.
func localDay(ts time.Time, loc *time.Location) time.Time {
	l := ts.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
}

func totals(orders []*commercev1.Order, lines []*commercev1.OrderLine, loc *time.Location, basis Basis, from, to time.Time) Totals {
	buyerOf := map[string]string{}
	for _, o := range orders {
		buyerOf[o.SourceId] = o.BuyerId
	}
	in := func(d time.Time) bool { return !d.Before(from) && !d.After(to) }
	var tot Totals
	orderSet, buyerSet := map[string]bool{}, map[string]bool{}
	for _, l := range lines {
		if l.PaidAt == nil {
			continue // awaiting payment: not a sale
		}
		saleDay := localDay(l.PaidAt.AsTime(), loc)
		if in(saleDay) {
			gross := l.UnitPrice.GetMinorUnits()*int64(l.Quantity) + l.OptionPrice.GetMinorUnits()
			tot.Gross += gross
			tot.Discount += l.Discount.GetMinorUnits()
			tot.Paid += l.PaidAmount.GetMinorUnits()
			tot.Units += int64(l.Quantity)
			orderSet[l.OrderSourceId] = true
			buyerSet[buyerOf[l.OrderSourceId]] = true
		}
		for _, c := range l.Claims {
			if c.State != commercev1.ClaimState_CLAIM_STATE_COMPLETED || c.CompletedAt == nil {
				continue
			}
			claimDay := localDay(c.CompletedAt.AsTime(), loc)
			if basis == OrderBasis {
				claimDay = saleDay
			}
			if !in(claimDay) {
				continue
			}
			tot.Refunded += c.RefundAmount.GetMinorUnits()
			switch c.Type {
			case commercev1.ClaimType_CLAIM_TYPE_CANCEL:
				tot.CancelledUnits += int64(c.Quantity)
			case commercev1.ClaimType_CLAIM_TYPE_RETURN:
				tot.ReturnedUnits += int64(c.Quantity)
			case commercev1.ClaimType_CLAIM_TYPE_EXCHANGE:
				tot.ExchangedUnits += int64(c.Quantity)
			}
		}
	}
	tot.Net = tot.Paid - tot.Refunded
	tot.Orders = int64(len(orderSet))
	tot.Buyers = int64(len(buyerSet))
	return tot
}
