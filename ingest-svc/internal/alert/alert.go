// Package alert posts an operator alert when an account's run dies or needs
// the seller: once per incident (the account's alerted_at mark, set with a
// compare-and-set so one replica posts), to a Slack-compatible incoming
// webhook ({"text": ...}), and counted in the metrics.
package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hlog.dev/ingest-svc/internal/store"
	"hlog.dev/ingest-svc/internal/syncrun"
)

// Notifier implements syncrun.Alerter.
type Notifier struct {
	Store *store.Store
	// WebhookURL receives the alerts; empty counts them without posting.
	WebhookURL string
	Client     *http.Client
	Log        *slog.Logger

	incidents *prometheus.CounterVec
	posts     *prometheus.CounterVec
}

// New returns a Notifier registering its metrics with reg (nil: none).
func New(st *store.Store, webhookURL string, log *slog.Logger, reg prometheus.Registerer) *Notifier {
	n := &Notifier{
		Store: st, WebhookURL: webhookURL, Client: &http.Client{Timeout: 10 * time.Second}, Log: log,
		incidents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hlog_ingest_alerts_total",
			Help: "Incidents alerted (a run that died or needs the seller), by platform and reason.",
		}, []string{"platform", "reason"}),
		posts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hlog_ingest_alert_posts_total",
			Help: "Alert webhook posts, by result (ok, error, disabled).",
		}, []string{"result"}),
	}
	if reg != nil {
		reg.MustRegister(n.incidents, n.posts)
	}
	if n.Log == nil {
		n.Log = slog.Default()
	}
	return n
}

var _ syncrun.Alerter = (*Notifier)(nil)

// Incident alerts once per incident of an account.
func (n *Notifier) Incident(ctx context.Context, in syncrun.Incident) {
	first, err := n.Store.BeginIncident(ctx, in.SellerID, in.AccountID)
	if err != nil {
		n.Log.Error("recording an alert", "err", err.Error())
		return
	}
	if !first {
		return // already alerted; the incident goes on
	}
	reason := "dead"
	if in.NeedsSeller {
		reason = "needs_seller"
	}
	platform := strings.ToLower(strings.TrimPrefix(in.Platform.String(), "PLATFORM_"))
	n.incidents.WithLabelValues(platform, reason).Inc()
	n.Log.Warn("alert", "seller_id", in.SellerID, "account_id", in.AccountID, "run_id", in.RunID, "reason", reason, "code", in.Code)
	if n.WebhookURL == "" {
		n.posts.WithLabelValues("disabled").Inc()
		return
	}
	text := fmt.Sprintf(":rotating_light: H-log sync of seller %d, %s account %d failed for good after %d attempt(s): %s %s",
		in.SellerID, platform, in.AccountID, in.Attempts, in.Code, in.Message)
	if in.NeedsSeller {
		text = fmt.Sprintf(":warning: H-log sync of seller %d, %s account %d needs the seller: %s %s",
			in.SellerID, platform, in.AccountID, in.Code, in.Message)
	}
	if err := n.post(ctx, text); err != nil {
		n.posts.WithLabelValues("error").Inc()
		n.Log.Error("posting an alert", "err", err.Error())
		return
	}
	n.posts.WithLabelValues("ok").Inc()
}

// Resolved ends the account's incident.
func (n *Notifier) Resolved(ctx context.Context, sellerID, accountID uint64) {
	if err := n.Store.EndIncident(ctx, sellerID, accountID); err != nil {
		n.Log.Error("ending an incident", "err", err.Error())
	}
}

// post sends Slack's incoming-webhook JSON, trying three times.
func (n *Notifier) post(ctx context.Context, text string) error {
	body, _ := json.Marshal(map[string]string{"text": text})
	var last error
	for attempt := range 3 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt) * time.Second):
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.WebhookURL, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("alert webhook request: %w", err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := n.Client.Do(req)
		if err != nil {
			// The URL is a secret (it carries the webhook token): say
			// only that the post failed.
			last = fmt.Errorf("alert webhook unreachable")
			continue
		}
		resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			return nil
		}
		last = fmt.Errorf("alert webhook answered HTTP %d", resp.StatusCode)
	}
	return last
}
