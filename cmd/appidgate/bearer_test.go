package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/localappid"
)

var providerLine = regexp.MustCompile(`local App ID provider: (http://\S+)`)

// TestDemoBearerRoute checks the API form of /auth_route: an access token granting "view" (alice's) gets the
// reference text, no token gets 401, and a valid token without the scope (bob holds no role) gets 403.
func TestDemoBearerRoute(t *testing.T) {
	t.Parallel()
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
// an API client of its own would (and as appidgate idp token does), and returns the access token.
func userAccessToken(t *testing.T, oauthServerURL, username string) string {
	t.Helper()
	token, err := signInForToken(context.Background(), oauthServerURL, username, username)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// TestIdPTokenCommand runs the command the demo's banner shows: `appidgate idp token` signs a user in at the
// running provider and prints an access token that /api/auth_route takes (alice) or refuses for want of the
// scope (bob); a wrong password prints no token.
func TestIdPTokenCommand(t *testing.T) {
	t.Parallel()
	d := startDemo(t, nil)
	m := regexp.MustCompile(`API token: curl -H "Authorization: Bearer \$\(appidgate idp token --url (\S+) alice\)" (\S+)/api/auth_route\n`).
		FindStringSubmatch(d.stdout.String())
	if m == nil {
		t.Fatalf("the banner shows no token command:\n%s", d.stdout.String())
	}
	oauthServerURL, base := m[1], m[2]
	if base != d.base {
		t.Errorf("the banner's API URL is on %s, the demo on %s", base, d.base)
	}
	origin := strings.TrimSuffix(oauthServerURL, "/oauth/v4/"+localappid.DefaultConfig().Tenant)
	tests := []struct {
		name       string
		args       []string
		vars       map[string]string
		wantExit   int
		wantStatus int // of /api/auth_route with the printed token
	}{
		{name: "alice, the banner's command", args: []string{"--url", oauthServerURL, "alice"}, wantStatus: http.StatusOK},
		{name: "bob lacks the scope", args: []string{"--url", oauthServerURL, "bob"}, wantStatus: http.StatusForbidden},
		{name: "the provider's origin from APPIDGATE_IDP_URL", args: []string{"carol"},
			vars: map[string]string{"APPIDGATE_IDP_URL": origin}, wantStatus: http.StatusOK},
		{name: "a wrong password", args: []string{"--url", oauthServerURL, "--password", "wrong", "alice"}, wantExit: 1},
		{name: "no provider there", args: []string{"--url", fmt.Sprintf("http://127.0.0.1:%d", testkit.FreePort(t)), "alice"},
			wantExit: 1},
		{name: "no user", args: []string{"--url", oauthServerURL}, wantExit: 2},
		{name: "a password after the user", args: []string{"--url", oauthServerURL, "alice", "--password", "s3cret"},
			wantExit: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			code := run(context.Background(), append([]string{"idp", "token"}, tc.args...), testEnv(tc.vars, &stdout, &stderr))
			if code != tc.wantExit {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.wantExit, stderr.String())
			}
			if tc.wantExit != 0 {
				if stdout.Len() != 0 || stderr.Len() == 0 {
					t.Errorf("a failure printed %q to stdout and %q to stderr, want only a reason on stderr", stdout.String(), stderr.String())
				}
				if strings.Contains(stderr.String(), "s3cret") {
					t.Errorf("the password is in the error: %q", stderr.String())
				}
				return
			}
			token, ok := strings.CutSuffix(stdout.String(), "\n")
			if !ok || strings.ContainsAny(token, " \n") || token == "" {
				t.Fatalf("stdout %q, want one token on one line", stdout.String())
			}
			req, _ := http.NewRequest(http.MethodGet, base+"/api/auth_route", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("/api/auth_route with the token: %d %s, want %d", resp.StatusCode, body, tc.wantStatus)
			}
		})
	}
}

func TestLocalOAuthServerURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"http://127.0.0.1:5001", "http://127.0.0.1:5001/oauth/v4/local-tenant"},
		{"http://localhost:5001/", "http://localhost:5001/oauth/v4/local-tenant"},
		{"http://idp:5001/oauth/v4/t1", "http://idp:5001/oauth/v4/t1"},
		{"http://idp:5001/oauth/v4/t1/", "http://idp:5001/oauth/v4/t1"},
		{"127.0.0.1:5001", ""},
		{"http://idp:5001/other", ""},
		{"http://idp:5001/oauth/v4/t1/token", ""},
		{"http://u:p@idp:5001", ""},
	} {
		got, err := localOAuthServerURL(tc.in)
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("localOAuthServerURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
