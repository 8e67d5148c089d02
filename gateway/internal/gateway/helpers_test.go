package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

// fixedTime is the one instant the canned data uses: tests never read the
// wall clock for their data.
var fixedTime = time.Date(2024, 1, 15, 9, 30, 0, 0, time.UTC)

func krw(won int64) *commercev1.Money {
	return &commercev1.Money{CurrencyCode: "KRW", MinorUnits: won}
}

// lockedBuffer collects log lines written from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type runningGateway struct {
	g       *Gateway
	baseURL string
	logs    *lockedBuffer
	stop    func() error
}

func testConfig(ingestAddr string) Config {
	return Config{
		HTTPAddr:      "127.0.0.1:0",
		MetricsAddr:   "127.0.0.1:0",
		IngestAddr:    ingestAddr,
		PublicURL:     "http://127.0.0.1:8080",
		ShutdownGrace: 5 * time.Second,
		ReadyTimeout:  5 * time.Second,
	}
}

// startGateway runs a gateway in front of ingestAddr until the test ends.
func startGateway(t *testing.T, ingestAddr string) *runningGateway {
	t.Helper()
	logs := &lockedBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	g, err := New(testConfig(ingestAddr), Secrets{ServiceToken: testServiceToken}, log)
	if err != nil {
		t.Fatalf("starting gateway: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			runErr = <-done
		})
		return runErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("gateway run: %v", err)
		}
	})
	return &runningGateway{g: g, baseURL: "http://" + g.Addr().String(), logs: logs, stop: stop}
}

type httpResult struct {
	status int
	header http.Header
	body   []byte
}

func doRequest(t *testing.T, method, url string, body io.Reader, header map[string]string) httpResult {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatalf("building %s %s: %v", method, url, err)
	}
	// Signed in as seller 1 unless the test says otherwise.
	req.Header.Set("Cookie", sessionCookie+"="+sessionOf1)
	req.Header.Set(csrfHeader, csrfOf1)
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s %s: %v", method, url, err)
	}
	return httpResult{status: resp.StatusCode, header: resp.Header, body: b}
}

func get(t *testing.T, url string) httpResult {
	t.Helper()
	return doRequest(t, http.MethodGet, url, nil, nil)
}

// apiError is grpc-gateway's error body.
type apiError struct {
	Code    *int            `json:"code"`
	Message string          `json:"message"`
	Details json.RawMessage `json:"details"`
}

func decodeAPIError(t *testing.T, r httpResult) apiError {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error Content-Type = %q, want application/json; body %s", ct, r.body)
	}
	var e apiError
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, r.body)
	}
	if e.Code == nil {
		t.Fatalf("error body has no code: %s", r.body)
	}
	return e
}
