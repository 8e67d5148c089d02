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
// A plain LOAD DATA LOCAL ... INTO is not cheaper on a first load, though it
// meets no stored row: with LOCAL it runs as IGNORE (the server cannot stop
// the client's file midway), and in the loader's pattern, transactions of
// about 10,000 records into tables that already hold rows, MariaDB 10.11
// spent more CPU on it than on REPLACE (loader bench, run alternately on one
// machine: 24–27 s of server CPU against 21–22 s for the same million lines).
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

// loadData writes rows, rendered by appendTSV, into t with LOAD DATA LOCAL
// INFILE ... REPLACE.
func loadData(ctx context.Context, tx *sql.Tx, t *table, text []byte) error {
	name := "hlog-" + t.name + "-" + strconv.FormatUint(bulkSeq.Add(1), 10)
	mysql.RegisterReaderHandler(name, func() io.Reader { return bytes.NewReader(text) })
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

// appendTSV renders rows in LOAD DATA's default text format: fields
// separated by tabs, rows ended by newlines.
func appendTSV(b []byte, rows []row) []byte {
	for _, r := range rows {
		b = r.appendText(b)
		b = append(b, '\n')
	}
	return b
}

// appendField writes one value: \N for NULL, backslash escapes for the
// separators, binary as hex (the statement UNHEXes it).
func appendField(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, `\N`...)
	case string:
		return appendEscaped(b, x)
	case []byte:
		if x == nil {
			return append(b, `\N`...)
		}
		return hex.AppendEncode(b, x)
	case time.Time:
		return appendDatetime(b, x.UTC())
	case bool:
		if x {
			return append(b, '1')
		}
		return append(b, '0')
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case uint64:
		return strconv.AppendUint(b, x, 10)
	case *int64:
		if x == nil {
			return append(b, `\N`...)
		}
		return strconv.AppendInt(b, *x, 10)
	default:
		return appendEscaped(b, fmt.Sprint(x))
	}
}

// appendDatetime writes t as DATETIME(6) text, "2006-01-02 15:04:05" and
// the microseconds when there are any: what Format with ".999999" writes,
// without its layout parsing, which showed in profiles of large loads.
func appendDatetime(b []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = appendDigits(b, y, 4)
	b = append(b, '-')
	b = appendDigits(b, int(mo), 2)
	b = append(b, '-')
	b = appendDigits(b, d, 2)
	b = append(b, ' ')
	b = appendDigits(b, h, 2)
	b = append(b, ':')
	b = appendDigits(b, mi, 2)
	b = append(b, ':')
	b = appendDigits(b, s, 2)
	if us := t.Nanosecond() / 1000; us != 0 {
		b = append(b, '.')
		b = appendDigits(b, us, 6)
		for b[len(b)-1] == '0' { // trailing zeros are dropped, as ".999999" does
			b = b[:len(b)-1]
		}
	}
	return b
}

// appendDigits writes a non-negative n with at least width digits.
func appendDigits(b []byte, n, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for n >= 10 || width > 1 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		width--
	}
	i--
	buf[i] = byte('0' + n)
	return append(b, buf[i:]...)
}

func appendEscaped(b []byte, s string) []byte {
	if !strings.ContainsAny(s, "\\\t\n\r\x00") {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '\t':
			b = append(b, `\t`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case 0:
			b = append(b, `\0`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// TSV renders rows the way the bulk path sends them, for benchmarks that
// load the same rows with a plain LOAD DATA.
func TSV(rows [][]any) []byte {
	var b []byte
	for _, r := range rows {
		b = append(values(r).appendText(b), '\n')
	}
	return b
}
