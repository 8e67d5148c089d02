package naverapi

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"hlog.dev/proto/kit/clock"
)

// Budget is the run's own rate budget (collector.v1.RateBudget).
type Budget struct {
	RequestsPerSecond float64
	Burst             int
}

// DefaultBudget is the platform's usual bucket: 2 a second, burst 4
// (smartstore.md §2).
var DefaultBudget = Budget{RequestsPerSecond: 2, Burst: 4}

// pacer mirrors one API's token bucket on the gateway (one bucket per
// application per API, smartstore.md §2). It starts from the run's budget and
// follows the GNCP-GW-RateLimit-* headers: the platform's rate and burst cap
// the budget, and Remaining, which the gateway reports after spending our
// call, resets the estimate. Remaining is a whole number, so the estimate
// never runs ahead of the gateway and pacing by it meets no 429.
type pacer struct {
	clock clock.Clock

	mu          sync.Mutex
	budgetRate  float64
	budgetBurst float64
	rate, burst float64
	tokens      float64
	at          time.Time
}

func newPacer(c clock.Clock, b Budget) *pacer {
	if b.RequestsPerSecond <= 0 {
		b.RequestsPerSecond = DefaultBudget.RequestsPerSecond
	}
	if b.Burst <= 0 {
		b.Burst = DefaultBudget.Burst
	}
	r, bu := b.RequestsPerSecond, float64(b.Burst)
	return &pacer{clock: c, budgetRate: r, budgetBurst: bu, rate: r, burst: bu, tokens: bu, at: c.Now()}
}

// setBudget applies a run's budget to the pacer.
func (p *pacer) setBudget(b Budget) {
	if b.RequestsPerSecond <= 0 || b.Burst <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.budgetRate, p.budgetBurst = b.RequestsPerSecond, float64(b.Burst)
	// The next response's headers cap these by the platform's limits again.
	p.rate, p.burst = p.budgetRate, p.budgetBurst
	p.tokens = min(p.tokens, p.burst)
}

func (p *pacer) refillLocked(now time.Time) {
	if el := now.Sub(p.at).Seconds(); el > 0 {
		p.tokens = min(p.burst, p.tokens+el*p.rate)
	}
	p.at = now
}

// wait blocks until a call may go, reports a wait to onWait, and spends it.
func (p *pacer) wait(ctx context.Context, onWait func(time.Duration)) error {
	p.mu.Lock()
	p.refillLocked(p.clock.Now())
	var d time.Duration
	if p.tokens < 1 {
		d = time.Duration((1 - p.tokens) / p.rate * float64(time.Second))
	}
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
	p.refillLocked(p.clock.Now())
	p.tokens--
	p.mu.Unlock()
	return nil
}

// observe reads the rate-limit headers of a response.
func (p *pacer) observe(h http.Header) {
	rate, err1 := strconv.ParseFloat(h.Get("GNCP-GW-RateLimit-Replenish-Rate"), 64)
	burst, err2 := strconv.ParseFloat(h.Get("GNCP-GW-RateLimit-Burst-Capacity"), 64)
	remaining, err3 := strconv.ParseFloat(h.Get("GNCP-GW-RateLimit-Remaining"), 64)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refillLocked(p.clock.Now())
	if err1 == nil && rate > 0 && rate < 1e6 {
		p.rate = min(p.budgetRate, rate)
	}
	if err2 == nil && burst >= 1 && burst < 1e6 {
		p.burst = min(p.budgetBurst, burst)
	}
	if err3 == nil && remaining >= 0 {
		p.tokens = min(p.tokens, remaining, p.burst)
	}
}

// empty records a 429: the gateway's bucket is empty now.
func (p *pacer) empty() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tokens, p.at = 0, p.clock.Now()
}

func (p *pacer) interval() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Duration(float64(time.Second) / p.rate)
}
