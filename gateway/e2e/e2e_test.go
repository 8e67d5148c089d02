// Package e2e runs the walking skeleton end to end: the Cafe24 sandbox,
// cafe24-svc, ingest-svc and the gateway, each as its own process on
// loopback, with a private MariaDB; the REST API and the dashboard are checked
// against the synthetic store's ground truth.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hlog.dev/cafe24-svc/sandbox"
	"hlog.dev/gateway/internal/demo"
	"hlog.dev/proto/kit/mysqltest"
	"hlog.dev/proto/synth"
)

func TestMain(m *testing.M) { mysqltest.Main(m) }

// The sandbox clock is fixed, so the business the test sees never depends on
// the wall clock.
const (
	sandboxClock = "2026-06-15T12:00:00+09:00"
	mallSpec     = "e2e:seed=20260615:orders_per_day=25"
	historyDays  = 90
	periodStart  = "2026-03-20"
	periodEnd    = "2026-06-15"
)

type stack struct {
	gateway string // base URL
	sandbox string // base URL
	db      *sql.DB
	account string
	truth   *synth.Store
}

func startStack(t *testing.T) *stack {
	t.Helper()
	db := mysqltest.Start(t)
	dir := t.TempDir()

	sandboxAddr, collectorAddr, ingestAddr, gatewayAddr := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	// The sandbox clock stands still in the past while the collector judges
	// token expiry by the wall clock, so tokens here outlive the gap.
	start(t, "cafe24-sandbox", nil, "--addr", sandboxAddr, "--mall", mallSpec, "--clock", sandboxClock,
		"--clock-running=false", "--history-days", strconv.Itoa(historyDays),
		"--access-token-ttl", "87600h", "--refresh-token-ttl", "87600h")
	start(t, "cafe24-svc", nil, "--grpc-addr", collectorAddr, "--metrics-addr", "",
		"--api-base-url", "http://"+sandboxAddr+"/malls/{mall_id}")
	start(t, "ingest-svc", []string{"HLOG_MYSQL_DSN=" + db.DSN},
		"--grpc-addr", ingestAddr, "--metrics-addr", "", "--collector-cafe24", collectorAddr,
		"--collector-smartstore", "", "--collector-ably", "",
		"--credential-key-file", filepath.Join(dir, "credential.key"), "--buyer-hash-key-file", filepath.Join(dir, "buyer.key"),
		"--create-missing-keys")
	start(t, "gateway", nil, "--http-addr", gatewayAddr, "--metrics-addr", "", "--ingest-addr", ingestAddr)

	s := &stack{gateway: "http://" + gatewayAddr, sandbox: "http://" + sandboxAddr, db: db.Open(t), truth: groundTruth(t)}

	// Connect the mall the way `make run` does: it adds the account over REST,
	// which queues the first (backfill) sync, and follows that run to its end.
	var out bytes.Buffer
	err := demo.Seed(context.Background(), demo.Config{
		GatewayURL: s.gateway, Cafe24Sandbox: s.sandbox, Cafe24Mall: "e2e",
		Cafe24Client: "hlog-dev-client", Cafe24Secret: "hlog-dev-secret", Out: &out,
	})
	if err != nil {
		t.Fatalf("connecting the mall: %v\n%s", err, out.String())
	}
	var accounts struct {
		Accounts []struct {
			AccountID string `json:"account_id"`
		} `json:"accounts"`
	}
	s.get(t, "/v1/accounts", http.StatusOK, &accounts)
	if len(accounts.Accounts) != 1 {
		t.Fatalf("want one account, got %+v", accounts)
	}
	s.account = accounts.Accounts[0].AccountID
	return s
}

// groundTruth is the business the sandbox serves, generated here from the same
// configuration: the generator is deterministic.
func groundTruth(t *testing.T) *synth.Store {
	t.Helper()
	clock, err := time.Parse(time.RFC3339, sandboxClock)
	if err != nil {
		t.Fatal(err)
	}
	mc, err := sandbox.ParseMallSpec(mallSpec)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.New(sandbox.Config{Malls: []sandbox.MallConfig{mc}, Clock: clock, HistoryDays: historyDays, ClientID: "x", ClientSecret: "y"})
	if err != nil {
		t.Fatal(err)
	}
	store, err := synth.Generate(sb.SynthConfig(mc))
	if err != nil {
		t.Fatal(err)
	}
	return store.AsOf(clock)
}

func TestSyncedSalesEqualGroundTruth(t *testing.T) {
	s := startStack(t)
	seoul := s.truth.Location

	t.Run("summary", func(t *testing.T) {
		want, err := synth.SalesTotals(s.truth.Orders, s.truth.Lines, seoul, synth.PaymentBasis, periodStart, periodEnd)
		if err != nil {
			t.Fatal(err)
		}
		if want.Paid == 0 || want.Refunded == 0 {
			t.Fatalf("ground truth has no sales or no refunds in the period: %+v", want)
		}
		var got struct {
			Totals totalsJSON `json:"totals"`
		}
		s.get(t, "/v1/sales/summary?start_date="+periodStart+"&end_date="+periodEnd, http.StatusOK, &got)
		if g := got.Totals.totals(t); g != want {
			t.Errorf("summary over REST\n got %+v\nwant %+v", g, want)
		}
	})

	for _, g := range []struct {
		name string
		gran synth.Granularity
	}{{"GRANULARITY_DAY", synth.Day}, {"GRANULARITY_WEEK", synth.Week}, {"GRANULARITY_MONTH", synth.Month}} {
		t.Run("series "+g.name, func(t *testing.T) {
			want, err := synth.SalesSeries(s.truth.Orders, s.truth.Lines, seoul, synth.PaymentBasis, periodStart, periodEnd, g.gran)
			if err != nil {
				t.Fatal(err)
			}
			got := s.series(t, g.name)
			if len(got) != len(want) {
				t.Fatalf("%d buckets, want %d", len(got), len(want))
			}
			for i, w := range want {
				if got[i].StartDate != w.Start || got[i].Label != w.Label || got[i].Totals.totals(t) != w.Totals {
					t.Errorf("bucket %d\n got %s %s %+v\nwant %s %s %+v", i, got[i].StartDate, got[i].Label, got[i].Totals.totals(t), w.Start, w.Label, w.Totals)
				}
			}
		})
	}

	t.Run("a second sync changes no row", func(t *testing.T) {
		before := checksums(t, s.db)
		var trig struct {
			Run struct {
				RunID string `json:"run_id"`
			} `json:"run"`
		}
		s.post(t, "/v1/accounts/"+s.account+":sync", `{}`, http.StatusOK, &trig)
		if state := s.watch(t, trig.Run.RunID); state != "SYNC_RUN_STATE_SUCCEEDED" {
			t.Fatalf("second sync ended %s", state)
		}
		after := checksums(t, s.db)
		for table, sum := range before {
			switch table {
			case "sync_runs", "sync_run_streams", "stream_cursors", "platform_accounts":
				// Bookkeeping moves, as it should: the new run is recorded, the
				// cursor reaches the collector's new "now" and the account's
				// last success is this run. Every data row must stay as it was.
				continue
			}
			if after[table] != sum {
				t.Errorf("table %s changed on a repeated sync: %s -> %s", table, sum, after[table])
			}
		}
	})

	t.Run("dashboard draws the served data", func(t *testing.T) {
		checkDashboardChart(t, s)
	})
}

func TestBadInputGetsClearErrors(t *testing.T) {
	s := startStack(t)
	cases := []struct {
		name, method, path, body string
		status                   int
		message                  string
	}{
		{"sync of an unknown account", "POST", "/v1/accounts/999999:sync", `{}`, http.StatusNotFound, "999999"},
		{"period ending before it starts", "GET", "/v1/sales/summary?start_date=2026-06-10&end_date=2026-06-01", "", http.StatusBadRequest, "before"},
		{"series ending before it starts", "GET", "/v1/sales/timeseries?start_date=2026-06-10&end_date=2026-06-01&granularity=GRANULARITY_DAY", "", http.StatusBadRequest, "before"},
		{"unknown granularity", "GET", "/v1/sales/timeseries?start_date=2026-06-01&end_date=2026-06-10&granularity=HOURLY", "", http.StatusBadRequest, "granularity"},
		{"missing granularity", "GET", "/v1/sales/timeseries?start_date=2026-06-01&end_date=2026-06-10", "", http.StatusBadRequest, "granularity"},
		{"malformed date", "GET", "/v1/sales/summary?start_date=2026-13-01&end_date=2026-06-10", "", http.StatusBadRequest, "start_date"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			req, _ := http.NewRequest(c.method, s.gateway+c.path, body)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			data, _ := io.ReadAll(res.Body)
			var e struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(data, &e); err != nil {
				t.Fatalf("error body is not JSON: %s", data)
			}
			if res.StatusCode != c.status || !strings.Contains(e.Message, c.message) {
				t.Errorf("%s %s: got %d %q, want %d with %q", c.method, c.path, res.StatusCode, e.Message, c.status, c.message)
			}
		})
	}
	// Nothing bad input did may have left a run or an account behind.
	var runs int
	if err := s.db.QueryRow("SELECT COUNT(*) FROM sync_runs").Scan(&runs); err != nil {
		t.Fatal(err)
	}
	if runs != 1 {
		t.Errorf("%d sync runs after bad input, want only the first sync", runs)
	}
}

type totalsJSON struct {
	Gross, Discount, Paid, Refunded, Net struct {
		MinorUnits string `json:"minor_units"`
	}
	Orders         string `json:"orders"`
	Units          string `json:"units"`
	Buyers         string `json:"buyers"`
	CancelledUnits string `json:"cancelled_units"`
	ReturnedUnits  string `json:"returned_units"`
	ExchangedUnits string `json:"exchanged_units"`
}

func (j totalsJSON) totals(t *testing.T) synth.Totals {
	n := func(s string) int64 {
		if s == "" {
			return 0
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("not an int64: %q", s)
		}
		return v
	}
	return synth.Totals{
		Gross: n(j.Gross.MinorUnits), Discount: n(j.Discount.MinorUnits), Paid: n(j.Paid.MinorUnits),
		Refunded: n(j.Refunded.MinorUnits), Net: n(j.Net.MinorUnits),
		Orders: n(j.Orders), Units: n(j.Units), Buyers: n(j.Buyers),
		CancelledUnits: n(j.CancelledUnits), ReturnedUnits: n(j.ReturnedUnits), ExchangedUnits: n(j.ExchangedUnits),
	}
}

type pointJSON struct {
	StartDate string     `json:"start_date"`
	EndDate   string     `json:"end_date"`
	Label     string     `json:"label"`
	Totals    totalsJSON `json:"totals"`
}

func (s *stack) series(t *testing.T, granularity string) []pointJSON {
	var got struct {
		Points []pointJSON `json:"points"`
	}
	s.get(t, "/v1/sales/timeseries?start_date="+periodStart+"&end_date="+periodEnd+"&granularity="+granularity, http.StatusOK, &got)
	return got.Points
}

func (s *stack) get(t *testing.T, path string, status int, out any) {
	t.Helper()
	s.call(t, "GET", path, "", status, out)
}

func (s *stack) post(t *testing.T, path, body string, status int, out any) {
	t.Helper()
	s.call(t, "POST", path, body, status, out)
}

func (s *stack) call(t *testing.T, method, path, body string, status int, out any) {
	t.Helper()
	req, err := http.NewRequest(method, s.gateway+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != status {
		t.Fatalf("%s %s: %d %s, want %d", method, path, res.StatusCode, data, status)
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("%s %s: %v: %s", method, path, err, data)
	}
}

// watch follows a run over the REST watch stream until it ends.
func (s *stack) watch(t *testing.T, runID string) string {
	t.Helper()
	res, err := http.Get(s.gateway + "/v1/sync-runs/" + runID + ":watch")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	state := ""
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var msg struct {
			Result struct {
				Run struct {
					State string `json:"state"`
				} `json:"run"`
			} `json:"result"`
		}
		if err := json.Unmarshal(sc.Bytes(), &msg); err != nil {
			t.Fatalf("watch line: %v: %s", err, sc.Bytes())
		}
		state = msg.Result.Run.State
	}
	return state
}

// checksums reads CHECKSUM TABLE of every table of the database, a content
// hash both MySQL and MariaDB compute.
func checksums(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	rows, err := db.Query("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	out := map[string]string{}
	for _, table := range tables {
		var name string
		var sum sql.NullInt64
		if err := db.QueryRow("CHECKSUM TABLE `"+table+"`").Scan(&name, &sum); err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := db.QueryRow("SELECT COUNT(*) FROM `" + table + "`").Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = fmt.Sprintf("%d rows, checksum %d", n, sum.Int64)
	}
	if len(out) < 5 {
		t.Fatalf("only tables %v", tables)
	}
	return out
}
