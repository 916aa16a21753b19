package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestSessionCookieIsHiddenFromPages signs alice in and checks the session cookie as the browser stored it: the
// page's scripts cannot read it (HttpOnly), it is SameSite=Lax (sent on the cross-site redirect back to the app,
// not on cross-site posts), and its value is sealed, not a token a thief could replay at the provider.
func TestSessionCookieIsHiddenFromPages(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	tab := startBrowser(t)

	open(t, tab, d.App+"/auth_route")
	resp := submitLogin(t, tab, "alice", "alice")
	wantPage(t, tab, resp, d.App+"/auth_route", http.StatusOK, authRouteText)

	visible, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.cookie`))
	if err != nil {
		t.Fatalf("reading document.cookie: %v", err)
	}
	if strings.Contains(visible, "appidgate") || strings.Contains(visible, "eyJ") {
		t.Errorf("document.cookie = %q: the page's scripts can read the app's cookies", visible)
	}

	cookies := appCookies(t, tab, d.App)
	session := sessionCookies(cookies)
	if len(session) == 0 {
		t.Fatalf("no %s cookie in the browser after login; cookies: %v", sessionCookiePrefix, cookieNames(cookies))
	}
	for _, c := range session {
		if !c.HTTPOnly {
			t.Errorf("cookie %s is not HttpOnly", c.Name)
		}
		if c.SameSite != network.CookieSameSiteLax {
			t.Errorf("cookie %s has SameSite=%q, want Lax", c.Name, c.SameSite)
		}
		if c.Path != "/" {
			t.Errorf("cookie %s has Path=%q, want /", c.Name, c.Path)
		}
	}
	for _, c := range cookies {
		if strings.Contains(c.Value, "eyJ") {
			t.Errorf("cookie %s holds what looks like a JWT (eyJ...): tokens must never reach the browser", c.Name)
		}
		if strings.HasPrefix(c.Name, "appidgate") && !c.HTTPOnly {
			t.Errorf("cookie %s is readable by the page's scripts (not HttpOnly)", c.Name)
		}
	}
}
