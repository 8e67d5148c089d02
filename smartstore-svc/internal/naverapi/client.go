// Package naverapi is the Naver Commerce API client: signed token requests
// with a token cache, pacing to the gateway's token buckets from its
// headers, bounded retries with jittered backoff, and typed errors.
package naverapi

import (
	"bytes"
	"context"
	"encoding/json"

	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"hlog.dev/proto/kit/clock"
)

// DefaultBaseURL is the Commerce API gateway for a seller's own
// applications (agencies use /partner, smartstore.md §6).
const DefaultBaseURL = "https://api.commerce.naver.com/external"

// Config configures a Client. Zero values take the defaults named.
type Config struct {
	BaseURL string // default DefaultBaseURL
	// Clock paces calls and times backoff (default the wall clock).
	Clock          clock.Clock
	HTTPClient     *http.Client
	RequestTimeout time.Duration // default 30s
	Logger         *slog.Logger
	Metrics        *Metrics
	UserAgent      string
	// MaxRetries bounds retries of transient failures (5xx, network) per
	// call (default 5); MaxRateLimitRetries bounds 429 retries (default 8).
	MaxRetries, MaxRateLimitRetries int
	// RenewBefore gets a new token when the cached one has less life left
	// (default 15 minutes: with under 30 minutes left the platform issues a
	// new token, smartstore.md §1).
	RenewBefore time.Duration
}

// Client calls the Commerce API for any number of applications. Safe for
// concurrent use.
type Client struct {
	cfg  Config
	base *url.URL
	log  *slog.Logger

	mu     sync.Mutex
	tokens map[Credentials]cachedToken
	// pacers mirror the gateway's buckets, one per application per API
	// (smartstore.md §2), shared by every run of the application.
	pacers map[string]*pacer
}

// Credentials name an application and, for type SELLER, the seller account.
type Credentials struct {
	ClientID, ClientSecret, AccountID string
}

type cachedToken struct {
	token   string
	expires time.Time
}

// New checks cfg and returns a client.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("naverapi: base url %q must be http(s)://host[/path]", cfg.BaseURL)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: cfg.RequestTimeout}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 5
	}
	if cfg.MaxRateLimitRetries == 0 {
		cfg.MaxRateLimitRetries = 8
	}
	if cfg.RenewBefore == 0 {
		cfg.RenewBefore = 15 * time.Minute
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "hlog-smartstore-svc"
	}
	return &Client{cfg: cfg, base: base, log: cfg.Logger, tokens: map[Credentials]cachedToken{}, pacers: map[string]*pacer{}}, nil
}

// Token returns a token for creds that lives at least RenewBefore longer
// than now, from the cache or a signed token request. now is the platform's
// time as the caller knows it (the signature's timestamp must be within 5
// minutes of it, smartstore.md §1).
func (c *Client) Token(ctx context.Context, creds Credentials, now time.Time) (string, error) {
	c.mu.Lock()
	t, ok := c.tokens[creds]
	c.mu.Unlock()
	if ok && now.Add(c.cfg.RenewBefore).Before(t.expires) {
		return t.token, nil
	}
	return c.newToken(ctx, creds, now)
}

// forget drops a refused token so the next call gets a new one.
func (c *Client) forget(creds Credentials, token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tokens[creds].token == token {
		delete(c.tokens, creds)
	}
}

func (c *Client) newToken(ctx context.Context, creds Credentials, now time.Time) (string, error) {
	ts := now.UnixMilli()
	sign, err := Sign(creds.ClientID, creds.ClientSecret, ts)
	if err != nil {
		return "", err
	}
	form := url.Values{
		"client_id": {creds.ClientID}, "timestamp": {strconv.FormatInt(ts, 10)},
		"grant_type": {"client_credentials"}, "client_secret_sign": {sign}, "type": {"SELF"},
	}
	if creds.AccountID != "" {
		form.Set("type", "SELLER")
		form.Set("account_id", creds.AccountID)
	}
	var body []byte
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base.String()+"/v1/oauth2/token", strings.NewReader(form.Encode()))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		var resp *http.Response
		body, resp, err = c.send(req, "oauth2-token")
		if err == nil && resp.StatusCode == http.StatusOK {
			break
		}
		var fail error = err
		if err == nil {
			apiErr := ParseError(resp.StatusCode, resp.Header.Get("GNCP-GW-Trace-ID"), body)
			if resp.StatusCode < 500 {
				if IsIPNotAllowed(apiErr) {
					return "", apiErr
				}
				return "", &TokenError{Err: apiErr}
			}
			fail = apiErr
		}
		if attempt >= c.cfg.MaxRetries {
			return "", &RetriesExhaustedError{Attempts: attempt + 1, Last: fail}
		}
		if err := c.cfg.Clock.Sleep(ctx, backoff(attempt, time.Second)); err != nil {
			return "", err
		}
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" || tok.ExpiresIn <= 0 {
		return "", fmt.Errorf("reading the token answer: %v", err)
	}
	c.mu.Lock()
	c.tokens[creds] = cachedToken{token: tok.AccessToken, expires: now.Add(time.Duration(tok.ExpiresIn) * time.Second)}
	c.mu.Unlock()
	c.log.Info("naver access token issued", "client_id", creds.ClientID, "account_id", creds.AccountID, "expires_in_s", tok.ExpiresIn)
	return tok.AccessToken, nil
}

// send does one HTTP exchange and reads the body.
func (c *Client) send(req *http.Request, api string) ([]byte, *http.Response, error) {
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	req.Header.Set("Accept", "application/json")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		c.cfg.Metrics.observe(api, "error")
		return nil, nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	c.cfg.Metrics.observe(api, strconv.Itoa(resp.StatusCode))
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: reading body: %w", req.Method, req.URL.Path, err)
	}
	return body, resp, nil
}

// backoff is base·2^attempt, capped at 30 seconds, with ±50% jitter so that
// runs sharing an application do not retry in step.
func backoff(attempt int, base time.Duration) time.Duration {
	d := base << min(attempt, 5)
	d = min(d, 30*time.Second)
	return time.Duration(float64(d) * (0.5 + rand.Float64()))
}

// Session is one run's view of the client: one application's credentials
// and the run's budget.
type Session struct {
	c      *Client
	creds  Credentials
	now    func() time.Time
	budget Budget
	onWait func(time.Duration)
}

// Session starts a run. now is the platform's time (for token signatures and
// expiry); onWait hears every rate-limit wait.
func (c *Client) Session(creds Credentials, now func() time.Time, budget Budget, onWait func(time.Duration)) *Session {
	return &Session{c: c, creds: creds, now: now, budget: budget, onWait: onWait}
}

// pacer is the application's pacer for api. Runs of one application share
// it, so that together they keep to the bucket; the latest run's budget
// applies.
func (s *Session) pacer(api string) *pacer {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	key := s.creds.ClientID + " " + api
	p, ok := s.c.pacers[key]
	if !ok {
		p = newPacer(s.c.cfg.Clock, s.budget)
		s.c.pacers[key] = p
	} else {
		p.setBudget(s.budget)
	}
	return p
}

// do runs one API call with pacing, token renewal and retries. api names the
// gateway bucket the call spends.
func (s *Session) do(ctx context.Context, api, method, path string, query url.Values, body any) ([]byte, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("encoding %s body: %w", api, err)
		}
	}
	p := s.pacer(api)
	renewed := false
	transient, limited := 0, 0
	for {
		tok, err := s.c.Token(ctx, s.creds, s.now())
		if err != nil {
			return nil, err
		}
		if err := p.wait(ctx, s.onWait); err != nil {
			return nil, err
		}
		u := s.c.base.String() + path
		if len(query) > 0 {
			u += "?" + query.Encode()
		}
		var rd io.Reader
		if payload != nil {
			rd = bytes.NewReader(payload)
		}
		req, err := http.NewRequestWithContext(ctx, method, u, rd)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		data, resp, err := s.c.send(req, api)
		var fail error
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			fail = err
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			p.observe(resp.Header)
			return data, nil
		default:
			p.observe(resp.Header)
			apiErr := ParseError(resp.StatusCode, resp.Header.Get("GNCP-GW-Trace-ID"), data)
			switch {
			case resp.StatusCode == http.StatusUnauthorized && !renewed:
				// A bad or expired token: get a new one and retry once
				// (smartstore.md §1).
				s.c.log.Info("naver token refused, renewing", "api", api, "trace", apiErr.TraceID)
				s.c.forget(s.creds, tok)
				renewed = true
				continue
			case resp.StatusCode == http.StatusTooManyRequests:
				p.empty()
				limited++
				if limited > s.c.cfg.MaxRateLimitRetries {
					return nil, &RetriesExhaustedError{Attempts: limited + transient, RateLimited: true, Quota: apiErr.Code == "GW.QUOTA_LIMIT", RetryAfter: time.Minute, Last: apiErr}
				}
				d := backoff(limited-1, max(p.interval(), quotaPeriod(resp.Header)))
				s.c.log.Info("naver rate limited, backing off", "api", api, "code", apiErr.Code, "wait", d.String())
				if s.onWait != nil {
					s.onWait(d)
				}
				if err := s.c.cfg.Clock.Sleep(ctx, d); err != nil {
					return nil, err
				}
				continue
			case resp.StatusCode >= 500:
				fail = apiErr
			default:
				return nil, apiErr
			}
		}
		transient++
		if transient > s.c.cfg.MaxRetries {
			return nil, &RetriesExhaustedError{Attempts: transient + limited, Last: fail}
		}
		d := backoff(transient-1, time.Second)
		s.c.log.Info("naver call failed, retrying", "api", api, "err", fail.Error(), "wait", d.String())
		if err := s.c.cfg.Clock.Sleep(ctx, d); err != nil {
			return nil, err
		}
	}
}

// quotaPeriod is the wait a GW.QUOTA_LIMIT answer suggests: a second for a
// per-second quota (smartstore.md §2); nothing otherwise.
func quotaPeriod(h http.Header) time.Duration {
	if h.Get("GNCP-GW-Quota-Period") == "SECONDS" {
		return time.Second
	}
	return 0
}
