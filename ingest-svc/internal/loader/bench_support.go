package loader

import "strings"

// These give benchmarks the loader's own rows and statements, so that a
// baseline (plain LOAD DATA, row-at-a-time inserts) writes exactly the rows
// the loader writes.

// SortedRows returns the batch's rows of a table ("order_lines",
// "order_line_claims", ...) in key order.
func (b *Batch) SortedRows(tableName string) [][]any {
	for _, set := range b.sets() {
		if set.table.name == tableName {
			var out [][]any
			for _, r := range set.sorted() {
				out = append(out, r.appendArgs(nil))
			}
			return out
		}
	}
	return nil
}

// UpsertStatement is the loader's upsert of n rows into a table.
func UpsertStatement(tableName string, n int) string { return tableNamed(tableName).upsertSQL(n) }

// LoadDataStatement is a plain LOAD DATA LOCAL INFILE of TSV rows (as TSV
// renders them) from a registered reader into a table.
func LoadDataStatement(tableName, reader string) string {
	return strings.Replace(tableNamed(tableName).loadSQL(reader), " REPLACE INTO ", " INTO ", 1)
}

func tableNamed(name string) table {
	for _, t := range []table{ordersTable, linesTable, claimsTable, productsTable, productCategoriesTable, optionsTable, categoriesTable, couponsTable} {
		if t.name == name {
			return t
		}
	}
	panic("loader: no table " + name)
}
