package appid

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func postLogout(b *browser, e *testEnv, origin string) *response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.app.URL+"/logout", strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return b.do(req)
}

func TestLogout(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	b := e.newBrowser(t)
	if got := b.login(e, "/auth_route", "alice"); got.status != http.StatusOK {
		t.Fatalf("login: %d", got.status)
	}

	page := b.get(e.app.URL + "/logout")
	if page.status != http.StatusOK || !strings.Contains(page.body, `<form method="post" action="/logout">`) {
		t.Errorf("GET /logout: got %d %q, want a page with a POST button", page.status, page.body)
	}
	if got := b.get(e.app.URL + "/auth_route"); got.status != http.StatusOK {
		t.Fatalf("GET /logout ended the session: %d", got.status)
	}

	if got := postLogout(b, e, "https://evil.example"); got.status != http.StatusForbidden {
		t.Errorf("cross-site POST /logout: got %d, want 403", got.status)
	}
	if got := b.get(e.app.URL + "/auth_route"); got.status != http.StatusOK {
		t.Fatalf("a cross-site logout ended the session: %d", got.status)
	}

	got := postLogout(b, e, e.app.URL)
	if got.status != http.StatusSeeOther {
		t.Fatalf("POST /logout: got %d %q, want 303", got.status, got.body)
	}
	loc, _ := url.Parse(got.location)
	if want := e.idp.Provider().OAuthServerURL() + "/cloud_directory/sso/logout"; loc.Scheme+"://"+loc.Host+loc.Path != want ||
		loc.Query().Get("redirect_uri") != e.app.URL+"/noauth_route" || loc.Query().Get("client_id") != "appidgate-demo" {
		t.Errorf("logout redirects to %q, want %s?redirect_uri=%s/noauth_route&client_id=appidgate-demo", got.location,
			want, e.app.URL)
	}
	back := b.follow(got)
	if back.status != http.StatusFound || back.location != e.app.URL+"/noauth_route" {
		t.Errorf("provider logout: got %d %q, want a redirect to /noauth_route", back.status, back.location)
	}
	// Both sessions are gone: the app sends alice to the provider, which asks for her password again.
	start := b.get(e.app.URL + "/auth_route")
	if start.status != http.StatusFound {
		t.Fatalf("after logout: got %d, want 302 to login", start.status)
	}
	if page := b.follow(start); page.status != http.StatusOK || !strings.Contains(page.body, `name="password"`) {
		t.Errorf("after logout the provider did not ask for a password: %d", page.status)
	}
}

func TestLogoutWithProviderDown(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	b := e.newBrowser(t)
	if got := b.login(e, "/auth_route", "alice"); got.status != http.StatusOK {
		t.Fatalf("login: %d", got.status)
	}
	e.idp.Close()
	// Revocation fails quietly; the local session ends all the same.
	if got := postLogout(b, e, ""); got.status != http.StatusSeeOther {
		t.Errorf("got %d %q, want 303", got.status, got.location)
	}
	if again := b.get(e.app.URL + "/auth_route"); again.status == http.StatusOK {
		t.Error("the session survived the logout")
	}
}

func TestLogoutReturnTo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		returnTo string // the form field; "" sends none
		wantBack string // the path the provider's logout returns to
	}{
		{"default", "", "/noauth_route"},
		{"a same-origin path with query", "/profile?tab=1", "/profile?tab=1"},
		{"scheme-relative", "//evil.example/x", "/"},
		{"absolute URL", "https://evil.example/", "/"},
		{"backslash host", `/\evil.example`, "/"},
	}
	e := newTestEnv(t, envOption{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{}
			if tc.returnTo != "" {
				form.Set("return_to", tc.returnTo)
			}
			req, _ := http.NewRequest(http.MethodPost, e.app.URL+"/logout", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", e.app.URL)
			got := e.newBrowser(t).do(req)
			loc, _ := url.Parse(got.location)
			if got.status != http.StatusSeeOther || loc.Query().Get("redirect_uri") != e.app.URL+tc.wantBack {
				t.Errorf("got %d %q, want 303 to the provider's logout with redirect_uri=%s%s", got.status,
					got.location, e.app.URL, tc.wantBack)
			}
		})
	}
}

// TestLogoutRefusesOtherSites: logging out changes state, so POST /logout refuses what browsers mark as coming
// from another site or origin (http.CrossOriginProtection), and takes requests from the app's own pages and from
// non-browser clients.
func TestLogoutRefusesOtherSites(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	tests := []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"no browser headers", nil, http.StatusSeeOther},
		{"the app's origin", map[string]string{"Origin": e.app.URL}, http.StatusSeeOther},
		{"same-origin fetch", map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusSeeOther},
		{"typed by the user", map[string]string{"Sec-Fetch-Site": "none"}, http.StatusSeeOther},
		{"another origin", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"same-site fetch", map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"cross-site with the app's origin forged", map[string]string{"Sec-Fetch-Site": "cross-site",
			"Origin": "https://evil.example"}, http.StatusForbidden},
		{"null origin", map[string]string{"Origin": "null"}, http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.app.URL+"/logout", strings.NewReader(""))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			if got := e.newBrowser(t).do(req); got.status != tc.want {
				t.Errorf("got %d, want %d", got.status, tc.want)
			}
		})
	}
}
