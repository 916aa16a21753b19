package metrics_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/appidgate/appidgate/internal/buildinfo"
	"github.com/appidgate/appidgate/metrics"
)

// observer mirrors appid.Observer (appid/observer.go). It is copied rather than imported so that this
// package's tests do not depend on the relying party compiling; cmd/appidgate asserts the real interface.
type observer interface {
	LoginFinished(result string)
	AuthorizationDecided(policy, result string)
	RefreshFinished(result string)
	SessionStoreError(op string)
}

var _ observer = (*metrics.Metrics)(nil)

// counter reads one series of a counter family from the exposition, 0 when absent.
func counter(t *testing.T, m *metrics.Metrics, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, s := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range s.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			if len(got) != len(labels) {
				continue
			}
			for k, v := range labels {
				if got[k] != v {
					continue series
				}
			}
			if s.GetCounter() != nil {
				return s.GetCounter().GetValue()
			}
			return float64(s.GetHistogram().GetSampleCount())
		}
	}
	return 0
}

func TestObserverCounters(t *testing.T) {
	m := metrics.New()
	m.LoginFinished("success")
	m.LoginFinished("success")
	m.LoginFinished("denied")
	m.LoginFinished("made-up result")
	m.AuthorizationDecided("check", "allow")
	m.AuthorizationDecided("role:admin", "deny")
	m.AuthorizationDecided("check", "unauthenticated")
	m.RefreshFinished("failure")
	m.SessionStoreError("load")
	m.SessionStoreError("weird")

	tests := []struct {
		name   string
		metric string
		labels map[string]string
		want   float64
	}{
		{"login success", "appidgate_logins_total", map[string]string{"result": "success"}, 2},
		{"login denied", "appidgate_logins_total", map[string]string{"result": "denied"}, 1},
		{"unknown result bounded", "appidgate_logins_total", map[string]string{"result": "other"}, 1},
		{"allow", "appidgate_authorization_decisions_total", map[string]string{"policy": "check", "result": "allow"}, 1},
		{"refusal", "appidgate_authorization_decisions_total", map[string]string{"policy": "role:admin", "result": "deny"}, 1},
		{"unauthenticated", "appidgate_authorization_decisions_total", map[string]string{"policy": "check", "result": "unauthenticated"}, 1},
		{"refresh failure", "appidgate_token_refreshes_total", map[string]string{"result": "failure"}, 1},
		{"refresh success untouched", "appidgate_token_refreshes_total", map[string]string{"result": "success"}, 0},
		{"store load", "appidgate_session_store_errors_total", map[string]string{"op": "load"}, 1},
		{"store unknown op bounded", "appidgate_session_store_errors_total", map[string]string{"op": "other"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := counter(t, m, tc.metric, tc.labels); got != tc.want {
				t.Errorf("%s%v = %v, want %v", tc.metric, tc.labels, got, tc.want)
			}
		})
	}
	if n := testutil.CollectAndCount(m.Registry(), "appidgate_logins_total"); n != 3 {
		t.Errorf("appidgate_logins_total has %d series, want 3 (success, denied, other)", n)
	}
}

func TestHandlerExposesAll(t *testing.T) {
	m := metrics.New()
	m.LoginFinished("success")
	m.AuthorizationDecided("check", "deny")
	m.RefreshFinished("success")
	m.SessionStoreError("save")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics status %d", rec.Code)
	}
	body := rec.Body.String()
	for _, name := range []string{
		"appidgate_logins_total", "appidgate_authorization_decisions_total", "appidgate_token_refreshes_total",
		"appidgate_session_store_errors_total", "go_goroutines", "process_start_time_seconds",
	} {
		if !strings.Contains(body, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}

// TestBuildInfo scrapes /metrics for the build's constant series, labelled as `appidgate version` reports it.
func TestBuildInfo(t *testing.T) {
	rec := httptest.NewRecorder()
	metrics.New().Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b := buildinfo.Read()
	revision := "unknown" // test binaries carry no VCS stamp
	if b.Revision != "" {
		revision = b.Revision
		if b.Modified {
			revision += "-dirty"
		}
	}
	want := fmt.Sprintf("appidgate_build_info{goversion=%q,revision=%q,version=%q} 1\n", runtime.Version(), revision, b.Version)
	if !strings.Contains(rec.Body.String(), want) {
		t.Fatalf("/metrics lacks %q; build info lines:\n%s", want, grepLines(rec.Body.String(), "appidgate_build_info"))
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for l := range strings.Lines(s) {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

// TestNewIsolated shows that two instances do not share the global registry (New would panic on duplicates).
func TestNewIsolated(t *testing.T) {
	a, b := metrics.New(), metrics.New()
	a.LoginFinished("success")
	if got := counter(t, b, "appidgate_logins_total", map[string]string{"result": "success"}); got != 0 {
		t.Fatalf("second instance saw the first one's login: %v", got)
	}
}

func TestEndpointOf(t *testing.T) {
	const tenant = "a1b2c3d4-tenant"
	tests := []struct{ url, want string }{
		{"https://us-south.appid.cloud.ibm.com/oauth/v4/" + tenant + "/.well-known/openid-configuration", "discovery"},
		{"https://us-south.appid.cloud.ibm.com/oauth/v4/" + tenant + "/token", "token"},
		{"https://us-south.appid.cloud.ibm.com/oauth/v4/" + tenant + "/publickeys", "publickeys"},
		{"https://us-south.appid.cloud.ibm.com/oauth/v4/" + tenant + "/userinfo", "userinfo"},
		{"https://us-south.appid.cloud.ibm.com/oauth/v4/" + tenant + "/introspect", "introspect"},
		{"https://us-south.appid.cloud.ibm.com/oauth/v4/" + tenant + "/revoke", "revoke"},
		{"https://us-south.appid.cloud.ibm.com/management/v4/" + tenant + "/users/user-42-secret-id/roles", "roles"},
		{"https://us-south.appid.cloud.ibm.com/management/v4/" + tenant + "/roles", "roles"},
		{"https://us-south.appid.cloud.ibm.com/management/v4/" + tenant + "/users/user-42-secret-id/profile", "profile"},
		{"https://us-south.appid.cloud.ibm.com/management/v4/" + tenant + "/users/user-42-secret-id", "other"},
		{"https://iam.cloud.ibm.com/identity/token", "iam_token"},
		{"http://127.0.0.1:9000/identity/token", "iam_token"},
		{"https://kc.example/realms/x/protocol/openid-connect/token", "token"},
		{"https://kc.example/realms/x/protocol/openid-connect/certs", "publickeys"},
		{"https://example.com/.well-known/jwks.json", "publickeys"},
		{"https://example.com/some/user-42-secret-id", "other"},
		{"https://example.com/", "other"},
	}
	for _, tc := range tests {
		t.Run(tc.want+" "+tc.url, func(t *testing.T) {
			r := httptest.NewRequest("GET", tc.url, nil)
			if got := metrics.EndpointOf(r); got != tc.want {
				t.Errorf("EndpointOf(%s) = %q, want %q", tc.url, got, tc.want)
			}
		})
	}
}

type failingTransport struct{}

func (failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("connection refused")
}

func TestTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/roles") {
			http.Error(w, `{"error":"expired"}`, http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "{}")
	}))
	t.Cleanup(srv.Close)
	m := metrics.New()
	client := &http.Client{Transport: m.Transport(srv.Client().Transport, nil)}
	for _, p := range []string{"/oauth/v4/t/token", "/oauth/v4/t/token", "/management/v4/t/users/user-42-secret-id/roles"} {
		resp, err := client.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	broken := &http.Client{Transport: m.Transport(failingTransport{}, nil)}
	if _, err := broken.Get(srv.URL + "/oauth/v4/t/publickeys"); err == nil {
		t.Fatal("failing transport returned no error")
	}

	tests := []struct {
		name   string
		metric string
		labels map[string]string
		want   float64
	}{
		{"token 200", "appidgate_provider_requests_total", map[string]string{"endpoint": "token", "code": "200"}, 2},
		{"roles 401", "appidgate_provider_requests_total", map[string]string{"endpoint": "roles", "code": "401"}, 1},
		{"transport error", "appidgate_provider_requests_total", map[string]string{"endpoint": "publickeys", "code": "error"}, 1},
		{"token latency observed", "appidgate_provider_request_duration_seconds", map[string]string{"endpoint": "token"}, 2},
		{"error latency observed", "appidgate_provider_request_duration_seconds", map[string]string{"endpoint": "publickeys"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := counter(t, m, tc.metric, tc.labels); got != tc.want {
				t.Errorf("%s%v = %v, want %v", tc.metric, tc.labels, got, tc.want)
			}
		})
	}
	assertNoLabelContains(t, m, "user-42-secret-id")
}

func TestMiddlewareRoutes(t *testing.T) {
	m := metrics.New()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.PathValue("id")) })
	mux.HandleFunc("GET /auth_route", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusForbidden) })
	h := m.Middleware(mux)
	for _, p := range []string{"/users/user-42-secret-id", "/users/other-user", "/auth_route", "/nowhere/user-42-secret-id"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"pattern not path", map[string]string{"route": "GET /users/{id}", "code": "200"}, 2},
		{"refusal", map[string]string{"route": "GET /auth_route", "code": "403"}, 1},
		{"unmatched", map[string]string{"route": "unmatched", "code": "404"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := counter(t, m, "appidgate_http_requests_total", tc.labels); got != tc.want {
				t.Errorf("appidgate_http_requests_total%v = %v, want %v", tc.labels, got, tc.want)
			}
		})
	}
	if got := counter(t, m, "appidgate_http_request_duration_seconds", map[string]string{"route": "GET /users/{id}"}); got != 2 {
		t.Errorf("duration samples = %v, want 2", got)
	}
	assertNoLabelContains(t, m, "user-42-secret-id")
}

// assertNoLabelContains fails when any series of the registry carries s in a label value.
func assertNoLabelContains(t *testing.T, m *metrics.Metrics, s string) {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, metric := range mf.GetMetric() {
			for _, lp := range metric.GetLabel() {
				if strings.Contains(lp.GetValue(), s) {
					t.Errorf("%s has label %s=%q containing %q", mf.GetName(), lp.GetName(), lp.GetValue(), s)
				}
			}
		}
	}
}

// TestUpstreamTransport: requests passed to the upstream are counted by the route pattern the proxy set, never by
// their path, and a failed one by "error".
func TestUpstreamTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	m := metrics.New()
	send := func(rt http.RoundTripper, pattern, path string) error {
		req := httptest.NewRequest("GET", srv.URL+path, nil)
		req.RequestURI = ""
		req.Pattern = pattern
		resp, err := rt.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	up := m.UpstreamTransport(srv.Client().Transport)
	for _, path := range []string{"/users/user-42-secret-id", "/users/other"} {
		if err := send(up, "proxy /users/", path); err != nil {
			t.Fatal(err)
		}
	}
	if err := send(up, "", "/missing"); err != nil {
		t.Fatal(err)
	}
	if err := send(m.UpstreamTransport(failingTransport{}), "proxy /", "/"); err == nil {
		t.Fatal("failing transport returned no error")
	}
	tests := []struct {
		metric string
		labels map[string]string
		want   float64
	}{
		{"appidgate_upstream_requests_total", map[string]string{"route": "proxy /users/", "code": "200"}, 2},
		{"appidgate_upstream_requests_total", map[string]string{"route": "other", "code": "404"}, 1},
		{"appidgate_upstream_requests_total", map[string]string{"route": "proxy /", "code": "error"}, 1},
		{"appidgate_upstream_request_duration_seconds", map[string]string{"route": "proxy /users/"}, 2},
	}
	for _, tc := range tests {
		if got := counter(t, m, tc.metric, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.metric, tc.labels, got, tc.want)
		}
	}
	assertNoLabelContains(t, m, "user-42-secret-id")
}

// TestRoutesReloads: reloads are counted by result, both results are exposed before the first, and the gauge
// holds when the routes in force were loaded, at start or by the last good reload.
func TestRoutesReloads(t *testing.T) {
	m := metrics.New()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{`appidgate_routes_reloads_total{result="ok"} 0`, `appidgate_routes_reloads_total{result="error"} 0`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics before any reload lacks %s", want)
		}
	}
	start := time.Unix(1_800_000_000, 0)
	m.RoutesLoaded(start, false)
	m.RoutesReloadFailed()
	m.RoutesReloadFailed()
	m.RoutesLoaded(start.Add(90*time.Second), true)
	if got := counter(t, m, "appidgate_routes_reloads_total", map[string]string{"result": "ok"}); got != 1 {
		t.Errorf("ok reloads = %v, want 1 (the start is no reload)", got)
	}
	if got := counter(t, m, "appidgate_routes_reloads_total", map[string]string{"result": "error"}); got != 2 {
		t.Errorf("failed reloads = %v, want 2", got)
	}
	rec = httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if want := "appidgate_routes_loaded_timestamp_seconds 1.80000009e+09\n"; !strings.Contains(rec.Body.String(), want) {
		t.Errorf("/metrics lacks %q", want)
	}
}
