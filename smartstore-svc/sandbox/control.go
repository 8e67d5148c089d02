package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"time"

	"hlog.dev/proto/kit/clock"
)

// controlRoutes is the sandbox-only API under /_sandbox/. It has no
// counterpart on the real platform: tests and the local stack use it to move
// the clock and switch faults on.
//
//	GET    /_sandbox/healthz
//	GET    /_sandbox/clock               {"now":RFC3339,"running":bool}
//	POST   /_sandbox/clock               {"now":RFC3339} or {"advance":"36h"}, optional "running"
//	GET    /_sandbox/sellers             sellers, visible product orders, pending faults
//	POST   /_sandbox/faults              {"kind":..., "after":n, "count":n} (kinds in faults.go)
//	DELETE /_sandbox/faults              clears every fault, the IP block and a revoked app
//	POST   /_sandbox/rate-limit/drain    empties the application's buckets
func (s *Sandbox) controlRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_sandbox/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /_sandbox/clock", s.getClock)
	mux.HandleFunc("POST /_sandbox/clock", s.setClock)
	mux.HandleFunc("GET /_sandbox/sellers", s.listSellers)
	mux.HandleFunc("POST /_sandbox/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Fault
		if !decodeBody(w, r, &f) {
			return
		}
		if err := s.AddFault(f); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"faults_pending": s.faults.pending()})
	})
	mux.HandleFunc("DELETE /_sandbox/faults", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFaults()
		writeJSON(w, http.StatusOK, map[string]any{"faults_pending": []Fault{}})
	})
	mux.HandleFunc("POST /_sandbox/rate-limit/drain", func(w http.ResponseWriter, r *http.Request) {
		s.DrainRateLimit()
		writeJSON(w, http.StatusOK, map[string]string{"status": "drained"})
	})
	mux.HandleFunc("/_sandbox/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no sandbox control endpoint "+r.Method+" "+r.URL.Path)
	})
	return mux
}

// AddFault switches a fault on.
func (s *Sandbox) AddFault(f Fault) error { return s.faults.add(f) }

// ClearFaults switches every fault off, lifts the IP block and restores a
// revoked application.
func (s *Sandbox) ClearFaults() { s.faults.clear(s.tokens) }

// DrainRateLimit empties every rate-limit bucket of the application.
func (s *Sandbox) DrainRateLimit() { s.buckets.drain() }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
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

func (s *Sandbox) getClock(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"now": s.Now().Format(time.RFC3339Nano), "running": s.clock.Running()})
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

func (s *Sandbox) listSellers(w http.ResponseWriter, _ *http.Request) {
	type sellerState struct {
		AccountID            string `json:"account_id"`
		Seed                 uint64 `json:"seed"`
		Self                 bool   `json:"self"`
		ProductOrdersVisible int    `json:"product_orders_visible"`
	}
	out := struct {
		ClientID string        `json:"client_id"`
		Sellers  []sellerState `json:"sellers"`
		Faults   []Fault       `json:"faults_pending"`
		Blocked  bool          `json:"ip_blocked"`
	}{ClientID: s.cfg.ClientID, Faults: s.faults.pending(), Blocked: s.faults.ipBlocked()}
	now := s.Now()
	for i, id := range s.order {
		sl := s.sellers[id]
		out.Sellers = append(out.Sellers, sellerState{AccountID: id, Seed: sl.cfg.Seed, Self: i == 0, ProductOrdersVisible: len(sl.visibleLines(now))})
	}
	writeJSON(w, http.StatusOK, out)
}

// Faults lists the faults not met yet.
func (s *Sandbox) Faults() []Fault { return s.faults.pending() }
