package sandbox

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// buckets are the gateway's token buckets, one per application per API
// (smartstore.md §2), refilled by real elapsed time.
type buckets struct {
	mu    sync.Mutex
	rate  float64
	burst float64
	now   func() time.Time
	m     map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newBuckets(rate float64, burst int, now func() time.Time) *buckets {
	return &buckets{rate: rate, burst: float64(burst), now: now, m: map[string]*bucket{}}
}

func (b *buckets) get(key string, now time.Time) *bucket {
	bk, ok := b.m[key]
	if !ok {
		bk = &bucket{tokens: b.burst, at: now}
		b.m[key] = bk
	}
	if el := now.Sub(bk.at).Seconds(); el > 0 {
		bk.tokens = min(b.burst, bk.tokens+el*b.rate)
	}
	bk.at = now
	return bk
}

// take spends one token of app's bucket for api and sets the
// GNCP-GW-RateLimit-* headers; false means the call is over the limit.
func (b *buckets) take(app, api string, h http.Header) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.get(app+" "+api, b.now())
	ok := bk.tokens >= 1
	if ok {
		bk.tokens--
	}
	h.Set("GNCP-GW-RateLimit-Replenish-Rate", strconv.FormatFloat(b.rate, 'f', -1, 64))
	h.Set("GNCP-GW-RateLimit-Burst-Capacity", strconv.Itoa(int(b.burst)))
	h.Set("GNCP-GW-RateLimit-Remaining", strconv.Itoa(int(bk.tokens)))
	return ok
}

// drain empties every bucket, as if other callers of the application had
// spent them.
func (b *buckets) drain() {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	for _, bk := range b.m {
		bk.tokens, bk.at = 0, now
	}
}
