package naverapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// APIError is an answer the Commerce API gave with an error status. Its body
// is one of the documented shapes (smartstore.md §1-§5): the gateway's
// {code,message,timestamp,traceId}, the pay-order APIs' string codes, or the
// product APIs' {code,message,invalidInputs}.
type APIError struct {
	Status  int
	Code    string
	Message string
	TraceID string
	Inputs  []string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "naver commerce api %d", e.Status)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if len(e.Inputs) > 0 {
		fmt.Fprintf(&b, " [%s]", strings.Join(e.Inputs, "; "))
	}
	if e.TraceID != "" {
		fmt.Fprintf(&b, " (trace %s)", e.TraceID)
	}
	return b.String()
}

// ParseError reads an error body. A body that is not JSON still gives an
// APIError with the status and a short excerpt.
func ParseError(status int, traceHeader string, body []byte) *APIError {
	var raw struct {
		Code          json.RawMessage `json:"code"`
		Message       string          `json:"message"`
		TraceID       string          `json:"traceId"`
		InvalidInputs []struct {
			Name    string `json:"name"`
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"invalidInputs"`
	}
	e := &APIError{Status: status, TraceID: traceHeader}
	if err := json.Unmarshal(body, &raw); err != nil {
		excerpt := strings.TrimSpace(string(body))
		if len(excerpt) > 200 {
			excerpt = excerpt[:200]
		}
		e.Message = excerpt
		return e
	}
	// Codes are strings ("4000", "GW.AUTHN"); tolerate a number.
	var code string
	if json.Unmarshal(raw.Code, &code) != nil {
		code = strings.Trim(string(raw.Code), `"`)
	}
	e.Code, e.Message = code, raw.Message
	if raw.TraceID != "" {
		e.TraceID = raw.TraceID
	}
	for _, in := range raw.InvalidInputs {
		e.Inputs = append(e.Inputs, strings.TrimSpace(in.Name+" "+in.Type+" "+in.Message))
	}
	return e
}

// RetriesExhaustedError ends a call the platform kept failing transiently.
type RetriesExhaustedError struct {
	Attempts int
	// RateLimited: the last failures were 429s; Quota: GW.QUOTA_LIMIT.
	RateLimited, Quota bool
	// RetryAfter suggests when to try again, when known.
	RetryAfter time.Duration
	Last       error
}

func (e *RetriesExhaustedError) Error() string {
	return fmt.Sprintf("gave up after %d attempts: %v", e.Attempts, e.Last)
}

func (e *RetriesExhaustedError) Unwrap() error { return e.Last }

func apiCode(err error) (int, string) {
	var api *APIError
	if errors.As(err, &api) {
		return api.Status, api.Code
	}
	return 0, ""
}

// IsIPNotAllowed: the application's allowed-IP list lacks our address.
func IsIPNotAllowed(err error) bool {
	status, code := apiCode(err)
	return status == 403 && code == "GW.IP_NOT_ALLOWED"
}

// IsUnauthorized: the bearer token was refused (GW.AUTHN).
func IsUnauthorized(err error) bool {
	status, _ := apiCode(err)
	return status == 401
}

// TokenError is a refused token request: the client id, secret or account
// id are wrong, or the application was revoked.
type TokenError struct{ Err *APIError }

func (e *TokenError) Error() string { return "issuing an access token: " + e.Err.Error() }
func (e *TokenError) Unwrap() error { return e.Err }
