package loader

import (
	"sort"
	"strings"
)

// table is a destination table of canonical records: its columns in insert
// order, the natural key first.
type table struct {
	name    string
	columns []string
	keyCols int
	// binary columns travel as hex in LOAD DATA.
	binary map[string]bool
}

var (
	ordersTable = table{name: "orders", keyCols: 3, binary: map[string]bool{"buyer_hash": true}, columns: []string{
		"seller_id", "account_id", "source_id",
		"ordered_at", "paid_at", "currency", "shipping_fee", "paid_amount", "buyer_hash",
		"status", "raw_status", "channel", "source_updated_at",
	}}
	linesTable = table{name: "order_lines", keyCols: 3, columns: []string{
		"seller_id", "account_id", "source_id",
		"order_source_id", "product_source_id", "option_source_id", "product_name", "option_name",
		"quantity", "currency", "unit_price", "option_price", "discount", "paid_amount",
		"status", "raw_status", "ordered_at", "paid_at", "paid_local_date",
	}}
	claimsTable = table{name: "order_line_claims", keyCols: 4, columns: []string{
		"seller_id", "account_id", "line_source_id", "source_id",
		"claim_type", "state", "quantity", "currency", "refund_amount", "raw_status",
		"requested_at", "completed_at", "completed_local_date",
	}}
	productsTable = table{name: "products", keyCols: 3, columns: []string{
		"seller_id", "account_id", "source_id",
		"code", "seller_code", "name", "currency", "price", "selling", "displayed", "raw_status",
		"source_created_at", "source_updated_at",
	}}
	productCategoriesTable = table{name: "product_categories", keyCols: 4, columns: []string{
		"seller_id", "account_id", "product_source_id", "category_source_id",
	}}
	optionsTable = table{name: "product_options", keyCols: 3, columns: []string{
		"seller_id", "account_id", "source_id",
		"product_source_id", "name", "currency", "additional_price", "selling", "stock_quantity",
	}}
	categoriesTable = table{name: "categories", keyCols: 3, columns: []string{
		"seller_id", "account_id", "source_id",
		"parent_source_id", "name", "full_name", "depth",
	}}
	couponsTable = table{name: "coupons", keyCols: 3, columns: []string{
		"seller_id", "account_id", "source_id",
		"name", "benefit", "raw_benefit_type", "currency", "benefit_amount", "benefit_basis_points",
		"max_discount", "available_from", "available_until", "deleted", "source_created_at",
	}}
)

// upsertSQL inserts n rows, or updates the non-key columns of rows whose
// natural key exists. A row whose values are all unchanged is left alone by
// MySQL (no write, no "changed" count), which is what makes replays free.
// VALUES(col) rather than MySQL 8.0.20's row alias: MariaDB has no alias.
func (t table) upsertSQL(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(t.name)
	b.WriteString(" (")
	b.WriteString(strings.Join(t.columns, ", "))
	b.WriteString(") VALUES ")
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", len(t.columns)), ",") + ")"
	b.WriteString(strings.TrimSuffix(strings.Repeat(row+",", n), ","))
	b.WriteString(" ON DUPLICATE KEY UPDATE ")
	if len(t.columns) == t.keyCols {
		// A pure key table: nothing to update.
		c := t.columns[t.keyCols-1]
		b.WriteString(c + " = " + c)
		return b.String()
	}
	for i, c := range t.columns[t.keyCols:] {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c + " = VALUES(" + c + ")")
	}
	return b.String()
}

// rowSet collects rows of one table by natural key; a later row with the same
// key replaces an earlier one (the newer record wins).
type rowSet struct {
	table *table
	rows  map[string]row
	// What seal prepared for writing, until the set changes again.
	sealed  bool
	ordered []row
	text    []byte // LOAD DATA text of ordered; empty until rendered
}

func newRowSet(t *table) *rowSet { return &rowSet{table: t, rows: map[string]row{}} }

func (s *rowSet) put(key string, r row) {
	s.rows[key] = r
	s.sealed = false
}

func (s *rowSet) remove(key string) {
	delete(s.rows, key)
	s.sealed = false
}

func (s *rowSet) len() int { return len(s.rows) }

// reset empties the set, keeping its storage for the next batch.
func (s *rowSet) reset() {
	clear(s.rows)
	s.sealed = false
	clear(s.ordered) // no hold on the rows written
	s.ordered = s.ordered[:0]
	s.text = s.text[:0]
}

// seal prepares the set for writing: its rows in key order and, when bulk,
// their LOAD DATA text. The work is done once, however often it is asked
// for, until the set changes.
func (s *rowSet) seal(bulk bool) (ordered []row, text []byte) {
	if !s.sealed {
		s.ordered = s.sortedInto(s.ordered[:0])
		s.text = s.text[:0]
		s.sealed = true
	}
	if bulk && len(s.text) == 0 && len(s.ordered) > 0 {
		s.text = appendTSV(s.text, s.ordered)
	}
	if !bulk {
		return s.ordered, nil
	}
	return s.ordered, s.text
}

// sorted returns the rows in key order, so concurrent transactions lock rows
// in the same order and do not deadlock.
func (s *rowSet) sorted() []row { return s.sortedInto(nil) }

func (s *rowSet) sortedInto(out []row) []row {
	keys := make([]string, 0, len(s.rows))
	for k := range s.rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, s.rows[k])
	}
	return out
}

// marks returns n comma-separated placeholders.
func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

// pairs returns n comma-separated placeholder pairs: (?,?),(?,?).
func pairs(n int) string { return strings.TrimSuffix(strings.Repeat("(?,?),", n), ",") }

// key joins natural key parts with a byte that ids cannot contain.
func key(parts ...string) string { return strings.Join(parts, "\x00") }
