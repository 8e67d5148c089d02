package sales

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Queries read the daily rollups (package rollup): sales_daily for money
// and units, sales_daily_accounts for distinct orders (and buyers of single
// days), buyer_days for distinct buyers of longer spans. A year of a busy
// seller is a few hundred thousand lines but a few thousand rollup rows.

// shape says how a query groups: by a day expression (time bucket or period
// split), by platform, account, product and option.
type shape struct {
	// day maps the DATE column local_date to a group value; nil: no group.
	day               func(col string) string
	platform, account bool
	product, option   bool
	names             bool // product and option names (MAX)
	buyers            buyerCount
	// gran is the time bucket day stands for (0: none), for the in-memory
	// buyer count.
	gran Granularity
}

// buyerCount says how a query counts distinct buyers.
type buyerCount int

const (
	// distinctBuyers counts over buyer_days: right for any span.
	distinctBuyers buyerCount = iota
	// dailyBuyers sums the daily counts: right when every group is one day.
	dailyBuyers
	// noBuyers leaves them to the caller (products).
	noBuyers
)

// group is one row of an aggregation, keyed by its dimension values.
type group struct {
	day, platform, product, option string
	account                        uint64
	productName, optionName        string
	totals                         Totals
}

func (g *group) key() string {
	return strings.Join([]string{g.day, g.platform, strconv.FormatUint(g.account, 10), g.product, g.option}, "\x00")
}

func (s shape) dims(dayCol, platformCol, accountCol string, withProduct bool) []string {
	var d []string
	if s.day != nil {
		d = append(d, s.day(dayCol))
	} else {
		d = append(d, "''")
	}
	if s.platform || s.account || s.product {
		d = append(d, platformCol)
	} else {
		d = append(d, "''")
	}
	if s.account || s.product {
		d = append(d, accountCol)
	} else {
		d = append(d, "0")
	}
	if s.product && withProduct {
		d = append(d, "product_source_id")
	} else {
		d = append(d, "''")
	}
	if s.option && withProduct {
		d = append(d, "option_source_id")
	} else {
		d = append(d, "''")
	}
	return d
}

func aliasList(dims []string) string {
	var b strings.Builder
	for i, d := range dims {
		fmt.Fprintf(&b, "%s AS d%d, ", d, i)
	}
	return b.String()
}

const groupDims = "d0, d1, d2, d3, d4, "

// aggregate sums the rollups over p in the given shape.
func (q *Querier) aggregate(ctx context.Context, f Filter, p Period, s shape) ([]*group, string, error) {
	groups := map[string]*group{}
	currencies := map[string]bool{}
	get := func(dims []string) *group {
		acct, _ := strconv.ParseUint(dims[2], 10, 64)
		g := &group{day: dims[0], platform: dims[1], account: acct, product: dims[3], option: dims[4]}
		if old := groups[g.key()]; old != nil {
			return old
		}
		groups[g.key()] = g
		return g
	}
	platformSQL, platformArgs := platformIn("platform", f.Platforms)
	args := append([]any{f.SellerID, p.StartDate(), p.EndDate()}, platformArgs...)
	claims := "cash_"
	if f.Basis == OrderDate {
		claims = "order_"
	}

	// Money and units, orders and a day's buyers: per account and day when
	// no product is asked for, else per product option and day.
	names := "'', '', "
	if s.names {
		names = "MAX(product_name), MAX(option_name), "
	}
	table := "sales_daily_accounts"
	counts := "SUM(orders), SUM(buyers)"
	if s.product {
		table, counts = "sales_daily", "0, 0"
	}
	if s.buyers != dailyBuyers {
		counts = strings.Replace(counts, "SUM(buyers)", "0", 1)
	}
	dims := s.dims("local_date", "platform", "account_id", s.product)
	moneySQL := `SELECT ` + aliasList(dims) + names + `currency,
  SUM(gross), SUM(discount), SUM(paid), SUM(units),
  SUM(` + claims + `refunded), SUM(` + claims + `cancelled_units), SUM(` + claims + `returned_units), SUM(` + claims + `exchanged_units),
  ` + counts + `
FROM ` + table + `
WHERE seller_id = ? AND local_date BETWEEN ? AND ?` + platformSQL + `
GROUP BY ` + groupDims + `currency`
	err := q.each(ctx, moneySQL, args, 5, 2, 1, 10, func(d, extra, text []string, n []int64) {
		currencies[text[0]] = true
		g := get(d)
		g.productName = max(g.productName, extra[0])
		g.optionName = max(g.optionName, extra[1])
		t := &g.totals
		t.Gross += n[0]
		t.Discount += n[1]
		t.Paid += n[2]
		t.Units += n[3]
		t.Refunded += n[4]
		t.CancelledUnits += n[5]
		t.ReturnedUnits += n[6]
		t.ExchangedUnits += n[7]
		t.Orders += n[8]
		t.Buyers += n[9]
	})
	if err != nil {
		return nil, "", fmt.Errorf("summing sales: %w", err)
	}

	// Distinct orders of products: an order is paid once, so daily counts
	// add up; the option rows carry the product's daily count.
	if s.product {
		inner := "SUM(orders)"
		if !s.option {
			inner = "MAX(product_orders)"
		}
		ordersSQL := `SELECT ` + aliasList(s.dims("local_date", "platform", "account_id", true)) + `SUM(n) FROM (
  SELECT local_date, platform, account_id, product_source_id, ` + optionOrEmpty(s.option) + ` AS option_source_id, ` + inner + ` AS n
  FROM sales_daily WHERE seller_id = ? AND local_date BETWEEN ? AND ?` + platformSQL + `
  GROUP BY local_date, platform, account_id, product_source_id` + optionGroup(s.option) + `) x
GROUP BY ` + strings.TrimSuffix(groupDims, ", ")
		err = q.each(ctx, ordersSQL, args, 5, 0, 0, 1, func(d, _, _ []string, n []int64) { get(d).totals.Orders += n[0] })
		if err != nil {
			return nil, "", fmt.Errorf("counting orders: %w", err)
		}
	}

	// Distinct buyers over spans longer than a day.
	if s.buyers == distinctBuyers {
		if err := q.buyers(ctx, f, p, s, get); err != nil {
			return nil, "", err
		}
	}

	delete(currencies, "")
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

// buyers counts distinct buyers per group; buyers are distinct per account
// (a platform's buyer ids mean nothing on another).
func (q *Querier) buyers(ctx context.Context, f Filter, p Period, s shape, get func([]string) *group) error {
	sb, err := q.currentBuyers(ctx, f.SellerID)
	if err != nil {
		return err
	}
	if sb != nil {
		var allowed map[string]bool
		if len(f.Platforms) > 0 {
			allowed = map[string]bool{}
			for _, pl := range f.Platforms {
				allowed[pl] = true
			}
		}
		for k, n := range sb.count(p, s.gran, s.account || s.platform, allowed) {
			dims := []string{"", "", "0", "", ""}
			if s.gran != 0 {
				dims[0] = time.Unix(int64(k[0])*86400, 0).UTC().Format(time.DateOnly)
			}
			if k[1] >= 0 {
				dims[1] = sb.platform[k[1]]
				if s.account {
					dims[2] = strconv.FormatUint(sb.accounts[k[1]], 10)
				}
			}
			get(dims).totals.Buyers += n
		}
		return nil
	}
	platformSQL, platformArgs := platformIn("a.platform", f.Platforms)
	args := append([]any{f.SellerID, p.StartDate(), p.EndDate()}, platformArgs...)
	query := `SELECT ` + aliasList(s.dims("b.local_date", "a.platform", "b.account_id", false)) + `COUNT(DISTINCT b.account_id, b.buyer_hash)
FROM buyer_days b
JOIN platform_accounts a ON a.seller_id = b.seller_id AND a.account_id = b.account_id
WHERE b.seller_id = ? AND b.local_date BETWEEN ? AND ?` + platformSQL + `
GROUP BY ` + strings.TrimSuffix(groupDims, ", ")
	err = q.each(ctx, query, args, 5, 0, 0, 1, func(d, _, _ []string, n []int64) { get(d).totals.Buyers += n[0] })
	if err != nil {
		return fmt.Errorf("counting buyers: %w", err)
	}
	return nil
}

func optionOrEmpty(option bool) string {
	if option {
		return "option_source_id"
	}
	return "''"
}

func optionGroup(option bool) string {
	if option {
		return ", option_source_id"
	}
	return ""
}

func platformIn(col string, platforms []string) (string, []any) {
	if len(platforms) == 0 {
		return "", nil
	}
	args := make([]any, len(platforms))
	for i, p := range platforms {
		args[i] = p
	}
	return " AND " + col + " IN (" + strings.TrimSuffix(strings.Repeat("?,", len(platforms)), ",") + ")", args
}

// Summary returns the totals of p and of the period of the same length just
// before it, and their currency.
func (q *Querier) Summary(ctx context.Context, f Filter, p Period) (cur, prev Totals, currency string, err error) {
	prevP := p.Previous()
	c, currency, err := q.total(ctx, f, p)
	if err != nil {
		return Totals{}, Totals{}, "", err
	}
	pr, prevCurrency, err := q.total(ctx, f, prevP)
	if err != nil {
		return Totals{}, Totals{}, "", err
	}
	if currency == q.defaultCurrency && prevCurrency != q.defaultCurrency {
		currency = prevCurrency
	} else if prevCurrency != q.defaultCurrency && prevCurrency != currency {
		return Totals{}, Totals{}, "", fmt.Errorf("%w (%s, %s): choose platforms that sell in one currency", ErrMixedCurrencies, currency, prevCurrency)
	}
	return c, pr, currency, nil
}

func (q *Querier) total(ctx context.Context, f Filter, p Period) (Totals, string, error) {
	groups, currency, err := q.aggregate(ctx, f, p, shape{buyers: buyersFor(p)})
	if err != nil {
		return Totals{}, "", err
	}
	var t Totals
	for _, g := range groups {
		t = t.add(g.totals)
	}
	return t, currency, nil
}

// buyersFor: a one-day period has its buyers in the daily rollup.
func buyersFor(p Period) buyerCount {
	if p.Days() == 1 {
		return dailyBuyers
	}
	return distinctBuyers
}

func (t Totals) add(o Totals) Totals {
	t.Gross += o.Gross
	t.Discount += o.Discount
	t.Paid += o.Paid
	t.Refunded += o.Refunded
	t.Orders += o.Orders
	t.Units += o.Units
	t.Buyers += o.Buyers
	t.CancelledUnits += o.CancelledUnits
	t.ReturnedUnits += o.ReturnedUnits
	t.ExchangedUnits += o.ExchangedUnits
	return t
}

// TimeSeries returns one point per bucket of p, empty buckets included.
func (q *Querier) TimeSeries(ctx context.Context, f Filter, p Period, g Granularity) ([]Point, string, error) {
	groups, currency, err := q.aggregate(ctx, f, p, shape{day: func(col string) string { return bucketSQL(col, g) }, gran: g,
		buyers: map[bool]buyerCount{true: dailyBuyers, false: distinctBuyers}[g == Day]})
	if err != nil {
		return nil, "", err
	}
	byStart := map[string]Totals{}
	for _, gr := range groups {
		byStart[gr.day] = byStart[gr.day].add(gr.totals)
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

// TopProducts ranks products (or options) of p by net sales, then units,
// and returns the first limit.
func (q *Querier) TopProducts(ctx context.Context, f Filter, p Period, limit int, byOption bool) ([]ProductSales, string, error) {
	// From memory when the product index is current (productrank.go).
	pb, err := q.currentProducts(ctx, f.SellerID)
	if err != nil {
		return nil, "", err
	}
	if pb != nil {
		return pb.top(f, p, limit, byOption, q.defaultCurrency)
	}
	groups, currency, err := q.aggregate(ctx, f, p, shape{product: true, option: byOption, names: true, buyers: noBuyers})
	if err != nil {
		return nil, "", err
	}
	out := make([]ProductSales, 0, len(groups))
	for _, g := range groups {
		ps := ProductSales{Platform: g.platform, AccountID: g.account, ProductSourceID: g.product, ProductName: g.productName, Totals: g.totals}
		if byOption {
			ps.OptionSourceID, ps.OptionName = g.option, g.optionName
		}
		out = append(out, ps)
	}
	sortProducts(out)
	if len(out) > limit {
		out = out[:limit]
	}
	// Distinct buyers of the ranked products only, from their lines.
	if err := q.productBuyers(ctx, f, p, out, byOption); err != nil {
		return nil, "", err
	}
	return out, currency, nil
}

func sortProducts(out []ProductSales) {
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
}

func (q *Querier) productBuyers(ctx context.Context, f Filter, p Period, ranked []ProductSales, byOption bool) error {
	if len(ranked) == 0 {
		return nil
	}
	var conds []string
	args := []any{f.SellerID, p.StartDate(), p.EndDate()}
	for _, r := range ranked {
		if byOption {
			conds = append(conds, "(l.account_id = ? AND l.product_source_id = ? AND l.option_source_id = ?)")
			args = append(args, r.AccountID, r.ProductSourceID, r.OptionSourceID)
		} else {
			conds = append(conds, "(l.account_id = ? AND l.product_source_id = ?)")
			args = append(args, r.AccountID, r.ProductSourceID)
		}
	}
	opt := "''"
	if byOption {
		opt = "l.option_source_id"
	}
	query := `SELECT l.account_id, l.product_source_id, ` + opt + `, COUNT(DISTINCT o.buyer_hash)
FROM order_lines l
JOIN orders o ON o.seller_id = l.seller_id AND o.account_id = l.account_id AND o.source_id = l.order_source_id
WHERE l.seller_id = ? AND l.paid_local_date BETWEEN ? AND ? AND (` + strings.Join(conds, " OR ") + `)
GROUP BY l.account_id, l.product_source_id, ` + opt
	counts := map[string]int64{}
	err := q.each(ctx, query, args, 3, 0, 0, 1, func(d, _, _ []string, n []int64) { counts[strings.Join(d, "\x00")] = n[0] })
	if err != nil {
		return fmt.Errorf("counting buyers of products: %w", err)
	}
	for i := range ranked {
		r := &ranked[i]
		r.Totals.Buyers = counts[strings.Join([]string{strconv.FormatUint(r.AccountID, 10), r.ProductSourceID, r.OptionSourceID}, "\x00")]
	}
	return nil
}

// PlatformSales is one platform's (or account's) share of a period.
type PlatformSales struct {
	Platform  string
	AccountID uint64 // 0 unless split by account
	Totals    Totals
}

// PlatformSplit returns the totals of p per platform, or per account,
// largest net first.
func (q *Querier) PlatformSplit(ctx context.Context, f Filter, p Period, byAccount bool) ([]PlatformSales, string, error) {
	groups, currency, err := q.aggregate(ctx, f, p, shape{platform: true, account: byAccount, buyers: buyersFor(p)})
	if err != nil {
		return nil, "", err
	}
	var out []PlatformSales
	for _, g := range groups {
		out = append(out, PlatformSales{Platform: g.platform, AccountID: g.account, Totals: g.totals})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Totals.Net() != b.Totals.Net() {
			return a.Totals.Net() > b.Totals.Net()
		}
		if a.Platform != b.Platform {
			return a.Platform < b.Platform
		}
		return a.AccountID < b.AccountID
	})
	return out, currency, nil
}
