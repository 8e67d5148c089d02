package sales

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// LineFilter selects order lines of one seller.
type LineFilter struct {
	Filter
	// From and To bound the lines' payment instant (payment basis) or order
	// instant (order basis): the local days of the period in the seller's
	// time zone, as UTC instants [From, To).
	From, To time.Time
	// AccountID, when not 0, keeps one account's lines.
	AccountID uint64
	// Query matches product name, option name, order id or line id,
	// case-insensitively.
	Query string
	// Statuses as stored ("PAID"); empty means any.
	Statuses []string
	Claims   ClaimFilter
}

// ClaimFilter narrows lines by their claims.
type ClaimFilter int

const (
	AnyLine ClaimFilter = iota
	AnyClaim
	CancelClaims
	ReturnClaims
	ExchangeClaims
	Refunded
	NoClaim
)

// LineRow is one order line with what its claims did.
type LineRow struct {
	Platform                                      string
	AccountID                                     uint64
	OrderSourceID, SourceID                       string
	ProductSourceID, ProductName                  string
	OptionSourceID, OptionName                    string
	Quantity                                      int32
	Currency                                      string
	Status, RawStatus                             string
	OrderedAt, PaidAt                             *time.Time
	PaymentDate                                   string
	Gross, Discount, Paid, Refunded               int64
	CancelledUnits, ReturnedUnits, ExchangedUnits int32
	ClaimOpen                                     bool
}

// InputError for a page token that is not ours.
func badToken() error {
	return inputErrorf("page_token is not one this API returned; start again without it")
}

// cursor is where a page ended: the instant, account and line of its last
// row (rows are ordered by them, descending).
type cursor struct {
	at      time.Time
	account uint64
	line    string
}

func encodeCursor(c cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d|%d|%s", c.at.UnixMicro(), c.account, c.line)))
}

func decodeCursor(tok string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return cursor{}, badToken()
	}
	parts := strings.SplitN(string(b), "|", 3)
	if len(parts) != 3 {
		return cursor{}, badToken()
	}
	micros, err1 := strconv.ParseInt(parts[0], 10, 64)
	acct, err2 := strconv.ParseUint(parts[1], 10, 64)
	if err1 != nil || err2 != nil || parts[2] == "" {
		return cursor{}, badToken()
	}
	return cursor{at: time.UnixMicro(micros).UTC(), account: acct, line: parts[2]}, nil
}

// OrderLines returns a page of lines, newest first, the token of the next
// page ("" on the last) and how many lines match in all.
func (q *Querier) OrderLines(ctx context.Context, f LineFilter, pageSize int, pageToken string) ([]LineRow, string, int64, error) {
	instant := "l.paid_at"
	if f.Basis == OrderDate {
		instant = "l.ordered_at"
	}
	where := []string{"l.seller_id = ?", instant + " >= ?", instant + " < ?"}
	args := []any{f.SellerID, f.From, f.To}
	if len(f.Platforms) > 0 {
		sqlPart, a := platformIn("a.platform", f.Platforms)
		where = append(where, strings.TrimPrefix(sqlPart, " AND "))
		args = append(args, a...)
	}
	if f.AccountID != 0 {
		where = append(where, "l.account_id = ?")
		args = append(args, f.AccountID)
	}
	if f.Query != "" {
		pattern := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(f.Query)) + "%"
		where = append(where, "(LOWER(l.product_name) LIKE ? OR LOWER(l.option_name) LIKE ? OR LOWER(l.order_source_id) LIKE ? OR LOWER(l.source_id) LIKE ?)")
		args = append(args, pattern, pattern, pattern, pattern)
	}
	if len(f.Statuses) > 0 {
		where = append(where, "l.status IN ("+strings.TrimSuffix(strings.Repeat("?,", len(f.Statuses)), ",")+")")
		for _, s := range f.Statuses {
			args = append(args, s)
		}
	}
	claimOf := `SELECT 1 FROM order_line_claims c WHERE c.seller_id = l.seller_id AND c.account_id = l.account_id AND c.line_source_id = l.source_id`
	switch f.Claims {
	case AnyClaim:
		where = append(where, "EXISTS ("+claimOf+")")
	case CancelClaims:
		where = append(where, "EXISTS ("+claimOf+" AND c.claim_type = 'CANCEL')")
	case ReturnClaims:
		where = append(where, "EXISTS ("+claimOf+" AND c.claim_type = 'RETURN')")
	case ExchangeClaims:
		where = append(where, "EXISTS ("+claimOf+" AND c.claim_type = 'EXCHANGE')")
	case Refunded:
		where = append(where, "EXISTS ("+claimOf+" AND c.state = 'COMPLETED' AND c.refund_amount > 0)")
	case NoClaim:
		where = append(where, "NOT EXISTS ("+claimOf+")")
	}
	from := ` FROM order_lines l JOIN platform_accounts a ON a.seller_id = l.seller_id AND a.account_id = l.account_id WHERE ` + strings.Join(where, " AND ")

	var total int64
	if err := q.db.QueryRowContext(ctx, `SELECT COUNT(*)`+from, args...).Scan(&total); err != nil {
		return nil, "", 0, fmt.Errorf("counting order lines: %w", err)
	}
	pageArgs := append([]any(nil), args...)
	page := from
	if pageToken != "" {
		c, err := decodeCursor(pageToken)
		if err != nil {
			return nil, "", 0, err
		}
		page += ` AND (` + instant + ` < ? OR (` + instant + ` = ? AND (l.account_id < ? OR (l.account_id = ? AND l.source_id < ?))))`
		pageArgs = append(pageArgs, c.at, c.at, c.account, c.account, c.line)
	}
	page += ` ORDER BY ` + instant + ` DESC, l.account_id DESC, l.source_id DESC LIMIT ?`
	pageArgs = append(pageArgs, pageSize+1)
	rows, err := q.db.QueryContext(ctx, `SELECT a.platform, l.account_id, l.order_source_id, l.source_id, l.product_source_id, l.product_name,
  l.option_source_id, l.option_name, l.quantity, l.currency, l.status, l.raw_status, l.ordered_at, l.paid_at,
  COALESCE(DATE_FORMAT(l.paid_local_date, '%Y-%m-%d'), ''), l.unit_price * l.quantity + l.option_price, l.discount, l.paid_amount`+page, pageArgs...)
	if err != nil {
		return nil, "", 0, fmt.Errorf("listing order lines: %w", err)
	}
	defer rows.Close()
	var out []LineRow
	for rows.Next() {
		var r LineRow
		var ordered, paid sql.NullTime
		if err := rows.Scan(&r.Platform, &r.AccountID, &r.OrderSourceID, &r.SourceID, &r.ProductSourceID, &r.ProductName,
			&r.OptionSourceID, &r.OptionName, &r.Quantity, &r.Currency, &r.Status, &r.RawStatus, &ordered, &paid,
			&r.PaymentDate, &r.Gross, &r.Discount, &r.Paid); err != nil {
			return nil, "", 0, fmt.Errorf("listing order lines: %w", err)
		}
		if ordered.Valid {
			t := ordered.Time.UTC()
			r.OrderedAt = &t
		}
		if paid.Valid {
			t := paid.Time.UTC()
			r.PaidAt = &t
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", 0, fmt.Errorf("listing order lines: %w", err)
	}
	next := ""
	if len(out) > pageSize {
		out = out[:pageSize]
		last := out[len(out)-1]
		at := last.PaidAt
		if f.Basis == OrderDate {
			at = last.OrderedAt
		}
		next = encodeCursor(cursor{at: *at, account: last.AccountID, line: last.SourceID})
	}
	if err := q.attachClaims(ctx, f.SellerID, out); err != nil {
		return nil, "", 0, err
	}
	return out, next, total, nil
}

// attachClaims adds what completed claims did to each line, and whether a
// claim is still open.
func (q *Querier) attachClaims(ctx context.Context, sellerID uint64, lines []LineRow) error {
	if len(lines) == 0 {
		return nil
	}
	var conds []string
	args := []any{sellerID}
	idx := map[string]int{}
	for i, l := range lines {
		conds = append(conds, "(account_id = ? AND line_source_id = ?)")
		args = append(args, l.AccountID, l.SourceID)
		idx[strconv.FormatUint(l.AccountID, 10)+"\x00"+l.SourceID] = i
	}
	rows, err := q.db.QueryContext(ctx, `SELECT account_id, line_source_id, claim_type, state, quantity, refund_amount
FROM order_line_claims WHERE seller_id = ? AND (`+strings.Join(conds, " OR ")+`)`, args...)
	if err != nil {
		return fmt.Errorf("reading claims of order lines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var acct uint64
		var line, kind, state string
		var qty int32
		var refund int64
		if err := rows.Scan(&acct, &line, &kind, &state, &qty, &refund); err != nil {
			return fmt.Errorf("reading claims of order lines: %w", err)
		}
		r := &lines[idx[strconv.FormatUint(acct, 10)+"\x00"+line]]
		switch state {
		case "REQUESTED", "IN_PROGRESS":
			r.ClaimOpen = true
		case "COMPLETED":
			r.Refunded += refund
			switch kind {
			case "CANCEL":
				r.CancelledUnits += qty
			case "RETURN":
				r.ReturnedUnits += qty
			case "EXCHANGE":
				r.ExchangedUnits += qty
			}
		}
	}
	return rows.Err()
}
