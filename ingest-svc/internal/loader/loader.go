// Package loader writes canonical records (hlog.commerce.v1) into MySQL rows.
// A Batch buffers translated rows of one account; Write upserts them on their
// natural keys inside the caller's transaction, so the caller can commit them
// together with the stream checkpoint that follows them. Writing the same
// records again changes no row: at-least-once delivery becomes exactly-once
// rows.
package loader

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
)

// Loader makes batches. It holds the key of the buyer-id hash.
type Loader struct {
	buyerKey []byte
	// BulkThreshold is the smallest row set written with LOAD DATA (see
	// bulk.go); 0 means 200, negative disables the bulk path.
	BulkThreshold int
	bulkOff       atomic.Bool
}

// New returns a loader hashing buyer ids with HMAC-SHA256 under buyerKey.
// The key must stay the same for the life of the data: a new key makes
// every buyer look new.
func New(buyerKey []byte) (*Loader, error) {
	if len(buyerKey) < 16 {
		return nil, errors.New("buyer hash key must be at least 16 bytes")
	}
	return &Loader{buyerKey: append([]byte(nil), buyerKey...)}, nil
}

// BulkRefused reports that the server refused LOAD DATA LOCAL and the
// loader fell back to upserts.
func (l *Loader) BulkRefused() bool { return l.bulkOff.Load() }

// Scope is the account records belong to and the seller's time zone, which
// decides their local dates.
type Scope struct {
	SellerID  uint64
	AccountID uint64
	Location  *time.Location
}

// Batch buffers rows of one account until they are written.
type Batch struct {
	ld                *Loader
	tr                translator
	orders            *rowSet
	lines             *rowSet
	claims            *rowSet
	products          *rowSet
	productCategories *rowSet
	options           *rowSet
	categories        *rowSet
	coupons           *rowSet
	// claimsOf and categoriesOf list the lines and products whose child rows
	// are replaced as a whole (their keys, for the delete of stale children).
	claimsOf     map[string][]string
	categoriesOf map[string][]string
	records      int
	loaded       map[string]int64
	// days are the seller's local days whose rollups the batch changes.
	days map[string]bool
	// New, when set, tells whether an order line is certainly not in the
	// database yet (called once per line, in stream order). Such a line has
	// no claims stored, so none can be stale: the delete of stale claims
	// skips it, which on a first load saves a probe per line.
	New func(lineSourceID string) bool
	// newLines are the batch's lines New vouched for.
	newLines map[string]bool
	scratch  translated
}

// NewBatch starts an empty batch for one account.
func (l *Loader) NewBatch(scope Scope) *Batch {
	loc := scope.Location
	if loc == nil {
		loc = time.UTC
	}
	b := &Batch{ld: l, tr: newTranslator(scope.SellerID, scope.AccountID, loc, l.buyerKey)}
	b.Reset()
	return b
}

// Reset empties the batch after it was written (or abandoned).
func (b *Batch) Reset() {
	if b.orders == nil {
		b.orders = newRowSet(&ordersTable)
		b.lines = newRowSet(&linesTable)
		b.claims = newRowSet(&claimsTable)
		b.products = newRowSet(&productsTable)
		b.productCategories = newRowSet(&productCategoriesTable)
		b.options = newRowSet(&optionsTable)
		b.categories = newRowSet(&categoriesTable)
		b.coupons = newRowSet(&couponsTable)
		b.claimsOf = map[string][]string{}
		b.categoriesOf = map[string][]string{}
		b.loaded = map[string]int64{}
		b.days = map[string]bool{}
		b.newLines = map[string]bool{}
	}
	// The sets and maps keep their storage: a batch is refilled many times
	// a run.
	for _, set := range b.sets() {
		set.reset()
	}
	clear(b.claimsOf)
	clear(b.categoriesOf)
	clear(b.loaded)
	clear(b.days)
	clear(b.newLines)
	b.records = 0
}

// Days lists the local days (YYYY-MM-DD) whose sales the batch changes:
// payment days of its orders and lines, completion days of its claims. (A
// claim's order-date view counts on its line's payment day, which the line
// carrying the claim adds.)
func (b *Batch) Days() []string {
	out := make([]string, 0, len(b.days))
	for d := range b.days {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

func (b *Batch) touch(day string) {
	if day != "" {
		b.days[day] = true
	}
}

// Records is how many records were added since the last Reset.
func (b *Batch) Records() int { return b.records }

// Loaded counts the records added since the last Reset, by stream.
func (b *Batch) Loaded() map[string]int64 {
	out := make(map[string]int64, len(b.loaded))
	for k, v := range b.loaded {
		out[k] = v
	}
	return out
}

// Add translates a collector's record batch into rows. An invalid record
// (empty id, mixed currencies, impossible time) is an error and adds nothing.
func (b *Batch) Add(rb *collectorv1.RecordBatch) error {
	// Translate everything first, apply after: a bad record leaves the batch
	// as it was. The scratch slices are kept between calls.
	p := &b.scratch
	p.reset()
	for _, o := range rb.GetOrders() {
		k, row, err := b.tr.orderRow(o)
		if err != nil {
			return err
		}
		p.orders = append(p.orders, keyedOrder{k, row})
	}
	for _, l := range rb.GetOrderLines() {
		k, row, claims, err := b.tr.lineRows(l)
		if err != nil {
			return err
		}
		p.lines = append(p.lines, keyedLine{k, row, claims})
	}
	for _, pr := range rb.GetProducts() {
		k, row, links, err := b.tr.productRows(pr)
		if err != nil {
			return err
		}
		p.products = append(p.products, keyedProduct{keyed{k, row}, links})
	}
	for _, o := range rb.GetProductOptions() {
		k, row, err := b.tr.optionRow(o)
		if err != nil {
			return err
		}
		p.options = append(p.options, keyed{k, row})
	}
	for _, c := range rb.GetCategories() {
		k, row, err := b.tr.categoryRow(c)
		if err != nil {
			return err
		}
		p.categories = append(p.categories, keyed{k, row})
	}
	for _, c := range rb.GetCoupons() {
		k, row, err := b.tr.couponRow(c)
		if err != nil {
			return err
		}
		p.coupons = append(p.coupons, keyed{k, row})
	}

	for _, o := range p.orders {
		b.orders.put(o.key, o.row)
		b.touch(b.tr.localDate(o.row.paidAt))
	}
	for _, l := range p.lines {
		b.lines.put(l.key, l.row)
		_, again := b.claimsOf[l.key]
		b.newLines[l.key] = !again && b.New != nil && b.New(l.row.sourceID)
		b.claimsOf[l.key] = replaceChildren(b.claims, b.claimsOf[l.key], l.claims)
		b.touch(l.row.paidLocalDate)
		for _, c := range l.claims {
			b.touch(c.(*claimRow).completedLocalDate)
		}
	}
	for _, pr := range p.products {
		b.products.put(pr.key, pr.row)
		b.categoriesOf[pr.key] = replaceChildren(b.productCategories, b.categoriesOf[pr.key], pr.links)
	}
	for _, o := range p.options {
		b.options.put(o.key, o.row)
	}
	for _, c := range p.categories {
		b.categories.put(c.key, c.row)
	}
	for _, c := range p.coupons {
		b.coupons.put(c.key, c.row)
	}
	n := p.records()
	p.reset()
	b.records += n
	b.loaded[rb.GetStream()] += int64(n)
	return nil
}

// keyed is a translated row and its natural key.
type keyed struct {
	key string
	row row
}

type keyedOrder struct {
	key string
	row *orderRow
}

type keyedLine struct {
	key    string
	row    *lineRow
	claims map[string]row
}

// keyedProduct is a product row with its complete set of category links.
type keyedProduct struct {
	keyed
	links map[string]row
}

// translated holds one Add's rows until all of them translated.
type translated struct {
	orders                       []keyedOrder
	lines                        []keyedLine
	products                     []keyedProduct
	options, categories, coupons []keyed
}

func (t *translated) records() int {
	return len(t.orders) + len(t.lines) + len(t.products) + len(t.options) + len(t.categories) + len(t.coupons)
}

// reset empties the slices, keeping their storage but not the rows.
func (t *translated) reset() {
	clear(t.orders)
	t.orders = t.orders[:0]
	clear(t.lines)
	t.lines = t.lines[:0]
	clear(t.products)
	t.products = t.products[:0]
	for _, s := range []*[]keyed{&t.options, &t.categories, &t.coupons} {
		clear(*s)
		*s = (*s)[:0]
	}
}

// replaceChildren makes children the complete set of a parent's child rows
// in set (a line's claims, a product's categories) and returns their keys.
func replaceChildren(set *rowSet, oldKeys []string, children map[string]row) []string {
	for _, k := range oldKeys {
		set.remove(k)
	}
	keys := make([]string, 0, len(children))
	for k, row := range children {
		set.put(k, row)
		keys = append(keys, k)
	}
	return keys
}

// rowsPerStatement keeps statements well under MySQL's 65,535 placeholders
// and max_allowed_packet.
const rowsPerStatement = 500

// Write upserts the batch inside tx and marks its days for the rollups.
// Claims of every line in the batch, and category links of every product,
// are replaced by the batch's: a claim the platform no longer reports
// disappears. It does not commit or reset.
func (b *Batch) Write(ctx context.Context, tx *sql.Tx) error {
	if err := b.WriteRows(ctx, tx); err != nil {
		return err
	}
	return b.MarkDirty(ctx, tx)
}

// WriteRows is the part of Write that touches only the batch's own rows;
// MarkDirty is the rest. A caller that writes two batches at once (see
// Independent) writes the rows of both first and marks the days of the later
// one only after the earlier one committed: the two usually share days.
//
// Marking after the rows is safe with a rollup refresh running at the same
// time: the refresh reads committed rows only, without locks, so it never
// waits on these; and a day it recomputed without this batch's rows is
// marked again when the batch commits.
func (b *Batch) WriteRows(ctx context.Context, tx *sql.Tx) error {
	for _, set := range []*rowSet{b.orders, b.lines} {
		if err := b.upsert(ctx, tx, set); err != nil {
			return err
		}
	}
	stale := b.claimsOf
	if len(b.newLines) > 0 {
		stale = make(map[string][]string, len(b.claimsOf))
		for k, v := range b.claimsOf {
			if !b.newLines[k] {
				stale[k] = v
			}
		}
	}
	if err := b.deleteStaleChildren(ctx, tx, "order_line_claims", "line_source_id", "source_id", stale); err != nil {
		return err
	}
	if err := b.upsert(ctx, tx, b.claims); err != nil {
		return err
	}
	if err := b.upsert(ctx, tx, b.products); err != nil {
		return err
	}
	if err := b.deleteStaleChildren(ctx, tx, "product_categories", "product_source_id", "category_source_id", b.categoriesOf); err != nil {
		return err
	}
	for _, set := range []*rowSet{b.productCategories, b.options, b.categories, b.coupons} {
		if err := b.upsert(ctx, tx, set); err != nil {
			return err
		}
	}
	return nil
}

// Independent reports whether b's rows can be written in one transaction
// while other's transaction is still open, without either waiting on the
// other's row locks: the two batches (of one account) share no row, and
// neither deletes stale children. Under READ COMMITTED, inserts and
// replaces of distinct keys take no gap locks and never wait on each other;
// a delete, though, locks the rows its key range scan reads, which may
// belong to the other batch. In practice this holds for a first load, whose
// lines are all new.
func (b *Batch) Independent(other *Batch) bool {
	if b.deletes() || other.deletes() {
		return false
	}
	mine, theirs := b.sets(), other.sets()
	for i, set := range mine {
		small, large := set.rows, theirs[i].rows
		if len(small) > len(large) {
			small, large = large, small
		}
		for k := range small {
			if _, ok := large[k]; ok {
				return false
			}
		}
	}
	return true
}

// deletes reports whether WriteRows deletes stale child rows: claims of
// lines that may be stored already, category links of any product.
func (b *Batch) deletes() bool {
	if len(b.categoriesOf) > 0 {
		return true
	}
	for k := range b.claimsOf {
		if !b.newLines[k] {
			return true
		}
	}
	return false
}

// MarkDirty records the days whose rollups the batch made stale, in the
// batch's own transaction: a day is never changed without being marked.
func (b *Batch) MarkDirty(ctx context.Context, tx *sql.Tx) error {
	days := b.Days()
	if len(days) == 0 {
		return nil
	}
	args := make([]any, 0, 2*len(days))
	for _, d := range days {
		args = append(args, b.tr.sellerID, d)
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO rollup_dirty (seller_id, local_date) VALUES `+strings.TrimSuffix(strings.Repeat("(?,?),", len(days)), ",")+`
		 ON DUPLICATE KEY UPDATE local_date = local_date`, args...); err != nil {
		return fmt.Errorf("marking %d days for rollup: %w", len(days), err)
	}
	return nil
}

func (b *Batch) sets() []*rowSet {
	return []*rowSet{b.orders, b.lines, b.claims, b.products, b.productCategories, b.options, b.categories, b.coupons}
}

// Seal sorts the batch's rows and renders what goes to the server as LOAD
// DATA text, ahead of Write. A caller that fills the next batch while this
// one is written calls it before handing the batch over, so the writing
// connection does nothing but write. Write seals what is not sealed yet.
func (b *Batch) Seal() {
	for _, set := range b.sets() {
		set.seal(b.bulk(set))
	}
}

// bulk reports whether set goes to the server with LOAD DATA.
func (b *Batch) bulk(set *rowSet) bool {
	threshold := b.ld.BulkThreshold
	if threshold == 0 {
		threshold = 200
	}
	return threshold > 0 && set.len() >= threshold && !b.ld.bulkOff.Load()
}

// upsert writes a row set: LOAD DATA for large sets when the server allows
// it, multi-row upserts otherwise.
func (b *Batch) upsert(ctx context.Context, tx *sql.Tx, set *rowSet) error {
	rows, text := set.seal(b.bulk(set))
	if text != nil {
		err := loadData(ctx, tx, set.table, text)
		if err == nil {
			return nil
		}
		if !bulkRefused(err) {
			return fmt.Errorf("loading %d %s rows: %w", len(rows), set.table.name, err)
		}
		// A refused statement changed nothing; the transaction goes on.
		b.ld.bulkOff.Store(true)
	}
	return upsertRows(ctx, tx, set.table, rows)
}

func upsertRows(ctx context.Context, tx *sql.Tx, t *table, rows []row) error {
	for start := 0; start < len(rows); start += rowsPerStatement {
		chunk := rows[start:min(start+rowsPerStatement, len(rows))]
		args := make([]any, 0, len(chunk)*len(t.columns))
		for _, r := range chunk {
			args = r.appendArgs(args)
		}
		if _, err := tx.ExecContext(ctx, t.upsertSQL(len(chunk)), args...); err != nil {
			return fmt.Errorf("writing %d %s rows: %w", len(chunk), t.name, err)
		}
	}
	return nil
}

// deleteStaleChildren deletes child rows (claims of lines, categories of
// products) of the parents in the batch that the batch does not carry. Rows
// it keeps are then upserted, so an unchanged child is never touched.
func (b *Batch) deleteStaleChildren(ctx context.Context, tx *sql.Tx, table, parentCol, childCol string, childrenOf map[string][]string) error {
	parents := make([]string, 0, len(childrenOf))
	for p := range childrenOf {
		parents = append(parents, p)
	}
	sort.Strings(parents)
	const parentsPerStatement = 200
	for start := 0; start < len(parents); start += parentsPerStatement {
		chunk := parents[start:min(start+parentsPerStatement, len(parents))]
		args := []any{b.tr.sellerID, b.tr.accountID}
		for _, p := range chunk {
			args = append(args, p) // a parent key is the parent's source id
		}
		q := `DELETE FROM ` + table + ` WHERE seller_id = ? AND account_id = ? AND ` + parentCol + ` IN (` + marks(len(chunk)) + `)`
		var keep int
		for _, p := range chunk {
			for _, ck := range childrenOf[p] {
				// A child's key is key(parent, child).
				parent, child, _ := strings.Cut(ck, "\x00")
				args = append(args, parent, child)
				keep++
			}
		}
		if keep > 0 {
			q += ` AND (` + parentCol + `, ` + childCol + `) NOT IN (` + pairs(keep) + `)`
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("replacing %s: %w", table, err)
		}
	}
	return nil
}
