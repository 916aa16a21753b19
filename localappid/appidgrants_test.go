package localappid_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/appidgate/appidgate/localappid"
)

// customKey is the custom identity signing key of the tests; its public half is registered by withCustomIdentity.
var customKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// publicPEM encodes an RSA public key as a PEM "PUBLIC KEY".
func publicPEM(t testing.TB, k *rsa.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func withCustomIdentity(t testing.TB) func(*localappid.Config) {
	return func(c *localappid.Config) {
		c.CustomIdentity.PublicKeys = []string{publicPEM(t, &customKey().PublicKey)}
	}
}

// assertion signs custom identity claims with key.
func assertion(t testing.TB, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestDiscoveryGrantTypes: discovery lists App ID's five grant types, in App ID's order.
func TestDiscoveryGrantTypes(t *testing.T) {
	f := newFixture(t)
	var d struct {
		GrantTypes []string `json:"grant_types_supported"`
	}
	if err := json.Unmarshal([]byte(get(t, http.DefaultClient, f.iss+"/.well-known/openid-configuration").body), &d); err != nil {
		t.Fatal(err)
	}
	want := []string{"authorization_code", "password", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:jwt-bearer"}
	if !slices.Equal(d.GrantTypes, want) {
		t.Fatalf("grant_types_supported = %v, want %v", d.GrantTypes, want)
	}
}

// TestAppIDDefaultScope: the SDK's scope appid_default, without openid, is a normal login with an id token.
func TestAppIDDefaultScope(t *testing.T) {
	f := newFixture(t)
	params := authParams(appRedirect, "")
	params.Set("scope", "appid_default")
	loc := login(t, f, browser(t), params, "alice", "alice")
	tk := decodeTokens(t, exchange(t, f, loc.Query().Get("code"), ""))
	if tk.IDToken == "" || tk.AccessToken == "" {
		t.Fatalf("tokens %+v: want access and id token", tk)
	}
	if got := jwtPart(t, tk.IDToken, 1)["sub"]; got != localappid.AliceID {
		t.Fatalf("id token sub %v, want alice", got)
	}
}

// TestPasswordGrant: Cloud Directory users sign in with username or email and password.
func TestPasswordGrant(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name, username, password string
		wantStatus               int
		wantError                string
	}{
		{"username", "alice", "alice", 200, ""},
		{"email, any case", "Alice@Example.com", "alice", 200, ""},
		{"wrong password", "alice", "bob", 400, "invalid_grant"},
		{"unknown user", "mallory", "x", 400, "invalid_grant"},
		{"no password", "alice", "", 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"grant_type": {"password"}, "username": {tc.username}, "password": {tc.password}}
			res := postForm(t, http.DefaultClient, f.iss+"/token", form, localappid.DemoClientID, localappid.DemoClientSecret)
			tk := decodeTokens(t, res)
			if res.status != tc.wantStatus || tk.Error != tc.wantError {
				t.Fatalf("status %d error %q, want %d %q: %s", res.status, tk.Error, tc.wantStatus, tc.wantError, res.body)
			}
			if tc.wantStatus != 200 {
				return
			}
			if tk.IDToken == "" || tk.RefreshToken == "" {
				t.Fatalf("want id and refresh token: %s", res.body)
			}
			if sub := jwtPart(t, tk.AccessToken, 1)["sub"]; sub != localappid.AliceID {
				t.Fatalf("sub %v, want alice", sub)
			}
			if amr := jwtPart(t, tk.IDToken, 1)["amr"]; !slices.Equal(anyStrings(amr), []string{"cloud_directory"}) {
				t.Fatalf("amr %v", amr)
			}
		})
	}
}

func anyStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// TestCustomIdentityGrant: an RS256 assertion signed with the registered key signs the user in (created on the
// first sign-in, found by sub afterwards); bad signatures, audiences, expiries and missing claims are refused.
func TestCustomIdentityGrant(t *testing.T) {
	f := newFixture(t, withCustomIdentity(t))
	now := f.clock.Now()
	valid := func(change map[string]any) map[string]any {
		c := map[string]any{"iss": "my-idp.example", "sub": "user-17", "aud": f.iss, "exp": now.Add(5 * time.Minute).Unix(),
			"name": "Seventeen", "email": "seventeen@example.com"}
		for k, v := range change {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var firstSub string
	for _, tc := range []struct {
		name      string
		assertion string
		want      string // error; "" for success
	}{
		{"valid", assertion(t, customKey(), valid(nil)), ""},
		{"valid again, same user", assertion(t, customKey(), valid(map[string]any{"exp": now.Add(time.Minute).Unix()})), ""},
		{"audience as array", assertion(t, customKey(), valid(map[string]any{"aud": []string{f.iss}})), ""},
		{"another key", assertion(t, otherKey, valid(nil)), "invalid_grant"},
		{"wrong audience", assertion(t, customKey(), valid(map[string]any{"aud": "https://elsewhere.example"})), "invalid_grant"},
		{"expired", assertion(t, customKey(), valid(map[string]any{"exp": now.Add(-5 * time.Minute).Unix()})), "invalid_grant"},
		{"no exp", assertion(t, customKey(), valid(map[string]any{"exp": nil})), "invalid_grant"},
		{"no sub", assertion(t, customKey(), valid(map[string]any{"sub": nil})), "invalid_grant"},
		{"no iss", assertion(t, customKey(), valid(map[string]any{"iss": nil})), "invalid_grant"},
		{"not a JWT", "not.a.jwt", "invalid_grant"},
		{"missing", "", "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {tc.assertion}}
			res := postForm(t, http.DefaultClient, f.iss+"/token", form, localappid.DemoClientID, localappid.DemoClientSecret)
			tk := decodeTokens(t, res)
			if tc.want != "" {
				if res.status != 400 || tk.Error != tc.want {
					t.Fatalf("status %d error %q, want 400 %s: %s", res.status, tk.Error, tc.want, res.body)
				}
				return
			}
			if res.status != 200 || tk.IDToken == "" {
				t.Fatalf("status %d, want 200 with an id token: %s", res.status, res.body)
			}
			id := jwtPart(t, tk.IDToken, 1)
			ids, _ := id["identities"].([]any)
			first, _ := ids[0].(map[string]any)
			if first["provider"] != "appid_custom" || first["id"] != "user-17" || id["name"] != "Seventeen" ||
				!slices.Equal(anyStrings(id["amr"]), []string{"appid_custom"}) {
				t.Fatalf("id token claims %v", id)
			}
			sub, _ := id["sub"].(string)
			if firstSub == "" {
				firstSub = sub
			} else if sub != firstSub {
				t.Fatalf("sub %s, want the first sign-in's %s", sub, firstSub)
			}
		})
	}
}

// TestCustomIdentityNotConfigured: without a registered key the grant is refused.
func TestCustomIdentityNotConfigured(t *testing.T) {
	f := newFixture(t)
	a := assertion(t, customKey(), map[string]any{"iss": "x", "sub": "y", "aud": f.iss, "exp": f.clock.Now().Add(time.Minute).Unix()})
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {a}}
	res := postForm(t, http.DefaultClient, f.iss+"/token", form, localappid.DemoClientID, localappid.DemoClientSecret)
	if tk := decodeTokens(t, res); res.status != 400 || tk.Error != "invalid_grant" {
		t.Fatalf("status %d %s, want 400 invalid_grant", res.status, res.body)
	}
}

// TestCustomIdentityAssertionOneTime: an assertion is short-lived and single-use: an exp more than 10 minutes
// ahead is refused, and so is an assertion presented again, by its jti or (without one) as the same token, while
// it is unexpired.
func TestCustomIdentityAssertionOneTime(t *testing.T) {
	f := newFixture(t, withCustomIdentity(t))
	now := f.clock.Now()
	claims := func(exp time.Duration, jti string) map[string]any {
		c := map[string]any{"iss": "my-idp.example", "sub": "user-17", "aud": f.iss, "exp": now.Add(exp).Unix()}
		if jti != "" {
			c["jti"] = jti
		}
		return c
	}
	noJTI := assertion(t, customKey(), claims(5*time.Minute, ""))
	for _, tc := range []struct {
		name      string
		assertion string
		want      string // error and description fragment; "" for success
	}{
		{"exp 10 minutes ahead", assertion(t, customKey(), claims(10*time.Minute, "a")), ""},
		{"exp an hour ahead", assertion(t, customKey(), claims(time.Hour, "b")), "more than 10m0s ahead"},
		{"exp a year ahead", assertion(t, customKey(), claims(365*24*time.Hour, "c")), "more than 10m0s ahead"},
		{"first use of a jti", assertion(t, customKey(), claims(5*time.Minute, "d")), ""},
		{"same jti, another assertion", assertion(t, customKey(), claims(6*time.Minute, "d")), "already used"},
		{"no jti, first use", noJTI, ""},
		{"no jti, the same assertion again", noJTI, "already used"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {tc.assertion}}
			res := postForm(t, http.DefaultClient, f.iss+"/token", form, localappid.DemoClientID, localappid.DemoClientSecret)
			if tc.want == "" {
				if res.status != http.StatusOK {
					t.Fatalf("status %d, want 200: %s", res.status, res.body)
				}
				return
			}
			if tk := decodeTokens(t, res); res.status != http.StatusBadRequest || tk.Error != "invalid_grant" || !strings.Contains(res.body, tc.want) {
				t.Fatalf("status %d %s, want 400 invalid_grant saying %q", res.status, res.body, tc.want)
			}
		})
	}
	if n := f.p.StoreSizesForTest()["assertions"]; n != 3 {
		t.Fatalf("%d used assertions remembered, want 3", n)
	}
}
