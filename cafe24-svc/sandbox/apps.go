package sandbox

import (
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
)

// An app is a client registered in Cafe24's developer center: its client id
// and secret, and the redirect URIs the authorize endpoint may send codes to.
// The sandbox starts with the app of Config (ClientID, ClientSecret,
// RedirectURIs); more are registered with PUT /_sandbox/apps/{client_id}.
type app struct {
	secret       string
	redirectURIs []string
}

type appRegistry struct {
	mu   sync.Mutex
	apps map[string]*app
}

func (r *appRegistry) put(clientID, secret string, redirectURIs []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.apps == nil {
		r.apps = map[string]*app{}
	}
	r.apps[clientID] = &app{secret: secret, redirectURIs: append([]string(nil), redirectURIs...)}
}

func (r *appRegistry) get(clientID string) (*app, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.apps[clientID]
	return a, ok
}

// authenticate checks a client id and secret in constant time.
func (r *appRegistry) authenticate(clientID, secret string) (ok, known bool) {
	a, known := r.get(clientID)
	if !known {
		return false, false
	}
	return subtle.ConstantTimeCompare([]byte(secret), []byte(a.secret)) == 1, true
}

// allows reports whether the app may receive codes at redirectURI. Cafe24
// accepts only the redirect URIs registered for the app, compared exactly.
// An app registered without any (the local stack's default) accepts any
// http(s) URI on a loopback host, a sandbox convenience so that `make run`
// works on whatever port the gateway has.
func (a *app) allows(redirectURI string) bool {
	if len(a.redirectURIs) > 0 {
		return slices.Contains(a.redirectURIs, redirectURI)
	}
	u, err := url.Parse(redirectURI)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Fragment != "" {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func validRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return fmt.Errorf("redirect uri %q must be an absolute http(s) URL without a fragment", raw)
	}
	return nil
}

// RegisterApp registers (or replaces) an app: a client id and secret and the
// redirect URIs it may use; none means any loopback URI.
func (s *Sandbox) RegisterApp(clientID, secret string, redirectURIs []string) error {
	if clientID == "" || secret == "" {
		return fmt.Errorf("sandbox: an app needs a client id and secret")
	}
	for _, u := range redirectURIs {
		if err := validRedirectURI(u); err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
	}
	s.apps.put(clientID, secret, redirectURIs)
	return nil
}

// registerApp serves PUT /_sandbox/apps/{client_id}
// {"client_secret":..,"redirect_uris":[..]}.
func (s *Sandbox) registerApp(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ClientSecret string   `json:"client_secret"`
		RedirectURIs []string `json:"redirect_uris"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if err := s.RegisterApp(r.PathValue("client_id"), req.ClientSecret, req.RedirectURIs); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"client_id": r.PathValue("client_id"), "redirect_uris": req.RedirectURIs})
}
