package loader

import (
	"math/rand/v2"
	"testing"
	"time"
)

// appendDatetime must write exactly what time.Format with the DATETIME(6)
// layout writes, for every year the column holds and every fraction.
func TestAppendDatetimeMatchesFormat(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []time.Time{
		time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(2024, 2, 29, 9, 5, 7, 120000000, time.UTC),
		time.Date(2024, 2, 29, 9, 5, 7, 1000, time.UTC),
		time.Date(2024, 2, 29, 9, 5, 7, 100000000, time.UTC),
	}
	for range 10000 {
		cases = append(cases, time.Unix(rng.Int64N(253402300799+30610224000)-30610224000, rng.Int64N(1e6)*1000*int64(rng.IntN(2))).UTC())
	}
	for _, c := range cases {
		want := c.Format("2006-01-02 15:04:05.999999")
		if got := string(appendDatetime([]byte("x"), c)); got != "x"+want {
			t.Fatalf("appendDatetime(%v) = %q, want %q", c, got, "x"+want)
		}
	}
}
