package localappid_test

import (
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/localappid"
)

// TestUserCustomClaims: a user's custom claims appear in the id token and the access token, after a login and
// after a refresh, and never replace the claims the provider sets itself.
func TestUserCustomClaims(t *testing.T) {
	custom := map[string]any{
		"groups":         []any{"admins", "staff"},
		"cognito:groups": []any{"ops"},
		"realm_access":   map[string]any{"roles": []any{"realm-admin"}},
		"level":          3,
		"employee":       true,
	}
	f := newFixture(t, func(c *localappid.Config) { c.Users[0].Claims = custom }) // alice
	code, verifier := codeFor(t, f, "alice")
	tk := decodeTokens(t, exchange(t, f, code, verifier))
	refreshed := decodeTokens(t, postForm(t, browser(t), f.iss+"/token",
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.RefreshToken}},
		localappid.DemoClientID, localappid.DemoClientSecret))
	want := map[string]any{ // as JSON decodes them
		"groups": []any{"admins", "staff"}, "cognito:groups": []any{"ops"},
		"realm_access": map[string]any{"roles": []any{"realm-admin"}}, "level": float64(3), "employee": true,
	}
	for name, token := range map[string]string{"id token": tk.IDToken, "access token": tk.AccessToken,
		"refreshed id token": refreshed.IDToken, "refreshed access token": refreshed.AccessToken} {
		claims := jwtPart(t, token, 1)
		for k, v := range want {
			if !reflect.DeepEqual(claims[k], v) {
				t.Errorf("%s: claim %q = %#v, want %#v", name, k, claims[k], v)
			}
		}
		if claims["sub"] != localappid.AliceID || claims["iss"] != f.iss {
			t.Errorf("%s: sub %v, iss %v", name, claims["sub"], claims["iss"])
		}
	}

	// Bob has no custom claims: his tokens carry none.
	code, verifier = codeFor(t, f, "bob")
	bob := decodeTokens(t, exchange(t, f, code, verifier))
	if _, ok := jwtPart(t, bob.IDToken, 1)["groups"]; ok {
		t.Error("bob's id token has alice's groups")
	}
}

func TestUserCustomClaimsValidated(t *testing.T) {
	for _, tc := range []struct {
		name   string
		claims map[string]any
		want   string
	}{
		{"reserved sub", map[string]any{"sub": "someone-else"}, `users[0].claims: "sub" is not a custom claim name`},
		{"reserved scope", map[string]any{"scope": "admin"}, `"scope" is not a custom claim name`},
		{"reserved iss", map[string]any{"iss": "https://evil.example"}, `"iss" is not a custom claim name`},
		{"empty name", map[string]any{"": "x"}, "users[0].claims: a claim without a name"},
		{"not JSON", map[string]any{"odd": map[any]any{1: "x"}}, "users[0].claims.odd: not a JSON value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := localappid.DefaultConfig()
			cfg.SigningKey = testkit.RSAKey()
			cfg.Users[0].Claims = tc.claims
			_, err := localappid.New(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want an error containing %q", err, tc.want)
			}
		})
	}

	path := writeFile(t, "claims.yaml", `users:
  - username: dave
    password: dave
    claims:
      groups: [admins]
      realm_access: {roles: [realm-admin]}
      aud: other-client
`)
	if _, err := localappid.LoadConfig(path); err == nil || !strings.Contains(err.Error(), `users[0].claims: "aud" is not a custom claim name`) {
		t.Errorf("LoadConfig with a reserved claim: %v", err)
	}
}

// TestExampleConfigClaims: the documented example gives dave custom claims, nested ones and names with ":".
func TestExampleConfigClaims(t *testing.T) {
	cfg, err := localappid.LoadConfig("testdata/example-config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"groups": []any{"admins", "staff"}, "realm_access": map[string]any{"roles": []any{"realm-admin"}},
		"cognito:groups": []any{"ops"}}
	if got := cfg.Users[0].Claims; !reflect.DeepEqual(got, want) {
		t.Errorf("dave's claims %#v, want %#v", got, want)
	}
}
