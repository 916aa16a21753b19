package metrics_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/appidgate/appidgate/internal/logging"
	"github.com/appidgate/appidgate/metrics"
)

// BenchmarkMiddleware measures what instrumentation adds to each inbound request.
func BenchmarkMiddleware(b *testing.B) {
	m := metrics.New()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /noauth_route", func(w http.ResponseWriter, r *http.Request) {})
	h := m.Middleware(mux)
	req := httptest.NewRequest("GET", "/noauth_route", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}

// BenchmarkObserver measures one Observer event, which the relying party records on every decision.
func BenchmarkObserver(b *testing.B) {
	m := metrics.New()
	b.ReportAllocs()
	for b.Loop() {
		m.AuthorizationDecided("check", "allow")
	}
}

// BenchmarkMiddlewareBehindRequestLog measures the app's chain around its routes: the request log, then
// instrumentation, as cmd/appidgate builds it.
func BenchmarkMiddlewareBehindRequestLog(b *testing.B) {
	m := metrics.New()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /noauth_route", func(w http.ResponseWriter, r *http.Request) {})
	h := logging.Requests(slog.New(slog.DiscardHandler), m.Middleware(mux))
	req := httptest.NewRequest("GET", "/noauth_route", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}
