package loader

import (
	"encoding/hex"
	"strconv"
	"time"
)

// row is one table row, in the column order of its table. The bulk path
// sends it as LOAD DATA text, the upsert path as statement arguments; a test
// holds the two to the same values.
//
// Orders, lines and claims, which make nearly all the rows of a load, are
// typed structs: one allocation a row instead of one a column, and text
// written without a type switch. That is what keeps a million-line load from
// spending its time in the allocator and the garbage collector.
type row interface {
	// appendText writes the row's fields, tab-separated, without the newline.
	appendText(b []byte) []byte
	// appendArgs appends the row's values: nil for NULL.
	appendArgs(args []any) []any
}

// values is a row held as its column values, for the tables a load writes
// few rows of.
type values []any

func (v values) appendText(b []byte) []byte {
	for i, x := range v {
		if i > 0 {
			b = append(b, '\t')
		}
		b = appendField(b, x)
	}
	return b
}

func (v values) appendArgs(args []any) []any { return append(args, v...) }

// In the typed rows a zero time.Time is NULL (a stored instant is never
// before year 1000), as are an empty local date and a nil buyer hash.

type orderRow struct {
	seller, account            uint64
	sourceID                   string
	orderedAt, paidAt          time.Time
	currency                   string
	shippingFee, paidAmount    int64
	buyerHash                  []byte
	status, rawStatus, channel string
	updatedAt                  time.Time
}

func (r *orderRow) appendText(b []byte) []byte {
	b = appendIDs(b, r.seller, r.account, r.sourceID)
	b = appendTime(b, r.orderedAt)
	b = appendTime(b, r.paidAt)
	b = appendText(b, r.currency)
	b = appendInt(b, r.shippingFee)
	b = appendInt(b, r.paidAmount)
	b = append(b, '\t')
	if r.buyerHash == nil {
		b = append(b, `\N`...)
	} else {
		b = hex.AppendEncode(b, r.buyerHash)
	}
	b = appendText(b, r.status)
	b = appendText(b, r.rawStatus)
	b = appendText(b, r.channel)
	return appendTime(b, r.updatedAt)
}

func (r *orderRow) appendArgs(a []any) []any {
	var hash any
	if r.buyerHash != nil {
		hash = r.buyerHash
	}
	return append(a, r.seller, r.account, r.sourceID, nullTime(r.orderedAt), nullTime(r.paidAt), r.currency,
		r.shippingFee, r.paidAmount, hash, r.status, r.rawStatus, r.channel, nullTime(r.updatedAt))
}

type lineRow struct {
	seller, account                              uint64
	sourceID, orderSourceID, productID, optionID string
	productName, optionName                      string
	quantity                                     int32
	currency                                     string
	unitPrice, optionPrice, discount, paidAmount int64
	status, rawStatus                            string
	orderedAt, paidAt                            time.Time
	paidLocalDate                                string
}

func (r *lineRow) appendText(b []byte) []byte {
	b = appendIDs(b, r.seller, r.account, r.sourceID)
	b = appendText(b, r.orderSourceID)
	b = appendText(b, r.productID)
	b = appendText(b, r.optionID)
	b = appendText(b, r.productName)
	b = appendText(b, r.optionName)
	b = appendInt(b, int64(r.quantity))
	b = appendText(b, r.currency)
	b = appendInt(b, r.unitPrice)
	b = appendInt(b, r.optionPrice)
	b = appendInt(b, r.discount)
	b = appendInt(b, r.paidAmount)
	b = appendText(b, r.status)
	b = appendText(b, r.rawStatus)
	b = appendTime(b, r.orderedAt)
	b = appendTime(b, r.paidAt)
	return appendDate(b, r.paidLocalDate)
}

func (r *lineRow) appendArgs(a []any) []any {
	return append(a, r.seller, r.account, r.sourceID, r.orderSourceID, r.productID, r.optionID,
		r.productName, r.optionName, r.quantity, r.currency, r.unitPrice, r.optionPrice, r.discount, r.paidAmount,
		r.status, r.rawStatus, nullTime(r.orderedAt), nullTime(r.paidAt), nullDate(r.paidLocalDate))
}

type claimRow struct {
	seller, account          uint64
	lineSourceID, sourceID   string
	claimType, state         string
	quantity                 int32
	currency                 string
	refundAmount             int64
	rawStatus                string
	requestedAt, completedAt time.Time
	completedLocalDate       string
}

func (r *claimRow) appendText(b []byte) []byte {
	b = appendIDs(b, r.seller, r.account, r.lineSourceID)
	b = appendText(b, r.sourceID)
	b = appendText(b, r.claimType)
	b = appendText(b, r.state)
	b = appendInt(b, int64(r.quantity))
	b = appendText(b, r.currency)
	b = appendInt(b, r.refundAmount)
	b = appendText(b, r.rawStatus)
	b = appendTime(b, r.requestedAt)
	b = appendTime(b, r.completedAt)
	return appendDate(b, r.completedLocalDate)
}

func (r *claimRow) appendArgs(a []any) []any {
	return append(a, r.seller, r.account, r.lineSourceID, r.sourceID, r.claimType, r.state, r.quantity,
		r.currency, r.refundAmount, r.rawStatus, nullTime(r.requestedAt), nullTime(r.completedAt), nullDate(r.completedLocalDate))
}

// appendIDs writes the three leading columns every row starts with.
func appendIDs(b []byte, seller, account uint64, sourceID string) []byte {
	b = strconv.AppendUint(b, seller, 10)
	b = append(b, '\t')
	b = strconv.AppendUint(b, account, 10)
	b = append(b, '\t')
	return appendEscaped(b, sourceID)
}

// The field writers below start with the tab that separates the field from
// the one before.

func appendText(b []byte, s string) []byte { return appendEscaped(append(b, '\t'), s) }

func appendInt(b []byte, n int64) []byte { return strconv.AppendInt(append(b, '\t'), n, 10) }

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '\t')
	if t.IsZero() {
		return append(b, `\N`...)
	}
	return appendDatetime(b, t.UTC())
}

func appendDate(b []byte, d string) []byte {
	if d == "" {
		return append(b, "\t\\N"...)
	}
	return appendText(b, d)
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func nullDate(d string) any {
	if d == "" {
		return nil
	}
	return d
}
