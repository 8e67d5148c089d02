// Package sales answers what a seller sold, from the order line and claim
// rows the loader wrote. Days are the local dates computed at load time in
// the seller's time zone (order_lines.paid_local_date,
// order_line_claims.completed_local_date), so no query needs the server's
// time zone tables. The definitions are those of salesv1.SalesService.
package sales

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrMixedCurrencies means the figures asked for are in more than one
// currency; adding won and dollars would be wrong.
var ErrMixedCurrencies = errors.New("sales are in more than one currency")

// Basis chooses the day completed claims count on.
type Basis int

const (
	// PaymentDate (cash view): on the day the claim completed.
	PaymentDate Basis = iota
	// OrderDate: on the day of the original sale.
	OrderDate
)

// Filter scopes a query to one seller and, optionally, some platforms.
type Filter struct {
	SellerID uint64
	// Platforms as stored ("CAFE24"); empty means all.
	Platforms []string
	Basis     Basis
}

// Totals are the sales figures of a period or bucket, money in minor units.
type Totals struct {
	Gross, Discount, Paid, Refunded               int64
	Orders, Units, Buyers                         int64
	CancelledUnits, ReturnedUnits, ExchangedUnits int64
}

// Net is paid minus refunded.
func (t Totals) Net() int64 { return t.Paid - t.Refunded }

// Point is one time-series bucket, clipped to the period.
type Point struct {
	Period
	Label  string
	Totals Totals
}

// ProductSales is one ranked product, or product option.
type ProductSales struct {
	Platform        string
	AccountID       uint64
	ProductSourceID string
	ProductName     string
	OptionSourceID  string
	OptionName      string
	Totals          Totals
}

// Querier runs sales queries.
type Querier struct {
	db *sql.DB
	// DefaultCurrency is reported when a period has no sales at all.
	defaultCurrency string
}

// NewQuerier returns a Querier over db.
func NewQuerier(db *sql.DB, defaultCurrency string) *Querier {
	return &Querier{db: db, defaultCurrency: defaultCurrency}
}

// Summary returns the totals of p and of the period of the same length just
// before it, and their currency.
func (q *Querier) Summary(ctx context.Context, f Filter, p Period) (cur, prev Totals, currency string, err error) {
	whole := Period{Start: p.Previous().Start, End: p.End}
	inPeriod := func(prefix string) []string {
		// One bucket for each of the two periods: compare the day with the
		// boundary. The day column is given as prefix (l. or c. table date).
		return []string{"(" + prefix + " >= '" + p.StartDate() + "')"}
	}
	groups, currency, err := q.aggregate(ctx, f, whole, inPeriod, nil)
	if err != nil {
		return Totals{}, Totals{}, "", err
	}
	for _, g := range groups {
		if g.dims[0] == "1" {
			cur = g.totals
		} else {
			prev = g.totals
		}
	}
	return cur, prev, currency, nil
}

// TimeSeries returns one point per bucket of p, empty buckets included.
func (q *Querier) TimeSeries(ctx context.Context, f Filter, p Period, g Granularity) ([]Point, string, error) {
	groups, currency, err := q.aggregate(ctx, f, p, func(day string) []string { return []string{bucketSQL(day, g)} }, nil)
	if err != nil {
		return nil, "", err
	}
	byStart := map[string]Totals{}
	for _, gr := range groups {
		byStart[gr.dims[0]] = gr.totals
	}
	var points []Point
	for start := bucketStart(p.Start, g); !start.After(p.End); start = nextBucket(start, g) {
		pt := Point{Period: Period{Start: start, End: nextBucket(start, g).AddDate(0, 0, -1)}, Label: label(start, g)}
		pt.Totals = byStart[pt.Start.Format(time.DateOnly)]
		if pt.Start.Before(p.Start) {
			pt.Start = p.Start
		}
		if pt.End.After(p.End) {
			pt.End = p.End
		}
		points = append(points, pt)
	}
	return points, currency, nil
}

// bucketSQL is the first day of the bucket holding the DATE column day, as
// "YYYY-MM-DD". WEEKDAY() is 0 on Monday in MySQL and MariaDB alike.
func bucketSQL(day string, g Granularity) string {
	switch g {
	case Week:
		return "DATE_FORMAT(DATE_SUB(" + day + ", INTERVAL WEEKDAY(" + day + ") DAY), '%Y-%m-%d')"
	case Month:
		return "DATE_FORMAT(" + day + ", '%Y-%m-01')"
	case Year:
		return "DATE_FORMAT(" + day + ", '%Y-01-01')"
	}
	return "DATE_FORMAT(" + day + ", '%Y-%m-%d')"
}

// TopProducts ranks products (or options) of p by net sales, then units,
// and returns the first limit.
func (q *Querier) TopProducts(ctx context.Context, f Filter, p Period, limit int, byOption bool) ([]ProductSales, string, error) {
	dims := func(string) []string {
		d := []string{"a.platform", "l.account_id", "l.product_source_id"}
		if byOption {
			d = append(d, "l.option_source_id")
		}
		return d
	}
	names := []string{"MAX(l.product_name)", "MAX(l.option_name)"}
	groups, currency, err := q.aggregate(ctx, f, p, dims, names)
	if err != nil {
		return nil, "", err
	}
	out := make([]ProductSales, 0, len(groups))
	for _, g := range groups {
		account, _ := strconv.ParseUint(g.dims[1], 10, 64)
		ps := ProductSales{Platform: g.dims[0], AccountID: account, ProductSourceID: g.dims[2], ProductName: g.extras[0], Totals: g.totals}
		if byOption {
			ps.OptionSourceID, ps.OptionName = g.dims[3], g.extras[1]
		}
		out = append(out, ps)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Totals.Net() != b.Totals.Net() {
			return a.Totals.Net() > b.Totals.Net()
		}
		if a.Totals.Units != b.Totals.Units {
			return a.Totals.Units > b.Totals.Units
		}
		if a.AccountID != b.AccountID {
			return a.AccountID < b.AccountID
		}
		if a.ProductSourceID != b.ProductSourceID {
			return a.ProductSourceID < b.ProductSourceID
		}
		return a.OptionSourceID < b.OptionSourceID
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, currency, nil
}

// group is one row of an aggregation: its dimension values, totals and
// extra (MAX) columns.
type group struct {
	dims   []string
	extras []string
	totals Totals
}

// aggregate computes totals over p grouped by dims, where dims(day) gives
// SQL expressions over l (order_lines), a (platform_accounts) and the
// counting day column day. Sales count on l.paid_local_date; completed
// claims on c.completed_local_date (payment basis) or on their line's
// l.paid_local_date (order basis). extras are aggregate expressions over l.
func (q *Querier) aggregate(ctx context.Context, f Filter, p Period, dims func(day string) []string, extras []string) ([]*group, string, error) {
	groups := map[string]*group{}
	currencies := map[string]bool{}
	get := func(dimVals, extraVals []string) *group {
		k := strings.Join(dimVals, "\x00")
		g := groups[k]
		if g == nil {
			g = &group{dims: dimVals, extras: extraVals}
			groups[k] = g
		}
		for i, v := range extraVals {
			if v > g.extras[i] {
				g.extras[i] = v
			}
		}
		return g
	}
	platformSQL, platformArgs := platformFilter(f.Platforms)

	// Sales: paid lines, on their payment day.
	saleDims := dims("l.paid_local_date")
	salesQuery := `SELECT ` + selectList(saleDims, extras) + `l.currency,
  SUM(l.unit_price * l.quantity + l.option_price), SUM(l.discount), SUM(l.paid_amount), SUM(l.quantity),
  COUNT(DISTINCT l.account_id, l.order_source_id), COUNT(DISTINCT l.account_id, o.buyer_hash)
FROM order_lines l
JOIN platform_accounts a ON a.seller_id = l.seller_id AND a.account_id = l.account_id
LEFT JOIN orders o ON o.seller_id = l.seller_id AND o.account_id = l.account_id AND o.source_id = l.order_source_id
WHERE l.seller_id = ? AND l.paid_local_date BETWEEN ? AND ?` + platformSQL + `
GROUP BY ` + groupList(len(saleDims)) + `l.currency`
	args := append([]any{f.SellerID, p.StartDate(), p.EndDate()}, platformArgs...)
	err := q.each(ctx, salesQuery, args, len(saleDims), len(extras), 1, 6, func(dimVals, extraVals, text []string, n []int64) {
		currencies[text[0]] = true
		t := &get(dimVals, extraVals).totals
		t.Gross += n[0]
		t.Discount += n[1]
		t.Paid += n[2]
		t.Units += n[3]
		// One currency per group (else ErrMixedCurrencies), so these are
		// not double counted.
		t.Orders += n[4]
		t.Buyers += n[5]
	})
	if err != nil {
		return nil, "", fmt.Errorf("summing sales: %w", err)
	}

	// Completed claims of paid lines.
	day := "c.completed_local_date"
	if f.Basis == OrderDate {
		day = "l.paid_local_date"
	}
	claimDims := dims(day)
	claimsQuery := `SELECT ` + selectList(claimDims, extras) + `c.currency, c.claim_type, SUM(c.refund_amount), SUM(c.quantity)
FROM order_line_claims c
JOIN order_lines l ON l.seller_id = c.seller_id AND l.account_id = c.account_id AND l.source_id = c.line_source_id
JOIN platform_accounts a ON a.seller_id = c.seller_id AND a.account_id = c.account_id
WHERE c.seller_id = ? AND c.state = 'COMPLETED' AND c.completed_local_date IS NOT NULL
  AND l.paid_local_date IS NOT NULL AND ` + day + ` BETWEEN ? AND ?` + platformSQL + `
GROUP BY ` + groupList(len(claimDims)) + `c.currency, c.claim_type`
	err = q.each(ctx, claimsQuery, args, len(claimDims), len(extras), 2, 2, func(dimVals, extraVals, text []string, n []int64) {
		currencies[text[0]] = true
		t := &get(dimVals, extraVals).totals
		t.Refunded += n[0]
		switch text[1] { // claim_type
		case "CANCEL":
			t.CancelledUnits += n[1]
		case "RETURN":
			t.ReturnedUnits += n[1]
		case "EXCHANGE":
			t.ExchangedUnits += n[1]
		}
	})
	if err != nil {
		return nil, "", fmt.Errorf("summing claims: %w", err)
	}

	delete(currencies, "") // rows without any amount carry no currency
	var codes []string
	for c := range currencies {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	currency := q.defaultCurrency
	switch len(codes) {
	case 0:
	case 1:
		currency = codes[0]
	default:
		return nil, "", fmt.Errorf("%w (%s): choose platforms that sell in one currency", ErrMixedCurrencies, strings.Join(codes, ", "))
	}
	out := make([]*group, 0, len(groups))
	for _, g := range groups {
		out = append(out, g)
	}
	return out, currency, nil
}

// each runs query and calls fn per row with its columns split into
// dimensions, extras and further text columns (all as text) and numbers.
func (q *Querier) each(ctx context.Context, query string, args []any, nDims, nExtras, nText, nNums int, fn func(dims, extras, text []string, nums []int64)) error {
	rows, err := q.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	texts := make([]sql.NullString, nDims+nExtras+nText)
	nums := make([]sql.NullInt64, nNums)
	dest := make([]any, 0, len(texts)+len(nums))
	for i := range texts {
		dest = append(dest, &texts[i])
	}
	for i := range nums {
		dest = append(dest, &nums[i])
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		str := make([]string, len(texts))
		for i, t := range texts {
			str[i] = t.String
		}
		n := make([]int64, len(nums))
		for i, v := range nums {
			n[i] = v.Int64
		}
		fn(str[:nDims], str[nDims:nDims+nExtras], str[nDims+nExtras:], n)
	}
	return rows.Err()
}

// selectList aliases the dimensions d0, d1... for GROUP BY, then the extras.
func selectList(dims, extras []string) string {
	var b strings.Builder
	for i, d := range dims {
		fmt.Fprintf(&b, "%s AS d%d, ", d, i)
	}
	for _, e := range extras {
		b.WriteString(e + ", ")
	}
	return b.String()
}

func groupList(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "d%d, ", i)
	}
	return b.String()
}

func platformFilter(platforms []string) (string, []any) {
	if len(platforms) == 0 {
		return "", nil
	}
	args := make([]any, len(platforms))
	for i, p := range platforms {
		args[i] = p
	}
	return " AND a.platform IN (" + strings.TrimSuffix(strings.Repeat("?,", len(platforms)), ",") + ")", args
}
