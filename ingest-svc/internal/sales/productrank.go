package sales

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Ranking products sums sales_daily over the period per product or option:
// for three busy years that is a million rows to group in SQL, seconds per
// request. The product index (built with the product buyer index, in the
// same snapshot, so at the same rollup version) holds the same rows per
// product and per option as running sums by day: any period's totals of a
// group are then two binary searches and a subtraction.

// daySums are a group's sales_daily columns, summed over the group's rows
// of one day or, in a series, of every day up to that one.
type daySums struct {
	gross, discount, paid, units          int64
	cashRefunded, cashCancelled           int64
	cashReturned, cashExchanged           int64
	orderRefunded, orderCancelled         int64
	orderReturned, orderExchanged, orders int64
}

func (a daySums) minus(b daySums) daySums {
	return daySums{
		a.gross - b.gross, a.discount - b.discount, a.paid - b.paid, a.units - b.units,
		a.cashRefunded - b.cashRefunded, a.cashCancelled - b.cashCancelled,
		a.cashReturned - b.cashReturned, a.cashExchanged - b.cashExchanged,
		a.orderRefunded - b.orderRefunded, a.orderCancelled - b.orderCancelled,
		a.orderReturned - b.orderReturned, a.orderExchanged - b.orderExchanged, a.orders - b.orders,
	}
}

func (a daySums) plus(b daySums) daySums {
	var zero daySums
	return a.minus(zero.minus(b))
}

// series is one product's (or option's) days with rows, ascending.
type series struct {
	account         uint64
	platform        string
	product, option string
	days            []int32
	sums            []daySums // running sums: sums[i] covers days[0..i]
	// Largest product and option name of the day (indexes into names).
	productName, optionName []uint32
}

// span is the index range of the series' days within [s, e].
func (se *series) span(s, e int32) (lo, hi int) {
	lo, _ = slices.BinarySearch(se.days, s)
	hi, found := slices.BinarySearch(se.days, e)
	if found {
		hi++
	}
	return lo, hi
}

func (se *series) total(lo, hi int) daySums {
	t := se.sums[hi-1]
	if lo > 0 {
		t = t.minus(se.sums[lo-1])
	}
	return t
}

type productRank struct {
	names    []string
	products []*series
	options  []*series
	// Days with rows per account and currency, ascending: which currencies
	// a period holds.
	currencyDays map[uint64]map[string][]int32
	platforms    map[uint64]string // by account
}

func (pr *productRank) entries() int {
	n := 0
	for _, s := range pr.products {
		n += len(s.days)
	}
	for _, s := range pr.options {
		n += len(s.days)
	}
	// A day of a series weighs about as much as ten buyer-days.
	return 10 * n
}

// loadProductRank reads the seller's sales_daily rows in tx. Rows come in
// primary key order, by day first, so each series grows in day order.
func loadProductRank(ctx context.Context, tx *sql.Tx, sellerID uint64) (*productRank, error) {
	rows, err := tx.QueryContext(ctx, `SELECT local_date, account_id, product_source_id, option_source_id, currency, platform,
  product_name, option_name, gross, discount, paid, units,
  cash_refunded, cash_cancelled_units, cash_returned_units, cash_exchanged_units,
  order_refunded, order_cancelled_units, order_returned_units, order_exchanged_units, orders, product_orders
FROM sales_daily WHERE seller_id = ? ORDER BY local_date, account_id, product_source_id, option_source_id, currency`, sellerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	pr := &productRank{currencyDays: map[uint64]map[string][]int32{}, platforms: map[uint64]string{}}
	nameIdx := map[string]uint32{}
	intern := func(s string) uint32 {
		i, ok := nameIdx[s]
		if !ok {
			i = uint32(len(pr.names))
			nameIdx[s] = i
			pr.names = append(pr.names, s)
		}
		return i
	}
	products := map[productKey]*series{}
	options := map[optionKey]*series{}
	var day time.Time
	var acct uint64
	var product, option, currency, platform, pname, oname string
	var v daySums
	var productOrders int64
	for rows.Next() {
		if err := rows.Scan(&day, &acct, &product, &option, &currency, &platform, &pname, &oname,
			&v.gross, &v.discount, &v.paid, &v.units,
			&v.cashRefunded, &v.cashCancelled, &v.cashReturned, &v.cashExchanged,
			&v.orderRefunded, &v.orderCancelled, &v.orderReturned, &v.orderExchanged, &v.orders, &productOrders); err != nil {
			return nil, err
		}
		d := dayNumber(day)
		pr.platforms[acct] = platform
		pn, on := intern(pname), intern(oname)
		byCur := pr.currencyDays[acct]
		if byCur == nil {
			byCur = map[string][]int32{}
			pr.currencyDays[acct] = byCur
		}
		if ds := byCur[currency]; len(ds) == 0 || ds[len(ds)-1] != d {
			byCur[currency] = append(ds, d)
		}
		ok := optionKey{acct, product, option}
		os := options[ok]
		if os == nil {
			os = &series{account: acct, platform: platform, product: product, option: option}
			options[ok] = os
		}
		os.add(d, v, pn, on, pr.names)
		pk := productKey{acct, product}
		ps := products[pk]
		if ps == nil {
			ps = &series{account: acct, platform: platform, product: product}
			products[pk] = ps
		}
		// A product's distinct orders of a day are on each of its rows
		// (product_orders); the largest, as in SQL.
		pv := v
		pv.orders = 0
		ps.add(d, pv, pn, 0, pr.names)
		last := len(ps.sums) - 1
		ps.sums[last].orders = max(ps.sums[last].orders, productOrders)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, s := range options {
		s.accumulate()
		pr.options = append(pr.options, s)
	}
	for _, s := range products {
		s.accumulate()
		pr.products = append(pr.products, s)
	}
	return pr, nil
}

// add adds one row of day d (days arrive in ascending order) to the day's
// sums; accumulate turns them into running sums once all are in.
func (se *series) add(d int32, v daySums, pname, oname uint32, names []string) {
	n := len(se.days)
	if n == 0 || se.days[n-1] != d {
		se.days = append(se.days, d)
		se.sums = append(se.sums, v)
		se.productName = append(se.productName, pname)
		se.optionName = append(se.optionName, oname)
		return
	}
	se.sums[n-1] = se.sums[n-1].plus(v)
	if names[pname] > names[se.productName[n-1]] {
		se.productName[n-1] = pname
	}
	if names[oname] > names[se.optionName[n-1]] {
		se.optionName[n-1] = oname
	}
}

func (se *series) accumulate() {
	for i := 1; i < len(se.sums); i++ {
		se.sums[i] = se.sums[i].plus(se.sums[i-1])
	}
}

// top ranks the groups of p as TopProducts does, from memory; buyers come
// from pb.
func (pb *productBuyers) top(f Filter, p Period, limit int, byOption bool, defaultCurrency string) ([]ProductSales, string, error) {
	pr := pb.rank
	s, e := dayNumber(p.Start), dayNumber(p.End)
	allowed := func(platform string) bool { return len(f.Platforms) == 0 || slices.Contains(f.Platforms, platform) }
	groups := pr.products
	if byOption {
		groups = pr.options
	}
	type hit struct {
		se     *series
		lo, hi int
	}
	var hits []hit
	var out []ProductSales
	for _, se := range groups {
		if !allowed(se.platform) {
			continue
		}
		lo, hi := se.span(s, e)
		if lo >= hi {
			continue
		}
		v := se.total(lo, hi)
		t := Totals{Gross: v.gross, Discount: v.discount, Paid: v.paid, Units: v.units, Orders: v.orders,
			Refunded: v.cashRefunded, CancelledUnits: v.cashCancelled, ReturnedUnits: v.cashReturned, ExchangedUnits: v.cashExchanged}
		if f.Basis == OrderDate {
			t.Refunded, t.CancelledUnits, t.ReturnedUnits, t.ExchangedUnits = v.orderRefunded, v.orderCancelled, v.orderReturned, v.orderExchanged
		}
		out = append(out, ProductSales{Platform: se.platform, AccountID: se.account, ProductSourceID: se.product, OptionSourceID: se.option, Totals: t})
		hits = append(hits, hit{se, lo, hi})
	}

	// The currencies of the period, as the SQL aggregation finds them.
	var codes []string
	for acct, byCur := range pr.currencyDays {
		if !allowed(pr.platforms[acct]) {
			continue
		}
		for code, days := range byCur {
			i, _ := slices.BinarySearch(days, s)
			if i < len(days) && days[i] <= e && !slices.Contains(codes, code) {
				codes = append(codes, code)
			}
		}
	}
	sort.Strings(codes)
	currency := defaultCurrency
	switch len(codes) {
	case 0:
	case 1:
		currency = codes[0]
	default:
		return nil, "", fmt.Errorf("%w (%s): choose platforms that sell in one currency", ErrMixedCurrencies, strings.Join(codes, ", "))
	}

	// Rank, then find each ranked row's series again.
	ranked := make([]ProductSales, len(out))
	copy(ranked, out)
	sortProducts(ranked)
	if len(ranked) > limit {
		ranked = ranked[:limit]
	}
	at := make(map[optionKey]hit, len(hits))
	for i, h := range hits {
		at[optionKey{out[i].AccountID, out[i].ProductSourceID, out[i].OptionSourceID}] = h
	}
	for i := range ranked {
		r := &ranked[i]
		h := at[optionKey{r.AccountID, r.ProductSourceID, r.OptionSourceID}]
		// Names: the largest of the period, as MAX() in SQL.
		var pn, on string
		for j := h.lo; j < h.hi; j++ {
			pn = max(pn, pr.names[h.se.productName[j]])
			on = max(on, pr.names[h.se.optionName[j]])
		}
		r.ProductName = pn
		if byOption {
			r.OptionName = on
		}
		r.Totals.Buyers = pb.count(*r, p, byOption)
	}
	return ranked, currency, nil
}
