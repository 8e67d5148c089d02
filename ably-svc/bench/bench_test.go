// Package bench measures the Ably collector as a real process, driving its
// real Chromium against the sandbox site over HTTP, with the default
// human-like pacing and rate budget. Run with `make bench BENCH=ably`.
package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"
	"hlog.dev/ably-svc/sandbox"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	"hlog.dev/proto/kit"
	"hlog.dev/proto/kit/browsertest"
	"hlog.dev/proto/synth"
)

const (
	months6     = 182 // days
	targetLines = 20000
	parallel    = 8
	// contextsAtOnce is the collector's --browser-pool in the parallel run.
	contextsAtOnce = 8
	// historySlack days of orders before the 6 months, for the lookback.
	historySlack = 10
)

// BenchmarkOneAccount collects 6 months holding about 20,000 order lines for
// one account and prints the wall time and the pages the site served.
func BenchmarkOneAccount(b *testing.B) {
	bin := buildCollector(b)
	now := time.Now().Truncate(time.Second)
	seller := sandbox.SellerConfig{Email: "big@example.com", Password: "bench-pw", Seed: 11}
	seller.OrdersPerDay = calibrate(b, seller, now)
	site := startSandbox(b, now, seller)
	from := now.AddDate(0, 0, -months6)

	b.ResetTimer()
	for range b.N {
		proc := startCollector(b, bin, site.url, 1)
		before := site.counts()
		began := time.Now()
		lines := collect(b, proc, seller, from)
		wall := time.Since(began)
		after := site.counts()
		proc.stop(b)
		if lines < targetLines*97/100 {
			b.Fatalf("collected %d lines, want about %d", lines, targetLines)
		}
		fmt.Printf("BENCH ably.one_account_lines %d lines target >=19400\n", lines)
		fmt.Printf("BENCH ably.one_account_wall %.1f s target <=120\n", wall.Seconds())
		fmt.Printf("BENCH ably.one_account_pages_loaded %d pages target <=10\n", after.pages-before.pages)
		fmt.Printf("BENCH ably.one_account_api_calls %d calls target <=80\n", after.api-before.api)
	}
}

// BenchmarkEightAccountsInParallel collects 8 accounts at once, each in its
// own incognito context of the collector's one browser, and prints the wall
// time and the peak resident memory of the collector and its browser
// processes together.
func BenchmarkEightAccountsInParallel(b *testing.B) {
	bin := buildCollector(b)
	now := time.Now().Truncate(time.Second)
	var sellers []sandbox.SellerConfig
	for i := range parallel {
		sellers = append(sellers, sandbox.SellerConfig{Email: fmt.Sprintf("seller%d@example.com", i), Password: "bench-pw", Seed: uint64(100 + i), OrdersPerDay: 25})
	}
	site := startSandbox(b, now, sellers...)
	from := now.AddDate(0, 0, -months6)

	b.ResetTimer()
	for range b.N {
		proc := startCollector(b, bin, site.url, contextsAtOnce)
		stopSampling := proc.sampleRSS()
		began := time.Now()
		var wg sync.WaitGroup
		total := make([]int, parallel)
		for i, s := range sellers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				total[i] = collect(b, proc, s, from)
			}()
		}
		wg.Wait()
		wall := time.Since(began)
		peak := stopSampling()
		proc.stop(b)
		sum := 0
		for _, n := range total {
			sum += n
		}
		fmt.Printf("BENCH ably.parallel8_lines %d lines target >=20000\n", sum)
		fmt.Printf("BENCH ably.parallel8_wall %.1f s target <=180\n", wall.Seconds())
		fmt.Printf("BENCH ably.parallel8_peak_rss %.0f MB target <=600\n", peak.groupMB)
		b.Logf("at the peak: %d processes; summing each one's VmRSS (shared pages counted once per process) gives %.0f MB", peak.procs, peak.rssSumMB)
	}
}

// calibrate picks orders per day so that the last 6 months hold about
// 20,000 lines (synth's lines per order and seasonality vary), generating
// with the sandbox's own store configuration.
func calibrate(b *testing.B, s sandbox.SellerConfig, now time.Time) float64 {
	b.Helper()
	from := now.AddDate(0, 0, -months6)
	count := func(perDay float64) int {
		st, err := synth.Generate(synth.Config{Seed: s.Seed, Start: now.Add(-(months6 + historySlack) * 24 * time.Hour), End: now.Add(24 * time.Hour),
			Location: time.FixedZone("KST", 9*3600), OrdersPerDay: perDay})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, l := range st.AsOf(now).Lines {
			if !l.OrderedAt.AsTime().Before(from) {
				n++
			}
		}
		return n
	}
	perDay := 80.0
	for range 3 {
		perDay *= targetLines / float64(count(perDay))
	}
	return perDay
}

type site struct {
	url   string
	mu    sync.Mutex
	pages int
	api   int
	next  http.Handler
}

type counts struct{ pages, api int }

func (s *site) counts() counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return counts{s.pages, s.api}
}

// ServeHTTP counts what the site served: pages (HTML documents) and the
// JSON API calls made by pages and the collector.
func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	switch {
	case strings.HasPrefix(r.URL.Path, "/seller/events/"):
	case strings.HasPrefix(r.URL.Path, "/seller/"):
		s.api++
	case !strings.HasPrefix(r.URL.Path, "/static/") && !strings.HasPrefix(r.URL.Path, "/_sandbox/") && r.URL.Path != "/favicon.ico":
		s.pages++
	}
	s.mu.Unlock()
	s.next.ServeHTTP(w, r)
}

func startSandbox(b *testing.B, now time.Time, sellers ...sandbox.SellerConfig) *site {
	b.Helper()
	sb, err := sandbox.New(sandbox.Config{Sellers: sellers, Clock: now, HistoryDays: months6 + historySlack, FutureDays: 1})
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range sellers {
		sb.Truth(s.Email) // render the views before the clock starts
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	st := &site{url: "http://" + lis.Addr().String(), next: sb}
	srv := &http.Server{Handler: st}
	go srv.Serve(lis)
	b.Cleanup(func() { sb.Close(); srv.Close() })
	return st
}

// collect runs one first sync of the orders stream and returns the lines
// received.
func collect(b *testing.B, p *collectorProc, s sandbox.SellerConfig, from time.Time) int {
	client := collectorv1.NewCollectorServiceClient(p.conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	stream, err := client.Collect(ctx, &collectorv1.CollectRequest{
		Credentials: &collectorv1.Credentials{Platform: &collectorv1.Credentials_Ably{Ably: &collectorv1.AblyCredentials{Email: s.Email, Password: s.Password}}},
		Streams:     []*collectorv1.StreamRequest{{Name: "orders", BackfillFrom: timestamppb.New(from)}},
		TimeZone:    "Asia/Seoul",
	})
	if err != nil {
		b.Error(err)
		return 0
	}
	lines := map[string]bool{}
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return len(lines)
		}
		if err != nil {
			b.Errorf("collect %s: %v", s.Email, err)
			return len(lines)
		}
		for _, l := range m.GetRecords().GetOrderLines() {
			lines[l.SourceId] = true
		}
	}
}

// buildCollector builds cmd/ably-svc, the binary that is deployed.
func buildCollector(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "ably-svc")
	cmd := exec.Command("go", "build", "-o", bin, "hlog.dev/ably-svc/cmd/ably-svc")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("building ably-svc: %v\n%s", err, out)
	}
	return bin
}

type collectorProc struct {
	cmd  *exec.Cmd
	conn *grpc.ClientConn
}

func startCollector(b *testing.B, bin, siteURL string, pool int) *collectorProc {
	b.Helper()
	cmd := exec.Command(bin, "--grpc-addr", "127.0.0.1:0", "--metrics-addr", "", "--site-url", siteURL, "--api-url", "",
		"--chromium-path", browsertest.ChromiumPath(b), "--browser-pool", strconv.Itoa(pool), "--debug-dir", b.TempDir())
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
		b.Fatal("ably-svc exited before serving")
	}
	go io.Copy(io.Discard, stderr)
	conn, err := kit.Dial(addr)
	if err != nil {
		b.Fatal(err)
	}
	return &collectorProc{cmd: cmd, conn: conn}
}

func (p *collectorProc) stop(b *testing.B) {
	p.conn.Close()
	p.cmd.Process.Signal(os.Interrupt)
	if err := p.cmd.Wait(); err != nil {
		b.Errorf("ably-svc exit: %v", err)
	}
}

type memory struct {
	// groupMB is the resident memory of the process group with shared
	// pages counted once: every process's private pages plus the largest
	// shared set (Chromium's processes share one binary and its fonts).
	// Summing VmRSS would count the shared pages once per process, and
	// PSS would split them with unrelated processes mapping the same
	// files (other browsers on the machine), making the figure depend on
	// what else runs.
	groupMB, rssSumMB float64
	procs             int
}

// sampleRSS samples, every 100ms until stopped, the resident memory of the
// collector and every process under it (the browser and its renderers), and
// returns the peak.
func (p *collectorProc) sampleRSS() func() memory {
	done := make(chan struct{})
	result := make(chan memory, 1)
	go func() {
		var peak memory
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			m := treeMemory(p.cmd.Process.Pid)
			if m.groupMB > peak.groupMB {
				peak = m
			}
			select {
			case <-done:
				result <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() memory { close(done); return <-result }
}

// treeMemory measures root and its descendants, from /proc.
func treeMemory(root int) memory {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the parenthesised command: state, ppid, ...
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		children[ppid] = append(children[ppid], pid)
	}
	var m memory
	var maxShared float64
	queue := []int{root}
	for len(queue) > 0 {
		pid := queue[0]
		queue = append(queue[1:], children[pid]...)
		rollup := fmt.Sprintf("/proc/%d/smaps_rollup", pid)
		rss := kbField(rollup, "Rss:")
		if rss == 0 {
			continue // exited, or a zombie
		}
		m.procs++
		m.rssSumMB += rss / 1024
		m.groupMB += (kbField(rollup, "Private_Clean:") + kbField(rollup, "Private_Dirty:")) / 1024
		maxShared = max(maxShared, (kbField(rollup, "Shared_Clean:")+kbField(rollup, "Shared_Dirty:"))/1024)
	}
	m.groupMB += maxShared
	return m
}

func kbField(path, prefix string) float64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb
		}
	}
	return 0
}
