package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/localappid"
)

// trustedProfileIdP is localappid with one trusted profile that trusts the compute-resource tokens given.
func trustedProfileIdP(t *testing.T, iamTTL time.Duration, crTokens ...string) *localappid.Provider {
	t.Helper()
	var p *localappid.Provider
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	cfg := localappid.DefaultConfig()
	cfg.BaseURL = srv.URL
	cfg.SigningKey = testkit.RSAKey()
	cfg.APIKeys = nil // only the trusted profile can read roles
	cfg.IAMTokenTTL = iamTTL
	cfg.TrustedProfiles = []localappid.TrustedProfile{{ID: "Profile-test", Name: "appidgate-test", CRTokens: crTokens}}
	var err error
	if p, err = localappid.New(cfg); err != nil {
		t.Fatal(err)
	}
	return p
}

// trustedProfileVars are the demo's settings on idp with a trusted profile instead of an API key.
func trustedProfileVars(idp *localappid.Provider, port int, tokenFile string, profile ...string) map[string]string {
	app := fmt.Sprintf("http://127.0.0.1:%d", port)
	vars := map[string]string{
		"APPIDGATE_LISTEN_ADDR":       fmt.Sprintf("127.0.0.1:%d", port),
		"APPIDGATE_REQUIRE_APPID":     "1",
		"APPID_CLIENT_ID":             localappid.DemoClientID,
		"APPID_CLIENT_SECRET":         localappid.DemoClientSecret,
		"APPID_OAUTH_SERVER_URL":      idp.OAuthServerURL(),
		"APPID_REDIRECT_URI":          app + "/afterauth",
		"SESSION_SECRET_KEY":          "test-session-key-0123456789abcdef",
		"IAM_TOKEN_URL":               idp.IAMTokenURL(),
		"APPIDGATE_IAM_CR_TOKEN_FILE": tokenFile,
		"APPIDGATE_IAM_PROFILE_ID":    "Profile-test",
	}
	if len(profile) == 2 {
		delete(vars, "APPIDGATE_IAM_PROFILE_ID")
		vars[profile[0]] = profile[1]
	}
	return vars
}

func writeCRToken(t *testing.T, file, token string) {
	t.Helper()
	// Written aside and renamed, as the platform replaces a mounted token: a reader never sees half a file.
	tmp := file + ".new"
	if err := os.WriteFile(tmp, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
}

// TestTrustedProfileReadsRoles runs the demo with no API key: roles come through IAM tokens exchanged for the
// compute-resource token in a file, which is read again at each renewal, so a token the platform replaced is
// used, and one that IAM no longer trusts makes readiness and logins answer 503 until it is replaced again.
func TestTrustedProfileReadsRoles(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: waits for IAM tokens to expire")
	}
	for _, profile := range [][]string{{"APPIDGATE_IAM_PROFILE_ID", "Profile-test"}, {"APPIDGATE_IAM_PROFILE_NAME", "appidgate-test"}} {
		t.Run(profile[0], func(t *testing.T) {
			const iamTTL = time.Second // renewed after 0.8 s
			idp := trustedProfileIdP(t, iamTTL, "cr-token-1", "cr-token-2")
			file := filepath.Join(t.TempDir(), "token")
			writeCRToken(t, file, "cr-token-1")
			port := testkit.FreePort(t)
			d := startDemo(t, trustedProfileVars(idp, port, file, profile...))

			alice := testkit.NewBrowser(t)
			if p := alice.SignIn(alice.Get(d.base+"/auth_route"), "alice", "alice"); p.Status != http.StatusOK || !strings.Contains(p.Body, authRouteText) {
				t.Fatalf("alice with the first CR token: %d %s", p.Status, p.Body)
			}

			writeCRToken(t, file, "cr-token-untrusted")
			time.Sleep(iamTTL + 100*time.Millisecond) // the cached IAM token has expired
			b := testkit.NewBrowser(t)
			if p := b.Get(d.base + "/readyz"); p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Body, `"iam"`) {
				t.Fatalf("/readyz with an untrusted CR token: %d %s, want 503 naming iam", p.Status, p.Body)
			}
			carol := testkit.NewBrowser(t)
			p := carol.SignIn(carol.Get(d.base+"/auth_route"), "carol", "carol")
			if p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Body, "could not obtain an IBM Cloud IAM token") {
				t.Fatalf("login with an untrusted CR token: %d %s, want 503 naming the IAM token", p.Status, p.Body)
			}

			writeCRToken(t, file, "cr-token-2")
			if p := b.Get(d.base + "/readyz"); p.Status != http.StatusOK {
				t.Fatalf("/readyz with the replaced CR token: %d %s, want 200", p.Status, p.Body)
			}
			carol = testkit.NewBrowser(t)
			if p := carol.SignIn(carol.Get(d.base+"/auth_route"), "carol", "carol"); p.Status != http.StatusOK || !strings.Contains(p.Body, authRouteText) {
				t.Fatalf("carol with the replaced CR token: %d %s", p.Status, p.Body)
			}
			if code := d.stop(); code != 0 {
				t.Fatalf("exit code %d, want 0", code)
			}
			if logs := d.stdout.String() + d.stderr.String(); strings.Contains(logs, "cr-token-") {
				t.Fatalf("the logs hold a CR token:\n%s", logs)
			}
		})
	}
}

// TestTrustedProfileStartProblems: a token file that cannot be read, or that IAM refuses, stops the start with
// a message naming the setting to fix.
func TestTrustedProfileStartProblems(t *testing.T) {
	t.Parallel()
	idp := trustedProfileIdP(t, time.Hour, "cr-token-1")
	dir := t.TempDir()
	tests := []struct {
		name     string
		token    string // written to the file unless empty
		extra    map[string]string
		wantCode int
		want     string
	}{
		{"missing file", "", nil, 2,
			"APPIDGATE_IAM_CR_TOKEN_FILE: reading the compute-resource token file " + filepath.Join(dir, "missing file") + ": no such file or directory (on Code Engine, create or update the app with --trusted-profiles-enabled)"},
		{"untrusted token", "cr-token-other", nil, 1,
			`APPIDGATE_IAM_PROFILE_ID: IAM refused to exchange the compute-resource token for trusted profile "Profile-test"`},
		{"unknown profile", "cr-token-1", map[string]string{"APPIDGATE_IAM_PROFILE_ID": "Profile-other"}, 1,
			`trusted profile "Profile-other"`},
		{"both id and name", "cr-token-1", map[string]string{"APPIDGATE_IAM_PROFILE_NAME": "appidgate-test"}, 2,
			"APPIDGATE_IAM_PROFILE_NAME: set together with APPIDGATE_IAM_PROFILE_ID; set one of them"},
		{"API key as well", "cr-token-1", map[string]string{"IBM_CLOUD_APIKEY": "k"}, 2,
			"IBM_CLOUD_APIKEY: set together with a trusted profile"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, tc.name)
			if tc.token != "" {
				writeCRToken(t, file, tc.token)
			}
			vars := trustedProfileVars(idp, testkit.FreePort(t), file)
			for k, v := range tc.extra {
				vars[k] = v
			}
			var stdout, stderr testkit.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			code := runDemo(ctx, nil, testEnv(vars, &stdout, &stderr))
			if code != tc.wantCode || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr.String(), tc.wantCode, tc.want)
			}
			if strings.Contains(stdout.String()+stderr.String(), "cr-token-") {
				t.Fatalf("the output holds a CR token:\n%s%s", stdout.String(), stderr.String())
			}
		})
	}
}
