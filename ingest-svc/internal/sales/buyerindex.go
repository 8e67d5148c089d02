package sales

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Distinct buyers of an arbitrary span cannot be added up from daily
// counts, and counting them in SQL reads every buyer-day of the span (a
// million rows for three busy years). The buyer index keeps each seller's
// buyer-days in memory, sorted by day, each with the same buyer's previous
// purchase day at the same account. The distinct buyers of [s, e] are then
// the buyer-days in [s, e] whose previous purchase is before s: one pass
// over the span, no set. The index is rebuilt, in the background, when the
// seller's rollup version (bumped by every refresh) moves; until then
// queries count in SQL, so an answer is never stale.

const noDay = int32(-1 << 31)

type sellerBuyers struct {
	version  int64
	days     []int32  // day number (days since 1970-01-01), ascending
	prev     []int32  // previous purchase day of the buyer at the account, or noDay
	account  []uint32 // index into accounts
	accounts []uint64
	platform []string // by account index
}

type buyerIndex struct {
	mu       sync.Mutex
	sellers  map[uint64]*sellerBuyers
	products map[uint64]*productBuyers // per product and option (productbuyers.go)
	// building marks indexes being rebuilt (one rebuild at a time each).
	building map[buildKey]bool
	// MaxEntries bounds the buyer-days held, over all sellers and both kinds.
	maxEntries int
}

// indexKind names one of a seller's two indexes.
type indexKind int

const (
	sellerIndex indexKind = iota
	productIndex
)

type buildKey struct {
	seller uint64
	kind   indexKind
}

func newBuyerIndex() *buyerIndex {
	return &buyerIndex{sellers: map[uint64]*sellerBuyers{}, products: map[uint64]*productBuyers{},
		building: map[buildKey]bool{}, maxEntries: 20_000_000}
}

func dayNumber(t time.Time) int32 { return int32(t.Unix() / 86400) }

// rollupVersion is the seller's rollup version; ok is false when nothing
// was rolled up yet.
func (q *Querier) rollupVersion(ctx context.Context, sellerID uint64) (version int64, ok bool, err error) {
	err = q.db.QueryRowContext(ctx, `SELECT version FROM rollup_versions WHERE seller_id = ?`, sellerID).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("reading the rollup version: %w", err)
	}
	return version, true, nil
}

// currentBuyers returns the seller's index if it matches the stored
// version; if not, it starts a rebuild and returns nil.
func (q *Querier) currentBuyers(ctx context.Context, sellerID uint64) (*sellerBuyers, error) {
	if q.buyerIx == nil {
		return nil, nil
	}
	version, ok, err := q.rollupVersion(ctx, sellerID)
	if err != nil || !ok {
		return nil, err
	}
	ix := q.buyerIx
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if sb := ix.sellers[sellerID]; sb != nil && sb.version == version {
		return sb, nil
	}
	q.startRebuild(buildKey{sellerID, sellerIndex}, version)
	return nil, nil
}

// currentProducts is currentBuyers for the product buyer index.
func (q *Querier) currentProducts(ctx context.Context, sellerID uint64) (*productBuyers, error) {
	if q.buyerIx == nil {
		return nil, nil
	}
	version, ok, err := q.rollupVersion(ctx, sellerID)
	if err != nil || !ok {
		return nil, err
	}
	ix := q.buyerIx
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if pb := ix.products[sellerID]; pb != nil && pb.version == version {
		return pb, nil
	}
	q.startRebuild(buildKey{sellerID, productIndex}, version)
	return nil, nil
}

// startRebuild starts building an index unless it is being built; the
// caller holds the lock.
func (q *Querier) startRebuild(k buildKey, version int64) {
	ix := q.buyerIx
	if ix.building[k] {
		return
	}
	ix.building[k] = true
	go func() {
		defer func() {
			ix.mu.Lock()
			delete(ix.building, k)
			ix.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		// On error queries keep counting in SQL; the next one retries.
		_ = q.build(ctx, k, version)
	}()
}

// build loads an index at a version and keeps it.
func (q *Querier) build(ctx context.Context, k buildKey, version int64) error {
	ix := q.buyerIx
	switch k.kind {
	case productIndex:
		pb, err := q.loadProductBuyers(ctx, k.seller, version)
		if err != nil {
			return err
		}
		ix.mu.Lock()
		defer ix.mu.Unlock()
		delete(ix.products, k.seller)
		if ix.admit(pb.entries()) {
			ix.products[k.seller] = pb
		}
	default:
		sb, err := q.loadBuyers(ctx, k.seller, version)
		if err != nil {
			return err
		}
		ix.mu.Lock()
		defer ix.mu.Unlock()
		delete(ix.sellers, k.seller)
		if ix.admit(len(sb.days)) {
			ix.sellers[k.seller] = sb
		}
	}
	return nil
}

// admit makes room for n more entries by dropping other indexes, largest
// first, and says whether they fit. The caller holds the lock.
func (ix *buyerIndex) admit(n int) bool {
	total := n
	for _, o := range ix.sellers {
		total += len(o.days)
	}
	for _, o := range ix.products {
		total += o.entries()
	}
	for total > ix.maxEntries && len(ix.sellers)+len(ix.products) > 0 {
		var big buildKey
		size := -1
		for id, o := range ix.sellers {
			if len(o.days) > size {
				big, size = buildKey{id, sellerIndex}, len(o.days)
			}
		}
		for id, o := range ix.products {
			if o.entries() > size {
				big, size = buildKey{id, productIndex}, o.entries()
			}
		}
		if big.kind == productIndex {
			delete(ix.products, big.seller)
		} else {
			delete(ix.sellers, big.seller)
		}
		total -= size
	}
	return total <= ix.maxEntries
}

// loadBuyers reads the seller's buyer-days at a version. Rows are read in
// one consistent snapshot together with the version, so they match it.
func (q *Querier) loadBuyers(ctx context.Context, sellerID uint64, version int64) (*sellerBuyers, error) {
	tx, err := q.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var v int64
	if err := tx.QueryRowContext(ctx, `SELECT version FROM rollup_versions WHERE seller_id = ?`, sellerID).Scan(&v); err != nil || v != version {
		return nil, fmt.Errorf("rollup version moved")
	}
	sb := &sellerBuyers{version: version}
	accountIdx := map[uint64]uint32{}
	rows, err := tx.QueryContext(ctx, `SELECT account_id, platform FROM platform_accounts WHERE seller_id = ? ORDER BY account_id`, sellerID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id uint64
		var p string
		if err := rows.Scan(&id, &p); err != nil {
			rows.Close()
			return nil, err
		}
		accountIdx[id] = uint32(len(sb.accounts))
		sb.accounts = append(sb.accounts, id)
		sb.platform = append(sb.platform, p)
	}
	rows.Close()
	// Ordered by buyer, then day: each row's previous purchase is the row
	// before it when the buyer is the same.
	rows, err = tx.QueryContext(ctx,
		`SELECT account_id, buyer_hash, local_date FROM buyer_days WHERE seller_id = ? ORDER BY account_id, buyer_hash, local_date`, sellerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var lastAcct uint64
	var lastBuyer []byte
	var lastDay int32 = noDay
	var hash []byte
	for rows.Next() {
		var acct uint64
		var day time.Time
		if err := rows.Scan(&acct, &hash, &day); err != nil {
			return nil, err
		}
		idx, ok := accountIdx[acct]
		if !ok {
			continue
		}
		d := dayNumber(day)
		prev := noDay
		if acct == lastAcct && string(hash) == string(lastBuyer) {
			prev = lastDay
		}
		sb.days = append(sb.days, d)
		sb.prev = append(sb.prev, prev)
		sb.account = append(sb.account, idx)
		lastAcct, lastBuyer, lastDay = acct, append(lastBuyer[:0], hash...), d
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Sort the entries by day for range scans.
	order := make([]int, len(sb.days))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return sb.days[order[a]] < sb.days[order[b]] })
	days, prev, account := make([]int32, len(order)), make([]int32, len(order)), make([]uint32, len(order))
	for i, o := range order {
		days[i], prev[i], account[i] = sb.days[o], sb.prev[o], sb.account[o]
	}
	sb.days, sb.prev, sb.account = days, prev, account
	return sb, nil
}

// count returns the distinct buyers of p per group: per time bucket of
// granularity g (0: one group), and per account index when byAccount (else
// -1), over the accounts whose platform is allowed (nil: all). A bucket
// counts a buyer-day when the buyer's previous purchase is before the
// bucket's first day within p.
func (sb *sellerBuyers) count(p Period, g Granularity, byAccount bool, allowed map[string]bool) map[[2]int32]int64 {
	s, e := dayNumber(p.Start), dayNumber(p.End)
	span := int(e-s) + 1
	// Bucket of each day of the span, and the day it counts from.
	bucketOf := make([]int32, span)
	fromOf := make([]int32, span)
	var starts []int32
	for i := range span {
		d := s + int32(i)
		b := s
		if g != 0 {
			b = max(dayNumber(bucketStart(time.Unix(int64(d)*86400, 0).UTC(), g)), s)
		}
		if len(starts) == 0 || starts[len(starts)-1] != b {
			starts = append(starts, b)
		}
		bucketOf[i], fromOf[i] = int32(len(starts)-1), b
	}
	nA := 1
	if byAccount {
		nA = len(sb.accounts)
	}
	ok := make([]bool, len(sb.accounts))
	for i, pl := range sb.platform {
		ok[i] = allowed == nil || allowed[pl]
	}
	counts := make([]int64, len(starts)*nA)
	lo := sort.Search(len(sb.days), func(i int) bool { return sb.days[i] >= s })
	for i := lo; i < len(sb.days) && sb.days[i] <= e; i++ {
		a := sb.account[i]
		if !ok[a] {
			continue
		}
		off := sb.days[i] - s
		if sb.prev[i] >= fromOf[off] {
			continue // the buyer bought earlier in the same bucket
		}
		slot := int(bucketOf[off]) * nA
		if byAccount {
			slot += int(a)
		}
		counts[slot]++
	}
	out := map[[2]int32]int64{}
	for slot, n := range counts {
		if n == 0 {
			continue
		}
		b, a := slot/nA, int32(-1)
		if byAccount {
			a = int32(slot % nA)
		}
		// The unclipped bucket start names the group, as in SQL.
		start := time.Unix(int64(starts[b])*86400, 0).UTC()
		key := int32(0)
		if g != 0 {
			key = dayNumber(bucketStart(start, g))
		}
		out[[2]int32{key, a}] += n
	}
	return out
}

// WarmBuyers builds the seller's buyer indexes (of the seller and of its
// products) now, so the next queries count buyers in memory (tests use it to
// exercise both ways of counting).
func (q *Querier) WarmBuyers(ctx context.Context, sellerID uint64) error {
	version, ok, err := q.rollupVersion(ctx, sellerID)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("seller %d has no rollups yet", sellerID)
	}
	for _, kind := range []indexKind{sellerIndex, productIndex} {
		if err := q.build(ctx, buildKey{sellerID, kind}, version); err != nil {
			return fmt.Errorf("building the buyer index of seller %d: %w", sellerID, err)
		}
	}
	return nil
}

// SQLOnly returns a Querier over the same database that always counts
// buyers in SQL.
func (q *Querier) SQLOnly() *Querier {
	return &Querier{db: q.db, defaultCurrency: q.defaultCurrency}
}
