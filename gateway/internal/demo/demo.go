// Package demo connects the local stack's demo seller to the platform
// sandboxes and runs a first sync, through the same REST API the dashboard
// uses. `make run` calls it once every service is up.
package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Config says where the gateway and the Cafe24 sandbox are.
type Config struct {
	GatewayURL    string // e.g. http://127.0.0.1:8080
	Cafe24Sandbox string // e.g. http://127.0.0.1:7101
	Cafe24Mall    string // the sandbox mall to connect, e.g. "demo"
	Cafe24Client  string // client id of the app registered in the sandbox
	Cafe24Secret  string
	// Out receives progress lines for the person running `make run`.
	Out io.Writer
}

// Seed waits for the gateway, connects the demo mall unless it is connected
// already, and follows the account's newest sync run to its end.
func Seed(ctx context.Context, cfg Config) error {
	c := &client{http: &http.Client{Timeout: 30 * time.Second}, out: cfg.Out}
	if err := c.waitReady(ctx, cfg.GatewayURL+"/readyz"); err != nil {
		return err
	}
	var accounts struct {
		Accounts []struct {
			AccountID         string `json:"account_id"`
			Platform          string `json:"platform"`
			ExternalAccountID string `json:"external_account_id"`
		} `json:"accounts"`
	}
	if err := c.do(ctx, "GET", cfg.GatewayURL+"/v1/accounts", nil, &accounts); err != nil {
		return fmt.Errorf("listing accounts: %w", err)
	}
	accountID := ""
	for _, a := range accounts.Accounts {
		if a.Platform == "PLATFORM_CAFE24" && a.ExternalAccountID == cfg.Cafe24Mall {
			accountID = a.AccountID
		}
	}
	if accountID == "" {
		id, err := c.connectCafe24(ctx, cfg)
		if err != nil {
			return err
		}
		accountID = id
		fmt.Fprintf(c.out, "connected Cafe24 sandbox mall %q as account %s\n", cfg.Cafe24Mall, accountID)
	} else {
		// Data is kept between runs; a fresh sync brings it up to date.
		var trig struct{}
		if err := c.do(ctx, "POST", cfg.GatewayURL+"/v1/accounts/"+accountID+":sync", map[string]any{}, &trig); err != nil {
			return fmt.Errorf("triggering a sync of account %s: %w", accountID, err)
		}
		fmt.Fprintf(c.out, "Cafe24 sandbox mall %q already connected as account %s; syncing it\n", cfg.Cafe24Mall, accountID)
	}
	return c.followNewestRun(ctx, cfg.GatewayURL, accountID)
}

func (c *client) connectCafe24(ctx context.Context, cfg Config) (string, error) {
	var tok struct {
		AccessToken           string   `json:"access_token"`
		ExpiresAt             string   `json:"expires_at"`
		RefreshToken          string   `json:"refresh_token"`
		RefreshTokenExpiresAt string   `json:"refresh_token_expires_at"`
		Scopes                []string `json:"scopes"`
	}
	if err := c.do(ctx, "POST", cfg.Cafe24Sandbox+"/_sandbox/malls/"+cfg.Cafe24Mall+"/tokens", map[string]any{}, &tok); err != nil {
		return "", fmt.Errorf("minting sandbox tokens for mall %s: %w", cfg.Cafe24Mall, err)
	}
	accessExp, err := kstTime(tok.ExpiresAt)
	if err != nil {
		return "", err
	}
	refreshExp, err := kstTime(tok.RefreshTokenExpiresAt)
	if err != nil {
		return "", err
	}
	body := map[string]any{
		"platform":     "PLATFORM_CAFE24",
		"display_name": "데모 카페24 쇼핑몰",
		"credentials": map[string]any{"cafe24": map[string]any{
			"mall_id": cfg.Cafe24Mall, "client_id": cfg.Cafe24Client, "client_secret": cfg.Cafe24Secret,
			"access_token": tok.AccessToken, "access_token_expires_at": accessExp,
			"refresh_token": tok.RefreshToken, "refresh_token_expires_at": refreshExp,
			"scopes": tok.Scopes,
		}},
	}
	var added struct {
		Account struct {
			AccountID string `json:"account_id"`
		} `json:"account"`
	}
	if err := c.do(ctx, "POST", cfg.GatewayURL+"/v1/accounts", body, &added); err != nil {
		return "", fmt.Errorf("adding the Cafe24 account: %w", err)
	}
	return added.Account.AccountID, nil
}

// kstTime reads Cafe24's token times, which carry no offset and mean KST
// (cafe24.md §1), into RFC 3339 for the API.
func kstTime(s string) (string, error) {
	t, err := time.Parse("2006-01-02T15:04:05.000", s)
	if err != nil {
		return "", fmt.Errorf("reading token time %q: %w", s, err)
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.FixedZone("KST", 9*3600)).Format(time.RFC3339), nil
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

func (c *client) followNewestRun(ctx context.Context, base, accountID string) error {
	var runs struct {
		Runs []run `json:"runs"`
	}
	if err := c.do(ctx, "GET", base+"/v1/sync-runs?account_id="+accountID+"&page_size=1", nil, &runs); err != nil {
		return fmt.Errorf("listing sync runs: %w", err)
	}
	if len(runs.Runs) == 0 {
		return fmt.Errorf("account %s has no sync run", accountID)
	}
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/v1/sync-runs/"+runs.Runs[0].RunID+":watch", nil)
	if err != nil {
		return err
	}
	watch := &http.Client{} // a watch lasts as long as the run
	res, err := watch.Do(req)
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
		line := fmt.Sprintf("sync %s: %s %s", last.RunID, strings.TrimPrefix(last.State, "SYNC_RUN_STATE_"), strings.Join(parts, ", "))
		if line != printed {
			fmt.Fprintln(c.out, line)
			printed = line
		}
	}
	if last.State != "SYNC_RUN_STATE_SUCCEEDED" {
		if last.Error != nil {
			return fmt.Errorf("first sync ended %s: %s: %s", last.State, last.Error.Code, last.Error.Message)
		}
		return fmt.Errorf("first sync ended %s", last.State)
	}
	return nil
}

type client struct {
	http *http.Client
	out  io.Writer
}

func (c *client) waitReady(ctx context.Context, url string) error {
	deadline := time.Now().Add(90 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		res, err := c.http.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after 90s (last: %v)", url, errOrStatus(err, res))
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

func (c *client) do(ctx context.Context, method, url string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
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
		if json.Unmarshal(data, &e) == nil && e.Message != "" {
			return fmt.Errorf("%s %s: %s: %s", method, url, res.Status, e.Message)
		}
		return fmt.Errorf("%s %s: %s: %.200s", method, url, res.Status, data)
	}
	return json.Unmarshal(data, out)
}
