// Package metrics provides Prometheus metrics for appidgate: login, authorization, refresh and session store
// events, outbound provider calls, inbound HTTP requests, requests passed to the proxy's upstream, reloads of
// the proxy's routes, and the Go runtime and process.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/appidgate/appidgate/internal/buildinfo"
)

// Metrics owns a private Prometheus registry (never the global default one, so two instances in one process or
// test never collide) and the collectors appidgate records into. It implements appid.Observer. Create it with
// New; all methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	logins        *prometheus.CounterVec
	decisions     *prometheus.CounterVec
	refreshes     *prometheus.CounterVec
	storeErrors   *prometheus.CounterVec
	providerCalls *prometheus.CounterVec
	providerTime  *prometheus.HistogramVec
	httpRequests  *prometheus.CounterVec
	httpDurations *prometheus.HistogramVec
	upstreamCalls *prometheus.CounterVec
	upstreamTime  *prometheus.HistogramVec
	routes        routesCollectors
}

// New returns Metrics with every appidgate collector, appidgate_build_info, and the Go runtime and process
// collectors registered.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "appidgate_logins_total",
			Help: "Login callbacks by result: success, denied, invalid_request, provider_error, roles_error.",
		}, []string{"result"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "appidgate_authorization_decisions_total",
			Help: "Authorization decisions by policy and result: allow, deny, unauthenticated.",
		}, []string{"policy", "result"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "appidgate_token_refreshes_total",
			Help: "Access token refreshes by result: success, failure.",
		}, []string{"result"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "appidgate_session_store_errors_total",
			Help: "Failed session store operations by op: load, save, delete.",
		}, []string{"op"}),
		providerCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "appidgate_provider_requests_total",
			Help: "Outbound calls to the identity provider, management API and IAM by endpoint and HTTP status code (\"error\" when no response arrived).",
		}, []string{"endpoint", "code"}),
		providerTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "appidgate_provider_request_duration_seconds",
			Help:    "Latency of outbound provider calls by endpoint, until response headers arrive.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"endpoint"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "appidgate_http_requests_total",
			Help: "Inbound HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		httpDurations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "appidgate_http_request_duration_seconds",
			Help:    "Latency of inbound HTTP requests by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		upstreamCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "appidgate_upstream_requests_total",
			Help: "Requests the proxy passed to the upstream app by route pattern and HTTP status code (\"error\" when no response arrived).",
		}, []string{"route", "code"}),
		upstreamTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "appidgate_upstream_request_duration_seconds",
			Help:    "Latency of the upstream app by route pattern, until its response headers arrive.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
	}
	m.reg.MustRegister(
		m.logins, m.decisions, m.refreshes, m.storeErrors,
		m.providerCalls, m.providerTime, m.httpRequests, m.httpDurations, m.upstreamCalls, m.upstreamTime,
		buildInfo(buildinfo.Read()),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.routes = newRoutesCollectors(m.reg)
	return m
}

// Registry returns the registry behind Handler, for callers that add collectors of their own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format, for GET /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// buildInfo is the constant gauge appidgate_build_info{version,revision,goversion} 1, so that dashboards can tell
// which build each instance runs.
func buildInfo(b buildinfo.Info) prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "appidgate_build_info",
		Help:        "Always 1; its labels are the running build's version, VCS revision (\"-dirty\" when modified, \"unknown\" when not recorded) and Go version.",
		ConstLabels: prometheus.Labels{"version": b.Version, "revision": revision(b), "goversion": b.GoVersion},
	})
	g.Set(1)
	return g
}

// revision is b's full commit, with "-dirty" when the checkout was modified, or "unknown".
func revision(b buildinfo.Info) string {
	if b.Revision == "" {
		return "unknown"
	}
	if b.Modified {
		return b.Revision + "-dirty"
	}
	return b.Revision
}
