package sandbox

import (
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"
)

// Cafe24's usage quota (cafe24.md §2, 2025): besides the leaky bucket, each
// mall has a quota of calls and of processing time per period. The doc gives
// no sizes; a note citing Cafe24's guide gives 3,000 calls and 600 seconds
// of processing per 10 minutes (L-M), which the sandbox uses.
// X-Cafe24-Call-Usage and X-Cafe24-Time-Usage carry the percentage used on
// every answer; X-Cafe24-Call-Remain and X-Cafe24-Time-Remain, the seconds to
// wait, appear only at 100% or more, when the whole mall gets 429, and a
// call made while blocked lengthens the block.
const (
	quotaPeriod  = 10 * time.Minute
	quotaCalls   = 3000
	quotaTime    = 600 * time.Second
	blockPenalty = time.Second
)

type usageQuota struct {
	mu      sync.Mutex
	now     func() time.Time
	calls   []time.Time // call instants within the period, oldest first
	spent   []spentTime
	blocked time.Time // blocked until
}

type spentTime struct {
	at time.Time
	d  time.Duration
}

func newUsageQuota(now func() time.Time) *usageQuota { return &usageQuota{now: now} }

func (q *usageQuota) pruneLocked(now time.Time) {
	i := 0
	for i < len(q.calls) && now.Sub(q.calls[i]) >= quotaPeriod {
		i++
	}
	q.calls = q.calls[i:]
	j := 0
	for j < len(q.spent) && now.Sub(q.spent[j].at) >= quotaPeriod {
		j++
	}
	q.spent = q.spent[j:]
}

// admit counts a call. It reports the usage percentages and, when the mall
// is blocked, how long is left.
func (q *usageQuota) admit() (callPct, timePct int, remain time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	q.pruneLocked(now)
	if now.Before(q.blocked) {
		q.blocked = q.blocked.Add(blockPenalty)
		return 100, 100, q.blocked.Sub(now)
	}
	q.calls = append(q.calls, now)
	var spent time.Duration
	for _, s := range q.spent {
		spent += s.d
	}
	callPct = len(q.calls) * 100 / quotaCalls
	timePct = int(spent * 100 / quotaTime)
	if callPct >= 100 || timePct >= 100 {
		// Blocked until the oldest call leaves the period.
		q.blocked = q.calls[0].Add(quotaPeriod)
		return callPct, timePct, q.blocked.Sub(now)
	}
	return callPct, timePct, 0
}

// took records a call's processing time.
func (q *usageQuota) took(d time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.spent = append(q.spent, spentTime{at: q.now(), d: d})
}

// block uses the quota up for d, as other apps of the mall could.
func (q *usageQuota) block(d time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.blocked = q.now().Add(d)
}

func setUsageHeaders(h http.Header, callPct, timePct int, remain time.Duration) {
	h.Set("X-Cafe24-Call-Usage", fmt.Sprint(min(callPct, 100)))
	h.Set("X-Cafe24-Time-Usage", fmt.Sprint(min(timePct, 100)))
	if remain > 0 {
		secs := fmt.Sprint(int(math.Ceil(remain.Seconds())))
		h.Set("X-Cafe24-Call-Remain", secs)
		h.Set("X-Cafe24-Time-Remain", secs)
	}
}

// fill records calls other apps of the mall made just now.
func (q *usageQuota) fill(calls int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	for range calls {
		q.calls = append(q.calls, now)
	}
}

// FillQuota records calls other apps of the mall made just now, as many as
// the usage quota's percentage pct (0..100) stands for.
func (s *Sandbox) FillQuota(mallID string, pct int) error {
	m, ok := s.malls[mallID]
	if !ok {
		return fmt.Errorf("sandbox: no mall %s", mallID)
	}
	if pct < 0 || pct > 100 {
		return fmt.Errorf("sandbox: quota percentage %d must be from 0 to 100", pct)
	}
	m.quota.fill(quotaCalls * pct / 100)
	return nil
}

// putQuota serves PUT /_sandbox/malls/{mall}/quota {"calls_percent":n}.
func (s *Sandbox) putQuota(w http.ResponseWriter, r *http.Request, m *mall) {
	var req struct {
		CallsPercent int `json:"calls_percent"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if err := s.FillQuota(m.cfg.ID, req.CallsPercent); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, req)
}
