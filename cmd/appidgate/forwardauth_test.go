package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/internal/frontproxytest"
	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/localappid"
	"github.com/appidgate/appidgate/proxy"
)

// TestLocalPublicURL: on the local provider, APPID_REDIRECT_URI is the public URL when it names this machine
// (or whatever it names when the local provider was asked for); anything else is a leftover, ignored and named.
func TestLocalPublicURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, given string
		explicit    bool
		want        string
		ignored     bool
	}{
		{"unset: the app's own port", "", false, "http://localhost:5000/afterauth", false},
		{"nginx on this machine", "http://localhost:8090/afterauth", false, "http://localhost:8090/afterauth", false},
		{"a loopback address and another path", "http://127.0.0.1:8090/auth/callback", false, "http://127.0.0.1:8090/auth/callback", false},
		{"IPv6 loopback", "http://[::1]:8090/afterauth", false, "http://[::1]:8090/afterauth", false},
		{"a real App ID's leftover", "https://app.example.com/afterauth", false, "http://localhost:5000/afterauth", true},
		{"every interface is not a place to send a browser", "http://0.0.0.0:5000/afterauth", false, "http://localhost:5000/afterauth", true},
		{"https on localhost is not this demo's", "https://localhost:8090/afterauth", false, "http://localhost:5000/afterauth", true},
		{"asked for explicitly: any host", "http://myhost.example:8080/afterauth", true, "http://myhost.example:8080/afterauth", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := func(name string) (string, bool) {
				if name == "APPID_REDIRECT_URI" && tc.given != "" {
					return tc.given, true
				}
				return "", false
			}
			lookup, ignored := localLookup(env, placeholderProvider, 5000, tc.explicit)
			if got, _ := lookup("APPID_REDIRECT_URI"); got != tc.want {
				t.Errorf("APPID_REDIRECT_URI = %q, want %q", got, tc.want)
			}
			if slices.Contains(ignored, "APPID_REDIRECT_URI") != tc.ignored {
				t.Errorf("ignored %v, want APPID_REDIRECT_URI ignored: %v", ignored, tc.ignored)
			}
			cfg := withPublicURL(localappid.DefaultConfig(), tc.want, "")
			if uris := cfg.Clients[0].RedirectURIs; !slices.Contains(uris, tc.want) {
				t.Errorf("the demo client's redirect URIs %q lack %q", uris, tc.want)
			}
		})
	}
	if uris := localappid.DefaultConfig().Clients[0].RedirectURIs; len(uris) != 2 {
		t.Errorf("withPublicURL changed the default configuration: %q", uris)
	}
}

// TestCanonicalHostLeavesForwardAuthAlone: the local mode's one-origin redirect sends pages to the public
// URL's host, but never answers a front proxy's forward-auth question with a redirect (nginx makes a 500 of
// it); a front proxy asking for another host is warned about, once.
func TestCanonicalHostLeavesForwardAuthAlone(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := canonicalHost("http://localhost:8090/afterauth", log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	tests := []struct {
		host, path   string
		want         int
		wantLocation string
	}{
		{"localhost:8090", "/auth_route", http.StatusNoContent, ""},
		{"127.0.0.1:8090", "/auth_route?a=1", http.StatusFound, "http://localhost:8090/auth_route?a=1"},
		{"localhost:4180", "/auth_route", http.StatusFound, "http://localhost:8090/auth_route"},
		{"127.0.0.1:8090", proxy.StartPath + "?rd=/x", http.StatusFound, "http://localhost:8090" + proxy.StartPath + "?rd=/x"},
		{"127.0.0.1:8090", proxy.AuthPath, http.StatusNoContent, ""},
		{"localhost:4180", proxy.VerifyPath, http.StatusNoContent, ""},
		{"localhost:4180", proxy.ErrorPath, http.StatusNoContent, ""},
		{"127.0.0.1:4180", "/healthz", http.StatusNoContent, ""},
	}
	for _, tc := range tests {
		req := httptest.NewRequest(http.MethodGet, "http://"+tc.host+tc.path, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want || rec.Header().Get("Location") != tc.wantLocation {
			t.Errorf("GET %s%s: %d %q, want %d %q", tc.host, tc.path, rec.Code, rec.Header().Get("Location"), tc.want, tc.wantLocation)
		}
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 ||
		!strings.Contains(logs.String(), "set APPID_REDIRECT_URI to its callback, e.g. http://127.0.0.1:8090/afterauth") {
		t.Errorf("want one warning naming APPID_REDIRECT_URI, got %d:\n%s", n, logs.String())
	}

	// A front proxy that asks with appidgate's own address did not pass the browser's Host on.
	logs.Reset()
	h = canonicalHost("http://localhost:4180/afterauth", log, http.NotFoundHandler())
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:4180"+proxy.AuthPath, nil)
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4180}
	h.ServeHTTP(httptest.NewRecorder(), req.WithContext(context.WithValue(req.Context(), http.LocalAddrContextKey, local)))
	if !strings.Contains(logs.String(), "proxy_set_header Host $http_host") {
		t.Errorf("want a warning about the Host nginx passes on, got:\n%s", logs.String())
	}
}

// TestForwardAuthFirstTry is a newcomer's first hour: appidgate proxy on the local provider, with the public
// URL of nginx in front of it, and nginx configured as docs/forward-auth.md says. A browser is sent to sign in
// and comes back through nginx, alice reaches the app, bob gets appidgate's 403 page and an API request 401 JSON.
func TestForwardAuthFirstTry(t *testing.T) {
	t.Parallel()
	frontproxytest.Look(t, "nginx", "/usr/sbin/nginx")
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "app: %s user=%s", r.URL.Path, r.Header.Get("X-Appidgate-User"))
	}))
	t.Cleanup(app.Close)
	nginxPort, proxyPort := testkit.FreePort(t), testkit.FreePort(t)
	front := fmt.Sprintf("http://localhost:%d", nginxPort)
	vars := map[string]string{"PORT": fmt.Sprint(proxyPort), "APPID_REDIRECT_URI": front + "/afterauth",
		"APPIDGATE_LOG_LEVEL": "debug"}
	run := startProxy(t, []string{"--upstream", app.URL, "--trusted-proxy", "127.0.0.1/32"}, vars)
	stdout, stderr := run.stdout, run.stderr
	if want := "appidgate proxy: open " + front + " "; !strings.Contains(stdout.String(), want) {
		t.Errorf("the banner %q does not say %q", stdout.String(), want)
	}
	frontproxytest.Nginx(t, frontproxytest.For(frontproxytest.Recipe(t, "../../docs/forward-auth.md", "nginx"),
		fmt.Sprintf("127.0.0.1:%d", proxyPort), strings.TrimPrefix(app.URL, "http://"), nginxPort), nginxPort)

	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path, accept string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, front+path, nil)
		req.Header.Set("Accept", accept)
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := get("/auth_route", "text/html"); resp.StatusCode != http.StatusFound ||
		!strings.Contains(resp.Header.Get("Location"), "/oauth/v4/") {
		t.Errorf("a browser: %d to %q, want 302 to the local provider's login", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := get("/api/x", "application/json"); resp.StatusCode != http.StatusUnauthorized ||
		resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("an API request: %d %v, want 401 JSON with WWW-Authenticate", resp.StatusCode, resp.Header)
	}

	alice := testkit.NewBrowser(t)
	got := alice.SignIn(alice.Get(front+"/auth_route"), "alice", "alice")
	if got.Status != http.StatusOK || got.Body != "app: /auth_route user="+localappid.AliceID || got.URL.String() != front+"/auth_route" {
		t.Errorf("alice: %d at %s: %q, want the app's page behind nginx", got.Status, got.URL, got.Body)
	}
	bob := testkit.NewBrowser(t)
	got = bob.SignIn(bob.Get(front+"/auth_route"), "bob", "bob")
	if got.Status != http.StatusForbidden || !strings.Contains(got.Body, "Unauthorized!") || strings.Contains(got.Body, "nginx") {
		t.Errorf("bob: %d %q, want appidgate's 403 page", got.Status, got.Body)
	}
	logs := stderr.String()
	for _, want := range []string{"forward-auth: no session", "forward-auth refused: the user does not meet the route's policy"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log does not say %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "not the public URL's") {
		t.Errorf("a warning about the public URL, though it is nginx's:\n%s", logs)
	}
}
