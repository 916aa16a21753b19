package localappid_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/appidgate/appidgate/localappid"
)

// TestDiscovery: by default exactly the fields of App ID's discovery document (no introspection, revocation or
// end-session endpoint, no PKCE or RFC 9207 flags, as App ID lists none); AuthorizationResponseIss adds RFC 9207's
// flag and nothing else.
func TestDiscovery(t *testing.T) {
	appIDFields := []string{
		"issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "subject_types_supported",
		"id_token_signing_alg_values_supported", "userinfo_endpoint", "scopes_supported", "response_types_supported",
		"claims_supported", "grant_types_supported", "profiles_endpoint", "management_endpoint", "service_documentation",
	}
	for _, tc := range []struct {
		name       string
		issParam   bool
		wantFields []string
	}{
		{"App ID's fields by default", false, appIDFields},
		{"with AuthorizationResponseIss", true, append(slices.Clone(appIDFields), "authorization_response_iss_parameter_supported")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(c *localappid.Config) { c.AuthorizationResponseIss = tc.issParam })
			r := get(t, http.DefaultClient, f.iss+"/.well-known/openid-configuration")
			var d map[string]any
			if err := json.Unmarshal([]byte(r.body), &d); err != nil || r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			got := slices.Sorted(maps.Keys(d))
			if want := slices.Sorted(slices.Values(tc.wantFields)); !slices.Equal(got, want) {
				t.Errorf("fields = %v\nwant     %v", got, want)
			}
			want := map[string]any{
				"issuer": f.iss, "authorization_endpoint": f.iss + "/authorization", "token_endpoint": f.iss + "/token",
				"jwks_uri": f.iss + "/publickeys", "userinfo_endpoint": f.iss + "/userinfo",
				"management_endpoint": f.srv.URL() + "/management/v4/local-tenant", "profiles_endpoint": f.srv.URL(),
			}
			if tc.issParam {
				want["authorization_response_iss_parameter_supported"] = true
			}
			for k, v := range want {
				if d[k] != v {
					t.Errorf("%s = %v, want %v", k, d[k], v)
				}
			}
			if algs, _ := d["id_token_signing_alg_values_supported"].([]any); len(algs) != 1 || algs[0] != "RS256" {
				t.Errorf("algs = %v", d["id_token_signing_alg_values_supported"])
			}
			if claims, _ := json.Marshal(d["claims_supported"]); !strings.Contains(string(claims), `"nonce"`) {
				t.Errorf("claims_supported = %s lacks nonce", claims)
			}
		})
	}
	f := newFixture(t)
	if wrong := get(t, http.DefaultClient, f.srv.URL()+"/oauth/v4/other-tenant/.well-known/openid-configuration"); wrong.status != 404 {
		t.Errorf("other tenant: %d, want 404", wrong.status)
	}
}

// TestAuthorizationResponseIss: like App ID, the authorization response carries no iss parameter by default, on
// success or error; AuthorizationResponseIss adds RFC 9207's iss to both.
func TestAuthorizationResponseIss(t *testing.T) {
	for _, tc := range []struct {
		name     string
		issParam bool
	}{
		{"App ID's response by default", false},
		{"with AuthorizationResponseIss", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(c *localappid.Config) { c.AuthorizationResponseIss = tc.issParam })
			success := login(t, f, browser(t), authParams(appRedirect, ""), "alice", "alice").Query()
			bad := authParams(appRedirect, "")
			bad.Set("response_type", "token")
			r := get(t, browser(t), f.iss+"/authorization?"+bad.Encode())
			loc, _ := url.Parse(r.header.Get("Location"))
			failure := loc.Query()
			if success.Get("code") == "" || failure.Get("error") != "unsupported_response_type" {
				t.Fatalf("success %v, failure %v; want a code and an error", success, failure)
			}
			for what, q := range map[string]url.Values{"success": success, "error": failure} {
				if got, has := q.Get("iss"), q.Has("iss"); has != tc.issParam || (has && got != f.iss) {
					t.Errorf("%s response iss = %q (present %v); want present %v with %s", what, got, has, tc.issParam, f.iss)
				}
			}
		})
	}
}

// TestBaseURLFromHost: without BaseURL, the issuer follows the request's Host.
func TestBaseURLFromHost(t *testing.T) {
	cfg := testConfig(newClock())
	p, err := localappid.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "http://idp.test:5001/oauth/v4/local-tenant/.well-known/openid-configuration", nil)
	p.ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), `"issuer":"http://idp.test:5001/oauth/v4/local-tenant"`) {
		t.Fatalf("discovery = %s", rec.Body)
	}
	if p.OAuthServerURL() != "/oauth/v4/local-tenant" {
		t.Fatalf("OAuthServerURL = %q", p.OAuthServerURL())
	}
}

// TestKeyRotation: tokens signed by an old key keep verifying until it is retired; the JWKS follows.
func TestKeyRotation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	code, v := codeFor(t, f, "alice")
	old := decodeTokens(t, exchange(t, f, code, v))
	oldKid := f.p.CurrentKeyID()

	newKid, err := f.p.RotateKey()
	if err != nil || newKid == oldKid || f.p.CurrentKeyID() != newKid {
		t.Fatalf("RotateKey = %q, %v; current %q, old %q", newKid, err, f.p.CurrentKeyID(), oldKid)
	}
	code, v = codeFor(t, f, "alice")
	fresh := decodeTokens(t, exchange(t, f, code, v))
	if kid := jwtPart(t, fresh.IDToken, 0)["kid"]; kid != newKid {
		t.Fatalf("new token kid = %v, want %s", kid, newKid)
	}
	kids := func() string {
		r := get(t, http.DefaultClient, f.iss+"/publickeys")
		var set struct {
			Keys []struct{ Kid, Kty, Alg, Use string }
		}
		if err := json.Unmarshal([]byte(r.body), &set); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range set.Keys {
			if k.Kty != "RSA" || k.Alg != "RS256" || k.Use != "sig" {
				t.Errorf("key %+v", k)
			}
			out = append(out, k.Kid)
		}
		return strings.Join(out, ",")
	}
	if got := kids(); got != oldKid+","+newKid {
		t.Fatalf("JWKS kids = %s, want both", got)
	}
	provider, err := oidc.NewProvider(ctx, f.iss)
	if err != nil {
		t.Fatal(err)
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: localappid.DemoClientID})
	for _, tok := range []string{old.IDToken, fresh.IDToken} {
		if _, err := verifier.Verify(ctx, tok); err != nil {
			t.Fatalf("verify during rotation: %v", err)
		}
	}

	if err := f.p.RetireKey(newKid); err == nil {
		t.Fatal("RetireKey accepted the current key")
	}
	if err := f.p.RetireKey("nope"); err == nil {
		t.Fatal("RetireKey accepted an unknown kid")
	}
	if err := f.p.RetireKey(oldKid); err != nil {
		t.Fatal(err)
	}
	if got := kids(); got != newKid {
		t.Fatalf("JWKS kids after retiring = %s, want %s", got, newKid)
	}
	req, _ := http.NewRequest("GET", f.iss+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+old.AccessToken)
	if r := do(t, http.DefaultClient, req); r.status != 401 {
		t.Fatalf("userinfo with a token of a retired key: %d, want 401", r.status)
	}
}

// TestUserinfoRefusals: every bad bearer gets 401 with an RFC 6750 challenge.
func TestUserinfoRefusals(t *testing.T) {
	f := newFixture(t)
	code, v := codeFor(t, f, "alice")
	tk := decodeTokens(t, exchange(t, f, code, v))
	cc := decodeTokens(t, postForm(t, http.DefaultClient, f.iss+"/token", url.Values{"grant_type": {"client_credentials"}}, machineClientID, machineSecret))
	other := newFixture(t) // same key, different issuer
	code2, v2 := codeFor(t, other, "alice")
	foreign := decodeTokens(t, exchange(t, other, code2, v2))
	for _, tc := range []struct {
		name, auth string
		advance    time.Duration
	}{
		{"no Authorization", "", 0},
		{"Basic scheme", "Basic YTpi", 0},
		{"garbage token", "Bearer not.a.jwt", 0},
		{"id token as bearer", "Bearer " + tk.IDToken, 0},
		{"client credentials token", "Bearer " + cc.AccessToken, 0},
		{"token of another issuer", "Bearer " + foreign.AccessToken, 0},
		{"alg none", "Bearer " + noneToken(t, tk.AccessToken), 0},
		{"expired", "Bearer " + tk.AccessToken, time.Hour + time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.clock.Advance(tc.advance)
			req, _ := http.NewRequest("GET", f.iss+"/userinfo", nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			r := do(t, http.DefaultClient, req)
			if r.status != 401 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("status %d WWW-Authenticate %q; want 401 Bearer", r.status, r.header.Get("WWW-Authenticate"))
			}
		})
	}
}

// noneToken re-encodes a token's claims under alg none, unsigned.
func noneToken(t *testing.T, token string) string {
	parts := strings.Split(token, ".")
	return "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + "."
}

// TestIntrospectAndRevokeRefusals: both need client authentication and a token; clients only revoke their own.
func TestIntrospectAndRevokeRefusals(t *testing.T) {
	f := newFixture(t)
	code, v := codeFor(t, f, "alice")
	tk := decodeTokens(t, exchange(t, f, code, v))
	demo := [2]string{localappid.DemoClientID, localappid.DemoClientSecret}
	other := [2]string{otherClientID, otherClientSecret}
	for _, tc := range []struct {
		name, endpoint string
		form           url.Values
		basic          [2]string
		wantStatus     int
		wantBody       string
	}{
		{"introspect without client", "/introspect", url.Values{"token": {tk.AccessToken}}, [2]string{}, 401, "invalid_client"},
		{"introspect wrong secret", "/introspect", url.Values{"token": {tk.AccessToken}}, [2]string{localappid.DemoClientID, "x"}, 401, "invalid_client"},
		{"introspect without token", "/introspect", url.Values{}, demo, 400, "invalid_request"},
		{"introspect unknown token", "/introspect", url.Values{"token": {"nope"}}, demo, 200, `{"active":false}`},
		{"introspect other client's refresh token", "/introspect", url.Values{"token": {tk.RefreshToken}}, other, 200, `{"active":false}`},
		{"introspect refresh token", "/introspect", url.Values{"token": {tk.RefreshToken}}, demo, 200, `"active":true`},
		{"revoke without client", "/revoke", url.Values{"token": {tk.RefreshToken}}, [2]string{}, 401, "invalid_client"},
		{"revoke without token", "/revoke", url.Values{}, demo, 400, "invalid_request"},
		{"revoke unknown token", "/revoke", url.Values{"token": {"nope"}}, demo, 200, ""},
		{"revoke other client's refresh token", "/revoke", url.Values{"token": {tk.RefreshToken}}, other, 400, "unauthorized_client"},
		{"revoke other client's access token", "/revoke", url.Values{"token": {tk.AccessToken}}, other, 400, "unauthorized_client"},
		{"revoke refresh token", "/revoke", url.Values{"token": {tk.RefreshToken}}, demo, 200, ""},
		{"refresh token after revocation", "/introspect", url.Values{"token": {tk.RefreshToken}}, demo, 200, `{"active":false}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := postForm(t, http.DefaultClient, f.iss+tc.endpoint, tc.form, tc.basic[0], tc.basic[1])
			if r.status != tc.wantStatus || !strings.Contains(r.body, tc.wantBody) {
				t.Fatalf("status %d body %s; want %d containing %s", r.status, r.body, tc.wantStatus, tc.wantBody)
			}
		})
	}
}

// TestServerClose: Close is graceful and may be called twice.
func TestServerClose(t *testing.T) {
	srv, err := localappid.Listen("127.0.0.1:0", testConfig(newClock()))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") || srv.Provider().OAuthServerURL() != srv.URL()+"/oauth/v4/local-tenant" {
		t.Fatalf("URL %s, OAuthServerURL %s", srv.URL(), srv.Provider().OAuthServerURL())
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(srv.URL() + "/identity/token"); err == nil {
		t.Fatal("server still answers after Close")
	}
	if _, err := localappid.Listen("256.0.0.1:0", testConfig(newClock())); err == nil {
		t.Fatal("Listen on a bad address succeeded")
	}
}
