package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/localappid"
)

// gatedProvider is localappid behind a switch (down: every request answers 503) that records every token
// and code it hands out, so that a test can look for them where they must never be.
type gatedProvider struct {
	srv      *httptest.Server
	provider *localappid.Provider
	down     atomic.Bool

	mu      sync.Mutex
	secrets []string
}

func newGatedProvider(t *testing.T) *gatedProvider {
	t.Helper()
	g := &gatedProvider{}
	g.srv = httptest.NewUnstartedServer(http.HandlerFunc(g.serve))
	g.srv.Start()
	t.Cleanup(g.srv.Close)
	cfg := localappid.DefaultConfig()
	cfg.BaseURL = g.srv.URL
	cfg.SigningKey = testkit.RSAKey()
	p, err := localappid.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g.provider = p
	return g
}

func (g *gatedProvider) serve(w http.ResponseWriter, r *http.Request) {
	if g.down.Load() {
		http.Error(w, "provider down for the test", http.StatusServiceUnavailable)
		return
	}
	rec := httptest.NewRecorder()
	g.provider.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	g.record(rec, body)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(body)
}

// record keeps the tokens of token responses and the codes of redirects to the callback.
func (g *gatedProvider) record(rec *httptest.ResponseRecorder, body []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var tok map[string]any
	if json.Unmarshal(body, &tok) == nil {
		for _, k := range []string{"access_token", "id_token", "refresh_token"} {
			if s, ok := tok[k].(string); ok && s != "" {
				g.secrets = append(g.secrets, s)
			}
		}
	}
	if loc := rec.Header().Get("Location"); strings.Contains(loc, "code=") {
		code := loc[strings.Index(loc, "code=")+5:]
		if i := strings.IndexByte(code, '&'); i >= 0 {
			code = code[:i]
		}
		g.secrets = append(g.secrets, code)
	}
}

func (g *gatedProvider) issued() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.secrets...)
}

// TestDemoOnAppIDShapedProvider runs the demo as in production, with the six reference variables pointing at an
// App ID-shaped provider on another origin: readiness follows the provider, open routes survive its outage,
// logins work once it is back, metrics move, and the logs hold none of the tokens or codes it issued.
func TestDemoOnAppIDShapedProvider(t *testing.T) {
	t.Parallel()
	idp := newGatedProvider(t)
	idp.down.Store(true)
	port := testkit.FreePort(t)
	app := fmt.Sprintf("http://127.0.0.1:%d", port)
	d := startDemo(t, map[string]string{
		"APPIDGATE_LISTEN_ADDR":   fmt.Sprintf("127.0.0.1:%d", port),
		"APPIDGATE_REQUIRE_APPID": "1",
		"APPID_CLIENT_ID":         localappid.DemoClientID,
		"APPID_CLIENT_SECRET":     localappid.DemoClientSecret,
		"APPID_OAUTH_SERVER_URL":  idp.provider.OAuthServerURL(),
		"APPID_REDIRECT_URI":      app + "/afterauth",
		"SESSION_SECRET_KEY":      "test-session-key-0123456789abcdef",
		"IBM_CLOUD_APIKEY":        localappid.DemoAPIKey,
		"IAM_TOKEN_URL":           idp.provider.IAMTokenURL(),
	})
	if d.base != app {
		t.Fatalf("banner says %s, want %s", d.base, app)
	}

	b := testkit.NewBrowser(t)
	if p := b.Get(app + "/readyz"); p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Body, `"provider"`) {
		t.Fatalf("/readyz with the provider down: %d %s, want 503 naming the provider", p.Status, p.Body)
	}
	if p := b.Get(app + "/noauth_route"); p.Status != http.StatusOK {
		t.Fatalf("/noauth_route with the provider down: %d, want 200", p.Status)
	}
	if p := b.Get(app + "/auth_route"); p.Status != http.StatusServiceUnavailable {
		t.Fatalf("/auth_route with the provider down: %d, want 503", p.Status)
	}

	idp.down.Store(false)
	if p := b.Get(app + "/readyz"); p.Status != http.StatusOK {
		t.Fatalf("/readyz with the provider back: %d %s, want 200", p.Status, p.Body)
	}
	alice := testkit.NewBrowser(t)
	if p := alice.SignIn(alice.Get(app+"/auth_route"), "alice", "alice"); p.Status != http.StatusOK || !strings.Contains(p.Body, authRouteText) {
		t.Fatalf("alice: %d %s", p.Status, p.Body)
	}
	bob := testkit.NewBrowser(t)
	if p := bob.SignIn(bob.Get(app+"/auth_route"), "bob", "bob"); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "Unauthorized!") {
		t.Fatalf("bob: %d %s", p.Status, p.Body)
	}
	metrics := b.Get(app + "/metrics").Body
	for _, want := range []string{
		`appidgate_logins_total{result="success"}`,
		`appidgate_authorization_decisions_total{policy="any_role",result="deny"} 1`,
		`appidgate_provider_requests_total{code="200",endpoint="token"}`,
		`appidgate_provider_requests_total{code="200",endpoint="roles"}`,
		`appidgate_provider_requests_total{code="200",endpoint="iam_token"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	if code := d.stop(); code != 0 {
		t.Fatalf("exit code %d after cancellation, want 0", code)
	}
	logs := d.stdout.String() + d.stderr.String()
	secrets := idp.issued()
	if len(secrets) < 6 {
		t.Fatalf("recorded only %d tokens and codes; the test would prove nothing", len(secrets))
	}
	for _, s := range secrets {
		if bytes.Contains([]byte(logs), []byte(s)) {
			t.Fatalf("logs contain an issued token or code %.12s...:\n%s", s, logs)
		}
	}
}
