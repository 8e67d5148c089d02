package naverapi

import "github.com/prometheus/client_golang/prometheus"

// Metrics counts Commerce API calls. A nil *Metrics counts nothing.
type Metrics struct {
	calls *prometheus.CounterVec
}

// NewMetrics registers the client's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{calls: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hlog_smartstore_api_calls_total",
		Help: "Naver Commerce API calls by API and HTTP status (\"error\" when no answer came).",
	}, []string{"api", "status"})}
	reg.MustRegister(m.calls)
	return m
}

func (m *Metrics) observe(api, status string) {
	if m == nil {
		return
	}
	m.calls.WithLabelValues(api, status).Inc()
}
