package localappid_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/appidgate/appidgate/localappid"
)

// TestCodeFlow drives what a relying party and a browser do: login through the form, code exchange, go-oidc
// verification against the discovery, userinfo, refresh rotation, introspection, revocation, SSO and logout.
func TestCodeFlow(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := browser(t)
	verifier, challenge := pkce()

	loc := login(t, f, c, authParams(appRedirect, challenge), "alice", "alice")
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != appRedirect {
		t.Fatalf("redirected to %s, want %s", got, appRedirect)
	}
	q := loc.Query()
	if q.Get("state") != "st-123" || q.Has("iss") || q.Get("code") == "" {
		t.Fatalf("redirect query = %v, want code, state st-123 and no iss (App ID sends none)", q)
	}

	tk := decodeTokens(t, exchange(t, f, q.Get("code"), verifier))
	if tk.TokenType != "Bearer" || tk.ExpiresIn != 3600 || tk.AccessToken == "" || tk.IDToken == "" || tk.RefreshToken == "" {
		t.Fatalf("token response = %+v", tk)
	}

	provider, err := oidc.NewProvider(ctx, f.iss)
	if err != nil {
		t.Fatalf("oidc.NewProvider: %v", err)
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: localappid.DemoClientID, Now: f.clock.Now}).Verify(ctx, tk.IDToken)
	if err != nil {
		t.Fatalf("id_token does not verify: %v", err)
	}
	var idc struct {
		Email      string `json:"email"`
		Name       string `json:"name"`
		Identities []struct {
			Provider string `json:"provider"`
		} `json:"identities"`
	}
	if err := idt.Claims(&idc); err != nil {
		t.Fatal(err)
	}
	if idt.Subject != localappid.AliceID || idt.Nonce != "n-456" || idc.Email != "alice@example.com" || idc.Name != "Alice" ||
		len(idc.Identities) != 1 || idc.Identities[0].Provider != "cloud_directory" {
		t.Fatalf("id token: sub %q nonce %q claims %+v", idt.Subject, idt.Nonce, idc)
	}
	// The access token verifies the same way (aud is the client id).
	if _, err := provider.Verifier(&oidc.Config{ClientID: localappid.DemoClientID, Now: f.clock.Now}).Verify(ctx, tk.AccessToken); err != nil {
		t.Fatalf("access token does not verify: %v", err)
	}

	// userinfo, with the same sub as the id token.
	ui, err := provider.UserInfo(ctx, oauth2StaticToken(tk.AccessToken))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if ui.Subject != idt.Subject || ui.Email != "alice@example.com" {
		t.Fatalf("userinfo = %+v", ui)
	}

	// Refresh: rotates; the spent token, presented after the reuse grace, is refused and takes its successor with it.
	refresh := func(rt string) response {
		return postForm(t, http.DefaultClient, f.iss+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}},
			localappid.DemoClientID, localappid.DemoClientSecret)
	}
	r1 := refresh(tk.RefreshToken)
	tk2 := decodeTokens(t, r1)
	if r1.status != http.StatusOK || tk2.RefreshToken == "" || tk2.RefreshToken == tk.RefreshToken || tk2.IDToken == "" {
		t.Fatalf("refresh: %d %s", r1.status, r1.body)
	}
	f.clock.Advance(localappid.DefaultRefreshTokenReuseGrace + time.Second)
	if r := refresh(tk.RefreshToken); r.status != http.StatusBadRequest || decodeTokens(t, r).Error != "invalid_grant" {
		t.Fatalf("reused refresh token: %d %s, want 400 invalid_grant", r.status, r.body)
	}
	if r := refresh(tk2.RefreshToken); r.status != http.StatusBadRequest {
		t.Fatalf("successor of a reused refresh token: %d %s, want 400 (family revoked)", r.status, r.body)
	}

	// Introspection, then revocation of the access token.
	introspect := func(token string) bool {
		r := postForm(t, http.DefaultClient, f.iss+"/introspect", url.Values{"token": {token}}, localappid.DemoClientID, localappid.DemoClientSecret)
		if r.status != http.StatusOK {
			t.Fatalf("introspect: %d %s", r.status, r.body)
		}
		var v struct{ Active bool }
		json.Unmarshal([]byte(r.body), &v)
		return v.Active
	}
	if !introspect(tk2.AccessToken) {
		t.Fatal("introspect: fresh access token is not active")
	}
	if introspect(tk.RefreshToken) {
		t.Fatal("introspect: revoked refresh token is active")
	}
	if r := postForm(t, http.DefaultClient, f.iss+"/revoke", url.Values{"token": {tk2.AccessToken}}, localappid.DemoClientID, localappid.DemoClientSecret); r.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if introspect(tk2.AccessToken) {
		t.Fatal("introspect: revoked access token is active")
	}
	if _, err := provider.UserInfo(ctx, oauth2StaticToken(tk2.AccessToken)); err == nil {
		t.Fatal("userinfo accepted a revoked access token")
	}

	// SSO: the same browser is not asked again, unless prompt=login.
	again := get(t, c, f.iss+"/authorization?"+authParams(appRedirect, "").Encode())
	if again.status != http.StatusFound || !strings.Contains(again.header.Get("Location"), "code=") {
		t.Fatalf("second authorization: %d, Location %q; want 302 with a code", again.status, again.header.Get("Location"))
	}
	p := authParams(appRedirect, "")
	p.Set("prompt", "login")
	if r := get(t, c, f.iss+"/authorization?"+p.Encode()); r.status != http.StatusOK || !strings.Contains(r.body, `name="password"`) {
		t.Fatalf("prompt=login: %d, want the login form", r.status)
	}

	// Logout ends the session and redirects back; the next authorization shows the form again.
	out := get(t, c, f.iss+"/cloud_directory/sso/logout?"+url.Values{"redirect_uri": {"http://127.0.0.1:5055/noauth_route"}, "client_id": {localappid.DemoClientID}}.Encode())
	if out.status != http.StatusFound || out.header.Get("Location") != "http://127.0.0.1:5055/noauth_route" {
		t.Fatalf("logout: %d Location %q", out.status, out.header.Get("Location"))
	}
	if r := get(t, c, f.iss+"/authorization?"+authParams(appRedirect, "").Encode()); r.status != http.StatusOK {
		t.Fatalf("authorization after logout: %d, want 200 (form)", r.status)
	}
}

// TestTokenClaims checks the App ID token shapes and that role scopes follow the user's roles.
func TestTokenClaims(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		user       string
		wantScopes []string
		notScopes  []string
	}{
		{"alice", []string{"openid", "appid_default", "appidgate-demo/view"}, []string{"appidgate-demo/admin"}},
		{"bob", []string{"openid", "appid_default"}, []string{"appidgate-demo/view"}},
		{"carol", []string{"appidgate-demo/view", "appidgate-demo/admin"}, nil},
	} {
		t.Run(tc.user, func(t *testing.T) {
			code, verifier := codeFor(t, f, tc.user)
			tk := decodeTokens(t, exchange(t, f, code, verifier))
			for _, tok := range []string{tk.AccessToken, tk.IDToken} {
				h := jwtPart(t, tok, 0)
				if h["alg"] != "RS256" || h["typ"] != "JWT" || h["ver"] != float64(4) || h["kid"] != f.p.CurrentKeyID() {
					t.Errorf("header = %v, want alg RS256, typ JWT, ver 4, kid %s", h, f.p.CurrentKeyID())
				}
			}
			at := jwtPart(t, tk.AccessToken, 1)
			for _, k := range []string{"iss", "exp", "aud", "sub", "email_verified", "amr", "iat", "tenant", "scope"} {
				if _, ok := at[k]; !ok {
					t.Errorf("access token lacks %s: %v", k, at)
				}
			}
			if aud, ok := at["aud"].([]any); !ok || len(aud) != 1 || aud[0] != localappid.DemoClientID {
				t.Errorf("aud = %v, want [%s]", at["aud"], localappid.DemoClientID)
			}
			if at["tenant"] != localappid.DefaultTenant {
				t.Errorf("tenant = %v", at["tenant"])
			}
			scopes := strings.Fields(at["scope"].(string))
			for _, s := range tc.wantScopes {
				if !slices.Contains(scopes, s) {
					t.Errorf("scope %q lacks %s", at["scope"], s)
				}
			}
			for _, s := range tc.notScopes {
				if slices.Contains(scopes, s) {
					t.Errorf("scope %q has %s", at["scope"], s)
				}
			}
			id := jwtPart(t, tk.IDToken, 1)
			for _, k := range []string{"email", "name", "nonce", "identities", "sub", "aud", "iss", "exp", "iat", "tenant", "amr"} {
				if _, ok := id[k]; !ok {
					t.Errorf("id token lacks %s: %v", k, id)
				}
			}
		})
	}
}

// TestClientCredentials issues an application token with the client as subject and no id or refresh token.
func TestClientCredentials(t *testing.T) {
	f := newFixture(t)
	r := postForm(t, http.DefaultClient, f.iss+"/token", url.Values{"grant_type": {"client_credentials"}}, machineClientID, machineSecret)
	tk := decodeTokens(t, r)
	if r.status != http.StatusOK || tk.AccessToken == "" || tk.IDToken != "" || tk.RefreshToken != "" {
		t.Fatalf("client_credentials: %d %s", r.status, r.body)
	}
	if sub := jwtPart(t, tk.AccessToken, 1)["sub"]; sub != machineClientID {
		t.Fatalf("sub = %v, want %s", sub, machineClientID)
	}
}
