package cafe24api

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"hlog.dev/proto/kit/clock"
)

// Cafe24's leaky bucket drains 2 calls a second (cafe24.md §2). The bucket
// is the mall's, shared with its other apps. While X-Api-Call-Limit shows
// only our own calls, the pacer fills the bucket to the brim; once it shows
// calls we did not make, it keeps sharedHeadroom free for the others (and
// for their calls that land between our reading and our call) until they
// have been quiet for sharedQuiet.
const (
	platformDrainPerSecond = 2.0
	sharedHeadroom         = 10
	sharedQuiet            = time.Minute
	// latencyMargin is 100 ms of drain, in calls.
	latencyMargin = 0.2
)

// Budget is the run's own rate budget (collector.v1.RateBudget).
type Budget struct {
	RequestsPerSecond float64
	Burst             int
}

// DefaultBudget is what a run assumes when ingest sends none: the platform's
// own limit, a bucket of 40 draining 2 a second; the pacer keeps room for
// other apps once the bucket shows them.
var DefaultBudget = Budget{RequestsPerSecond: 2, Burst: 40}

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
	// foreign is when the header last showed calls that were not ours.
	foreign time.Time
	// nearQuota is set while the usage quota is almost used up; last is
	// when the last call went.
	nearQuota bool
	last      time.Time
}

// Usage quota (cafe24.md §2): once X-Cafe24-Call-Usage or -Time-Usage
// reaches quotaSlowPercent, calls are spaced quotaSlowInterval apart, so a
// run does not push the whole mall into a block (at 100% every app of the
// mall gets 429, and calling while blocked lengthens the block).
const (
	quotaSlowPercent  = 90
	quotaSlowInterval = 2 * time.Second
)

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
		if target := p.targetLocked(now); level+1 > target {
			wait = max(wait, (level+1-target)/platformDrainPerSecond)
		}
	}
	if p.nearQuota && !p.last.IsZero() {
		wait = max(wait, (quotaSlowInterval - now.Sub(p.last)).Seconds())
	}
	return time.Duration(wait * float64(time.Second))
}

// observeUsage records the usage-quota headers, percentages.
func (p *pacer) observeUsage(calls, processing string) {
	near := false
	for _, h := range []string{calls, processing} {
		if pct, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && pct >= quotaSlowPercent {
			near = true
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nearQuota = near
}

// targetLocked is the bucket level the pacer lets a call reach. Alone it
// keeps latencyMargin free: the call reaches the platform a little after it
// is sent, and the reading it is timed from was dated at the send.
func (p *pacer) targetLocked(now time.Time) float64 {
	if !p.foreign.IsZero() && now.Sub(p.foreign) < sharedQuiet {
		return max(1, p.limit-sharedHeadroom)
	}
	return p.limit - latencyMargin
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
	p.last = p.clock.Now()
	p.delayLocked(p.last)
	p.tokens--
	p.mu.Unlock()
	return nil
}

// observe records the X-Api-Call-Limit header, "used/limit", of a call
// sent at sent.
//
// The platform counted the call when it arrived, so the bucket has drained
// since then, not since the answer came: the reading is dated when the call
// was sent, and the answer's processing time counts as drain.
func (p *pacer) observe(header string, sent time.Time) {
	used, limit, ok := parseCallLimit(header)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := sent
	// Our call added one to what was left of the last reading; the header
	// shows whole calls rounded up, so more than one over that is others'.
	mine := 0.0
	if p.known {
		mine = max(0, p.used-now.Sub(p.seen).Seconds()*platformDrainPerSecond)
	}
	if used > mine+2 {
		p.foreign = now
	}
	p.known, p.used, p.limit, p.seen = true, used, limit, now
}

// full records that the platform's bucket is full (a 429).
func (p *pacer) full() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.known {
		p.limit = 40
	}
	// A 429 the pacer did not foresee means others share the bucket.
	p.known, p.used, p.seen, p.foreign = true, p.limit, p.clock.Now(), p.clock.Now()
}

// drainTime is how long until the platform's bucket, as last seen, drains
// below the pacer's target.
func (p *pacer) drainTime() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.known {
		return 0
	}
	now := p.clock.Now()
	level := max(0, p.used-now.Sub(p.seen).Seconds()*platformDrainPerSecond)
	target := p.targetLocked(now)
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
