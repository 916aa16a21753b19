package proxy_test

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/localappid"
	"github.com/appidgate/appidgate/proxy"
	"github.com/appidgate/appidgate/proxy/assertion"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// forwardAuthUsers signs alice and bob in through the proxy, and returns them with an anonymous client.
func forwardAuthUsers(t *testing.T, e *env) map[string]*client {
	t.Helper()
	alice, bob := e.newClient(), e.newClient()
	if got := alice.login(e, "alice"); got.status != http.StatusOK {
		t.Fatalf("alice's login: %d %s", got.status, got.body)
	}
	if got := bob.login(e, "bob"); got.status != http.StatusForbidden {
		t.Fatalf("bob's login: %d, want 403 (signed in, no role)", got.status)
	}
	return map[string]*client{"anonymous": e.newClient(), "alice": alice, "bob": bob}
}

func TestForwardAuthAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{trusted: loopback})
	users := forwardAuthUsers(t, e)
	const (
		browser = "text/html"
		api     = "application/json"
	)
	for _, tc := range []struct {
		endpoint, user, uri, accept string
		want                        int
	}{
		// nginx auth_request: 200, 401 or 403, never a redirect.
		{proxy.AuthPath, "anonymous", "/auth_route", browser, 401},
		{proxy.AuthPath, "anonymous", "/auth_route", api, 401},
		{proxy.AuthPath, "anonymous", "/api/data", browser, 401},
		{proxy.AuthPath, "anonymous", "/public/x", browser, 200},
		{proxy.AuthPath, "anonymous", "/noauth_route?next=/admin", browser, 200},
		{proxy.AuthPath, "anonymous", "/admin?x=/public/", browser, 401},
		{proxy.AuthPath, "alice", "/auth_route", browser, 200},
		{proxy.AuthPath, "alice", "/api/data", api, 200},
		{proxy.AuthPath, "alice", "/admin", browser, 403},
		{proxy.AuthPath, "bob", "/auth_route", browser, 403},
		{proxy.AuthPath, "bob", "/auth_route", api, 403},
		// Traefik and Caddy: a 302 to login for browsers, 401 for APIs.
		{proxy.VerifyPath, "anonymous", "/auth_route", browser, 302},
		{proxy.VerifyPath, "anonymous", "/auth_route", api, 401},
		{proxy.VerifyPath, "anonymous", "/api/data", browser, 401},
		{proxy.VerifyPath, "anonymous", "/public/x", browser, 200},
		{proxy.VerifyPath, "anonymous", "/admin?x=/public/", api, 401},
		{proxy.VerifyPath, "alice", "/auth_route", browser, 200},
		{proxy.VerifyPath, "alice", "/api/data", api, 200},
		{proxy.VerifyPath, "alice", "/admin", browser, 403},
		{proxy.VerifyPath, "bob", "/auth_route", browser, 403},
		{proxy.VerifyPath, "bob", "/auth_route", api, 403},
	} {
		t.Run(tc.endpoint+" "+tc.user+" "+tc.uri+" "+tc.accept, func(t *testing.T) {
			got := users[tc.user].get(e.proxy.URL+tc.endpoint, "Accept", tc.accept, "X-Forwarded-Uri", tc.uri,
				"X-Forwarded-Method", "GET", "X-Forwarded-Host", strings.TrimPrefix(e.proxy.URL, "http://"))
			if got.status != tc.want {
				t.Fatalf("%d %q, want %d", got.status, got.body, tc.want)
			}
			switch got.status {
			case http.StatusFound:
				if !strings.HasPrefix(got.header.Get("Location"), e.idp.Provider().OAuthServerURL()) {
					t.Errorf("Location %q, want the provider's login", got.header.Get("Location"))
				}
			case http.StatusUnauthorized:
				if tc.endpoint == proxy.VerifyPath && !strings.Contains(got.header.Get("Content-Type"), "json") {
					t.Errorf("401 as %q, want JSON", got.header.Get("Content-Type"))
				}
			case http.StatusOK:
				if tc.user == "alice" && !strings.Contains(tc.uri, "public") {
					h := got.header
					if h.Get("X-Appidgate-User") != localappid.AliceID || h.Get("X-Auth-Request-User") != localappid.AliceID ||
						h.Get("X-Auth-Request-Email") != "alice@example.com" || h.Get("X-Appidgate-Roles") != "user" ||
						h.Get("X-Auth-Request-Groups") != "user" || h.Get(assertion.Header) == "" {
						t.Errorf("alice's identity headers: %v", h)
					}
				}
				if tc.user == "anonymous" && got.header.Get("X-Appidgate-User") != "" {
					t.Errorf("an identity for nobody: %v", got.header)
				}
			}
		})
	}
}

// TestForwardAuthOriginalRequest: the original method, path and the nginx spellings of the headers.
func TestForwardAuthOriginalRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{trusted: loopback})
	alice := forwardAuthUsers(t, e)["alice"]
	v, err := assertion.NewVerifier(assertion.Config{JWKSURL: e.proxy.URL + assertion.JWKSPath,
		Issuer: e.proxy.URL, Audience: e.upstream.URL})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		header []string
		method string
		path   string
	}{
		{"Traefik", []string{"X-Forwarded-Method", "POST", "X-Forwarded-Uri", "/auth_route?x=1"}, "POST", "/auth_route"},
		{"nginx", []string{"X-Original-URI", "/api/data?y=2", "X-Original-Method", "GET"}, "GET", "/api/data"},
		{"ingress-nginx", []string{"X-Original-URL", "https://app.example.com/api/v1?z", "X-Original-Method", "PUT"},
			"PUT", "/api/v1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := alice.get(e.proxy.URL+proxy.AuthPath, tc.header...)
			if got.status != http.StatusOK {
				t.Fatalf("%d, want 200", got.status)
			}
			// The upstream verifies the assertion against the original request.
			req, _ := http.NewRequest(tc.method, "http://upstream"+tc.path, nil)
			req.Header.Set(assertion.Header, got.header.Get(assertion.Header))
			if id, err := v.Verify(req); err != nil || id.Subject != localappid.AliceID {
				t.Errorf("the assertion for %s %s: %+v, %v", tc.method, tc.path, id, err)
			}
			req, _ = http.NewRequest(tc.method, "http://upstream/other", nil)
			req.Header.Set(assertion.Header, got.header.Get(assertion.Header))
			if _, err := v.Verify(req); err == nil {
				t.Errorf("the assertion for %s %s also verifies for /other", tc.method, tc.path)
			}
		})
	}
}

// TestForwardAuthUntrustedPeer: from a peer that is not a trusted proxy, the original-request headers are
// never believed: 403, whoever asks and whatever they name.
func TestForwardAuthUntrustedPeer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{trusted: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	users := forwardAuthUsers(t, e)
	for _, who := range []string{"anonymous", "alice"} {
		for _, endpoint := range []string{proxy.AuthPath, proxy.VerifyPath} {
			for _, h := range [][]string{
				{"X-Forwarded-Uri", "/public/x"}, {"X-Forwarded-Uri", "/auth_route"},
				{"X-Original-URI", "/public/x"}, {"X-Original-URL", "http://x/public/x"},
				{"X-Forwarded-Uri", "/public/x", "X-Forwarded-For", "192.0.2.1"},
			} {
				if got := users[who].get(e.proxy.URL+endpoint, h...); got.status != http.StatusForbidden {
					t.Errorf("%s %s %v from an untrusted peer: %d, want 403", who, endpoint, h, got.status)
				}
			}
		}
	}
}

// TestForwardAuthPathBypasses: a path that cleaning changes, or that can be read two ways, is refused (403 on
// the nginx endpoint, 400 on the other), never allowed; nor is a request whose headers disagree.
func TestForwardAuthPathBypasses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{trusted: loopback})
	users := forwardAuthUsers(t, e)
	for _, p := range []string{
		"/public/../admin", "/public/%2e%2e/admin", "/public%2f..%2fadmin", "/public%2fx", "/public%2F..%2Fadmin",
		"//admin", "/admin;/public", "/public/..;/admin", "/public/./x", "/public/%252e%252e/admin",
		"/noauth_route/../auth_route", "public/x", "http://x/public/x", "/public/\u00e9", "/public/ x", "/public/\tx",
	} {
		for _, who := range []string{"anonymous", "alice"} {
			for _, endpoint := range []string{proxy.AuthPath, proxy.VerifyPath} {
				got := users[who].get(e.proxy.URL+endpoint, "X-Forwarded-Uri", p)
				want := http.StatusForbidden
				if endpoint == proxy.VerifyPath {
					want = http.StatusBadRequest
					if strings.HasPrefix(p, "http:") || !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\t é") {
						want = http.StatusForbidden // not a path at all
					}
				}
				if got.status != want {
					t.Errorf("%s %s X-Forwarded-Uri %q: %d, want %d", who, endpoint, p, got.status, want)
				}
			}
		}
	}
	anon := users["anonymous"]
	for _, h := range [][]string{
		{"X-Forwarded-Uri", "/public/x", "X-Original-URI", "/admin"},
		{"X-Forwarded-Uri", "/public/x", "X-Forwarded-Uri", "/admin"},
		{"X-Forwarded-Uri", "/public/x", "X-Forwarded-Method", "GET", "X-Original-Method", "POST"},
		{"X-Forwarded-Uri", "/public/x", "X-Forwarded-Method", "get"},
		{"X-Forwarded-Uri", "/public/x"}, // no original method: nginx's subrequest is a GET whatever it was
		{},
	} {
		if got := anon.get(e.proxy.URL+proxy.AuthPath, h...); got.status != http.StatusForbidden {
			t.Errorf("%v: %d, want 403", h, got.status)
		}
	}
}

// TestForwardAuthStart: the nginx sign-in endpoint accepts paths and allowed hosts only, and the login comes
// back to the original path.
func TestForwardAuthStart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{trusted: loopback, returnHosts: []string{"app.example.com", "127.0.0.1"}})
	host := strings.TrimPrefix(e.proxy.URL, "http://")
	for _, rd := range []string{"//evil.example/x", "http://evil.example/auth_route", "javascript:alert(1)",
		"/\\evil.example", "https://user@app.example.com/", "ftp://app.example.com/x", "auth_route",
		"http://" + host + "/x"} { // 127.0.0.1 alone does not allow 127.0.0.1:port
		if got := e.newClient().get(e.proxy.URL + proxy.StartPath + "?rd=" + url.QueryEscape(rd)); got.status != http.StatusBadRequest {
			t.Errorf("rd=%q: %d %q, want 400", rd, got.status, got.header.Get("Location"))
		}
	}
	for _, rd := range []string{"", "/auth_route?x=1", "https://app.example.com/auth_route", "http://APP.example.com/"} {
		got := e.newClient().get(e.proxy.URL + proxy.StartPath + "?rd=" + url.QueryEscape(rd))
		if got.status != http.StatusFound || !strings.HasPrefix(got.header.Get("Location"), e.idp.Provider().OAuthServerURL()) {
			t.Errorf("rd=%q: %d %q, want 302 to the provider", rd, got.status, got.header.Get("Location"))
		}
	}
	c := e.newClient()
	got := c.loginFrom(e, e.proxy.URL+proxy.StartPath+"?rd="+url.QueryEscape("https://app.example.com/auth_route?q=1"),
		"alice")
	if path, _ := seen(t, got); got.status != http.StatusOK || path != "/auth_route" {
		t.Errorf("after login: %d %s, want the upstream's /auth_route", got.status, path)
	}
}

// TestForwardAuthRawReturnURL: nginx cannot escape $request_uri, so rd takes the rest of the query as it is.
func TestForwardAuthRawReturnURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{trusted: loopback})
	c := e.newClient()
	got := c.loginFrom(e, e.proxy.URL+proxy.StartPath+"?rd=/auth_route?a=1&b=%2F2", "alice")
	var echo struct {
		Path  string `json:"path"`
		Query string `json:"query"`
	}
	if err := json.Unmarshal([]byte(got.body), &echo); err != nil || echo.Path != "/auth_route" || echo.Query != "a=1&b=%2F2" {
		t.Errorf("after login: %d %+v %v, want /auth_route?a=1&b=%%2F2", got.status, echo, err)
	}
	for _, rd := range []string{"rd=%2F%2Fevil.example", "rd=//evil.example", "rd=%zz", "x=1&rd=/a", "rd=/a\\b"} {
		if got := e.newClient().get(e.proxy.URL + proxy.StartPath + "?" + rd); got.status != http.StatusBadRequest &&
			!(rd == "x=1&rd=/a" && got.status == http.StatusFound) {
			t.Errorf("%s: %d", rd, got.status)
		}
	}
}
