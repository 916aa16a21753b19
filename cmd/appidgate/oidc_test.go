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
	"time"

	"golang.org/x/oauth2"

	"github.com/appidgate/appidgate/internal/zitadeltest"
)

// TestDemoOnAnotherOpenIDConnectProvider runs the demo in generic mode against the example OpenID Provider of
// zitadel/oidc, with the README's settings for it: no IBM Cloud API key, the issuer with its trailing slash,
// roles from the example's custom claim. A user signs in on the provider's own form, keeps the session, gets a
// name and email from userinfo, calls the API with the provider's access token, and logs out through the
// provider's end-session endpoint; once with its default opaque access tokens and once with JWT access tokens.
func TestDemoOnAnotherOpenIDConnectProvider(t *testing.T) {
	for _, jwt := range []bool{false, true} {
		t.Run(fmt.Sprintf("JWT access tokens %v", jwt), func(t *testing.T) {
			port := freeLoopbackPort(t)
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

			b := newBrowser(t)
			form := b.get(app + "/auth_route")
			if !strings.HasPrefix(form.url.String(), idp.Issuer+"login/") {
				t.Fatalf("GET /auth_route ended at %s (%d), want the provider's login form", form.url, form.status)
			}
			req, err := zitadeltest.LoginRequest(form.body, form.url, idp.Username, zitadeltest.Password)
			if err != nil {
				t.Fatal(err)
			}
			if got := b.do(req); got.status != http.StatusOK || got.body != authRouteText || got.url.Path != "/auth_route" {
				t.Fatalf("after signing in: %d at %s: %s\nlogs:\n%s", got.status, got.url, got.body, d.stderr.String())
			}
			profile := b.get(app + "/profile")
			for _, want := range []string{zitadeltest.UserName, zitadeltest.UserEmail, "<li>stuff</li>", "offline_access"} {
				if !strings.Contains(profile.body, want) {
					t.Errorf("/profile lacks %q:\n%s", want, profile.body)
				}
			}
			if got := b.get(app + "/auth_route"); got.status != http.StatusOK || got.url.Host != strings.TrimPrefix(app, "http://") {
				t.Errorf("the session is not kept: %d at %s", got.status, got.url)
			}

			tokens := idp.Tokens()
			if len(tokens) != 1 {
				t.Fatalf("%d token responses, want 1", len(tokens))
			}
			api, _ := http.NewRequest(http.MethodGet, app+"/api/auth_route", nil)
			api.Header.Set("Authorization", "Bearer "+tokens[0].AccessToken)
			api.Header.Set("Accept", "application/json")
			if got := newBrowser(t).do(api); got.status != http.StatusOK || got.body != authRouteText {
				t.Errorf("/api/auth_route with the provider's access token: %d %s", got.status, got.body)
			}

			logout, _ := http.NewRequest(http.MethodPost, app+"/logout", strings.NewReader(""))
			logout.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			logout.Header.Set("Origin", app)
			if got := b.do(logout); got.status != http.StatusOK || got.body != noauthRouteText || got.url.String() != app+"/noauth_route" {
				t.Errorf("logout ended at %s with %d %q, want /noauth_route after the provider's end session", got.url,
					got.status, got.body)
			}
			conf := oauth2.Config{ClientID: zitadeltest.ClientID, ClientSecret: zitadeltest.ClientSecret,
				Endpoint: oauth2.Endpoint{TokenURL: idp.Issuer + "oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}
			_, err = conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tokens[0].RefreshToken}).Token()
			var re *oauth2.RetrieveError
			if tokens[0].RefreshToken == "" || !errors.As(err, &re) {
				t.Errorf("the refresh token %q after logout: %v, want the provider to refuse it", tokens[0].RefreshToken, err)
			}
			if got := b.get(app + "/auth_route"); !strings.HasPrefix(got.url.String(), idp.Issuer+"login/") {
				t.Errorf("/auth_route after logout ended at %s, want the provider's login form", got.url)
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
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, h := range []string{"X-Appidgate-User", "X-Appidgate-Email", "X-Appidgate-Name", "X-Appidgate-Roles"} {
			fmt.Fprintf(w, "%s=%s\n", h, r.Header.Get(h))
		}
	}))
	t.Cleanup(upstream.Close)
	port := freeLoopbackPort(t)
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
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- runProxy(ctx, []string{"--upstream", upstream.URL, "--policy", "/admin=role:admin"},
			testEnv(vars, stdout, stderr))
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("the proxy did not stop within 30 s")
		}
	})
	for deadline := time.Now().Add(10 * time.Second); !openLine.MatchString(stdout.String()); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the proxy printed no address; stderr:\n%s", stderr.String())
		}
	}

	signIn := func(username string) (*browser, page) {
		b := newBrowser(t)
		form := b.get(app + "/admin")
		req, err := zitadeltest.LoginRequest(form.body, form.url, username, zitadeltest.Password)
		if err != nil {
			t.Fatalf("%v (%d at %s)\nstderr:\n%s", err, form.status, form.url, stderr.String())
		}
		return b, b.do(req)
	}
	_, got := signIn(idp.Username)
	want := "X-Appidgate-User=" + zitadeltest.UserID + "\nX-Appidgate-Email=" + zitadeltest.UserEmail +
		"\nX-Appidgate-Name=" + zitadeltest.UserName + "\nX-Appidgate-Roles=admin,user\n"
	if got.status != http.StatusOK || got.body != want {
		t.Errorf("upstream saw %d:\n%s\nwant:\n%s\nstderr:\n%s", got.status, got.body, want, stderr.String())
	}
	if _, got := signIn(zitadeltest.User2); got.status != http.StatusForbidden {
		t.Errorf("/admin for a user without the admin group: %d, want 403", got.status)
	}
	if !strings.Contains(stderr.String(), `"provider":"oidc"`) {
		t.Errorf("the start-up log line does not name the mode:\n%s", stderr.String())
	}
}
