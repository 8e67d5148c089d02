// Package sellersite drives Ably's seller site (or its sandbox) in one
// incognito browser context, the way a person would: it opens a page,
// recognises the client-side bounce to /login, fills the sign-in form, closes
// notice modals, and then reads data by calling the site's own JSON API from
// inside the signed-in page, so requests carry the site's origin, cookies and
// headers. It never waits for network idle: the site keeps a connection open
// (ably.md, ably-auto-send), so it waits for what it needs on the page.
package sellersite

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"
)

// CookieName is where the site keeps the session JWT (ably.md "Site, login,
// session": a monitor reads it from this cookie after a UI sign-in).
const CookieName = "ably-seller-admin-jwt-token"

// Config locates the site.
type Config struct {
	// SiteURL is the seller site's origin, e.g. https://my.a-bly.com.
	SiteURL string
	// APIURL is the JSON API's origin, e.g. https://api.a-bly.com; empty
	// means the site's own origin (the sandbox serves both).
	APIURL string
	// Timeout bounds one page wait or API call (default 30s).
	Timeout time.Duration
	// Pace is called between a person's page actions (typing, clicking,
	// navigating); nil does not pause.
	Pace func(ctx context.Context) error
}

// Tab is one page of one account's browser context.
type Tab struct {
	cfg   Config
	site  *url.URL
	page  *rod.Page
	token string

	pages, calls atomic.Int64
}

// Open opens a blank page in the context b with a Korean locale and the
// Seoul time zone, as a seller's own browser would have.
func Open(ctx context.Context, b *rod.Browser, cfg Config) (*Tab, error) {
	u, err := url.Parse(cfg.SiteURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("site url %q must be an absolute URL", cfg.SiteURL)
	}
	if cfg.APIURL == "" {
		cfg.APIURL = u.Scheme + "://" + u.Host
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	p, err := b.Context(ctx).Page(proto.TargetCreateTarget{URL: "about:blank"})
	if err != nil {
		return nil, fmt.Errorf("opening a page: %w", err)
	}
	t := &Tab{cfg: cfg, site: u, page: p}
	if err := (proto.EmulationSetTimezoneOverride{TimezoneID: "Asia/Seoul"}).Call(p); err != nil {
		return nil, fmt.Errorf("setting the page's time zone: %w", err)
	}
	if err := (proto.EmulationSetLocaleOverride{Locale: "ko-KR"}).Call(p); err != nil {
		return nil, fmt.Errorf("setting the page's locale: %w", err)
	}
	// Headless Chromium says so in its user agent; a seller's browser does not.
	ua, err := p.Eval(`() => navigator.userAgent`)
	if err == nil {
		_ = (proto.NetworkSetUserAgentOverride{UserAgent: strings.ReplaceAll(ua.Value.Str(), "HeadlessChrome", "Chrome"), AcceptLanguage: "ko-KR,ko;q=0.9"}).Call(p)
	}
	return t, nil
}

// PagesLoaded counts navigations; APICalls counts in-page API requests.
func (t *Tab) PagesLoaded() int64 { return t.pages.Load() }
func (t *Tab) APICalls() int64    { return t.calls.Load() }

// Token is the session JWT the tab uses.
func (t *Tab) Token() string { return t.token }

func (t *Tab) p(ctx context.Context) *rod.Page { return t.page.Context(ctx).Timeout(t.cfg.Timeout) }

func (t *Tab) pace(ctx context.Context) error {
	if t.cfg.Pace == nil {
		return nil
	}
	return t.cfg.Pace(ctx)
}

// UseSession puts a saved session JWT into the context's cookie jar, as the
// site itself keeps it, so that the next page load is signed in.
func (t *Tab) UseSession(token string) error {
	t.token = token
	return t.page.SetCookies([]*proto.NetworkCookieParam{{
		Name: CookieName, Value: token, URL: t.site.Scheme + "://" + t.site.Host + "/", Path: "/",
	}})
}

// ErrSignedOut means the site bounced to its sign-in page.
var ErrSignedOut = errors.New("the site asked to sign in")

// signedInMarker is the header's seller name, filled only after the site
// accepted the session; loginMarker is the sign-in form.
const (
	signedInMarker = ".seller-name"
	loginMarker    = `input[name="password"]`
)

// Land opens path and waits until the page either shows the signed-in
// header or has bounced to /login. Pages load first and bounce afterwards
// (ably.md), so the first paint proves nothing; the bounce is awaited.
func (t *Tab) Land(ctx context.Context, path string) error {
	if err := t.pace(ctx); err != nil {
		return err
	}
	p := t.p(ctx)
	t.pages.Add(1)
	if err := p.Navigate(t.site.Scheme + "://" + t.site.Host + path); err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	signedIn := false
	err := t.race(p, func(rc *rod.RaceContext) *rod.RaceContext {
		return rc.ElementR(signedInMarker, `\S`).Handle(func(*rod.Element) error { signedIn = true; return nil }).
			Element(loginMarker)
	})
	if err != nil {
		return fmt.Errorf("waiting for %s to show the seller or the sign-in form: %w", path, err)
	}
	if !signedIn {
		return ErrSignedOut
	}
	return t.CloseModals(ctx)
}

// race runs a race again when a navigation destroyed the page's JS context
// under it (the /login bounce does exactly that).
func (t *Tab) race(p *rod.Page, build func(*rod.RaceContext) *rod.RaceContext) error {
	var err error
	for range 5 {
		_, err = build(p.Race()).Do()
		if err == nil || p.GetContext().Err() != nil {
			return err
		}
		var nf *rod.ElementNotFoundError
		if errors.As(err, &nf) {
			return err
		}
	}
	return err
}

// CloseModals closes every open Ant-Design modal (notices after sign-in),
// whose mask would otherwise swallow the next click.
func (t *Tab) CloseModals(ctx context.Context) error {
	p := t.p(ctx)
	for range 5 {
		closers, err := p.Elements(".ant-modal-wrap .ant-modal-close, .ant-modal-wrap .ant-modal-footer .ant-btn-primary")
		if err != nil {
			return fmt.Errorf("looking for modals: %w", err)
		}
		if len(closers) == 0 {
			return nil
		}
		if err := t.pace(ctx); err != nil {
			return err
		}
		// The newest modal is on top; the ones below it cannot be clicked.
		if err := closers[len(closers)-1].Click(proto.InputMouseButtonLeft, 1); err != nil {
			return fmt.Errorf("closing a notice modal: %w", err)
		}
	}
	return errors.New("notice modals kept opening")
}

// SignInError is the site's answer to a rejected sign-in.
type SignInError struct {
	Message string // the site's own words
	Locked  bool   // the account is locked (too many wrong passwords)
}

func (e *SignInError) Error() string { return "the site rejected the sign-in: " + e.Message }

var lockedText = regexp.MustCompile(`잠겼|잠금|locked`)

// SignIn fills the sign-in form on the current /login page and submits it
// once. It returns the session JWT and its expiry, or a *SignInError with
// the site's message. It never submits twice.
func (t *Tab) SignIn(ctx context.Context, email, password string) (string, time.Time, error) {
	if err := t.CloseModals(ctx); err != nil {
		return "", time.Time{}, err
	}
	p := t.p(ctx)
	steps := []struct {
		selector, text string
	}{{`input[name="email"]`, email}, {`input[name="password"]`, password}}
	for _, s := range steps {
		if err := t.pace(ctx); err != nil {
			return "", time.Time{}, err
		}
		el, err := p.Element(s.selector)
		if err != nil {
			return "", time.Time{}, fmt.Errorf("finding %s on the sign-in page: %w", s.selector, err)
		}
		if err := el.SelectAllText(); err == nil {
			_ = el.Input("")
		}
		if err := el.Input(s.text); err != nil {
			return "", time.Time{}, fmt.Errorf("typing into %s: %w", s.selector, err)
		}
	}
	if err := t.pace(ctx); err != nil {
		return "", time.Time{}, err
	}
	btn, err := p.ElementR("button", `^\s*로그인\s*$`)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("finding the 로그인 button: %w", err)
	}
	if err := btn.Click(proto.InputMouseButtonLeft, 1); err != nil {
		return "", time.Time{}, fmt.Errorf("clicking 로그인: %w", err)
	}
	var rejected string
	err = t.race(p, func(rc *rod.RaceContext) *rod.RaceContext {
		return rc.ElementR(signedInMarker, `\S`).
			ElementR(`[role="alert"], .login-error, .ant-form-item-explain-error`, `\S`).Handle(func(e *rod.Element) error {
			txt, err := e.Text()
			rejected = strings.TrimSpace(txt)
			return err
		})
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("waiting for the sign-in to land: %w", err)
	}
	if rejected != "" {
		return "", time.Time{}, &SignInError{Message: rejected, Locked: lockedText.MatchString(rejected)}
	}
	t.pages.Add(1) // the site went on to /dashboard by itself
	tok, exp, err := t.sessionCookie()
	if err != nil {
		return "", time.Time{}, err
	}
	t.token = tok
	return tok, exp, t.CloseModals(ctx)
}

// sessionCookie reads the session JWT the site stored, and its expiry from
// the token's own exp claim.
func (t *Tab) sessionCookie() (string, time.Time, error) {
	cookies, err := t.page.Cookies([]string{t.site.Scheme + "://" + t.site.Host + "/"})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("reading cookies: %w", err)
	}
	for _, c := range cookies {
		if c.Name == CookieName && c.Value != "" {
			tok, err := url.QueryUnescape(c.Value)
			if err != nil {
				tok = c.Value
			}
			return tok, TokenExpiry(tok), nil
		}
	}
	return "", time.Time{}, fmt.Errorf("signed in, but no %s cookie was set", CookieName)
}

// TokenExpiry reads a JWT's exp claim without checking the signature (only
// the site can); zero when the token has none.
func TokenExpiry(tok string) time.Time {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}
	}
	var c struct {
		Exp int64 `json:"exp"`
	}
	if json.Unmarshal(raw, &c) != nil || c.Exp == 0 {
		return time.Time{}
	}
	return time.Unix(c.Exp, 0).UTC()
}

// Response is what an in-page API call returned.
type Response struct {
	Status      int
	Body        []byte
	ContentType string
}

// fetchJS runs in the page: the site's own fetch, with the site's
// Authorization header, from the site's origin. Binary bodies come back as
// base64 because the browser may live in another container whose files we
// cannot read (a download would land there).
const fetchJS = `async (url, token, binary) => {
  const r = await fetch(url, { headers: { Authorization: 'JWT ' + token }, credentials: 'include' });
  let body;
  if (binary) {
    const b = new Uint8Array(await r.arrayBuffer());
    let s = '';
    for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode.apply(null, b.subarray(i, i + 0x8000));
    body = btoa(s);
  } else {
    body = await r.text();
  }
  return { status: r.status, body: body, type: r.headers.get('content-type') || '' };
}`

// Get calls the site's API at path with query from inside the page.
func (t *Tab) Get(ctx context.Context, path string, query url.Values, binary bool) (*Response, error) {
	u := t.cfg.APIURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	t.calls.Add(1)
	res, err := t.p(ctx).Eval(fetchJS, u, t.token, binary)
	if err != nil {
		return nil, fmt.Errorf("calling %s from the page: %w", path, err)
	}
	// The answer is garbage in the page now; collecting it at once keeps
	// each account's renderer small while many run at once (the page's
	// heap would otherwise grow by a page of JSON per call until V8 gets
	// round to it).
	_ = proto.HeapProfilerCollectGarbage{}.Call(t.page)
	out := &Response{Status: res.Value.Get("status").Int(), ContentType: res.Value.Get("type").Str()}
	body := res.Value.Get("body").Str()
	if binary {
		out.Body, err = base64.StdEncoding.DecodeString(body)
		if err != nil {
			return nil, fmt.Errorf("decoding %s: %w", path, err)
		}
	} else {
		out.Body = []byte(body)
	}
	return out, nil
}

// SaveDebug writes a screenshot and the page's HTML into dir and returns
// their paths, for the run's error.
func (t *Tab) SaveDebug(dir, label string) (string, string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", "", fmt.Errorf("creating %s: %w", dir, err)
	}
	p := t.page.Timeout(10 * time.Second)
	base := filepath.Join(dir, label)
	png, err := p.Screenshot(false, nil)
	if err != nil {
		return "", "", fmt.Errorf("taking a screenshot: %w", err)
	}
	html, err := p.HTML()
	if err != nil {
		return "", "", fmt.Errorf("reading the page HTML: %w", err)
	}
	if err := os.WriteFile(base+".png", png, 0o640); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(base+".html", []byte(html), 0o640); err != nil {
		return "", "", err
	}
	return base + ".png", base + ".html", nil
}

// URL is the page's current address.
func (t *Tab) URL() string {
	info, err := t.page.Info()
	if err != nil {
		return ""
	}
	return info.URL
}

// Close closes the page.
func (t *Tab) Close() { _ = t.page.Close() }
