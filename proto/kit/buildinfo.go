package kit

import "github.com/prometheus/client_golang/prometheus"

// NewBuildInfo is the constant gauge hlog_build_info{service,version,commit}
// = 1. It tells which build each pod runs (a rollout in progress shows two
// versions), and it keeps the -ldflags stamps in the binary: a variable no
// code reads is dropped by the linker.
func NewBuildInfo(service string) prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "hlog_build_info",
		Help:        "Always 1; the labels name the build the process runs.",
		ConstLabels: prometheus.Labels{"service": service, "version": Version, "commit": Commit},
	})
	g.Set(1)
	return g
}
