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
	buyerIx         *buyerIndex
}

// NewQuerier returns a Querier over db.
func NewQuerier(db *sql.DB, defaultCurrency string) *Querier {
	return &Querier{db: db, defaultCurrency: defaultCurrency, buyerIx: newBuyerIndex()}
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
