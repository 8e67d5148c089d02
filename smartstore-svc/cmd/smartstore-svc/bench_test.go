package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	"hlog.dev/proto/kit"
	"hlog.dev/proto/kit/procstat"
	"hlog.dev/smartstore-svc/sandbox"
)

const (
	benchDays    = 90
	benchTarget  = 30000 // product orders in the backfill
	benchClient  = "hlogBenchApp"
	benchSecret  = "$2a$04$hlogbenchapplicationsa"
	benchAccount = "bench"
)

// callCounter counts the sandbox's answers by API path and status.
type callCounter struct {
	next http.Handler
	mu   sync.Mutex
	n    map[string]int
}

func (c *callCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	c.next.ServeHTTP(rec, r)
	c.mu.Lock()
	c.n[r.URL.Path+" "+strconv.Itoa(rec.status)]++
	c.mu.Unlock()
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }

// sellerFor sizes a seller so that the benchDays before now hold about
// benchTarget product orders (seasonality moves the count with the date).
func sellerFor(b *testing.B, now time.Time) sandbox.SellerConfig {
	sc := sandbox.SellerConfig{ID: benchAccount, Seed: 90, OrdersPerDay: 240}
	for range 2 {
		sb, err := sandbox.New(sandbox.Config{Sellers: []sandbox.SellerConfig{sc}, Clock: now, HistoryDays: benchDays, FutureDays: 1, ClientID: benchClient, ClientSecret: benchSecret})
		if err != nil {
			b.Fatal(err)
		}
		truth, _ := sb.Truth(benchAccount)
		sc.OrdersPerDay *= float64(benchTarget) / float64(len(truth.Lines))
	}
	return sc
}

// BenchmarkBackfill90Days runs the collector binary as its own process
// against the sandbox over HTTP at the sandbox's default rate (2/s, burst 4
// per API) and backfills 90 days of about 30,000 product orders. It prints
// the API calls against the minimum (one token, then for each 24-hour window
// from the backfill start one 300-row page per 300 product orders placed in
// it, at least one), the wall time against the rate floor of those minimum
// searches, the 429s met, and the collector's peak RSS.
func BenchmarkBackfill90Days(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "smartstore-svc")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		b.Fatalf("building the collector: %v", err)
	}
	for range b.N {
		now := time.Now()
		seller := sellerFor(b, now)
		sb, err := sandbox.New(sandbox.Config{
			Sellers: []sandbox.SellerConfig{seller}, Clock: now, ClockRunning: true,
			HistoryDays: benchDays, FutureDays: 1, ClientID: benchClient, ClientSecret: benchSecret,
		})
		if err != nil {
			b.Fatal(err)
		}
		counter := &callCounter{next: sb, n: map[string]int{}}
		web := httptest.NewServer(counter)
		defer web.Close()

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "--grpc-addr", "127.0.0.1:0", "--metrics-addr", "", "--api-base-url", web.URL+sandbox.BasePath)
		stderr, err := cmd.StderrPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		addr := servingAddr(b, stderr)
		cc, err := kit.Dial(addr)
		if err != nil {
			b.Fatal(err)
		}
		client := collectorv1.NewCollectorServiceClient(cc)

		from := now.Add(-benchDays * 24 * time.Hour)
		began := time.Now()
		stream, err := client.Collect(ctx, &collectorv1.CollectRequest{
			Credentials: &collectorv1.Credentials{Platform: &collectorv1.Credentials_Smartstore{Smartstore: &collectorv1.SmartstoreCredentials{ClientId: benchClient, ClientSecret: benchSecret, AccountId: benchAccount}}},
			Streams:     []*collectorv1.StreamRequest{{Name: "orders", BackfillFrom: timestamppb.New(from)}},
		})
		if err != nil {
			b.Fatal(err)
		}
		perWindow := make([]int, benchDays)
		seen := map[string]bool{}
		for {
			m, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatalf("collect: %v", err)
			}
			for _, l := range m.GetRecords().GetOrderLines() {
				if seen[l.SourceId] {
					b.Fatalf("line %s sent twice", l.SourceId)
				}
				seen[l.SourceId] = true
				if w := int(l.OrderedAt.AsTime().Sub(from) / (24 * time.Hour)); w >= 0 && w < benchDays {
					perWindow[w]++
				}
			}
		}
		wall := time.Since(began)
		rss := peakRSS(b, cmd.Process.Pid)
		cc.Close()
		cancel()
		cmd.Wait()

		truth, _ := sb.Truth(benchAccount)
		want := 0
		for _, l := range truth.Lines {
			if l.OrderedAt.AsTime().Before(began.Add(-10 * time.Second)) {
				want++
			}
		}
		if len(seen) < want {
			b.Fatalf("collected %d product orders, the sandbox held %d", len(seen), want)
		}
		minSearches := 0
		for _, n := range perWindow {
			minSearches += max(1, (n+sandbox.MaxLimit-1)/sandbox.MaxLimit)
		}
		minCalls := 1 + minSearches
		calls, limited := 0, 0
		for k, n := range counter.n {
			calls += n
			if strings.HasSuffix(k, " 429") {
				limited += n
			}
		}
		floor := time.Duration(float64(minSearches-sandbox.DefaultBurst) / sandbox.DefaultRate * float64(time.Second))
		fmt.Printf("BENCH smartstore.product_orders %d count target >=%d\n", len(seen), want)
		fmt.Printf("BENCH smartstore.api_calls %d calls target <=%d\n", calls, int(math.Floor(float64(minCalls)*1.05)))
		fmt.Printf("BENCH smartstore.calls_ratio %.3f x target <=1.05\n", float64(calls)/float64(minCalls))
		fmt.Printf("BENCH smartstore.wall_time %.1f s target <=%.1f\n", wall.Seconds(), floor.Seconds()*1.1)
		fmt.Printf("BENCH smartstore.wall_ratio %.3f x target <=1.1\n", wall.Seconds()/floor.Seconds())
		fmt.Printf("BENCH smartstore.rate_limited_429s %d count target <=0\n", limited)
		fmt.Printf("BENCH smartstore.peak_rss %.1f MB target <=64\n", float64(rss)/(1<<20))
	}
}

// servingAddr waits for the collector's "serving" log line and returns its
// gRPC address; the rest of the log is drained.
func servingAddr(b *testing.B, r io.Reader) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var line struct {
			Msg      string `json:"msg"`
			GRPCAddr string `json:"grpc_addr"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
			go io.Copy(io.Discard, r)
			return line.GRPCAddr
		}
	}
	b.Fatal("the collector exited before serving")
	return ""
}

// peakRSS reads a process's high-water resident set (VmHWM), in bytes.
func peakRSS(b *testing.B, pid int) int64 {
	rss, err := procstat.PeakRSS(pid)
	if err != nil {
		b.Fatalf("reading the collector's memory: %v", err)
	}
	return rss
}
