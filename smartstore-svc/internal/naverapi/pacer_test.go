package naverapi

import (
	"context"
	"net/http"
	"testing"
	"time"

	"hlog.dev/proto/kit/clock"
)

func TestPacerKeepsToTheGatewaysBucket(t *testing.T) {
	c := clock.NewFake(time.Unix(0, 0))
	p := newPacer(c, Budget{RequestsPerSecond: 10, Burst: 20})
	h := http.Header{}
	h.Set("GNCP-GW-RateLimit-Replenish-Rate", "2")
	h.Set("GNCP-GW-RateLimit-Burst-Capacity", "4")
	h.Set("GNCP-GW-RateLimit-Remaining", "0")
	if err := p.wait(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	p.observe(h) // the platform is slower than the budget, and its bucket is empty
	var waits []time.Duration
	for range 4 {
		before := c.Slept()
		p.wait(context.Background(), func(d time.Duration) { waits = append(waits, d) })
		if d := c.Slept() - before; d != 500*time.Millisecond {
			t.Fatalf("waited %s, want 500ms at 2/s", d)
		}
	}
	if len(waits) != 4 {
		t.Errorf("waits reported: %v", waits)
	}
	// An idle pacer refills to the platform's burst, not the budget's.
	c.Advance(time.Minute)
	for i := range 5 {
		before := c.Slept()
		p.wait(context.Background(), nil)
		if d := c.Slept() - before; (i < 4) != (d == 0) {
			t.Fatalf("call %d after a minute idle waited %s", i, d)
		}
	}
	// A 429 empties the bucket.
	p.empty()
	before := c.Slept()
	p.wait(context.Background(), nil)
	if d := c.Slept() - before; d != 500*time.Millisecond {
		t.Errorf("after a 429 waited %s", d)
	}
}
