package appid

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/internal/zitadeltest"
)

// Tests of what a security review of the generic provider mode found: an unverified email taken as the user's,
// an id token admitted as an access token, the client secret over plaintext, made-up tokens each costing an
// introspection, and roles a refresh without an id token kept.

// fakeOIDC returns an Auth in ProviderOIDC mode for the fake issuer f.
func fakeOIDC(t *testing.T, f *fakeIssuer, clock *testkit.Clock, client *http.Client) *Auth {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	a, err := New(t.Context(), Config{Provider: ProviderOIDC, ClientID: fakeClientID, ClientSecret: "fake-secret",
		OAuthServerURL: f.issuer, RedirectURL: "http://127.0.0.1:1/afterauth", SessionKeys: [][]byte{key},
		Now: clock.Now, Logger: slog.New(slog.DiscardHandler), HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestOIDCUnverifiedEmailIsNotTheUsers: an email the provider says is unverified never becomes User.Email
// (which the proxy sends on as the user's address); the claim stays in Claims.
func TestOIDCUnverifiedEmailIsNotTheUsers(t *testing.T) {
	t.Parallel()
	e := newOIDCEnv(t, oidcOptions{idp: zitadeltest.Options{Groups: adminGroups, GroupsIn: zitadeltest.InUserinfo,
		Wrap: rewriteJSON("/userinfo", func(m map[string]any) {
			m["email"], m["email_verified"] = "ceo@victim.example", false
		})}})
	b := e.newBrowser(t)
	if cb := e.login(b, "/auth_route", e.idp.Username); cb.status != http.StatusFound {
		t.Fatalf("login: %d %s", cb.status, cb.body)
	}
	if got := b.get(e.app.URL + "/profile"); strings.Contains(got.body, "ceo@victim.example") {
		t.Errorf("User.Email is an address the provider says is unverified: %s", got.body)
	}
	for _, tc := range []struct {
		claims map[string]any
		want   string
	}{
		{map[string]any{"email": "a@example.com", "email_verified": false}, ""},
		{map[string]any{"email": "a@example.com", "email_verified": "false"}, ""}, // Amazon Cognito's string
		{map[string]any{"email": "a@example.com", "email_verified": true}, "a@example.com"},
		{map[string]any{"email": "a@example.com"}, "a@example.com"}, // Entra ID says nothing
	} {
		if got := verifiedEmail(tc.claims); got != tc.want {
			t.Errorf("verifiedEmail(%v) = %q, want %q", tc.claims, got, tc.want)
		}
	}
}

// TestOIDCIDTokenIsNoAccessToken: a JWT for this client that does not show it is an access token (typ at+jwt, or
// a client_id, scope or scp claim) is never admitted locally, since an id token has the same audience and need
// carry no nonce or at_hash (refreshed id tokens, Entra ID's); and an id token issued to another party (azp) is
// refused at login.
func TestOIDCIDTokenIsNoAccessToken(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t, "/realms/r")
	clock := testkit.NewClock(time.Now().Truncate(time.Second))
	a := fakeOIDC(t, f, clock, nil)
	now := clock.Now()
	base := func() map[string]any {
		return map[string]any{"iss": f.issuer, "aud": fakeClientID, "sub": "user-1", "exp": now.Add(time.Hour).Unix(),
			"iat": now.Unix(), "roles": []string{"admin"}}
	}
	idToken := base()
	idToken["azp"], idToken["auth_time"], idToken["sid"] = fakeClientID, now.Unix(), "s1"
	if code, body := bearerStatus(a, f.signed(t, idToken), Role("admin")); code != http.StatusUnauthorized {
		t.Errorf("an id token as a bearer token: %d %s, want 401", code, body)
	}
	access := base()
	access["scope"] = "openid api"
	if code, body := bearerStatus(a, f.signed(t, access), Role("admin")); code != http.StatusOK {
		t.Errorf("an access token with a scope claim: %d %s, want 200", code, body)
	}
	other := base()
	other["aud"], other["azp"] = []string{"other-client", fakeClientID}, "other-client"
	if _, err := a.tokens.verifyIDToken(t.Context(), f.signed(t, other), ""); err == nil {
		t.Error("an id token issued to another party (azp) verified")
	}
	several := base()
	several["aud"] = []string{"other-client", fakeClientID}
	if _, err := a.tokens.verifyIDToken(t.Context(), f.signed(t, several), ""); err == nil {
		t.Error("an id token for several audiences without azp verified")
	}
}

// TestOIDCSecretNeverOverPlaintext: an https issuer whose discovery lists plain-http endpoints is refused, so
// the client secret, codes and tokens never travel in clear; an http issuer is refused unless on loopback.
func TestOIDCSecretNeverOverPlaintext(t *testing.T) {
	t.Parallel()
	var tlsSrv *httptest.Server
	tlsSrv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		iss := tlsSrv.URL + "/"
		json.NewEncoder(w).Encode(map[string]any{"issuer": iss, "authorization_endpoint": iss + "auth",
			"token_endpoint": "http://collector.example/token", "jwks_uri": iss + "keys",
			"introspection_endpoint": "http://collector.example/introspect",
			"revocation_endpoint":    "http://collector.example/revoke"})
	}))
	t.Cleanup(tlsSrv.Close)
	var mu sync.Mutex
	var leaked []string
	base := tlsSrv.Client().Transport
	client := &http.Client{Timeout: 5 * time.Second, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host != "collector.example" {
			return base.RoundTrip(r)
		}
		mu.Lock()
		leaked = append(leaked, r.Method+" "+r.URL.String())
		mu.Unlock()
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(`{"active":false}`)), Request: r}, nil
	})}
	key := make([]byte, 32)
	rand.Read(key)
	a, err := New(t.Context(), Config{Provider: ProviderOIDC, ClientID: "app", ClientSecret: "top-secret",
		OAuthServerURL: tlsSrv.URL + "/", RedirectURL: "https://app.example/afterauth", SessionKeys: [][]byte{key},
		Logger: slog.New(slog.DiscardHandler), HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := bearerStatus(a, "some-opaque-token"); code != http.StatusServiceUnavailable {
		t.Errorf("bearer with a discovery listing http endpoints: %d, want 503", code)
	}
	if len(leaked) > 0 {
		t.Errorf("calls over plain http: %q", leaked)
	}

	for issuer, ok := range map[string]bool{"http://idp.example.com/": false, "http://127.0.0.1:9998/": true,
		"http://localhost:9998/": true, "https://idp.example.com/": true} {
		_, err := ConfigFromLookup(lookupFrom(merge(oidcEnvVars(), map[string]string{"APPIDGATE_ISSUER_URL": issuer})))
		if (err == nil) != ok {
			t.Errorf("issuer %s: %v", issuer, err)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestOIDCPostRedirectsAreNotFollowed: a redirect of a credentialed POST (which would replay a
// client_secret_post body to its target) is not followed.
func TestOIDCPostRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the redirect of a POST was followed: %s %s", r.Method, r.URL)
	}))
	t.Cleanup(target.Close)
	from := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	t.Cleanup(from.Close)
	clock := testkit.NewClock(time.Now())
	client := fakeOIDC(t, newFakeIssuer(t, "/realms/r"), clock, nil).cfg.HTTPClient // as New made it
	resp, err := client.Post(from.URL, "application/x-www-form-urlencoded", strings.NewReader("client_secret=s"))
	if err == nil {
		resp.Body.Close()
		t.Error("a POST's redirect gave no error")
	}
}

// TestOIDCMadeUpTokensAreBounded: made-up bearer tokens cost at most the introspection budget, then 503.
func TestOIDCMadeUpTokensAreBounded(t *testing.T) {
	t.Parallel()
	clock := testkit.NewClock(time.Now().Truncate(time.Second))
	f := newIntrospectingIssuer(t, nil, true)
	f.answer = func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"active":false}`)) }
	a := newIntrospectingAuth(t, f, clock)
	unavailable := 0
	for i := range 200 {
		if c, _ := bearerStatus(a, fmt.Sprintf("junk-%d", i)); c == http.StatusServiceUnavailable {
			unavailable++
		}
	}
	if n := f.calls.Load(); n > introspectionBurst+5 || unavailable == 0 {
		t.Errorf("200 made-up tokens: %d introspections, %d answered 503; want at most about %d and the rest 503",
			n, unavailable, introspectionBurst)
	}
}

// TestOIDCRolesClaimIsNoProfileClaim: a profile claim users can edit themselves cannot name the roles.
func TestOIDCRolesClaimIsNoProfileClaim(t *testing.T) {
	t.Parallel()
	for _, claim := range []string{"name", "preferred_username", "nickname", "given_name", "email"} {
		env := merge(oidcEnvVars(), map[string]string{"APPIDGATE_ROLES_CLAIM": claim})
		if _, err := ConfigFromLookup(lookupFrom(env)); err == nil {
			t.Errorf("APPIDGATE_ROLES_CLAIM=%s accepted", claim)
		}
	}
}

// TestOIDCRefreshWithoutIDTokenRereadsRoles: a role the provider withdrew ends at the next refresh, also when
// the refresh answer holds no id token (userinfo is asked again).
func TestOIDCRefreshWithoutIDTokenRereadsRoles(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	groups := map[string][]string{zitadeltest.UserID: {"admin", "user"}}
	var dropID bool
	e := newOIDCEnv(t, oidcOptions{idp: zitadeltest.Options{Groups: groups, GroupsIn: zitadeltest.InUserinfo,
		Wrap: rewriteJSON("/oauth/token", func(m map[string]any) {
			mu.Lock()
			defer mu.Unlock()
			if dropID {
				delete(m, "id_token")
			}
		})}})
	b := e.newBrowser(t)
	if cb := e.login(b, "/auth_route", e.idp.Username); cb.status != http.StatusFound {
		t.Fatalf("login: %d %s", cb.status, cb.body)
	}
	if got := b.get(e.app.URL + "/admin"); got.status != http.StatusOK {
		t.Fatalf("/admin: %d", got.status)
	}
	mu.Lock()
	groups[zitadeltest.UserID] = []string{"user"}
	dropID = true
	mu.Unlock()
	e.clock.Advance(6 * time.Minute)
	if got := b.get(e.app.URL + "/admin"); got.status != http.StatusForbidden {
		t.Errorf("/admin after the refresh: %d, want 403 (the role was withdrawn)", got.status)
	}
}

// TestOIDCBearerUnverifiedEmail: on bearer requests too, an unverified email is not the user's, from a JWT
// access token (Keycloak puts email_verified in them) or from an introspection answer.
func TestOIDCBearerUnverifiedEmail(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t, "/realms/r")
	clock := testkit.NewClock(time.Now().Truncate(time.Second))
	a := fakeOIDC(t, f, clock, nil)
	now := clock.Now()
	tok := f.signed(t, map[string]any{"iss": f.issuer, "aud": fakeClientID, "sub": "user-1", "scope": "api",
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "email": "ceo@victim.example", "email_verified": false})
	if uc, err := a.bearer.user(t.Context(), tok); err != nil || uc.user.Email != "" {
		t.Errorf("JWT bearer: %v, User.Email %q, want none", err, uc.user.Email)
	}
	u, err := a.bearer.introspector.user(map[string]any{"active": true, "sub": "user-1", "client_id": fakeClientID,
		"email": "ceo@victim.example", "email_verified": "false"}, now)
	if err != nil || u.Email != "" {
		t.Errorf("introspected bearer: %v, User.Email %q, want none", err, u.Email)
	}
}

// TestOIDCAccessTokenShapes: the access tokens of real providers are verified locally; id tokens are not.
func TestOIDCAccessTokenShapes(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t, "/realms/r")
	clock := testkit.NewClock(time.Now().Truncate(time.Second))
	a := fakeOIDC(t, f, clock, nil)
	now := clock.Now()
	for _, tc := range []struct {
		name   string
		claims map[string]any
		local  bool
	}{
		{"Keycloak", map[string]any{"scope": "openid email", "azp": fakeClientID, "typ": "Bearer"}, true},
		{"Okta", map[string]any{"scp": []string{"openid"}, "cid": fakeClientID}, true},
		{"zitadel", map[string]any{"client_id": fakeClientID, "scope": "openid"}, true},
		{"Entra ID, delegated", map[string]any{"scp": "access_as_user", "azp": fakeClientID}, true},
		{"Entra ID, app-only", map[string]any{"roles": []string{"Task.Read"}, "azp": fakeClientID, "azpacr": "1",
			"idtyp": "app"}, true},
		{"an id token", map[string]any{"azp": fakeClientID, "auth_time": now.Unix(), "sid": "s"}, false},
	} {
		c := map[string]any{"iss": f.issuer, "aud": fakeClientID, "sub": "user-1", "exp": now.Add(time.Hour).Unix(),
			"iat": now.Unix()}
		for k, v := range tc.claims {
			c[k] = v
		}
		if got := a.provider.(*oidcProvider).jwtForClient(f.signed(t, c)); got != tc.local {
			t.Errorf("%s: verified locally %v, want %v", tc.name, got, tc.local)
		}
	}
}

// TestOIDCAuthParamsReserved: parameters whose answer appidgate does not check cannot be set.
func TestOIDCAuthParamsReserved(t *testing.T) {
	t.Parallel()
	for _, param := range []string{"acr_values", "max_age", "response_mode", "nonce", "redirect_uri"} {
		env := merge(oidcEnvVars(), map[string]string{"APPIDGATE_AUTH_PARAMS": param + "=x"})
		if _, err := ConfigFromLookup(lookupFrom(env)); err == nil ||
			!strings.Contains(err.Error(), param) {
			t.Errorf("APPIDGATE_AUTH_PARAMS=%s=x: %v, want a problem naming it", param, err)
		}
	}
}
