// Package kit is the gRPC server harness every H-log service runs on: listen,
// the standard health service, reflection, JSON logging, Prometheus metrics on
// a separate HTTP port, and graceful shutdown.
package kit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
)

// Config says where a service listens.
type Config struct {
	// Name of the service, used in logs and as the health service name.
	Name string
	// GRPCAddr is the gRPC listen address, e.g. ":9101" or "127.0.0.1:0".
	GRPCAddr string
	// MetricsAddr is the HTTP address serving /metrics; empty disables it.
	MetricsAddr string
	// ShutdownGrace bounds graceful shutdown before in-flight calls are cut.
	// Zero means 20 seconds.
	ShutdownGrace time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// UnaryInterceptors and StreamInterceptors run after the harness's own
	// (logging of failures and metrics).
	UnaryInterceptors  []grpc.UnaryServerInterceptor
	StreamInterceptors []grpc.StreamServerInterceptor
}

// Server is a listening gRPC server with health, reflection and metrics.
// Register services on GRPC() before Run.
type Server struct {
	cfg      Config
	log      *slog.Logger
	grpc     *grpc.Server
	health   *health.Server
	lis      net.Listener
	registry *prometheus.Registry
	metrics  *http.Server
	mlis     net.Listener
}

// New listens on the configured addresses and builds the server. Listening
// happens here, not in Run, so a caller using port 0 can read Addr at once.
func New(cfg Config) (*Server, error) {
	if cfg.Name == "" {
		return nil, errors.New("kit: service name is required")
	}
	if cfg.ShutdownGrace == 0 {
		cfg.ShutdownGrace = 20 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), NewBuildInfo(cfg.Name))
	m := newRPCMetrics(registry)

	lis, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return nil, fmt.Errorf("listening for grpc on %s: %w", cfg.GRPCAddr, err)
	}
	s := &Server{cfg: cfg, log: log, lis: lis, registry: registry, health: health.NewServer()}
	unary := append([]grpc.UnaryServerInterceptor{m.unary, logFailuresUnary(log)}, cfg.UnaryInterceptors...)
	stream := append([]grpc.StreamServerInterceptor{m.stream, logFailuresStream(log)}, cfg.StreamInterceptors...)
	s.grpc = grpc.NewServer(grpc.ChainUnaryInterceptor(unary...), grpc.ChainStreamInterceptor(stream...))
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	// Not serving until Run: readiness turns on only once everything is wired.
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	s.health.SetServingStatus(cfg.Name, healthpb.HealthCheckResponse_NOT_SERVING)

	if cfg.MetricsAddr != "" {
		mlis, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			lis.Close()
			return nil, fmt.Errorf("listening for metrics on %s: %w", cfg.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{Registry: registry}))
		s.mlis = mlis
		s.metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	}
	return s, nil
}

// GRPC is the server to register services on.
func (s *Server) GRPC() *grpc.Server { return s.grpc }

// Addr is the address the gRPC server listens on.
func (s *Server) Addr() net.Addr { return s.lis.Addr() }

// MetricsAddr is the address /metrics is served on, or nil when disabled.
func (s *Server) MetricsAddr() net.Addr {
	if s.mlis == nil {
		return nil
	}
	return s.mlis.Addr()
}

// Registry is where a service registers its own Prometheus metrics.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// Logger is the server's logger.
func (s *Server) Logger() *slog.Logger { return s.log }

// Run serves until ctx is done, then shuts down gracefully: health turns to
// NOT_SERVING first so load balancers stop sending, then in-flight calls get
// ShutdownGrace to finish.
func (s *Server) Run(ctx context.Context) error {
	errc := make(chan error, 2)
	go func() { errc <- s.grpc.Serve(s.lis) }()
	if s.metrics != nil {
		go func() {
			if err := s.metrics.Serve(s.mlis); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serving metrics: %w", err)
			}
		}()
	}
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	s.health.SetServingStatus(s.cfg.Name, healthpb.HealthCheckResponse_SERVING)
	s.log.Info("serving", "grpc_addr", s.Addr().String(), "metrics_addr", addrString(s.MetricsAddr()), "version", Version, "commit", Commit)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	s.log.Info("shutting down", "service", s.cfg.Name)
	s.health.Shutdown()
	stopped := make(chan struct{})
	go func() { s.grpc.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(s.cfg.ShutdownGrace):
		s.log.Warn("grace period over, cutting in-flight calls", "service", s.cfg.Name)
		s.grpc.Stop()
	}
	if s.metrics != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.metrics.Shutdown(sctx)
	}
	return runErr
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
