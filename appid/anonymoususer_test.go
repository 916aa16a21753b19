package appid

import (
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/localappid"
)

// anonymousLogin starts a login at path and, as a visitor can, adds idp=appid_anon to the redirect to the
// provider, which then signs an anonymous user in without asking anything; it returns the app's answer at the
// callback.
func (b *browser) anonymousLogin(e *testEnv, path string) *response {
	b.t.Helper()
	start := b.get(e.app.URL + path)
	if start.status != http.StatusFound || !strings.HasPrefix(start.location, e.idp.Provider().OAuthServerURL()) {
		b.t.Fatalf("GET %s: expected a redirect to the provider, got %d %q", path, start.status, start.location)
	}
	start.location += "&idp=appid_anon"
	cb := b.follow(start)
	if cb.status != http.StatusFound || !strings.Contains(cb.location, "/afterauth?") {
		b.t.Fatalf("expected the provider to redirect an anonymous login to the callback, got %d %q: %s",
			cb.status, cb.location, cb.body)
	}
	return b.follow(cb)
}

// anonymousAccessToken runs an anonymous login (idp=appid_anon) outside the app and returns the provider's
// access token, as an API client of a progressive-authentication app would hold.
func anonymousAccessToken(t *testing.T, e *testEnv) string {
	t.Helper()
	oauthURL := e.idp.Provider().OAuthServerURL()
	conf := &oauth2.Config{
		ClientID: localappid.DemoClientID, ClientSecret: localappid.DemoClientSecret,
		Endpoint: oauth2.Endpoint{AuthURL: oauthURL + "/authorization", TokenURL: oauthURL + "/token",
			AuthStyle: oauth2.AuthStyleInHeader},
		RedirectURL: e.app.URL + "/afterauth", Scopes: []string{"openid"},
	}
	verifier := oauth2.GenerateVerifier()
	start, _ := url.Parse(conf.AuthCodeURL("api-client-state", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("idp", "appid_anon")))
	cb := e.newBrowser(t).authorize(&response{status: http.StatusFound, location: start.String(), url: start}, "")
	loc, _ := url.Parse(cb.location)
	tok, err := conf.Exchange(t.Context(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if amr, _ := jwtClaims(t, tok.AccessToken)["amr"].([]any); len(amr) != 1 || amr[0] != "appid_anon" {
		t.Fatalf("the provider's anonymous token has amr %v, want [appid_anon]", amr)
	}
	return tok.AccessToken
}

// TestAnonymousUsersRefusedByDefault: App ID signs anyone in anonymously when the login redirect says
// idp=appid_anon. Without Config.AllowAnonymous that login ends on the failure page with the audit reason
// anonymous_user and starts no session, and an anonymous access token gets 401 invalid_token.
func TestAnonymousUsersRefusedByDefault(t *testing.T) {
	t.Parallel()
	var audit testkit.Buffer
	e := newTestEnv(t, envOption{auth: func(c *Config) { c.AuditLogger = slog.New(slog.NewJSONHandler(&audit, nil)) }})
	b := e.newBrowser(t)
	got := b.anonymousLogin(e, "/profile")
	if got.status != http.StatusForbidden || !strings.Contains(got.body, "does not admit anonymous users") {
		t.Errorf("anonymous login: got %d, want 403 with the failure page: %s", got.status, got.body)
	}
	if again := b.get(e.app.URL + "/profile"); again.status != http.StatusFound {
		t.Errorf("after a refused anonymous login, /profile answers %d, want 302 to login: %s", again.status, again.body)
	}
	var failed map[string]any
	for _, rec := range auditRecords(t, &audit) {
		if rec["event"] == "login.failed" {
			failed = rec
		}
		if rec["event"] == "login.succeeded" {
			t.Errorf("an anonymous login was audited as a success: %v", rec)
		}
	}
	if failed == nil || failed["reason"] != "anonymous_user" {
		t.Errorf("audit login.failed record %v, want reason anonymous_user", failed)
	}
	if n := e.observer.count("login:" + loginSuccess); n != 0 {
		t.Errorf("observer counted %d successful logins, want 0", n)
	}

	token := anonymousAccessToken(t, e)
	for _, h := range []http.Handler{
		e.auth.RequireBearer()(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})),
		e.auth.RequireBearer(Authenticated())(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})),
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, e.app.URL+"/api/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("anonymous bearer token: got %d %q, want 401 with error=\"invalid_token\"", rec.Code,
				rec.Header().Get("WWW-Authenticate"))
		}
	}
}

// TestAnonymousUsersAllowed: with Config.AllowAnonymous an anonymous login starts a session whose user says it
// is anonymous and holds no roles: Authenticated admits them, the reference's role check does not; an anonymous
// access token is admitted on a bearer route that asks for no role or scope.
func TestAnonymousUsersAllowed(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{auth: func(c *Config) { c.AllowAnonymous = true }})
	var seen *User
	mux := http.NewServeMux()
	mux.Handle("/who", e.auth.Require(Authenticated())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = UserFrom(r.Context())
	})))
	b := e.newBrowser(t)
	if got := b.follow(b.anonymousLogin(e, "/profile")); got.status != http.StatusOK || !strings.Contains(got.body, "roles= ") {
		t.Fatalf("anonymous login with AllowAnonymous: got %d, want 200 with no roles: %s", got.status, got.body)
	}
	if got := b.get(e.app.URL + "/auth_route"); got.status != http.StatusForbidden {
		t.Errorf("anonymous user on the role check /auth_route: got %d, want 403", got.status)
	}
	// The session cookie, replayed against a handler of the same Auth, says the user is anonymous.
	req := httptest.NewRequest(http.MethodGet, e.app.URL+"/who", nil)
	appURL, _ := url.Parse(e.app.URL)
	for _, c := range b.client.Jar.Cookies(appURL) {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || seen == nil || !seen.Anonymous || len(seen.Roles) != 0 {
		t.Errorf("anonymous session on Authenticated: got %d, user %+v; want 200, Anonymous, no roles", rec.Code, seen)
	}

	token := anonymousAccessToken(t, e)
	seen = nil
	h := e.auth.RequireBearer()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = UserFrom(r.Context())
	}))
	rec = httptest.NewRecorder()
	req = httptest.NewRequest(http.MethodGet, e.app.URL+"/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || seen == nil || !seen.Anonymous {
		t.Errorf("anonymous bearer token with AllowAnonymous: got %d, user %+v; want 200 and Anonymous", rec.Code, seen)
	}
}

// TestSessionFormatKeepsAnonymous: an anonymous user's session says so after a round trip (version 4), and every
// other session is still written as version 3, which earlier releases read.
func TestSessionFormatKeepsAnonymous(t *testing.T) {
	t.Parallel()
	st := &sessionState{id: "i", user: User{ID: "sub", Anonymous: true}}
	out, err := decodeSession(st.encode(nil))
	if err != nil || !out.user.Anonymous {
		t.Fatalf("anonymous session round trip: %+v, %v", out, err)
	}
	st.user.Anonymous = false
	enc := st.encode(nil)
	if enc[0] != sessionFormatV3 {
		t.Errorf("a session without flags is written as version %d, want 3", enc[0])
	}
	if out, err := decodeSession(enc); err != nil || out.user.Anonymous {
		t.Errorf("session round trip: %+v, %v", out, err)
	}
	if _, err := decodeSession(append([]byte{sessionFormatV4}, append(enc[1:], 2)...)); err == nil {
		t.Error("a version 4 session with an unknown flag was accepted")
	}
}

// jwtClaims decodes the claims of a JWT without verifying it.
func jwtClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// TestAnonymousAMRIgnoredInOIDCMode: ProviderOIDC mode reads no meaning into amr values, App ID's included: an
// anonymous login there starts a session as before, without Config.AllowAnonymous.
func TestAnonymousAMRIgnoredInOIDCMode(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{auth: func(c *Config) {
		c.Provider, c.IBMCloudAPIKey, c.IAMTokenURL, c.ManagementURL = ProviderOIDC, "", "", ""
	}})
	b := e.newBrowser(t)
	if got := b.follow(b.anonymousLogin(e, "/profile")); got.status != http.StatusOK {
		t.Errorf("anonymous login in ProviderOIDC mode: got %d, want 200: %s", got.status, got.body)
	}
}
