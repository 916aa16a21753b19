package appid

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/appidgate/appidgate/localappid"
)

// assertNoSession fails unless b is still sent to login on the protected route.
func assertNoSession(t *testing.T, e *testEnv, b *browser) {
	t.Helper()
	got := b.get(e.app.URL + "/auth_route")
	if got.status != http.StatusFound || !strings.HasPrefix(got.location, e.idp.Provider().OAuthServerURL()) {
		t.Errorf("expected no session (302 to the provider), got %d %q", got.status, got.location)
	}
}

// withQuery returns raw with query parameter name set to value.
// assertTokensRefused logs alice in through /auth_route and checks that the callback refuses the provider's
// tokens (401 "Could not verify user tokens") and leaves no session.
func assertTokensRefused(t *testing.T, e *testEnv, b *browser) {
	t.Helper()
	got := b.follow(b.authorize(b.get(e.app.URL+"/auth_route"), "alice"))
	if got.status != http.StatusUnauthorized || !strings.Contains(got.body, "Could not verify user tokens") {
		t.Errorf("got %d %q, want 401 Could not verify user tokens", got.status, got.body)
	}
	assertNoSession(t, e, b)
}

func withQuery(t *testing.T, raw, name, value string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(name, value)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestCallbackRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		tamper     func(t *testing.T, callback string) string
		wantStatus int
		wantText   string
	}{
		{"state mismatch", func(t *testing.T, cb string) string { return withQuery(t, cb, "state", "forged") },
			http.StatusBadRequest, "unknown, expired or already used"},
		{"no code", func(t *testing.T, cb string) string { return withQuery(t, cb, "code", "") },
			http.StatusBadRequest, "lacks its code"},
		{"wrong issuer (RFC 9207)", func(t *testing.T, cb string) string {
			return withQuery(t, cb, "iss", "https://evil.example/oauth/v4/x")
		}, http.StatusBadRequest, "unexpected issuer"},
		{"code of another login", func(t *testing.T, cb string) string { return withQuery(t, cb, "code", "bogus") },
			http.StatusBadRequest, "Could not retrieve user tokens"},
		{"provider error", func(t *testing.T, cb string) string {
			u, _ := url.Parse(cb)
			return u.Scheme + "://" + u.Host + u.Path + "?error=access_denied&error_description=%3Cscript%3Ex"
		}, http.StatusForbidden, "The login did not complete"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t, envOption{})
			b := e.newBrowser(t)
			cb := b.authorize(b.get(e.app.URL+"/auth_route"), "alice")
			callback, _ := cb.url.Parse(cb.location)
			got := b.get(tc.tamper(t, callback.String()))
			if got.status != tc.wantStatus || !strings.Contains(got.body, tc.wantText) {
				t.Errorf("got %d %q, want %d containing %q", got.status, got.body, tc.wantStatus, tc.wantText)
			}
			if strings.Contains(got.body, "<script>") {
				t.Error("the error page reflects markup unescaped")
			}
			assertNoSession(t, e, b)
		})
	}
}

func TestReplayedCallbackIsRefused(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	b := e.newBrowser(t)
	start := b.get(e.app.URL + "/auth_route")
	loginCookies := b.client.Jar.Cookies(start.url)
	cb := b.authorize(start, "alice")
	if first := b.follow(cb); first.status != http.StatusFound {
		t.Fatalf("first callback: got %d: %s", first.status, first.body)
	}
	t.Run("same browser", func(t *testing.T) {
		if again := b.follow(cb); again.status != http.StatusBadRequest {
			t.Errorf("replayed callback: got %d, want 400", again.status)
		}
	})
	t.Run("another browser with a copy of the old login cookie", func(t *testing.T) {
		thief := e.newBrowser(t)
		thief.client.Jar.SetCookies(start.url, loginCookies)
		if again := thief.follow(cb); again.status != http.StatusBadRequest {
			t.Errorf("replayed callback with copied cookie: got %d, want 400", again.status)
		}
		assertNoSession(t, e, thief)
	})
}

func TestTamperedSessionCookieIsNoSession(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	b := e.newBrowser(t)
	if got := b.login(e, "/auth_route", "alice"); got.status != http.StatusOK {
		t.Fatalf("login: %d", got.status)
	}
	u, _ := url.Parse(e.app.URL)
	var tampered []*http.Cookie
	for _, c := range b.client.Jar.Cookies(u) {
		v := []byte(c.Value)
		v[len(v)/2] ^= 1
		if v[len(v)/2] == '=' || v[len(v)/2] == ';' {
			v[len(v)/2] = 'A'
		}
		tampered = append(tampered, &http.Cookie{Name: c.Name, Value: string(v), Path: "/"})
	}
	b.client.Jar.SetCookies(u, tampered)
	assertNoSession(t, e, b)
}

func TestWrongNonceIsRefused(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	b := e.newBrowser(t)
	start := b.get(e.app.URL + "/auth_route")
	// The provider is asked with another nonce than the app remembers, as an injected code would carry.
	start.location = withQuery(t, start.location, "nonce", "attacker-nonce-0123456789abcdefghijkl")
	got := b.follow(b.authorize(start, "alice"))
	if got.status != http.StatusUnauthorized || !strings.Contains(got.body, "Could not verify user tokens") {
		t.Errorf("got %d %q, want 401 Could not verify user tokens", got.status, got.body)
	}
	if n := e.observer.count("login:provider_error"); n != 1 {
		t.Errorf("observer saw %d provider errors, want 1", n)
	}
	assertNoSession(t, e, b)
}

// reSignTokens returns a token-response edit that re-signs the id and access tokens with key, a key the
// provider never published, as a compromised or spoofed token endpoint would.
func reSignTokens(t *testing.T, key *rsa.PrivateKey) func([]byte) []byte {
	return func(body []byte) []byte {
		var tok map[string]any
		if err := json.Unmarshal(body, &tok); err != nil {
			t.Errorf("token response: %v", err)
			return body
		}
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
			(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "appId-forged-1"))
		if err != nil {
			t.Errorf("signer: %v", err)
			return body
		}
		for _, field := range []string{"id_token", "access_token"} {
			raw, _ := tok[field].(string)
			parts := strings.Split(raw, ".")
			if len(parts) != 3 {
				continue
			}
			payload, err := base64.RawURLEncoding.DecodeString(parts[1])
			if err != nil {
				t.Errorf("%s payload: %v", field, err)
				return body
			}
			jws, err := signer.Sign(payload)
			if err != nil {
				t.Errorf("signing %s: %v", field, err)
				return body
			}
			tok[field], _ = jws.CompactSerialize()
		}
		out, _ := json.Marshal(tok)
		return out
	}
}

func TestTokenSignedByUnknownKeyIsRefused(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e := newTestEnv(t, envOption{auth: func(c *Config) {
		c.HTTPClient = &http.Client{Timeout: 5 * time.Second, Transport: &tokenResponseTransport{edit: reSignTokens(t, key)}}
	}})
	b := e.newBrowser(t)
	assertTokensRefused(t, e, b)
}

func TestExpiredSessions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opt     envOption
		advance time.Duration
	}{
		{"beyond the absolute lifetime", envOption{auth: func(c *Config) { c.SessionMaxAge = 2 * time.Hour }},
			3 * time.Hour},
		{"idle too long", envOption{auth: func(c *Config) { c.SessionIdleTimeout = 30 * time.Minute }},
			31 * time.Minute},
		{"access token and refresh token expired", envOption{
			provider: func(c *localappid.Config) { c.RefreshTokenTTL = 90 * time.Minute },
		}, 2 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t, tc.opt)
			b := e.newBrowser(t)
			if got := b.login(e, "/auth_route", "alice"); got.status != http.StatusOK {
				t.Fatalf("login: %d", got.status)
			}
			e.clock.Advance(tc.advance)
			assertNoSession(t, e, b)
		})
	}
}

func TestExpiredAccessTokenIsRefreshed(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	b := e.newBrowser(t)
	if got := b.login(e, "/auth_route", "alice"); got.status != http.StatusOK {
		t.Fatalf("login: %d", got.status)
	}
	before := b.get(e.app.URL + "/profile")
	e.clock.Advance(61 * time.Minute) // the provider's access tokens live 1 h
	got := b.get(e.app.URL + "/auth_route")
	if got.status != http.StatusOK || got.body != protectedText {
		t.Fatalf("after expiry: got %d %q, want 200 through a refresh", got.status, got.body)
	}
	if len(got.header.Values("Set-Cookie")) == 0 {
		t.Error("the refreshed session was not written back")
	}
	if n := e.observer.count("refresh:success"); n != 1 {
		t.Errorf("observer saw %d successful refreshes, want 1", n)
	}
	after := b.get(e.app.URL + "/profile")
	if after.body != before.body {
		t.Errorf("profile changed across the refresh: %q -> %q", before.body, after.body)
	}
	if n := e.observer.count("refresh:success"); n != 1 {
		t.Errorf("the renewed session refreshed again: %d refreshes", n)
	}
}

func TestIAMTokenExpiringBetweenLogins(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{provider: func(c *localappid.Config) { c.IAMTokenTTL = 10 * time.Minute }})
	if got := e.newBrowser(t).login(e, "/auth_route", "alice"); got.status != http.StatusOK {
		t.Fatalf("alice: %d %q", got.status, got.body)
	}
	// The cached IAM token is now expired for the provider: the management API answers 401 and the
	// roles call must renew the IAM token and retry.
	e.clock.Advance(15 * time.Minute)
	if got := e.newBrowser(t).login(e, "/admin", "carol"); got.status != http.StatusOK {
		t.Fatalf("carol after the IAM token expired: got %d %q, want 200", got.status, got.body)
	}
	if n := e.observer.count("login:roles_error"); n != 0 {
		t.Errorf("observer saw %d roles errors, want 0", n)
	}
}

func TestProviderDown(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	e.idp.Close()
	b := e.newBrowser(t)
	if got := b.get(e.app.URL + "/noauth_route"); got.status != http.StatusOK || got.body != openText {
		t.Errorf("open route: got %d %q, want 200", got.status, got.body)
	}
	got := b.get(e.app.URL + "/auth_route")
	if got.status != http.StatusServiceUnavailable || !strings.Contains(got.body, "Could not reach the identity provider") {
		t.Errorf("login: got %d %q, want 503 naming the provider", got.status, got.body)
	}
	if err := e.auth.Ready(t.Context()); err == nil {
		t.Error("Ready: want an error with the provider down")
	}
}

func TestManagementAPIDown(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{auth: func(c *Config) { c.ManagementURL = "http://127.0.0.1:1/management/v4/x" }})
	b := e.newBrowser(t)
	got := b.follow(b.authorize(b.get(e.app.URL+"/auth_route"), "alice"))
	if got.status != http.StatusBadGateway || !strings.Contains(got.body, "Could not retrieve user roles") {
		t.Errorf("got %d %q, want 502 Could not retrieve user roles", got.status, got.body)
	}
	assertNoSession(t, e, b)
}

func TestReady(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	if err := e.auth.Ready(t.Context()); err != nil {
		t.Errorf("Ready: %v", err)
	}
}

func TestConcurrentRequestsShareOneRefresh(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	b := e.newBrowser(t)
	if got := b.login(e, "/auth_route", "alice"); got.status != http.StatusOK {
		t.Fatalf("login: %d", got.status)
	}
	base, _ := url.Parse(e.app.URL)
	oldCookies := b.client.Jar.Cookies(base)
	e.clock.Advance(61 * time.Minute)
	noRedirects := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// Every request carries the session from before the refresh, as parallel requests of one page do.
	withOldCookies := func() int {
		req, _ := http.NewRequest(http.MethodGet, e.app.URL+"/auth_route", nil)
		for _, c := range oldCookies {
			req.AddCookie(c)
		}
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	statuses := make(chan int, 5)
	for range 5 {
		go func() { statuses <- withOldCookies() }()
	}
	for range 5 {
		if s := <-statuses; s != http.StatusOK {
			t.Errorf("parallel request after expiry: got %d, want 200", s)
		}
	}
	if s := withOldCookies(); s != http.StatusOK {
		t.Errorf("late request with the old session: got %d, want 200", s)
	}
	if n := e.observer.count("refresh:success"); n != 1 {
		t.Errorf("observer saw %d refreshes, want 1", n)
	}
	if n := e.observer.count("refresh:failure"); n != 0 {
		t.Errorf("observer saw %d failed refreshes, want 0", n)
	}
}

func TestIdleTimeoutSlidesWithUse(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{auth: func(c *Config) { c.SessionIdleTimeout = 30 * time.Minute }})
	b := e.newBrowser(t)
	if got := b.login(e, "/auth_route", "alice"); got.status != http.StatusOK {
		t.Fatalf("login: %d", got.status)
	}
	e.clock.Advance(30 * time.Second)
	if got := b.get(e.app.URL + "/auth_route"); got.status != http.StatusOK || len(got.header.Values("Set-Cookie")) != 0 {
		t.Errorf("a request soon after the last save: got %d with %d cookies, want 200 and no rewrite", got.status,
			len(got.header.Values("Set-Cookie")))
	}
	e.clock.Advance(20 * time.Minute)
	if got := b.get(e.app.URL + "/auth_route"); got.status != http.StatusOK || len(got.header.Values("Set-Cookie")) == 0 {
		t.Errorf("a request 20 min later: got %d with no cookie rewrite, want 200 and a touched session", got.status)
	}
	e.clock.Advance(20 * time.Minute) // 40 min after login, 20 min after the last use
	if got := b.get(e.app.URL + "/auth_route"); got.status != http.StatusOK {
		t.Errorf("a session used 20 min ago expired: got %d", got.status)
	}
}
