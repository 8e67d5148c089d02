package sandbox

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// knownScopes are the scopes an app may ask for (cafe24.md §1).
var knownScopes = []string{
	"mall.read_order", "mall.write_order", "mall.read_product", "mall.write_product",
	"mall.read_category", "mall.write_category", "mall.read_promotion", "mall.write_promotion",
	"mall.read_store", "mall.read_customer", "mall.read_application",
}

// authorize serves the consent screen, /api/v2/oauth/authorize (cafe24.md
// §1): GET with response_type=code, client_id, state, redirect_uri and a
// comma-separated scope shows the mall operator what the app asks for; the
// form posts back, and the answer is a 302 to redirect_uri with code and
// state (a one-minute, single-use code), or with error=access_denied.
//
// Errors that make the redirect URI untrustworthy (unknown app, URI not
// registered) are shown on the page and never redirected, as OAuth 2.0
// (RFC 6749 §4.1.2.1) requires; the others go back to the app.
func (s *Sandbox) authorize(w http.ResponseWriter, r *http.Request, m *mall) {
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			authorizeProblem(w, http.StatusBadRequest, "Malformed form body.")
			return
		}
	default:
		writeError(w, http.StatusMethodNotAllowed, "Method not allowed.")
		return
	}
	q := r.Form
	if r.Method == http.MethodGet {
		q = r.URL.Query()
	}
	clientID, redirectURI, state := q.Get("client_id"), q.Get("redirect_uri"), q.Get("state")
	a, ok := s.apps.get(clientID)
	if !ok {
		authorizeProblem(w, http.StatusBadRequest, "Invalid client_id.")
		return
	}
	if validRedirectURI(redirectURI) != nil || !a.allows(redirectURI) {
		authorizeProblem(w, http.StatusBadRequest, "redirect_uri is not registered for this app.")
		return
	}
	back := func(params url.Values) {
		if state != "" {
			params.Set("state", state)
		}
		u, _ := url.Parse(redirectURI)
		qq := u.Query()
		for k, v := range params {
			qq[k] = v
		}
		u.RawQuery = qq.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	if q.Get("response_type") != "code" {
		back(url.Values{"error": {"unsupported_response_type"}, "error_description": {"response_type must be code"}})
		return
	}
	var scopes []string
	for _, sc := range strings.Split(q.Get("scope"), ",") {
		if sc = strings.TrimSpace(sc); sc == "" {
			continue
		}
		if !slices.Contains(knownScopes, sc) {
			back(url.Values{"error": {"invalid_scope"}, "error_description": {"unknown scope " + sc}})
			return
		}
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	if len(scopes) == 0 {
		back(url.Values{"error": {"invalid_scope"}, "error_description": {"scope is required"}})
		return
	}
	if r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Frame-Options", "DENY")
		consentPage.Execute(w, consentData{
			Mall: m.cfg.ID, ClientID: clientID, RedirectURI: redirectURI, State: state,
			Scope: strings.Join(scopes, ","), Scopes: scopes,
		})
		return
	}
	switch q.Get("decision") {
	case "approve":
		code, _ := s.tokens.newCode(m.cfg.ID, clientID, redirectURI, scopes, s.Now())
		back(url.Values{"code": {code}})
	case "deny":
		back(url.Values{"error": {"access_denied"}, "error_description": {"The mall operator declined."}})
	default:
		authorizeProblem(w, http.StatusBadRequest, "decision must be approve or deny.")
	}
}

type consentData struct {
	Mall, ClientID, RedirectURI, State, Scope string
	Scopes                                    []string
}

// consentPage stands for the screen a mall operator, signed in to the Cafe24
// admin, sees when an app asks for access. The buttons have stable ids
// (#approve, #deny) for browser tests.
var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><title>Cafe24 앱 권한 동의</title>
<style>body{font-family:sans-serif;max-width:32rem;margin:3rem auto;color:#222}li{margin:.2rem 0}button{padding:.5rem 1.2rem;margin-right:.5rem}</style>
</head><body>
<h1>앱 권한 동의</h1>
<p>쇼핑몰 <strong id="mall">{{.Mall}}</strong>에 앱 <strong id="client">{{.ClientID}}</strong>이(가) 다음 권한을 요청합니다.</p>
<ul id="scopes">{{range .Scopes}}<li>{{.}}</li>{{end}}</ul>
<form method="post">
<input type="hidden" name="response_type" value="code">
<input type="hidden" name="client_id" value="{{.ClientID}}">
<input type="hidden" name="redirect_uri" value="{{.RedirectURI}}">
<input type="hidden" name="state" value="{{.State}}">
<input type="hidden" name="scope" value="{{.Scope}}">
<button id="approve" type="submit" name="decision" value="approve">동의하고 설치</button>
<button id="deny" type="submit" name="decision" value="deny">취소</button>
</form>
<p><small>Cafe24 sandbox: this page stands for Cafe24's consent screen.</small></p>
</body></html>
`))

func authorizeProblem(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	template.Must(template.New("problem").Parse(`<!doctype html><html><head><meta charset="utf-8"><title>Cafe24 OAuth error</title></head><body><h1>OAuth error</h1><p id="error">{{.}}</p></body></html>`)).Execute(w, msg)
}
