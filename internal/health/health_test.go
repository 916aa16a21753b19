package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appidgate/appidgate/internal/health"
)

func TestLive(t *testing.T) {
	rec := httptest.NewRecorder()
	health.Live().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != "ok\n" {
		t.Fatalf("/healthz = %d %q, want 200 \"ok\\n\"", rec.Code, rec.Body.String())
	}
}

type readyBody struct {
	Status  string            `json:"status"`
	Checks  map[string]string `json:"checks"`
	Failing []string          `json:"failing"`
}

func TestReady(t *testing.T) {
	ok := health.Check{Name: "provider", Run: func(context.Context) error { return nil }}
	bad := health.Check{Name: "redis", Run: func(context.Context) error { return errors.New("dial tcp 10.0.0.1:6379: refused") }}
	hang := health.Check{Name: "slow", Run: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}
	stuck := make(chan struct{})
	t.Cleanup(func() { close(stuck) })
	// deaf ignores its context: the handler must still answer within the timeout.
	deaf := health.Check{Name: "deaf", Run: func(context.Context) error { <-stuck; return nil }}

	tests := []struct {
		name        string
		checks      []health.Check
		wantCode    int
		wantFailing []string
		wantChecks  map[string]string
	}{
		{name: "no checks", wantCode: 200, wantChecks: map[string]string{}},
		{name: "all pass", checks: []health.Check{ok}, wantCode: 200, wantChecks: map[string]string{"provider": "ok"}},
		{name: "one fails", checks: []health.Check{ok, bad}, wantCode: 503, wantFailing: []string{"redis"},
			wantChecks: map[string]string{"provider": "ok", "redis": "fail"}},
		{name: "timeouts", checks: []health.Check{hang, ok, deaf}, wantCode: 503, wantFailing: []string{"slow", "deaf"},
			wantChecks: map[string]string{"slow": "timeout", "provider": "ok", "deaf": "timeout"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			health.Ready(nil, 20*time.Millisecond, tc.checks...).ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
			if rec.Code != tc.wantCode {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.wantCode, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var b readyBody
			if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if !reflect.DeepEqual(b.Failing, tc.wantFailing) || !reflect.DeepEqual(b.Checks, tc.wantChecks) {
				t.Errorf("body = %+v, want failing %v checks %v", b, tc.wantFailing, tc.wantChecks)
			}
			if body := rec.Body.String(); strings.Contains(body, "10.0.0.1") || strings.Contains(body, "refused") {
				t.Errorf("body leaks error detail: %s", rec.Body)
			}
		})
	}
}

// TestReadyRecovers shows that nothing is cached: 503 until the condition holds, 200 on the next probe.
func TestReadyRecovers(t *testing.T) {
	var loaded atomic.Bool
	h := health.Ready(nil, time.Second, health.Check{Name: "provider", Run: func(context.Context) error {
		if !loaded.Load() {
			return errors.New("provider metadata not loaded")
		}
		return nil
	}})
	probe := func() int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		return rec.Code
	}
	if got := probe(); got != http.StatusServiceUnavailable {
		t.Fatalf("before load: %d, want 503", got)
	}
	loaded.Store(true)
	if got := probe(); got != http.StatusOK {
		t.Fatalf("after load: %d, want 200", got)
	}
	loaded.Store(false)
	if got := probe(); got != http.StatusServiceUnavailable {
		t.Fatalf("after loss: %d, want 503", got)
	}
}
