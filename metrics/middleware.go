package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/appidgate/appidgate/internal/httpwrap"
)

// Middleware counts and times each inbound request in appidgate_http_requests_total{route,code} and
// appidgate_http_request_duration_seconds{route}. The route is the ServeMux pattern that matched
// (r.Pattern, such as "GET /auth_route"), or "unmatched": never the raw path. The ServeMux writes r.Pattern
// into the request it receives, so next must be the *http.ServeMux itself (or pass the same *http.Request
// on); middleware that copies the request with WithContext between this one and the mux hides the pattern.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := httpwrap.Wrap(w)
		next.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		m.httpRequests.WithLabelValues(route, strconv.Itoa(rec.Status())).Inc()
		m.httpDurations.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}
