package gateway

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus"
)

// httpMetrics counts and times requests by route. Routes are patterns
// ("/v1/sync-runs/{run_id=*}", "web"), never raw paths, so label values
// stay few.
type httpMetrics struct {
	requests *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_http_requests_total",
			Help: "HTTP requests completed, by route, method and status code.",
		}, []string{"route", "method", "code"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_http_request_duration_seconds",
			Help:    "Time to complete an HTTP request, by route and method.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.seconds)
	return m
}

// routeKey holds a *string in a request's context that the handler that
// matched fills with its route name.
type routeKey struct{}

func setRoute(ctx context.Context, route string) {
	if p, ok := ctx.Value(routeKey{}).(*string); ok {
		*p = route
	}
}

// route names a handler for the metrics.
func route(name string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setRoute(r.Context(), name)
		h.ServeHTTP(w, r)
	})
}

// apiRoute is the grpc-gateway middleware that names API routes by their
// path pattern.
func apiRoute(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		if p, ok := runtime.HTTPPattern(r.Context()); ok {
			setRoute(r.Context(), p.String())
		}
		next(w, r, params)
	}
}

// instrument wraps the whole HTTP handler.
func (m *httpMetrics) instrument(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		name := "unmatched"
		r = r.WithContext(context.WithValue(r.Context(), routeKey{}, &name))
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		m.requests.WithLabelValues(name, r.Method, strconv.Itoa(rec.code())).Inc()
		m.seconds.WithLabelValues(name, r.Method).Observe(time.Since(start).Seconds())
	})
}

// statusRecorder remembers the status code. Unwrap lets
// http.ResponseController reach the real writer, which streamed responses
// (WatchSyncRun) need for flushing.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Flush() {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusRecorder) code() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}
