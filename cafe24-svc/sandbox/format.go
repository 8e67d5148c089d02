package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// kst is Korea Standard Time, the zone of every Cafe24 date. A fixed zone:
// Korea has kept UTC+9 without daylight saving since 1988.
var kst = time.FixedZone("KST", 9*60*60)

// Cafe24's date shapes (cafe24.md §1, §4).
const (
	// Order-level dates: ISO 8601 with the +09:00 offset.
	orderDateLayout = "2006-01-02T15:04:05-07:00"
	// Item-level dates: the doc's item examples show "2017-07-10 15:55:51",
	// with no T and no offset, which conflicts with the ISO-with-offset rule
	// for orders (cafe24.md §4, M). The sandbox follows the item examples, so
	// a collector must read both shapes; both mean KST.
	itemDateLayout = "2006-01-02 15:04:05"
	// Token times: milliseconds, no offset, meaning KST (cafe24.md §1).
	tokenTimeLayout = "2006-01-02T15:04:05.000"
	// Query parameters: a date, or a date and time, in KST (cafe24.md §4).
	paramDateLayout     = "2006-01-02"
	paramDateTimeLayout = "2006-01-02 15:04:05"
)

func orderDate(t time.Time) string { return t.In(kst).Format(orderDateLayout) }

func orderDatePtr(t time.Time, ok bool) *string {
	if !ok || t.IsZero() {
		return nil
	}
	s := orderDate(t)
	return &s
}

func itemDatePtr(t time.Time, ok bool) *string {
	if !ok || t.IsZero() {
		return nil
	}
	s := t.In(kst).Format(itemDateLayout)
	return &s
}

func tokenTime(t time.Time) string { return t.In(kst).Format(tokenTimeLayout) }

// money renders minor units the way Cafe24 renders amounts: a string with
// two decimals, "29500.00" (cafe24.md §4). The sandbox serves KRW malls only,
// whose minor unit is the won itself.
func money(minor int64) string { return strconv.FormatInt(minor, 10) + ".00" }

func moneyPtr(minor int64) *string {
	s := money(minor)
	return &s
}

// errorBody is the Admin API error envelope (cafe24.md §3).
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, errorBody{Error: errorDetail{Code: status, Message: message}})
}

// oauthError is the token endpoint's OAuth-style error (cafe24.md §1).
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, oauthError{Error: code, Description: description})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // links carry & in their queries, verbatim
	if err := enc.Encode(body); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		fmt.Fprintf(&buf, `{"error":{"code":500,"message":%q}}`+"\n", "encoding response: "+err.Error())
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
