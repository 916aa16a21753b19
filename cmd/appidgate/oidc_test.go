package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/internal/zitadeltest"
)

// TestDemoOnAnotherOpenIDConnectProvider runs the demo in generic mode against the example OpenID Provider of
// zitadel/oidc, with the README's settings for it: no IBM Cloud API key, the issuer with its trailing slash,
// roles from the example's custom claim. A user signs in on the provider's own form, keeps the session, gets a
// name and email from userinfo, calls the API with the provider's access token, and logs out through the
// provider's end-session endpoint; once with its default opaque access tokens and once with JWT access tokens.
func TestDemoOnAnotherOpenIDConnectProvider(t *testing.T) {
	t.Parallel()
	for _, jwt := range []bool{false, true} {
		t.Run(fmt.Sprintf("JWT access tokens %v", jwt), func(t *testing.T) {
			port := testkit.FreePort(t)
			app := fmt.Sprintf("http://127.0.0.1:%d", port)
			idp := zitadeltest.Start(t, zitadeltest.Options{JWTAccessTokens: jwt,
				RedirectURIs: []string{app + "/afterauth"}, PostLogoutRedirectURIs: []string{app + "/noauth_route"}})
			d := startDemo(t, map[string]string{
				"APPIDGATE_LISTEN_ADDR": fmt.Sprintf("127.0.0.1:%d", port),
				"APPIDGATE_PROVIDER":    "oidc",
				"APPIDGATE_ISSUER_URL":  idp.Issuer,
				"APPID_CLIENT_ID":       zitadeltest.ClientID,
				"APPID_CLIENT_SECRET":   zitadeltest.ClientSecret,
				"APPID_REDIRECT_URI":    app + "/afterauth",
				"SESSION_SECRET_KEY":    "test-session-key-0123456789abcdef",
				"APPIDGATE_SCOPES":      "openid profile email " + zitadeltest.CustomScope,
				"APPIDGATE_ROLES_CLAIM": zitadeltest.CustomClaim + ".other",
			})
			if !strings.Contains(d.stdout.String(), "provider: "+idp.Issuer+" (OpenID Connect") {
				t.Errorf("banner does not name the provider and its kind:\n%s", d.stdout.String())
			}

			b := testkit.NewBrowser(t)
			form := b.Get(app + "/auth_route")
			if !strings.HasPrefix(form.URL.String(), idp.Issuer+"login/") {
				t.Fatalf("GET /auth_route ended at %s (%d), want the provider's login form", form.URL, form.Status)
			}
			req, err := zitadeltest.LoginRequest(form.Body, form.URL, idp.Username, zitadeltest.Password)
			if err != nil {
				t.Fatal(err)
			}
			if got := b.Do(req); got.Status != http.StatusOK || got.Body != authRouteText || got.URL.Path != "/auth_route" {
				t.Fatalf("after signing in: %d at %s: %s\nlogs:\n%s", got.Status, got.URL, got.Body, d.stderr.String())
			}
			profile := b.Get(app + "/profile")
			for _, want := range []string{zitadeltest.UserName, zitadeltest.UserEmail, "<li>stuff</li>", "offline_access"} {
				if !strings.Contains(profile.Body, want) {
					t.Errorf("/profile lacks %q:\n%s", want, profile.Body)
				}
			}
			if got := b.Get(app + "/auth_route"); got.Status != http.StatusOK || got.URL.Host != strings.TrimPrefix(app, "http://") {
				t.Errorf("the session is not kept: %d at %s", got.Status, got.URL)
			}

			tokens := idp.Tokens()
			if len(tokens) != 1 {
				t.Fatalf("%d token responses, want 1", len(tokens))
			}
			api, _ := http.NewRequest(http.MethodGet, app+"/api/auth_route", nil)
			api.Header.Set("Authorization", "Bearer "+tokens[0].AccessToken)
			api.Header.Set("Accept", "application/json")
			if got := testkit.NewBrowser(t).Do(api); got.Status != http.StatusOK || got.Body != authRouteText {
				t.Errorf("/api/auth_route with the provider's access token: %d %s", got.Status, got.Body)
			}

			logout, _ := http.NewRequest(http.MethodPost, app+"/logout", strings.NewReader(""))
			logout.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			logout.Header.Set("Origin", app)
			if got := b.Do(logout); got.Status != http.StatusOK || got.Body != noauthRouteText || got.URL.String() != app+"/noauth_route" {
				t.Errorf("logout ended at %s with %d %q, want /noauth_route after the provider's end session", got.URL,
					got.Status, got.Body)
			}
			conf := oauth2.Config{ClientID: zitadeltest.ClientID, ClientSecret: zitadeltest.ClientSecret,
				Endpoint: oauth2.Endpoint{TokenURL: idp.Issuer + "oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}
			_, err = conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tokens[0].RefreshToken}).Token()
			var re *oauth2.RetrieveError
			if tokens[0].RefreshToken == "" || !errors.As(err, &re) {
				t.Errorf("the refresh token %q after logout: %v, want the provider to refuse it", tokens[0].RefreshToken, err)
			}
			if got := b.Get(app + "/auth_route"); !strings.HasPrefix(got.URL.String(), idp.Issuer+"login/") {
				t.Errorf("/auth_route after logout ended at %s, want the provider's login form", got.URL)
			}

			if code := d.stop(); code != 0 {
				t.Fatalf("exit code %d", code)
			}
			logs := d.stderr.String()
			if !strings.Contains(logs, `"msg":"appidgate demo started"`) || !strings.Contains(logs, `"provider":"oidc"`) {
				t.Errorf("the start-up log line does not name the mode:\n%s", logs)
			}
			if jwt := regexp.MustCompile(`eyJ[\w-]+\.eyJ[\w-]+`).FindString(logs); jwt != "" {
				t.Errorf("logs contain a token: %s", jwt)
			}
			for _, tok := range tokens {
				if bytes.Contains([]byte(logs), []byte(tok.AccessToken)) || bytes.Contains([]byte(logs), []byte(tok.RefreshToken)) {
					t.Errorf("logs contain an issued token")
				}
			}
		})
	}
}

func TestDemoOIDCModeConfigurationErrors(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	code := runDemo(context.Background(), nil, testEnv(map[string]string{
		"APPIDGATE_PROVIDER": "oidc", "IBM_CLOUD_APIKEY": "left-over", "APPIDGATE_ROLES_CLAIM": "a..b",
	}, &stdout, &stderr))
	if code != 2 {
		t.Fatalf("exit code %d, want 2; stderr:\n%s", code, stderr.String())
	}
	for _, want := range []string{"APPID_CLIENT_ID", "APPID_CLIENT_SECRET", "APPIDGATE_ISSUER_URL", "APPID_REDIRECT_URI",
		"SESSION_SECRET_KEY", "IBM_CLOUD_APIKEY: not used", "APPIDGATE_ROLES_CLAIM"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("the message does not name %s:\n%s", want, stderr.String())
		}
	}
	if strings.Contains(stdout.String(), "local App ID provider") {
		t.Errorf("generic mode without an issuer started the local provider:\n%s", stdout.String())
	}
}

// TestProxyOnAnotherOpenIDConnectProvider: appidgate proxy in generic mode signs users in at zitadel's example
// provider and passes their identity, roles from a claim of its userinfo, to the upstream.
func TestProxyOnAnotherOpenIDConnectProvider(t *testing.T) {
	t.Parallel()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, h := range []string{"X-Appidgate-User", "X-Appidgate-Email", "X-Appidgate-Name", "X-Appidgate-Roles"} {
			fmt.Fprintf(w, "%s=%s\n", h, r.Header.Get(h))
		}
	}))
	t.Cleanup(upstream.Close)
	port := testkit.FreePort(t)
	app := fmt.Sprintf("http://127.0.0.1:%d", port)
	idp := zitadeltest.Start(t, zitadeltest.Options{RedirectURIs: []string{app + "/afterauth"},
		Groups: map[string][]string{zitadeltest.UserID: {"admin", "user"}}, GroupsIn: zitadeltest.InUserinfo})
	vars := map[string]string{
		"APPIDGATE_LISTEN_ADDR": fmt.Sprintf("127.0.0.1:%d", port),
		"APPIDGATE_PROVIDER":    "oidc",
		"APPIDGATE_ISSUER_URL":  idp.Issuer,
		"APPID_CLIENT_ID":       zitadeltest.ClientID,
		"APPID_CLIENT_SECRET":   zitadeltest.ClientSecret,
		"APPID_REDIRECT_URI":    app + "/afterauth",
		"SESSION_SECRET_KEY":    "test-session-key-0123456789abcdef",
		"APPIDGATE_ROLES_CLAIM": "groups",
	}
	stderr := startProxy(t, []string{"--upstream", upstream.URL, "--policy", "/admin=role:admin"}, vars).stderr

	signIn := func(username string) (*testkit.Browser, testkit.Page) {
		b := testkit.NewBrowser(t)
		form := b.Get(app + "/admin")
		req, err := zitadeltest.LoginRequest(form.Body, form.URL, username, zitadeltest.Password)
		if err != nil {
			t.Fatalf("%v (%d at %s)\nstderr:\n%s", err, form.Status, form.URL, stderr.String())
		}
		return b, b.Do(req)
	}
	_, got := signIn(idp.Username)
	want := "X-Appidgate-User=" + zitadeltest.UserID + "\nX-Appidgate-Email=" + zitadeltest.UserEmail +
		"\nX-Appidgate-Name=" + zitadeltest.UserName + "\nX-Appidgate-Roles=admin,user\n"
	if got.Status != http.StatusOK || got.Body != want {
		t.Errorf("upstream saw %d:\n%s\nwant:\n%s\nstderr:\n%s", got.Status, got.Body, want, stderr.String())
	}
	if _, got := signIn(zitadeltest.User2); got.Status != http.StatusForbidden {
		t.Errorf("/admin for a user without the admin group: %d, want 403", got.Status)
	}
	if !strings.Contains(stderr.String(), `"provider":"oidc"`) {
		t.Errorf("the start-up log line does not name the mode:\n%s", stderr.String())
	}
}
