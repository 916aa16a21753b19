package localappid_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/appidgate/appidgate/localappid"
)

// anonymousLoginRedirect runs /authorization with idp=appid_anon and returns where it redirects.
func anonymousLoginRedirect(t testing.TB, f *fixture) url.Values {
	t.Helper()
	params := authParams(appRedirect, "")
	params.Set("idp", "appid_anon")
	res := get(t, browser(t), f.iss+"/authorization?"+params.Encode())
	loc, err := url.Parse(res.header.Get("Location"))
	if res.status != http.StatusFound || err != nil {
		t.Fatalf("anonymous /authorization: %d %s", res.status, res.body)
	}
	return loc.Query()
}

// TestAnonymousUsersCapped: anonymous users stop at MaxAnonymousUsers with a clear temporarily_unavailable, apart
// from StoreLimit: a Cloud Directory sign-up still succeeds while they are at their cap.
func TestAnonymousUsersCapped(t *testing.T) {
	f := newFixture(t, func(c *localappid.Config) { c.MaxAnonymousUsers = 3; c.StoreLimit = 3 })
	for range 3 {
		anonymousTokens(t, f, "")
	}
	res := mgmt(t, f, "POST", "/cloud_directory/sign_up", iamToken(t, f),
		`{"emails":[{"value":"erin@example.com","primary":true}],"password":"erin-pw","displayName":"Erin"}`)
	if res.status != http.StatusCreated {
		t.Fatalf("sign-up with anonymous users at their cap: %d %s, want 201", res.status, res.body)
	}
	q := anonymousLoginRedirect(t, f)
	if q.Get("error") != "temporarily_unavailable" || !strings.Contains(q.Get("error_description"), "max_anonymous_users, 3") {
		t.Fatalf("anonymous login past the cap: %v, want temporarily_unavailable naming max_anonymous_users", q)
	}
}

// TestAnonymousUsersExpire: an anonymous user is removed AnonymousTokenTTL after its last token, which frees its
// place; a user given a token since lives on.
func TestAnonymousUsersExpire(t *testing.T) {
	f := newFixture(t, func(c *localappid.Config) { c.MaxAnonymousUsers = 3; c.AnonymousTokenTTL = time.Hour })
	kept := anonymousTokens(t, f, "")
	anonymousTokens(t, f, "")
	gone := anonymousTokens(t, f, "")
	if q := anonymousLoginRedirect(t, f); q.Get("error") != "temporarily_unavailable" {
		t.Fatalf("fourth anonymous login: %v, want temporarily_unavailable", q)
	}
	f.clock.Advance(50 * time.Minute)
	renewed := anonymousTokens(t, f, kept.AccessToken) // a new token: the user lives another hour
	f.clock.Advance(20 * time.Minute)
	if q := anonymousLoginRedirect(t, f); q.Get("code") == "" {
		t.Fatalf("anonymous login after the others expired: %v, want a code", q)
	}
	if res := attrRequest(t, f, "GET", "", renewed.AccessToken, ""); res.status != http.StatusOK {
		t.Fatalf("the renewed anonymous user: %d %s, want 200", res.status, res.body)
	}
	if sub := jwtPart(t, anonymousTokens(t, f, renewed.AccessToken).AccessToken, 1)["sub"]; sub != jwtPart(t, kept.AccessToken, 1)["sub"] {
		t.Fatalf("the renewed anonymous user became %v", sub)
	}
	// The expired user's refresh token finds no user.
	res := postForm(t, http.DefaultClient, f.iss+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {gone.RefreshToken}},
		localappid.DemoClientID, localappid.DemoClientSecret)
	if gone.RefreshToken != "" && res.status == http.StatusOK {
		t.Fatalf("refresh of an expired anonymous user: %d %s, want a refusal", res.status, res.body)
	}
}

// TestAttributeBudget: all users' attributes together stay within AttributeBudget; a PUT past it gets 507 naming
// the setting, and deleting an attribute frees its bytes.
func TestAttributeBudget(t *testing.T) {
	f := newFixture(t, func(c *localappid.Config) { c.AttributeBudget = 100 })
	alice := passwordTokens(t, f, "alice").AccessToken
	carol := passwordTokens(t, f, "carol").AccessToken
	value := `"` + strings.Repeat("x", 38) + `"` // 40 bytes, with a 2-byte name 42
	for _, step := range []struct {
		name, method, path, token string
		want                      int
	}{
		{"alice's first", "PUT", "/a1", alice, 200},
		{"carol's first", "PUT", "/c1", carol, 200},
		{"past the budget, another user", "PUT", "/c2", carol, 507},
		{"past the budget, same user", "PUT", "/a2", alice, 507},
		{"rewriting in place fits", "PUT", "/a1", alice, 200},
		{"delete frees", "DELETE", "/a1", alice, 204},
		{"fits again", "PUT", "/c2", carol, 200},
	} {
		body := ""
		if step.method == "PUT" {
			body = value
		}
		res := attrRequest(t, f, step.method, step.path, step.token, body)
		if res.status != step.want {
			t.Fatalf("%s: %s %s: %d %s, want %d", step.name, step.method, step.path, res.status, res.body, step.want)
		}
		if step.want == 507 && !strings.Contains(res.body, fmt.Sprintf("attribute_budget_bytes, %d bytes", 100)) {
			t.Fatalf("%s: refusal %s does not name attribute_budget_bytes", step.name, res.body)
		}
	}
}
