package localappid_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/localappid"
)

// attrRequest calls the profiles API with a bearer token ("" for none).
func attrRequest(t testing.TB, f *fixture, method, path, token, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL()+"/api/v1/attributes"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return do(t, http.DefaultClient, req)
}

// passwordTokens signs a user in with the password grant.
func passwordTokens(t testing.TB, f *fixture, username string) tokens {
	t.Helper()
	res := postForm(t, http.DefaultClient, f.iss+"/token", url.Values{"grant_type": {"password"}, "username": {username}, "password": {username}},
		localappid.DemoClientID, localappid.DemoClientSecret)
	if res.status != 200 {
		t.Fatalf("password grant for %s: %d %s", username, res.status, res.body)
	}
	return decodeTokens(t, res)
}

// TestAttributes walks the profiles API as IBM's UserProfileManager does, from the seeded attributes through
// set, read, list and delete, and its refusals.
func TestAttributes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *localappid.Config) {
		c.Users[0].Attributes = map[string]any{"colour": "blue", "points": 3}
	})
	alice := passwordTokens(t, f, "alice").AccessToken
	bob := passwordTokens(t, f, "bob").AccessToken
	app := decodeTokens(t, postForm(t, http.DefaultClient, f.iss+"/token", url.Values{"grant_type": {"client_credentials"}},
		localappid.DemoClientID, localappid.DemoClientSecret)).AccessToken
	steps := []struct {
		name, method, path, token, body string
		wantStatus                      int
		wantBody                        string
	}{
		{"seeded, listed", "GET", "", alice, "", 200, `{"colour":"blue","points":3}`},
		{"seeded, one", "GET", "/points", alice, "", 200, `3`},
		{"set plain text, as the SDK sends it", "PUT", "/nickname", alice, "Al", 200, `"Al"`},
		{"read it back", "GET", "/nickname", alice, "", 200, `"Al"`},
		{"set a JSON value", "PUT", "/prefs", alice, `{"dark": true}`, 200, `{"dark":true}`},
		{"another user sees none of them", "GET", "", bob, "", 200, `{}`},
		{"delete", "DELETE", "/colour", alice, "", 204, ``},
		{"deleted is gone", "GET", "/colour", alice, "", 404, `"error":"not_found"`},
		{"delete again", "DELETE", "/colour", alice, "", 404, `"error":"not_found"`},
		{"list after the changes", "GET", "", alice, "", 200, `{"nickname":"Al","points":3,"prefs":{"dark":true}}`},
		{"no token", "GET", "", "", "", 401, `"error":"invalid_request"`},
		{"bad token", "GET", "", "not-a-token", "", 401, `"error":"invalid_token"`},
		{"application token lacks the scopes", "PUT", "/x", app, "1", 403, `"error":"insufficient_scope"`},
		{"bad name", "GET", "/bad%20name", alice, "", 400, `"error":"invalid_request"`},
		{"too large", "PUT", "/big", alice, strings.Repeat("a", localappid.MaxAttributeBytes+1), 413, `"error":"invalid_request"`},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			res := attrRequest(t, f, s.method, s.path, s.token, s.body)
			if res.status != s.wantStatus || !strings.Contains(strings.TrimSpace(res.body), s.wantBody) {
				t.Fatalf("%s %s: %d %s, want %d %s", s.method, s.path, res.status, res.body, s.wantStatus, s.wantBody)
			}
		})
	}
	t.Run("at most MaxAttributes", func(t *testing.T) {
		carol := passwordTokens(t, f, "carol").AccessToken
		for i := range localappid.MaxAttributes {
			if res := attrRequest(t, f, "PUT", fmt.Sprintf("/a%d", i), carol, "1"); res.status != 200 {
				t.Fatalf("attribute %d: %d %s", i, res.status, res.body)
			}
		}
		if res := attrRequest(t, f, "PUT", "/one-more", carol, "1"); res.status != 400 {
			t.Fatalf("attribute past the limit: %d %s, want 400", res.status, res.body)
		}
		if res := attrRequest(t, f, "PUT", "/a0", carol, "2"); res.status != 200 {
			t.Fatalf("replacing one at the limit: %d %s, want 200", res.status, res.body)
		}
	})
}

// TestProgressiveAuthenticationMovesAttributes: the anonymous user's attributes move to the signed-in user, whose
// own values win.
func TestProgressiveAuthenticationMovesAttributes(t *testing.T) {
	f := newFixture(t, func(c *localappid.Config) { c.Users[0].Attributes = map[string]any{"colour": "blue"} })
	anon := anonymousTokens(t, f, "").AccessToken
	for _, kv := range [][2]string{{"cart", `["apple"]`}, {"colour", `"red"`}} {
		if res := attrRequest(t, f, "PUT", "/"+kv[0], anon, kv[1]); res.status != 200 {
			t.Fatalf("anonymous PUT %s: %d %s", kv[0], res.status, res.body)
		}
	}
	form := url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"alice"}, "appid_access_token": {anon}}
	alice := decodeTokens(t, postForm(t, http.DefaultClient, f.iss+"/token", form, localappid.DemoClientID, localappid.DemoClientSecret)).AccessToken
	if res := attrRequest(t, f, "GET", "", alice, ""); res.status != 200 || strings.TrimSpace(res.body) != `{"cart":["apple"],"colour":"blue"}` {
		t.Fatalf("alice's attributes after linking: %d %s", res.status, res.body)
	}
}

// TestActivityLogging: the logout event IBM's WebAppStrategy.logout posts is taken with a valid access token only.
func TestActivityLogging(t *testing.T) {
	f := newFixture(t)
	alice := passwordTokens(t, f, "alice")
	for _, tc := range []struct {
		name, token, body string
		want              int
	}{
		{"logout event", alice.AccessToken, `{"eventName":"logout","id_token":"` + alice.IDToken + `"}`, 204},
		{"no token", "", `{"eventName":"logout"}`, 401},
		{"bad token", "x", `{"eventName":"logout"}`, 401},
		{"no event", alice.AccessToken, `{}`, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", f.iss+"/activity_logging", strings.NewReader(tc.body))
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			if res := do(t, http.DefaultClient, req); res.status != tc.want {
				t.Fatalf("%d %s, want %d", res.status, res.body, tc.want)
			}
		})
	}
}
