// Package bench measures the Cafe24 collector as a real process against the
// sandbox over HTTP at Cafe24's real rate limit (a leaky bucket of 40 calls
// draining 2 a second, in real time). Run with `make bench BENCH=cafe24`.
package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"
	"hlog.dev/cafe24-svc/internal/collector"
	"hlog.dev/cafe24-svc/sandbox"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	"hlog.dev/proto/kit"
	"hlog.dev/proto/kit/procstat"
)

const (
	clientID, clientSecret = "bench-app", "bench-secret"
	bucketCapacity         = 40
	drainPerSecond         = 2.0
	ordersPerPage          = 1000 // the orders limit the collector uses
	refundsPerPage         = 500
)

// BenchmarkBackfill backfills 12 months of a mall with about 50,000 orders
// (and, for the memory figure, a mall a quarter that size) and prints the
// calls against the minimum, the wall time against the leaky-bucket floor,
// the 429s and the collector process's peak RSS.
func BenchmarkBackfill(b *testing.B) {
	bin := buildCollector(b)
	now := time.Now().Truncate(time.Second)
	sb, err := sandbox.New(sandbox.Config{
		Malls: []sandbox.MallConfig{
			{ID: "small", Seed: 7, OrdersPerDay: 35},
			{ID: "big", Seed: 7, OrdersPerDay: 140},
		},
		Clock: now, ClockRunning: false, HistoryDays: 367, FutureDays: 1,
		ClientID: clientID, ClientSecret: clientSecret,
	})
	if err != nil {
		b.Fatal(err)
	}
	counter := &callCounter{next: sb}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: counter}
	go srv.Serve(lis)
	b.Cleanup(func() { srv.Close() })
	baseURL := "http://" + lis.Addr().String() + "/malls/{mall_id}"
	// A backfill from a minute after a year ago: four 3-month searches end
	// just after the collector's "now".
	from := now.AddDate(-1, 0, 0).Add(time.Minute)

	b.ResetTimer()
	for range b.N {
		small := backfill(b, bin, baseURL, sb, counter, "small", from)
		big := backfill(b, bin, baseURL, sb, counter, "big", from)
		if big.orders < 50000 {
			b.Fatalf("the big mall has %d orders in 12 months, want at least 50,000", big.orders)
		}
		fmt.Printf("BENCH cafe24.backfill_orders %d orders target >=50000\n", big.orders)
		fmt.Printf("BENCH cafe24.calls_ratio %.3f x target <=1.05\n", float64(big.calls)/float64(big.minCalls))
		fmt.Printf("BENCH cafe24.wall_vs_bucket_floor %.3f x target <=1.1\n", big.wall.Seconds()/big.floor.Seconds())
		fmt.Printf("BENCH cafe24.http_429 %d calls target <=0\n", big.limited+small.limited)
		fmt.Printf("BENCH cafe24.collector_peak_rss %.1f MB target <=64\n", big.rssMB)
		fmt.Printf("BENCH cafe24.collector_rss_growth_4x_orders %.2f x target <=1.25\n", big.rssMB/small.rssMB)
		b.Logf("small mall: %+v", small)
		b.Logf("big mall: %+v", big)
	}
}

type backfillResult struct {
	orders, refunds int
	calls, minCalls int
	limited         int
	wall, floor     time.Duration
	rssMB           float64
}

// backfill runs one collector process for mallID's first sync and checks
// that every order of the 12 months arrived.
func backfill(b *testing.B, bin, baseURL string, sb *sandbox.Sandbox, counter *callCounter, mallID string, from time.Time) backfillResult {
	b.Helper()
	truth, _ := sb.Truth(mallID)
	sb.Prepare(mallID)
	res := backfillResult{}
	minCalls := 0
	for start := from; start.Before(sb.Now()); start = collector.SearchEnd(start) {
		end := collector.SearchEnd(start)
		var orders, refunds int
		for _, o := range truth.Orders {
			if t := o.OrderedAt.AsTime(); !t.Before(start) && t.Before(end) {
				orders++
			}
		}
		for _, l := range truth.Lines {
			for _, c := range l.Claims {
				if c.State == commercev1.ClaimState_CLAIM_STATE_COMPLETED && c.RefundAmount.GetMinorUnits() > 0 {
					if t := c.CompletedAt.AsTime(); !t.Before(start) && t.Before(end) {
						refunds++
					}
				}
			}
		}
		// Each 3-month search (Cafe24's cap, cafe24.md §4) is read in full
		// pages; an empty search still costs its one call.
		minCalls += max(1, ceilDiv(orders, ordersPerPage)) + max(1, ceilDiv(refunds, refundsPerPage))
		res.orders += orders
		res.refunds += refunds
	}
	res.minCalls = minCalls
	// Calls a client must make beyond the first bucketful wait for the
	// drain: the floor no client can beat without a 429.
	res.floor = time.Duration(float64(max(0, minCalls-bucketCapacity)) / drainPerSecond * float64(time.Second))

	pair, err := sb.MintTokens(mallID, nil)
	if err != nil {
		b.Fatal(err)
	}
	proc := startCollector(b, bin, baseURL)
	defer proc.stop(b)
	client := collectorv1.NewCollectorServiceClient(proc.conn)

	before := counter.snapshot(mallID)
	began := time.Now()
	stream, err := client.Collect(context.Background(), &collectorv1.CollectRequest{
		Credentials: &collectorv1.Credentials{Platform: &collectorv1.Credentials_Cafe24{Cafe24: &collectorv1.Cafe24Credentials{
			MallId: mallID, ClientId: clientID, ClientSecret: clientSecret,
			AccessToken: pair.AccessToken, AccessTokenExpiresAt: timestamppb.New(pair.AccessExpiresAt),
			RefreshToken: pair.RefreshToken, RefreshTokenExpiresAt: timestamppb.New(pair.RefreshExpiresAt),
		}}},
		Streams: []*collectorv1.StreamRequest{{Name: "orders", BackfillFrom: timestamppb.New(from)}},
		// Cafe24's own limit: a bucket of 40, draining 2 a second.
		RateBudget: &collectorv1.RateBudget{RequestsPerSecond: drainPerSecond, Burst: bucketCapacity, MaxConcurrency: 1},
		TimeZone:   "Asia/Seoul",
	})
	if err != nil {
		b.Fatal(err)
	}
	got := map[string]bool{}
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatalf("collect %s: %v", mallID, err)
		}
		for _, o := range m.GetRecords().GetOrders() {
			if !o.OrderedAt.AsTime().Before(from) {
				got[o.SourceId] = true
			}
		}
	}
	res.wall = time.Since(began)
	after := counter.snapshot(mallID)
	res.calls, res.limited = after.calls-before.calls, after.limited-before.limited
	res.rssMB = proc.peakRSSMB(b)
	if len(got) != res.orders {
		b.Fatalf("mall %s: collected %d distinct orders, the mall has %d", mallID, len(got), res.orders)
	}
	return res
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// buildCollector builds cmd/cafe24-svc, the binary that is deployed.
func buildCollector(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "cafe24-svc")
	cmd := exec.Command("go", "build", "-o", bin, "hlog.dev/cafe24-svc/cmd/cafe24-svc")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("building cafe24-svc: %v\n%s", err, out)
	}
	return bin
}

type collectorProc struct {
	cmd  *exec.Cmd
	conn *grpc.ClientConn
}

// startCollector starts the collector and waits for its "serving" log line,
// which names the gRPC address it listens on.
func startCollector(b *testing.B, bin, baseURL string) *collectorProc {
	b.Helper()
	cmd := exec.Command(bin, "--grpc-addr", "127.0.0.1:0", "--metrics-addr", "", "--api-base-url", baseURL)
	cmd.Env = os.Environ()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	lines := bufio.NewScanner(stderr)
	addr := ""
	for addr == "" && lines.Scan() {
		var entry struct {
			Msg      string `json:"msg"`
			GRPCAddr string `json:"grpc_addr"`
		}
		if json.Unmarshal(lines.Bytes(), &entry) == nil && entry.Msg == "serving" {
			addr = entry.GRPCAddr
		}
	}
	if addr == "" {
		cmd.Process.Kill()
		cmd.Wait()
		b.Fatalf("cafe24-svc exited before serving")
	}
	go io.Copy(io.Discard, stderr)
	conn, err := kit.Dial(addr)
	if err != nil {
		b.Fatal(err)
	}
	return &collectorProc{cmd: cmd, conn: conn}
}

// peakRSSMB is the process's peak resident set (VmHWM), in MiB.
func (p *collectorProc) peakRSSMB(b *testing.B) float64 {
	b.Helper()
	bytes, err := procstat.PeakRSS(p.cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	return math.Round(float64(bytes)/(1<<20)*10) / 10
}

func (p *collectorProc) stop(b *testing.B) {
	p.conn.Close()
	p.cmd.Process.Signal(os.Interrupt)
	if err := p.cmd.Wait(); err != nil {
		b.Errorf("cafe24-svc exit: %v", err)
	}
}

// callCounter counts the Admin and OAuth calls each mall received and its
// 429 answers, at the HTTP server.
type callCounter struct {
	next  http.Handler
	mu    sync.Mutex
	malls map[string]*counts
}

type counts struct{ calls, limited int }

func (c *callCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	c.next.ServeHTTP(rec, r)
	rest, ok := strings.CutPrefix(r.URL.Path, "/malls/")
	if !ok {
		return
	}
	mall, _, _ := strings.Cut(rest, "/")
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.malls == nil {
		c.malls = map[string]*counts{}
	}
	if c.malls[mall] == nil {
		c.malls[mall] = &counts{}
	}
	c.malls[mall].calls++
	if rec.status == http.StatusTooManyRequests {
		c.malls[mall].limited++
	}
}

func (c *callCounter) snapshot(mall string) counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m := c.malls[mall]; m != nil {
		return *m
	}
	return counts{}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
