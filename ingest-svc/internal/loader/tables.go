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
	rows  map[string][]any
}

func newRowSet(t *table) *rowSet { return &rowSet{table: t, rows: map[string][]any{}} }

func (s *rowSet) put(key string, row []any) { s.rows[key] = row }

func (s *rowSet) get(key string) []any { return s.rows[key] }

func (s *rowSet) remove(key string) { delete(s.rows, key) }

func (s *rowSet) len() int { return len(s.rows) }

// sorted returns the rows in key order, so concurrent transactions lock rows
// in the same order and do not deadlock.
func (s *rowSet) sorted() [][]any {
	keys := make([]string, 0, len(s.rows))
	for k := range s.rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][]any, len(keys))
	for i, k := range keys {
		out[i] = s.rows[k]
	}
	return out
}

// marks returns n comma-separated placeholders.
func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

// pairs returns n comma-separated placeholder pairs: (?,?),(?,?).
func pairs(n int) string { return strings.TrimSuffix(strings.Repeat("(?,?),", n), ",") }

// key joins natural key parts with a byte that ids cannot contain.
func key(parts ...string) string { return strings.Join(parts, "\x00") }

// Columns the batch reads back to know which days it changes.
var (
	ordersPaidAt        = ordersTable.column("paid_at")
	linesPaidDate       = linesTable.column("paid_local_date")
	claimsCompletedDate = claimsTable.column("completed_local_date")
)

func (t table) column(name string) int {
	for i, c := range t.columns {
		if c == name {
			return i
		}
	}
	panic("loader: table " + t.name + " has no column " + name)
}
