package gateway

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"hlog.dev/proto/apidoc"
	ingestv1 "hlog.dev/proto/gen/hlog/ingest/v1"
	"hlog.dev/proto/kit"
	"hlog.dev/web"
)

func TestDashboardFiles(t *testing.T) {
	b := startBackend(t)
	gw := startGateway(t, b.addr)
	dist := web.Dist()

	tests := []struct {
		path, file, contentType string
	}{
		{"/", "index.html", "text/html; charset=utf-8"},
		{"/index.html", "index.html", "text/html; charset=utf-8"},
		{"/app.js", "app.js", "text/javascript; charset=utf-8"},
		{"/style.css", "style.css", "text/css; charset=utf-8"},
		{"/chart.umd.min.js", "chart.umd.min.js", "text/javascript; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			want, err := fs.ReadFile(dist, tt.file)
			if err != nil {
				t.Fatalf("reading %s from web.Dist: %v", tt.file, err)
			}
			r := get(t, gw.baseURL+tt.path)
			if r.status != http.StatusOK {
				t.Fatalf("status %d", r.status)
			}
			if !bytes.Equal(r.body, want) {
				t.Errorf("body differs from web/dist/%s", tt.file)
			}
			if got := r.header.Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", got, tt.contentType)
			}
			if got := r.header.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control = %q, want no-cache", got)
			}
			if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", got)
			}
			csp := r.header.Get("Content-Security-Policy")
			if strings.HasPrefix(tt.contentType, "text/html") != (csp != "") {
				t.Errorf("Content-Security-Policy = %q on %s", csp, tt.contentType)
			}
			etag := r.header.Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			again := doRequest(t, http.MethodGet, gw.baseURL+tt.path, nil, map[string]string{"If-None-Match": etag})
			if again.status != http.StatusNotModified || len(again.body) != 0 {
				t.Errorf("revalidation: status %d with %d bytes, want 304 and none", again.status, len(again.body))
			}
			head := doRequest(t, http.MethodHead, gw.baseURL+tt.path, nil, nil)
			if head.status != http.StatusOK || len(head.body) != 0 || head.header.Get("Content-Type") != tt.contentType {
				t.Errorf("HEAD: status %d, %d bytes, type %q", head.status, len(head.body), head.header.Get("Content-Type"))
			}
		})
	}

	if r := get(t, gw.baseURL+"/no-such-file.js"); r.status != http.StatusNotFound {
		t.Errorf("missing file: status %d, want 404", r.status)
	}
	r := doRequest(t, http.MethodPost, gw.baseURL+"/", strings.NewReader("x"), nil)
	if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /: status %d, Allow %q", r.status, r.header.Get("Allow"))
	}
}

func TestDashboardNeedsIndexHTML(t *testing.T) {
	empty := fstest.MapFS{"app.js": {Data: []byte("x")}}
	if _, err := newGateway(testConfig("127.0.0.1:1"), Secrets{ServiceToken: testServiceToken}, nil, empty); err == nil || !strings.Contains(err.Error(), "index.html") {
		t.Errorf("err = %v, want one naming index.html", err)
	}
}

func TestOpenAPIDocument(t *testing.T) {
	b := startBackend(t)
	gw := startGateway(t, b.addr)
	r := get(t, gw.baseURL+"/openapi.json")
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	if got := r.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	if !bytes.Equal(r.body, apidoc.OpenAPI) {
		t.Error("body is not apidoc.OpenAPI")
	}
	var doc struct {
		Paths map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if _, ok := doc.Paths["/v1/sales/summary"]; !ok {
		t.Error("document lacks /v1/sales/summary")
	}
}

func TestProbes(t *testing.T) {
	b := startBackend(t)
	gw := startGateway(t, b.addr)

	type answer struct{ Status, Reason string }
	probe := func(path string) (int, answer) {
		t.Helper()
		r := get(t, gw.baseURL+path)
		var a answer
		if err := json.Unmarshal(r.body, &a); err != nil {
			t.Fatalf("%s: body %q is not JSON: %v", path, r.body, err)
		}
		return r.status, a
	}

	b.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	if code, a := probe("/readyz"); code != http.StatusOK || a.Status != "ready" {
		t.Errorf("readyz with ingest serving: %d %+v", code, a)
	}
	b.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	if code, a := probe("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(a.Reason, "NOT_SERVING") {
		t.Errorf("readyz with ingest not serving: %d %+v", code, a)
	}
	if code, a := probe("/healthz"); code != http.StatusOK || a.Status != "ok" {
		t.Errorf("healthz must not depend on ingest: %d %+v", code, a)
	}
}

func TestReadyzWithIngestDown(t *testing.T) {
	// A port that was free a moment ago: nothing listens there.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	gw := startGateway(t, addr)

	if r := get(t, gw.baseURL+"/readyz"); r.status != http.StatusServiceUnavailable || bytes.Contains(r.body, []byte(addr)) {
		t.Errorf("readyz: status %d, body %s; want 503 without the ingest address", r.status, r.body)
	}
	if r := get(t, gw.baseURL+"/healthz"); r.status != http.StatusOK {
		t.Errorf("healthz: status %d, want 200", r.status)
	}
	r := get(t, gw.baseURL+"/v1/accounts")
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("api: status %d, want 503; body %s", r.status, r.body)
	}
	if e := decodeAPIError(t, r); strings.Contains(e.Message, addr) {
		t.Errorf("message %q exposes the ingest address", e.Message)
	}
}

func TestMetricsCountRequestsByRoute(t *testing.T) {
	b := startBackend(t)
	gw := startGateway(t, b.addr)
	get(t, gw.baseURL+"/v1/sync-runs/run-1")
	get(t, gw.baseURL+"/v1/sync-runs/run-2")
	get(t, gw.baseURL+"/app.js")
	get(t, gw.baseURL+"/v1/sales/timeseries?granularity=HOURLY")

	r := get(t, "http://"+gw.g.MetricsAddr().String()+"/metrics")
	if r.status != http.StatusOK {
		t.Fatalf("metrics: status %d", r.status)
	}
	for _, want := range []string{
		`gateway_http_requests_total{code="200",method="GET",route="/v1/sync-runs/{run_id=*}"} 2`,
		`gateway_http_requests_total{code="200",method="GET",route="web"} 1`,
		`gateway_http_requests_total{code="400",method="GET",route="/v1/sales/timeseries"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	b := startBackend(t)
	gw := startGateway(t, b.addr)
	if r := get(t, gw.baseURL+"/healthz"); r.status != http.StatusOK {
		t.Fatalf("healthz: %d", r.status)
	}
	if err := gw.stop(); err != nil {
		t.Fatalf("run returned %v, want nil after a graceful stop", err)
	}
	if _, err := http.Get(gw.baseURL + "/healthz"); err == nil {
		t.Error("gateway still answers after stopping")
	}
}

func TestConfigFlagsAndEnvironment(t *testing.T) {
	var cfg Config
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := fs.Parse([]string{"--http-addr", ":18080"}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		kit.EnvName("http-addr"):   ":28080", // the flag wins
		kit.EnvName("ingest-addr"): "ingest:9090",
		kit.EnvName("public-url"):  "https://hlog.example.com",
	}
	if err := kit.ApplyEnv(fs, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	want := Config{
		HTTPAddr: ":18080", MetricsAddr: ":9180", IngestAddr: "ingest:9090", PublicURL: "https://hlog.example.com",
		SessionCacheTTL: 5 * time.Second, SalesCacheTTL: 10 * time.Second, Cafe24AuthorizeURL: "https://{mall_id}.cafe24api.com/api/v2/oauth/authorize",
		Cafe24Scopes:  "mall.read_order,mall.read_product,mall.read_category,mall.read_promotion",
		ShutdownGrace: 20 * time.Second, ReadyTimeout: 2 * time.Second,
	}
	if cfg != want {
		t.Errorf("config %+v, want %+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("valid config rejected: %v", err)
	}

	for _, bad := range []string{"", "ftp://x", "hlog.example.com"} {
		c := want
		c.PublicURL = bad
		if err := c.Validate(); err == nil {
			t.Errorf("public url %q accepted", bad)
		}
	}
}

func TestShutdownEndsOpenWatchStreams(t *testing.T) {
	b := startBackend(t)
	b.watchStates = []ingestv1.SyncRunState{ingestv1.SyncRunState_SYNC_RUN_STATE_RUNNING}
	b.watchHeld = make(chan struct{}, 1)
	gw := startGateway(t, b.addr)

	req, _ := http.NewRequest(http.MethodGet, gw.baseURL+"/v1/sync-runs/run-1:watch", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: sessionOf1})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// The first line proves the stream is open and flowing.
	first, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.Contains(first, "SYNC_RUN_STATE_RUNNING") {
		t.Fatalf("first line %q, err %v", first, err)
	}

	stopped := make(chan error, 1)
	go func() { stopped <- gw.stop() }()
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(testConfig("").ShutdownGrace - time.Second):
		t.Fatal("shutdown waited for an open watch stream")
	}
	// Cancellation reaches ingest asynchronously (an HTTP/2 reset).
	select {
	case <-b.watchHeld:
	case <-time.After(10 * time.Second):
		t.Error("ingest's stream was not cancelled")
	}
}
