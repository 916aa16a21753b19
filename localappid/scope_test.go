package localappid_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/appidgate/appidgate/localappid"
)

// presetScopes are App ID's scopes in every user access token.
const presetScopes = "openid appid_default appid_readprofile appid_readuserattr appid_writeuserattr appid_authenticated"

// greedyScope asks for scopes no demo user may grant themselves, beside a role scope alice holds.
const greedyScope = "openid view appidgate-demo/admin appidgate-demo/view other-client/view"

// TestRequestedScopesDoNotGrant: whatever scope a client asks for, every flow's access token holds App ID's preset
// scopes plus the scopes the user's roles grant for this client, and nothing else: bob (no role) gets no role
// scope, alice (role user) gets appidgate-demo/view only.
func TestRequestedScopesDoNotGrant(t *testing.T) {
	f := newFixture(t, withCustomIdentity(t))
	token := func(t *testing.T, form url.Values) tokens {
		t.Helper()
		res := postForm(t, http.DefaultClient, f.iss+"/token", form, localappid.DemoClientID, localappid.DemoClientSecret)
		tk := decodeTokens(t, res)
		if res.status != http.StatusOK {
			t.Fatalf("token: status %d: %s", res.status, res.body)
		}
		return tk
	}
	codeFlow := func(t *testing.T, username string) tokens {
		verifier, challenge := pkce()
		params := authParams(appRedirect, challenge)
		params.Set("scope", greedyScope)
		loc := login(t, f, browser(t), params, username, username)
		return decodeTokens(t, exchange(t, f, loc.Query().Get("code"), verifier))
	}
	aliceWant := presetScopes + " appidgate-demo/view"
	for _, tc := range []struct {
		name string
		get  func(t *testing.T) tokens
		want string
	}{
		{"code flow, bob", func(t *testing.T) tokens { return codeFlow(t, "bob") }, presetScopes},
		{"code flow, alice", func(t *testing.T) tokens { return codeFlow(t, "alice") }, aliceWant},
		{"refresh, bob", func(t *testing.T) tokens {
			rt := codeFlow(t, "bob").RefreshToken
			return token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {greedyScope}})
		}, presetScopes},
		{"password, bob", func(t *testing.T) tokens {
			return token(t, url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {"bob"}, "scope": {greedyScope}})
		}, presetScopes},
		{"password, alice", func(t *testing.T) tokens {
			return token(t, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"alice"}, "scope": {greedyScope}})
		}, aliceWant},
		{"jwt-bearer", func(t *testing.T) tokens {
			a := assertion(t, customKey(), map[string]any{"iss": "my-idp.example", "sub": "scope-user", "aud": f.iss,
				"exp": f.clock.Now().Add(5 * time.Minute).Unix(), "jti": "scope-test-1"})
			return token(t, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {a}, "scope": {greedyScope}})
		}, presetScopes},
		{"anonymous", func(t *testing.T) tokens {
			params := authParams(appRedirect, "")
			params.Set("scope", greedyScope)
			params.Set("idp", "appid_anon")
			res := get(t, browser(t), f.iss+"/authorization?"+params.Encode())
			loc, _ := url.Parse(res.header.Get("Location"))
			return decodeTokens(t, exchange(t, f, loc.Query().Get("code"), ""))
		}, presetScopes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tk := tc.get(t)
			if tk.AccessToken == "" {
				t.Fatalf("no access token: %+v", tk)
			}
			got, _ := jwtPart(t, tk.AccessToken, 1)["scope"].(string)
			if got != tc.want || tk.Scope != tc.want {
				t.Fatalf("access token scope %q, response scope %q, want %q", got, tk.Scope, tc.want)
			}
			if strings.Contains(got, "admin") {
				t.Fatalf("a requested scope was granted: %q", got)
			}
		})
	}
}
