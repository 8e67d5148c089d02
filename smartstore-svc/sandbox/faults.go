package sandbox

import (
	"fmt"
	"net/http"
	"sync"
)

// Fault kinds that can be switched on (smartstore.md §1-§2).
const (
	FaultRateLimit    = "rate_limit"     // 429 GW.RATE_LIMIT: a 429 storm
	FaultQuotaLimit   = "quota_limit"    // 429 GW.QUOTA_LIMIT with GNCP-GW-Quota-* headers
	FaultProxy        = "500"            // 500 GW.PROXY.01
	FaultBlock        = "503"            // 503 GW.BLOCK.01
	FaultTimeout      = "504"            // 504 GW.TIMEOUT.01
	FaultRevokeTokens = "revoke_token"   // every issued token dies; new ones can be had
	FaultRevokeApp    = "revoke_app"     // tokens die and none are issued until cleared
	FaultIPNotAllowed = "ip_not_allowed" // 403 GW.IP_NOT_ALLOWED on every call until cleared
)

var faultKinds = map[string]bool{
	FaultRateLimit: true, FaultQuotaLimit: true, FaultProxy: true, FaultBlock: true, FaultTimeout: true,
	FaultRevokeTokens: true, FaultRevokeApp: true, FaultIPNotAllowed: true,
}

// Fault is one switched-on failure: after After more API calls succeed, the
// next Count calls fail. Revocations and the IP block happen once and last
// until cleared (Count is ignored).
type Fault struct {
	Kind  string `json:"kind"`
	After int    `json:"after,omitempty"`
	Count int    `json:"count,omitempty"`
}

type faults struct {
	mu      sync.Mutex
	queue   []Fault
	blocked bool
}

func (f *faults) add(ft Fault) error {
	if !faultKinds[ft.Kind] {
		return fmt.Errorf("unknown fault kind %q", ft.Kind)
	}
	if ft.After < 0 || ft.Count < 0 || ft.Count > 10000 {
		return fmt.Errorf("after must not be negative and count must be from 0 to 10000")
	}
	if ft.Count == 0 {
		ft.Count = 1
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue = append(f.queue, ft)
	return nil
}

func (f *faults) clear(ts *tokenStore) {
	f.mu.Lock()
	f.queue, f.blocked = nil, false
	f.mu.Unlock()
	ts.setAppRevoked(false)
}

func (f *faults) ipBlocked() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.blocked
}

func (f *faults) pending() []Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Fault{}, f.queue...)
}

// next takes the fault this call meets, if any.
func (f *faults) next() (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queue) == 0 {
		return "", false
	}
	head := &f.queue[0]
	if head.After > 0 {
		head.After--
		return "", false
	}
	kind := head.Kind
	head.Count--
	if head.Count <= 0 || kind == FaultRevokeTokens || kind == FaultRevokeApp || kind == FaultIPNotAllowed {
		f.queue = f.queue[1:]
	}
	if kind == FaultIPNotAllowed {
		f.blocked = true
	}
	return kind, true
}

// inject answers the call with the fault it meets and reports whether it did.
// Revoking tokens does not answer: the call goes on to meet the dead token.
func (f *faults) inject(c *call, ts *tokenStore) bool {
	kind, ok := f.next()
	if !ok {
		return false
	}
	switch kind {
	case FaultRateLimit:
		c.gatewayError(http.StatusTooManyRequests, "GW.RATE_LIMIT", "요청이 많아 서비스를 일시적으로 사용할 수 없습니다. (rate limit exceeded)")
	case FaultQuotaLimit:
		h := c.w.Header()
		h.Set("GNCP-GW-Quota-Period", "SECONDS")
		h.Set("GNCP-GW-Quota-Limit", "2")
		h.Set("GNCP-GW-Quota-Remaining", "0")
		c.gatewayError(http.StatusTooManyRequests, "GW.QUOTA_LIMIT", "할당량을 초과했습니다. (quota exceeded)")
	case FaultProxy:
		c.gatewayError(http.StatusInternalServerError, "GW.PROXY.01", "일시적인 오류가 발생했습니다. (proxy error)")
	case FaultBlock:
		c.gatewayError(http.StatusServiceUnavailable, "GW.BLOCK.01", "서비스를 일시적으로 사용할 수 없습니다. (blocked)")
	case FaultTimeout:
		c.gatewayError(http.StatusGatewayTimeout, "GW.TIMEOUT.01", "응답 시간이 초과되었습니다. (timeout)")
	case FaultIPNotAllowed:
		c.gatewayError(http.StatusForbidden, "GW.IP_NOT_ALLOWED", "허용되지 않은 IP입니다. (IP not allowed)")
	case FaultRevokeTokens:
		ts.revokeAll()
		return false
	case FaultRevokeApp:
		ts.setAppRevoked(true)
		return false
	}
	return true
}
