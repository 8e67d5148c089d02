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
	"net/http/cookiejar"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	ablysandbox "hlog.dev/ably-svc/sandbox"
	"hlog.dev/cafe24-svc/sandbox"
	"hlog.dev/gateway/internal/demo"
	"hlog.dev/proto/kit/mysqltest"
	"hlog.dev/proto/kit/proctest"
	"hlog.dev/proto/synth"
	smartstoresandbox "hlog.dev/smartstore-svc/sandbox"
)

// The sandboxes start on a fixed date, and every collector's clock starts
// there too (--platform-clock), so the business the tests see, and the
// windows the collectors ask for, never depend on the day the tests run.
// The Cafe24 and Ably sandbox clocks stand still. The Smartstore one runs,
// level with its collector's, because it checks token timestamps and query
// windows against its own clock (smartstore.md §1); it has one day of
// future orders. The ground truth is generated for the start, and the
// period checked ends the day before it, which nothing the running clock
// reveals can change (payment-date view).
const (
	sandboxClock = "2026-06-15T12:00:00+09:00"
	historyDays  = 90
	periodStart  = "2026-03-20"
	periodEnd    = "2026-06-15"

	cafe24Mall     = "e2e:seed=20260615:orders_per_day=25"
	smartstoreSpec = "e2eshop:seed=20260616:orders_per_day=12"
	ablySpec       = "shop@ably.test:ably-secret-1:seed=20260617:orders_per_day=8"
	ablyEmail      = "shop@ably.test"
	ablyPassword   = "ably-secret-1"
	// Sandbox-only application of the Smartstore sandbox (its defaults).
	smartstoreClientID     = "hlogSandboxApp01"
	smartstoreClientSecret = "$2a$04$hlogdevsandboxsecret00"
	cafe24ClientID         = "hlog-dev-client"
	cafe24ClientSecret     = "hlog-dev-secret"

	serviceToken   = "e2e-service-token-0123456789abcdefghij"
	sellerEmail    = "seller@e2e.test"
	sellerPassword = "correct horse battery"
)

type stack struct {
	// clock of every sandbox, fixed; start and end are the period checked:
	// the last 80 days up to the clock's day in Seoul.
	clock      time.Time
	start, end string
	gateway    string // base URL
	// cafe24State is the Cafe24 sandbox's file of issued tokens.
	cafe24State string
	ingest      string // gRPC address
	dsn         string
	db          *sql.DB
	procs       map[string]*proctest.Proc
	// truth per platform word, the business its sandbox serves.
	truth map[string]*synth.Store
	// Signed in as the demo seller (after seedDemo).
	client   *http.Client
	csrf     string
	accounts map[string]string // platform word -> account id
}

// startStack starts a private MariaDB, ingest-svc, the gateway, and the
// sandbox and collector of each platform named, each as its own process.
// clock is the sandboxes' fixed clock (RFC 3339).
func startStack(t testing.TB, clock string, platforms ...string) *stack {
	t.Helper()
	db := mysqltest.Start(t)
	dir := t.TempDir()
	at, err := time.Parse(time.RFC3339, clock)
	if err != nil {
		t.Fatal(err)
	}
	seoul, _ := time.LoadLocation("Asia/Seoul")
	s := &stack{clock: at, end: at.In(seoul).AddDate(0, 0, -1).Format("2006-01-02"), start: at.In(seoul).AddDate(0, 0, -81).Format("2006-01-02"),
		dsn: db.DSN, db: db.Open(t), procs: map[string]*proctest.Proc{}, truth: map[string]*synth.Store{}, accounts: map[string]string{}}
	collectors := map[string]string{"cafe24": "", "smartstore": "", "ably": ""}
	var cafe24Sandbox string
	for _, p := range platforms {
		sandboxAddr, collectorAddr := freeAddr(t), freeAddr(t)
		collectors[p] = collectorAddr
		switch p {
		case "cafe24":
			cafe24Sandbox = sandboxAddr
			s.cafe24State = filepath.Join(dir, "cafe24-tokens.json")
			s.procs["cafe24-sandbox"] = start(t, "cafe24-sandbox", nil, "--addr", sandboxAddr, "--mall", cafe24Mall, "--clock", clock,
				"--state-file", s.cafe24State,
				"--clock-running=false", "--history-days", strconv.Itoa(historyDays))
			s.procs["cafe24-svc"] = start(t, "cafe24-svc", nil, "--grpc-addr", collectorAddr, "--metrics-addr", "",
				"--api-base-url", "http://"+sandboxAddr+"/malls/{mall_id}", "--platform-clock", clock)
		case "smartstore":
			// Its clock runs, and its collector's starts after it: the
			// collector is behind by the seconds between the two starts,
			// never ahead (the sandbox refuses windows in its future).
			s.procs["smartstore-sandbox"] = start(t, "smartstore-sandbox", nil, "--addr", sandboxAddr, "--seller", smartstoreSpec,
				"--clock", clock, "--clock-running=true", "--future-days", "1", "--history-days", strconv.Itoa(historyDays))
			s.procs["smartstore-svc"] = start(t, "smartstore-svc", nil, "--grpc-addr", collectorAddr, "--metrics-addr", "",
				"--api-base-url", "http://"+sandboxAddr+"/external", "--backfill-days", "120", "--platform-clock", clock)
		case "ably":
			s.procs["ably-sandbox"] = start(t, "ably-sandbox", nil, "--addr", sandboxAddr, "--seller", ablySpec,
				"--clock", clock, "--clock-running=false", "--history-days", strconv.Itoa(historyDays))
			s.procs["ably-svc"] = start(t, "ably-svc", nil, "--grpc-addr", collectorAddr, "--metrics-addr", "",
				"--site-url", "http://"+sandboxAddr, "--api-url", "", "--pace", "20ms", "--backfill-days", "120",
				"--debug-dir", filepath.Join(dir, "ably-debug"), "--platform-clock", clock)
		default:
			t.Fatalf("unknown platform %q", p)
		}
		s.truth[p] = groundTruth(t, p, at)
	}

	ingestAddr, gatewayAddr := freeAddr(t), freeAddr(t)
	s.ingest = ingestAddr
	s.procs["ingest-svc"] = start(t, "ingest-svc", []string{"HLOG_MYSQL_DSN=" + db.DSN, "HLOG_SERVICE_TOKEN=" + serviceToken},
		"--grpc-addr", ingestAddr, "--metrics-addr", "", "--collector-cafe24", collectors["cafe24"],
		"--collector-smartstore", collectors["smartstore"], "--collector-ably", collectors["ably"],
		"--credential-key-file", filepath.Join(dir, "credential.key"), "--buyer-hash-key-file", filepath.Join(dir, "buyer.key"),
		"--create-missing-keys")
	args := []string{"--http-addr", gatewayAddr, "--metrics-addr", "", "--ingest-addr", ingestAddr, "--public-url", "http://" + gatewayAddr}
	if cafe24Sandbox != "" {
		args = append(args, "--cafe24-client-id", cafe24ClientID,
			"--cafe24-authorize-url", "http://"+cafe24Sandbox+"/malls/{mall_id}/api/v2/oauth/authorize")
	}
	s.procs["gateway"] = start(t, "gateway", []string{"HLOG_SERVICE_TOKEN=" + serviceToken, "HLOG_CAFE24_CLIENT_SECRET=" + cafe24ClientSecret}, args...)
	s.gateway = "http://" + gatewayAddr
	return s
}

// seedDemo signs the seller up and connects every platform of the stack
// the way `make run` does (Cafe24 through the OAuth consent redirect),
// following each first sync to its end.
func (s *stack) seedDemo(t testing.TB) {
	t.Helper()
	cfg := demo.Config{GatewayURL: s.gateway, SellerEmail: sellerEmail, SellerPassword: sellerPassword, SellerName: "E2E 상점"}
	if s.truth["cafe24"] != nil {
		cfg.Cafe24Mall = "e2e"
	}
	if s.truth["smartstore"] != nil {
		cfg.SmartstoreClientID, cfg.SmartstoreClientSecret = smartstoreClientID, smartstoreClientSecret
	}
	if s.truth["ably"] != nil {
		cfg.AblyEmail, cfg.AblyPassword = ablyEmail, ablyPassword
	}
	var out bytes.Buffer
	cfg.Out = &out
	if err := demo.Seed(context.Background(), cfg); err != nil {
		t.Fatalf("connecting the sandboxes: %v\n%s", err, out.String())
	}
	s.signIn(t, sellerEmail, sellerPassword)
	var accounts struct {
		Accounts []struct {
			AccountID string `json:"account_id"`
			Platform  string `json:"platform"`
		} `json:"accounts"`
	}
	s.get(t, "/v1/accounts", http.StatusOK, &accounts)
	for _, a := range accounts.Accounts {
		s.accounts[strings.ToLower(strings.TrimPrefix(a.Platform, "PLATFORM_"))] = a.AccountID
	}
	if len(s.accounts) != len(s.truth) {
		t.Fatalf("accounts %v, want one per platform of %v", s.accounts, s.truth)
	}
}

// signIn gives the stack a cookie-keeping client signed in as email.
func (s *stack) signIn(t testing.TB, email, password string) {
	t.Helper()
	s.client, s.csrf = signedInClient(t, s.gateway, email, password, false)
}

// signedInClient signs in (or up, when asked) and returns a client holding
// the session cookie, and the CSRF token.
func signedInClient(t testing.TB, gateway, email, password string, signUp bool) (*http.Client, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	path := "/auth/sign-in"
	if signUp {
		path = "/auth/sign-up"
	}
	fields := map[string]string{"email": email, "password": password}
	if signUp {
		fields["display_name"] = email
	}
	body, _ := json.Marshal(fields)
	res, err := c.Post(gateway+path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", path, email, res.StatusCode, data)
	}
	var sess struct {
		CSRFToken string `json:"csrf_token"`
	}
	if err := json.Unmarshal(data, &sess); err != nil || sess.CSRFToken == "" {
		t.Fatalf("%s answer %s (%v)", path, data, err)
	}
	return c, sess.CSRFToken
}

// groundTruth is the business a platform's sandbox serves, generated here
// from the same configuration: the generator is deterministic.
func groundTruth(t testing.TB, platform string, clock time.Time) *synth.Store {
	t.Helper()
	var cfg synth.Config
	switch platform {
	case "cafe24":
		mc, err := sandbox.ParseMallSpec(cafe24Mall)
		if err != nil {
			t.Fatal(err)
		}
		sb, err := sandbox.New(sandbox.Config{Malls: []sandbox.MallConfig{mc}, Clock: clock, HistoryDays: historyDays, ClientID: "x", ClientSecret: "y"})
		if err != nil {
			t.Fatal(err)
		}
		cfg = sb.SynthConfig(mc)
	case "smartstore":
		sc, err := smartstoresandbox.ParseSellerSpec(smartstoreSpec)
		if err != nil {
			t.Fatal(err)
		}
		sb, err := smartstoresandbox.New(smartstoresandbox.Config{Sellers: []smartstoresandbox.SellerConfig{sc}, Clock: clock, HistoryDays: historyDays, FutureDays: 1, ClientID: smartstoreClientID, ClientSecret: smartstoreClientSecret})
		if err != nil {
			t.Fatal(err)
		}
		cfg = sb.SynthConfig(sc)
	case "ably":
		sc, err := ablysandbox.ParseSellerSpec(ablySpec)
		if err != nil {
			t.Fatal(err)
		}
		sb, err := ablysandbox.New(ablysandbox.Config{Sellers: []ablysandbox.SellerConfig{sc}, Clock: clock, HistoryDays: historyDays})
		if err != nil {
			t.Fatal(err)
		}
		defer sb.Close()
		cfg = sb.SynthConfig(sc)
	}
	store, err := synth.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return store.AsOf(clock)
}

// truthTotals sums the ground truth of every platform of the stack.
func (s *stack) truthTotals(t testing.TB, start, end string, basis synth.Basis) synth.Totals {
	t.Helper()
	var sum synth.Totals
	for p, truth := range s.truth {
		got, err := synth.SalesTotals(truth.Orders, truth.Lines, truth.Location, basis, start, end)
		if err != nil {
			t.Fatalf("%s truth: %v", p, err)
		}
		sum = addTotals(sum, got)
	}
	return sum
}

func addTotals(a, b synth.Totals) synth.Totals {
	return synth.Totals{
		Gross: a.Gross + b.Gross, Discount: a.Discount + b.Discount, Paid: a.Paid + b.Paid,
		Refunded: a.Refunded + b.Refunded, Net: a.Net + b.Net, Orders: a.Orders + b.Orders,
		Units: a.Units + b.Units, Buyers: a.Buyers + b.Buyers, CancelledUnits: a.CancelledUnits + b.CancelledUnits,
		ReturnedUnits: a.ReturnedUnits + b.ReturnedUnits, ExchangedUnits: a.ExchangedUnits + b.ExchangedUnits,
	}
}

func (s *stack) get(t testing.TB, path string, status int, out any) {
	t.Helper()
	s.call(t, "GET", path, "", status, out)
}

func (s *stack) post(t testing.TB, path, body string, status int, out any) {
	t.Helper()
	s.call(t, "POST", path, body, status, out)
}

func (s *stack) call(t testing.TB, method, path, body string, status int, out any) {
	t.Helper()
	req, err := http.NewRequest(method, s.gateway+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", s.csrf)
	res, err := s.client.Do(req)
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
func (s *stack) watch(t testing.TB, runID string) string {
	t.Helper()
	res, err := s.client.Get(s.gateway + "/v1/sync-runs/" + runID + ":watch")
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
func checksums(t testing.TB, db *sql.DB) map[string]string {
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
