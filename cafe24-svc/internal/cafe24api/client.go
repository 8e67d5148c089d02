// Package cafe24api is an HTTP client for the Cafe24 Admin API: base URL per
// mall, API version header, pacing under the leaky-bucket limit, bounded
// retries of rate-limited and failed calls, and typed errors. It knows the
// wire shapes but translates nothing; internal/translate does that.
package cafe24api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"hlog.dev/proto/kit/clock"
)

// DefaultBaseURL is the real API's base; {mall_id} is replaced per mall.
const DefaultBaseURL = "https://{mall_id}.cafe24api.com"

const mallPlaceholder = "{mall_id}"

// Retry bounds. Waits grow exponentially from the first backoff up to the cap.
const (
	maxRateLimitedAttempts = 8
	maxFailedAttempts      = 5
	firstBackoff           = time.Second
	maxBackoff             = 30 * time.Second
	maxResponseBytes       = 64 << 20
	maxErrorBytes          = 1 << 20
)

// Config configures a Client.
type Config struct {
	// BaseURLTemplate holds {mall_id}, e.g. DefaultBaseURL or, against the
	// local sandbox, "http://127.0.0.1:7101/malls/{mall_id}".
	BaseURLTemplate string
	// APIVersion is sent as X-Cafe24-Api-Version; empty sends none, so the
	// app's developer-center version applies (cafe24.md §1).
	APIVersion string
	// RequestTimeout bounds one HTTP attempt; zero means 30 seconds.
	RequestTimeout time.Duration
	HTTPClient     *http.Client
	Clock          clock.Clock
	Logger         *slog.Logger
	Metrics        *Metrics
	UserAgent      string
}

// Client calls the Admin API of any mall.
type Client struct {
	cfg Config
}

var (
	mallIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
	versionFormat = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// New checks cfg and returns a client.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURLTemplate == "" {
		cfg.BaseURLTemplate = DefaultBaseURL
	}
	if !strings.Contains(cfg.BaseURLTemplate, mallPlaceholder) {
		return nil, fmt.Errorf("cafe24 base url %q has no %s", cfg.BaseURLTemplate, mallPlaceholder)
	}
	u, err := url.Parse(strings.ReplaceAll(cfg.BaseURLTemplate, mallPlaceholder, "mall"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("cafe24 base url %q must be an http(s) url without a query", cfg.BaseURLTemplate)
	}
	if cfg.APIVersion != "" && !versionFormat.MatchString(cfg.APIVersion) {
		return nil, fmt.Errorf("cafe24 api version %q must look like 2025-12-01", cfg.APIVersion)
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "hlog-cafe24-svc"
	}
	cfg.BaseURLTemplate = strings.TrimRight(cfg.BaseURLTemplate, "/")
	return &Client{cfg: cfg}, nil
}

// Mall is the API of one mall for one run: it paces its calls within budget
// and the mall's limit. Not safe for concurrent use; a run calls in sequence.
type Mall struct {
	c      *Client
	id     string
	base   string
	pacer  *pacer
	onWait func(time.Duration)
}

// Mall returns the API of mallID. onWait, if set, hears of every wait for
// the rate limit before it starts.
func (c *Client) Mall(mallID string, budget Budget, onWait func(time.Duration)) (*Mall, error) {
	if !mallIDPattern.MatchString(mallID) {
		return nil, fmt.Errorf("mall id %q: want lower-case letters, digits and dashes", mallID)
	}
	return &Mall{
		c:      c,
		id:     mallID,
		base:   strings.ReplaceAll(c.cfg.BaseURLTemplate, mallPlaceholder, mallID),
		pacer:  newPacer(c.cfg.Clock, budget),
		onWait: onWait,
	}, nil
}

// ID is the mall id.
func (m *Mall) ID() string { return m.id }

// APIError is an answer that retrying will not change, or the last of a
// series of retries.
type APIError struct {
	Endpoint string
	Status   int
	// Message is the envelope's message, or the OAuth error_description.
	Message string
	// OAuthError is the token endpoint's error code, e.g. "invalid_grant".
	OAuthError string
}

func (e *APIError) Error() string {
	if e.OAuthError != "" {
		return fmt.Sprintf("cafe24 %s: http %d: %s: %s", e.Endpoint, e.Status, e.OAuthError, e.Message)
	}
	return fmt.Sprintf("cafe24 %s: http %d: %s", e.Endpoint, e.Status, e.Message)
}

// RetriesExhaustedError is a call that kept failing for a transient reason
// after every retry.
type RetriesExhaustedError struct {
	Endpoint    string
	Attempts    int
	RateLimited bool
	// RetryAfter is how long the platform asked to wait, when it said so.
	RetryAfter time.Duration
	Last       error
}

func (e *RetriesExhaustedError) Error() string {
	return fmt.Sprintf("cafe24 %s: gave up after %d attempts: %v", e.Endpoint, e.Attempts, e.Last)
}

func (e *RetriesExhaustedError) Unwrap() error { return e.Last }

// IsUnauthorized reports whether err is a 401: the access token is missing,
// invalid or expired (cafe24.md §3).
func IsUnauthorized(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusUnauthorized
}

// get calls GET path with query and decodes the JSON answer into out.
func (m *Mall) get(ctx context.Context, endpoint, accessToken, path string, query url.Values, out any) error {
	target := m.base + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	return m.do(ctx, endpoint, out, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+accessToken)
		// cafe24.md §3: a wrong Content-Type gets 400, so send it on GETs too.
		req.Header.Set("Content-Type", "application/json")
		if m.c.cfg.APIVersion != "" {
			req.Header.Set("X-Cafe24-Api-Version", m.c.cfg.APIVersion)
		}
		return req, nil
	})
}

// do runs one call with pacing and bounded retries: 429s wait for the bucket
// to drain, 5xx answers and transport failures back off exponentially.
func (m *Mall) do(ctx context.Context, endpoint string, out any, build func(context.Context) (*http.Request, error)) error {
	log := m.c.cfg.Logger
	var rateLimited, failed int
	for {
		if err := m.pacer.wait(ctx, m.onWait); err != nil {
			return err
		}
		sent := m.c.cfg.Clock.Now()
		status, header, body, undecodable, err := m.attempt(ctx, build, out)
		m.c.cfg.Metrics.observe(endpoint, status, err)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			failed++
			if failed >= maxFailedAttempts {
				return &RetriesExhaustedError{Endpoint: endpoint, Attempts: failed + rateLimited, Last: err}
			}
			d := backoff(failed)
			log.Warn("cafe24 call failed, retrying", "mall", m.id, "endpoint", endpoint, "err", err.Error(), "attempt", failed, "wait", d.String())
			if err := m.sleep(ctx, d, false); err != nil {
				return err
			}
			continue
		}
		m.pacer.observe(header.Get("X-Api-Call-Limit"), sent)
		m.pacer.observeUsage(header.Get("X-Cafe24-Call-Usage"), header.Get("X-Cafe24-Time-Usage"))
		switch {
		case status >= 200 && status < 300:
			if undecodable != nil {
				return &APIError{Endpoint: endpoint, Status: status, Message: "undecodable answer: " + undecodable.Error()}
			}
			return nil
		case status == http.StatusTooManyRequests:
			m.pacer.full()
			rateLimited++
			remain := quotaRemain(header)
			apiErr := decodeError(endpoint, status, body)
			if rateLimited >= maxRateLimitedAttempts {
				return &RetriesExhaustedError{Endpoint: endpoint, Attempts: failed + rateLimited, RateLimited: true, RetryAfter: max(remain, m.pacer.drainTime()), Last: apiErr}
			}
			// Wait for the bucket to drain, or as long as the usage quota
			// says (cafe24.md §2: X-Cafe24-Call-Remain/Time-Remain), and never
			// less than the backoff: calling while blocked lengthens a block.
			d := max(remain, m.pacer.drainTime(), backoff(rateLimited))
			m.c.cfg.Metrics.rateLimited()
			log.Info("cafe24 rate limit hit, waiting", "mall", m.id, "endpoint", endpoint, "attempt", rateLimited, "wait", d.String())
			if err := m.sleep(ctx, d, true); err != nil {
				return err
			}
		case status >= 500:
			failed++
			apiErr := decodeError(endpoint, status, body)
			if failed >= maxFailedAttempts {
				return &RetriesExhaustedError{Endpoint: endpoint, Attempts: failed + rateLimited, Last: apiErr}
			}
			d := backoff(failed)
			log.Warn("cafe24 server error, retrying", "mall", m.id, "endpoint", endpoint, "status", status, "attempt", failed, "wait", d.String())
			if err := m.sleep(ctx, d, false); err != nil {
				return err
			}
		default:
			return decodeError(endpoint, status, body)
		}
	}
}

func (m *Mall) sleep(ctx context.Context, d time.Duration, rateLimit bool) error {
	if rateLimit && m.onWait != nil {
		m.onWait(d)
	}
	return m.c.cfg.Clock.Sleep(ctx, d)
}

// attempt makes one HTTP request, bounded by the request timeout. A 2xx
// answer is decoded into out as it streams in, so that a page of 1,000
// orders never sits in memory twice; other answers return their (small)
// body for the error. undecodable is set when a 2xx answer is not the JSON
// expected; err is a transport failure, worth a retry.
func (m *Mall) attempt(ctx context.Context, build func(context.Context) (*http.Request, error), out any) (status int, header http.Header, body []byte, undecodable, err error) {
	actx, cancel := context.WithTimeout(ctx, m.c.cfg.RequestTimeout)
	defer cancel()
	req, err := build(actx)
	if err != nil {
		return 0, nil, nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", m.c.cfg.UserAgent)
	resp, err := m.c.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, nil, nil, nil, redactURL(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil {
			return resp.StatusCode, resp.Header, nil, nil, nil
		}
		limited := &io.LimitedReader{R: resp.Body, N: maxResponseBytes + 1}
		if err := json.NewDecoder(limited).Decode(out); err != nil {
			var syntax *json.SyntaxError
			var typ *json.UnmarshalTypeError
			switch {
			case limited.N <= 0:
				return 0, nil, nil, nil, fmt.Errorf("answer larger than %d bytes", maxResponseBytes)
			case errors.As(err, &syntax) || errors.As(err, &typ):
				return resp.StatusCode, resp.Header, nil, err, nil
			}
			return 0, nil, nil, nil, fmt.Errorf("reading answer: %w", redactURL(err))
		}
		return resp.StatusCode, resp.Header, nil, nil, nil
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
	if err != nil {
		return 0, nil, nil, nil, fmt.Errorf("reading answer: %w", redactURL(err))
	}
	return resp.StatusCode, resp.Header, body, nil, nil
}

// redactURL drops the request URL from transport errors: it is long and
// tells nothing the endpoint name does not.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}

// backoff is the wait before retry n (1-based): exponential with jitter.
func backoff(n int) time.Duration {
	d := firstBackoff << min(n-1, 10)
	if d > maxBackoff {
		d = maxBackoff
	}
	// ±20% jitter, so that many runs hit by one outage do not retry in step.
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// quotaRemain reads the seconds to wait that Cafe24 sends only when a usage
// quota is used up (cafe24.md §2).
func quotaRemain(h http.Header) time.Duration {
	var d time.Duration
	for _, name := range []string{"X-Cafe24-Call-Remain", "X-Cafe24-Time-Remain", "Retry-After"} {
		if v := strings.TrimSpace(h.Get(name)); v != "" {
			if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 && secs < 3600 {
				d = max(d, time.Duration(secs*float64(time.Second)))
			}
		}
	}
	return d
}

// decodeError reads either error shape: the Admin envelope, where "error" is
// an object, or the token endpoint's, where it is a string.
func decodeError(endpoint string, status int, body []byte) *APIError {
	e := &APIError{Endpoint: endpoint, Status: status}
	var probe struct {
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(body, &probe); err == nil && len(probe.Error) > 0 {
		if bytes.HasPrefix(bytes.TrimSpace(probe.Error), []byte(`"`)) {
			var oe oauthErrorBody
			if json.Unmarshal(body, &oe) == nil {
				e.OAuthError, e.Message = oe.Error, oe.Description
				return e
			}
		}
		var env errorEnvelope
		if json.Unmarshal(body, &env) == nil && env.Error.Message != "" {
			e.Message = env.Error.Message
			return e
		}
	}
	e.Message = http.StatusText(status)
	return e
}
