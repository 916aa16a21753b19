package logging_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/internal/logging"
	"github.com/appidgate/appidgate/internal/testkit"
)

func lines(t *testing.T, s string) []map[string]any {
	t.Helper()
	return testkit.JSONLines(t, s)
}

func TestRequestsNeverLogsSecrets(t *testing.T) {
	var buf testkit.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logging.SetUser(r.Context(), "user-123")
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "SECRET-set-cookie"})
		w.Header().Set("Authorization", "Bearer SECRET-response")
		w.WriteHeader(http.StatusFound)
		io.WriteString(w, "moved")
	})
	h := logging.Requests(log, inner)

	req := httptest.NewRequest("GET", "/afterauth?code=SECRET&state=X-SECRET", nil)
	req.Header.Set("Authorization", "Bearer SECRET")
	req.Header.Set("Cookie", "appidgate=SECRET; other=SECRET2")
	req.Header.Set("X-Forwarded-Access-Token", "SECRET")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	out := buf.String()
	if strings.Contains(out, "SECRET") {
		t.Fatalf("log output contains a secret:\n%s", out)
	}
	ls := lines(t, out)
	if len(ls) != 1 {
		t.Fatalf("got %d log lines, want exactly 1:\n%s", len(ls), out)
	}
	l := ls[0]
	want := map[string]any{"method": "GET", "path": "/afterauth", "status": float64(302), "bytes": float64(5), "user": "user-123"}
	for k, v := range want {
		if l[k] != v {
			t.Errorf("log %s = %v, want %v", k, l[k], v)
		}
	}
	if _, ok := l["duration_ms"]; !ok {
		t.Error("log line has no duration_ms")
	}
	if id, _ := l["request_id"].(string); id == "" || id != rec.Header().Get("X-Request-Id") {
		t.Errorf("request_id %q does not match response header %q", l["request_id"], rec.Header().Get("X-Request-Id"))
	}
}

func TestRequestsRequestID(t *testing.T) {
	tests := []struct {
		name     string
		incoming string
		keep     bool
	}{
		{name: "none", incoming: "", keep: false},
		{name: "well formed kept", incoming: "abc-123_x.y", keep: true},
		{name: "too long replaced", incoming: strings.Repeat("a", 65), keep: false},
		{name: "spaces replaced", incoming: "a b", keep: false},
		{name: "log forging replaced", incoming: "x\",\"status\":200", keep: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf testkit.Buffer
			log := slog.New(slog.NewJSONHandler(&buf, nil))
			var seen string
			h := logging.Requests(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = logging.RequestID(r.Context())
			}))
			req := httptest.NewRequest("GET", "/", nil)
			if tc.incoming != "" {
				req.Header.Set("X-Request-Id", tc.incoming)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			got := rec.Header().Get("X-Request-Id")
			if got == "" || got != seen {
				t.Fatalf("response id %q, context id %q: want equal and non-empty", got, seen)
			}
			if (got == tc.incoming) != tc.keep {
				t.Errorf("incoming %q -> %q, keep = %v", tc.incoming, got, tc.keep)
			}
			if l := lines(t, buf.String()); len(l) != 1 || l[0]["request_id"] != got {
				t.Errorf("logged request_id %v, want %q", l, got)
			}
		})
	}
}

func TestRequestsNoUserNoAttr(t *testing.T) {
	var buf testkit.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	h := logging.Requests(log, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/noauth_route", nil))
	l := lines(t, buf.String())
	if _, ok := l[0]["user"]; ok {
		t.Errorf("anonymous request logged a user: %v", l[0])
	}
	if l[0]["status"] != float64(200) {
		t.Errorf("status = %v, want 200 for a handler that wrote nothing", l[0]["status"])
	}
}

func TestHelpersOutsideMiddleware(t *testing.T) {
	req := httptest.NewRequest("GET", "/", nil)
	logging.SetUser(req.Context(), "nobody") // must not panic
	if id := logging.RequestID(req.Context()); id != "" {
		t.Errorf("RequestID outside middleware = %q, want empty", id)
	}
}

func TestRequestsFlushReachesWriter(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	h := logging.Requests(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush through middleware: %v", err)
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if !rec.Flushed {
		t.Error("underlying writer was not flushed")
	}
}

// TestRequestIDOnEveryLine: the lines an inner handler logs with the request's context carry the request id the
// response shows, once each, the middleware's own line included; lines logged without it carry none.
func TestRequestIDOnEveryLine(t *testing.T) {
	var buf testkit.Buffer
	log, err := logging.New(&buf, "json", "debug")
	if err != nil {
		t.Fatal(err)
	}
	h := logging.Requests(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.WarnContext(r.Context(), "inner warning")
		log.With("component", "x").DebugContext(r.Context(), "inner detail")
		log.WithGroup("g").InfoContext(r.Context(), "grouped", "k", "v")
		log.Info("no context")
		w.WriteHeader(http.StatusBadGateway)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	id := rec.Header().Get("X-Request-Id")
	want := map[string]bool{"inner warning": true, "inner detail": true, "grouped": true, "request": true, "no context": false}
	out := buf.String()
	for _, raw := range strings.Split(strings.TrimSpace(out), "\n") {
		l := lines(t, raw)[0]
		msg, _ := l["msg"].(string)
		carries, known := want[msg]
		if !known {
			t.Errorf("unexpected line %s", raw)
			continue
		}
		delete(want, msg)
		got := l["request_id"]
		if g, ok := l["g"].(map[string]any); ok && got == nil {
			got = g["request_id"]
		}
		switch {
		case carries && (got != id || strings.Count(raw, `"request_id"`) != 1):
			t.Errorf("%q: request_id %v (%d times), want %q once", msg, got, strings.Count(raw, `"request_id"`), id)
		case !carries && got != nil:
			t.Errorf("%q, logged without the request's context, has request_id %v", msg, got)
		}
	}
	if len(want) > 0 {
		t.Errorf("lines missing: %v\n%s", want, out)
	}
}
