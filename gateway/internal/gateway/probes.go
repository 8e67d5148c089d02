package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// probes answers Kubernetes: /healthz says the process serves HTTP at all
// (liveness, never depends on ingest, so an ingest outage does not restart
// every gateway); /readyz says requests can be served now: ingest's gRPC
// health is SERVING and the gateway is not shutting down.
type probes struct {
	ingest       healthpb.HealthClient
	timeout      time.Duration
	shuttingDown atomic.Bool
}

type probeAnswer struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

func writeProbe(w http.ResponseWriter, code int, a probeAnswer) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(a)
}

func (p *probes) healthz(w http.ResponseWriter, _ *http.Request) {
	writeProbe(w, http.StatusOK, probeAnswer{Status: "ok"})
}

func (p *probes) readyz(w http.ResponseWriter, r *http.Request) {
	if p.shuttingDown.Load() {
		writeProbe(w, http.StatusServiceUnavailable, probeAnswer{Status: "not ready", Reason: "shutting down"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), p.timeout)
	defer cancel()
	// The empty service name is the server as a whole (kit serves it).
	resp, err := p.ingest.Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		// The code only: the message names internal addresses, and the
		// gateway's port is public.
		writeProbe(w, http.StatusServiceUnavailable, probeAnswer{Status: "not ready", Reason: "ingest health check: " + status.Code(err).String()})
		return
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		writeProbe(w, http.StatusServiceUnavailable, probeAnswer{Status: "not ready", Reason: "ingest is " + resp.GetStatus().String()})
		return
	}
	writeProbe(w, http.StatusOK, probeAnswer{Status: "ready"})
}
