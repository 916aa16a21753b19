package appid

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestAuthorizeDecidesWithoutAnswering: Authorize tells a program why it refuses and writes no answer, so that
// a proxy or a forward-auth endpoint answers in its own way; Refuse then answers as Require does.
func TestAuthorizeDecidesWithoutAnswering(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	alice := e.newBrowser(t)
	if got := alice.login(e, "/auth_route", "alice"); got.status != http.StatusOK {
		t.Fatalf("login: %d", got.status)
	}
	app, _ := url.Parse(e.app.URL)
	tests := []struct {
		name       string
		cookies    bool
		accept     string
		policy     Policy
		wantErr    error
		wantUser   string // email
		wantRefuse int    // Refuse's status
	}{
		{"allowed", true, "text/html", AnyRole(), nil, "alice@example.com", 0},
		{"forbidden, with the user", true, "text/html", Role("admin"), ErrForbidden, "alice@example.com",
			http.StatusForbidden},
		{"no session, browser", false, "text/html", AnyRole(), ErrLoginRequired, "", http.StatusFound},
		{"no session, API", false, "application/json", AnyRole(), ErrLoginRequired, "", http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, e.app.URL+"/anything?x=1", nil)
			req.Header.Set("Accept", tc.accept)
			if tc.cookies {
				for _, c := range alice.client.Jar.Cookies(app) {
					req.AddCookie(c)
				}
			}
			rec := httptest.NewRecorder()
			u, err := e.auth.Authorize(rec, req, tc.policy)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if gotID := ""; u != nil {
				gotID = u.Email
				if gotID != tc.wantUser {
					t.Errorf("user %q, want %q", gotID, tc.wantUser)
				}
			} else if tc.wantUser != "" {
				t.Errorf("no user, want %q", tc.wantUser)
			}
			if rec.Body.Len() != 0 || rec.Header().Get("Location") != "" {
				t.Errorf("Authorize answered: %d %q", rec.Code, rec.Body.String())
			}
			if err == nil {
				return
			}
			rec = httptest.NewRecorder()
			e.auth.Refuse(rec, req, err)
			if rec.Code != tc.wantRefuse {
				t.Errorf("Refuse: %d, want %d", rec.Code, tc.wantRefuse)
			}
			if rec.Code == http.StatusFound &&
				!strings.HasPrefix(rec.Header().Get("Location"), e.idp.Provider().OAuthServerURL()) {
				t.Errorf("Refuse redirects to %q, want the provider's login", rec.Header().Get("Location"))
			}
		})
	}
}
