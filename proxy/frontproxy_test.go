package proxy_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/internal/frontproxytest"
	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/localappid"
	"github.com/appidgate/appidgate/proxy"
	"github.com/appidgate/appidgate/proxy/assertion"
)

// recipes is the page whose nginx and Caddy configurations the tests run.
const recipes = "../docs/forward-auth.md"

// startNginx runs nginx with the nginx recipe of docs/forward-auth.md on port, in front of e's proxy and the
// app at appURL, with edit (when not nil) applied to the recipe first.
func startNginx(t *testing.T, e *env, appURL string, port int, edit func(string) string) {
	t.Helper()
	recipe := frontproxytest.Recipe(t, recipes, "nginx")
	if edit != nil {
		recipe = edit(recipe)
	}
	frontproxytest.Nginx(t, frontproxytest.For(recipe, strings.TrimPrefix(e.proxy.URL, "http://"),
		strings.TrimPrefix(appURL, "http://"), port), port)
}

// startCaddy runs Caddy with the Caddy recipe of docs/forward-auth.md on port, in front of e's proxy and
// upstream.
func startCaddy(t *testing.T, port int, e *env) {
	t.Helper()
	frontproxytest.Caddy(t, frontproxytest.For(frontproxytest.Recipe(t, recipes, "caddy"),
		strings.TrimPrefix(e.proxy.URL, "http://"), strings.TrimPrefix(e.upstream.URL, "http://"), port), port)
}

// isForbiddenPage reports whether a is appidgate's 403 page, not the front proxy's.
func isForbiddenPage(a answer) bool {
	return a.status == http.StatusForbidden && strings.HasPrefix(a.header.Get("Content-Type"), "text/html") &&
		strings.Contains(a.body, "Unauthorized!") && !strings.Contains(a.body, "nginx")
}

// isUnauthorizedJSON reports whether a is appidgate's 401 for an API request.
func isUnauthorizedJSON(a answer) bool {
	return a.status == http.StatusUnauthorized && a.header.Get("Content-Type") == "application/json" &&
		strings.Contains(a.body, `"error":"unauthorized"`) && strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer")
}

// TestNginxAuthRequest: nginx in front of an app, asking appidgate with auth_request, configured as
// docs/forward-auth.md says.
func TestNginxAuthRequest(t *testing.T) {
	t.Parallel()
	frontproxytest.Look(t, "nginx", "/usr/sbin/nginx")
	port := testkit.FreePort(t)
	front := fmt.Sprintf("http://127.0.0.1:%d", port)
	e := newEnv(t, envOptions{trusted: loopback, publicURL: front})
	startNginx(t, e, e.upstream.URL, port, nil)
	provider := e.idp.Provider().OAuthServerURL()

	anon := e.newClient()
	got := anon.get(front + "/auth_route?a=1&b=2")
	if got.status != http.StatusFound || !strings.HasPrefix(got.header.Get("Location"), provider) {
		t.Errorf("anonymous browser: %d %q, want 302 to the provider's login", got.status, got.header.Get("Location"))
	}
	if got := anon.get(front+"/auth_route", "X-Forwarded-Uri", "/public/x", "X-Original-URI", "/public/x"); got.status != http.StatusFound {
		t.Errorf("anonymous naming a public URI: %d, want 302 to the login", got.status)
	}
	if got := anon.get(front+"/api/x", "Accept", "application/json"); !isUnauthorizedJSON(got) {
		t.Errorf("anonymous API request: %d %q %v, want appidgate's 401 JSON", got.status, got.body, got.header)
	}
	if got := anon.get(front+"/auth_route", "Accept", "application/json"); !isUnauthorizedJSON(got) {
		t.Errorf("anonymous script on a page: %d %q, want appidgate's 401 JSON", got.status, got.body)
	}
	if got := anon.get(front + proxy.StartPath + "?rd=/auth_route"); got.status != http.StatusFound ||
		!strings.HasPrefix(got.header.Get("Location"), provider) {
		t.Errorf("the sign-in link: %d %q, want 302 to the provider's login", got.status, got.header.Get("Location"))
	}
	if got := anon.get(front + "/noauth_route"); got.status != http.StatusOK {
		t.Errorf("anonymous on the public route: %d, want 200", got.status)
	}
	got = anon.get(front+"/public/x", "X-Appidgate-User", "evil", "X-Appidgate-Name", "evil",
		"X-Appidgate-Scopes", "evil", "X-Appidgate-Assertion", "evil")
	if _, h := seen(t, got); got.status != http.StatusOK || strings.Contains(fmt.Sprint(h), "evil") {
		t.Errorf("public route with a spoofed identity: %d, the app got %v", got.status, h)
	}

	alice := e.newClient()
	got = alice.loginFrom(e, front+"/auth_route?a=1&b=2", "alice")
	path, h := seen(t, got)
	if got.status != http.StatusOK || path != "/auth_route" || !strings.Contains(got.body, `"query":"a=1\u0026b=2"`) ||
		h.Get("X-Appidgate-User") != localappid.AliceID || h.Get("X-Appidgate-Email") != "alice@example.com" ||
		h.Get(assertion.Header) == "" {
		t.Errorf("alice through nginx: %d %s %v", got.status, got.body, h)
	}
	if got := alice.get(front + "/admin"); !isForbiddenPage(got) {
		t.Errorf("alice on /admin: %d %q, want appidgate's 403 page", got.status, got.body)
	}
	assertRenewedThrough(t, e, alice, front)
	bob := e.newClient()
	if got := bob.loginFrom(e, front+"/auth_route", "bob"); !isForbiddenPage(got) {
		t.Errorf("bob: %d %q, want appidgate's 403 page", got.status, got.body)
	}
	if got := bob.get(front+"/api/x", "Accept", "application/json"); got.status != http.StatusForbidden ||
		got.header.Get("Content-Type") != "application/json" {
		t.Errorf("bob's API request: %d %q, want 403 JSON", got.status, got.body)
	}
	for _, p := range []string{proxy.AuthPath, proxy.VerifyPath, proxy.ErrorPath} {
		// Not appidgate's answer: a 404 (internal) or the app's own.
		if got := alice.get(front+p, "X-Forwarded-Uri", "/auth_route"); got.header.Get("X-Appidgate-User") != "" {
			t.Errorf("%s from outside: %d with an identity, want it unreachable", p, got.status)
		}
	}
}

// TestCaddyForwardAuth: Caddy in front of an app, asking appidgate with forward_auth, configured as
// docs/forward-auth.md says.
func TestCaddyForwardAuth(t *testing.T) {
	t.Parallel()
	frontproxytest.Look(t, "caddy", "/usr/bin/caddy")
	port := testkit.FreePort(t)
	front := fmt.Sprintf("http://127.0.0.1:%d", port)
	e := newEnv(t, envOptions{trusted: loopback, publicURL: front})
	startCaddy(t, port, e)

	anon := e.newClient()
	if got := anon.get(front + "/auth_route"); got.status != http.StatusFound ||
		!strings.HasPrefix(got.header.Get("Location"), e.idp.Provider().OAuthServerURL()) {
		t.Errorf("anonymous browser: %d %q, want 302 to the provider", got.status, got.header.Get("Location"))
	}
	if got := anon.get(front+"/auth_route", "Accept", "application/json"); !isUnauthorizedJSON(got) {
		t.Errorf("anonymous API call: %d %q, want 401 JSON", got.status, got.body)
	}
	if got := anon.get(front+"/auth_route", "X-Original-URI", "/public/x"); got.status != http.StatusForbidden {
		t.Errorf("anonymous naming a public URI: %d, want 403", got.status)
	}
	got := anon.get(front+"/public/x", "X-Appidgate-User", "evil", "X-Appidgate-Name", "evil",
		"X-Appidgate-Other", "evil", "X-Appidgate-Assertion", "evil")
	if _, h := seen(t, got); got.status != http.StatusOK || strings.Contains(fmt.Sprint(h), "evil") ||
		strings.Contains(fmt.Sprint(h), "{http.") {
		t.Errorf("public route with a spoofed identity: %d, the app got %v", got.status, h)
	}

	alice := e.newClient()
	got = alice.loginFrom(e, front+"/auth_route?a=1", "alice")
	path, h := seen(t, got)
	if got.status != http.StatusOK || path != "/auth_route" || h.Get("X-Appidgate-User") != localappid.AliceID ||
		h.Get("X-Appidgate-Email") != "alice@example.com" || h.Get(assertion.Header) == "" {
		t.Errorf("alice through Caddy: %d %s %v", got.status, path, h)
	}
	if got := alice.get(front + "/admin"); !isForbiddenPage(got) {
		t.Errorf("alice on /admin: %d, want appidgate's 403 page", got.status)
	}
	bob := e.newClient()
	if got := bob.loginFrom(e, front+"/auth_route", "bob"); !isForbiddenPage(got) {
		t.Errorf("bob: %d %q, want appidgate's 403 page", got.status, got.body)
	}
}

// TestTraefikForwardAuthHeaders: Traefik is not packaged for the test machines, so this test sends what the
// forwardAuth middleware of docs/forward-auth.md sends (a GET to the verify endpoint with X-Forwarded-Method,
// -Proto, -Host, -Uri and -For and the browser's own headers) and checks the answers Traefik would pass on.
func TestTraefikForwardAuthHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{trusted: loopback, returnHosts: []string{"app.example.com"}})
	users := forwardAuthUsers(t, e)
	provider := e.idp.Provider().OAuthServerURL()
	tests := []struct {
		name, who, method, uri, host, accept string
		check                                func(answer) bool
	}{
		{"a browser without a session is sent to login", "anonymous", "GET", "/auth_route?a=1", "app.example.com", "text/html",
			func(a answer) bool {
				return a.status == http.StatusFound && strings.HasPrefix(a.header.Get("Location"), provider)
			}},
		{"not on a return host: no login redirect", "anonymous", "GET", "/auth_route", "evil.example", "text/html",
			func(a answer) bool { return a.status == http.StatusUnauthorized }},
		{"an API request without a session gets 401 JSON", "anonymous", "GET", "/api/x", "app.example.com", "application/json",
			isUnauthorizedJSON},
		{"a public route passes", "anonymous", "POST", "/public/x", "app.example.com", "text/html",
			func(a answer) bool { return a.status == http.StatusOK && a.header.Get("X-Appidgate-User") == "" }},
		{"alice passes with her identity", "alice", "GET", "/auth_route", "app.example.com", "text/html",
			func(a answer) bool {
				return a.status == http.StatusOK && a.header.Get("X-Appidgate-User") == localappid.AliceID &&
					a.header.Get(assertion.Header) != ""
			}},
		{"alice without the admin role gets the 403 page", "alice", "GET", "/admin", "app.example.com", "text/html",
			isForbiddenPage},
		{"bob without a role gets the 403 page", "bob", "GET", "/auth_route", "app.example.com", "text/html", isForbiddenPage},
		{"a path that is not clean is refused", "alice", "GET", "/public/../admin", "app.example.com", "text/html",
			func(a answer) bool { return a.status == http.StatusBadRequest }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := users[tc.who].get(e.proxy.URL+proxy.VerifyPath, "X-Forwarded-Method", tc.method,
				"X-Forwarded-Proto", "https", "X-Forwarded-Host", tc.host, "X-Forwarded-Uri", tc.uri,
				"X-Forwarded-For", "203.0.113.7", "Accept", tc.accept)
			if !tc.check(got) {
				t.Errorf("%s %s %s: %d %v %q", tc.who, tc.method, tc.uri, got.status, got.header, got.body)
			}
		})
	}
}

// TestIngressNginxForwardAuthHeaders: what ingress-nginx's auth-url sends (X-Original-URL, the full URL, and
// X-Original-Method) is read by the auth endpoint, and its auth-signin's escaped rd by the sign-in link.
func TestIngressNginxForwardAuthHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{trusted: loopback, returnHosts: []string{"app.example.com"}})
	users := forwardAuthUsers(t, e)
	for _, tc := range []struct {
		who, method, url string
		want             int
	}{
		{"anonymous", "GET", "https://app.example.com/auth_route?x=1", http.StatusUnauthorized},
		{"anonymous", "POST", "https://app.example.com/noauth_route", http.StatusOK},
		{"alice", "GET", "https://app.example.com/auth_route?x=1", http.StatusOK},
		{"alice", "GET", "https://app.example.com/admin", http.StatusForbidden},
		{"bob", "GET", "https://app.example.com/auth_route", http.StatusForbidden},
	} {
		got := users[tc.who].get(e.proxy.URL+proxy.AuthPath, "X-Original-URL", tc.url, "X-Original-Method", tc.method,
			"X-Auth-Request-Redirect", "/auth_route", "Accept", "text/html")
		if got.status != tc.want {
			t.Errorf("%s %s %s: %d, want %d", tc.who, tc.method, tc.url, got.status, tc.want)
		}
	}
	got := users["anonymous"].get(e.proxy.URL + proxy.StartPath + "?rd=" + url.QueryEscape("https://app.example.com/auth_route?x=1"))
	if got.status != http.StatusFound || !strings.HasPrefix(got.header.Get("Location"), e.idp.Provider().OAuthServerURL()) {
		t.Errorf("the sign-in with an escaped rd: %d %q, want 302 to the provider's login", got.status, got.header.Get("Location"))
	}
}

// TestCaddyForwardAuthRenewsRedisSessions: Caddy's forward_auth never passes the auth answer's Set-Cookie to
// the browser, so a session renewed during the check must not need a new cookie: with Redis sessions the cookie
// only names the session, and each revalidation keeps working on it, the refresh token rotated in Redis.
func TestCaddyForwardAuthRenewsRedisSessions(t *testing.T) {
	t.Parallel()
	frontproxytest.Look(t, "caddy", "/usr/bin/caddy")
	port := testkit.FreePort(t)
	front := fmt.Sprintf("http://127.0.0.1:%d", port)
	e := newEnv(t, envOptions{trusted: loopback, publicURL: front, redis: true})
	startCaddy(t, port, e)

	alice := e.newClient()
	if got := alice.loginFrom(e, front+"/auth_route", "alice"); got.status != http.StatusOK {
		t.Fatalf("alice through Caddy: %d", got.status)
	}
	for i := range 3 {
		// Each time due for revalidation, and past the provider's grace for a reused refresh token.
		e.clock.Advance(appid.DefaultRevalidateInterval + time.Minute)
		got := alice.get(front + "/auth_route")
		if _, h := seen(t, got); got.status != http.StatusOK || h.Get("X-Appidgate-User") != localappid.AliceID {
			t.Fatalf("alice at revalidation %d: %d, the app got %v", i+1, got.status, h)
		}
	}
}

// assertRenewedThrough checks that a session refreshed during a forward-auth check reaches the browser through
// the front proxy: once alice's session is due for revalidation (appid.DefaultRevalidateInterval), the first
// request redeems its refresh token, is admitted and renews her session cookie, and the next one is admitted on
// that cookie with nothing to renew. Without the front proxy passing
// the auth answer's Set-Cookie on, every request would refresh the session again and carry a new cookie.
func assertRenewedThrough(t *testing.T, e *env, alice *client, front string) {
	t.Helper()
	e.clock.Advance(appid.DefaultRevalidateInterval + time.Minute)
	got := alice.get(front + "/auth_route")
	if _, h := seen(t, got); got.status != http.StatusOK || h.Get("X-Appidgate-User") != localappid.AliceID ||
		len(got.header.Values("Set-Cookie")) == 0 {
		t.Fatalf("alice once her session was due for revalidation: %d, Set-Cookie %q, the app got %v", got.status,
			got.header.Values("Set-Cookie"), h)
	}
	got = alice.get(front + "/auth_route")
	if _, h := seen(t, got); got.status != http.StatusOK || h.Get("X-Appidgate-User") != localappid.AliceID {
		t.Errorf("alice on her renewed session: %d, the app got %v", got.status, h)
	}
	if c := got.header.Values("Set-Cookie"); len(c) != 0 {
		t.Errorf("alice's renewed session was renewed again: the browser never got the first renewal (%q)", c)
	}
}

// logBuffer is a log destination that the servers and the test may use at once.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestForwardAuthLogsReasons: each refusal at the forward-auth endpoints says why in the log, at the level
// it deserves; a misconfigured front proxy is a warning once, not one per request.
func TestForwardAuthLogsReasons(t *testing.T) {
	t.Parallel()
	type ask struct {
		who, endpoint string
		header        []string
	}
	tests := []struct {
		name    string
		trusted []netip.Prefix
		asks    []ask
		want    []string // substrings of the log, in order of appearance not required
		warns   int
	}{
		{"an untrusted front proxy, asking twice", []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")},
			[]ask{{"anonymous", proxy.AuthPath, []string{"X-Original-URI", "/auth_route", "X-Original-Method", "GET"}},
				{"alice", proxy.VerifyPath, []string{"X-Forwarded-Uri", "/auth_route", "X-Forwarded-Method", "GET"}}},
			[]string{`level=WARN msg="forward-auth refused: peer 127.0.0.1 is not a trusted proxy (--trusted-proxy); answering 403"`,
				`level=DEBUG msg="forward-auth refused: peer 127.0.0.1`}, 1},
		{"no original method", loopback,
			[]ask{{"anonymous", proxy.AuthPath, []string{"X-Original-URI", "/auth_route"}}},
			[]string{`level=WARN msg="forward-auth refused: missing X-Original-Method or X-Forwarded-Method (nginx: proxy_set_header X-Original-Method $request_method); answering 403"`}, 1},
		{"no session at the nginx endpoint", loopback,
			[]ask{{"anonymous", proxy.AuthPath, []string{"X-Original-URI", "/auth_route", "X-Original-Method", "GET"}}},
			[]string{`level=DEBUG msg="forward-auth: no session, answering 401 (nginx's error_page 401 sends the request to /.appidgate/error`}, 0},
		{"no session: a browser and a script", loopback,
			[]ask{{"anonymous", proxy.ErrorPath, []string{"X-Original-URI", "/auth_route", "X-Original-Method", "GET"}},
				{"anonymous", proxy.VerifyPath, []string{"X-Forwarded-Uri", "/auth_route", "X-Forwarded-Method", "GET", "Accept", "application/json"}}},
			[]string{`msg="forward-auth: no session, redirecting the browser to sign in"`,
				`msg="forward-auth: no session, answering 401 JSON: the request does not accept text/html"`}, 0},
		{"a user without the role", loopback,
			[]ask{{"bob", proxy.AuthPath, []string{"X-Original-URI", "/auth_route", "X-Original-Method", "GET"}}},
			[]string{`level=INFO msg="forward-auth refused: the user does not meet the route's policy; answering 403"`,
				"user=" + localappid.BobID}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs logBuffer
			e := newEnv(t, envOptions{trusted: tc.trusted,
				faLog: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			users := forwardAuthUsers(t, e)
			for _, a := range tc.asks {
				users[a.who].get(e.proxy.URL+a.endpoint, a.header...)
			}
			got := logs.String()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("the log lacks %s:\n%s", w, got)
				}
			}
			if n := strings.Count(got, "level=WARN"); n != tc.warns {
				t.Errorf("%d warnings, want %d:\n%s", n, tc.warns, got)
			}
		})
	}
}

// TestForwardAuthErrorEndpoint: the answer nginx's error_page shows for a refused request is appidgate's, and
// never an allowed one: a request allowed by the time it asks is sent back to ask again.
func TestForwardAuthErrorEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{trusted: loopback})
	users := forwardAuthUsers(t, e)
	provider := e.idp.Provider().OAuthServerURL()
	tests := []struct {
		name, who, method, uri, accept string
		check                          func(answer) bool
		headers                        []string // more request headers, name then value
	}{
		{"a browser without a session: the login", "anonymous", "GET", "/auth_route?a=1", "text/html", func(a answer) bool {
			return a.status == http.StatusFound && strings.HasPrefix(a.header.Get("Location"), provider)
		}, nil},
		{"a POST without a session: the login too", "anonymous", "POST", "/auth_route", "text/html", func(a answer) bool {
			return a.status == http.StatusFound && strings.HasPrefix(a.header.Get("Location"), provider)
		}, nil},
		{"an API route without a session: 401 JSON", "anonymous", "GET", "/api/x", "text/html", isUnauthorizedJSON, nil},
		{"a script without a session: 401 JSON", "anonymous", "GET", "/auth_route", "application/json", isUnauthorizedJSON, nil},
		{"a fetch() asking for HTML without a session: 401 JSON", "anonymous", "GET", "/auth_route", "text/html",
			isUnauthorizedJSON, []string{"Sec-Fetch-Mode", "cors"}},
		{"an XMLHttpRequest asking for HTML without a session: 401 JSON", "anonymous", "GET", "/auth_route", "text/html",
			isUnauthorizedJSON, []string{"X-Requested-With", "XMLHttpRequest"}},
		{"other credentials without a session: 401 JSON", "anonymous", "GET", "/auth_route", "text/html",
			isUnauthorizedJSON, []string{"Authorization", "Basic YWxpY2U6YWxpY2U="}},
		{"bob: the 403 page", "bob", "GET", "/auth_route", "text/html", isForbiddenPage, nil},
		{"alice on an admin page: the 403 page", "alice", "GET", "/admin", "text/html", isForbiddenPage, nil},
		{"alice, allowed by now: back to ask again, without her identity", "alice", "POST", "/auth_route?a=1", "text/html",
			func(a answer) bool {
				return a.status == http.StatusTemporaryRedirect && a.header.Get("Location") == "/auth_route?a=1" &&
					a.header.Get("X-Appidgate-User") == "" && a.header.Get("X-Appidgate-Assertion") == ""
			}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := users[tc.who].get(e.proxy.URL+proxy.ErrorPath, append([]string{"X-Original-URI", tc.uri,
				"X-Original-Method", tc.method, "Accept", tc.accept}, tc.headers...)...)
			if !tc.check(got) {
				t.Errorf("%s %s %s: %d %v %q", tc.who, tc.method, tc.uri, got.status, got.header, got.body)
			}
		})
	}
}

// TestForwardAuthErrorEndpointSendsNoIdentity: the error endpoint's answer goes to the browser as it is, so a
// request allowed by the time it asks is sent back without any identity header, however many the proxy was told
// to send: the access token included.
func TestForwardAuthErrorEndpointSendsNoIdentity(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{trusted: loopback, keepToken: true,
		identity: proxy.IdentityHeaders{AccessToken: true, OAuth2Proxy: true}})
	users := forwardAuthUsers(t, e)
	got := users["alice"].get(e.proxy.URL+proxy.ErrorPath, "X-Original-URI", "/auth_route", "X-Original-Method", "GET")
	if got.status != http.StatusTemporaryRedirect {
		t.Fatalf("alice: %d %v, want 307", got.status, got.header)
	}
	for name := range got.header {
		if l := strings.ToLower(name); strings.HasPrefix(l, "x-appidgate-") || strings.HasPrefix(l, "x-auth-request-") ||
			strings.HasPrefix(l, "x-forwarded-") {
			t.Errorf("the browser got %s: %q", name, got.header[name])
		}
	}
}

// TestForwardAuthStartLogsOnlyTheHost: anyone may call the sign-in link, so a refused return URL is logged by its
// host alone, never with a path or query that may carry anything.
func TestForwardAuthStartLogsOnlyTheHost(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	e := newEnv(t, envOptions{trusted: loopback,
		faLog: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	users := forwardAuthUsers(t, e)
	got := users["anonymous"].get(e.proxy.URL + proxy.StartPath + "?rd=" + url.QueryEscape("https://evil.example/p?code=s3cret"))
	if got.status != http.StatusBadRequest {
		t.Fatalf("a return URL on another host: %d, want 400", got.status)
	}
	log := logs.String()
	if !strings.Contains(log, "rd_host=evil.example") || strings.Contains(log, "s3cret") || strings.Contains(log, "/p?") {
		t.Errorf("the refusal's log line:\n%s", log)
	}
}
