package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// routesCollectors are the proxy's route reload metrics.
type routesCollectors struct {
	reloads  *prometheus.CounterVec
	loadedAt prometheus.Gauge
}

// newRoutesCollectors registers the route reload metrics on reg, both results at zero so that a dashboard
// finds the series before the first reload.
func newRoutesCollectors(reg prometheus.Registerer) routesCollectors {
	c := routesCollectors{
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "appidgate_routes_reloads_total",
			Help: "Reloads of the proxy's routes file (on SIGHUP or a change of the file) by result: ok, error (the routes in force stay).",
		}, []string{"result"}),
		loadedAt: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "appidgate_routes_loaded_timestamp_seconds",
			Help: "When the proxy's routes in force were loaded, at start or by the last successful reload, in seconds since the Unix epoch.",
		}),
	}
	c.reloads.WithLabelValues("ok")
	c.reloads.WithLabelValues("error")
	reg.MustRegister(c.reloads, c.loadedAt)
	return c
}

// RoutesLoaded records that routes were put in force at t: at start (reload false) or by a reload, which it
// counts in appidgate_routes_reloads_total{result="ok"}.
func (m *Metrics) RoutesLoaded(t time.Time, reload bool) {
	if reload {
		m.routes.reloads.WithLabelValues("ok").Inc()
	}
	m.routes.loadedAt.Set(float64(t.UnixNano()) / 1e9)
}

// RoutesReloadFailed counts a reload that left the routes in force as they were, in
// appidgate_routes_reloads_total{result="error"}.
func (m *Metrics) RoutesReloadFailed() { m.routes.reloads.WithLabelValues("error").Inc() }
