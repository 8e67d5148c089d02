package loader

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Large row sets are written with LOAD DATA LOCAL INFILE ... REPLACE: the
// server parses one tab-separated stream instead of a statement per 500 rows,
// which is what lets the loader keep up with a bulk load of the same rows.
// REPLACE keeps the upsert's meaning (the row with the natural key ends up
// holding the new values; none of these tables has foreign keys or triggers
// that a delete-and-insert would fire). It runs inside the caller's
// transaction like any other statement.
//
// MySQL 8 ships with local_infile off; when the server refuses, the loader
// falls back to multi-row upserts for the rest of the process's life.

// bulkSeq names reader handlers uniquely: the driver's registry is global.
var bulkSeq atomic.Uint64

// bulkRefused reports the server errors that mean "LOAD DATA LOCAL is off".
func bulkRefused(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		// ER_NOT_ALLOWED_COMMAND (1148) on both servers; MySQL 8's
		// ER_CLIENT_LOCAL_FILES_DISABLED (3948).
		return me.Number == 1148 || me.Number == 3948
	}
	return strings.Contains(err.Error(), "local file") // driver-side refusal
}

// loadData writes rows into t with LOAD DATA LOCAL INFILE ... REPLACE.
func loadData(ctx context.Context, tx *sql.Tx, t *table, rows [][]any) error {
	var buf bytes.Buffer
	buf.Grow(len(rows) * 64 * len(t.columns) / 4)
	for _, r := range rows {
		for i, v := range r {
			if i > 0 {
				buf.WriteByte('\t')
			}
			appendField(&buf, v)
		}
		buf.WriteByte('\n')
	}
	name := "hlog-" + t.name + "-" + strconv.FormatUint(bulkSeq.Add(1), 10)
	data := buf.Bytes()
	mysql.RegisterReaderHandler(name, func() io.Reader { return bytes.NewReader(data) })
	defer mysql.DeregisterReaderHandler(name)
	if _, err := tx.ExecContext(ctx, t.loadSQL(name)); err != nil {
		return err
	}
	return nil
}

// loadSQL is the LOAD DATA statement of t; binary columns travel as hex.
func (t table) loadSQL(reader string) string {
	var cols, sets []string
	for _, c := range t.columns {
		if t.binary[c] {
			cols = append(cols, "@"+c)
			sets = append(sets, c+" = UNHEX(@"+c+")")
			continue
		}
		cols = append(cols, c)
	}
	q := "LOAD DATA LOCAL INFILE 'Reader::" + reader + "' REPLACE INTO TABLE " + t.name +
		" CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (" +
		strings.Join(cols, ", ") + ")"
	if len(sets) > 0 {
		q += " SET " + strings.Join(sets, ", ")
	}
	return q
}

// appendField writes one value in LOAD DATA's default text format: \N for
// NULL, backslash escapes for the separators.
func appendField(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString(`\N`)
	case string:
		escape(b, x)
	case []byte:
		if x == nil {
			b.WriteString(`\N`)
			return
		}
		b.WriteString(hex.EncodeToString(x))
	case time.Time:
		b.WriteString(x.UTC().Format("2006-01-02 15:04:05.999999"))
	case bool:
		if x {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	case int:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case *int64:
		if x == nil {
			b.WriteString(`\N`)
			return
		}
		b.WriteString(strconv.FormatInt(*x, 10))
	default:
		escape(b, fmt.Sprint(x))
	}
}

func escape(b *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case 0:
			b.WriteString(`\0`)
		default:
			b.WriteByte(c)
		}
	}
}

// TSV renders rows the way the bulk path sends them, for benchmarks that
// load the same rows with a plain LOAD DATA.
func TSV(rows [][]any) []byte {
	var buf bytes.Buffer
	for _, r := range rows {
		for i, v := range r {
			if i > 0 {
				buf.WriteByte('\t')
			}
			appendField(&buf, v)
		}
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}
