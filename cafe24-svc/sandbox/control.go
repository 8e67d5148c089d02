package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"hlog.dev/proto/kit/clock"
)

// controlRoutes is the sandbox-only API under /_sandbox/. It has no
// counterpart on the real platform: tests and the local stack use it to move
// the clock, connect a demo mall without a browser and inject faults.
//
//	GET    /_sandbox/healthz
//	GET    /_sandbox/clock                      {"now":RFC3339,"running":bool}
//	POST   /_sandbox/clock                      {"now":RFC3339} or {"advance":"36h"}, optional "running"
//	GET    /_sandbox/malls                      the malls and their state
//	POST   /_sandbox/malls/{mall}/tokens        {"scopes":[...]} (optional) -> a token pair, as /oauth/token answers
//	POST   /_sandbox/malls/{mall}/codes         {"redirect_uri":..,"scopes":[...]} -> {"code","expires_at"}
//	POST   /_sandbox/malls/{mall}/faults        a fault switch (faults.go): {"status":429|500|503|504|401,"count":n},
//	                                            {"delay":"3s","count":n}, {"action":"expire_access_tokens"|
//	                                            "revoke_refresh_tokens"|"exhaust_quota"|"retire_version"}, each
//	                                            optionally {"after":n} Admin calls from now
//	DELETE /_sandbox/malls/{mall}/faults
//	PUT    /_sandbox/versions                   {"available":["2026-03-01",...]}: the API versions served
//	PUT    /_sandbox/malls/{mall}/rate-limit    {"used":n}: set the mall's leaky bucket, as if other apps had called
//	PUT    /_sandbox/malls/{mall}/quota         {"calls_percent":n}: other apps' calls in the usage quota
//	PUT    /_sandbox/apps/{client_id}           {"client_secret":..,"redirect_uris":[..]}: register an app
func (s *Sandbox) controlRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_sandbox/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /_sandbox/clock", s.getClock)
	mux.HandleFunc("POST /_sandbox/clock", s.setClock)
	mux.HandleFunc("GET /_sandbox/malls", s.listMalls)
	mux.HandleFunc("POST /_sandbox/malls/{mall}/tokens", s.withMall(s.mintTokens))
	mux.HandleFunc("POST /_sandbox/malls/{mall}/codes", s.withMall(s.mintCode))
	mux.HandleFunc("POST /_sandbox/malls/{mall}/faults", s.withMall(s.addFaults))
	mux.HandleFunc("DELETE /_sandbox/malls/{mall}/faults", s.withMall(func(w http.ResponseWriter, r *http.Request, m *mall) {
		m.faults.clear()
		writeJSON(w, http.StatusOK, map[string]int{"faults_pending": 0})
	}))
	mux.HandleFunc("PUT /_sandbox/malls/{mall}/rate-limit", s.withMall(s.setRateLimit))
	mux.HandleFunc("PUT /_sandbox/malls/{mall}/quota", s.withMall(s.putQuota))
	mux.HandleFunc("PUT /_sandbox/apps/{client_id}", s.registerApp)
	mux.HandleFunc("PUT /_sandbox/versions", s.putVersions)
	mux.HandleFunc("/_sandbox/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no sandbox control endpoint "+r.Method+" "+r.URL.Path)
	})
	return mux
}

func (s *Sandbox) withMall(h func(http.ResponseWriter, *http.Request, *mall)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		m, ok := s.malls[r.PathValue("mall")]
		if !ok {
			writeError(w, http.StatusNotFound, fmt.Sprintf("no mall %q in this sandbox", r.PathValue("mall")))
			return
		}
		h(w, r, m)
	}
}

// decodeBody reads an optional JSON body into v, rejecting unknown fields.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && err != io.EOF {
		writeError(w, http.StatusBadRequest, "reading request body: "+err.Error())
		return false
	}
	return true
}

type clockJSON struct {
	Now     string `json:"now"`
	Running bool   `json:"running"`
}

func (s *Sandbox) getClock(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, clockJSON{Now: s.Now().Format(time.RFC3339Nano), Running: s.clock.Running()})
}

func (s *Sandbox) setClock(w http.ResponseWriter, r *http.Request) {
	var change clock.Change
	if !decodeBody(w, r, &change) {
		return
	}
	if err := change.Apply(s.clock, s.SetClock, s.Advance); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.getClock(w, r)
}

func (s *Sandbox) listMalls(w http.ResponseWriter, _ *http.Request) {
	type mallState struct {
		MallID        string `json:"mall_id"`
		Seed          uint64 `json:"seed"`
		OrdersVisible int    `json:"orders_visible"`
		RateLimitUsed int    `json:"rate_limit_used"`
		FaultsPending int    `json:"faults_pending"`
	}
	out := struct {
		Malls []mallState `json:"malls"`
	}{}
	now := s.Now()
	for _, id := range s.order {
		m := s.malls[id]
		out.Malls = append(out.Malls, mallState{
			MallID: id, Seed: m.cfg.Seed, OrdersVisible: len(m.viewAt(now).orders),
			RateLimitUsed: m.bucket.used(), FaultsPending: m.faults.pending(),
		})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Sandbox) mintTokens(w http.ResponseWriter, r *http.Request, m *mall) {
	var req struct {
		Scopes []string `json:"scopes"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	scopes := req.Scopes
	if scopes == nil {
		scopes = AppScopes
	}
	writeJSON(w, http.StatusOK, s.tokens.issue(m.cfg.ID, s.cfg.ClientID, scopes, s.Now(), s.cfg.AccessTokenTTL, s.cfg.RefreshTokenTTL))
}

func (s *Sandbox) mintCode(w http.ResponseWriter, r *http.Request, m *mall) {
	var req struct {
		RedirectURI string   `json:"redirect_uri"`
		Scopes      []string `json:"scopes"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if req.RedirectURI == "" {
		writeError(w, http.StatusBadRequest, "redirect_uri is required")
		return
	}
	scopes := req.Scopes
	if scopes == nil {
		scopes = AppScopes
	}
	code, exp := s.tokens.newCode(m.cfg.ID, s.cfg.ClientID, req.RedirectURI, scopes, s.Now())
	writeJSON(w, http.StatusOK, map[string]string{"code": code, "expires_at": tokenTime(exp)})
}

func (s *Sandbox) setRateLimit(w http.ResponseWriter, r *http.Request, m *mall) {
	var req struct {
		Used *float64 `json:"used"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Used == nil || *req.Used < 0 || *req.Used > bucketCapacity {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("used must be from 0 to %d", bucketCapacity))
		return
	}
	m.bucket.fill(*req.Used)
	writeJSON(w, http.StatusOK, map[string]int{"rate_limit_used": m.bucket.used()})
}

// FillRateLimit sets the mall's leaky bucket to used calls.
func (s *Sandbox) FillRateLimit(mallID string, used float64) error {
	m, ok := s.malls[mallID]
	if !ok {
		return fmt.Errorf("sandbox: no mall %s", mallID)
	}
	m.bucket.fill(used)
	return nil
}
