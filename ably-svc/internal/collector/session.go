package collector

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"hlog.dev/ably-svc/internal/browser"
	"hlog.dev/ably-svc/internal/sellersite"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
)

// run is one call (Collect or CheckCredentials) for one account, holding
// the account for its whole length and one browser context.
type run struct {
	svc       *Service
	log       *slog.Logger
	acct      *account
	creds     *collectorv1.AblyCredentials
	onSession func(*collectorv1.AblyCredentials) error
	slot      *browser.Context
	tab       *sellersite.Tab

	stream   collectorv1.CollectorService_CollectServer
	callGap  time.Duration
	lastCall time.Time
	signIns  int

	done, estimated int64
	batchOrders     []*commercev1.Order
	batchLines      []*commercev1.OrderLine
}

// sessionSkew: a saved session this close to its expiry is not used.
const sessionSkew = 5 * time.Minute

// secret identifies an e-mail and password without keeping the password.
func secret(ac *collectorv1.AblyCredentials) string {
	h := sha256.Sum256([]byte(strings.ToLower(ac.Email) + "\x00" + ac.Password))
	return hex.EncodeToString(h[:])
}

// accountLabel names an account in logs and debug files without its e-mail.
func accountLabel(email string) string {
	h := sha256.Sum256([]byte(strings.ToLower(email)))
	return hex.EncodeToString(h[:4])
}

// open takes the account (one run at a time per account), a browser context
// and a page. A password the site already rejected is refused here, without
// touching the site: retrying it is how accounts get locked.
func (s *Service) open(ctx context.Context, ac *collectorv1.AblyCredentials, onSession func(*collectorv1.AblyCredentials) error) (*run, error) {
	acct := s.account(ac.Email)
	acct.mu.Lock()
	if ac.Password != "" && acct.rejectedSecret == secret(ac) {
		err := acct.rejectedMsg
		acct.mu.Unlock()
		return nil, err
	}
	r := &run{svc: s, log: s.log.With("account", accountLabel(ac.Email)), acct: acct,
		creds: proto.Clone(ac).(*collectorv1.AblyCredentials), onSession: onSession}
	slot, err := s.cfg.Pool.Acquire(ctx)
	if err != nil {
		acct.mu.Unlock()
		return nil, status.Errorf(codes.Unavailable, "no browser for the Ably seller site: %v", err)
	}
	site := s.cfg.Site
	site.Pace = s.pacer()
	tab, err := sellersite.Open(ctx, slot.Browser, site)
	if err != nil {
		slot.Release()
		acct.mu.Unlock()
		return nil, status.Errorf(codes.Unavailable, "opening the Ably seller site: %v", err)
	}
	r.slot, r.tab = slot, tab
	return r, nil
}

func (r *run) close() {
	r.tab.Close()
	r.slot.Release()
	r.acct.mu.Unlock()
}

// signIn makes the tab signed in: with the saved session when it still
// works (no sign-in at all), else by filling the form once. A session lives
// until it expires, and the process keeps the newest one per account, so an
// account signs in at most once per session lifetime.
func (r *run) signIn(ctx context.Context) error {
	now := r.svc.cfg.Clock.Now()
	tok, exp := r.creds.SessionToken, r.creds.GetSessionExpiresAt().AsTime()
	if r.creds.SessionExpiresAt == nil {
		exp = time.Time{}
	}
	newer := false
	if r.acct.token != "" && r.acct.token != tok && r.acct.expires.After(exp) {
		// This process signed in since ingest last saved the credentials.
		tok, exp, newer = r.acct.token, r.acct.expires, true
	}
	if tok != "" && (exp.IsZero() || now.Add(sessionSkew).Before(exp)) {
		if err := r.tab.UseSession(tok); err != nil {
			return fmt.Errorf("restoring the session cookie: %w", err)
		}
		err := r.land(ctx, "/sales/order")
		if err == nil {
			r.log.Info("ably session reused", "expires_at", exp.Format(time.RFC3339))
			if newer {
				return r.keepSession(tok, exp)
			}
			return nil
		}
		if !errors.Is(err, sellersite.ErrSignedOut) {
			return err
		}
		r.log.Info("ably session no longer accepted")
		r.forgetSession(tok)
	} else if err := r.land(ctx, "/sales/order"); err == nil {
		return nil
	} else if !errors.Is(err, sellersite.ErrSignedOut) {
		return err
	}
	return r.fillSignIn(ctx)
}

// fillSignIn signs in on the /login page the tab was bounced to.
func (r *run) fillSignIn(ctx context.Context) error {
	if r.creds.Password == "" {
		return status.Error(codes.FailedPrecondition, "the saved Ably session has ended and no password is stored: reconnect Ably in H-log")
	}
	if r.signIns >= 2 {
		return &unavailable{"the Ably seller site ended the session twice in one run; stopping rather than signing in again"}
	}
	r.signIns++
	tok, exp, err := r.tab.SignIn(ctx, r.creds.Email, r.creds.Password)
	var rejected *sellersite.SignInError
	if errors.As(err, &rejected) {
		r.acct.rejectedSecret, r.acct.rejectedMsg = secret(r.creds), signInError(rejected)
		r.log.Warn("ably sign-in rejected; this password will not be tried again", "locked", rejected.Locked)
		return r.acct.rejectedMsg
	}
	if err != nil {
		return err
	}
	if exp.IsZero() {
		exp = r.svc.cfg.Clock.Now().Add(time.Hour) // unknown: assume short
	}
	r.log.Info("ably signed in", "expires_at", exp.Format(time.RFC3339))
	if err := r.keepSession(tok, exp); err != nil {
		return err
	}
	// A person goes on from the dashboard to the orders page.
	return r.land(ctx, "/sales/order")
}

// keepSession remembers the session and hands it on as a credential update,
// before anything else is sent.
func (r *run) keepSession(tok string, exp time.Time) error {
	r.acct.token, r.acct.expires = tok, exp
	r.creds.SessionToken, r.creds.SessionExpiresAt = tok, timestamppb.New(exp)
	if r.onSession == nil {
		return nil
	}
	if err := r.onSession(proto.Clone(r.creds).(*collectorv1.AblyCredentials)); err != nil {
		return fmt.Errorf("handing on the new session: %w", err)
	}
	return nil
}

func (r *run) forgetSession(tok string) {
	if r.acct.token == tok {
		r.acct.token, r.acct.expires = "", time.Time{}
	}
}

// get calls the site's API from inside the page, paced to the rate budget,
// retrying server failures with backoff and signing in again once when the
// session ends mid-run.
func (r *run) get(ctx context.Context, path string, q url.Values, binary bool) (*sellersite.Response, error) {
	cfg := r.svc.cfg
	backoff := cfg.Backoff
	var last string
	for attempt := 0; attempt <= cfg.Retries; {
		if wait := r.callGap - cfg.Clock.Now().Sub(r.lastCall); wait > 0 && !r.lastCall.IsZero() {
			if err := cfg.Clock.Sleep(ctx, wait); err != nil {
				return nil, err
			}
		}
		r.lastCall = cfg.Clock.Now()
		res, err := r.tab.Get(ctx, path, q, binary)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			last = err.Error()
		case res.Status == http.StatusOK:
			return res, nil
		case res.Status == http.StatusUnauthorized:
			r.log.Info("ably session ended mid-run", "path", path)
			r.forgetSession(r.tab.Token())
			if err := r.land(ctx, "/sales/order"); err == nil {
				continue // the page still holds a live session
			} else if !errors.Is(err, sellersite.ErrSignedOut) {
				return nil, err
			}
			if err := r.fillSignIn(ctx); err != nil {
				return nil, err
			}
			continue
		case res.Status >= 500 || res.Status == http.StatusTooManyRequests:
			last = fmt.Sprintf("HTTP %d", res.Status)
		default:
			return nil, status.Errorf(codes.Internal, "the Ably seller site answered HTTP %d to %s: %s", res.Status, path, snippet(res.Body))
		}
		attempt++
		if attempt > cfg.Retries {
			break
		}
		r.log.Info("ably call failed, retrying", "path", path, "err", last, "attempt", attempt, "backoff", backoff.String())
		if err := cfg.Clock.Sleep(ctx, backoff); err != nil {
			return nil, err
		}
		backoff *= 2
	}
	return nil, &unavailable{fmt.Sprintf("the Ably seller site kept failing %s after %d attempts: %s", path, cfg.Retries+1, last)}
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func marketName(body []byte) string {
	var me struct {
		MarketName string `json:"market_name"`
	}
	if json.Unmarshal(body, &me) != nil {
		return ""
	}
	return me.MarketName
}

// fail ends a run: it saves a screenshot and the page's HTML for debugging
// and names them in the status message.
func (r *run) fail(ctx context.Context, what string, err error) error {
	st := status.Convert(toStatus(err))
	if st.Code() == codes.Canceled || ctx.Err() != nil {
		return st.Err()
	}
	label := fmt.Sprintf("ably-%s-%s-%s", accountLabel(r.creds.Email), what, time.Now().UTC().Format("20060102T150405.000"))
	png, html, derr := r.tab.SaveDebug(r.svc.cfg.DebugDir, label)
	if derr != nil {
		r.log.Warn("saving debug files", "err", derr.Error())
		r.log.Warn("ably run failed", "stage", what, "code", st.Code().String(), "err", st.Message(), "url", r.tab.URL())
		return st.Err()
	}
	r.log.Warn("ably run failed", "stage", what, "code", st.Code().String(), "err", st.Message(), "screenshot", png, "html", html)
	return status.Errorf(st.Code(), "%s (debug: screenshot %s, page %s)", st.Message(), png, html)
}

// land opens a page like a person who reloads a page that hangs: a page
// that does not come up in time is opened again, with backoff; the bounce
// to /login is an answer, not a failure.
func (r *run) land(ctx context.Context, path string) error {
	cfg := r.svc.cfg
	backoff := cfg.Backoff
	for attempt := 0; ; attempt++ {
		err := r.tab.Land(ctx, path)
		if err == nil || errors.Is(err, sellersite.ErrSignedOut) || ctx.Err() != nil || attempt >= cfg.Retries {
			return err
		}
		r.log.Info("ably page did not come up, opening it again", "path", path, "err", err.Error(), "attempt", attempt+1)
		if err := cfg.Clock.Sleep(ctx, backoff); err != nil {
			return err
		}
		backoff *= 2
	}
}
