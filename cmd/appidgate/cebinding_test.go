package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/localappid"
)

// ceServices is CE_SERVICES as Code Engine sets it for an app bound to App ID instances named names (see
// internal/appidenv/testdata/ce_services.json for the full shape), with credentials pointing at p.
func ceServices(t *testing.T, p *localappid.Provider, names ...string) string {
	t.Helper()
	var bindings []map[string]any
	for _, name := range names {
		bindings = append(bindings, map[string]any{
			"name": name, "plan": "00000000-0000-4000-8000-0000000000a1", "resourcekey_name": "ce-service-access-test",
			"credentials": map[string]any{
				"apikey": localappid.DemoAPIKey, "clientId": localappid.DemoClientID, "secret": localappid.DemoClientSecret,
				"oauthServerUrl": p.OAuthServerURL(), "managementUrl": p.ManagementURL(),
				"discoveryEndpoint": p.OAuthServerURL() + "/.well-known/openid-configuration", "tenantId": localappid.DefaultTenant,
				"version": 4,
			},
		})
	}
	b, err := json.Marshal(map[string]any{"appid": bindings})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDemoOnCEServicesBinding runs the demo as the container does on Code Engine with App ID bound to the app:
// no App ID variable is set, CE_SERVICES carries the credentials (the API key for roles included), the log
// says so, and logins work with roles from the management API.
func TestDemoOnCEServicesBinding(t *testing.T) {
	t.Parallel()
	idp := newGatedProvider(t)
	port := testkit.FreePort(t)
	app := fmt.Sprintf("http://127.0.0.1:%d", port)
	d := startDemo(t, map[string]string{
		"APPIDGATE_LISTEN_ADDR":   fmt.Sprintf("127.0.0.1:%d", port),
		"APPIDGATE_REQUIRE_APPID": "1", // as in the image: the local provider must not stand in
		"CE_SERVICES":             ceServices(t, idp.provider, "my-appid"),
		"APPID_REDIRECT_URI":      app + "/afterauth",
		"SESSION_SECRET_KEY":      "test-session-key-0123456789abcdef",
		"IAM_TOKEN_URL":           idp.provider.IAMTokenURL(),
	})
	alice := testkit.NewBrowser(t)
	if p := alice.SignIn(alice.Get(app+"/auth_route"), "alice", "alice"); p.Status != http.StatusOK || !strings.Contains(p.Body, authRouteText) {
		t.Fatalf("alice: %d %s", p.Status, p.Body)
	}
	bob := testkit.NewBrowser(t)
	if p := bob.SignIn(bob.Get(app+"/auth_route"), "bob", "bob"); p.Status != http.StatusForbidden {
		t.Fatalf("bob: %d %s", p.Status, p.Body)
	}
	if code := d.stop(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	logs := d.stdout.String() + d.stderr.String()
	for _, want := range []string{"App ID settings read from CE_SERVICES binding my-appid",
		"APPID_CLIENT_ID,APPID_CLIENT_SECRET,APPID_OAUTH_SERVER_URL,APPIDGATE_MANAGEMENT_URL,IBM_CLOUD_APIKEY"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	for _, secret := range []string{localappid.DemoClientSecret, localappid.DemoAPIKey} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain the binding's credential %q", secret)
		}
	}
}

// TestDemoRefusesBadCEServices: a binding problem stops start-up with the other problems, and never falls back to
// the local provider, even without APPIDGATE_REQUIRE_APPID.
func TestDemoRefusesBadCEServices(t *testing.T) {
	t.Parallel()
	idp := newGatedProvider(t)
	for _, tc := range []struct {
		name     string
		services string
		want     []string
	}{
		{"two App ID bindings", ceServices(t, idp.provider, "appid-dev", "appid-prod"),
			[]string{"CE_SERVICES", `"appid-dev"`, `"appid-prod"`, "APPID_REDIRECT_URI"}},
		{"malformed JSON", `{"appid": [`, []string{"CE_SERVICES", "invalid JSON", "APPID_CLIENT_ID"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runDemo(context.Background(), nil, testEnv(map[string]string{"CE_SERVICES": tc.services}, &stdout, &stderr))
			if code != 2 {
				t.Fatalf("exit code %d, want 2; stdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("error message does not name %s:\n%s", w, stderr.String())
				}
			}
		})
	}
}
