package gateway

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	ingestv1 "hlog.dev/proto/gen/hlog/ingest/v1"
	salesv1 "hlog.dev/proto/gen/hlog/sales/v1"
	"hlog.dev/proto/kit"
)

func TestSellerComesFromTheGatewayNeverFromTheClient(t *testing.T) {
	b := startBackend(t)
	b.watchStates = []ingestv1.SyncRunState{ingestv1.SyncRunState_SYNC_RUN_STATE_SUCCEEDED}
	gw := startGateway(t, b.addr)

	// Every way a client could try to pick the seller, plus headers that
	// must not reach ingest either.
	spoofed := map[string]string{
		"X-Hlog-Seller-Id":               "999",
		"Grpc-Metadata-X-Hlog-Seller-Id": "999",
		"Grpc-Metadata-x-hlog-seller-id": "999",
		"Cookie":                         sessionCookie + "=" + sessionOf1 + "; session=seller-999",
		"X-Request-Id":                   "req-42",
	}
	tests := []struct {
		name, method, path, body, backendMethod string
	}{
		{"sales", http.MethodGet, "/v1/sales/summary?start_date=2024-01-01&end_date=2024-01-31", "", "GetSummary"},
		{"accounts", http.MethodGet, "/v1/accounts", "", "ListAccounts"},
		{"sync with body", http.MethodPost, "/v1/accounts/acc-1:sync", `{}`, "TriggerSync"},
		{"stream", http.MethodGet, "/v1/sync-runs/run-1:watch", "", "WatchSyncRun"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body *strings.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			var r httpResult
			if body != nil {
				r = doRequest(t, tt.method, gw.baseURL+tt.path, body, spoofed)
			} else {
				r = doRequest(t, tt.method, gw.baseURL+tt.path, nil, spoofed)
			}
			if r.status != http.StatusOK {
				t.Fatalf("status %d, body %s", r.status, r.body)
			}
			md := b.lastCall(t, tt.backendMethod).md
			if got := md.Get(kit.SellerHeader); len(got) != 1 || got[0] != "1" {
				t.Errorf("%s = %q, want exactly [\"1\"] (the signed-in seller)", kit.SellerHeader, got)
			}
			if got := md.Get("x-request-id"); len(got) != 1 || got[0] != "req-42" {
				t.Errorf("x-request-id = %q, want [req-42]", got)
			}
			for key, values := range md {
				for _, v := range values {
					if strings.Contains(v, "999") {
						t.Errorf("client value reached ingest as %s=%q", key, v)
					}
				}
				if key == "authorization" && (len(values) != 1 || values[0] != "Bearer "+testServiceToken) {
					t.Errorf("authorization = %q, want the service token", values)
				}
				if strings.Contains(key, "cookie") {
					t.Errorf("client header reached ingest as metadata %q", key)
				}
			}
		})
	}
}

func TestQueryParametersReachIngest(t *testing.T) {
	b := startBackend(t)
	gw := startGateway(t, b.addr)

	r := get(t, gw.baseURL+"/v1/sales/timeseries?start_date=2024-01-01&end_date=2024-03-31"+
		"&granularity=GRANULARITY_WEEK&platforms=PLATFORM_CAFE24&platforms=PLATFORM_ABLY&basis=BASIS_ORDER_DATE")
	if r.status != http.StatusOK {
		t.Fatalf("status %d, body %s", r.status, r.body)
	}
	want := &salesv1.GetTimeSeriesRequest{
		StartDate:   "2024-01-01",
		EndDate:     "2024-03-31",
		Granularity: salesv1.Granularity_GRANULARITY_WEEK,
		Platforms:   []commercev1.Platform{commercev1.Platform_PLATFORM_CAFE24, commercev1.Platform_PLATFORM_ABLY},
		Basis:       salesv1.Basis_BASIS_ORDER_DATE,
	}
	if got := b.lastCall(t, "GetTimeSeries").req; !proto.Equal(got, want) {
		t.Errorf("ingest got %v, want %v", got, want)
	}

	r = doRequest(t, http.MethodPost, gw.baseURL+"/v1/accounts/acc-7:sync", strings.NewReader(`{"streams":["orders"]}`), nil)
	if r.status != http.StatusOK {
		t.Fatalf("trigger sync: status %d, body %s", r.status, r.body)
	}
	wantSync := &ingestv1.TriggerSyncRequest{AccountId: "acc-7", Streams: []string{"orders"}}
	if got := b.lastCall(t, "TriggerSync").req; !proto.Equal(got, wantSync) {
		t.Errorf("ingest got %v, want %v", got, wantSync)
	}
}

func TestResponsesUseProtoNamesAndCarryEveryField(t *testing.T) {
	b := startBackend(t)
	b.summary = &salesv1.GetSummaryResponse{
		StartDate: "2024-01-01", EndDate: "2024-01-31",
		PreviousStartDate: "2023-12-01", PreviousEndDate: "2023-12-31",
		Totals:       &salesv1.Totals{Paid: krw(129000), Net: krw(119000), Refunded: krw(10000), Orders: 3},
		TimeZone:     "Asia/Seoul",
		CurrencyCode: "KRW",
	}
	gw := startGateway(t, b.addr)

	r := get(t, gw.baseURL+"/v1/sales/summary?start_date=2024-01-01&end_date=2024-01-31")
	if r.status != http.StatusOK {
		t.Fatalf("status %d, body %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	var body struct {
		StartDate      string                     `json:"start_date"`
		TimeZone       string                     `json:"time_zone"`
		Totals         map[string]json.RawMessage `json:"totals"`
		PreviousTotals json.RawMessage            `json:"previous_totals"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
	if body.StartDate != "2024-01-01" || body.TimeZone != "Asia/Seoul" {
		t.Errorf("snake_case fields missing: %s", r.body)
	}
	if got := string(body.PreviousTotals); got != "null" {
		t.Errorf("previous_totals = %s, want null (unset message, still present)", got)
	}
	var net struct {
		CurrencyCode string `json:"currency_code"`
		MinorUnits   any    `json:"minor_units"`
	}
	if err := json.Unmarshal(body.Totals["net"], &net); err != nil {
		t.Fatalf("decoding totals.net: %v", err)
	}
	if net.CurrencyCode != "KRW" || net.MinorUnits != "119000" {
		t.Errorf("totals.net = %s, want KRW and minor_units as the string \"119000\"", body.Totals["net"])
	}
	if got := string(body.Totals["cancelled_units"]); got != `"0"` {
		t.Errorf("totals.cancelled_units = %s, want \"0\" (emitted though zero)", got)
	}
	if got := string(body.Totals["gross"]); got != "null" {
		t.Errorf("totals.gross = %s, want null (unset)", got)
	}
	var round salesv1.GetSummaryResponse
	if err := protojson.Unmarshal(r.body, &round); err != nil {
		t.Fatalf("body is not the message's JSON: %v", err)
	}
	if !proto.Equal(&round, b.summary) {
		t.Errorf("round trip = %v, want %v", &round, b.summary)
	}
}

func TestErrorsAreJSONWithTheirHTTPStatus(t *testing.T) {
	tests := []struct {
		code        codes.Code
		message     string
		wantStatus  int
		wantMessage string // empty: the backend's message, as is
	}{
		{codes.InvalidArgument, `start_date "2024-13-01" is not a date`, http.StatusBadRequest, ""},
		{codes.NotFound, "account acc-9 not found", http.StatusNotFound, ""},
		{codes.Unauthenticated, "sign in again", http.StatusUnauthorized, ""},
		{codes.PermissionDenied, "not your account", http.StatusForbidden, ""},
		{codes.FailedPrecondition, "reconnect Cafe24", http.StatusBadRequest, ""},
		{codes.ResourceExhausted, "too many syncs", http.StatusTooManyRequests, ""},
		{codes.AlreadyExists, "account already connected", http.StatusConflict, ""},
		{codes.Internal, "select * from order_lines: deadlock", http.StatusInternalServerError, "internal error; it has been logged"},
		{codes.Unavailable, "dial tcp 10.0.0.7:3306: connection refused", http.StatusServiceUnavailable, "the sales service is unavailable right now; try again shortly"},
	}
	b := startBackend(t)
	gw := startGateway(t, b.addr)
	for _, tt := range tests {
		t.Run(tt.code.String(), func(t *testing.T) {
			b.setErr("GetSummary", status.Error(tt.code, tt.message))
			r := get(t, gw.baseURL+"/v1/sales/summary?start_date=2024-01-01&end_date=2024-01-31")
			if r.status != tt.wantStatus {
				t.Errorf("status %d, want %d; body %s", r.status, tt.wantStatus, r.body)
			}
			e := decodeAPIError(t, r)
			if codes.Code(*e.Code) != tt.code {
				t.Errorf("code %d, want %d (%s)", *e.Code, tt.code, tt.code)
			}
			want := tt.wantMessage
			if want == "" {
				want = tt.message
			}
			if e.Message != want {
				t.Errorf("message %q, want %q", e.Message, want)
			}
			if tt.wantMessage != "" && !strings.Contains(gw.logs.String(), tt.message) {
				t.Errorf("fault detail %q not logged; logs: %s", tt.message, gw.logs.String())
			}
		})
	}
}

func TestBadRequestsAreJSON400BeforeIngest(t *testing.T) {
	b := startBackend(t)
	gw := startGateway(t, b.addr)
	tests := []struct {
		name, method, path, body, mention string
	}{
		{"unknown granularity", http.MethodGet, "/v1/sales/timeseries?start_date=2024-01-01&end_date=2024-01-31&granularity=HOURLY", "", "HOURLY"},
		{"unknown platform", http.MethodGet, "/v1/sales/summary?platforms=PLATFORM_AMAZON", "", "PLATFORM_AMAZON"},
		{"unknown basis", http.MethodGet, "/v1/sales/summary?basis=BASIS_SHIPPED", "", "BASIS_SHIPPED"},
		{"not a number", http.MethodGet, "/v1/sync-runs?page_size=many", "", "many"},
		{"unknown body field", http.MethodPost, "/v1/accounts/acc-1:sync", `{"stream":"orders"}`, "stream"},
		{"malformed body", http.MethodPost, "/v1/accounts/acc-1:sync", `{"streams":`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(b.callsTo("GetSummary")) + len(b.callsTo("GetTimeSeries")) + len(b.callsTo("TriggerSync")) + len(b.callsTo("ListSyncRuns"))
			var r httpResult
			if tt.body != "" {
				r = doRequest(t, tt.method, gw.baseURL+tt.path, strings.NewReader(tt.body), map[string]string{"Content-Type": "application/json"})
			} else {
				r = doRequest(t, tt.method, gw.baseURL+tt.path, nil, nil)
			}
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400; body %s", r.status, r.body)
			}
			e := decodeAPIError(t, r)
			t.Logf("message: %s", e.Message)
			if codes.Code(*e.Code) != codes.InvalidArgument {
				t.Errorf("code %d, want INVALID_ARGUMENT", *e.Code)
			}
			if !strings.Contains(e.Message, tt.mention) || e.Message == "" {
				t.Errorf("message %q does not mention %q", e.Message, tt.mention)
			}
			after := len(b.callsTo("GetSummary")) + len(b.callsTo("GetTimeSeries")) + len(b.callsTo("TriggerSync")) + len(b.callsTo("ListSyncRuns"))
			if after != before {
				t.Errorf("a bad request reached ingest")
			}
		})
	}
}

func TestUnknownAPIRoutesAreJSON(t *testing.T) {
	b := startBackend(t)
	gw := startGateway(t, b.addr)

	r := get(t, gw.baseURL+"/v1/nothing-here")
	if r.status != http.StatusNotFound {
		t.Fatalf("status %d, want 404", r.status)
	}
	if e := decodeAPIError(t, r); codes.Code(*e.Code) != codes.NotFound {
		t.Errorf("code %d, want NOT_FOUND", *e.Code)
	}

	r = doRequest(t, http.MethodDelete, gw.baseURL+"/v1/sales/summary", nil, nil)
	if r.status != http.StatusMethodNotAllowed {
		t.Fatalf("status %d, want 405; body %s", r.status, r.body)
	}
	if e := decodeAPIError(t, r); codes.Code(*e.Code) != codes.Unimplemented {
		t.Errorf("code %d, want UNIMPLEMENTED", *e.Code)
	}
	if strings.Contains(gw.logs.String(), "api call failed") {
		t.Errorf("routing errors logged as faults: %s", gw.logs.String())
	}
}

func TestWatchSyncRunStreamsOneJSONObjectPerLine(t *testing.T) {
	b := startBackend(t)
	b.watchStates = []ingestv1.SyncRunState{
		ingestv1.SyncRunState_SYNC_RUN_STATE_QUEUED,
		ingestv1.SyncRunState_SYNC_RUN_STATE_RUNNING,
		ingestv1.SyncRunState_SYNC_RUN_STATE_SUCCEEDED,
	}
	gw := startGateway(t, b.addr)

	r := get(t, gw.baseURL+"/v1/sync-runs/run-5:watch")
	if r.status != http.StatusOK {
		t.Fatalf("status %d, body %s", r.status, r.body)
	}
	var states []string
	sc := bufio.NewScanner(bytes.NewReader(r.body))
	for sc.Scan() {
		var line struct {
			Result struct {
				Run struct {
					RunID string `json:"run_id"`
					State string `json:"state"`
				} `json:"run"`
			} `json:"result"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if line.Result.Run.RunID != "run-5" {
			t.Errorf("run_id %q, want run-5", line.Result.Run.RunID)
		}
		states = append(states, line.Result.Run.State)
	}
	want := []string{"SYNC_RUN_STATE_QUEUED", "SYNC_RUN_STATE_RUNNING", "SYNC_RUN_STATE_SUCCEEDED"}
	if strings.Join(states, ",") != strings.Join(want, ",") {
		t.Errorf("states %v, want %v", states, want)
	}
}
