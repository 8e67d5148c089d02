package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"hlog.dev/proto/kit/clock"
)

// controlRoutes is the sandbox-only API under /_sandbox/; the real site has
// no counterpart. Tests and the local stack use it to move the clock and
// inject faults.
//
//	GET    /_sandbox/healthz
//	GET    /_sandbox/clock                        {"now":RFC3339,"running":bool}
//	POST   /_sandbox/clock                        {"now":RFC3339} or {"advance":"36h"}, optional "running"
//	GET    /_sandbox/sellers                      sellers with sign-in counters and pending faults
//	POST   /_sandbox/sellers/{email}/faults       {"kind":"server_error|slow|expire_session|modal|layout","count":n,"after":m,"delay":"2s"}
//	DELETE /_sandbox/sellers/{email}/faults
//	POST   /_sandbox/sellers/{email}/sessions:expire   every session of the seller expires now
//	POST   /_sandbox/sellers/{email}/unlock       clears wrong-password failures and the lock
func (s *Sandbox) controlRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_sandbox/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /_sandbox/clock", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"now": s.Now().Format(time.RFC3339), "running": s.clock.Running()})
	})
	mux.HandleFunc("POST /_sandbox/clock", s.setClock)
	mux.HandleFunc("GET /_sandbox/sellers", func(w http.ResponseWriter, r *http.Request) {
		var out []SellerState
		for _, e := range s.order {
			st, _ := s.SellerState(e)
			out = append(out, st)
		}
		writeJSON(w, http.StatusOK, map[string]any{"sellers": out})
	})
	mux.HandleFunc("POST /_sandbox/sellers/{email}/faults", s.withSeller(func(w http.ResponseWriter, r *http.Request, sl *seller) {
		var req struct {
			Kind  string `json:"kind"`
			Count int    `json:"count"`
			After int    `json:"after"`
			Delay string `json:"delay"`
		}
		if !decodeBody(w, r, &req) {
			return
		}
		f := Fault{Kind: req.Kind, Count: req.Count, After: req.After}
		if req.Delay != "" {
			d, err := time.ParseDuration(req.Delay)
			if err != nil {
				apiError(w, http.StatusBadRequest, "invalid", "delay must be a Go duration such as 2s")
				return
			}
			f.Delay = d
		}
		if err := s.AddFault(sl.cfg.Email, f); err != nil {
			apiError(w, http.StatusBadRequest, "invalid", err.Error())
			return
		}
		st, _ := s.SellerState(sl.cfg.Email)
		writeJSON(w, http.StatusOK, st)
	}))
	mux.HandleFunc("DELETE /_sandbox/sellers/{email}/faults", s.withSeller(func(w http.ResponseWriter, r *http.Request, sl *seller) {
		sl.mu.Lock()
		sl.faults.pending = nil
		sl.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]int{"faults_pending": 0})
	}))
	mux.HandleFunc("POST /_sandbox/sellers/{email}/sessions:expire", s.withSeller(func(w http.ResponseWriter, r *http.Request, sl *seller) {
		writeJSON(w, http.StatusOK, map[string]int{"sessions_expired": s.ExpireSessions(sl.cfg.Email)})
	}))
	mux.HandleFunc("POST /_sandbox/sellers/{email}/unlock", s.withSeller(func(w http.ResponseWriter, r *http.Request, sl *seller) {
		sl.mu.Lock()
		sl.failures, sl.locked = 0, false
		sl.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]bool{"locked": false})
	}))
	mux.HandleFunc("/_sandbox/", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "not_found", "no sandbox control endpoint "+r.Method+" "+r.URL.Path)
	})
	return mux
}

func (s *Sandbox) withSeller(h func(http.ResponseWriter, *http.Request, *seller)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sl, ok := s.sellers[strings.ToLower(r.PathValue("email"))]
		if !ok {
			apiError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no seller %q in this sandbox", r.PathValue("email")))
			return
		}
		h(w, r, sl)
	}
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		apiError(w, http.StatusBadRequest, "invalid", "reading request body: "+err.Error())
		return false
	}
	return true
}

func (s *Sandbox) setClock(w http.ResponseWriter, r *http.Request) {
	var change clock.Change
	if !decodeBody(w, r, &change) {
		return
	}
	if err := change.Apply(s.clock, s.SetClock, s.Advance); err != nil && !errors.Is(err, clock.ErrNoChange) {
		apiError(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"now": s.Now().Format(time.RFC3339), "running": s.clock.Running()})
}

// SellerState is what the control API tells about a seller.
type SellerState struct {
	Email         string  `json:"email"`
	LoginAttempts int     `json:"login_attempts"`
	SignIns       int     `json:"sign_ins"`
	Failures      int     `json:"failures"`
	Locked        bool    `json:"locked"`
	DataCalls     int     `json:"data_calls"`
	Faults        []Fault `json:"faults"`
}

// SellerState reports a seller's sign-in counters and pending faults.
func (s *Sandbox) SellerState(email string) (SellerState, bool) {
	sl, ok := s.sellers[strings.ToLower(email)]
	if !ok {
		return SellerState{}, false
	}
	sl.mu.Lock()
	defer sl.mu.Unlock()
	return SellerState{Email: sl.cfg.Email, LoginAttempts: sl.loginAttempts, SignIns: sl.signIns, Failures: sl.failures,
		Locked: sl.locked, DataCalls: sl.dataCalls, Faults: append([]Fault(nil), sl.faults.pending...)}, true
}

var faultKinds = map[string]bool{FaultServerError: true, FaultSlow: true, FaultExpireSession: true, FaultModal: true, FaultLayout: true}

// AddFault queues a fault for a seller.
func (s *Sandbox) AddFault(email string, f Fault) error {
	sl, ok := s.sellers[strings.ToLower(email)]
	switch {
	case !ok:
		return fmt.Errorf("no seller %q", email)
	case !faultKinds[f.Kind]:
		return fmt.Errorf("fault kind %q is not one of server_error, slow, expire_session, modal, layout", f.Kind)
	case f.Count < 1 || f.Count > 100000:
		return errors.New("count must be from 1 to 100000")
	case f.After < 0:
		return errors.New("after must not be negative")
	case f.Kind == FaultSlow && (f.Delay <= 0 || f.Delay > 5*time.Minute):
		return errors.New("a slow fault needs a delay from 1ns to 5m")
	}
	sl.mu.Lock()
	sl.faults.pending = append(sl.faults.pending, f)
	sl.mu.Unlock()
	return nil
}

// ExpireSessions ends every session of a seller now.
func (s *Sandbox) ExpireSessions(email string) int { return s.auth.revokeAll(strings.ToLower(email)) }

// ClearFaults drops a seller's pending faults.
func (s *Sandbox) ClearFaults(email string) error {
	sl, ok := s.sellers[strings.ToLower(email)]
	if !ok {
		return fmt.Errorf("no seller %q", email)
	}
	sl.mu.Lock()
	sl.faults.pending = nil
	sl.mu.Unlock()
	return nil
}
