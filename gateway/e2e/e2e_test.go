// Package e2e runs H-log end to end: the platform sandboxes, their
// collectors, ingest-svc and the gateway, each as its own process on
// loopback, with a private MariaDB; the REST API, the gRPC API and the
// dashboard in Chromium are checked against the synthetic stores' ground
// truth, and against one seller reaching another's data.
package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"hlog.dev/proto/kit/mysqltest"
	"hlog.dev/proto/synth"
)

func TestMain(m *testing.M) { mysqltest.Main(m) }

func TestSyncedSalesEqualGroundTruth(t *testing.T) {
	s := startStack(t, sandboxClock, "cafe24")
	s.seedDemo(t)
	truth := s.truth["cafe24"]
	seoul := truth.Location

	t.Run("summary", func(t *testing.T) {
		want, err := synth.SalesTotals(truth.Orders, truth.Lines, seoul, synth.PaymentBasis, periodStart, periodEnd)
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
			want, err := synth.SalesSeries(truth.Orders, truth.Lines, seoul, synth.PaymentBasis, periodStart, periodEnd, g.gran)
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
		s.post(t, "/v1/accounts/"+s.accounts["cafe24"]+":sync", `{}`, http.StatusOK, &trig)
		if state := s.watch(t, trig.Run.RunID); state != "SYNC_RUN_STATE_SUCCEEDED" {
			t.Fatalf("second sync ended %s", state)
		}
		after := checksums(t, s.db)
		for table, sum := range before {
			switch table {
			case "sync_runs", "sync_run_streams", "stream_cursors", "platform_accounts", "rollup_versions":
				// Bookkeeping moves, as it should: the new run is recorded, the
				// cursor reaches the collector's new "now" and the account's
				// last success is this run. The collector re-reads its
				// lookback window (14 days), so those days are recomputed and
				// the rollup version, which readers' caches follow, moves.
				// Every data row, the recomputed rollups included, must stay
				// as it was.
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
	s := startStack(t, sandboxClock, "cafe24")
	s.seedDemo(t)
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
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-CSRF-Token", s.csrf)
			res, err := s.client.Do(req)
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
