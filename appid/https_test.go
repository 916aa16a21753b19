package appid

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/appidgate/appidgate/localappid"
)

// TestHTTPSDecidedByRedirectURL checks that the cookies of an app whose redirect URI is https are Secure and
// __Host- prefixed even though the request itself arrives over plain http, as behind Code Engine's TLS proxy.
func TestHTTPSDecidedByRedirectURL(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	key := make([]byte, 32)
	rand.Read(key)
	auth, err := New(t.Context(), Config{
		ClientID:       localappid.DemoClientID,
		ClientSecret:   localappid.DemoClientSecret,
		OAuthServerURL: e.idp.Provider().OAuthServerURL(),
		RedirectURL:    "https://app.example.com/afterauth",
		SessionKeys:    [][]byte{key},
		Logger:         slog.New(slog.DiscardHandler),
		HTTPClient:     &http.Client{Timeout: 5 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	auth.Check(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://app.example.com/auth_route", nil))
	if rec.Code != http.StatusFound {
		t.Fatalf("got %d, want 302", rec.Code)
	}
	cookies := rec.Header().Values("Set-Cookie")
	if len(cookies) != 1 {
		t.Fatalf("want one login cookie, got %q", cookies)
	}
	c := cookies[0]
	if !strings.HasPrefix(c, "__Host-") || !strings.Contains(c, "; Secure") || !strings.Contains(c, "Path=/") ||
		strings.Contains(c, "Domain=") {
		t.Errorf("login cookie %q: want __Host- prefix, Secure, Path=/ and no Domain", c)
	}
	if !strings.Contains(rec.Header().Get("Location"), "redirect_uri=https%3A%2F%2Fapp.example.com%2Fafterauth") {
		t.Errorf("Location %q does not carry the https redirect URI", rec.Header().Get("Location"))
	}
}

// TestIntrospectAsksTheProviderOnEveryRequest checks the reference's per-request introspection option: with it,
// a session stops working as soon as the provider cannot confirm the token.
func TestIntrospectAsksTheProviderOnEveryRequest(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{auth: func(c *Config) { c.Introspect = true }})
	b := e.newBrowser(t)
	if got := b.login(e, "/auth_route", "alice"); got.status != http.StatusOK {
		t.Fatalf("login: %d %q", got.status, got.body)
	}
	if got := b.get(e.app.URL + "/auth_route"); got.status != http.StatusOK {
		t.Fatalf("second request: %d", got.status)
	}
	e.idp.Close()
	if got := b.get(e.app.URL + "/auth_route"); got.status == http.StatusOK {
		t.Error("with Introspect and the provider down, the session was still accepted")
	}
}

// TestSessionKeyRotation checks that sessions sealed with a previous SESSION_SECRET_KEY stay valid while that
// key is listed among the previous keys, and end once it is dropped.
func TestSessionKeyRotation(t *testing.T) {
	t.Parallel()
	oldKey, newKey := make([]byte, 32), make([]byte, 32)
	rand.Read(oldKey)
	rand.Read(newKey)
	var cfg Config
	e := newTestEnv(t, envOption{auth: func(c *Config) { c.SessionKeys = [][]byte{oldKey}; cfg = *c }})
	b := e.newBrowser(t)
	if got := b.login(e, "/auth_route", "alice"); got.status != http.StatusOK {
		t.Fatalf("login: %d", got.status)
	}
	req := httptest.NewRequest(http.MethodGet, e.app.URL+"/auth_route", nil)
	for _, c := range b.client.Jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	tests := []struct {
		name string
		keys [][]byte
		want int
	}{
		{"old key kept as a previous key", [][]byte{newKey, oldKey}, http.StatusOK},
		{"old key dropped", [][]byte{newKey}, http.StatusFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			c.SessionKeys = tc.keys
			c.Store = nil
			auth, err := New(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			auth.Check(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("got %d, want %d", rec.Code, tc.want)
			}
		})
	}
}
