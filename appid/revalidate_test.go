package appid

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRevalidationKeepsTheUserSignedIn: a session is confirmed with the provider once its revalidation interval
// passed, while its access token is still valid, with one refresh, and the user notices nothing.
func TestRevalidationKeepsTheUserSignedIn(t *testing.T) {
	t.Parallel()
	tokens := &countingTransport{suffix: "/token"}
	e := newTestEnv(t, envOption{auth: func(c *Config) {
		c.HTTPClient = &http.Client{Timeout: 5 * time.Second, Transport: tokens}
	}})
	b := e.newBrowser(t)
	if got := b.login(e, "/auth_route", "alice"); got.status != http.StatusOK {
		t.Fatalf("login: %d", got.status)
	}
	atLogin := tokens.count()
	e.clock.Advance(DefaultRevalidateInterval - time.Second)
	if got := b.get(e.app.URL + "/auth_route"); got.status != http.StatusOK || tokens.count() != atLogin {
		t.Fatalf("before the interval: %d with %d token calls, want 200 and none", got.status, tokens.count()-atLogin)
	}
	e.clock.Advance(time.Second)
	if got := b.get(e.app.URL + "/auth_route"); got.status != http.StatusOK || tokens.count() != atLogin+1 {
		t.Fatalf("at the interval: %d with %d token calls, want 200 and one refresh", got.status,
			tokens.count()-atLogin)
	}
	e.clock.Advance(time.Minute)
	if got := b.get(e.app.URL + "/auth_route"); got.status != http.StatusOK || tokens.count() != atLogin+1 {
		t.Fatalf("a minute after the revalidation: %d with %d token calls, want 200 and no new one", got.status,
			tokens.count()-atLogin-1)
	}
}

// TestRevalidationWaitsForAnUnreachableProvider: a provider that is down never ends a session whose access
// token is still valid (DESIGN.md §4); once the token expired, the user must log in again.
func TestRevalidationWaitsForAnUnreachableProvider(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	b := e.newBrowser(t)
	if got := b.login(e, "/auth_route", "alice"); got.status != http.StatusOK {
		t.Fatalf("login: %d", got.status)
	}
	e.idp.Close()
	e.clock.Advance(DefaultRevalidateInterval)
	for range 3 {
		if got := b.get(e.app.URL + "/auth_route"); got.status != http.StatusOK {
			t.Fatalf("revalidation due, provider down, access token valid: %d, want 200", got.status)
		}
	}
	e.clock.Advance(time.Hour)
	if got := b.get(e.app.URL + "/auth_route"); got.status == http.StatusOK {
		t.Fatal("the session outlived its access token while the provider was down")
	}
}

// TestRevalidationOff: a negative interval turns revalidation off; the session is refreshed only when its
// access token expires.
func TestRevalidationOff(t *testing.T) {
	t.Parallel()
	tokens := &countingTransport{suffix: "/token"}
	e := newTestEnv(t, envOption{auth: func(c *Config) {
		c.HTTPClient = &http.Client{Timeout: 5 * time.Second, Transport: tokens}
		c.RevalidateInterval = -1
	}})
	b := e.newBrowser(t)
	if got := b.login(e, "/auth_route", "alice"); got.status != http.StatusOK {
		t.Fatalf("login: %d", got.status)
	}
	atLogin := tokens.count()
	e.clock.Advance(30 * time.Minute)
	if got := b.get(e.app.URL + "/auth_route"); got.status != http.StatusOK || tokens.count() != atLogin {
		t.Fatalf("with revalidation off: %d with %d token calls, want 200 and none", got.status,
			tokens.count()-atLogin)
	}
}

// throttleRefresh answers refresh grants with 429 while on, as a rate-limited provider.
type throttleRefresh struct{ on atomic.Bool }

func (t *throttleRefresh) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.on.Load() && strings.HasSuffix(req.URL.Path, "/token") {
		body, _ := io.ReadAll(req.Body)
		if f, _ := url.ParseQuery(string(body)); f.Get("grant_type") == "refresh_token" {
			return &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"5"}},
				Body: io.NopCloser(strings.NewReader(`{"error":"too_many_requests"}`)), Request: req}, nil
		}
		req.Body = io.NopCloser(strings.NewReader(string(body)))
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestRevalidationWaitsForAThrottlingProvider: a 429 from the token endpoint is no refusal: the session, whose
// access token is valid, keeps working as with a provider that is down.
func TestRevalidationWaitsForAThrottlingProvider(t *testing.T) {
	t.Parallel()
	tr := &throttleRefresh{}
	e := newTestEnv(t, envOption{auth: func(c *Config) { c.HTTPClient = &http.Client{Timeout: 5 * time.Second, Transport: tr} }})
	b := e.newBrowser(t)
	if got := b.login(e, "/auth_route", "alice"); got.status != http.StatusOK {
		t.Fatalf("login: %d", got.status)
	}
	tr.on.Store(true)
	e.clock.Advance(DefaultRevalidateInterval)
	if got := b.get(e.app.URL + "/auth_route"); got.status != http.StatusOK {
		t.Fatalf("revalidation answered 429, access token valid: %d, want 200 (as for a provider that is down)", got.status)
	}
}
