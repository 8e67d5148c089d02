package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"
)

// kst is Korea Standard Time, the zone of every Commerce API date. Korea has
// kept UTC+9 without daylight saving since 1988.
var kst = time.FixedZone("KST", 9*60*60)

// dateLayout is the API's date-time shape, yyyy-MM-dd'T'HH:mm:ss.SSSXXX,
// e.g. 2022-04-11T15:21:44.000+09:00 (smartstore.md §3).
const dateLayout = "2006-01-02T15:04:05.000-07:00"

func naverTime(t time.Time) string { return t.In(kst).Format(dateLayout) }

func naverTimePtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := naverTime(t)
	return &s
}

// parseNaverTime reads a query date. Milliseconds are required by the real
// API according to blogs (smartstore.md §3, L); the sandbox accepts the
// documented shape and RFC 3339 with or without fractions.
func parseNaverTime(s string) (time.Time, bool) {
	for _, l := range []string{dateLayout, time.RFC3339Nano} {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// call is one platform request being answered.
type call struct {
	s     *Sandbox
	w     *gatewayWriter
	r     *http.Request
	trace string
}

func (c *call) timestamp() string { return naverTime(c.s.Now()) }

func (c *call) json(status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(c.w, err.Error(), http.StatusInternalServerError)
		return
	}
	c.w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	c.w.WriteHeader(status)
	c.w.Write(buf.Bytes())
}

// gatewayError is the API gateway's error body (smartstore.md §1-§2):
// {"code":"GW.AUTHN","message","timestamp","traceId"}.
func (c *call) gatewayError(status int, code, message string) {
	c.json(status, map[string]string{"code": code, "message": message, "timestamp": c.timestamp(), "traceId": c.trace})
}

// invalidInput names a rejected parameter (smartstore.md §1, §5).
type invalidInput struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Message string `json:"message"`
}

// payOrderError is the pay-order APIs' error body: a string code such as
// "4000" or "104139", with the trace id (smartstore.md §3).
func (c *call) payOrderError(status int, code, message string, inputs ...invalidInput) {
	body := map[string]any{"code": code, "message": message, "timestamp": c.timestamp(), "traceId": c.trace}
	if len(inputs) > 0 {
		body["invalidInputs"] = inputs
	}
	c.json(status, body)
}

// productError is the product and category APIs' error body (smartstore.md §5):
// {code:"BAD_REQUEST", message, invalidInputs:[{name,type,message}], timestamp}.
func (c *call) productError(status int, code, message string, inputs ...invalidInput) {
	if inputs == nil {
		inputs = []invalidInput{}
	}
	c.json(status, map[string]any{"code": code, "message": message, "invalidInputs": inputs, "timestamp": c.timestamp(), "traceId": c.trace})
}

// tokenError is the token endpoint's error body (smartstore.md §1):
// {code,message,timestamp,invalidInputs[],data}.
func (c *call) tokenError(status int, code, message string, inputs ...invalidInput) {
	if inputs == nil {
		inputs = []invalidInput{}
	}
	c.json(status, map[string]any{"code": code, "message": message, "timestamp": c.timestamp(), "traceId": c.trace, "invalidInputs": inputs, "data": nil})
}

// payOrderOK wraps data the way pay-order responses are wrapped.
func (c *call) payOrderOK(data any) {
	c.json(http.StatusOK, map[string]any{"timestamp": c.timestamp(), "traceId": c.trace, "data": data})
}
