// Package gateway is the HTTP face of H-log: the REST API (grpc-gateway over
// ingest's Sales, Account and Sync gRPC APIs), the seller dashboard, the
// OpenAPI document, probes, and Prometheus metrics on a separate port.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"hlog.dev/proto/apidoc"
	identityv1 "hlog.dev/proto/gen/hlog/identity/v1"
	ingestv1 "hlog.dev/proto/gen/hlog/ingest/v1"
	salesv1 "hlog.dev/proto/gen/hlog/sales/v1"
	"hlog.dev/proto/kit"
	"hlog.dev/web"
)

// Gateway is a listening gateway. New listens; Run serves until its context
// ends, then shuts down gracefully.
type Gateway struct {
	cfg        Config
	log        *slog.Logger
	conn       *grpc.ClientConn
	probes     *probes
	httpLis    net.Listener
	httpSrv    *http.Server
	metricsLis net.Listener
	metricsSrv *http.Server
}

// New connects to ingest (lazily: grpc.NewClient does not dial until the
// first call), builds the handlers and listens. Listening happens here so
// that a caller using port 0 can read Addr at once.
func New(cfg Config, secrets Secrets, log *slog.Logger) (*Gateway, error) {
	return newGateway(cfg, secrets, log, web.Dist())
}

func newGateway(cfg Config, secrets Secrets, log *slog.Logger, dashboard fs.FS) (*Gateway, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("gateway config: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	var formTargets []string
	if cfg.Cafe24ClientID != "" {
		formTargets = append(formTargets, consentOrigin(cfg.Cafe24AuthorizeURL))
	}
	files, err := newWebFiles(dashboard, dashboardCSP(formTargets...))
	if err != nil {
		return nil, err
	}
	conn, err := kit.Dial(cfg.IngestAddr)
	if err != nil {
		return nil, err
	}
	g := &Gateway{
		cfg:    cfg,
		log:    log,
		conn:   conn,
		probes: &probes{ingest: healthpb.NewHealthClient(conn), timeout: cfg.ReadyTimeout},
	}

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), kit.NewBuildInfo("gateway"))
	metrics := newHTTPMetrics(registry)

	if secrets.ServiceToken == "" {
		conn.Close()
		return nil, errors.New("gateway: no service token")
	}
	sellers := identityv1.NewSellerServiceClient(conn)
	sess := newSessions(sellers, secrets.ServiceToken, cfg.SessionCacheTTL)
	rest, err := newRESTMux(conn, sess, log, apiRoute)
	if err != nil {
		conn.Close()
		return nil, err
	}
	openAPI := newStaticFile("openapi.json", apidoc.OpenAPI)
	public, _ := url.Parse(cfg.PublicURL)
	secure := public.Scheme == "https"
	auth := &authHandlers{sessions: sess, client: sellers, secure: secure, log: log}
	connect := &cafe24Connect{
		sessions: sess, accounts: ingestv1.NewAccountServiceClient(conn),
		authorizeURL: cfg.Cafe24AuthorizeURL, clientID: cfg.Cafe24ClientID, clientSecret: secrets.Cafe24ClientSecret,
		scopes: cfg.Cafe24Scopes, redirectURI: strings.TrimRight(cfg.PublicURL, "/") + callbackPath, secure: secure, log: log,
	}
	exports := &exporter{sales: salesv1.NewSalesServiceClient(conn), sessions: sess, log: log}

	streamsDone, endStreams := context.WithCancel(context.Background())
	mux := http.NewServeMux()
	cache := newSalesCache(cfg.SalesCacheTTL)
	mux.Handle("/v1/", sess.authenticate(cache.wrap(apiHandler(rest, streamsDone))))
	mux.Handle("POST /auth/sign-up", route("auth", http.HandlerFunc(auth.signUp)))
	mux.Handle("POST /auth/sign-in", route("auth", http.HandlerFunc(auth.signIn)))
	mux.Handle("POST /auth/sign-out", route("auth", http.HandlerFunc(auth.signOut)))
	mux.Handle("POST /auth/password", route("auth", http.HandlerFunc(auth.changePassword)))
	mux.Handle("GET /auth/session", route("auth", http.HandlerFunc(auth.session)))
	mux.Handle("GET /connect/cafe24/start", route("connect", http.HandlerFunc(connect.start)))
	mux.Handle("GET "+callbackPath, route("connect", http.HandlerFunc(connect.callback)))
	mux.Handle("GET /export/{table}", route("export", sess.authenticate(http.HandlerFunc(exports.serve))))
	mux.Handle("GET /healthz", route("healthz", http.HandlerFunc(g.probes.healthz)))
	mux.Handle("GET /readyz", route("readyz", http.HandlerFunc(g.probes.readyz)))
	mux.Handle("GET /openapi.json", route("openapi", http.HandlerFunc(openAPI.serve)))
	mux.Handle("/", route("web", files))

	g.httpLis, err = net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		endStreams()
		conn.Close()
		return nil, fmt.Errorf("listening for http on %s: %w", cfg.HTTPAddr, err)
	}
	g.httpSrv = &http.Server{
		Handler:           metrics.instrument(mux),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// No WriteTimeout: WatchSyncRun streams for as long as a run lasts.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	g.httpSrv.RegisterOnShutdown(endStreams)

	if cfg.MetricsAddr != "" {
		g.metricsLis, err = net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			endStreams()
			g.httpLis.Close()
			conn.Close()
			return nil, fmt.Errorf("listening for metrics on %s: %w", cfg.MetricsAddr, err)
		}
		metricsMux := http.NewServeMux()
		metricsMux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{Registry: registry}))
		g.metricsSrv = &http.Server{Handler: metricsMux, ReadHeaderTimeout: 10 * time.Second}
	}
	return g, nil
}

// Addr is the address the HTTP server listens on.
func (g *Gateway) Addr() net.Addr { return g.httpLis.Addr() }

// MetricsAddr is the address /metrics is served on, or nil when disabled.
func (g *Gateway) MetricsAddr() net.Addr {
	if g.metricsLis == nil {
		return nil
	}
	return g.metricsLis.Addr()
}

// Run serves until ctx is done or a server fails. On the way out /readyz
// turns to 503 first, then in-flight requests get ShutdownGrace to finish
// (http.Server.Shutdown) before their connections are closed.
func (g *Gateway) Run(ctx context.Context) error {
	defer g.conn.Close()
	errc := make(chan error, 2)
	go func() {
		if err := g.httpSrv.Serve(g.httpLis); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("serving http: %w", err)
		}
	}()
	if g.metricsSrv != nil {
		go func() {
			if err := g.metricsSrv.Serve(g.metricsLis); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serving metrics: %w", err)
			}
		}()
	}
	g.log.Info("serving", "http_addr", g.Addr().String(), "metrics_addr", addrString(g.MetricsAddr()),
		"ingest_addr", g.cfg.IngestAddr, "version", kit.Version, "commit", kit.Commit)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	g.log.Info("shutting down", "grace", g.cfg.ShutdownGrace.String())
	g.probes.shuttingDown.Store(true)

	sctx, cancel := context.WithTimeout(context.Background(), g.cfg.ShutdownGrace)
	defer cancel()
	if err := g.httpSrv.Shutdown(sctx); err != nil {
		g.log.Warn("grace period over, closing open connections", "err", err.Error())
		_ = g.httpSrv.Close()
	}
	if g.metricsSrv != nil {
		if err := g.metricsSrv.Shutdown(sctx); err != nil {
			_ = g.metricsSrv.Close()
		}
	}
	return runErr
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
