package sales

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"
)

// Distinct buyers of a product (or option) over a span are not in any
// rollup, and counting them from the lines reads every line of the span.
// The product buyer index is the buyer index (buyerindex.go) per product
// and per option: each group's buyer-days sorted by day, each with the same
// buyer's previous purchase day of that group, so the distinct buyers of
// [s, e] are the group's buyer-days in [s, e] whose previous purchase is
// before s. It is built from the lines and orders, in one snapshot with the
// rollup version, and rebuilt when the version moves, as the buyer index is.

type productKey struct {
	account uint64
	product string
}

type optionKey struct {
	account         uint64
	product, option string
}

// dayRun is a group's entries: days[lo:hi] and prev[lo:hi].
type dayRun struct{ lo, hi uint32 }

type dayEntries struct {
	days []int32 // grouped, ascending within a group
	prev []int32 // previous purchase day of the buyer in the group, or noDay
}

type productBuyers struct {
	version  int64
	products map[productKey]dayRun
	options  map[optionKey]dayRun
	byProd   dayEntries
	byOption dayEntries
	rank     *productRank // the rollups of the same snapshot (productrank.go)
}

func (pb *productBuyers) entries() int {
	return len(pb.byProd.days) + len(pb.byOption.days) + pb.rank.entries()
}

// distinct counts the run's buyers whose purchase days in [s, e] include one
// with no earlier purchase since s.
func (de *dayEntries) distinct(r dayRun, s, e int32) int64 {
	days := de.days[r.lo:r.hi]
	prev := de.prev[r.lo:r.hi]
	i, _ := slices.BinarySearch(days, s)
	var n int64
	for ; i < len(days) && days[i] <= e; i++ {
		if prev[i] < s {
			n++
		}
	}
	return n
}

// count returns the distinct buyers of p of one ranked row.
func (pb *productBuyers) count(r ProductSales, p Period, byOption bool) int64 {
	s, e := dayNumber(p.Start), dayNumber(p.End)
	if byOption {
		run, ok := pb.options[optionKey{r.AccountID, r.ProductSourceID, r.OptionSourceID}]
		if !ok {
			return 0
		}
		return pb.byOption.distinct(run, s, e)
	}
	run, ok := pb.products[productKey{r.AccountID, r.ProductSourceID}]
	if !ok {
		return 0
	}
	return pb.byProd.distinct(run, s, e)
}

// buyerDay is one line's group, buyer and sale day while building.
type buyerDay struct {
	group, buyer uint32
	day          int32
}

// loadProductBuyers reads the seller's paid lines with their buyers at a
// version, in one consistent snapshot with the version.
func (q *Querier) loadProductBuyers(ctx context.Context, sellerID uint64, version int64) (*productBuyers, error) {
	tx, err := q.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var v int64
	if err := tx.QueryRowContext(ctx, `SELECT version FROM rollup_versions WHERE seller_id = ?`, sellerID).Scan(&v); err != nil || v != version {
		return nil, fmt.Errorf("rollup version moved")
	}
	// The same lines and buyers as the SQL count (Querier.productBuyers).
	rows, err := tx.QueryContext(ctx, `SELECT l.account_id, l.product_source_id, l.option_source_id, o.buyer_hash, l.paid_local_date
FROM order_lines l
JOIN orders o ON o.seller_id = l.seller_id AND o.account_id = l.account_id AND o.source_id = l.order_source_id
WHERE l.seller_id = ? AND l.paid_local_date IS NOT NULL AND o.buyer_hash IS NOT NULL`, sellerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	optionIdx := map[optionKey]uint32{}
	var optionKeys []optionKey
	// A hash is 32 bytes; buyers are numbered instead. Buyers of different
	// accounts never meet: every group is within one account.
	buyerIdx := map[string]uint32{}
	var lines []buyerDay
	var acct uint64
	var product, option string
	var hash []byte
	var day time.Time
	for rows.Next() {
		if err := rows.Scan(&acct, &product, &option, &hash, &day); err != nil {
			return nil, err
		}
		k := optionKey{acct, product, option}
		g, ok := optionIdx[k]
		if !ok {
			g = uint32(len(optionKeys))
			optionIdx[k] = g
			optionKeys = append(optionKeys, k)
		}
		b, ok := buyerIdx[string(hash)]
		if !ok {
			b = uint32(len(buyerIdx))
			buyerIdx[string(hash)] = b
		}
		lines = append(lines, buyerDay{group: g, buyer: b, day: dayNumber(day)})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	rank, err := loadProductRank(ctx, tx, sellerID)
	if err != nil {
		return nil, fmt.Errorf("reading sales_daily: %w", err)
	}
	pb := &productBuyers{version: version, rank: rank, options: make(map[optionKey]dayRun, len(optionKeys)), products: map[productKey]dayRun{}}
	var runs []dayRun
	pb.byOption, runs = groupDays(lines, len(optionKeys))
	for g, k := range optionKeys {
		if runs[g].hi > runs[g].lo {
			pb.options[k] = runs[g]
		}
	}
	// Regroup the same lines by product.
	productIdx := map[productKey]uint32{}
	var productKeys []productKey
	optionProduct := make([]uint32, len(optionKeys))
	for g, k := range optionKeys {
		pk := productKey{k.account, k.product}
		p, ok := productIdx[pk]
		if !ok {
			p = uint32(len(productKeys))
			productIdx[pk] = p
			productKeys = append(productKeys, pk)
		}
		optionProduct[g] = p
	}
	for i := range lines {
		lines[i].group = optionProduct[lines[i].group]
	}
	pb.byProd, runs = groupDays(lines, len(productKeys))
	for g, k := range productKeys {
		if runs[g].hi > runs[g].lo {
			pb.products[k] = runs[g]
		}
	}
	return pb, nil
}

// groupDays turns lines into each group's distinct buyer-days, sorted by
// day, with each buyer's previous day in the group; runs[g] is group g's.
// It sorts lines.
func groupDays(lines []buyerDay, groups int) (dayEntries, []dayRun) {
	slices.SortFunc(lines, func(a, b buyerDay) int {
		return cmp.Or(cmp.Compare(a.group, b.group), cmp.Compare(a.buyer, b.buyer), cmp.Compare(a.day, b.day))
	})
	type dayPrev struct{ day, prev int32 }
	de := dayEntries{days: make([]int32, 0, len(lines)), prev: make([]int32, 0, len(lines))}
	runs := make([]dayRun, groups)
	var cur []dayPrev
	flush := func(g uint32) {
		slices.SortFunc(cur, func(a, b dayPrev) int { return cmp.Compare(a.day, b.day) })
		lo := uint32(len(de.days))
		for _, e := range cur {
			de.days = append(de.days, e.day)
			de.prev = append(de.prev, e.prev)
		}
		runs[g] = dayRun{lo: lo, hi: uint32(len(de.days))}
		cur = cur[:0]
	}
	for i, l := range lines {
		if i > 0 && l.group != lines[i-1].group {
			flush(lines[i-1].group)
		}
		prev := noDay
		if i > 0 && l.group == lines[i-1].group && l.buyer == lines[i-1].buyer {
			if l.day == lines[i-1].day {
				continue // another line of the same buyer-day
			}
			prev = lines[i-1].day
		}
		cur = append(cur, dayPrev{l.day, prev})
	}
	if len(lines) > 0 {
		flush(lines[len(lines)-1].group)
	}
	return de, runs
}
