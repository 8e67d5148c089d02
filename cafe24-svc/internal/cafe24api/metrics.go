package cafe24api

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics count the client's calls. A nil *Metrics counts nothing.
type Metrics struct {
	calls   *prometheus.CounterVec
	limited prometheus.Counter
}

// NewMetrics registers the client's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cafe24_api_calls_total",
			Help: "Calls to the Cafe24 API by endpoint and HTTP status (\"error\" for transport failures).",
		}, []string{"endpoint", "status"}),
		limited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cafe24_api_rate_limited_total",
			Help: "Cafe24 answers with 429 Too Many Requests.",
		}),
	}
	reg.MustRegister(m.calls, m.limited)
	return m
}

func (m *Metrics) observe(endpoint string, status int, err error) {
	if m == nil {
		return
	}
	label := strconv.Itoa(status)
	if err != nil {
		label = "error"
	}
	m.calls.WithLabelValues(endpoint, label).Inc()
}

func (m *Metrics) rateLimited() {
	if m == nil {
		return
	}
	m.limited.Inc()
}
