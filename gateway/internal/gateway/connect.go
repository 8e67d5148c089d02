package gateway

import (
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	ingestv1 "hlog.dev/proto/gen/hlog/ingest/v1"
)

// Connecting a Cafe24 mall is OAuth 2.0's authorization-code flow
// (cafe24.md §1): /connect/cafe24/start sends the seller to the mall's
// consent page with a random state, remembered in a short-lived HttpOnly
// cookie; Cafe24 sends them back to /connect/cafe24/callback with a code,
// which goes to ingest's AddAccount (or ReconnectAccount) untouched: the
// collector's CheckCredentials exchanges it for the token pair, so the app
// secret and the tokens never reach the browser.
const (
	oauthCookie  = "hlog_cafe24_oauth"
	callbackPath = "/connect/cafe24/callback"
)

// mallIDPattern is a Cafe24 mall id: the subdomain of {mall_id}.cafe24.com.
var mallIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{1,49}$`)

type cafe24Connect struct {
	sessions     *sessions
	accounts     ingestv1.AccountServiceClient
	authorizeURL string
	clientID     string
	clientSecret string
	scopes       string
	redirectURI  string
	secure       bool
	log          *slog.Logger
}

// back sends the browser to the dashboard's accounts panel with an outcome
// the page shows.
func back(w http.ResponseWriter, r *http.Request, key, value string) {
	http.Redirect(w, r, "/?"+url.Values{key: {value}}.Encode()+"#accounts", http.StatusSeeOther)
}

func (c *cafe24Connect) start(w http.ResponseWriter, r *http.Request) {
	if _, err := c.sessions.resolve(r.Context(), sessionToken(r)); err != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if c.clientID == "" {
		back(w, r, "connect_error", "Cafe24 connection is not configured on this server")
		return
	}
	mall := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("mall_id")))
	if !mallIDPattern.MatchString(mall) {
		back(w, r, "connect_error", "enter your Cafe24 mall id (the part before .cafe24.com)")
		return
	}
	account := r.URL.Query().Get("account_id") // set when reconnecting
	var raw [24]byte
	_, _ = rand.Read(raw[:])
	state := base64.RawURLEncoding.EncodeToString(raw[:])
	http.SetCookie(w, &http.Cookie{
		Name: oauthCookie, Value: url.Values{"state": {state}, "mall": {mall}, "account": {account}}.Encode(),
		Path: "/connect/cafe24/", HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode, MaxAge: 600,
	})
	q := url.Values{
		"response_type": {"code"}, "client_id": {c.clientID}, "state": {state},
		"redirect_uri": {c.redirectURI}, "scope": {c.scopes},
	}
	http.Redirect(w, r, strings.ReplaceAll(c.authorizeURL, "{mall_id}", url.PathEscape(mall))+"?"+q.Encode(), http.StatusSeeOther)
}

func (c *cafe24Connect) callback(w http.ResponseWriter, r *http.Request) {
	sess, err := c.sessions.resolve(r.Context(), sessionToken(r))
	if err != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	ck, err := r.Cookie(oauthCookie)
	http.SetCookie(w, &http.Cookie{Name: oauthCookie, Value: "", Path: "/connect/cafe24/", HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	if err != nil {
		back(w, r, "connect_error", "the Cafe24 connection took too long or was started elsewhere; start again")
		return
	}
	saved, _ := url.ParseQuery(ck.Value)
	q := r.URL.Query()
	// The state proves this callback answers the consent this browser
	// asked for (RFC 6749 §10.12), not a code an attacker planted.
	if !sameToken(q.Get("state"), saved.Get("state")) {
		back(w, r, "connect_error", "the Cafe24 answer did not match this connection attempt; start again")
		return
	}
	if e := q.Get("error"); e != "" {
		msg := "Cafe24 did not grant access"
		if e == "access_denied" {
			msg = "access was declined on Cafe24's consent page"
		}
		back(w, r, "connect_error", msg)
		return
	}
	code := q.Get("code")
	if code == "" {
		back(w, r, "connect_error", "Cafe24 sent no authorization code; start again")
		return
	}
	creds := &collectorv1.Credentials{Platform: &collectorv1.Credentials_Cafe24{Cafe24: &collectorv1.Cafe24Credentials{
		MallId: saved.Get("mall"), ClientId: c.clientID, ClientSecret: c.clientSecret,
		AuthorizationCode: code, RedirectUri: c.redirectURI,
	}}}
	ctx := metadata.NewOutgoingContext(r.Context(), c.sessions.outgoing(caller{sellerID: sess.GetSeller().GetSellerId()}))
	if account := saved.Get("account"); account != "" {
		_, err = c.accounts.ReconnectAccount(ctx, &ingestv1.ReconnectAccountRequest{AccountId: account, Credentials: creds})
	} else {
		_, err = c.accounts.AddAccount(ctx, &ingestv1.AddAccountRequest{Platform: commercev1.Platform_PLATFORM_CAFE24, Credentials: creds})
	}
	if err != nil {
		st := status.Convert(err)
		msg := st.Message()
		if public, fault := faultMessage(st.Code()); fault {
			c.log.Error("connecting cafe24 failed", "code", st.Code().String(), "err", st.Message())
			msg = public
		} else if st.Code() == codes.Unknown {
			msg = "Cafe24 connection failed"
		}
		back(w, r, "connect_error", msg)
		return
	}
	back(w, r, "connected", "cafe24")
}
