package localappid_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/localappid"
)

// TestAuthorizeRefusals: requests whose client or redirect URI cannot be trusted get an error page and are never
// redirected; other bad requests go back to the registered redirect URI with an OAuth error and state (and no iss,
// as App ID sends none).
func TestAuthorizeRefusals(t *testing.T) {
	f := newFixture(t)
	_, challenge := pkce()
	with := func(changes map[string]string, drop ...string) string {
		v := authParams(appRedirect, challenge)
		for k, val := range changes {
			v.Set(k, val)
		}
		for _, k := range drop {
			v.Del(k)
		}
		return v.Encode()
	}
	for _, tc := range []struct {
		name      string
		query     string
		wantPage  int    // status of an error page (no redirect)
		wantError string // OAuth error in the redirect
	}{
		{"unknown client", with(map[string]string{"client_id": "nobody"}), 400, ""},
		{"missing client", with(nil, "client_id"), 400, ""},
		{"missing redirect_uri", with(nil, "redirect_uri"), 400, ""},
		{"unregistered redirect_uri", with(map[string]string{"redirect_uri": "https://evil.example/afterauth"}), 400, ""},
		{"loopback with another path", with(map[string]string{"redirect_uri": "http://127.0.0.1:9999/other"}), 400, ""},
		{"loopback over https", with(map[string]string{"redirect_uri": "https://127.0.0.1:9999/afterauth"}), 400, ""},
		{"loopback with a query", with(map[string]string{"redirect_uri": "http://127.0.0.1:9999/afterauth?x=1"}), 400, ""},
		{"loopback lookalike host", with(map[string]string{"redirect_uri": "http://localhost.evil.example:5000/afterauth"}), 400, ""},
		{"another client's redirect_uri", with(map[string]string{"redirect_uri": otherRedirect}), 400, ""},
		{"redirect_uri twice", with(nil) + "&redirect_uri=" + url.QueryEscape(otherRedirect), 400, ""},
		{"missing response_type", with(nil, "response_type"), 0, "invalid_request"},
		{"implicit flow", with(map[string]string{"response_type": "token"}), 0, "unsupported_response_type"},
		{"unknown idp", with(map[string]string{"idp": "facebook"}), 0, "invalid_request"},
		{"plain PKCE", with(map[string]string{"code_challenge_method": "plain"}), 0, "invalid_request"},
		{"PKCE method without challenge", with(nil, "code_challenge"), 0, "invalid_request"},
		{"malformed challenge", with(map[string]string{"code_challenge": "short"}), 0, "invalid_request"},
		{"unknown prompt", with(map[string]string{"prompt": "select_account"}), 0, "invalid_request"},
		{"state twice", with(nil) + "&state=again", 0, "invalid_request"},
		{"prompt=none without session", with(map[string]string{"prompt": "none"}), 0, "login_required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, browser(t), f.iss+"/authorization?"+tc.query)
			if tc.wantPage != 0 {
				if r.status != tc.wantPage || r.header.Get("Location") != "" || !strings.Contains(r.header.Get("Content-Type"), "text/html") {
					t.Fatalf("status %d, Location %q, type %q; want an HTML error page %d and no redirect",
						r.status, r.header.Get("Location"), r.header.Get("Content-Type"), tc.wantPage)
				}
				return
			}
			if r.status != http.StatusFound {
				t.Fatalf("status %d, want 302 with error %s; body %s", r.status, tc.wantError, r.body)
			}
			loc, _ := url.Parse(r.header.Get("Location"))
			q := loc.Query()
			if !strings.HasPrefix(loc.String(), appRedirect+"?") || q.Get("error") != tc.wantError || q.Has("iss") || q.Get("code") != "" {
				t.Fatalf("Location %s; want %s with error=%s, no iss and no code", loc, appRedirect, tc.wantError)
			}
			if tc.name != "state twice" && q.Get("state") != "st-123" {
				t.Fatalf("state = %q, want st-123", q.Get("state"))
			}
		})
	}
}

// TestAuthorizeRedirectURIs: the demo client takes its registered URI and any loopback host and port at /afterauth.
func TestAuthorizeRedirectURIs(t *testing.T) {
	f := newFixture(t)
	for _, redirect := range []string{
		"http://localhost:5000/afterauth",
		"http://localhost:61234/afterauth",
		"http://127.0.0.1:40000/afterauth",
		"http://[::1]:40000/afterauth",
		"http://127.0.0.1/afterauth",
	} {
		t.Run(redirect, func(t *testing.T) {
			loc := login(t, f, browser(t), authParams(redirect, ""), "bob", "bob")
			if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirect {
				t.Fatalf("redirected to %s, want %s", got, redirect)
			}
		})
	}
	t.Run("other client, exact URI", func(t *testing.T) {
		v := authParams(otherRedirect, "")
		v.Set("client_id", otherClientID)
		loc := login(t, f, browser(t), v, "bob", "bob")
		if !strings.HasPrefix(loc.String(), otherRedirect+"?") {
			t.Fatalf("redirected to %s", loc)
		}
	})
}

// TestLoginForm: failed logins re-show the form with 401 and the same message whether or not the user exists;
// a post without the CSRF token bound to the browser's cookie is refused; an oversized post is refused.
func TestLoginForm(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	form := func(c *http.Client) url.Values {
		page := get(t, c, f.iss+"/authorization?"+authParams(appRedirect, "").Encode())
		if !strings.Contains(page.body, `name="username"`) || !strings.Contains(page.body, `name="password"`) {
			t.Fatalf("login page lacks username/password fields:\n%s", page.body)
		}
		return formFields(t, page.body)
	}
	for _, tc := range []struct {
		name       string
		prepare    func(c *http.Client) url.Values
		wantStatus int
		wantText   string
	}{
		{"wrong password", func(c *http.Client) url.Values {
			v := form(c)
			v.Set("username", "alice")
			v.Set("password", "bob")
			return v
		}, http.StatusUnauthorized, "Wrong username or password."},
		{"unknown user", func(c *http.Client) url.Values {
			v := form(c)
			v.Set("username", "mallory")
			v.Set("password", "mallory")
			return v
		}, http.StatusUnauthorized, "Wrong username or password."},
		{"no csrf token", func(c *http.Client) url.Values {
			v := form(c)
			v.Del("csrf_token")
			v.Set("username", "alice")
			v.Set("password", "alice")
			return v
		}, http.StatusForbidden, "expired"},
		{"csrf token of another browser", func(c *http.Client) url.Values {
			v := form(browser(t)) // token bound to a different cookie
			form(c)
			v.Set("username", "alice")
			v.Set("password", "alice")
			return v
		}, http.StatusForbidden, "expired"},
		{"tampered redirect_uri", func(c *http.Client) url.Values {
			v := form(c)
			v.Set("redirect_uri", "https://evil.example/afterauth")
			v.Set("username", "alice")
			v.Set("password", "alice")
			return v
		}, http.StatusBadRequest, "not registered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := browser(t)
			r := postForm(t, c, f.iss+"/authorization", tc.prepare(c), "", "")
			if r.status != tc.wantStatus || !strings.Contains(r.body, tc.wantText) || r.header.Get("Location") != "" {
				t.Fatalf("status %d (want %d), Location %q, body lacks %q:\n%s", r.status, tc.wantStatus, r.header.Get("Location"), tc.wantText, r.body)
			}
		})
	}
	t.Run("login by email, case-insensitive", func(t *testing.T) {
		loc := login(t, f, browser(t), authParams(appRedirect, ""), "Alice@Example.com", "alice")
		if loc.Query().Get("code") == "" {
			t.Fatalf("no code in %s", loc)
		}
	})
	t.Run("oversized body", func(t *testing.T) {
		r := postRaw(t, browser(t), f.iss+"/authorization", "username="+strings.Repeat("a", 100<<10), "", "")
		if r.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", r.status)
		}
	})
	t.Run("malformed body", func(t *testing.T) {
		r := postRaw(t, browser(t), f.iss+"/authorization", "username=%zz", "", "")
		if r.status != http.StatusBadRequest {
			t.Fatalf("status %d, want 400", r.status)
		}
	})
	t.Run("cookies", func(t *testing.T) {
		c := browser(t)
		res, err := c.Get(f.iss + "/authorization?" + authParams(appRedirect, "").Encode())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		for _, ck := range res.Cookies() {
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/oauth/v4/"+localappid.DefaultTenant {
				t.Errorf("cookie %s: HttpOnly %v SameSite %v Path %q", ck.Name, ck.HttpOnly, ck.SameSite, ck.Path)
			}
		}
		if len(res.Cookies()) == 0 {
			t.Error("login page sets no CSRF cookie")
		}
	})
}

// TestLogoutRefusals: logout redirects only to a redirect URI registered for the client, matched as at
// /authorization (exactly, or any loopback host and port with a registered loopback path), as App ID's SSO logout
// requires redirect_uri to be on the allow-list.
func TestLogoutRefusals(t *testing.T) {
	f := newFixture(t)
	demo := func(redirect string) url.Values {
		return url.Values{"redirect_uri": {redirect}, "client_id": {localappid.DemoClientID}}
	}
	for _, tc := range []struct {
		name       string
		query      url.Values
		wantStatus int
		wantLoc    string
	}{
		{"no redirect", url.Values{}, 200, ""},
		{"foreign redirect", demo("https://evil.example/"), 400, ""},
		{"unknown client", url.Values{"redirect_uri": {appRedirect}, "client_id": {"nobody"}}, 400, ""},
		{"no client", url.Values{"redirect_uri": {appRedirect}}, 400, ""},
		{"other client's URI", demo(otherRedirect), 400, ""},
		{"registered URI", url.Values{"redirect_uri": {otherRedirect}, "client_id": {otherClientID}}, 302, otherRedirect},
		{"unregistered path on a registered origin", url.Values{"redirect_uri": {"https://other.example/bye"}, "client_id": {otherClientID}}, 400, ""},
		{"registered URI with a query added", url.Values{"redirect_uri": {otherRedirect + "?next=/x"}, "client_id": {otherClientID}}, 400, ""},
		{"demo noauth_route", demo("http://localhost:5000/noauth_route"), 302, "http://localhost:5000/noauth_route"},
		{"noauth_route on any loopback port", demo("http://127.0.0.1:5055/noauth_route"), 302, "http://127.0.0.1:5055/noauth_route"},
		{"afterauth on any loopback port", demo("http://[::1]:8080/afterauth"), 302, "http://[::1]:8080/afterauth"},
		{"loopback home page", demo("http://localhost:8080/"), 400, ""},
		{"unregistered loopback path", demo("http://localhost:5000/admin"), 400, ""},
		{"loopback path with a query", demo("http://127.0.0.1:5055/noauth_route?x=1"), 400, ""},
		{"redirect_uri twice", url.Values{"redirect_uri": {appRedirect, "http://localhost:5000/noauth_route"}, "client_id": {localappid.DemoClientID}}, 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, browser(t), f.iss+"/cloud_directory/sso/logout?"+tc.query.Encode())
			if r.status != tc.wantStatus || r.header.Get("Location") != tc.wantLoc {
				t.Fatalf("status %d Location %q; want %d %q", r.status, r.header.Get("Location"), tc.wantStatus, tc.wantLoc)
			}
		})
	}
}
