package appid

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/internal/zitadeltest"
)

// oidcEnv is the example OpenID Provider of zitadel/oidc, a third-party provider, and an app protected by Auth in
// ProviderOIDC mode, both on loopback ports.
type oidcEnv struct {
	idp      *zitadeltest.Provider
	app      *httptest.Server
	auth     *Auth
	clock    *testkit.Clock
	observer *recordingObserver
	logs     *lockedBuffer

	mu    sync.Mutex
	calls map[string]int // requests the provider received, by path
}

// lockedBuffer is a log sink the app and the test may use at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type oidcOptions struct {
	idp  zitadeltest.Options // RedirectURIs and PostLogoutRedirectURIs are the app's
	auth func(*Config)
}

// adminGroups gives the example's first user the groups admin and user, and its second user none.
var adminGroups = map[string][]string{zitadeltest.UserID: {"admin", "user"}}

// newOIDCEnv starts the provider and the app: /auth_route is the reference's Check, /noauth_route is open,
// /profile needs a login, /admin the admin role, /api/admin a bearer token of a user with the admin role.
func newOIDCEnv(t *testing.T, opt oidcOptions) *oidcEnv {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	e := &oidcEnv{clock: testkit.NewClock(time.Now().Truncate(time.Second)), observer: &recordingObserver{},
		logs: &lockedBuffer{}, calls: map[string]int{}}
	inner := opt.idp.Wrap
	opt.idp.Wrap = func(h http.Handler) http.Handler {
		if inner != nil {
			h = inner(h)
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			e.mu.Lock()
			e.calls[r.URL.Path]++
			e.mu.Unlock()
			h.ServeHTTP(w, r)
		})
	}
	opt.idp.RedirectURIs = []string{base + "/afterauth"}
	opt.idp.PostLogoutRedirectURIs = []string{base + "/noauth_route"}
	e.idp = zitadeltest.Start(t, opt.idp)

	key := make([]byte, 32)
	rand.Read(key)
	cfg := Config{
		Provider:       ProviderOIDC,
		ClientID:       zitadeltest.ClientID,
		ClientSecret:   zitadeltest.ClientSecret,
		OAuthServerURL: e.idp.Issuer,
		RedirectURL:    base + "/afterauth",
		SessionKeys:    [][]byte{key},
		RolesClaim:     "groups",
		Observer:       e.observer,
		Logger:         slog.New(slog.NewTextHandler(e.logs, nil)),
		Now:            e.clock.Now,
	}
	if opt.auth != nil {
		opt.auth(&cfg)
	}
	e.auth, err = New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mux := http.NewServeMux()
	e.auth.Mount(mux)
	text := func(s string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, s) })
	}
	mux.Handle("GET /auth_route", e.auth.Check(text(protectedText)))
	mux.Handle("GET /noauth_route", text(openText))
	mux.Handle("GET /profile", e.auth.Require(Authenticated())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := UserFrom(r.Context())
		io.WriteString(w, u.ID+" "+u.Name+" <"+u.Email+"> roles="+strings.Join(u.Roles, ",")+" scopes="+
			strings.Join(u.Scopes, ","))
	})))
	mux.Handle("GET /admin", e.auth.Require(Role("admin"))(text("admin area")))
	mux.Handle("GET /api/admin", e.auth.RequireBearer(Role("admin"))(text(`{"admin":true}`)))
	e.app = httptest.NewUnstartedServer(mux)
	e.app.Listener.Close()
	e.app.Listener = ln
	e.app.Start()
	t.Cleanup(e.app.Close)
	return e
}

// newBrowser returns a browser with a cookie jar of its own.
func (e *oidcEnv) newBrowser(t *testing.T) *browser { return (*testEnv)(nil).newBrowser(t) }

// called returns how many requests the provider received at path.
func (e *oidcEnv) called(path string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls[path]
}

// authorize takes the redirect to the provider to the point where it redirects back to the app's callback,
// signing in as username on the example's login form on the way.
func (e *oidcEnv) authorize(b *browser, toProvider *response, username string) *response {
	b.t.Helper()
	r := toProvider
	for range 6 {
		if r.status == http.StatusFound && strings.HasPrefix(r.location, e.app.URL+"/afterauth?") {
			return r
		}
		if r.status == http.StatusOK && strings.Contains(r.body, `name="password"`) {
			req, err := zitadeltest.LoginRequest(r.body, r.url, username, zitadeltest.Password)
			if err != nil {
				b.t.Fatal(err)
			}
			r = b.do(req)
			continue
		}
		r = b.follow(r)
	}
	b.t.Fatalf("the provider did not redirect to the callback: %d %q: %s", r.status, r.location, r.body)
	return nil
}

// login signs username in through path and returns the app's answer to the callback (a redirect to path when
// the login succeeded).
func (e *oidcEnv) login(b *browser, path, username string) *response {
	b.t.Helper()
	start := b.get(e.app.URL + path)
	if start.status != http.StatusFound || !strings.HasPrefix(start.location, e.idp.Issuer) {
		b.t.Fatalf("GET %s: expected a redirect to the provider, got %d %q", path, start.status, start.location)
	}
	return b.follow(e.authorize(b, start, username))
}

// bearer calls the app's /api/admin with token.
func (e *oidcEnv) bearer(t *testing.T, token string) *response {
	req, _ := http.NewRequest(http.MethodGet, e.app.URL+"/api/admin", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	return (&browser{t: t, client: &http.Client{Timeout: 10 * time.Second}}).do(req)
}

// TestOIDCModeWithZitadel runs the whole life of a session against a third-party OpenID Provider, once with its
// default opaque access tokens and once with JWT access tokens: login through its own form, the issuer's trailing
// slash, name and email from userinfo, roles from a claim, offline_access and a refresh after the access token
// expired, a bearer API, a user without a role, and logout through its end-session endpoint.
func TestOIDCModeWithZitadel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		jwt      bool
		groupsIn zitadeltest.Where // where the provider puts the groups claim
	}{
		{"opaque access tokens", false, zitadeltest.InUserinfo | zitadeltest.InIntrospection},
		{"JWT access tokens", true, zitadeltest.InAccessToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newOIDCEnv(t, oidcOptions{idp: zitadeltest.Options{JWTAccessTokens: tc.jwt, Groups: adminGroups,
				GroupsIn: tc.groupsIn}})
			if !strings.HasSuffix(e.idp.Issuer, "/") {
				t.Fatalf("the example's issuer %q has no trailing slash; the test would prove less", e.idp.Issuer)
			}
			b := e.newBrowser(t)
			start := b.get(e.app.URL + "/auth_route")
			authz, _ := url.Parse(start.location)
			if got := authz.Query().Get("scope"); got != "openid profile email offline_access" {
				t.Errorf("requested scope %q, want openid profile email and offline_access (listed in discovery)", got)
			}
			cb := b.follow(e.authorize(b, start, e.idp.Username))
			if cb.status != http.StatusFound || cb.location != "/auth_route" {
				t.Fatalf("callback: %d %q %s\nlogs:\n%s", cb.status, cb.location, cb.body, e.logs)
			}
			if got := b.follow(cb); got.status != http.StatusOK || got.body != protectedText {
				t.Fatalf("/auth_route after login: %d %q", got.status, got.body)
			}
			wantProfile := zitadeltest.UserID + " " + zitadeltest.UserName + " <" + zitadeltest.UserEmail +
				"> roles=admin,user scopes=openid,profile,email,offline_access"
			if got := b.get(e.app.URL + "/profile"); got.body != wantProfile {
				t.Errorf("/profile = %q, want %q", got.body, wantProfile)
			}
			// The example's id tokens hold neither email nor name when an access token comes with them.
			if n := e.called("/userinfo"); n != 1 {
				t.Errorf("userinfo asked %d times at login, want 1", n)
			}
			if got := b.get(e.app.URL + "/admin"); got.status != http.StatusOK {
				t.Errorf("/admin for a user in the admin group: %d", got.status)
			}

			// A bearer API takes the provider's access token: opaque through introspection, a JWT locally.
			access := e.idp.Tokens()[0].AccessToken
			if isJWT := strings.Count(access, ".") == 2; isJWT != tc.jwt {
				t.Fatalf("the provider's access token %.20s... is a JWT: %v, want %v", access, isJWT, tc.jwt)
			}
			for range 2 {
				if got := e.bearer(t, access); got.status != http.StatusOK {
					t.Fatalf("bearer API: %d %s\nlogs:\n%s", got.status, got.body, e.logs)
				}
			}
			wantIntrospections := 1 // the second request is answered from the cache
			if tc.jwt {
				wantIntrospections = 0
			}
			if n := e.called("/oauth/introspect"); n != wantIntrospections {
				t.Errorf("introspection asked %d times, want %d", n, wantIntrospections)
			}
			if got := e.bearer(t, "not-a-token"); got.status != http.StatusUnauthorized {
				t.Errorf("bearer API with a made-up token: %d, want 401", got.status)
			}

			// The session outlives the provider's 5-minute access token: the app's clock passes its expiry and
			// the refresh token (offline_access) renews it; the provider's own clock is real.
			e.clock.Advance(5*time.Minute + 10*time.Second)
			if got := b.get(e.app.URL + "/profile"); got.status != http.StatusOK || got.body != wantProfile {
				t.Fatalf("/profile after the access token expired: %d %q\nlogs:\n%s", got.status, got.body, e.logs)
			}
			tokens := e.idp.Tokens()
			if n := e.observer.count("refresh:success"); n != 1 || len(tokens) != 2 {
				t.Fatalf("refreshes: %d successful, %d token responses; want 1 and 2", n, len(tokens))
			}
			if tokens[0].RefreshToken == "" || tokens[1].RefreshToken == tokens[0].RefreshToken {
				t.Errorf("refresh tokens %q then %q: want one at login, rotated by the refresh", tokens[0].RefreshToken,
					tokens[1].RefreshToken)
			}
			if got := b.get(e.app.URL + "/profile"); got.status != http.StatusOK || e.observer.count("refresh:success") != 1 {
				t.Errorf("the renewed session: %d, %d refreshes; want 200 and no further refresh", got.status,
					e.observer.count("refresh:success"))
			}

			// A user the provider gives no group is signed in, and refused.
			other := e.newBrowser(t)
			if cb := e.login(other, "/auth_route", zitadeltest.User2); cb.status != http.StatusFound {
				t.Fatalf("second user's callback: %d %s", cb.status, cb.body)
			}
			if got := other.get(e.app.URL + "/auth_route"); got.status != http.StatusForbidden {
				t.Errorf("/auth_route for a user without roles: %d, want 403", got.status)
			}

			// Logout: the refresh token is revoked, then the browser goes to the end-session endpoint with the
			// id token as hint, and the provider sends it back to the app.
			out := postLogout(b, &testEnv{app: e.app}, e.app.URL)
			if out.status != http.StatusSeeOther {
				t.Fatalf("POST /logout: %d %s", out.status, out.body)
			}
			end, _ := url.Parse(out.location)
			q := end.Query()
			if end.Scheme+"://"+end.Host+end.Path != e.idp.Issuer+"end_session" || q.Get("id_token_hint") != tokens[1].IDToken ||
				q.Get("post_logout_redirect_uri") != e.app.URL+"/noauth_route" || q.Get("client_id") != zitadeltest.ClientID {
				t.Errorf("logout redirects to %q, want the end-session endpoint with the id token, the return URL and the client", out.location)
			}
			if n := e.called("/revoke"); n != 1 {
				t.Errorf("revocation asked %d times at logout, want 1", n)
			}
			back := b.follow(out)
			if back.status != http.StatusFound || back.location != e.app.URL+"/noauth_route" {
				t.Fatalf("end session: %d %q %s, want a redirect to /noauth_route", back.status, back.location, back.body)
			}
			if got := b.follow(back); got.status != http.StatusOK || got.body != openText {
				t.Errorf("after logout: %d %q", got.status, got.body)
			}
			if got := b.get(e.app.URL + "/auth_route"); got.status != http.StatusFound ||
				!strings.HasPrefix(got.location, e.idp.Issuer) {
				t.Errorf("/auth_route after logout: %d %q, want a redirect to the provider", got.status, got.location)
			}
			conf := oauth2.Config{ClientID: zitadeltest.ClientID, ClientSecret: zitadeltest.ClientSecret,
				Endpoint: oauth2.Endpoint{TokenURL: e.idp.Issuer + "oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}
			_, err := conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tokens[1].RefreshToken}).Token()
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) {
				t.Errorf("the session's refresh token after logout: %v, want the provider to refuse it", err)
			}
		})
	}
}

// rewriteJSON wraps the provider so that the JSON answers at path pass through edit first.
func rewriteJSON(path string, edit func(map[string]any)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != path {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var body map[string]any
			if rec.Code == http.StatusOK && json.Unmarshal(rec.Body.Bytes(), &body) == nil {
				edit(body)
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(body)
				return
			}
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
		})
	}
}

// TestOIDCModeRefusesUnboundAnswers changes one answer of the provider at a time: each login must fail with 401.
func TestOIDCModeRefusesUnboundAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, path string
		edit       func(map[string]any)
		wantLog    string
	}{
		{"access token that does not match the id token's at_hash", "/oauth/token",
			func(m map[string]any) { m["access_token"] = m["access_token"].(string) + "x" }, "at_hash"},
		{"userinfo about another user", "/userinfo",
			func(m map[string]any) { m["sub"] = zitadeltest.User2ID }, "userinfo sub"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newOIDCEnv(t, oidcOptions{idp: zitadeltest.Options{Wrap: rewriteJSON(tc.path, tc.edit)}})
			b := e.newBrowser(t)
			cb := e.login(b, "/auth_route", e.idp.Username)
			if cb.status != http.StatusUnauthorized {
				t.Fatalf("callback: %d %q, want 401", cb.status, cb.body)
			}
			if !strings.Contains(e.logs.String(), tc.wantLog) {
				t.Errorf("the log does not say why (%q):\n%s", tc.wantLog, e.logs)
			}
			if got := b.get(e.app.URL + "/profile"); got.status != http.StatusFound {
				t.Errorf("/profile after the refused login: %d, want a redirect to login", got.status)
			}
		})
	}
}
