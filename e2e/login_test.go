package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The demo's answers, word for word (the reference app's texts).
const (
	authRouteText    = "This route requires authentication and authorization - Powered by IBM Cloud App ID!"
	noauthRouteText  = "This route is open to all!"
	unauthorizedText = "Unauthorized!"
	wrongLoginText   = "Wrong username or password."
)

// sessionCookiePrefix starts the name of the app's session cookie (and of its parts when it is split).
const sessionCookiePrefix = "appidgate_session"

// TestLoginAcrossSites signs in through the provider's form on another site and checks where each user ends:
// users with a role see /auth_route, a user without one gets an honest 403, a wrong password stays on the
// provider's form with an error and leaves no session at the app. Each case is a fresh browser profile.
func TestLoginAcrossSites(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	browser := startBrowser(t)
	authorize := d.Provider + "/authorization"

	cases := []struct {
		name, username, password string
		wantURL                  string // where the browser ends, without the query
		wantStatus               int64
		wantText                 string
		wantSession              bool
	}{
		{"alice has role user", "alice", "alice", d.App + "/auth_route", http.StatusOK, authRouteText, true},
		{"carol has roles user and admin", "carol", "carol", d.App + "/auth_route", http.StatusOK, authRouteText, true},
		{"bob has no role", "bob", "bob", d.App + "/auth_route", http.StatusForbidden, unauthorizedText, true},
		{"wrong password", "alice", "not-alice", authorize, http.StatusUnauthorized, wrongLoginText, false},
		{"unknown user", "mallory", "mallory", authorize, http.StatusUnauthorized, wrongLoginText, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tab := newProfile(t, browser)
			resp := open(t, tab, d.App+"/")
			wantPage(t, tab, resp, authorize, http.StatusOK, "Sign in")

			resp = submitLogin(t, tab, tc.username, tc.password)
			wantPage(t, tab, resp, tc.wantURL, tc.wantStatus, tc.wantText)

			cookies := appCookies(t, tab, d.App)
			if got := sessionCookies(cookies); (len(got) > 0) != tc.wantSession {
				t.Errorf("session cookies at the app after the login: %v, want present=%v", cookieNames(cookies), tc.wantSession)
			}
			if tc.wantSession {
				return
			}
			// The failed login leaves the browser on the provider with the form to try again; the app knows no one.
			if err := chromedp.Do(tab, chromedp.WaitVisible(chromedp.CSS(`input[name="password"]`))); err != nil {
				t.Errorf("no password field to try again after a failed login: %v", err)
			}
			if loc := location(t, tab); !strings.HasPrefix(loc, d.ProviderOrigin+"/") {
				t.Errorf("after a failed login the browser is at %s, want the provider %s", loc, d.ProviderOrigin)
			}
			resp = open(t, tab, d.App+"/profile")
			wantPage(t, tab, resp, authorize, http.StatusOK, "Sign in")
		})
	}
}

// appCookies are the cookies the browser holds for the app's origin, HttpOnly ones included.
func appCookies(t *testing.T, tab context.Context, app string) []*network.Cookie {
	t.Helper()
	res, err := chromedp.Call(tab, network.GetCookies, network.GetCookiesParams{URLs: []string{app + "/"}})
	if err != nil {
		t.Fatalf("e2e: reading the browser's cookies for %s: %v", app, err)
	}
	return res.Cookies
}

// sessionCookies picks the app's session cookies out of cookies.
func sessionCookies(cookies []*network.Cookie) []*network.Cookie {
	var out []*network.Cookie
	for _, c := range cookies {
		if strings.HasPrefix(c.Name, sessionCookiePrefix) && c.Value != "" {
			out = append(out, c)
		}
	}
	return out
}

func cookieNames(cookies []*network.Cookie) []string {
	names := make([]string, len(cookies))
	for i, c := range cookies {
		names[i] = c.Name
	}
	return names
}
