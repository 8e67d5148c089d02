package e2e

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Load model of BenchmarkDashboardUsers: 200 sellers' browsers have the
// dashboard open at once. Each opens it (the page, then the API calls the
// page makes, six at a time like a browser), reads it for a while, changes
// the view, and so on. Latency is measured per HTTP request.
const (
	benchUsers  = 200
	benchRounds = 3
	// Reading time between two views of one user, uniformly drawn.
	thinkMin, thinkMax = 4 * time.Second, 8 * time.Second
	browserConns       = 6
)

// dashboardCalls are the requests one view of the dashboard makes
// (web/src/app.js and accounts.js), for the period start..end.
func dashboardCalls(start, end, today string, accountID string) []string {
	q := "start_date=" + start + "&end_date=" + end + "&basis=BASIS_PAYMENT_DATE"
	day := func(from string) string {
		return "/v1/sales/summary?start_date=" + from + "&end_date=" + today + "&basis=BASIS_PAYMENT_DATE"
	}
	t, _ := time.Parse("2006-01-02", today)
	monday := t.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7)).Format("2006-01-02")
	return []string{
		"/auth/session",
		"/v1/sales/summary?" + q,
		"/v1/sales/timeseries?" + q + "&granularity=GRANULARITY_DAY",
		day(today), day(monday), day(today[:8] + "01"), day(today[:5] + "01-01"),
		"/v1/sales/platform-split?" + q + "&by_account=true",
		"/v1/sales/top-products?" + q + "&limit=10&by_option=false",
		"/v1/sales/order-lines?" + q + "&page_size=25",
		"/v1/accounts",
		"/v1/sync-runs?account_id=" + accountID + "&page_size=1",
	}
}

func BenchmarkDashboardUsers(b *testing.B) {
	s := startStack(b, sandboxClock, "cafe24")
	s.seedDemo(b)
	seoul, _ := time.LoadLocation("Asia/Seoul")
	today := s.clock.In(seoul).Format("2006-01-02")
	periods := [][2]string{{s.start, s.end}, {today[:8] + "01", today}, {today[:5] + "01-01", today}}

	// Every user signs in with their own session (sign-in is bcrypt: done
	// before the clock starts).
	clients := make([]*http.Client, benchUsers)
	transport := &http.Transport{MaxIdleConnsPerHost: benchUsers * browserConns, MaxConnsPerHost: 0}
	for i := range clients {
		jar, _ := cookiejar.New(nil)
		clients[i] = &http.Client{Jar: jar, Transport: transport, Timeout: 30 * time.Second}
		res, err := clients[i].Post(s.gateway+"/auth/sign-in", "application/json",
			strings.NewReader(`{"email":"`+sellerEmail+`","password":"`+sellerPassword+`"}`))
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("signing in user %d: %v %v", i, err, res)
		}
		res.Body.Close()
	}

	var mu sync.Mutex
	var latencies []time.Duration
	errs := 0
	var firstErr string
	b.ResetTimer()
	began := time.Now()
	var wg sync.WaitGroup
	for i, c := range clients {
		rng := rand.New(rand.NewPCG(uint64(i), 42))
		wg.Go(func() {
			// Users arrive spread over one reading time.
			time.Sleep(time.Duration(rng.Int64N(int64(thinkMax))))
			for round := range benchRounds {
				p := periods[(i+round)%len(periods)]
				calls := dashboardCalls(p[0], p[1], today, s.accounts["cafe24"])
				sem := make(chan struct{}, browserConns)
				var pw sync.WaitGroup
				for _, path := range append([]string{"/"}, calls...) {
					sem <- struct{}{}
					pw.Go(func() {
						defer func() { <-sem }()
						start := time.Now()
						res, err := c.Get(s.gateway + path)
						var status int
						if err == nil {
							_, _ = io.Copy(io.Discard, res.Body)
							res.Body.Close()
							status = res.StatusCode
						}
						d := time.Since(start)
						mu.Lock()
						latencies = append(latencies, d)
						if err != nil || status != http.StatusOK {
							errs++
							if firstErr == "" {
								firstErr = fmt.Sprintf("%s: %v %d", path, err, status)
							}
						}
						mu.Unlock()
					})
				}
				pw.Wait()
				time.Sleep(thinkMin + time.Duration(rng.Int64N(int64(thinkMax-thinkMin))))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(began)
	b.StopTimer()

	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	fmt.Printf("BENCH gateway.dashboard_users %d users target >=200\n", benchUsers)
	fmt.Printf("BENCH gateway.dashboard_requests %d requests target >=1\n", len(latencies))
	fmt.Printf("BENCH gateway.dashboard_rps %.1f req/s target >=1\n", float64(len(latencies))/elapsed.Seconds())
	fmt.Printf("BENCH gateway.dashboard_p50 %.1f ms target <=20\n", pct(0.50))
	fmt.Printf("BENCH gateway.dashboard_p95 %.1f ms target <=50\n", pct(0.95))
	fmt.Printf("BENCH gateway.dashboard_p99 %.1f ms target <=250\n", pct(0.99))
	fmt.Printf("BENCH gateway.dashboard_errors %d errors target <=0\n", errs)
	if errs > 0 {
		b.Logf("first error: %s", firstErr)
	}
}
