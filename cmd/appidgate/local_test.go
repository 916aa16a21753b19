package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/internal/testkit"
)

func TestDemoHelpExitsZero(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := runDemo(context.Background(), []string{"--help"}, testEnv(nil, &stdout, &stderr)); code != 0 {
		t.Fatalf("demo --help exit code %d, want 0; stderr: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "usage: appidgate demo") {
		t.Fatalf("demo --help printed %q", stdout.String())
	}
}

func TestReferenceRoutesAnswerTheReferenceTextsExactly(t *testing.T) {
	t.Parallel()
	d := startDemo(t, nil)
	p := testkit.NewBrowser(t).Get(d.base + "/noauth_route")
	if p.Status != http.StatusOK || p.Body != noauthRouteText {
		t.Fatalf("/noauth_route: %d %q, want 200 %q", p.Status, p.Body, noauthRouteText)
	}
	b := testkit.NewBrowser(t)
	if got := b.SignIn(b.Get(d.base+"/auth_route"), "alice", "alice"); got.Body != authRouteText {
		t.Fatalf("/auth_route for alice: %q, want %q", got.Body, authRouteText)
	}
}

func TestLocalDemoKeepsOneOrigin(t *testing.T) {
	t.Parallel()
	d := startDemo(t, nil)
	other := strings.Replace(d.base, "localhost", "127.0.0.1", 1)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		path, wantLocation string
		wantStatus         int
	}{
		{"/auth_route?x=1", d.base + "/auth_route?x=1", http.StatusFound},
		{"/noauth_route", d.base + "/noauth_route", http.StatusFound},
		{"/healthz", "", http.StatusOK},
	}
	for _, tc := range tests {
		resp, err := client.Get(other + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.wantStatus || resp.Header.Get("Location") != tc.wantLocation {
			t.Errorf("GET %s%s: %d to %q, want %d to %q", other, tc.path, resp.StatusCode,
				resp.Header.Get("Location"), tc.wantStatus, tc.wantLocation)
		}
	}
	// And a login started on 127.0.0.1 ends signed in on localhost.
	b := testkit.NewBrowser(t)
	if got := b.SignIn(b.Get(other+"/auth_route"), "alice", "alice"); got.Status != http.StatusOK || got.Body != authRouteText {
		t.Fatalf("login started on 127.0.0.1: %d %q", got.Status, got.Body)
	}
}

func TestLocalDemoIgnoresLeftoverAppIDSettings(t *testing.T) {
	t.Parallel()
	d := startDemo(t, map[string]string{
		"APPID_CLIENT_ID":     "client-of-a-real-app-id",
		"APPID_CLIENT_SECRET": "its-secret",
		"APPID_REDIRECT_URI":  "http://0.0.0.0:5000/afterauth",
		"IBM_CLOUD_APIKEY":    "real-key",
	})
	b := testkit.NewBrowser(t)
	if got := b.SignIn(b.Get(d.base+"/auth_route"), "alice", "alice"); got.Status != http.StatusOK || got.Body != authRouteText {
		t.Fatalf("alice with leftover App ID settings: %d %q", got.Status, got.Body)
	}
	d.stop()
	logs := d.stderr.String()
	for _, name := range []string{"APPID_CLIENT_ID", "APPID_CLIENT_SECRET", "APPID_REDIRECT_URI", "IBM_CLOUD_APIKEY"} {
		if !strings.Contains(logs, name) {
			t.Errorf("the warning does not name ignored %s:\n%s", name, logs)
		}
	}
	if strings.Contains(logs, "its-secret") || strings.Contains(logs, "real-key") {
		t.Errorf("the warning reveals an ignored value:\n%s", logs)
	}
}

func TestIdPPublicURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		vars map[string]string
		addr string
		url  string
	}{
		{"fallback: loopback, free port, listen address", nil, "127.0.0.1:0", ""},
		{"explicit: published port on localhost", map[string]string{"APPIDGATE_LOCAL_IDP": "1"}, ":5001", "http://localhost:5001"},
		{"unspecified host names localhost", map[string]string{"APPIDGATE_IDP_ADDR": "0.0.0.0:5002"}, "0.0.0.0:5002", "http://localhost:5002"},
		{"IPv6 unspecified host names localhost", map[string]string{"APPIDGATE_IDP_ADDR": "[::]:5003"}, "[::]:5003", "http://localhost:5003"},
		{"explicit URL wins", map[string]string{"APPIDGATE_IDP_ADDR": ":5001", "APPIDGATE_IDP_URL": "https://idp.example/"}, ":5001", "https://idp.example"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, problems := readServeOptions(testEnv(tc.vars, &bytes.Buffer{}, &bytes.Buffer{}))
			if len(problems) > 0 {
				t.Fatal(problems)
			}
			if o.idpAddr != tc.addr || o.idpPublicURL() != tc.url {
				t.Fatalf("idp addr %q url %q, want %q %q", o.idpAddr, o.idpPublicURL(), tc.addr, tc.url)
			}
		})
	}
}

// TestExplicitLocalProviderAsInAContainer runs the demo the way the README's container line does: the image's
// APPIDGATE_REQUIRE_APPID with APPIDGATE_LOCAL_IDP, the provider on a fixed port, the redirect URI as published.
func TestExplicitLocalProviderAsInAContainer(t *testing.T) {
	t.Parallel()
	appPort, idpPort := testkit.FreePort(t), testkit.FreePort(t)
	d := startDemo(t, map[string]string{
		"APPIDGATE_REQUIRE_APPID": "1",
		"APPIDGATE_LOCAL_IDP":     "1",
		"APPIDGATE_LISTEN_ADDR":   fmt.Sprintf("127.0.0.1:%d", appPort),
		"APPIDGATE_IDP_ADDR":      fmt.Sprintf("127.0.0.1:%d", idpPort),
		"APPIDGATE_IDP_URL":       fmt.Sprintf("http://localhost:%d", idpPort),
		"APPID_REDIRECT_URI":      fmt.Sprintf("http://localhost:%d/afterauth", appPort),
	})
	b := testkit.NewBrowser(t)
	login := b.Get(d.base + "/auth_route")
	if login.URL.Host != fmt.Sprintf("localhost:%d", idpPort) {
		t.Fatalf("login form at %s, want the provider's published origin localhost:%d", login.URL, idpPort)
	}
	if got := b.SignIn(login, "alice", "alice"); got.Status != http.StatusOK || got.Body != authRouteText {
		t.Fatalf("alice: %d %q", got.Status, got.Body)
	}
}
