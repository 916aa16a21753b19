package e2e

import (
	"context"
	"net/http"
	"testing"
)

// TestLoginsInTwoTabs starts a login in two tabs of one browser before finishing either, then finishes both, in
// either order: each tab must come back to where it started, signed in. A single pending-login slot would make
// the first tab's callback fail (its state overwritten by the second tab's).
func TestLoginsInTwoTabs(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	browser := startBrowser(t)
	authorize := d.Provider + "/authorization"

	cases := []struct {
		name        string
		secondFirst bool // finish the login started last first
	}{
		{"finished in the order started", false},
		{"finished in the reverse order", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			first := newProfile(t, browser)
			second := newTab(t, first)
			tabs := []struct {
				ctx  context.Context
				path string
			}{
				{first, "/auth_route"},
				{second, "/auth_route?tab=2"},
			}
			for _, tab := range tabs {
				resp := open(t, tab.ctx, d.App+tab.path)
				wantPage(t, tab.ctx, resp, authorize, http.StatusOK, "Sign in")
			}
			if tc.secondFirst {
				tabs[0], tabs[1] = tabs[1], tabs[0]
			}
			for _, tab := range tabs {
				resp := submitLogin(t, tab.ctx, "alice", "alice")
				if want := d.App + tab.path; resp.URL != want || resp.Status != http.StatusOK {
					t.Fatalf("the tab that started at %s ended on %s with %d, want %s with 200 (page: %q)",
						tab.path, resp.URL, resp.Status, want, pageText(tab.ctx))
				}
				wantPage(t, tab.ctx, resp, d.App+"/auth_route", http.StatusOK, authRouteText)
			}
		})
	}
}
