// Package dbdump reads whole tables as text, so tests can prove that an
// operation changed no row (or exactly which ones).
package dbdump

import (
	"database/sql"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// RecordTables hold collected records: what a replayed sync must leave
// exactly as it was.
var RecordTables = []string{
	"orders", "order_lines", "order_line_claims", "products", "product_categories",
	"product_options", "categories", "coupons",
}

// DataTables are every table holding rows of an account's collected data.
var DataTables = append(append([]string(nil), RecordTables...), "stream_cursors")

// Tables returns every row of each table, one line per row with its columns
// rendered exactly, rows sorted.
func Tables(t testing.TB, db *sql.DB, tables ...string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range tables {
		rows, err := db.Query("SELECT * FROM " + table)
		if err != nil {
			t.Fatalf("dumping %s: %v", table, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		lines := []string{}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("dumping %s: %v", table, err)
			}
			parts := make([]string, len(cols))
			for i, v := range vals {
				parts[i] = cols[i] + "=" + render(v)
			}
			lines = append(lines, strings.Join(parts, " "))
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("dumping %s: %v", table, err)
		}
		rows.Close()
		sort.Strings(lines)
		out[table] = lines
	}
	return out
}

func render(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		if utf8.Valid(x) {
			return strconv.Quote(string(x))
		}
		return "0x" + hex.EncodeToString(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	default:
		return fmt.Sprint(x)
	}
}

// Diff describes how two dumps differ, or "" when they are equal.
func Diff(before, after map[string][]string) string {
	var b strings.Builder
	tables := map[string]bool{}
	for t := range before {
		tables[t] = true
	}
	for t := range after {
		tables[t] = true
	}
	names := make([]string, 0, len(tables))
	for t := range tables {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, t := range names {
		was, now := set(before[t]), set(after[t])
		shown := 0
		for r := range was {
			if !now[r] && shown < 3 {
				fmt.Fprintf(&b, "%s: row gone or changed: %s\n", t, r)
				shown++
			}
		}
		for r := range now {
			if !was[r] && shown < 6 {
				fmt.Fprintf(&b, "%s: row new or changed: %s\n", t, r)
				shown++
			}
		}
		if len(before[t]) != len(after[t]) {
			fmt.Fprintf(&b, "%s: %d rows, then %d\n", t, len(before[t]), len(after[t]))
		}
	}
	return b.String()
}

func set(rows []string) map[string]bool {
	m := make(map[string]bool, len(rows))
	for _, r := range rows {
		m[r] = true
	}
	return m
}
