package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/appidgate/appidgate/localappid"
	"github.com/appidgate/appidgate/localappid/localappidtest"
	"golang.org/x/oauth2"
)

var providerLine = regexp.MustCompile(`local App ID provider: (http://\S+)`)

// TestDemoBearerRoute checks the API form of /auth_route: an access token granting "view" (alice's) gets the
// reference text, no token gets 401, and a valid token without the scope (bob holds no role) gets 403.
func TestDemoBearerRoute(t *testing.T) {
	d := startDemo(t, nil)
	m := providerLine.FindStringSubmatch(d.stdout.String())
	if m == nil {
		t.Fatalf("the demo printed no provider URL:\n%s", d.stdout.String())
	}
	oauthServerURL := m[1]

	tests := []struct {
		name       string
		user       string // empty: no Authorization header
		wantStatus int
		wantBody   string
	}{
		{name: "alice's token has the view scope", user: "alice", wantStatus: http.StatusOK, wantBody: authRouteText},
		{name: "no token", wantStatus: http.StatusUnauthorized, wantBody: `"error"`},
		{name: "bob's token lacks the scope", user: "bob", wantStatus: http.StatusForbidden, wantBody: "Unauthorized!"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, d.base+"/api/auth_route", nil)
			if tc.user != "" {
				req.Header.Set("Authorization", "Bearer "+userAccessToken(t, oauthServerURL, tc.user))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantStatus || !strings.Contains(string(body), tc.wantBody) {
				t.Fatalf("GET /api/auth_route: %d %q, want %d with %q", resp.StatusCode, body, tc.wantStatus, tc.wantBody)
			}
			if tc.wantStatus != http.StatusOK && !json.Valid(body) {
				t.Errorf("refusal is not JSON: %q", body)
			}
		})
	}
}

// userAccessToken signs username in at the provider with the demo client's authorization-code flow and PKCE, as
// an API client of its own would, and returns the access token.
func userAccessToken(t *testing.T, oauthServerURL, username string) string {
	t.Helper()
	conf := &oauth2.Config{
		ClientID:     localappid.DemoClientID,
		ClientSecret: localappid.DemoClientSecret,
		Endpoint: oauth2.Endpoint{AuthURL: oauthServerURL + "/authorization", TokenURL: oauthServerURL + "/token",
			AuthStyle: oauth2.AuthStyleInHeader},
		// Registered for the demo client on any loopback port; nothing needs to listen there, the code is read
		// from the redirect itself.
		RedirectURL: "http://127.0.0.1:1/afterauth",
		Scopes:      []string{"openid"},
	}
	verifier := oauth2.GenerateVerifier()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := client.Get(conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	req, err := localappidtest.LoginRequest(string(page), resp.Request.URL, username, username)
	if err != nil {
		t.Fatalf("%v (%d)", err, resp.StatusCode)
	}
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("login as %s: %d to %q, want a redirect with a code", username, resp.StatusCode, resp.Header.Get("Location"))
	}
	tok, err := conf.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("token exchange for %s: %v", username, err)
	}
	return tok.AccessToken
}
