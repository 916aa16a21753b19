package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Transport wraps next (http.DefaultTransport when nil) so that every outbound call is counted in
// appidgate_provider_requests_total{endpoint,code} and timed in appidgate_provider_request_duration_seconds
// {endpoint}. endpoint names the call with a bounded label; EndpointOf when nil. Use it as the Transport of the
// http.Client the relying party, the management client and the IAM token source share.
func (m *Metrics) Transport(next http.RoundTripper, endpoint func(*http.Request) string) http.RoundTripper {
	if endpoint == nil {
		endpoint = EndpointOf
	}
	return newTransport(next, endpoint, m.providerCalls, m.providerTime)
}

// UpstreamTransport wraps next, the proxy's transport to its upstream app, so that every request passed on is
// counted in appidgate_upstream_requests_total{route,code} and timed in
// appidgate_upstream_request_duration_seconds{route}. The route label is the request's Pattern (the proxy sets
// it to its rule's pattern, never the raw path), "other" when it has none.
func (m *Metrics) UpstreamTransport(next http.RoundTripper) http.RoundTripper {
	return newTransport(next, routeOf, m.upstreamCalls, m.upstreamTime)
}

func routeOf(r *http.Request) string {
	if r.Pattern == "" {
		return "other"
	}
	return r.Pattern
}

// transport counts and times each round trip under the label that label gives its request.
type transport struct {
	next  http.RoundTripper
	label func(*http.Request) string
	calls *prometheus.CounterVec
	time  *prometheus.HistogramVec
}

func newTransport(next http.RoundTripper, label func(*http.Request) string, calls *prometheus.CounterVec,
	time *prometheus.HistogramVec) *transport {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{next: next, label: label, calls: calls, time: time}
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	label := t.label(r)
	start := time.Now()
	resp, err := t.next.RoundTrip(r)
	t.time.WithLabelValues(label).Observe(time.Since(start).Seconds())
	code := "error"
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
	}
	t.calls.WithLabelValues(label, code).Inc()
	return resp, err
}

// EndpointOf maps a request to an App ID, IAM or generic OpenID Connect endpoint to one of a fixed set of labels:
// discovery, token, publickeys, userinfo, introspect, revoke, roles, profile, iam_token or other. It never
// returns the raw path, which holds tenant and user ids.
func EndpointOf(r *http.Request) string {
	p := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case strings.HasSuffix(p, "/.well-known/openid-configuration"):
		return "discovery"
	case strings.HasSuffix(p, "/identity/token"):
		// IBM Cloud IAM (and localappid's copy of it): exchanges the API key for an IAM token.
		return "iam_token"
	case strings.Contains(p, "/management/"):
		// App ID management API: /management/v4/{tenant}/users/{id}/roles, /roles, /users/{id}/profile.
		switch {
		case strings.HasSuffix(p, "/roles"):
			return "roles"
		case strings.HasSuffix(p, "/profile"):
			return "profile"
		}
		return "other"
	}
	switch p[strings.LastIndexByte(p, '/')+1:] {
	case "token":
		return "token"
	case "publickeys", "jwks", "jwks.json", "certs", "keys":
		// App ID names its JWKS "publickeys"; Keycloak, Auth0 and others use these names.
		return "publickeys"
	case "userinfo":
		return "userinfo"
	case "introspect":
		return "introspect"
	case "revoke":
		return "revoke"
	}
	return "other"
}
