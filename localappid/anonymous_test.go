package localappid_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appidgate/appidgate/localappid"
)

// anonymousTokens runs /authorization with idp=appid_anon (and appid_access_token when given) and redeems the code.
func anonymousTokens(t testing.TB, f *fixture, anonToken string) tokens {
	t.Helper()
	params := authParams(appRedirect, "")
	params.Set("scope", "appid_default")
	params.Set("idp", "appid_anon")
	if anonToken != "" {
		params.Set("appid_access_token", anonToken)
	}
	res := get(t, browser(t), f.iss+"/authorization?"+params.Encode())
	if res.status != http.StatusFound {
		t.Fatalf("anonymous /authorization: status %d, want 302: %s", res.status, res.body)
	}
	loc, _ := url.Parse(res.header.Get("Location"))
	tk := decodeTokens(t, exchange(t, f, loc.Query().Get("code"), ""))
	if tk.AccessToken == "" || tk.IDToken == "" {
		t.Fatalf("anonymous tokens: %+v", tk)
	}
	return tk
}

// TestAnonymousLogin: idp=appid_anon issues anonymous tokens at once, with amr appid_anon and the anonymous
// lifetime; the same anonymous token asks for the same user again.
func TestAnonymousLogin(t *testing.T) {
	f := newFixture(t, func(c *localappid.Config) { c.AnonymousTokenTTL = 48 * time.Hour })
	tk := anonymousTokens(t, f, "")
	at := jwtPart(t, tk.AccessToken, 1)
	if !slices.Equal(anyStrings(at["amr"]), []string{"appid_anon"}) {
		t.Fatalf("amr %v, want [appid_anon]", at["amr"])
	}
	exp, _ := at["exp"].(float64)
	if want := f.clock.Now().Add(48 * time.Hour).Unix(); int64(exp) != want || tk.ExpiresIn != 48*3600 {
		t.Fatalf("exp %v expires_in %d, want %d and %d", exp, tk.ExpiresIn, want, 48*3600)
	}
	again := anonymousTokens(t, f, tk.AccessToken)
	if a, b := jwtPart(t, again.AccessToken, 1)["sub"], at["sub"]; a != b {
		t.Fatalf("second anonymous login sub %v, want the same user %v", a, b)
	}
	if other := anonymousTokens(t, f, ""); jwtPart(t, other.AccessToken, 1)["sub"] == at["sub"] {
		t.Fatal("a new anonymous login got an existing anonymous user")
	}
}

// TestProgressiveAuthentication: an anonymous user's access token sent as appid_access_token at sign-in (the form
// or the password grant) links the anonymous profile to the user: afterwards the anonymous token no longer
// names a user, and a token of a signed-in user is refused as appid_access_token.
func TestProgressiveAuthentication(t *testing.T) {
	f := newFixture(t)
	t.Run("sign-in form", func(t *testing.T) {
		anon := anonymousTokens(t, f, "")
		params := authParams(appRedirect, "")
		params.Set("appid_access_token", anon.AccessToken)
		loc := login(t, f, browser(t), params, "alice", "alice")
		tk := decodeTokens(t, exchange(t, f, loc.Query().Get("code"), ""))
		if sub := jwtPart(t, tk.AccessToken, 1)["sub"]; sub != localappid.AliceID {
			t.Fatalf("sub %v, want alice", sub)
		}
		if res := userinfo(t, f, anon.AccessToken); res.status != http.StatusUnauthorized {
			t.Fatalf("userinfo of the linked anonymous token: %d, want 401", res.status)
		}
	})
	t.Run("password grant", func(t *testing.T) {
		anon := anonymousTokens(t, f, "")
		form := url.Values{"grant_type": {"password"}, "username": {"carol"}, "password": {"carol"}, "appid_access_token": {anon.AccessToken}}
		res := postForm(t, http.DefaultClient, f.iss+"/token", form, localappid.DemoClientID, localappid.DemoClientSecret)
		if res.status != 200 {
			t.Fatalf("status %d: %s", res.status, res.body)
		}
		if res := userinfo(t, f, anon.AccessToken); res.status != http.StatusUnauthorized {
			t.Fatalf("userinfo of the linked anonymous token: %d, want 401", res.status)
		}
	})
	t.Run("not an anonymous token", func(t *testing.T) {
		bob := decodeTokens(t, postForm(t, http.DefaultClient, f.iss+"/token", url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {"bob"}},
			localappid.DemoClientID, localappid.DemoClientSecret))
		form := url.Values{"grant_type": {"password"}, "username": {"carol"}, "password": {"carol"}, "appid_access_token": {bob.AccessToken}}
		res := postForm(t, http.DefaultClient, f.iss+"/token", form, localappid.DemoClientID, localappid.DemoClientSecret)
		if tk := decodeTokens(t, res); res.status != 400 || tk.Error != "invalid_grant" {
			t.Fatalf("status %d %s, want 400 invalid_grant", res.status, res.body)
		}
	})
}

// userinfo calls /userinfo with a bearer token.
func userinfo(t testing.TB, f *fixture, accessToken string) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.iss+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	return do(t, http.DefaultClient, req)
}

// TestRuntimeUsersBounded: users created at run time (custom identities here) stop at StoreLimit; the next
// one is told temporarily_unavailable.
func TestRuntimeUsersBounded(t *testing.T) {
	f := newFixture(t, withCustomIdentity(t), func(c *localappid.Config) { c.StoreLimit = 3 })
	signIn := func(sub string) response {
		a := assertion(t, customKey(), map[string]any{"iss": "my-idp.example", "sub": sub, "aud": f.iss,
			"exp": f.clock.Now().Add(5 * time.Minute).Unix(), "jti": "jti-" + sub})
		return postForm(t, http.DefaultClient, f.iss+"/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {a}},
			localappid.DemoClientID, localappid.DemoClientSecret)
	}
	for _, sub := range []string{"u1", "u2", "u3"} {
		if res := signIn(sub); res.status != http.StatusOK {
			t.Fatalf("custom identity %s: %d %s", sub, res.status, res.body)
		}
	}
	f.clock.Advance(7 * time.Minute) // the used assertions expire; the users stay
	res := signIn("u4")
	if tk := decodeTokens(t, res); res.status != http.StatusServiceUnavailable || tk.Error != "temporarily_unavailable" ||
		!strings.Contains(res.body, "too many users") {
		t.Fatalf("custom identity past the cap: %d %s, want 503 temporarily_unavailable", res.status, res.body)
	}
}

// TestSSONeverLinks: a signed-in browser sent to /authorization with someone's appid_access_token (a cross-site
// link) is not answered from its SSO session: it gets the login form, and the anonymous profile stays apart
// until the user posts that form.
func TestSSONeverLinks(t *testing.T) {
	f := newFixture(t)
	victim := browser(t)
	login(t, f, victim, authParams(appRedirect, ""), "alice", "alice") // the SSO session
	if res := get(t, victim, f.iss+"/authorization?"+authParams(appRedirect, "").Encode()); res.status != http.StatusFound {
		t.Fatalf("SSO without appid_access_token: %d, want 302 with a code", res.status)
	}
	attacker := anonymousTokens(t, f, "")
	params := authParams(appRedirect, "")
	params.Set("appid_access_token", attacker.AccessToken)
	res := get(t, victim, f.iss+"/authorization?"+params.Encode())
	if res.status != http.StatusOK || !strings.Contains(res.body, `name="password"`) {
		t.Fatalf("SSO with appid_access_token: %d %s, want the login form", res.status, res.header.Get("Location"))
	}
	if res := userinfo(t, f, attacker.AccessToken); res.status != http.StatusOK {
		t.Fatalf("the anonymous profile was linked without a login: userinfo %d, want 200", res.status)
	}
	// The user's own post of the form links it.
	form := formFields(t, res.body)
	form.Set("username", "alice")
	form.Set("password", "alice")
	if res := postForm(t, victim, f.iss+"/authorization", form, "", ""); res.status != http.StatusFound {
		t.Fatalf("login form post: %d %s", res.status, res.body)
	}
	if res := userinfo(t, f, attacker.AccessToken); res.status != http.StatusUnauthorized {
		t.Fatalf("after the form post the anonymous token still names a user: %d, want 401", res.status)
	}
}
