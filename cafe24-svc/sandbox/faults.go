package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Fault switches (the platform misbehaving the way cafe24.md says it can).
// Each mall has a queue: every Admin call takes the next fault, if any, and
// a fault may wait its turn behind After clean calls, so that it strikes in
// the middle of a run.
type Fault struct {
	// After is the number of Admin calls that pass untouched first.
	After int
	// Count repeats the fault on that many calls in a row (default 1).
	Count int
	// Status answers the call with this status and the error envelope: 429
	// (a burst, as if another app drained the shared bucket), 500, 503, 504,
	// or 401 (the access token rejected).
	Status int
	// Delay holds the answer back this long (slow responses), or until the
	// client gives up.
	Delay time.Duration
	// Action changes the platform's state just before the call:
	//   expire_access_tokens   every access token of the mall expires now
	//                          (the token dies mid-run);
	//   revoke_refresh_tokens  every refresh token of the mall dies (spent by
	//                          another writer, or the app was reinstalled);
	//   exhaust_quota          the mall's usage quota is used up for
	//                          QuotaSeconds (cafe24.md §2: 429 with
	//                          X-Cafe24-Call-Remain);
	//   retire_version         Version (default DefaultAPIVersion) is no
	//                          longer available (cafe24.md §1: 400).
	Action       string
	QuotaSeconds int
	Version      string
}

const (
	actionExpireAccess  = "expire_access_tokens"
	actionRevokeRefresh = "revoke_refresh_tokens"
	actionExhaustQuota  = "exhaust_quota"
	actionRetireVersion = "retire_version"
)

// faultStatuses are the failures that can be injected (cafe24.md §3).
var faultStatuses = map[int]bool{
	http.StatusUnauthorized: true, http.StatusTooManyRequests: true, http.StatusInternalServerError: true,
	http.StatusServiceUnavailable: true, http.StatusGatewayTimeout: true,
}

func (f *Fault) check() error {
	if f.Count == 0 {
		f.Count = 1
	}
	kinds := 0
	if f.Status != 0 {
		kinds++
		if !faultStatuses[f.Status] {
			return fmt.Errorf("status must be one of 401, 429, 500, 503, 504")
		}
	}
	if f.Delay != 0 {
		kinds++
		if f.Delay < 0 || f.Delay > 10*time.Minute {
			return fmt.Errorf("delay must be from 0 to 10m")
		}
	}
	if f.Action != "" {
		kinds++
		switch f.Action {
		case actionExpireAccess, actionRevokeRefresh, actionRetireVersion:
		case actionExhaustQuota:
			if f.QuotaSeconds < 1 || f.QuotaSeconds > 3600 {
				return fmt.Errorf("exhaust_quota needs quota_seconds from 1 to 3600")
			}
		default:
			return fmt.Errorf("action %q is unknown", f.Action)
		}
	}
	switch {
	case kinds != 1:
		return fmt.Errorf("give exactly one of status, delay or action")
	case f.After < 0 || f.After > 100000 || f.Count < 1 || f.Count > 1000:
		return fmt.Errorf("after must be from 0 to 100000 and count from 1 to 1000")
	}
	return nil
}

// faultQueue holds a mall's pending faults, one entry per Admin call.
type faultQueue struct {
	mu    sync.Mutex
	calls []*Fault // nil entries are clean calls
}

// add queues f behind the faults already pending.
func (q *faultQueue) add(f Fault) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for range f.After {
		q.calls = append(q.calls, nil)
	}
	for range f.Count {
		ff := f
		q.calls = append(q.calls, &ff)
	}
}

func (q *faultQueue) clear() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls = nil
}

// take returns the fault of this call, or nil.
func (q *faultQueue) take() *Fault {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.calls) == 0 {
		return nil
	}
	f := q.calls[0]
	q.calls = q.calls[1:]
	return f
}

func (q *faultQueue) pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, f := range q.calls {
		if f != nil {
			n++
		}
	}
	return n
}

func faultMessage(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "access_token time expired."
	case http.StatusTooManyRequests:
		return "Too Many Requests. The API call limit has been exceeded."
	case http.StatusServiceUnavailable:
		return "Service Unavailable."
	case http.StatusGatewayTimeout:
		return "Gateway Timeout."
	default:
		return "Internal Server Error."
	}
}

// applyFault runs the state-changing and slowing part of f before the call
// is served. It reports false if the client went away while it waited.
func (s *Sandbox) applyFault(ctx context.Context, m *mall, f *Fault) bool {
	switch f.Action {
	case actionExpireAccess:
		s.tokens.expireAccess(m.cfg.ID, s.Now())
	case actionRevokeRefresh:
		s.tokens.revokeRefresh(m.cfg.ID)
	case actionExhaustQuota:
		m.quota.block(time.Duration(f.QuotaSeconds) * time.Second)
	case actionRetireVersion:
		v := f.Version
		if v == "" {
			v = DefaultAPIVersion
		}
		s.retireVersion(v)
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// InjectFault queues a fault for the mall's coming Admin calls.
func (s *Sandbox) InjectFault(mallID string, f Fault) error {
	m, ok := s.malls[mallID]
	if !ok {
		return fmt.Errorf("sandbox: no mall %s", mallID)
	}
	if err := f.check(); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	m.faults.add(f)
	return nil
}

// FaultsPending counts the mall's faults that have not struck yet.
func (s *Sandbox) FaultsPending(mallID string) int {
	if m, ok := s.malls[mallID]; ok {
		return m.faults.pending()
	}
	return 0
}

// InjectFaults makes the mall's next count Admin calls fail with status.
func (s *Sandbox) InjectFaults(mallID string, status, count int) error {
	return s.InjectFault(mallID, Fault{Status: status, Count: count})
}

func (s *Sandbox) addFaults(w http.ResponseWriter, r *http.Request, m *mall) {
	var req struct {
		After        int    `json:"after"`
		Count        int    `json:"count"`
		Status       int    `json:"status"`
		Delay        string `json:"delay"`
		Action       string `json:"action"`
		QuotaSeconds int    `json:"quota_seconds"`
		Version      string `json:"version"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	f := Fault{After: req.After, Count: req.Count, Status: req.Status, Action: req.Action, QuotaSeconds: req.QuotaSeconds, Version: req.Version}
	if req.Delay != "" {
		d, err := time.ParseDuration(req.Delay)
		if err != nil {
			writeError(w, http.StatusBadRequest, "delay must be a duration, e.g. 3s")
			return
		}
		f.Delay = d
	}
	if err := f.check(); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	m.faults.add(f)
	writeJSON(w, http.StatusOK, map[string]int{"faults_pending": m.faults.pending()})
}

// versions are the API versions the sandbox serves; retiring one answers
// its calls with 400 (cafe24.md §1).
type versions struct {
	mu        sync.Mutex
	available []string
}

func (v *versions) has(x string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Contains(v.available, x)
}

func (s *Sandbox) retireVersion(x string) {
	s.versions.mu.Lock()
	defer s.versions.mu.Unlock()
	if len(s.versions.available) > 1 {
		s.versions.available = slices.DeleteFunc(s.versions.available, func(v string) bool { return v == x })
	}
}

// SetAPIVersions replaces the API versions served, oldest first.
func (s *Sandbox) SetAPIVersions(available []string) error {
	if len(available) == 0 {
		return fmt.Errorf("sandbox: at least one API version must be available")
	}
	for _, v := range available {
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return fmt.Errorf("sandbox: API version %q must look like 2025-12-01", v)
		}
	}
	s.versions.mu.Lock()
	defer s.versions.mu.Unlock()
	s.versions.available = slices.Clone(available)
	return nil
}

func (s *Sandbox) putVersions(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Available []string `json:"available"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if err := s.SetAPIVersions(req.Available); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, req)
}
