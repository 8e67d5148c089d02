package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"hlog.dev/proto/apidoc"
	identityv1 "hlog.dev/proto/gen/hlog/identity/v1"
	ingestv1 "hlog.dev/proto/gen/hlog/ingest/v1"
	salesv1 "hlog.dev/proto/gen/hlog/sales/v1"
	"hlog.dev/proto/kit"
)

// answers keeps every response body the security test saw, to prove no
// credential is in any of them.
type answers struct{ bodies []string }

type caller struct {
	s      *stack
	client *http.Client
	csrf   string
	header map[string]string
	seen   *answers
}

func (c caller) do(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, c.s.gateway+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	client := c.client
	if client == nil {
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	c.seen.bodies = append(c.seen.bodies, string(data))
	return res.StatusCode, string(data)
}

// routes lists every REST route of the OpenAPI document the gateway serves,
// with its path parameters filled by fill.
func routes(t *testing.T, fill func(param string) string) [][2]string {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(apidoc.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\{([a-z_]+)\}`)
	var out [][2]string
	for path, methods := range doc.Paths {
		p := param.ReplaceAllStringFunc(path, func(m string) string { return url.PathEscape(fill(m[1 : len(m)-1])) })
		for method := range methods {
			out = append(out, [2]string{strings.ToUpper(method), p})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][1]+out[i][0] < out[j][1]+out[j][0] })
	if len(out) < 12 {
		t.Fatalf("only %d routes in the OpenAPI document", len(out))
	}
	return out
}

func TestAnotherSellersDataIsUnreachable(t *testing.T) {
	s := startStack(t, sandboxClock, "cafe24")
	s.seedDemo(t) // seller A: the demo seller with the Cafe24 mall
	seen := &answers{}
	a := caller{s: s, client: s.client, csrf: s.csrf, seen: seen}
	bClient, bCSRF := signedInClient(t, s.gateway, "other@e2e.test", "another long password", true)
	b := caller{s: s, client: bClient, csrf: bCSRF, seen: seen}

	// A's ids, which B guesses, swaps in and forges.
	var runs struct {
		Runs []struct {
			RunID string `json:"run_id"`
		} `json:"runs"`
	}
	s.get(t, "/v1/sync-runs", http.StatusOK, &runs)
	var session struct {
		Seller struct {
			SellerID string `json:"seller_id"`
		} `json:"seller"`
	}
	s.get(t, "/auth/session", http.StatusOK, &session)
	aSeller, aAccount, aRun := session.Seller.SellerID, s.accounts["cafe24"], runs.Runs[0].RunID
	_, aKeyBody := a.do(t, "POST", "/v1/api-keys", `{"name":"a-reports"}`)
	var aKey struct {
		APIKey struct {
			KeyID string `json:"key_id"`
		} `json:"api_key"`
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal([]byte(aKeyBody), &aKey); err != nil || aKey.Secret == "" {
		t.Fatalf("seller A's key: %s", aKeyBody)
	}
	fill := func(p string) string {
		switch p {
		case "account_id":
			return aAccount
		case "run_id":
			return aRun
		case "key_id":
			return aKey.APIKey.KeyID
		}
		t.Fatalf("unknown path parameter %s", p)
		return ""
	}
	all := routes(t, fill)
	var allKey string // made by the operator command in the gRPC subtest
	query := "?start_date=" + periodStart + "&end_date=" + periodEnd + "&granularity=GRANULARITY_DAY&account_id=" + aAccount

	t.Run("unauthenticated calls are refused", func(t *testing.T) {
		anon := caller{s: s, seen: seen}
		for _, r := range append(all, [2]string{"GET", "/export/order-lines"}, [2]string{"GET", "/auth/session"},
			[2]string{"POST", "/auth/sign-out"}, [2]string{"POST", "/auth/password"}) {
			code, body := anon.do(t, r[0], r[1]+query, `{}`)
			if code != http.StatusUnauthorized || !strings.Contains(body, `"code":16`) {
				t.Errorf("%s %s without a session: %d %s", r[0], r[1], code, body)
			}
		}
		// A seller header, or a forged session, is no session.
		forged := caller{s: s, seen: seen, header: map[string]string{kit.SellerHeader: aSeller, "Cookie": "hlog_session=forged"}}
		if code, body := forged.do(t, "GET", "/v1/accounts", ""); code != http.StatusUnauthorized {
			t.Errorf("forged session: %d %s", code, body)
		}
	})

	t.Run("writes without the CSRF token are refused", func(t *testing.T) {
		for _, token := range []string{"", "wrong", a.csrf} { // A's token is not B's
			noCSRF := caller{s: s, client: bClient, csrf: token, seen: seen}
			for _, r := range all {
				if r[0] == "GET" {
					continue
				}
				if code, body := noCSRF.do(t, r[0], r[1], `{}`); code != http.StatusForbidden || !strings.Contains(body, "X-CSRF-Token") {
					t.Errorf("%s %s with CSRF token %q: %d %s", r[0], r[1], token, code, body)
				}
			}
			if code, _ := noCSRF.do(t, "POST", "/auth/sign-out", `{}`); code != http.StatusForbidden {
				t.Errorf("sign-out with CSRF token %q: %d", token, code)
			}
		}
		// A form post (no JSON) cannot sign anyone in.
		req, _ := http.NewRequest("POST", s.gateway+"/auth/sign-in", strings.NewReader("email="+sellerEmail+"&password="+url.QueryEscape(sellerPassword)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusBadRequest {
			t.Errorf("form-encoded sign-in: %v %v", res, err)
		} else {
			res.Body.Close()
		}
	})

	t.Run("every REST route keeps A's data from B", func(t *testing.T) {
		spoof := map[string]string{kit.SellerHeader: aSeller, "Grpc-Metadata-" + kit.SellerHeader: aSeller}
		for _, headers := range []map[string]string{nil, spoof} {
			bb := b
			bb.header = headers
			for _, r := range all {
				code, body := bb.do(t, r[0], r[1]+query, `{}`)
				// A's id must look to B exactly like an id that does not
				// exist: NOT_FOUND (which names the id B sent), never data.
				if code != http.StatusNotFound && (strings.Contains(body, aAccount) || strings.Contains(body, aRun) || strings.Contains(body, aKey.APIKey.KeyID)) {
					t.Errorf("%s %s as B answered with A's ids: %d %s", r[0], r[1], code, body)
				}
				if strings.ContainsAny(r[1], "0123456789") {
					ghost := strings.NewReplacer(aAccount, "1000000000000000001", aRun, "1000000000000000002", aKey.APIKey.KeyID, "1000000000000000003").Replace(r[1])
					ghostCode, _ := bb.do(t, r[0], ghost+query, `{}`)
					if ghostCode != code {
						t.Errorf("%s %s: B tells A's id (%d) from a missing one (%d)", r[0], r[1], code, ghostCode)
					}
				}
				if code == http.StatusOK && r[0] != "GET" && r[1] != "/v1/api-keys" {
					t.Errorf("%s %s as B succeeded on A's id: %s", r[0], r[1], body)
				}
				if code == http.StatusOK && strings.HasPrefix(r[1], "/v1/sales/") && regexp.MustCompile(`"minor_units":"[1-9]`).MatchString(body) {
					t.Errorf("%s %s as B shows sales: %s", r[0], r[1], body)
				}
			}
			code, body := bb.do(t, "GET", "/export/order-lines?format=csv&start_date="+periodStart+"&end_date="+periodEnd, "")
			if code != http.StatusOK || strings.Count(strings.TrimSpace(body), "\n") != 0 {
				t.Errorf("B's export holds rows: %d %.300s", code, body)
			}
		}
		// A's data is all still there.
		var accounts struct {
			Accounts []json.RawMessage `json:"accounts"`
		}
		s.get(t, "/v1/accounts", http.StatusOK, &accounts)
		if len(accounts.Accounts) != 1 {
			t.Errorf("A has %d accounts after B's attempts", len(accounts.Accounts))
		}
	})

	t.Run("gRPC with API keys", func(t *testing.T) {
		conn, err := kit.Dial(s.ingest)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		sales := salesv1.NewSalesServiceClient(conn)
		accounts := ingestv1.NewAccountServiceClient(conn)
		syncs := ingestv1.NewSyncServiceClient(conn)
		keys := identityv1.NewApiKeyServiceClient(conn)
		_, bKeyBody := b.do(t, "POST", "/v1/api-keys", `{"name":"b-reports"}`)
		var bKey struct {
			Secret string `json:"secret"`
		}
		_ = json.Unmarshal([]byte(bKeyBody), &bKey)
		allKey = operatorKey(t, s, "--all")
		with := func(pairs ...string) context.Context {
			return metadata.NewOutgoingContext(context.Background(), metadata.Pairs(pairs...))
		}
		bearer := func(k string) string { return "Bearer " + k }
		summary := &salesv1.GetSummaryRequest{StartDate: periodStart, EndDate: periodEnd}
		paid := func(ctx context.Context) (int64, error) {
			r, err := sales.GetSummary(ctx, summary)
			return r.GetTotals().GetPaid().GetMinorUnits(), err
		}
		var aPaid int64
		if aPaid, err = paid(with("authorization", bearer(aKey.Secret))); err != nil || aPaid == 0 {
			t.Fatalf("A's own key: %d %v", aPaid, err)
		}
		cases := []struct {
			name string
			call func() error
			want codes.Code
		}{
			{"no credentials", func() error { _, err := paid(with(kit.SellerHeader, aSeller)); return err }, codes.Unauthenticated},
			{"forged key", func() error {
				_, err := paid(with("authorization", bearer(aKey.Secret[:len(aKey.Secret)-3]+"AAA")))
				return err
			}, codes.Unauthenticated},
			{"B's key swapped to A", func() error {
				_, err := paid(with("authorization", bearer(bKey.Secret), kit.SellerHeader, aSeller))
				return err
			}, codes.PermissionDenied},
			{"B's key lists A's run", func() error {
				_, err := syncs.GetSyncRun(with("authorization", bearer(bKey.Secret)), &ingestv1.GetSyncRunRequest{RunId: aRun})
				return err
			}, codes.NotFound},
			{"keys cannot manage accounts", func() error {
				_, err := accounts.ListAccounts(with("authorization", bearer(aKey.Secret)), &ingestv1.ListAccountsRequest{})
				return err
			}, codes.PermissionDenied},
			{"keys cannot trigger syncs", func() error {
				_, err := syncs.TriggerSync(with("authorization", bearer(aKey.Secret)), &ingestv1.TriggerSyncRequest{AccountId: aAccount})
				return err
			}, codes.PermissionDenied},
			{"keys cannot make keys", func() error {
				_, err := keys.CreateApiKey(with("authorization", bearer(allKey)), &identityv1.CreateApiKeyRequest{Name: "x"})
				return err
			}, codes.PermissionDenied},
			{"all-sellers key must name a seller", func() error { _, err := paid(with("authorization", bearer(allKey))); return err }, codes.PermissionDenied},
		}
		for _, c := range cases {
			if err := c.call(); status.Code(err) != c.want {
				t.Errorf("%s: %v, want %s", c.name, err, c.want)
			}
		}
		if got, err := paid(with("authorization", bearer(bKey.Secret))); err != nil || got != 0 {
			t.Errorf("B's key sees paid %d (%v), want B's own 0", got, err)
		}
		if got, err := paid(with("authorization", bearer(allKey), kit.SellerHeader, aSeller)); err != nil || got != aPaid {
			t.Errorf("all-sellers key naming A: %d %v, want %d", got, err, aPaid)
		}
		// The watch stream and REST with a key obey the same rules.
		st, err := syncs.WatchSyncRun(with("authorization", bearer(bKey.Secret)), &ingestv1.WatchSyncRunRequest{RunId: aRun})
		if err == nil {
			_, err = st.Recv()
		}
		if status.Code(err) != codes.NotFound {
			t.Errorf("B's key watching A's run: %v", err)
		}
		rest := caller{s: s, seen: seen, header: map[string]string{"Authorization": bearer(allKey), kit.SellerHeader: aSeller}}
		if code, body := rest.do(t, "GET", "/v1/sales/summary?start_date="+periodStart+"&end_date="+periodEnd, ""); code != http.StatusOK || !strings.Contains(body, "minor_units") {
			t.Errorf("REST with the all-sellers key: %d %s", code, body)
		}
		rest.header = map[string]string{"Authorization": bearer(bKey.Secret), kit.SellerHeader: aSeller}
		if code, body := rest.do(t, "GET", "/v1/sales/summary?start_date="+periodStart+"&end_date="+periodEnd, ""); code != http.StatusForbidden {
			t.Errorf("REST with B's key naming A: %d %s", code, body)
		}
		// Revoked keys stop at once.
		if code, body := a.do(t, "POST", "/v1/api-keys/"+aKey.APIKey.KeyID+":revoke", `{}`); code != http.StatusOK {
			t.Fatalf("revoking: %d %s", code, body)
		}
		if _, err := paid(with("authorization", bearer(aKey.Secret))); status.Code(err) != codes.Unauthenticated {
			t.Errorf("revoked key: %v", err)
		}
		if _, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
			t.Errorf("health needs no credentials: %v", err)
		}
	})

	t.Run("repeated wrong passwords are slowed", func(t *testing.T) {
		anon := caller{s: s, seen: seen}
		for i := range 5 {
			if code, body := anon.do(t, "POST", "/auth/sign-in", `{"email":"`+sellerEmail+`","password":"wrong password"}`); code != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d %s", i+1, code, body)
			}
		}
		anon.do(t, "POST", "/auth/sign-in", `{"email":"`+sellerEmail+`","password":"wrong password"}`)
		req, _ := http.NewRequest("POST", s.gateway+"/auth/sign-in", strings.NewReader(`{"email":"`+sellerEmail+`","password":"`+sellerPassword+`"}`))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" || res.Header.Get("Set-Cookie") != "" {
			t.Errorf("the right password right after six wrong ones: %d, Retry-After %q: %s", res.StatusCode, res.Header.Get("Retry-After"), body)
		}
	})

	t.Run("password change", func(t *testing.T) {
		code, body := b.do(t, "POST", "/auth/password", `{"current_password":"another long password","new_password":"a newer long password"}`)
		if code != http.StatusOK {
			t.Fatalf("changing the password: %d %s", code, body)
		}
		var sess struct {
			CSRFToken string `json:"csrf_token"`
		}
		_ = json.Unmarshal([]byte(body), &sess)
		b.csrf = sess.CSRFToken // the new session's
		if code, _ := b.do(t, "GET", "/v1/accounts", ""); code != http.StatusOK {
			t.Errorf("the new session does not work: %d", code)
		}
		anon := caller{s: s, seen: seen}
		if code, _ := anon.do(t, "POST", "/auth/sign-in", `{"email":"other@e2e.test","password":"another long password"}`); code != http.StatusUnauthorized {
			t.Errorf("the old password still signs in: %d", code)
		}
		if code, _ := anon.do(t, "POST", "/auth/sign-in", `{"email":"other@e2e.test","password":"a newer long password"}`); code != http.StatusOK {
			t.Errorf("the new password does not sign in: %d", code)
		}
	})

	t.Run("sign-out ends the session", func(t *testing.T) {
		if code, _ := b.do(t, "POST", "/auth/sign-out", `{}`); code != http.StatusOK {
			t.Fatalf("sign-out: %d", code)
		}
		if code, _ := b.do(t, "GET", "/v1/accounts", ""); code != http.StatusUnauthorized {
			t.Errorf("after sign-out: %d", code)
		}
	})

	t.Run("no credential in any answer or log line", func(t *testing.T) {
		secrets := []string{cafe24ClientSecret, sellerPassword, "another long password", "a newer long password", serviceToken, aKey.Secret, allKey}
		u, _ := url.Parse(s.gateway)
		for _, c := range s.client.Jar.Cookies(u) {
			secrets = append(secrets, c.Value)
		}
		var logs strings.Builder
		for name, p := range s.procs {
			logs.WriteString(name + "\n" + p.Logs())
		}
		tokens := sandboxTokens(t, s)
		secrets = append(secrets, tokens...)
		for _, secret := range secrets {
			if len(secret) < 8 {
				continue
			}
			for _, body := range seen.bodies {
				if strings.Contains(body, secret) && !strings.Contains(body, `"secret"`) {
					t.Errorf("an answer holds a credential (%.6s...): %.200s", secret, body)
				}
			}
			if strings.Contains(logs.String(), secret) {
				t.Errorf("a log line holds a credential (%.6s...)", secret)
			}
		}
		if len(tokens) == 0 {
			t.Error("the Cafe24 sandbox issued no token to look for")
		}
	})
}

// operatorKey makes an API key with `ingest-svc apikey create`.
func operatorKey(t *testing.T, s *stack, scope ...string) string {
	t.Helper()
	cmd := exec.Command(binary(t, "ingest-svc"), append([]string{"apikey", "create", "--name", "e2e-operator"}, scope...)...)
	cmd.Env = append(os.Environ(), "HLOG_MYSQL_DSN="+s.dsn)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ingest-svc apikey create: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^secret\s+(hlk_\S+)$`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no secret in\n%s", out)
	}
	return string(m[1])
}

// sandboxTokens are the Cafe24 tokens the sandbox issued, read from its
// state file, so the test can look for them in answers and logs.
func sandboxTokens(t *testing.T, s *stack) []string {
	t.Helper()
	data, err := os.ReadFile(s.cafe24State)
	if err != nil {
		t.Fatalf("reading the sandbox's tokens: %v", err)
	}
	var state struct {
		Access  map[string]json.RawMessage `json:"access"`
		Refresh map[string]json.RawMessage `json:"refresh"`
	}
	if err := json.Unmarshal(data, &state); err != nil {
		t.Fatalf("sandbox state: %v", err)
	}
	var out []string
	for tok := range state.Access {
		out = append(out, tok)
	}
	for tok := range state.Refresh {
		out = append(out, tok)
	}
	return out
}
