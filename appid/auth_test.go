package appid

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/localappid"
)

func TestAliceReadsTheProtectedRoute(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	b := e.newBrowser(t)
	got := b.login(e, "/auth_route", "alice")
	if got.status != http.StatusOK || got.body != protectedText {
		t.Fatalf("alice: got %d %q, want 200 %q", got.status, got.body, protectedText)
	}
	profile := b.get(e.app.URL + "/profile")
	if want := "Alice <alice@example.com> roles=user scopes="; profile.status != 200 ||
		!strings.HasPrefix(profile.body, want) || !strings.Contains(profile.body, "view") {
		t.Errorf("profile: got %d %q, want prefix %q and scope view", profile.status, profile.body, want)
	}
	if n := e.observer.count("login:success"); n != 1 {
		t.Errorf("observer saw %d successful logins, want 1", n)
	}

	// The session cookie is HttpOnly, Lax, and holds no readable token.
	u, _ := url.Parse(e.app.URL)
	cookies := b.client.Jar.Cookies(u)
	if len(cookies) == 0 {
		t.Fatal("no session cookie")
	}
	for _, c := range cookies {
		if strings.Contains(c.Value, "eyJ") {
			t.Errorf("cookie %s carries a readable JWT", c.Name)
		}
	}

	// A valid session needs no network: with the provider gone, alice still gets in.
	e.idp.Close()
	if again := b.get(e.app.URL + "/auth_route"); again.status != http.StatusOK {
		t.Errorf("with the provider down, alice's valid session got %d, want 200", again.status)
	}
}

// TestUserAccessToken: User.AccessToken gives the session's access token only when KeepAccessToken keeps it,
// and the bearer token on RequireBearer requests.
func TestUserAccessToken(t *testing.T) {
	t.Parallel()
	for _, keep := range []bool{true, false} {
		t.Run(fmt.Sprintf("KeepAccessToken %v", keep), func(t *testing.T) {
			e := newTestEnv(t, envOption{auth: func(c *Config) { c.KeepAccessToken = keep }})
			b := e.newBrowser(t)
			b.login(e, "/auth_route", "alice")
			if got := b.get(e.app.URL + "/token"); keep != (strings.Count(got.body, ".") == 2) {
				t.Errorf("session request: AccessToken() = %q", got.body)
			}
			token := accessTokenFor(t, e, "alice")
			req, _ := http.NewRequest(http.MethodGet, e.app.URL+"/api/token", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			if got := b.do(req); got.status != http.StatusOK || got.body != token {
				t.Errorf("bearer request: %d, AccessToken() = %q, want the bearer token", got.status, got.body)
			}
		})
	}
}

// TestSessionKeepsIdentityClaims: on session requests User.Claims holds the id token's identity claims, not
// those that only served its verification.
func TestSessionKeepsIdentityClaims(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	b := e.newBrowser(t)
	b.login(e, "/auth_route", "alice")
	got := b.get(e.app.URL + "/claims")
	var claims map[string]any
	if err := json.Unmarshal([]byte(got.body), &claims); err != nil {
		t.Fatalf("/claims: %d %q: %v", got.status, got.body, err)
	}
	if claims["email"] != "alice@example.com" || claims["name"] != "Alice" || claims["sub"] == nil {
		t.Errorf("claims lack alice's identity: %v", claims)
	}
	for _, name := range []string{"iss", "aud", "exp", "iat", "nonce", "at_hash"} {
		if _, ok := claims[name]; ok {
			t.Errorf("claims keep the protocol claim %q: %v", name, claims)
		}
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	b := e.newBrowser(t)
	start := b.get(e.app.URL + "/auth_route")
	cb := b.authorize(start, "alice")
	final := b.follow(cb)
	if final.status != http.StatusFound {
		t.Fatalf("callback: got %d", final.status)
	}
	var found bool
	for _, line := range final.header.Values("Set-Cookie") {
		if !strings.Contains(line, "HttpOnly") || !strings.Contains(line, "SameSite=Lax") {
			t.Errorf("cookie without HttpOnly or SameSite=Lax: %s", line)
		}
		if strings.Contains(line, "Max-Age=0") || strings.Contains(line, "Max-Age=-1") {
			continue
		}
		found = true
	}
	if !found {
		t.Error("the callback set no session cookie")
	}
}

func TestBobIsRefused(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	b := e.newBrowser(t)
	got := b.login(e, "/auth_route", "bob")
	if got.status != http.StatusForbidden || !strings.Contains(got.body, "Unauthorized!") {
		t.Fatalf("bob: got %d %q, want 403 with Unauthorized!", got.status, got.body)
	}
	if n := e.observer.count("decision:any_role:deny"); n != 1 {
		t.Errorf("observer saw %d denials, want 1", n)
	}
}

func TestRolePolicies(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	tests := []struct {
		user string
		want int
	}{{"alice", http.StatusForbidden}, {"carol", http.StatusOK}}
	for _, tc := range tests {
		t.Run(tc.user, func(t *testing.T) {
			b := e.newBrowser(t)
			if got := b.login(e, "/admin", tc.user); got.status != tc.want {
				t.Errorf("/admin as %s: got %d, want %d", tc.user, got.status, tc.want)
			}
		})
	}
}

func TestAnonymousIsSentToLogin(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	got := e.newBrowser(t).get(e.app.URL + "/auth_route?tab=2")
	if got.status != http.StatusFound {
		t.Fatalf("got %d, want 302", got.status)
	}
	loc, err := url.Parse(got.location)
	if err != nil {
		t.Fatal(err)
	}
	if want := e.idp.Provider().OAuthServerURL() + "/authorization"; loc.Scheme+"://"+loc.Host+loc.Path != want {
		t.Errorf("redirect to %s, want %s", got.location, want)
	}
	q := loc.Query()
	for _, name := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(name)) < 32 {
			t.Errorf("%s = %q, want a long random value", name, q.Get(name))
		}
	}
	wants := map[string]string{"code_challenge_method": "S256", "response_type": "code",
		"client_id": "appidgate-demo", "redirect_uri": e.app.URL + "/afterauth", "scope": "openid"}
	for k, v := range wants {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
}

func TestLoginReturnsToTheRequestedPathWithQuery(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	b := e.newBrowser(t)
	start := b.get(e.app.URL + "/profile?tab=roles&x=%2F")
	cb := b.follow(b.authorize(start, "alice"))
	if cb.location != "/profile?tab=roles&x=%2F" {
		t.Errorf("callback redirects to %q, want /profile?tab=roles&x=%%2F", cb.location)
	}
}

func TestSeveralTabsLogInAtOnce(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	b := e.newBrowser(t)
	first := b.get(e.app.URL + "/auth_route")
	second := b.get(e.app.URL + "/profile")
	// Finish the second tab's login first, then the first tab's.
	cb2 := b.follow(b.authorize(second, "alice"))
	cb1 := b.follow(b.authorize(first, "alice"))
	if cb2.location != "/profile" || cb1.location != "/auth_route" {
		t.Errorf("tabs returned to %q and %q, want /profile and /auth_route (%d, %d)", cb2.location, cb1.location,
			cb2.status, cb1.status)
	}
}

func TestTabsStartingAtTheSameMomentDoNotClobberEachOther(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	b := e.newBrowser(t)
	// Both requests leave the browser before either answer's cookie arrives: send them on a jar-less client,
	// then store both answers' cookies, as a browser does when two tabs load at once.
	bare := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var starts []*response
	for _, path := range []string{"/auth_route", "/profile"} {
		req, _ := http.NewRequest(http.MethodGet, e.app.URL+path, nil)
		req.Header.Set("Accept", "text/html")
		resp, err := bare.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		b.client.Jar.SetCookies(req.URL, resp.Cookies())
		starts = append(starts, &response{status: resp.StatusCode, header: resp.Header,
			location: resp.Header.Get("Location"), url: req.URL})
	}
	cbProfile := b.follow(b.authorize(starts[1], "alice"))
	cbAuth := b.follow(b.authorize(starts[0], "alice"))
	if cbProfile.location != "/profile" || cbAuth.location != "/auth_route" {
		t.Errorf("tabs returned to %q (%d) and %q (%d), want /profile and /auth_route", cbProfile.location,
			cbProfile.status, cbAuth.location, cbAuth.status)
	}
}

func TestPendingLoginCookiesDoNotPileUp(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	b := e.newBrowser(t)
	for i := range 10 {
		b.get(fmt.Sprintf("%s/auth_route?try=%d", e.app.URL, i))
	}
	n := 0
	for _, c := range b.client.Jar.Cookies(mustParseURL(t, e.app.URL)) {
		if strings.HasPrefix(c.Name, "appidgate_login") {
			n++
		}
	}
	if n != 4 {
		t.Fatalf("after 10 abandoned logins the browser holds %d login cookies, want the newest 4", n)
	}
	// The newest login still completes.
	last := b.get(e.app.URL + "/auth_route?try=last")
	if cb := b.follow(b.authorize(last, "alice")); cb.location != "/auth_route?try=last" {
		t.Fatalf("newest login returned to %q (%d)", cb.location, cb.status)
	}
}

func mustParseURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestXHRWithoutSessionGets401JSON(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	headers := []map[string]string{
		{"Accept": "application/json"},
		{"X-Requested-With": "XMLHttpRequest"},
		{"Sec-Fetch-Mode": "cors", "Accept": "*/*"},
	}
	for _, h := range headers {
		req, _ := http.NewRequest(http.MethodGet, e.app.URL+"/auth_route", nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		got := e.newBrowser(t).do(req)
		if got.status != http.StatusUnauthorized || !strings.HasPrefix(got.header.Get("Content-Type"), "application/json") ||
			!strings.Contains(got.body, `"error":"unauthorized"`) || !strings.HasPrefix(got.header.Get("WWW-Authenticate"), "Bearer realm=") {
			t.Errorf("%v: got %d %q %q %q, want 401 JSON with WWW-Authenticate", h, got.status,
				got.header.Get("Content-Type"), got.header.Get("WWW-Authenticate"), got.body)
		}
	}
}

func TestOpenRouteNeedsNoLogin(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	got := e.newBrowser(t).get(e.app.URL + "/noauth_route")
	if got.status != http.StatusOK || got.body != openText {
		t.Errorf("got %d %q", got.status, got.body)
	}
}

// TestLoginWithRFC9207IssuerParameter: a provider that names itself in the authorization response (RFC 9207), as
// generic OIDC providers may and App ID does not, is accepted when the name is right.
func TestLoginWithRFC9207IssuerParameter(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{provider: func(c *localappid.Config) { c.AuthorizationResponseIss = true }})
	b := e.newBrowser(t)
	start := b.get(e.app.URL + "/auth_route")
	toCallback := b.authorize(start, "alice")
	if !strings.Contains(toCallback.location, "iss=") {
		t.Fatalf("the provider's answer %q carries no iss: the test would prove nothing", toCallback.location)
	}
	cb := b.follow(toCallback)
	if got := b.follow(cb); got.status != http.StatusOK || got.body != protectedText {
		t.Fatalf("alice with an iss parameter: %d %q", got.status, got.body)
	}
}
