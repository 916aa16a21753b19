package metrics

import (
	"net/http"
	"strconv"
	"time"
)

// Middleware counts and times each inbound request in appidgate_http_requests_total{route,code} and
// appidgate_http_request_duration_seconds{route}. The route is the ServeMux pattern that matched
// (r.Pattern, such as "GET /auth_route"), or "unmatched": never the raw path. The ServeMux writes r.Pattern
// into the request it receives, so next must be the *http.ServeMux itself (or pass the same *http.Request
// on); middleware that copies the request with WithContext between this one and the mux hides the pattern.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		code := rec.status
		if code == 0 {
			code = http.StatusOK
		}
		m.httpRequests.WithLabelValues(route, strconv.Itoa(code)).Inc()
		m.httpDurations.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

// statusRecorder remembers the final status code of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 && code >= 200 {
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

// Flush lets streaming handlers flush through the recorder.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		if s.status == 0 {
			s.status = http.StatusOK
		}
		f.Flush()
	}
}

// Unwrap gives http.ResponseController access to the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
