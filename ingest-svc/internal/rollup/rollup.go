// Package rollup keeps the daily sales rollups (sales_daily,
// sales_daily_accounts, buyer_days) in step with the line and claim rows.
// The loader marks the local days a batch changed (rollup_dirty) in the
// batch's transaction; a refresh recomputes those days from the rows, in one
// transaction that also clears their marks. Recomputing a whole day, rather
// than adding deltas, makes a refresh idempotent: replays, retries and two
// replicas refreshing at once all end in the same rows.
package rollup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Refresher recomputes dirty days.
type Refresher struct {
	db *sql.DB
	// DaysPerTx bounds one transaction; 0 means 31.
	DaysPerTx int
}

// New returns a Refresher over db.
func New(db *sql.DB) *Refresher { return &Refresher{db: db} }

// RefreshSeller recomputes every dirty day of a seller. Days another
// process is refreshing right now are skipped (SKIP LOCKED); that process
// finishes them.
func (r *Refresher) RefreshSeller(ctx context.Context, sellerID uint64) error {
	for {
		n, err := r.refresh(ctx, sellerID)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
}

// RefreshAny recomputes a chunk of dirty days of some seller that no run is
// loading right now (a run refreshes its seller when it ends; days are left
// by runs that died or lost their lease). done is true when none is left.
func (r *Refresher) RefreshAny(ctx context.Context, now time.Time) (done bool, err error) {
	var sellerID uint64
	err = r.db.QueryRowContext(ctx,
		`SELECT d.seller_id FROM rollup_dirty d
		 WHERE NOT EXISTS (SELECT 1 FROM sync_runs r WHERE r.seller_id = d.seller_id AND r.state = 'RUNNING' AND r.lease_until > ?)
		 LIMIT 1`, now).Scan(&sellerID)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("finding dirty rollups: %w", err)
	}
	_, err = r.refresh(ctx, sellerID)
	return false, err
}

// refresh recomputes up to DaysPerTx dirty days of the seller and returns
// how many it did.
func (r *Refresher) refresh(ctx context.Context, sellerID uint64) (int, error) {
	limit := r.DaysPerTx
	if limit <= 0 {
		limit = 31
	}
	for attempt := 0; ; attempt++ {
		n, err := r.refreshOnce(ctx, sellerID, limit)
		// Loader transactions lock line rows that a recompute reads: a
		// deadlock between the two is resolved by trying again.
		if isDeadlock(err) && attempt < 5 {
			continue
		}
		return n, err
	}
}

func (r *Refresher) refreshOnce(ctx context.Context, sellerID uint64, limit int) (int, error) {
	// READ COMMITTED: the recompute reads committed rows without shared
	// locks and takes no gap locks, so refreshes of other days (another
	// replica, the sweeper) and loads of other accounts do not deadlock
	// with it. Its own days are locked (rollup_dirty rows) before it reads.
	// A load marks its days in the transaction that writes their rows, so a
	// day recomputed before that transaction committed is marked again by
	// its commit, and a day marked by a load still open is skipped.
	tx, err := r.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return 0, fmt.Errorf("refreshing rollups: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx,
		`SELECT DATE_FORMAT(local_date, '%Y-%m-%d') FROM rollup_dirty WHERE seller_id = ?
		 ORDER BY local_date LIMIT ? FOR UPDATE SKIP LOCKED`, sellerID, limit)
	if err != nil {
		return 0, fmt.Errorf("reading dirty days: %w", err)
	}
	var days []any
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return 0, fmt.Errorf("reading dirty days: %w", err)
		}
		days = append(days, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("reading dirty days: %w", err)
	}
	if len(days) == 0 {
		return 0, nil
	}
	in := strings.TrimSuffix(strings.Repeat("?,", len(days)), ",")
	args := func(repeat int) []any {
		var out []any
		for range repeat {
			out = append(out, sellerID)
			out = append(out, days...)
		}
		return out
	}
	for _, st := range []struct {
		what string
		sql  string
		args []any
	}{
		{"clearing sales_daily", `DELETE FROM sales_daily WHERE seller_id = ? AND local_date IN (` + in + `)`, args(1)},
		{"clearing sales_daily_accounts", `DELETE FROM sales_daily_accounts WHERE seller_id = ? AND local_date IN (` + in + `)`, args(1)},
		{"clearing buyer_days", `DELETE FROM buyer_days WHERE seller_id = ? AND local_date IN (` + in + `)`, args(1)},
		{"summing sales_daily", salesDailySQL(in), args(3)},
		{"counting orders of options", optionOrdersSQL(in), args(1)},
		{"counting orders of products", productOrdersSQL(in), args(1)},
		{"summing sales_daily_accounts", accountsDailySQL(in), args(2)},
		{"listing buyer_days", buyerDaysSQL(in), args(1)},
		{"clearing dirty days", `DELETE FROM rollup_dirty WHERE seller_id = ? AND local_date IN (` + in + `)`, args(1)},
		{"bumping the rollup version", `INSERT INTO rollup_versions (seller_id, version) VALUES (?, 1)
		  ON DUPLICATE KEY UPDATE version = version + 1`, []any{sellerID}},
	} {
		if _, err := tx.ExecContext(ctx, st.sql, st.args...); err != nil {
			return 0, fmt.Errorf("%s of seller %d: %w", st.what, sellerID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("committing rollups of seller %d: %w", sellerID, err)
	}
	return len(days), nil
}

// salesDailySQL sums three kinds of rows into one row per day, account,
// product, option and currency: paid lines on their payment day, completed
// claims on their completion day (cash view), and the same claims on their
// line's payment day (order-date view). Claims count only for lines that
// were paid, as in package sales.
func salesDailySQL(in string) string {
	return `INSERT INTO sales_daily (seller_id, local_date, account_id, product_source_id, option_source_id, currency,
  platform, product_name, option_name, gross, discount, paid, units,
  cash_refunded, cash_cancelled_units, cash_returned_units, cash_exchanged_units,
  order_refunded, order_cancelled_units, order_returned_units, order_exchanged_units)
SELECT x.seller_id, x.d, x.account_id, x.p, x.o, x.cur, a.platform, MAX(x.pname), MAX(x.oname),
  SUM(x.gross), SUM(x.discount), SUM(x.paid), SUM(x.units),
  SUM(x.c_ref), SUM(x.c_can), SUM(x.c_ret), SUM(x.c_exc),
  SUM(x.o_ref), SUM(x.o_can), SUM(x.o_ret), SUM(x.o_exc)
FROM (
  SELECT l.seller_id, l.paid_local_date AS d, l.account_id, l.product_source_id AS p, l.option_source_id AS o, l.currency AS cur,
    l.product_name AS pname, l.option_name AS oname,
    l.unit_price * l.quantity + l.option_price AS gross, l.discount, l.paid_amount AS paid, l.quantity AS units,
    0 AS c_ref, 0 AS c_can, 0 AS c_ret, 0 AS c_exc, 0 AS o_ref, 0 AS o_can, 0 AS o_ret, 0 AS o_exc
  FROM order_lines l
  WHERE l.seller_id = ? AND l.paid_local_date IN (` + in + `)
  UNION ALL
  SELECT c.seller_id, c.completed_local_date, c.account_id, l.product_source_id, l.option_source_id, c.currency,
    l.product_name, l.option_name, 0, 0, 0, 0,
    c.refund_amount, IF(c.claim_type = 'CANCEL', c.quantity, 0), IF(c.claim_type = 'RETURN', c.quantity, 0),
    IF(c.claim_type = 'EXCHANGE', c.quantity, 0), 0, 0, 0, 0
  FROM order_line_claims c
  JOIN order_lines l ON l.seller_id = c.seller_id AND l.account_id = c.account_id AND l.source_id = c.line_source_id
  WHERE c.seller_id = ? AND c.state = 'COMPLETED' AND c.completed_local_date IN (` + in + `) AND l.paid_local_date IS NOT NULL
  UNION ALL
  SELECT c.seller_id, l.paid_local_date, c.account_id, l.product_source_id, l.option_source_id, c.currency,
    l.product_name, l.option_name, 0, 0, 0, 0, 0, 0, 0, 0,
    c.refund_amount, IF(c.claim_type = 'CANCEL', c.quantity, 0), IF(c.claim_type = 'RETURN', c.quantity, 0),
    IF(c.claim_type = 'EXCHANGE', c.quantity, 0)
  FROM order_line_claims c
  JOIN order_lines l ON l.seller_id = c.seller_id AND l.account_id = c.account_id AND l.source_id = c.line_source_id
  WHERE c.seller_id = ? AND c.state = 'COMPLETED' AND c.completed_local_date IS NOT NULL AND l.paid_local_date IN (` + in + `)
) x
JOIN platform_accounts a ON a.seller_id = x.seller_id AND a.account_id = x.account_id
GROUP BY x.seller_id, x.d, x.account_id, x.p, x.o, x.cur, a.platform`
}

func optionOrdersSQL(in string) string {
	return `UPDATE sales_daily s JOIN (
  SELECT seller_id, paid_local_date AS d, account_id, product_source_id AS p, option_source_id AS o, currency,
    COUNT(DISTINCT order_source_id) AS n
  FROM order_lines WHERE seller_id = ? AND paid_local_date IN (` + in + `)
  GROUP BY seller_id, paid_local_date, account_id, product_source_id, option_source_id, currency
) x ON s.seller_id = x.seller_id AND s.local_date = x.d AND s.account_id = x.account_id
  AND s.product_source_id = x.p AND s.option_source_id = x.o AND s.currency = x.currency
SET s.orders = x.n`
}

func productOrdersSQL(in string) string {
	return `UPDATE sales_daily s JOIN (
  SELECT seller_id, paid_local_date AS d, account_id, product_source_id AS p, currency, COUNT(DISTINCT order_source_id) AS n
  FROM order_lines WHERE seller_id = ? AND paid_local_date IN (` + in + `)
  GROUP BY seller_id, paid_local_date, account_id, product_source_id, currency
) x ON s.seller_id = x.seller_id AND s.local_date = x.d AND s.account_id = x.account_id
  AND s.product_source_id = x.p AND s.currency = x.currency
SET s.product_orders = x.n`
}

// accountsDailySQL sums the day's sales_daily rows per account and
// currency, with the distinct orders and buyers of the paid lines (days
// with only claims have none).
func accountsDailySQL(in string) string {
	return `INSERT INTO sales_daily_accounts (seller_id, local_date, account_id, currency, platform, orders, buyers,
  gross, discount, paid, units, cash_refunded, cash_cancelled_units, cash_returned_units, cash_exchanged_units,
  order_refunded, order_cancelled_units, order_returned_units, order_exchanged_units)
SELECT s.seller_id, s.local_date, s.account_id, s.currency, MAX(s.platform), COALESCE(MAX(c.orders), 0), COALESCE(MAX(c.buyers), 0),
  SUM(s.gross), SUM(s.discount), SUM(s.paid), SUM(s.units),
  SUM(s.cash_refunded), SUM(s.cash_cancelled_units), SUM(s.cash_returned_units), SUM(s.cash_exchanged_units),
  SUM(s.order_refunded), SUM(s.order_cancelled_units), SUM(s.order_returned_units), SUM(s.order_exchanged_units)
FROM sales_daily s
LEFT JOIN (
  SELECT l.paid_local_date AS d, l.account_id, l.currency, COUNT(DISTINCT l.order_source_id) AS orders, COUNT(DISTINCT o.buyer_hash) AS buyers
  FROM order_lines l
  LEFT JOIN orders o ON o.seller_id = l.seller_id AND o.account_id = l.account_id AND o.source_id = l.order_source_id
  WHERE l.seller_id = ? AND l.paid_local_date IN (` + in + `)
  GROUP BY l.paid_local_date, l.account_id, l.currency
) c ON c.d = s.local_date AND c.account_id = s.account_id AND c.currency = s.currency
WHERE s.seller_id = ? AND s.local_date IN (` + in + `)
GROUP BY s.seller_id, s.local_date, s.account_id, s.currency`
}

func buyerDaysSQL(in string) string {
	return `INSERT INTO buyer_days (seller_id, local_date, account_id, buyer_hash)
SELECT DISTINCT l.seller_id, l.paid_local_date, l.account_id, o.buyer_hash
FROM order_lines l
JOIN orders o ON o.seller_id = l.seller_id AND o.account_id = l.account_id AND o.source_id = l.order_source_id
WHERE l.seller_id = ? AND l.paid_local_date IN (` + in + `) AND o.buyer_hash IS NOT NULL`
}

func isDeadlock(err error) bool {
	var me *mysql.MySQLError
	// ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT.
	return errors.As(err, &me) && (me.Number == 1213 || me.Number == 1205)
}
