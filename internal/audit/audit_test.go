package audit

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/appidgate/appidgate/internal/logging"
)

func TestClientAddress(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"an untrusted peer is the client, whatever it writes", "203.0.113.7:5555", []string{"198.51.100.1"}, "203.0.113.7"},
		{"a trusted peer names the client", "10.0.0.2:80", []string{"198.51.100.1"}, "198.51.100.1"},
		{"trusted hops are skipped from the right", "10.0.0.2:80", []string{"198.51.100.1, 10.1.1.1", "10.2.2.2"}, "198.51.100.1"},
		{"what the client prepended is not believed", "10.0.0.2:80", []string{"192.0.2.66, 198.51.100.1"}, "198.51.100.1"},
		{"a trusted peer without the header", "10.0.0.2:80", nil, "10.0.0.2"},
		{"an unreadable hop stops the walk", "10.0.0.2:80", []string{"198.51.100.1, garbage, 10.1.1.1"}, "10.1.1.1"},
		{"an entry with a port", "10.0.0.2:80", []string{"198.51.100.1:4711"}, "198.51.100.1"},
		{"IPv6 in brackets", "[::1]:80", []string{"[2001:db8::1]"}, "2001:db8::1"},
		{"everyone trusted: the leftmost", "10.0.0.2:80", []string{"10.9.9.9, 10.1.1.1"}, "10.9.9.9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := ClientAddress(r, trusted); got != tc.want {
				t.Errorf("ClientAddress = %q, want %q", got, tc.want)
			}
		})
	}
}

// write runs a request through wrap into a Logger on a JSON handler and returns the record written, or nil.
func write(t *testing.T, r *http.Request, wrap func(http.Handler) http.Handler) map[string]any {
	t.Helper()
	var buf strings.Builder
	l := New(slog.New(slog.NewJSONHandler(&buf, nil)))
	h := wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.Write(r, Record{Event: AccessDenied, Outcome: Denied, UserID: "u-1", Reason: "policy",
			Attrs: []slog.Attr{slog.String("policy", "role:admin")}})
	}))
	h.ServeHTTP(httptest.NewRecorder(), r)
	if buf.Len() == 0 {
		return nil
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(buf.String()), &rec); err != nil {
		t.Fatalf("not one JSON record: %v: %s", err, buf.String())
	}
	return rec
}

func TestWrite(t *testing.T) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{0x4b, 0xf9, 1}, SpanID: trace.SpanID{1},
		TraceFlags: trace.FlagsSampled})
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	tests := []struct {
		name string
		wrap func(http.Handler) http.Handler
		want map[string]any // nil: no record
	}{
		{"the request's own facts", func(h http.Handler) http.Handler { return h },
			map[string]any{"log_type": "audit", "event": "access.denied", "msg": "access.denied", "outcome": "denied",
				"user_id": "u-1", "reason": "policy", "policy": "role:admin", "client_address": "127.0.0.1",
				"method": "GET", "path": "/admin/x", "request_id": nil, "trace_id": nil}},
		{"request id, trace id and the client behind a trusted proxy", func(h http.Handler) http.Handler {
			traced := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h.ServeHTTP(w, r.WithContext(trace.ContextWithSpanContext(r.Context(), sc)))
			})
			return logging.Requests(slog.New(slog.DiscardHandler), ClientAddresses(trusted, traced))
		}, map[string]any{"client_address": "198.51.100.1", "request_id": "req-42",
			"trace_id": "4bf90100000000000000000000000000"}},
		{"forward-auth names the original request", func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h.ServeHTTP(w, WithTarget(r, http.MethodDelete, "/orders/7"))
			})
		}, map[string]any{"method": "DELETE", "path": "/orders/7"}},
		{"a repeated decision writes nothing", func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, Repeated(r)) })
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/admin/x?code=secret", nil)
			r.RemoteAddr = "127.0.0.1:4000"
			r.Header.Set("X-Forwarded-For", "198.51.100.1")
			r.Header.Set(logging.RequestIDHeader, "req-42")
			rec := write(t, r, tc.wrap)
			if tc.want == nil {
				if rec != nil {
					t.Fatalf("wrote %v, want nothing", rec)
				}
				return
			}
			if rec == nil {
				t.Fatal("wrote nothing")
			}
			for k, v := range tc.want {
				if rec[k] != v {
					t.Errorf("%s = %v, want %v", k, rec[k], v)
				}
			}
		})
	}
}

func TestNilLoggerWritesNothing(t *testing.T) {
	var l *Logger = New(nil)
	l.Write(httptest.NewRequest(http.MethodGet, "/", nil), Record{Event: Logout, Outcome: Success}) // no panic
	if l != nil {
		t.Fatal("New(nil) returned a Logger")
	}
}
