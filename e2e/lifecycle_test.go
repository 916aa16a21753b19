package e2e

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAliceSessionLifecycle follows one person through the demo: sign in on the provider's site, land on
// /auth_route, see her profile, log out with the /logout page's button, and find that the next visit to
// /auth_route asks for the password again, because logout also ended the provider's single sign-on session.
func TestAliceSessionLifecycle(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	tab := startBrowser(t)
	authorize := d.Provider + "/authorization"
	defer saveScreenshot(t, tab, "alice-final") // whatever page the case ends on, passed or failed

	resp := open(t, tab, d.App+"/")
	wantPage(t, tab, resp, authorize, http.StatusOK, "Sign in")
	resp = submitLogin(t, tab, "alice", "alice")
	wantPage(t, tab, resp, d.App+"/auth_route", http.StatusOK, authRouteText)
	saveScreenshot(t, tab, "alice-auth_route")

	resp = open(t, tab, d.App+"/profile")
	wantPage(t, tab, resp, d.App+"/profile", http.StatusOK, "")
	profile, err := chromedp.Run(tab, chromedp.Evaluate[map[string]string](
		`Object.fromEntries([...document.querySelectorAll("dt")].map(dt => [dt.textContent, dt.nextElementSibling.textContent]))`))
	if err != nil {
		t.Fatalf("reading the profile's fields: %v", err)
	}
	for field, want := range map[string]string{"Name": "Alice", "Email": "alice@example.com", "Roles": "user"} {
		if profile[field] != want {
			t.Errorf("profile %s = %q, want %q (all fields: %q)", field, profile[field], want, profile)
		}
	}
	saveScreenshot(t, tab, "alice-profile")

	resp = open(t, tab, d.App+"/logout")
	wantPage(t, tab, resp, d.App+"/logout", http.StatusOK, "Log out")
	resp = clickAndWait(t, tab, `form[action="/logout"] button[type="submit"]`)
	wantPage(t, tab, resp, d.App+"/noauth_route", http.StatusOK, noauthRouteText)
	if got := sessionCookies(appCookies(t, tab, d.App)); len(got) > 0 {
		t.Errorf("session cookie %s still in the browser after logout", got[0].Name)
	}

	// Without the provider's logout, the provider's session would sign her straight back in.
	resp = open(t, tab, d.App+"/auth_route")
	wantPage(t, tab, resp, authorize, http.StatusOK, "Sign in")
	if err := chromedp.Do(tab, chromedp.WaitVisible(chromedp.CSS(`input[name="password"]`))); err != nil {
		t.Errorf("after logout /auth_route shows no password field: %v", err)
	}
}
