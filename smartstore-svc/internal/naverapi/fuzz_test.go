package naverapi

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"testing"
	"time"

	"hlog.dev/proto/kit/clock"
)

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2022-04-11T15:21:44.000+09:00", "2023-01-16T17:14:51.794+09:00", "2026-03-01T00:00:00Z", "2026-03-01T09:00:00.123456789+09:00", "", "2022-04-11 15:21:44", "9999-12-31T23:59:59.999-23:59"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseTime(s)
		if err != nil || v.In(KST).Year() < 1 || v.In(KST).Year() > 9999 {
			return
		}
		// What parses renders in the API's shape and reads back to the same
		// millisecond.
		back, err := ParseTime(FormatTime(v))
		if err != nil {
			t.Fatalf("%q -> %s does not parse: %v", s, FormatTime(v), err)
		}
		if !back.Equal(v.Truncate(time.Millisecond)) {
			t.Fatalf("%q: %v became %v", s, v, back)
		}
	})
}

func FuzzParseError(f *testing.F) {
	for _, s := range []string{
		`{"code":"GW.AUTHN","message":"인증 실패","timestamp":"2022-04-11T15:21:44.000+09:00","traceId":"cr3^1^2"}`,
		`{"code":"4000","message":"bad","invalidInputs":[{"name":"from","type":"DateTime","message":"x"}]}`,
		`{"code":104139}`, `<html>502</html>`, ``, `{"code":null,"invalidInputs":"x"}`,
	} {
		f.Add(429, s)
	}
	f.Fuzz(func(t *testing.T, status int, body string) {
		e := ParseError(status, "hdr", []byte(body))
		if e.Status != status || e.TraceID == "" || e.Error() == "" {
			t.Fatalf("%d %q -> %+v", status, body, e)
		}
		if !json.Valid([]byte(body)) && len(e.Message) > 200 {
			t.Fatalf("non-JSON excerpt of %d bytes", len(e.Message))
		}
	})
}

func FuzzDecodePages(f *testing.F) {
	f.Add([]byte(`{"timestamp":"2024-05-02T10:00:01.123+09:00","traceId":"t","data":{"lastChangeStatuses":[{"orderId":"2024050112345670","productOrderId":"2024050187654321","lastChangedType":"PAYED","lastChangedDate":"2024-05-01T09:59:02.000+09:00","productOrderStatus":"PAYED"}],"count":1,"more":{"moreFrom":"2024-05-01T10:00:00.000+09:00","moreSequence":"2024050187654322"}}}`))
	f.Add([]byte(`{"data":{"contents":[{"productOrderId":"1","content":{"order":{"orderId":"2","orderDate":"2024-05-01T09:58:10.000+09:00"},"productOrder":{"productOrderId":"1","quantity":2}}}],"pagination":{"page":1,"size":300,"hasNext":false}}}`))
	f.Add([]byte(`{"data":[{"order":{"orderId":"x"},"productOrder":{"productOrderId":"y","remainQuantity":null}}]}`))
	f.Add([]byte(`{"data":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := DecodeChangedPage(b); err == nil && p == nil {
			t.Fatal("no page and no error")
		}
		if p, err := DecodeSearchPage(b); err == nil && p == nil {
			t.Fatal("no page and no error")
		}
		DecodeProductOrders(b)
	})
}

// FuzzPacerHeaders: whatever rate-limit headers say, the pacer waits a
// finite, non-negative time and never more than a second per token at the
// budget's rate floor.
func FuzzPacerHeaders(f *testing.F) {
	f.Add("2", "4", "3")
	f.Add("0", "0", "-1")
	f.Add("NaN", "1e308", "Inf")
	f.Add("0.001", "1", "0")
	f.Fuzz(func(t *testing.T, rate, burst, remaining string) {
		c := clock.NewFake(time.Unix(0, 0))
		p := newPacer(c, Budget{RequestsPerSecond: 2, Burst: 4})
		h := http.Header{}
		h.Set("GNCP-GW-RateLimit-Replenish-Rate", rate)
		h.Set("GNCP-GW-RateLimit-Burst-Capacity", burst)
		h.Set("GNCP-GW-RateLimit-Remaining", remaining)
		for range 6 {
			p.observe(h)
			before := c.Slept()
			if err := p.wait(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			d := c.Slept() - before
			if d < 0 || d > time.Duration(math.MaxInt64/2) || (p.rate >= 2 && d > time.Second) {
				t.Fatalf("rate %q burst %q remaining %q: waited %s at rate %v", rate, burst, remaining, d, p.rate)
			}
		}
	})
}
