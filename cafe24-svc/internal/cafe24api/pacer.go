package cafe24api

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"hlog.dev/cafe24-svc/internal/clock"
)

// Cafe24's leaky bucket drains 2 calls a second (cafe24.md §2). The pacer
// keeps the bucket at most limit-headroom full, leaving room for the mall's
// other apps, which share the bucket.
const (
	platformDrainPerSecond = 2.0
	bucketHeadroom         = 10
)

// Budget is the run's own rate budget (collector.v1.RateBudget).
type Budget struct {
	RequestsPerSecond float64
	Burst             int
}

// DefaultBudget is what a run assumes when ingest sends none: the platform's
// drain rate, with a burst well inside its bucket.
var DefaultBudget = Budget{RequestsPerSecond: 2, Burst: 10}

// pacer decides how long to wait before each call: long enough to stay inside
// the run's budget (a token bucket) and to keep the platform's bucket, as its
// X-Api-Call-Limit header last reported it, from filling up.
type pacer struct {
	clock clock.Clock

	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	filled time.Time

	known bool
	used  float64 // calls in the platform bucket at seen
	limit float64
	seen  time.Time
}

func newPacer(c clock.Clock, b Budget) *pacer {
	if b.RequestsPerSecond <= 0 {
		b.RequestsPerSecond = DefaultBudget.RequestsPerSecond
	}
	if b.Burst <= 0 {
		b.Burst = DefaultBudget.Burst
	}
	return &pacer{clock: c, rate: b.RequestsPerSecond, burst: float64(b.Burst), tokens: float64(b.Burst), filled: c.Now()}
}

// delayLocked is how long the next call must wait from now.
func (p *pacer) delayLocked(now time.Time) time.Duration {
	if el := now.Sub(p.filled).Seconds(); el > 0 {
		p.tokens = min(p.burst, p.tokens+el*p.rate)
	}
	p.filled = now
	var wait float64
	if p.tokens < 1 {
		wait = (1 - p.tokens) / p.rate
	}
	if p.known {
		level := max(0, p.used-now.Sub(p.seen).Seconds()*platformDrainPerSecond)
		if target := max(1, p.limit-bucketHeadroom); level+1 > target {
			wait = max(wait, (level+1-target)/platformDrainPerSecond)
		}
	}
	return time.Duration(wait * float64(time.Second))
}

// wait blocks until the next call may go, reports any wait to onWait, and
// takes the call from the budget.
func (p *pacer) wait(ctx context.Context, onWait func(time.Duration)) error {
	p.mu.Lock()
	d := p.delayLocked(p.clock.Now())
	p.mu.Unlock()
	if d > 0 {
		if onWait != nil {
			onWait(d)
		}
		if err := p.clock.Sleep(ctx, d); err != nil {
			return err
		}
	}
	p.mu.Lock()
	p.delayLocked(p.clock.Now())
	p.tokens--
	p.mu.Unlock()
	return nil
}

// observe records the X-Api-Call-Limit header, "used/limit".
func (p *pacer) observe(header string) {
	used, limit, ok := parseCallLimit(header)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.known, p.used, p.limit, p.seen = true, used, limit, p.clock.Now()
}

// full records that the platform's bucket is full (a 429).
func (p *pacer) full() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.known {
		p.limit = 40
	}
	p.known, p.used, p.seen = true, p.limit, p.clock.Now()
}

// drainTime is how long until the platform's bucket, as last seen, drains
// below the pacer's target.
func (p *pacer) drainTime() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.known {
		return 0
	}
	level := max(0, p.used-p.clock.Now().Sub(p.seen).Seconds()*platformDrainPerSecond)
	target := max(1, p.limit-bucketHeadroom)
	if level+1 <= target {
		return 0
	}
	return time.Duration((level + 1 - target) / platformDrainPerSecond * float64(time.Second))
}

func parseCallLimit(h string) (used, limit float64, ok bool) {
	u, l, found := strings.Cut(strings.TrimSpace(h), "/")
	if !found {
		return 0, 0, false
	}
	un, err1 := strconv.Atoi(strings.TrimSpace(u))
	ln, err2 := strconv.Atoi(strings.TrimSpace(l))
	if err1 != nil || err2 != nil || un < 0 || ln <= 0 || un > ln*2 {
		return 0, 0, false
	}
	return float64(un), float64(ln), true
}
