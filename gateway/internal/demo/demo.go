// Package demo signs the local stack's demo seller in (signing them up the
// first time), connects them to every platform sandbox that is configured
// and follows each account's sync to its end, through the same HTTP routes
// the dashboard uses: Cafe24 through the real OAuth consent redirect,
// Smartstore and Ably through the REST API. `make run` calls it once every
// service is up; the end-to-end tests use it too.
package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Config says where the gateway is, who the demo seller is and which
// sandbox accounts to connect; an empty platform block is skipped.
type Config struct {
	GatewayURL     string // e.g. http://127.0.0.1:8080
	SellerEmail    string
	SellerPassword string
	SellerName     string
	// Cafe24Mall is the sandbox mall to connect through the gateway's
	// OAuth flow (the gateway knows the app and the consent page).
	Cafe24Mall string
	// Smartstore application of the sandbox.
	SmartstoreClientID     string
	SmartstoreClientSecret string
	// Ably seller-site sign-in of the sandbox.
	AblyEmail    string
	AblyPassword string
	// Out receives progress lines for the person running `make run`.
	Out io.Writer
}

// Client is a signed-in demo seller.
type Client struct {
	cfg  Config
	http *http.Client
	csrf string
	out  io.Writer
}

// Seed waits for the gateway, signs the seller in, connects what is not
// connected yet (syncing what is) and follows every account's newest run
// to its end.
func Seed(ctx context.Context, cfg Config) error {
	c, err := SignIn(ctx, cfg)
	if err != nil {
		return err
	}
	accounts, err := c.Accounts(ctx)
	if err != nil {
		return err
	}
	have := map[string]string{}
	for _, a := range accounts {
		have[a.Platform] = a.AccountID
	}
	type step struct {
		platform string
		enabled  bool
		connect  func(context.Context) error
	}
	steps := []step{
		{"PLATFORM_CAFE24", cfg.Cafe24Mall != "", c.ConnectCafe24},
		{"PLATFORM_SMARTSTORE", cfg.SmartstoreClientID != "", c.ConnectSmartstore},
		{"PLATFORM_ABLY", cfg.AblyEmail != "", c.ConnectAbly},
	}
	for _, s := range steps {
		if !s.enabled {
			continue
		}
		if id, ok := have[s.platform]; ok {
			// Data is kept between runs; a fresh sync brings it up to date.
			if err := c.do(ctx, "POST", "/v1/accounts/"+id+":sync", map[string]any{}, &struct{}{}); err != nil {
				return fmt.Errorf("syncing account %s: %w", id, err)
			}
			fmt.Fprintf(c.out, "%s already connected as account %s; syncing it\n", platformWord(s.platform), id)
			continue
		}
		if err := s.connect(ctx); err != nil {
			return fmt.Errorf("connecting %s: %w", platformWord(s.platform), err)
		}
		fmt.Fprintf(c.out, "connected the %s sandbox\n", platformWord(s.platform))
	}
	accounts, err = c.Accounts(ctx)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(accounts))
	for i, a := range accounts {
		wg.Go(func() { errs[i] = c.FollowNewestRun(ctx, a.AccountID, platformWord(a.Platform)) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func platformWord(p string) string { return strings.ToLower(strings.TrimPrefix(p, "PLATFORM_")) }

// SignIn signs the seller in, signing them up when the e-mail is unknown.
func SignIn(ctx context.Context, cfg Config) (*Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &Client{cfg: cfg, out: cfg.Out, http: &http.Client{
		Timeout: 60 * time.Second,
		Jar:     jar,
		// Redirects are followed by hand: the OAuth dance checks each hop.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	if c.out == nil {
		c.out = io.Discard
	}
	if err := c.waitReady(ctx); err != nil {
		return nil, err
	}
	var sess struct {
		CSRFToken string `json:"csrf_token"`
	}
	err := c.do(ctx, "POST", "/auth/sign-in", map[string]any{"email": cfg.SellerEmail, "password": cfg.SellerPassword}, &sess)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.HTTPStatus == http.StatusUnauthorized {
		err = c.do(ctx, "POST", "/auth/sign-up", map[string]any{
			"email": cfg.SellerEmail, "password": cfg.SellerPassword, "display_name": cfg.SellerName,
		}, &sess)
		if err == nil {
			fmt.Fprintf(c.out, "signed up the demo seller %s\n", cfg.SellerEmail)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("signing in %s: %w", cfg.SellerEmail, err)
	}
	c.csrf = sess.CSRFToken
	return c, nil
}

// Account is an account as the REST API lists it.
type Account struct {
	AccountID         string `json:"account_id"`
	Platform          string `json:"platform"`
	ExternalAccountID string `json:"external_account_id"`
	Status            string `json:"status"`
}

// Accounts lists the seller's accounts.
func (c *Client) Accounts(ctx context.Context) ([]Account, error) {
	var out struct {
		Accounts []Account `json:"accounts"`
	}
	if err := c.do(ctx, "GET", "/v1/accounts", nil, &out); err != nil {
		return nil, fmt.Errorf("listing accounts: %w", err)
	}
	return out.Accounts, nil
}

// hiddenInput matches the consent form's hidden fields.
var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// ConnectCafe24 runs the OAuth authorization-code flow as a browser would:
// the gateway's start route, the mall's consent page (approved), and back
// to the gateway's callback, which connects the mall.
func (c *Client) ConnectCafe24(ctx context.Context) error {
	loc, err := c.redirect(ctx, "GET", c.cfg.GatewayURL+"/connect/cafe24/start?"+url.Values{"mall_id": {c.cfg.Cafe24Mall}}.Encode(), nil)
	if err != nil {
		return err
	}
	if strings.Contains(loc, "connect_error=") {
		return fmt.Errorf("the gateway refused: %s", outcome(loc))
	}
	page, err := c.fetch(ctx, loc)
	if err != nil {
		return fmt.Errorf("opening the consent page: %w", err)
	}
	form := url.Values{"decision": {"approve"}}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	if form.Get("state") == "" {
		return fmt.Errorf("the consent page at %s has no form: %.200s", loc, page)
	}
	back, err := c.redirect(ctx, "POST", loc, form)
	if err != nil {
		return fmt.Errorf("approving: %w", err)
	}
	done, err := c.redirect(ctx, "GET", back, nil)
	if err != nil {
		return fmt.Errorf("returning to the gateway: %w", err)
	}
	if !strings.Contains(done, "connected=cafe24") {
		return fmt.Errorf("%s", outcome(done))
	}
	return nil
}

func outcome(location string) string {
	u, err := url.Parse(location)
	if err != nil {
		return location
	}
	if e := u.Query().Get("connect_error"); e != "" {
		return e
	}
	return location
}

// redirect makes a request that must answer with a redirect, and returns
// where to.
func (c *Client) redirect(ctx context.Context, method, target string, form url.Values) (string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode/100 != 3 {
		return "", fmt.Errorf("%s %s: %s: %.300s", method, target, res.Status, data)
	}
	loc, err := res.Location()
	if err != nil {
		return "", fmt.Errorf("%s %s: redirect without a location", method, target)
	}
	return loc.String(), nil
}

func (c *Client) fetch(ctx context.Context, target string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", target, nil)
	if err != nil {
		return "", err
	}
	res, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s: %.300s", target, res.Status, data)
	}
	return string(data), nil
}

// ConnectSmartstore adds the sandbox's Commerce API application.
func (c *Client) ConnectSmartstore(ctx context.Context) error {
	return c.do(ctx, "POST", "/v1/accounts", map[string]any{
		"platform": "PLATFORM_SMARTSTORE",
		"credentials": map[string]any{"smartstore": map[string]any{
			"client_id": c.cfg.SmartstoreClientID, "client_secret": c.cfg.SmartstoreClientSecret,
		}},
	}, &struct{}{})
}

// ConnectAbly adds the sandbox's seller-site sign-in.
func (c *Client) ConnectAbly(ctx context.Context) error {
	return c.do(ctx, "POST", "/v1/accounts", map[string]any{
		"platform": "PLATFORM_ABLY",
		"credentials": map[string]any{"ably": map[string]any{
			"email": c.cfg.AblyEmail, "password": c.cfg.AblyPassword,
		}},
	}, &struct{}{})
}

type run struct {
	RunID   string `json:"run_id"`
	State   string `json:"state"`
	Streams []struct {
		Stream        string `json:"stream"`
		RecordsLoaded string `json:"records_loaded"`
	} `json:"streams"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// FollowNewestRun watches the account's newest run until it ends, and
// fails unless it succeeded.
func (c *Client) FollowNewestRun(ctx context.Context, accountID, name string) error {
	var runs struct {
		Runs []run `json:"runs"`
	}
	if err := c.do(ctx, "GET", "/v1/sync-runs?account_id="+url.QueryEscape(accountID)+"&page_size=1", nil, &runs); err != nil {
		return fmt.Errorf("listing sync runs: %w", err)
	}
	if len(runs.Runs) == 0 {
		return fmt.Errorf("account %s has no sync run", accountID)
	}
	req, err := http.NewRequestWithContext(ctx, "GET", c.cfg.GatewayURL+"/v1/sync-runs/"+runs.Runs[0].RunID+":watch", nil)
	if err != nil {
		return err
	}
	// A watch lasts as long as the run, so no client timeout.
	res, err := (&http.Client{Jar: c.http.Jar}).Do(req)
	if err != nil {
		return fmt.Errorf("watching run %s: %w", runs.Runs[0].RunID, err)
	}
	defer res.Body.Close()
	last := runs.Runs[0]
	printed := ""
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var msg struct {
			Result struct {
				Run run `json:"run"`
			} `json:"result"`
			Error *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &msg); err != nil {
			return fmt.Errorf("reading run updates: %w", err)
		}
		if msg.Error != nil {
			return fmt.Errorf("watching run: %s", msg.Error.Message)
		}
		last = msg.Result.Run
		var parts []string
		for _, s := range last.Streams {
			parts = append(parts, s.Stream+" "+s.RecordsLoaded)
		}
		line := fmt.Sprintf("%s sync %s: %s %s", name, last.RunID, strings.TrimPrefix(last.State, "SYNC_RUN_STATE_"), strings.Join(parts, ", "))
		if line != printed {
			fmt.Fprintln(c.out, line)
			printed = line
		}
	}
	if last.State != "SYNC_RUN_STATE_SUCCEEDED" {
		if last.Error != nil {
			return fmt.Errorf("%s sync ended %s: %s: %s", name, last.State, last.Error.Code, last.Error.Message)
		}
		return fmt.Errorf("%s sync ended %s", name, last.State)
	}
	return nil
}

func (c *Client) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(90 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", c.cfg.GatewayURL+"/readyz", nil)
		res, err := c.http.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s/readyz not ready after 90s (last: %v)", c.cfg.GatewayURL, errOrStatus(err, res))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

func errOrStatus(err error, res *http.Response) string {
	if err != nil {
		return err.Error()
	}
	return res.Status
}

// APIError is an error answer of the gateway.
type APIError struct {
	HTTPStatus int
	Message    string
}

func (e *APIError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.HTTPStatus, e.Message) }

// do calls the gateway as the signed-in seller (cookie and CSRF token).
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.cfg.GatewayURL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		var e struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(data, &e) != nil || e.Message == "" {
			e.Message = fmt.Sprintf("%.200s", data)
		}
		return &APIError{HTTPStatus: res.StatusCode, Message: e.Message}
	}
	return json.Unmarshal(data, out)
}
